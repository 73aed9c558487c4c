/*
 * bridge/bridge.c - the cluster bridge process: set-up, the loop, stopping.
 *
 * Owns: struct bridge's life, its epoll loop and its signals. One pass
 * of the loop: wait (signals are unblocked only inside epoll_pwait),
 * act on the link's events (each MSG is published into the ring as it
 * is parsed), wake the workers for what came in, run the link's timers,
 * subscribe everything again after the link came up, take the pin log's
 * news, UNSUB what lingered, forward the ring, write what was queued.
 * Signal handlers only set flags: TERM/INT stop now, QUIT forwards what
 * the ring holds first (up to drain_timeout), HUP re-reads the live
 * settings. Exit status 0 is a normal stop; 2 means the bridge cannot
 * run and the master must not respawn it.
 * Must not touch client connections or the master's state.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "shm/publish.h"
#include "bridge/bridge.h"
#include "bridge/inbound.h"
#include "bridge/interest.h"
#include "bridge/link.h"
#include "bridge/outbound.h"

#define BRIDGE_EPOLL_EVENTS 8
#define BRIDGE_MAX_WAIT_MS  1000    /* settings, drain and the pin log are looked at least this often */

static const int bridge_sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
static volatile sig_atomic_t bridge_quit, bridge_drain, bridge_reload;

/* The tag of the eventfd in epoll; the link's descriptor carries &b->link. */
static char bridge_tag_wake;

static void
bridge_on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		bridge_quit = 1;
	else if (sig == SIGQUIT)
		bridge_drain = 1;
	else if (sig == SIGHUP)
		bridge_reload = 1;
}

int
bridge_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct link_server servers[BRIDGE_MAX_SERVERS];
	struct subject_map map;
	char why[256];
	unsigned n;

	if (c->cluster[0] == '\0')
		return 0;
	if (link_servers_parse(c->cluster, servers, BRIDGE_MAX_SERVERS, &n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "cluster: %s", why);
		return -1;
	}
	if (subject_map_init(&map, c->cluster_prefix, strlen(c->cluster_prefix)) != SUBJECT_OK) {
		snprintf(err, errlen, "cluster_prefix: '%s' is not NATS subject tokens each ending in '.' "
		    "(e.g. janus.), or begins with '$'", c->cluster_prefix);
		return -1;
	}
	return 0;
}

/* bridge_apply_conf - take the live settings from the segment. */
static void
bridge_apply_conf(struct bridge *b)
{
	b->conf_gen = shm_conf_load(b->shm, &b->conf);
	log_set_level((enum log_level)b->conf.log_level);
}

/* bridge_name - CONNECT's name: cluster_name, or janusd@HOST:PORT. */
static void
bridge_name(struct bridge *b)
{
	char host[256];

	if (b->conf.cluster_name[0] != '\0') {
		snprintf(b->name, sizeof(b->name), "%s", b->conf.cluster_name);
		return;
	}
	if (gethostname(host, sizeof(host)) < 0) {
		log_warn("gethostname() failed: %s", strerror(errno));
		snprintf(host, sizeof(host), "localhost");
	}
	host[sizeof(host) - 1] = '\0';
	snprintf(b->name, sizeof(b->name), "janusd@%.150s:%u", host, b->conf.port);
}

/* bridge_epoll - the loop's descriptors: the eventfd now, the link's when it connects. */
static int
bridge_epoll(struct bridge *b)
{
	struct epoll_event ev;

	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		log_error("epoll_create1() failed: %s", strerror(errno));
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &bridge_tag_wake;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->efd, &ev) < 0) {
		log_error("epoll_ctl(ADD eventfd) failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* bridge_register_stats - fresh counters for this bridge's life (the position is kept). */
static void
bridge_register_stats(struct bridge *b)
{
	_Atomic uint64_t *counter = (_Atomic uint64_t *)(void *)b->st;
	size_t i;

	/* every field of shm_bridge_stats is a counter, read by others while we write */
	for (i = 0; i < sizeof(*b->st) / sizeof(*counter); i++)
		atomic_store(&counter[i], 0);
	atomic_store(&b->me->wake, 0);
	atomic_store(&b->me->started_ms, clock_wall_usec() / 1000);
}

/* bridge_setup - everything before the first loop pass. */
static int
bridge_setup(struct bridge *b, sigset_t *wait)
{
	log_set_role("bridge");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn("prctl(PR_SET_PDEATHSIG) failed: %s", strerror(errno));
	if (getppid() != b->master) {
		log_notice("master is gone; exiting");
		return -1;
	}
	b->me = &b->shm->hdr->bridge;
	b->st = &b->me->stats;
	bridge_register_stats(b);
	if (fault_fail("bridge_setup", NULL))
		return -1;
	if (sig_catch(bridge_sigs, sizeof(bridge_sigs) / sizeof(bridge_sigs[0]), bridge_on_signal,
	    wait) < 0)
		return -1;
	bridge_apply_conf(b);
	if (subject_map_init(&b->map, b->conf.cluster_prefix, strlen(b->conf.cluster_prefix)) != SUBJECT_OK) {
		log_error("cluster_prefix '%s' cannot begin a NATS subject", b->conf.cluster_prefix);
		return -1;
	}
	bridge_name(b);
	b->now = clock_mono_ms();
	if (bridge_epoll(b) < 0 || interest_init(b) < 0 || outbound_init(b) < 0 ||
	    link_init(b, inbound_msg) < 0)
		return -1;
	atomic_store(&b->me->pid, getpid());
	/* pairs with the fence of shm_wake: a record committed before this is seen by the first pass */
	atomic_thread_fence(memory_order_seq_cst);
	return 0;
}

/* bridge_wake - a worker published or pinned: clear the flag first, so nothing is missed. */
static void
bridge_wake(struct bridge *b)
{
	uint64_t v;

	if (read(b->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("read() of eventfd failed: %s", strerror(errno));
	atomic_store(&b->me->wake, 0);
	atomic_thread_fence(memory_order_seq_cst);
}

/* bridge_drained - QUIT: everything of the ring went out, or it cannot, or time is up. */
static int
bridge_drained(const struct bridge *b)
{
	if (!link_up(b) || b->now >= b->drain_until)
		return 1;
	return b->done >= ring_head(&b->shm->ring) && link_writable(b);
}

/* bridge_checks - signals and settings, once per pass; returns 1 to leave the loop. */
static int
bridge_checks(struct bridge *b)
{
	if (bridge_quit)
		return 1;
	if (bridge_drain && b->drain_until == 0)
		b->drain_until = b->now + (b->conf.drain_timeout_ms ? b->conf.drain_timeout_ms : 1);
	if (bridge_reload || shm_conf_gen(b->shm) != b->conf_gen) {
		bridge_reload = 0;
		bridge_apply_conf(b);
	}
	return b->drain_until != 0 && bridge_drained(b);
}

/* bridge_wait_ms - how long the loop may wait: until the next timer, not at all with work left. */
static int
bridge_wait_ms(const struct bridge *b)
{
	int t;

	if (b->more)
		return 0;
	t = interest_next_ms(b, link_next_ms(b, BRIDGE_MAX_WAIT_MS));
	if (b->drain_until != 0 && b->drain_until <= b->now + (uint64_t)t)
		t = b->drain_until > b->now ? (int)(b->drain_until - b->now) : 0;
	return t;
}

/* bridge_loop - the event loop; returns when the bridge should exit. */
static void
bridge_loop(struct bridge *b, const sigset_t *wait)
{
	struct epoll_event ev[BRIDGE_EPOLL_EVENTS];
	int n, i;

	for (;;) {
		n = epoll_pwait(b->epfd, ev, BRIDGE_EPOLL_EVENTS, bridge_wait_ms(b), wait);
		b->now = clock_mono_ms();
		if (n < 0 && errno != EINTR) {
			log_error("epoll_pwait() failed: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &bridge_tag_wake)
				bridge_wake(b);
			else
				link_event(b, ev[i].events);
		}
		shm_wake(b->shm, b->efds, b->nworkers, b->wake_mask, b->nworkers);
		b->wake_mask = 0;
		link_due(b);
		if (link_take_up(b))
			interest_resend(b);
		interest_poll(b);
		interest_timers(b);
		outbound_run(b);
		link_flush(b);
		if (bridge_checks(b))
			return;
	}
}

int
bridge_main(struct bridge *b)
{
	sigset_t wait;

	if (bridge_setup(b, &wait) < 0)
		return 2;
	log_info("started (pid %ld)", (long)getpid());
	bridge_loop(b, &wait);
	link_close(b);
	if (getppid() != b->master)
		shm_remove(b->shm, b->master);  /* the master was killed: do not leave the segment behind */
	log_info("stopped");
	return 0;
}
