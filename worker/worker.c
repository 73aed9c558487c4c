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
#include "worker/worker.h"

#define WORKER_EVENTS 256
#define WORKER_FD_RESERVE 16       /* descriptors kept for logs, epoll and the like */

static const int worker_sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
static volatile sig_atomic_t worker_quit, worker_drain, worker_reload;

/* Tags for the two descriptors that are not connections. */
static char worker_tag_listen, worker_tag_wake;

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

/* worker_max_conns - connections this worker may hold: the setting, within the descriptor limit. */
static uint32_t
worker_max_conns(const struct worker *w)
{
	uint64_t reserve = WORKER_FD_RESERVE + 2 * (uint64_t)w->nworkers, fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_error("getrlimit(RLIMIT_NOFILE) failed: %s", strerror(errno));
		rl.rlim_cur = 1024;
	}
	fit = rl.rlim_cur > reserve + 1 ? rl.rlim_cur - reserve : 1;
	if (fit > w->nfd)
		fit = w->nfd;
	if (w->conf.max_conns != 0 && w->conf.max_conns <= fit)
		return w->conf.max_conns;
	if (w->conf.max_conns != 0)
		log_warn("max_conns %u is more than the descriptor limit allows; using %llu",
		    w->conf.max_conns, (unsigned long long)fit);
	return (uint32_t)fit;
}

/* worker_apply_conf - take the live settings from the segment. */
static void
worker_apply_conf(struct worker *w)
{
	uint32_t fd;

	w->conf_gen = shm_conf_load(w->shm, &w->conf);
	log_set_level((enum log_level)w->conf.log_level);
	w->max_conns = worker_max_conns(w);
	for (fd = 0; fd < w->nfd; fd++)
		if (w->byfd[fd] != NULL)
			conn_acl(w, w->byfd[fd]);
}

/* worker_alloc - the per-process tables and scratch space. */
static int
worker_alloc(struct worker *w)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		rl.rlim_cur = 1024;
	w->nfd = rl.rlim_cur > (1u << 24) ? (1u << 24) : (uint32_t)rl.rlim_cur;
	w->byfd = calloc(w->nfd, sizeof(*w->byfd));
	w->topics = calloc(w->shm->hdr->max_topics, sizeof(*w->topics));
	w->rbuf = malloc(WORKER_RBUF);
	w->batch = malloc(WORKER_BATCH * sizeof(*w->batch));
	w->sorted = malloc(WORKER_BATCH * sizeof(*w->sorted));
	w->touched = malloc(WORKER_BATCH * sizeof(*w->touched));
	w->fan[0] = malloc(sizeof(*w->fan[0]));
	w->fan[1] = malloc(sizeof(*w->fan[1]));
	w->cu = malloc(sizeof(*w->cu));
	w->curecs = malloc(OUT_BATCH_RECS * sizeof(*w->curecs));
	if (!w->byfd || !w->topics || !w->rbuf || !w->batch || !w->sorted ||
	    !w->touched || !w->fan[0] || !w->fan[1] || !w->cu || !w->curecs) {
		log_error("out of memory setting up the worker");
		return -1;
	}
	list_init(&w->hb);
	list_init(&w->timeo);
	list_init(&w->behind);
	list_init(&w->dead);
	list_init(&w->readable);
	return 0;
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

	atomic_store(&st->conns, 0);
	atomic_store(&st->accepted, 0);
	atomic_store(&st->subs, 0);
	atomic_store(&st->published, 0);
	atomic_store(&st->delivered, 0);
	atomic_store(&st->bytes_in, 0);
	atomic_store(&st->bytes_out, 0);
	atomic_store(&st->errors, 0);
	atomic_store(&st->slow, 0);
	atomic_store(&st->refused, 0);
	atomic_store(&w->me->wake, 0);
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
	if (sig_catch(worker_sigs, sizeof(worker_sigs) / sizeof(worker_sigs[0]),
	    worker_on_signal, wait) < 0 || worker_alloc(w) < 0 || worker_epoll(w) < 0)
		return -1;
	if (getrandom(w->token_key, sizeof(w->token_key), 0) != (ssize_t)sizeof(w->token_key)) {
		log_error("getrandom() failed: %s", strerror(errno));
		return -1;
	}
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
	atomic_store(&w->me->wake, 0);
	atomic_thread_fence(memory_order_seq_cst);
}

/* worker_discard - while draining, input is read and dropped, so close() does not reset. */
static void
worker_discard(struct worker *w, struct conn *c)
{
	ssize_t n;

	while ((n = read(c->fd, w->rbuf, WORKER_RBUF)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(w, c, "client closed while draining");
}

/* worker_event - one epoll event. */
static void
worker_event(struct worker *w, const struct epoll_event *ev)
{
	struct conn *c = ev->data.ptr;

	if (ev->data.ptr == &worker_tag_listen) {
		conn_accept_all(w);
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
			worker_discard(w, c);
		else
			conn_readable(w, c, (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
	}
	if ((ev->events & EPOLLOUT) && (c->flags & CONN_BLOCKED) &&
	    !(c->flags & CONN_CLOSING))
		out_flush(w, c);
}

/* worker_read_more - connections that had more input than one pass reads. */
static void
worker_read_more(struct worker *w)
{
	struct link todo;
	struct conn *c;

	if (list_empty(&w->readable))
		return;
	todo = w->readable;
	todo.next->prev = &todo;
	todo.prev->next = &todo;
	list_init(&w->readable);
	while (!list_empty(&todo)) {
		c = list_entry(todo.next, struct conn, dead);
		list_remove(&c->dead);
		conn_readable(w, c, 1);
	}
}

/* worker_drain_start - QUIT: stop accepting; keep delivering what is owed. */
static void
worker_drain_start(struct worker *w)
{
	w->drain_until = w->now + (w->conf.drain_timeout_ms ? w->conf.drain_timeout_ms : 1);
	if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lfd, NULL) < 0)
		log_warn("epoll_ctl(DEL listener) failed: %s", strerror(errno));
	close(w->lfd);
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
		if (w->byfd[fd] != NULL && (out_pending(w->byfd[fd]) ||
		    (w->byfd[fd]->flags & CONN_BEHIND)))
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

/* worker_loop - the event loop; returns when the worker should exit. */
static void
worker_loop(struct worker *w, const sigset_t *wait)
{
	struct epoll_event ev[WORKER_EVENTS];
	int n, i;

	for (;;) {
		n = epoll_pwait(w->epfd, ev, WORKER_EVENTS, timer_next(w), wait);
		w->now = clock_mono_ms();
		if (n < 0 && errno != EINTR) {
			log_error("epoll_pwait() failed: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++)
			worker_event(w, &ev[i]);
		worker_read_more(w);
		fanout_wake(w);
		fanout_run(w);
		timer_run(w);
		conn_reap(w);
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
	conn_close_all(w);
	if (getppid() != w->master)
		shm_remove(w->shm, w->master);  /* the master was killed: do not leave the segment behind */
	log_info("stopped");
	return 0;
}
