/*
 * worker/worker.c - a worker process: set-up, the event loop, stopping.
 *
 * Owns: struct worker's life, the epoll loop and the worker's signals.
 * One pass of the loop: wait (signals are unblocked only inside
 * epoll_pwait, so a handler never runs mid-pass), act on events, then
 * wake other workers for what was published, fan out new ring records,
 * run timers, and free closed connections. Signal handlers only set
 * flags: TERM/INT stop now, QUIT drains, HUP re-reads the live settings.
 * Exit status 0 is a normal stop; 2 means this worker cannot run at all
 * and the master must not respawn it.
 * Must not touch the master's state or other workers' slots.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/publish.h"
#include "worker/session.h"
#include "worker/transport.h"
#include "worker/wild.h"
#include "worker/worker.h"
#include "worker/wpath.h"

#define WORKER_EVENTS 256
#define WORKER_FD_RESERVE 16       /* descriptors kept for logs, epoll and the like */
#define WORKER_MAX_WAIT_MS 1000    /* settings and drain are checked at least this often */
#define WORKER_PACED_WAIT_MS 10    /* and waiting publishes this often */

static const int worker_sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
static volatile sig_atomic_t worker_quit, worker_drain, worker_reload;

/* Tags for the descriptors that are not connections. */
static char worker_tag_listen, worker_tag_http, worker_tag_wake;

static void
worker_on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		worker_quit = 1;
	else if (sig == SIGQUIT)
		worker_drain = 1;
	else if (sig == SIGHUP)
		worker_reload = 1;
}

/* worker_fd_limit - the descriptor limit (1024 if it cannot be read, which is logged). */
static uint64_t
worker_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_error("getrlimit(RLIMIT_NOFILE) failed: %s", strerror(errno));
		return 1024;
	}
	return rl.rlim_cur;
}

/* worker_max_conns - connections this worker may hold: the setting, within the descriptor limit. */
static uint32_t
worker_max_conns(const struct worker *w)
{
	uint64_t reserve = WORKER_FD_RESERVE + 2 * (uint64_t)w->nworkers, fit, lim = worker_fd_limit();

	fit = lim > reserve + 1 ? lim - reserve : 1;
	if (fit > w->nfd)
		fit = w->nfd;
	if (w->conf.max_conns != 0 && w->conf.max_conns <= fit)
		return w->conf.max_conns;
	if (w->conf.max_conns != 0)
		log_warn("max_conns %u is more than the descriptor limit allows; using %llu",
		    w->conf.max_conns, (unsigned long long)fit);
	return (uint32_t)fit;
}

/*
 * worker_write_path - the write path the io_uring setting asks for, or
 * send() where the kernel refuses io_uring; the log says which and why.
 * Called between loop passes, when nothing is posted.
 */
static void
worker_write_path(struct worker *w)
{
	char why[256];

	if (w->wp != NULL)
		w->wp->close(w);
	if (!w->conf.io_uring)
		wpath_use(w, &wpath_send, "io_uring no");
	else if (wpath_uring.open(w, why, sizeof(why)) < 0)
		wpath_use(w, &wpath_send, why);
	else
		wpath_use(w, &wpath_uring, why);
}

/* worker_apply_conf - take the live settings from the segment. */
static void
worker_apply_conf(struct worker *w)
{
	uint32_t fd, uring = w->conf.io_uring;

	w->conf_gen = shm_conf_load(w->shm, &w->conf);
	log_set_level((enum log_level)w->conf.log_level);
	w->max_conns = worker_max_conns(w);
	for (fd = 0; fd < w->nfd; fd++)
		if (w->byfd[fd] != NULL)
			conn_acl(w, w->byfd[fd]);
	if (w->wp == NULL || w->conf.io_uring != uring)
		worker_write_path(w);
}

/* worker_alloc - the per-process tables and each part's scratch space. */
static int
worker_alloc(struct worker *w)
{
	uint64_t lim = worker_fd_limit();

	w->nfd = lim > (1u << 24) ? (1u << 24) : (uint32_t)lim;
	w->byfd = calloc(w->nfd, sizeof(*w->byfd));
	w->topics = calloc(w->shm->hdr->max_topics, sizeof(*w->topics));
	if (!w->byfd || !w->topics) {
		log_error("out of memory setting up the worker");
		return -1;
	}
	return session_init(w) < 0 || deliver_init(w) < 0 || fanout_init(w) < 0 || wild_init(w) < 0 ? -1 : 0;
}

/* worker_epoll - the loop's descriptor set: the listener (level-triggered) and the eventfd. */
static int
worker_epoll(struct worker *w)
{
	struct epoll_event ev;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		log_error("epoll_create1() failed: %s", strerror(errno));
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &worker_tag_listen;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev) < 0) {
		log_error("epoll_ctl(ADD listener) failed: %s", strerror(errno));
		return -1;
	}
	ev.data.ptr = &worker_tag_http;
	if (w->hfd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->hfd, &ev) < 0) {
		log_error("epoll_ctl(ADD HTTP listener) failed: %s", strerror(errno));
		return -1;
	}
	ev.data.ptr = &worker_tag_wake;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->efd, &ev) < 0) {
		log_error("epoll_ctl(ADD eventfd) failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* worker_register - show this worker in its slot, with fresh counters. */
static void
worker_register(struct worker *w)
{
	struct shm_stats *st = w->stats;
	_Atomic uint64_t *counter = (_Atomic uint64_t *)(void *)st;
	size_t i;

	/* every field of shm_stats is a counter, read by others while we write */
	for (i = 0; i < sizeof(*st) / sizeof(*counter); i++)
		atomic_store(&counter[i], 0);
	atomic_store(&w->me->wake, 0);
	atomic_store(&w->me->need, ring_head(&w->shm->ring) + 1);
	atomic_store(&w->me->paced, 0);
	atomic_store(&w->me->started_ms, clock_wall_usec() / 1000);
	atomic_store(&w->me->pid, getpid());
}

/* worker_setup - everything before the first loop pass. */
static int
worker_setup(struct worker *w, sigset_t *wait)
{
	char role[32];

	snprintf(role, sizeof(role), "worker %u", w->slot);
	log_set_role(role);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn("prctl(PR_SET_PDEATHSIG) failed: %s", strerror(errno));
	if (getppid() != w->master) {
		log_notice("master is gone; exiting");
		return -1;
	}
	w->me = shm_worker(w->shm, w->slot);
	w->stats = &w->me->stats;
	snprintf(role, sizeof(role), "%u", w->slot);
	if (fault_fail("worker_setup", role))
		return -1;
	/* the random key first: tokens and the pattern trie's hash seed come from it */
	if (getrandom(w->token_key, sizeof(w->token_key), 0) != (ssize_t)sizeof(w->token_key)) {
		log_error("getrandom() failed: %s", strerror(errno));
		return -1;
	}
	if (sig_catch(worker_sigs, sizeof(worker_sigs) / sizeof(worker_sigs[0]),
	    worker_on_signal, wait) < 0 || worker_alloc(w) < 0 || worker_epoll(w) < 0)
		return -1;
	worker_apply_conf(w);
	w->now = clock_mono_ms();
	w->done = ring_head(&w->shm->ring);
	worker_register(w);
	snprintf(role, sizeof(role), "%u", w->slot);
	fault_point("worker_start", role);
	return 0;
}

/* worker_wake - another worker published: clear the flag first, so no record is missed. */
static void
worker_wake(struct worker *w)
{
	uint64_t v;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("read() of eventfd failed: %s", strerror(errno));
	stat_add(&w->stats->wakeups, 1);
	atomic_store(&w->me->wake, 0);
	atomic_thread_fence(memory_order_seq_cst);
}

/* worker_event - one epoll event. */
static void
worker_event(struct worker *w, const struct epoll_event *ev)
{
	struct conn *c = ev->data.ptr;

	if (ev->data.ptr == &worker_tag_listen) {
		session_accept(w, w->lfd, &transport_tcp);
		return;
	}
	if (ev->data.ptr == &worker_tag_http) {
		session_accept(w, w->hfd, &transport_http);
		return;
	}
	if (ev->data.ptr == &worker_tag_wake) {
		worker_wake(w);
		return;
	}
	if (c->flags & CONN_CLOSING)
		return;
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (w->drain_until != 0)
			session_discard(w, c);
		else
			session_readable(w, c, (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
	}
	if (ev->events & EPOLLOUT)
		deliver_flush(w, c);
}

/* worker_drain_start - QUIT: stop accepting; keep delivering what is owed. */
static void
worker_drain_start(struct worker *w)
{
	w->drain_until = w->now + (w->conf.drain_timeout_ms ? w->conf.drain_timeout_ms : 1);
	if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lfd, NULL) < 0)
		log_warn("epoll_ctl(DEL listener) failed: %s", strerror(errno));
	close(w->lfd);
	if (w->hfd >= 0) {
		if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->hfd, NULL) < 0)
			log_warn("epoll_ctl(DEL HTTP listener) failed: %s", strerror(errno));
		close(w->hfd);
	}
	log_notice("draining %u connections (up to %u ms)", w->nconns, w->conf.drain_timeout_ms);
}

/* worker_drained - every connection got what it was owed, or time is up. */
static int
worker_drained(struct worker *w)
{
	uint32_t fd, left = 0;

	if (w->done < ring_head(&w->shm->ring))
		return 0;
	for (fd = 0; fd < w->nfd; fd++)
		if (w->byfd[fd] != NULL && deliver_pending(w->byfd[fd]))
			left++;
	if (left == 0)
		return 1;
	if (w->now < w->drain_until)
		return 0;
	log_warn("drain timeout: %u connections still had output pending", left);
	return 1;
}

/* worker_checks - signals and settings, once per pass; returns 1 to leave the loop. */
static int
worker_checks(struct worker *w)
{
	if (worker_quit)
		return 1;
	if (worker_drain && w->drain_until == 0)
		worker_drain_start(w);
	if (worker_reload || shm_conf_gen(w->shm) != w->conf_gen) {
		worker_reload = 0;
		worker_apply_conf(w);
	}
	return w->drain_until != 0 && worker_drained(w);
}

/* worker_wait_ms - how long the loop may wait for events: until the next deadline. */
static int
worker_wait_ms(const struct worker *w)
{
	int t = deliver_next_ms(w, WORKER_MAX_WAIT_MS);

	t = session_next_ms(w, t);
	if (!list_empty(&w->paced) && t > WORKER_PACED_WAIT_MS)
		t = WORKER_PACED_WAIT_MS;   /* publishes wait: look again soon, in case no wake-up comes */
	return w->drain_until != 0 ? worker_ms_until(w, w->drain_until, t) : t;
}

/* worker_loop - the event loop; returns when the worker should exit. */
static void
worker_loop(struct worker *w, const sigset_t *wait)
{
	struct epoll_event ev[WORKER_EVENTS];
	int n, i;

	for (;;) {
		n = epoll_pwait(w->epfd, ev, WORKER_EVENTS, worker_wait_ms(w), wait);
		w->now = clock_mono_ms();
		if (n < 0 && errno != EINTR) {
			log_error("epoll_pwait() failed: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++)
			worker_event(w, &ev[i]);
		session_read_more(w);
		publish_interest(w);
		fanout_wake(w);
		fanout_run(w);
		if (w->deliver_more)
			deliver_behind(w);  /* connections that stopped on their budget, with no new records */
		session_paced(w);
		deliver_pace(w);
		deliver_heartbeats(w);
		session_deadlines(w);
		session_reap(w);
		if (worker_checks(w))
			return;
	}
}

int
worker_main(struct worker *w)
{
	sigset_t wait;

	if (worker_setup(w, &wait) < 0)
		return 2;
	log_info("started (pid %ld)", (long)getpid());
	worker_loop(w, &wait);
	session_close_all(w);
	w->wp->close(w);
	if (getppid() != w->master)
		shm_remove(w->shm, w->master);  /* the master was killed: do not leave the segment behind */
	log_info("stopped");
	return 0;
}
