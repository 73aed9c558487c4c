/*
 * bots/run.c - the parent process: one run, from spawning to the figures.
 *
 * Owns: struct run (the process table, the parent's epoll, the publisher,
 * the deadline), the order of the phases, and merging RESULT records.
 * Must not touch client sockets (the children own them) or print the report.
 *
 * Lockstep (-M): message k+1 is published -G ms after every client got
 * message k, or after --wait if some never do. Rate (-r): message k is
 * published at start + k/R whatever the clients do (a timerfd wakes the
 * parent to the microsecond, but at most once per RUN_TICK_NS; messages that
 * fell due together go out in one write). Flood (--flood): for -d seconds, publish in big pipelined writes
 * whenever fewer than --window messages are unsettled at the slowest
 * client (children report it in DONE records), and with --ack fewer than
 * --window unanswered. Either way the run ends when every client has
 * settled every message, --wait after the last publish, or at --timeout,
 * whichever comes first.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bots/client.h"
#include "bots/floor.h"
#include "bots/ipc.h"
#include "bots/progress.h"
#include "bots/publish.h"
#include "bots/run.h"
#include "bots/spawn.h"
#include "bots/util.h"

#define RUN_TAG_PROC 1ull
#define RUN_TAG_SIG 2ull
#define RUN_TAG_PUB 3ull
#define RUN_TAG_TIMER 4ull
#define RUN_TAG(kind, i) ((kind) << 32 | (uint64_t)(i))
#define RUN_EVENTS 64
/* rate mode: the publisher wakes at most this often (a 5-message burst at 50,000/s) */
#define RUN_TICK_NS 100000LL
/* --flood: frames queued per connection in one go */
#define RUN_FLOOD_BATCH 1024u
/* how long children get to send their results once told to stop */
#define RUN_COLLECT_NS (30 * 1000000000LL)
#define RUN_REAP_NS (5 * 1000000000LL)

/* What the parent knows about one client child. */
struct kid {
	int ready, finished, result;
	uint32_t done;            /* messages 0..done-1 settled for all its clients */
	int64_t setup_start_ns, setup_end_ns;
	uint64_t connected;
	struct ipc_progress counts; /* the latest, for the progress line */
	char first_err[IPC_ERRLEN];
};

struct run {
	const struct bots_opts *o;
	struct report *rep;
	struct bots_target tgt;
	struct child *procs;       /* floor writers first, then client children */
	unsigned nprocs, nwriters, nkids;
	struct kid *kids;         /* kids[k] is procs[nwriters + k] */
	struct client_plan *plans;
	int *lfds;                /* floor listeners, until the writers have them */
	int *wfds;                /* floor writers' command pipes */
	int ep, sigfd, tfd;
	int64_t armed;            /* when the timerfd fires next, 0 if unarmed */
	struct publisher pub;
	struct progress progress;
	struct msg_spec spec;
	char *fbuf;               /* floor frames */
	int64_t t0, deadline, first_send, last_send, last_recv;
	int64_t late;             /* rate mode: the most a publish fell behind */
	uint64_t sent, failed;
	uint32_t planned;         /* messages each client expects */
	uint32_t want;            /* lockstep: messages every client should have */
	int stopping;             /* deadline passed or ^C: no more publishing */
	int fatal;                /* a child failed: exit status 2 */
};

/* Arguments of a child's body; fork copies them into the child. */
struct run_child_arg {
	struct run *r;
	unsigned i;
	int fd;                   /* a floor writer's listener */
};

/* run_fatal - a failure of the bots themselves: report it, end the run. */
static void
run_fatal(struct run *r, const char *text)
{
	if (!r->fatal)
		util_err("%s", text);
	r->fatal = 1;
	r->stopping = 1;
}

/* run_writer_body - a floor writer child. */
static int
run_writer_body(void *arg, int in_fd, int out_fd)
{
	struct run_child_arg *c = arg;

	return floor_main(c->r->o, c->i, c->fd, in_fd, out_fd);
}

/* run_kid_body - a client child. */
static int
run_kid_body(void *arg, int in_fd, int out_fd)
{
	struct run_child_arg *c = arg;

	return client_main(c->r->o, &c->r->tgt, &c->r->plans[c->i], in_fd, out_fd);
}

/* run_spawn_writers - listeners first, so clients can queue before writers run. */
static int
run_spawn_writers(struct run *r)
{
	struct run_child_arg arg = { r, 0, -1 };
	unsigned w;

	r->tgt.nports = r->nwriters;
	for (w = 0; w < r->nwriters; w++)
		if ((r->lfds[w] = floor_listen(r->o->host, &r->tgt.ports[w])) < 0)
			return -1;
	for (w = 0; w < r->nwriters; w++) {
		arg.i = w;
		arg.fd = r->lfds[w];
		/* a writer keeps its own listener and closes the others' */
		r->lfds[w] = -1;
		if (child_spawn(r->procs, w, run_writer_body, &arg, r->lfds,
		    r->nwriters) < 0) {
			r->lfds[w] = arg.fd;
			return -1;
		}
		r->lfds[w] = arg.fd;
		r->nprocs++;
		r->wfds[w] = r->procs[w].to_fd;
	}
	for (w = 0; w < r->nwriters; w++) {
		close(r->lfds[w]);
		r->lfds[w] = -1;
	}
	return 0;
}

/* run_spawn_kids - one child per share of at most --per-child clients. */
static int
run_spawn_kids(struct run *r)
{
	struct run_child_arg arg = { r, 0, -1 };
	unsigned k, first = 0, share;

	for (k = 0; k < r->nkids; k++) {
		share = r->o->clients / r->nkids + (k < r->o->clients % r->nkids);
		r->plans[k].id = k;
		r->plans[k].first = first;
		r->plans[k].count = share;
		first += share;
		arg.i = k;
		if (child_spawn(r->procs, r->nwriters + k, run_kid_body, &arg,
		    NULL, 0) < 0)
			return -1;
		r->nprocs++;
	}
	return 0;
}

/* run_watch - epoll on the children's pipes and on ^C. */
static int
run_watch(struct run *r)
{
	struct epoll_event ev;
	sigset_t set;
	unsigned i;

	if ((r->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		util_err("epoll_create1() failed: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if ((r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		util_err("signalfd() failed: %s", strerror(errno));
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = RUN_TAG(RUN_TAG_SIG, 0);
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->sigfd, &ev) < 0) {
		util_err("epoll_ctl() failed: %s", strerror(errno));
		return -1;
	}
	/* epoll_wait counts milliseconds: a timerfd wakes us to the microsecond */
	if ((r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) < 0) {
		util_err("timerfd_create() failed: %s", strerror(errno));
		return -1;
	}
	ev.data.u64 = RUN_TAG(RUN_TAG_TIMER, 0);
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &ev) < 0) {
		util_err("epoll_ctl() failed: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < r->nprocs; i++) {
		ev.data.u64 = RUN_TAG(RUN_TAG_PROC, i);
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->procs[i].from_fd, &ev) < 0) {
			util_err("epoll_ctl() failed: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* run_result - merge one child's RESULT into the report. */
static int
run_result(struct run *r, struct kid *kid, const char *p, size_t len)
{
	struct report *rep = r->rep;
	struct ipc_result res;
	size_t off = sizeof(res), used;
	int64_t s;
	uint32_t i;

	if (len < sizeof(res))
		return -1;
	memcpy(&res, p, sizeof(res));
	if (res.nspread != rep->nspreads ||
	    len - off < (size_t)res.nspread * sizeof(int64_t))
		return -1;
	for (i = 0; i < res.nspread; i++) {
		memcpy(&s, p + off + (size_t)i * sizeof(s), sizeof(s));
		if (s > rep->spreads[i])
			rep->spreads[i] = s;
	}
	off += (size_t)res.nspread * sizeof(int64_t);
	if ((used = hist_unpack(&rep->wall, p + off, len - off)) == 0)
		return -1;
	off += used;
	if (hist_unpack(&rep->mono, p + off, len - off) == 0)
		return -1;
	rep->good += res.good;
	rep->deliveries_good += res.deliveries;
	rep->corrupt += res.corrupt;
	rep->dup += res.dup;
	rep->unexpected += res.unexpected;
	rep->cpu_user_ns += res.cpu_user_ns;
	rep->cpu_sys_ns += res.cpu_sys_ns;
	rep->connected += res.connected;
	rep->failed += res.failed;
	rep->closed += res.closed;
	if (res.last_recv_ns > r->last_recv)
		r->last_recv = res.last_recv_ns;
	if (rep->first_err[0] == '\0')
		memcpy(rep->first_err, res.first_err, sizeof(rep->first_err));
	rep->first_err[sizeof(rep->first_err) - 1] = '\0';
	kid->result = 1;
	return 0;
}

/* run_record - one record from child I. */
static void
run_record(struct run *r, unsigned i, uint32_t type, const char *p, size_t len)
{
	struct kid *kid = i >= r->nwriters ? &r->kids[i - r->nwriters] : NULL;
	struct ipc_ready ready;
	char text[IPC_ERRLEN + 1];

	if (type == IPC_ERROR) {
		snprintf(text, sizeof(text), "%.*s", (int)len, p);
		run_fatal(r, text);
		return;
	}
	if (kid == NULL)
		return;
	if (type == IPC_READY && len == sizeof(ready)) {
		memcpy(&ready, p, sizeof(ready));
		kid->ready = 1;
		kid->setup_start_ns = ready.setup_start_ns;
		kid->setup_end_ns = ready.setup_end_ns;
		kid->connected = ready.connected;
		memcpy(kid->first_err, ready.first_err, sizeof(kid->first_err));
		kid->first_err[sizeof(kid->first_err) - 1] = '\0';
	} else if (type == IPC_DONE && len == sizeof(uint32_t)) {
		memcpy(&kid->done, p, sizeof(uint32_t));
	} else if (type == IPC_PROGRESS && len == sizeof(kid->counts)) {
		memcpy(&kid->counts, p, sizeof(kid->counts));
	} else if (type == IPC_FINISHED) {
		kid->finished = 1;
	} else if (type == IPC_RESULT) {
		if (run_result(r, kid, p, len) < 0)
			run_fatal(r, "a client child sent a malformed result");
	}
}

/* run_proc_readable - drain child I's pipe. */
static void
run_proc_readable(struct run *r, unsigned i)
{
	struct child *p = &r->procs[i];
	const char *rec;
	uint32_t type;
	size_t len;
	long n;

	while ((n = ipc_fill(p->from_fd, &p->in)) > 0)
		while (ipc_next(&p->in, &type, &rec, &len))
			run_record(r, i, type, rec, len);
	if (n < 0 && errno == EAGAIN)
		return;
	p->eof = 1;
	epoll_ctl(r->ep, EPOLL_CTL_DEL, p->from_fd, NULL);
	if (i < r->nwriters)
		run_fatal(r, "a floor writer ended before the run did");
	else if (!r->kids[i - r->nwriters].result)
		run_fatal(r, "a client child ended without a result");
}

/* run_signal - ^C or TERM: stop publishing and report what we have. */
static void
run_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (!r->stopping)
			util_err("signal %u: stopping the run", si.ssi_signo);
		r->stopping = 1;
	}
}

/* run_arm - have the timerfd fire at UNTIL_NS (CLOCK_MONOTONIC). */
static void
run_arm(struct run *r, int64_t until_ns)
{
	struct itimerspec it;
	uint64_t ticks;

	if (r->armed == until_ns)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = until_ns / 1000000000;
	it.it_value.tv_nsec = until_ns % 1000000000;
	if (read(r->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &it, NULL) == 0)
		r->armed = until_ns;
}

/* run_progress - the progress line, summed over the client children, if due. */
static void
run_progress(struct run *r, int64_t now)
{
	struct progress_counts c = { 0, 0, 0 };
	unsigned k;

	if (now < progress_due(&r->progress))
		return;
	for (k = 0; k < r->nkids; k++) {
		c.connected += r->kids[k].counts.connected;
		c.subscribed += r->kids[k].counts.subscribed;
		c.delivered += r->kids[k].counts.delivered;
	}
	progress_show(&r->progress, now, &c);
}

/* run_poll - one epoll_wait, at most until UNTIL_NS; handles what comes. */
static void
run_poll(struct run *r, int64_t until_ns)
{
	struct epoll_event ev[RUN_EVENTS];
	int64_t now = util_mono_ns();
	uint64_t kind, ticks;
	uint32_t idx;
	int n, k, ms = 0;

	/* the progress line wakes us too, but ends no wait */
	if (until_ns > now && progress_due(&r->progress) < until_ns)
		until_ns = progress_due(&r->progress) > now ?
		    progress_due(&r->progress) : now;
	if (until_ns > now) {
		/* the millisecond timeout only backs the timerfd up */
		ms = util_ms_until(until_ns, 1000) + 1;
		run_arm(r, until_ns);
	}
	n = epoll_wait(r->ep, ev, RUN_EVENTS, ms);
	if (n < 0 && errno != EINTR) {
		run_fatal(r, "epoll_wait() failed");
		return;
	}
	for (k = 0; k < n; k++) {
		kind = ev[k].data.u64 >> 32;
		idx = (uint32_t)ev[k].data.u64;
		if (kind == RUN_TAG_PROC)
			run_proc_readable(r, idx);
		else if (kind == RUN_TAG_SIG)
			run_signal(r);
		else if (kind == RUN_TAG_PUB)
			pub_event(&r->pub, idx, ev[k].events);
		else if (kind == RUN_TAG_TIMER && read(r->tfd, &ticks,
		    sizeof(ticks)) == (ssize_t)sizeof(ticks))
			r->armed = 0;
	}
	now = util_mono_ns();
	run_progress(r, now);
	if (now >= r->deadline)
		r->stopping = 1;
}

/* run_wait - serve events until DONE(r), UNTIL_NS, or the run stops. */
static void
run_wait(struct run *r, int64_t until_ns, int (*done)(struct run *))
{
	if (until_ns > r->deadline)
		until_ns = r->deadline;
	while (!r->stopping && !(done != NULL && done(r)) &&
	    util_mono_ns() < until_ns)
		run_poll(r, until_ns);
}

static int
run_all_ready(struct run *r)
{
	unsigned k;

	for (k = 0; k < r->nkids; k++)
		if (!r->kids[k].ready && !r->procs[r->nwriters + k].eof)
			return 0;
	return 1;
}

static int
run_all_done(struct run *r)
{
	unsigned k;

	for (k = 0; k < r->nkids; k++)
		if (r->kids[k].done < r->want && !r->kids[k].finished &&
		    !r->procs[r->nwriters + k].eof)
			return 0;
	return 1;
}

static int
run_all_finished(struct run *r)
{
	unsigned k;

	for (k = 0; k < r->nkids; k++)
		if (!r->kids[k].finished && !r->procs[r->nwriters + k].eof)
			return 0;
	/* persistent publishers with --ack: every publish answered too */
	if (r->o->persistent && r->o->ack && !r->o->floor &&
	    r->pub.acks + r->pub.refused < r->pub.sent)
		return 0;
	if (r->o->persistent && !r->o->floor && pub_flush(&r->pub) > 0)
		return 0;
	return 1;
}

/* run_setup_done - the set-up barrier: how long it took, whether anyone made it. */
static int
run_setup_done(struct run *r)
{
	int64_t start = 0, end = 0;
	uint64_t connected = 0;
	const char *err = "set-up did not finish before the timeout";
	unsigned k;

	/* from the first connect to the last ACK, as the clients saw them */
	for (k = 0; k < r->nkids; k++) {
		if (r->kids[k].setup_start_ns > 0 &&
		    (start == 0 || r->kids[k].setup_start_ns < start))
			start = r->kids[k].setup_start_ns;
		if (r->kids[k].setup_end_ns > end)
			end = r->kids[k].setup_end_ns;
		connected += r->kids[k].connected;
		if (r->kids[k].first_err[0] != '\0')
			err = r->kids[k].first_err;
	}
	if (!run_all_ready(r) || end == 0)
		end = util_mono_ns();
	if (start == 0)
		start = r->t0;
	r->rep->setup_ns = end - start;
	r->rep->connected_ready = connected;
	if (connected > 0 || r->fatal)
		return 0;
	if (r->o->floor)
		util_err("no client could connect to the floor writers: %s", err);
	else
		util_err("could not connect to %s port %u: %s", r->o->host_name,
		    r->tgt.ports[0], err);
	return -1;
}

/* run_sent - message SEQ went out at SEND_NS (RC 0) or could not (RC -1). */
static void
run_sent(struct run *r, int rc, int64_t send_ns)
{
	if (rc < 0) {
		r->failed++;
		r->last_send = util_mono_ns();
		return;
	}
	if (r->sent++ == 0)
		r->first_send = send_ns;
	r->last_send = send_ns;
}

/* run_publish - publish message SEQ now by whichever way this run uses. */
static void
run_publish(struct run *r, uint32_t seq)
{
	int64_t send_ns = 0;
	int rc;

	if (r->o->floor) {
		rc = floor_publish(&r->spec, r->fbuf, r->wfds, r->nwriters, seq,
		    &send_ns);
		if (rc < 0)
			run_fatal(r, "handing a frame to the floor writers failed");
	} else {
		rc = pub_send(&r->pub, seq, &send_ns);
	}
	run_sent(r, rc, send_ns);
}

/* run_queue - persistent publishing: queue SEQ stamped NOW; pub_flush sends it. */
static void
run_queue(struct run *r, uint32_t seq, int64_t now)
{
	run_sent(r, pub_queue(&r->pub, seq, now), now);
}

/* run_lockstep - each message once the previous one reached everyone. */
static void
run_lockstep(struct run *r)
{
	uint32_t seq;

	for (seq = 0; seq < r->planned && !r->stopping; seq++) {
		if (seq > 0)
			run_wait(r, util_mono_ns() + (int64_t)(r->o->gap_ms * 1e6), NULL);
		if (r->stopping)
			break;
		run_publish(r, seq);
		r->want = seq + 1;
		run_wait(r, util_mono_ns() + (int64_t)(r->o->wait_s * 1e9),
		    run_all_done);
	}
}

/* run_due - when message SEQ is due in rate mode. */
static int64_t
run_due(const struct run *r, int64_t start, uint32_t seq)
{
	return start + (int64_t)((double)seq * 1e9 / r->o->rate);
}

/*
 * run_rate - message k at start + k/R. Whatever fell due while we slept
 * goes out at once, persistent ones in one write; how late the latest one
 * was is reported.
 */
static void
run_rate(struct run *r)
{
	int64_t start = util_mono_ns(), due, now, woke = start - RUN_TICK_NS;
	uint32_t seq = 0;

	while (seq < r->planned && !r->stopping) {
		due = run_due(r, start, seq);
		/* at high rates wake once a tick and send what fell due in it */
		run_wait(r, due > woke + RUN_TICK_NS ? due : woke + RUN_TICK_NS, NULL);
		if (r->stopping)
			break;
		now = woke = util_mono_ns();
		if (now - due > r->late + RUN_TICK_NS)
			r->late = now - due - RUN_TICK_NS;
		do {
			if (r->o->persistent && !r->o->floor)
				run_queue(r, seq, now);
			else
				run_publish(r, seq);
			seq++;
		} while (seq < r->planned && run_due(r, start, seq) <= now);
		if (r->o->persistent && !r->o->floor)
			pub_flush(&r->pub);
	}
}

/* run_low - --flood: messages below this are settled at every client. */
static uint32_t
run_low(const struct run *r)
{
	uint32_t low = UINT32_MAX;
	unsigned k;

	for (k = 0; k < r->nkids; k++)
		if (!r->procs[r->nwriters + k].eof && r->kids[k].done < low)
			low = r->kids[k].done;
	return low;
}

/* run_room - --flood: how many more messages the windows allow now. */
static int64_t
run_room(const struct run *r)
{
	int64_t room, low = run_low(r), answered;

	room = low + (int64_t)r->o->window - (int64_t)r->sent;
	if (r->o->ack) {
		answered = (int64_t)(r->pub.acks + r->pub.refused);
		if (answered + (int64_t)r->o->window - (int64_t)r->sent < room)
			room = answered + (int64_t)r->o->window - (int64_t)r->sent;
	}
	return room;
}

/*
 * run_flood - for -d seconds, queue a batch whenever the queues are empty
 * and the windows have room, and write it at once; otherwise wait for
 * DONE records, replies or room in a socket.
 */
static void
run_flood(struct run *r)
{
	int64_t end = util_mono_ns() + (int64_t)(r->o->duration_s * 1e9), now;
	int64_t room, batch;
	uint32_t seq = 0, last;
	unsigned k;

	while (!r->stopping && (now = util_mono_ns()) < end &&
	    seq < r->o->planned) {
		room = run_room(r);
		if (room <= 0 || pub_flush(&r->pub) > 0) {
			run_poll(r, now + 10000000 < end ? now + 10000000 : end);
			continue;
		}
		batch = room < (int64_t)(RUN_FLOOD_BATCH * r->pub.n) ? room :
		    (int64_t)(RUN_FLOOD_BATCH * r->pub.n);
		while (batch-- > 0 && seq < r->o->planned)
			run_queue(r, seq++, now);
		pub_flush(&r->pub);
		run_poll(r, now);
	}
	/* now the children know what every client must get */
	last = (uint32_t)r->sent;
	r->planned = last;
	for (k = 0; k < r->nkids; k++)
		if (!r->procs[r->nwriters + k].eof)
			ipc_send(r->procs[r->nwriters + k].to_fd, IPC_LAST, &last,
			    sizeof(last));
}

/* run_collect - STOP every client child and merge the results they send. */
static void
run_collect(struct run *r)
{
	int64_t until = util_mono_ns() + RUN_COLLECT_NS;
	unsigned k, missing;

	for (k = 0; k < r->nkids; k++)
		if (!r->procs[r->nwriters + k].eof)
			ipc_send(r->procs[r->nwriters + k].to_fd, IPC_STOP, NULL, 0);
	for (;;) {
		missing = 0;
		for (k = 0; k < r->nkids; k++)
			missing += !r->kids[k].result && !r->procs[r->nwriters + k].eof;
		if (missing == 0 || util_mono_ns() >= until)
			break;
		run_poll(r, until);
	}
	if (missing > 0)
		run_fatal(r, "client children did not send their results in time");
	for (k = 0; k < r->nwriters; k++)
		ipc_send(r->procs[k].to_fd, IPC_STOP, NULL, 0);
}

/* run_reap - reap every child; say how any of them ended badly. */
static void
run_reap(struct run *r)
{
	char how[64];
	unsigned i;

	child_reap_all(r->procs, r->nprocs, util_mono_ns() + RUN_REAP_NS);
	for (i = 0; i < r->nprocs; i++) {
		if (r->procs[i].status == 0)
			continue;
		child_describe(r->procs[i].status, how, sizeof(how));
		util_err("%s %u %s", i < r->nwriters ? "floor writer" : "client child",
		    i < r->nwriters ? i : i - r->nwriters, how);
		r->fatal = 1;
	}
}

/* run_figures - the report's totals once every result is in. */
static void
run_figures(struct run *r)
{
	struct report *rep = r->rep;
	unsigned i;

	rep->messages = r->planned;
	/* clients of a child that sent no result count as bad */
	rep->bad = r->o->clients - rep->good;
	rep->deliveries_expected = (uint64_t)r->o->clients * r->planned;
	rep->published = r->sent;
	rep->pub_failed = r->failed;
	rep->acks = r->pub.acks;
	rep->refused = r->pub.refused;
	memcpy(rep->pub_err, r->pub.first_err, sizeof(rep->pub_err));
	if (r->sent > 0 && r->last_recv > r->first_send)
		rep->run_ns = r->last_recv - r->first_send;
	if (r->sent > 1)
		rep->publish_ns = r->last_send - r->first_send;
	rep->late_ns = r->late;
	rep->spread_ns = (int64_t)rep->mono.max * 1000;
	for (i = 0; i < rep->nspreads; i++) {
		if (rep->spreads[i] == 0)
			rep->spreads[i] = -1;
		else if (rep->spreads[i] > rep->spread_ns)
			rep->spread_ns = rep->spreads[i];
	}
	if (r->fatal)
		rep->setup_error = 1;
}

/* run_init - allocate the tables; -1 if memory runs out. */
static int
run_init(struct run *r, const struct bots_opts *o, struct report *rep)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->rep = rep;
	r->ep = r->sigfd = r->tfd = -1;
	r->planned = o->flood ? 0 : o->planned;   /* a flood's count is what it sent (run_flood) */
	r->nwriters = o->floor ? o->writers : 0;
	r->nkids = (o->clients + o->per_child - 1) / o->per_child;
	r->tgt.addr = o->host;
	r->tgt.ports[0] = o->port;
	r->tgt.nports = 1;
	for (i = 0; i < o->nsub_ports; i++)
		r->tgt.ports[i] = o->sub_ports[i];
	if (o->nsub_ports > 0)
		r->tgt.nports = o->nsub_ports;
	msg_spec_init(&r->spec, o);
	r->procs = calloc(r->nwriters + r->nkids, sizeof(*r->procs));
	r->kids = calloc(r->nkids, sizeof(*r->kids));
	r->plans = calloc(r->nkids, sizeof(*r->plans));
	r->lfds = calloc(r->nwriters + 1, sizeof(*r->lfds));
	r->wfds = calloc(r->nwriters + 1, sizeof(*r->wfds));
	r->fbuf = malloc(2 * msg_cap(&r->spec));
	if (pub_init(&r->pub, o) < 0 || r->procs == NULL || r->kids == NULL ||
	    r->plans == NULL || r->lfds == NULL || r->wfds == NULL ||
	    r->fbuf == NULL)
		return -1;
	for (i = 0; i < r->nwriters; i++)
		r->lfds[i] = -1;
	if (o->lockstep) {
		rep->nspreads = o->planned;
		rep->spreads = calloc(o->planned, sizeof(*rep->spreads));
		if (rep->spreads == NULL)
			return -1;
	}
	return 0;
}

/* run_free - kill whatever still runs and release everything. */
static void
run_free(struct run *r)
{
	unsigned i;

	child_kill_all(r->procs, r->nprocs);
	for (i = 0; i < r->nprocs; i++) {
		child_close(&r->procs[i]);
		ipc_free(&r->procs[i].in);
	}
	for (i = 0; r->lfds != NULL && i < r->nwriters; i++)
		if (r->lfds[i] >= 0)
			close(r->lfds[i]);
	if (r->ep >= 0)
		close(r->ep);
	if (r->sigfd >= 0)
		close(r->sigfd);
	if (r->tfd >= 0)
		close(r->tfd);
	pub_free(&r->pub);
	free(r->procs);
	free(r->kids);
	free(r->plans);
	free(r->lfds);
	free(r->wfds);
	free(r->fbuf);
}

/* run_hold - --hold: every client subscribed and idle; say so, then wait. */
static void
run_hold(struct run *r)
{
	progress_clear(&r->progress);
	printf("holding: %llu clients subscribed, idle for %g s\n",
	    (unsigned long long)r->rep->connected_ready, r->o->hold_s);
	fflush(stdout);
	run_wait(r, util_mono_ns() + (int64_t)(r->o->hold_s * 1e9), NULL);
}

/* run_phases - spawn, set up, publish, wait; -1 if it never got going. */
static int
run_phases(struct run *r)
{
	if ((r->o->floor && run_spawn_writers(r) < 0) || run_spawn_kids(r) < 0 ||
	    run_watch(r) < 0)
		return -1;
	run_wait(r, r->deadline, run_all_ready);
	if (run_setup_done(r) < 0)
		return -1;
	if (r->stopping)
		return 0;
	if (r->o->persistent && !r->o->floor &&
	    pub_open(&r->pub, r->ep, RUN_TAG(RUN_TAG_PUB, 0)) < 0) {
		util_err("could not open a persistent publisher to %s port %u: %s",
		    r->o->host_name, r->o->port, r->pub.first_err);
		return -1;
	}
	if (r->o->hold_s > 0)
		run_hold(r);
	if (r->o->flood)
		run_flood(r);
	else if (r->o->rate > 0)
		run_rate(r);
	else
		run_lockstep(r);
	run_wait(r, r->last_send + (int64_t)(r->o->wait_s * 1e9), run_all_finished);
	return 0;
}

void
run_main(const struct bots_opts *o, struct report *rep)
{
	struct run r;
	sigset_t set;

	/* signals wait for the signalfd; children unblock them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (run_init(&r, o, rep) < 0) {
		util_err("out of memory");
		rep->setup_error = 1;
		run_free(&r);
		return;
	}
	r.t0 = util_mono_ns();
	r.deadline = r.t0 + (int64_t)(o->timeout_s * 1e9);
	progress_init(&r.progress, o->progress, o->clients, r.t0);
	if (run_phases(&r) < 0)
		rep->setup_error = 1;
	if (r.ep >= 0) {
		run_collect(&r);
		run_reap(&r);
	}
	progress_clear(&r.progress);
	run_figures(&r);
	if (rep->setup_error == 0 && r.fatal)
		rep->setup_error = 1;
	run_free(&r);
}
