/*
 * master/cycle.c - the master's life: start, supervise, stop.
 *
 * Owns: the order of start-up (signals, pid file, -d, bound sockets, the
 * shared memory that makes the port ours, listening, eventfds, workers,
 * then "ready") and of shutdown, and the
 * supervision loop. The loop sleeps in ppoll(2) with signals unblocked
 * only there, wakes for a signal or the next timer (a throttled respawn,
 * a stop deadline), and acts. Stopping: TERM/INT tell workers to stop
 * and SIGKILL those still alive after STOP_GRACE_MS; QUIT lets them
 * drain for up to drain_timeout first. The segment is removed last.
 * Exit status: 0 after a stop, 2 if janusd could not start or no worker
 * can run.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "master/master.h"

#define STOP_GRACE_MS  1000        /* TERM to SIGKILL */
#define DRAIN_EXTRA_MS 2000        /* drain_timeout plus this, then SIGKILL */

/* cycle_eventfds - one per slot, the bridge's too; every child inherits all of them. */
static int
cycle_eventfds(struct master *m, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < m->nchildren; i++) {
		m->efds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->efds[i] < 0) {
			snprintf(err, errlen, "eventfd() failed: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* cycle_start - everything up to serving; -1 with err if janusd cannot start. */
static int
cycle_start(struct master *m, sigset_t *wait, char *err, size_t errlen)
{
	enum shm_result rc;

	if (signals_init(wait) < 0) {
		snprintf(err, errlen, "cannot set up signals");
		return -1;
	}
	if (daemon_pidfile_lock(m, err, errlen) < 0 ||
	    (m->conf.daemonize && daemon_detach(m, err, errlen) < 0) ||
	    listen_open(m, err, errlen) < 0)
		return -1;
	rc = shm_create(&m->shm, &m->conf, err, errlen);
	if (rc != SHM_OK || listen_start(m, err, errlen) < 0 ||
	    cycle_eventfds(m, err, errlen) < 0)
		return -1;
	if (spawn_all(m) < 0) {
		snprintf(err, errlen, "cannot start the workers");
		return -1;
	}
	daemon_pidfile_write(m);
	return 0;
}

/* cycle_stop - begin stopping, or escalate a stop already under way. */
static void
cycle_stop(struct master *m, enum master_state how)
{
	uint64_t now = clock_mono_ms();

	if (m->state == MASTER_STOPPING || (m->state == MASTER_DRAINING && how == MASTER_DRAINING)) {
		if (how == MASTER_STOPPING && m->state == MASTER_STOPPING)
			m->kill_at = now;  /* asked twice: no more grace */
		return;
	}
	notify_send("STOPPING=1");
	listen_close(m);
	if (how == MASTER_DRAINING) {
		log_notice("draining: workers finish what they owe, then stop");
		m->kill_at = now + m->conf.drain_timeout_ms + DRAIN_EXTRA_MS;
		spawn_signal_all(m, SIGQUIT);
	} else {
		log_notice("stopping");
		m->kill_at = now + STOP_GRACE_MS;
		spawn_signal_all(m, SIGTERM);
	}
	m->state = how;
}

/* cycle_timeout - ms ppoll may sleep: until a respawn or a kill is due. */
static int
cycle_timeout(const struct master *m)
{
	uint64_t now;

	if (m->state == MASTER_RUNNING)
		return spawn_next_ms(m);
	now = clock_mono_ms();
	return m->kill_at <= now ? 0 : (int)(m->kill_at - now);
}

/* cycle_running - respawn what is due; stop if no slot can run any more. */
static void
cycle_running(struct master *m)
{
	unsigned i, fatal = 0;

	spawn_due(m);
	for (i = 0; i < m->nslots; i++)
		fatal += m->slots[i].fatal;
	if (fatal == m->nslots) {
		log_error("no worker can run; stopping");
		m->exit_code = 2;
		cycle_stop(m, MASTER_STOPPING);
	}
}

/* cycle_stopping - SIGKILL what outlived its grace; returns 1 when all are gone. */
static int
cycle_stopping(struct master *m)
{
	unsigned alive = spawn_alive(m);

	if (alive == 0)
		return 1;
	if (clock_mono_ms() >= m->kill_at) {
		log_warn("%u worker%s still running; killing", alive, alive == 1 ? "" : "s");
		spawn_signal_all(m, SIGKILL);
		m->kill_at = clock_mono_ms() + STOP_GRACE_MS;
	}
	return 0;
}

static void
cycle_loop(struct master *m, const sigset_t *wait)
{
	struct timespec ts;
	unsigned seen;
	int t;

	for (;;) {
		t = cycle_timeout(m);
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000L;
		if (ppoll(NULL, 0, t < 0 ? NULL : &ts, wait) < 0 && errno != EINTR)
			log_error("ppoll() failed: %s", strerror(errno));
		seen = signals_take();
		if (seen & MSIG_CHLD)
			spawn_reap(m);
		if (seen & MSIG_STOP)
			cycle_stop(m, MASTER_STOPPING);
		else if (seen & MSIG_DRAIN)
			cycle_stop(m, MASTER_DRAINING);
		if ((seen & MSIG_RELOAD) && m->state == MASTER_RUNNING)
			config_reload(m);
		if (seen & MSIG_STATS)
			stats_log(m);
		if (m->state == MASTER_RUNNING)
			cycle_running(m);
		else if (cycle_stopping(m))
			return;
	}
}

/* cycle_run - the master's whole life; returns its exit status. */
int
cycle_run(struct master *m)
{
	sigset_t wait;
	char err[512];

	if (cycle_start(m, &wait, err, sizeof(err)) < 0) {
		log_error("cannot start: %s", err);
		daemon_ready(m, 0);
		listen_close(m);
		if (m->shm.hdr != NULL) {
			spawn_signal_all(m, SIGKILL);
			shm_remove(&m->shm, getpid());
		}
		return 2;
	}
	log_notice("janusd %s serving on %s port %u with %u workers (pid %ld, ring %llu MiB, %s); %s%.0u",
	    PACKAGE_VERSION, m->conf.listen, m->conf.port, m->nslots, (long)getpid(),
	    (unsigned long long)(m->conf.ring_size >> 20), m->shm.name,
	    m->conf.http_port ? "HTTP and WebSocket on port " : "no HTTP listener", m->conf.http_port);
	notify_send("READY=1\nSTATUS=serving on port %u with %u workers\nMAINPID=%ld",
	    m->conf.port, m->nslots, (long)getpid());
	daemon_ready(m, 1);
	cycle_loop(m, &wait);
	shm_remove(&m->shm, getpid());
	shm_detach(&m->shm);
	daemon_pidfile_remove(m);
	log_notice("stopped");
	return m->exit_code;
}
