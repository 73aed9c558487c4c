/*
 * master/spawn.c - creating, reaping and respawning workers and the bridge.
 *
 * Owns: the slot table's processes: the workers, and the cluster bridge
 * in the slot after theirs, which is supervised exactly like them. A
 * child that dies is logged with how it ended; a worker's subscriptions
 * are dropped from the shared topic table (and the bridge is told); then
 * it is respawned into the same slot, at once if it had run for a while.
 * One that keeps dying soon after start waits longer each time (up to
 * SPAWN_MAX_DELAY_MS), so a crash loop costs no CPU to speak of. Exit
 * status 2 means the child cannot run: never respawned.
 * Must not touch client connections: they die with their worker, and
 * never with the bridge.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "bridge/bridge.h"
#include "master/master.h"
#include "shm/publish.h"
#include "worker/worker.h"

#define SPAWN_QUICK_MS      2000    /* a death sooner than this after start counts as a failure */
#define SPAWN_BASE_DELAY_MS 250
#define SPAWN_MAX_DELAY_MS  30000

/* spawn_is_bridge - whether slot is the bridge's (the one after the workers'). */
static int
spawn_is_bridge(const struct master *m, unsigned slot)
{
	return slot == m->nslots;
}

/* spawn_name - "worker N" or "bridge", for the log. */
static const char *
spawn_name(const struct master *m, unsigned slot, char *buf, size_t cap)
{
	if (spawn_is_bridge(m, slot))
		return "bridge";
	snprintf(buf, cap, "worker %u", slot);
	return buf;
}

/* spawn_restarts - the slot's restart counter in the segment. */
static _Atomic uint32_t *
spawn_restarts(struct master *m, unsigned slot)
{
	return spawn_is_bridge(m, slot) ? &m->shm.hdr->bridge.restarts :
	    &shm_worker(&m->shm, slot)->restarts;
}

/* spawn_child - in the new process: keep only this slot's listeners, then run the worker or the bridge. */
static void __attribute__((noreturn))
spawn_child(struct master *m, unsigned slot)
{
	struct worker w;
	struct bridge b;
	unsigned i;

	for (i = 0; i < m->nslots; i++) {
		if (i != slot && m->slots[i].lfd >= 0)
			close(m->slots[i].lfd);
		if (i != slot && m->slots[i].hfd >= 0)
			close(m->slots[i].hfd);
	}
	if (m->pidfile_fd >= 0)
		close(m->pidfile_fd);
	if (m->ready_fd >= 0)
		close(m->ready_fd);
	if (spawn_is_bridge(m, slot)) {
		memset(&b, 0, sizeof(b));
		b.nworkers = m->nslots;
		b.efd = m->efds[slot];
		b.efds = m->efds;
		b.master = (int)getppid();
		b.shm = &m->shm;
		_exit(bridge_main(&b));
	}
	memset(&w, 0, sizeof(w));
	w.slot = slot;
	w.nworkers = m->nslots;
	w.lfd = m->slots[slot].lfd;
	w.hfd = m->slots[slot].hfd;
	w.efd = m->efds[slot];
	w.efds = m->efds;
	w.master = (int)getppid();
	w.shm = &m->shm;
	_exit(worker_main(&w));
}

/* spawn_one - fork a child into slot; a worker gets a new listening socket if it gave its own up. */
static int
spawn_one(struct master *m, unsigned slot)
{
	struct slot *s = &m->slots[slot];
	char err[256], buf[32];
	const char *name = spawn_name(m, slot, buf, sizeof(buf));
	pid_t pid;

	if (!spawn_is_bridge(m, slot) && s->lfd < 0 && listen_slot(m, slot, err, sizeof(err)) < 0) {
		log_error("%s: %s; trying again in %d ms", name, err, SPAWN_BASE_DELAY_MS);
		s->respawn_at = clock_mono_ms() + SPAWN_BASE_DELAY_MS;
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("fork() failed: %s", strerror(errno));
		s->respawn_at = clock_mono_ms() + SPAWN_BASE_DELAY_MS;
		return -1;
	}
	if (pid == 0)
		spawn_child(m, slot);
	s->pid = pid;
	s->started = clock_mono_ms();
	s->respawn_at = 0;
	log_info("%s started (pid %ld)", name, (long)pid);
	return 0;
}

int
spawn_all(struct master *m)
{
	unsigned i;

	for (i = 0; i < m->nchildren; i++)
		if (spawn_one(m, i) < 0)
			return -1;
	return 0;
}

/* spawn_log_end - how a child ended, in words. */
static void
spawn_log_end(const char *name, pid_t pid, int status, int expected)
{
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || expected))
		log_info("%s (pid %ld) exited with status %d", name, (long)pid, WEXITSTATUS(status));
	else if (WIFEXITED(status))
		log_error("%s (pid %ld) exited with status %d", name, (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_msg(expected ? LOG_LVL_INFO : LOG_LVL_ERROR, "%s (pid %ld) killed by signal %d%s",
		    name, (long)pid, WTERMSIG(status), WCOREDUMP(status) ? " (core dumped)" : "");
}

/*
 * spawn_forget - a dead child's entry is cleared; a dead worker's
 * subscriptions no longer count, and the bridge hears of the topics that
 * lost their interest with them.
 */
static void
spawn_forget(struct master *m, unsigned slot)
{
	struct shm_worker *sw;

	if (spawn_is_bridge(m, slot)) {
		atomic_store(&m->shm.hdr->bridge.pid, 0);
		atomic_store(&m->shm.hdr->bridge.wake, 0);
		return;
	}
	sw = shm_worker(&m->shm, slot);
	atomic_store(&sw->pid, 0);
	atomic_store(&sw->wake, 0);
	atomic_store(&sw->need, UINT64_MAX);   /* a dead worker needs nothing: it paces nobody */
	atomic_store(&sw->paced, 0);
	if (shm_lock(&m->shm) < 0)
		return;
	topics_clear_worker_locked(&m->shm.topics, slot);
	addrs_clear_worker_locked(&m->shm.addrs, slot);
	shm_unlock(&m->shm);
	if (m->nchildren > m->nslots)
		shm_wake(&m->shm, m->efds, m->nslots, shm_wake_bridge(m->nslots), m->nchildren);
}

/* spawn_schedule - when to start the slot again, throttling crash loops. */
static void
spawn_schedule(struct master *m, unsigned slot, int status)
{
	struct slot *s = &m->slots[slot];
	uint64_t now = clock_mono_ms(), delay = 0;
	int worker = !spawn_is_bridge(m, slot);
	char buf[32];
	const char *name = spawn_name(m, slot, buf, sizeof(buf));

	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		s->fatal = 1;
		if (worker)
			listen_slot_close(m, slot);
		log_error("%s cannot run (exit status 2); not respawning it", name);
		return;
	}
	s->fails = now - s->started < SPAWN_QUICK_MS ? s->fails + 1 : 0;
	if (s->fails > 1) {
		delay = (uint64_t)SPAWN_BASE_DELAY_MS << (s->fails - 2 < 8 ? s->fails - 2 : 8);
		if (delay > SPAWN_MAX_DELAY_MS)
			delay = SPAWN_MAX_DELAY_MS;
		log_warn("%s died %u times in a row within %d ms of starting; next start in %llu ms%s",
		    name, s->fails, SPAWN_QUICK_MS, (unsigned long long)delay,
		    worker ? "; its listening socket is closed until then" : "");
		if (worker)
			listen_slot_close(m, slot);
	}
	s->respawn_at = now + delay;
	atomic_fetch_add(spawn_restarts(m, slot), 1);
}

/* spawn_slot_of - the slot of a child's pid, or -1 (as PID 1 we also reap orphans). */
static int
spawn_slot_of(const struct master *m, pid_t pid)
{
	unsigned i;

	for (i = 0; i < m->nchildren; i++)
		if (m->slots[i].pid == pid)
			return (int)i;
	return -1;
}

void
spawn_reap(struct master *m)
{
	pid_t pid;
	int status, slot;
	char name[32];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		slot = spawn_slot_of(m, pid);
		if (slot < 0) {
			log_debug("reaped process %ld", (long)pid);
			continue;
		}
		m->slots[slot].pid = 0;
		spawn_log_end(spawn_name(m, (unsigned)slot, name, sizeof(name)), pid, status,
		    m->state != MASTER_RUNNING);
		spawn_forget(m, (unsigned)slot);
		if (m->state == MASTER_RUNNING)
			spawn_schedule(m, (unsigned)slot, status);
	}
	if (pid < 0 && errno != ECHILD)
		log_error("waitpid() failed: %s", strerror(errno));
}

/* spawn_waiting - the slot has no worker and one is to be started at respawn_at. */
static int
spawn_waiting(const struct slot *s)
{
	return s->pid == 0 && !s->fatal && s->respawn_at != 0;
}

void
spawn_due(struct master *m)
{
	uint64_t now = clock_mono_ms();
	char name[32];
	unsigned i;

	for (i = 0; i < m->nchildren; i++) {
		struct slot *s = &m->slots[i];

		if (spawn_waiting(s) && s->respawn_at <= now) {
			if (spawn_one(m, i) == 0)
				log_notice("%s respawned (pid %ld)", spawn_name(m, i, name, sizeof(name)),
				    (long)s->pid);
		}
	}
}

/* spawn_next_ms - ms until the next respawn is due, or -1 for none. */
int
spawn_next_ms(const struct master *m)
{
	uint64_t now = clock_mono_ms(), best = UINT64_MAX;
	unsigned i;

	for (i = 0; i < m->nchildren; i++)
		if (spawn_waiting(&m->slots[i]) && m->slots[i].respawn_at < best)
			best = m->slots[i].respawn_at;
	if (best == UINT64_MAX)
		return -1;
	return best <= now ? 0 : (int)(best - now);
}

void
spawn_signal_all(struct master *m, int sig)
{
	unsigned i;

	for (i = 0; i < m->nchildren; i++)
		if (m->slots[i].pid > 0 && kill(m->slots[i].pid, sig) < 0 && errno != ESRCH)
			log_error("kill(%ld, %d) failed: %s", (long)m->slots[i].pid, sig, strerror(errno));
}

unsigned
spawn_alive(const struct master *m)
{
	unsigned i, n = 0;

	for (i = 0; i < m->nchildren; i++)
		n += m->slots[i].pid > 0;
	return n;
}
