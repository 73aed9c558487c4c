/*
 * t/kill_worker.c - kill -9 a worker in the middle of a message stream.
 *
 * janusd -w 3 with 300 version 2 subscribers spread over the workers and
 * four topics, and a persistent publisher sending 3,000 numbered messages
 * over about 3 s. After a third of them, a worker the publisher is not
 * on is killed with SIGKILL. Checks: the master logs the death and
 * respawns the worker into the same slot quickly (the time is measured);
 * clients of the other workers lose nothing; clients of the killed
 * worker reconnect after a random jitter, resume with since/epoch and end
 * up with every message of their topic exactly once, in order, with no
 * gap frame; and 50 connections opened during the kill are all greeted.
 * Everything runs in one epoll loop in this process; every wait is
 * bounded, and an alarm ends a hung run.
 *
 * Built a second time as t/kill_patterns (KW_PATTERNS=1), the topics are
 * kw.x.0 to kw.x.3 and the clients hold wildcard subscriptions instead
 * (PROTOCOL.md Part 4), a third of them each way: one pattern, two
 * overlapping patterns, or the topic and a pattern over it; they resume
 * every one with since, and must get each message once all the same.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "t/tap.h"
#include "t/tlib.h"
#include "t/tstream.h"

#define KW_WORKERS   3
#define KW_CLIENTS   300
#define KW_TOPICS    4
#define KW_BURST     50
#define KW_MESSAGES  3000
#define KW_PER_MS    1           /* publish rate: messages per ms */
#define KW_KILL_AT   1000        /* messages published before the kill */
#define KW_JITTER_MS 200         /* longest wait before a dropped client reconnects */
#define KW_RESPAWN_MAX_MS 2000   /* generous bound; the target is 100 ms */
#define KW_ALARM_S   60
#define KW_MAX_SUBS  2           /* subscriptions per client */

#ifndef KW_PATTERNS
#define KW_PATTERNS 0
#endif

/* The stream's topics are PREFIX0 .. PREFIX3. */
static const char *const kw_prefix[2] = { "kw", "kw.x." };

/* What a client subscribes to, by the kind of client: each followed by its topic's number. */
static const char *const kw_forms[2][3][KW_MAX_SUBS] = {
	{ { "kw", NULL }, { "kw", NULL }, { "kw", NULL } },
	{ { "kw.*.", NULL }, { "*.x.", "kw.*." }, { "kw.x.", "*.*." } },
};

enum kw_state {
	KW_WAIT,        /* dropped: reconnect at reconnect_at */
	KW_GREET,
	KW_HELLO,
	KW_ACK,
	KW_LIVE,
	KW_DONE         /* burst connection finished (ok or not) */
};

/* A subscriber, or one connection of the burst opened during the kill. */
struct kw_peer {
	struct tc *c;                /* NULL while not connected */
	int burst;
	enum kw_state state;
	unsigned topic;
	const char *const *subs;     /* what it subscribes to: kw_forms */
	unsigned nsubs, acks;        /* subscriptions, and ACKs received since the last hello */
	unsigned drops, resumes, gaps, errors, refused;
	unsigned drops_before_kill;
	int epoch_changed;
	int greeted;                 /* burst: got its greeting */
	uint64_t reconnect_at, opened;
	uint64_t since, head;        /* the last resume: its since, and the hello's seq then */
	char epoch[64];
	struct tstream_recv rx;      /* rx.last: newest seq received, or the first hello's seq */
	char note[200];              /* the first unexpected frame */
};

static struct {
	struct tsrv srv;
	int ep;
	struct kw_peer subs[KW_CLIENTS];
	struct kw_peer burst[KW_BURST];
	struct tc *pub;
	struct tstream st;
	unsigned pub_slot, victim;
	long long victim_pid, new_pid, victim_conns;
	int killed;
	uint64_t t_kill, t_respawn, next_stat, greet_max;
	unsigned burst_left;
} kw;

/* kw_note - keep the first unexpected frame of a peer for the diagnostics. */
static void
kw_note(struct kw_peer *p, const char *what, const char *f)
{
	p->errors++;
	if (p->note[0] == '\0')
		snprintf(p->note, sizeof(p->note), "%s: %.150s", what, f);
}

/* kw_connect - connect and wait for the greeting in the loop; 0, or -1 if refused. */
static int
kw_connect(struct kw_peer *p)
{
	struct epoll_event ev = { EPOLLIN, { .ptr = p } };

	p->opened = tlib_ms();
	p->c = tc_open(kw.srv.port);
	if (p->c == NULL)
		return -1;
	if (epoll_ctl(kw.ep, EPOLL_CTL_ADD, p->c->fd, &ev) < 0)
		tap_bail("epoll_ctl() failed: %s", strerror(errno));
	p->state = KW_GREET;
	return 0;
}

/* kw_burst_end - a burst connection is finished, greeted or not. */
static void
kw_burst_end(struct kw_peer *p, int greeted)
{
	uint64_t took = tlib_ms() - p->opened;

	tc_close(p->c);
	p->c = NULL;
	p->state = KW_DONE;
	p->greeted = greeted;
	if (greeted && took > kw.greet_max)
		kw.greet_max = took;
	kw.burst_left--;
}

/* kw_drop - the connection is gone: a subscriber reconnects after a jitter. */
static void
kw_drop(struct kw_peer *p, int refused)
{
	if (p->burst) {
		p->refused += refused;
		kw_burst_end(p, 0);
		return;
	}
	tc_close(p->c);  /* a message cut short is resent by the resume */
	p->c = NULL;
	if (refused) {
		p->refused++;
		p->reconnect_at = tlib_ms() + 20;
	} else {
		p->drops++;
		p->drops_before_kill += !kw.killed;
		p->reconnect_at = tlib_ms() + (uint64_t)(rand() % (KW_JITTER_MS + 1));
	}
	p->state = KW_WAIT;
}

/* kw_subscribe - one subscribe frame per subscription of p, with since and epoch on a resume. */
static int
kw_subscribe(struct kw_peer *p, int resume)
{
	char topic[64], sub[256];
	unsigned i;

	for (i = 0; i < p->nsubs; i++) {
		snprintf(topic, sizeof(topic), "%s%u", p->subs[i], p->topic);
		if (resume)
			snprintf(sub, sizeof(sub),
			    "{\"action\":\"subscribe\",\"data\":\"%s\",\"since\":%llu,\"epoch\":\"%s\"}",
			    topic, (unsigned long long)p->rx.last, p->epoch);
		else
			snprintf(sub, sizeof(sub), "{\"action\":\"subscribe\",\"data\":\"%s\"}", topic);
		if (tc_sendz(p->c, sub) < 0)
			return -1;
	}
	return 0;
}

/* kw_hello - the hello reply: keep the first epoch, then (re)subscribe. */
static int
kw_hello(struct kw_peer *p, const char *f)
{
	const char *e = strstr(f, "\"epoch\":\"");
	char epoch[64];
	long long seq = tc_num_after(f, "\"seq\":");
	size_t n;

	if (strncmp(f, "{\"hello\":{\"version\":2,", 22) != 0 || e == NULL || seq < 0) {
		kw_note(p, "not a hello reply", f);
		return -1;
	}
	e += 9;
	n = strcspn(e, "\"");
	snprintf(epoch, sizeof(epoch), "%.*s", (int)(n < 63 ? n : 63), e);
	p->acks = 0;
	p->state = KW_ACK;
	if (p->epoch[0] == '\0') {
		snprintf(p->epoch, sizeof(p->epoch), "%s", epoch);
		p->rx.last = (uint64_t)seq;
		return kw_subscribe(p, 0);
	}
	p->epoch_changed |= strcmp(epoch, p->epoch) != 0;
	p->since = p->rx.last;
	p->head = (uint64_t)seq;
	return kw_subscribe(p, 1);
}

/* kw_frame - one frame from the server; -1 to drop the connection. */
static int
kw_frame(struct kw_peer *p, const char *f)
{
	switch (p->state) {
	case KW_GREET:
		if (strncmp(f, "{\"timestamp\":[", 14) != 0 || strstr(f, "\"token\":\"") == NULL) {
			kw_note(p, "not a greeting", f);
			return -1;
		}
		if (p->burst) {
			kw_burst_end(p, 1);
			return 1;
		}
		p->state = KW_HELLO;
		return tc_sendz(p->c, "{\"action\":\"hello\",\"version\":2}");
	case KW_HELLO:
		return kw_hello(p, f);
	case KW_ACK:
		if (strcmp(f, "ACK") == 0) {
			if (++p->acks == p->nsubs) {
				p->resumes += p->drops > 0;
				p->state = KW_LIVE;
			}
			return 0;
		}
		if (p->acks == 0) {
			kw_note(p, "expected ACK", f);
			return -1;
		}
		/* the first subscription's replay may come before the next one's ACK */
		/* fall through */
	default:
		if (strcmp(f, "PING") == 0)
			return tc_sendz(p->c, "PONG");
		if (strncmp(f, "{\"gap\":", 7) == 0) {
			p->gaps++;
			kw_note(p, "gap frame", f);
		} else if (strncmp(f, "{\"timestamp\":[", 14) == 0) {
			if (tstream_record(&kw.st, &p->rx, p->topic, f) < 0)
				kw_note(p, "unexpected message", f);
		} else {
			kw_note(p, "unexpected frame", f);
		}
		return 0;
	}
}

/* kw_readable - act on every whole frame the server sent (those before an end of stream too). */
static void
kw_readable(struct kw_peer *p)
{
	char f[16384];
	long n;
	int rc = 0;

	while (rc == 0 && (n = tc_frame(p->c, f, sizeof(f), 0)) != -1) {
		if (n == -2) {
			if (p->c->len == sizeof(p->c->buf))
				kw_note(p, "frame larger than the buffer", "");
			rc = -1;
		} else {
			rc = kw_frame(p, f);
		}
	}
	if (rc < 0)
		kw_drop(p, 0);
}

/* kw_kill - SIGKILL the victim and start the burst of connections at once. */
static void
kw_kill(void)
{
	unsigned i;

	if (kill((pid_t)kw.victim_pid, SIGKILL) < 0)
		tap_bail("kill(%lld) failed: %s", kw.victim_pid, strerror(errno));
	kw.t_kill = tlib_ms();
	kw.killed = 1;
	kw.next_stat = kw.t_kill;
	for (i = 0; i < KW_BURST; i++) {
		kw.burst[i].burst = 1;
		if (kw_connect(&kw.burst[i]) < 0)
			kw_drop(&kw.burst[i], 1);
	}
}

/* kw_poll_respawn - has the victim's slot a new pid yet? Polled every few ms. */
static void
kw_poll_respawn(void)
{
	char buf[8192];
	long long pid;

	if (!kw.killed || kw.t_respawn != 0 || tlib_ms() < kw.next_stat)
		return;
	if (tsrv_stats(&kw.srv, buf, sizeof(buf)) == 0) {
		pid = tsrv_stat_in(buf, kw.victim, "pid");
		if (pid > 0 && pid != kw.victim_pid) {
			kw.t_respawn = tlib_ms();
			kw.new_pid = pid;
		}
	}
	kw.next_stat = tlib_ms() + 2;
}

/* kw_tick - one pass: events, due reconnects, the publisher, the kill, respawn polling. */
static void
kw_tick(int publishing)
{
	struct epoll_event ev[256];
	struct kw_peer *p;
	uint64_t now;
	int n, i;

	n = epoll_wait(kw.ep, ev, 256, 2);
	for (i = 0; i < n; i++) {
		p = ev[i].data.ptr;
		if (p->c != NULL)
			kw_readable(p);
	}
	now = tlib_ms();
	for (i = 0; i < KW_CLIENTS; i++) {
		p = &kw.subs[i];
		if (p->state == KW_WAIT && now >= p->reconnect_at && kw_connect(p) < 0)
			kw_drop(p, 1);
	}
	if (publishing) {
		tstream_publish(&kw.st);
		tstream_acks(&kw.st);
		if (!kw.killed && kw.st.sent >= KW_KILL_AT)
			kw_kill();
	}
	kw_poll_respawn();
}

/* kw_all_live - every subscriber has its ACK. */
static int
kw_all_live(void)
{
	unsigned i;

	for (i = 0; i < KW_CLIENTS; i++)
		if (kw.subs[i].state != KW_LIVE)
			return 0;
	return 1;
}

/* kw_finished - everything published, acknowledged, delivered, respawned and greeted. */
static int
kw_finished(void)
{
	unsigned i;

	if (kw.st.acked < KW_MESSAGES || !kw.killed || kw.t_respawn == 0 || kw.burst_left > 0)
		return 0;
	for (i = 0; i < KW_CLIENTS; i++)
		if (kw.subs[i].state != KW_LIVE || kw.subs[i].rx.n < tstream_count(&kw.st, kw.subs[i].topic))
			return 0;
	return 1;
}

/* kw_setup - the publisher (its worker found by the "published" counters), then the subscribers. */
static int
kw_setup(void)
{
	char buf[8192], f[256];
	unsigned i, found = 0;
	uint64_t end;

	kw.pub = tc_open(kw.srv.port);
	if (kw.pub == NULL || tc_greeting(kw.pub) < 0 ||
	    tc_sends(kw.pub, "{\"action\":\"publish\",\"topic\":\"kw.probe\",\"ack\":true}") < 0 ||
	    tc_send(kw.pub, "", 1) < 0 || tc_frame(kw.pub, f, sizeof(f), 5000) <= 0 ||
	    strncmp(f, "{\"published\":", 13) != 0 || tsrv_stats(&kw.srv, buf, sizeof(buf)) < 0)
		return tap_ok(0, "publisher connected and its worker found");
	for (i = 0; i < KW_WORKERS; i++)
		if (tsrv_stat_in(buf, i, "published") == 1) {
			kw.pub_slot = i;
			found++;
		}
	tap_ok(found == 1, "publisher connected; it is on worker %u", kw.pub_slot);
	for (i = 0; i < KW_CLIENTS; i++) {
		kw.subs[i].topic = i % KW_TOPICS;
		kw.subs[i].subs = kw_forms[KW_PATTERNS][i % 3];
		kw.subs[i].nsubs = kw.subs[i].subs[1] != NULL ? 2 : 1;
		if (kw_connect(&kw.subs[i]) < 0)
			kw_drop(&kw.subs[i], 1);
	}
	end = tlib_ms() + 15000;
	while (!kw_all_live() && tlib_ms() < end)
		kw_tick(0);
	return tap_ok(kw_all_live(), "%d version 2 clients said hello and subscribed", KW_CLIENTS) &&
	    found == 1;
}

/* kw_spread - clients on every worker; the victim is a worker with clients but not the publisher. */
static int
kw_spread(void)
{
	char buf[8192], line[256];
	long long conns[KW_WORKERS], best = 0;
	size_t len = 0;
	unsigned i, ok = 1;

	if (tsrv_stats(&kw.srv, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	for (i = 0; i < KW_WORKERS; i++) {
		conns[i] = tsrv_stat_in(buf, i, "conns");
		ok &= conns[i] > 0;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %lld", conns[i]);
		if (i != kw.pub_slot && conns[i] > best) {
			best = conns[i];
			kw.victim = i;
		}
	}
	tap_diag("connections per worker:%s", line);
	kw.victim_pid = tsrv_stat_in(buf, kw.victim, "pid");
	kw.victim_conns = conns[kw.victim];
	tap_ok(ok && kw.victim_pid > 0, "every worker has clients; worker %u (pid %lld, %lld clients) will be killed",
	    kw.victim, kw.victim_pid, kw.victim_conns);
	return ok && kw.victim_pid > 0;
}

/* kw_stream - publish the stream, kill the victim a third of the way, wait for the end. */
static void
kw_stream(void)
{
	uint64_t end;

	if (tstream_init(&kw.st, kw.pub, kw_prefix[KW_PATTERNS], KW_TOPICS, KW_MESSAGES, KW_PER_MS) < 0)
		tap_bail("out of memory");
	kw.burst_left = KW_BURST;
	end = kw.st.start + KW_MESSAGES / KW_PER_MS + 20000;
	while (!kw_finished() && !kw.st.dead && tlib_ms() < end)
		kw_tick(1);
	/* a little longer, so duplicates after the last expected message show */
	end = tlib_ms() + 300;
	while (tlib_ms() < end)
		kw_tick(1);
}

/* kw_replayed - messages of p's topic published while it was away: its last resume's replay. */
static unsigned
kw_replayed(const struct kw_peer *p)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < p->rx.n; i++)
		n += p->rx.seq[i] > p->since && p->rx.seq[i] <= p->head;
	return n;
}

/* kw_verdict - the delivery checks, for clients that stayed and clients that resumed. */
static void
kw_verdict(void)
{
	struct tstream_tally stay = { 0 }, moved = { 0 };
	unsigned i, gaps = 0, errs = 0, eproblems = 0, twice = 0, early = 0, resumed = 0, refused = 0;
	unsigned replayed = 0, most = 0, r;
	const char *note = NULL;

	for (i = 0; i < KW_CLIENTS; i++) {
		const struct kw_peer *p = &kw.subs[i];

		if (tstream_check(&kw.st, &p->rx, p->topic, p->drops ? &moved : &stay) < 0)
			tap_bail("out of memory");
		gaps += p->gaps;
		errs += p->errors;
		eproblems += p->epoch_changed;
		twice += p->drops > 1;
		early += p->drops_before_kill;
		resumed += p->drops > 0 && p->resumes >= p->drops && p->state == KW_LIVE;
		refused += p->refused;
		r = p->drops ? kw_replayed(p) : 0;
		replayed += r;
		most = r > most ? r : most;
		if (note == NULL && p->note[0] != '\0')
			note = p->note;
	}
	tap_diag("clients that lost their connection: %u (worker %u had %lld); reconnects refused: %u",
	    moved.clients, kw.victim, kw.victim_conns, refused);
	tap_ok(moved.clients == kw.victim_conns && moved.clients > 0 && early == 0 && twice == 0,
	    "exactly the killed worker's clients lost their connection (%u), once, after the kill",
	    moved.clients);
	tap_ok(resumed == moved.clients && eproblems == 0 && refused == 0,
	    "every one reconnected, saw the same epoch and resubscribed with since (%u of %u)",
	    resumed, moved.clients);
	tap_diag("other workers' clients (%u): lost %u, duplicated %u, out of order %u, foreign %u, "
	    "seq not the one acked %u", stay.clients, stay.lost, stay.dup, stay.disorder, stay.extra,
	    stay.corrupt);
	tap_ok(tstream_clean(&stay),
	    "clients of the other workers got every message of their topic once, in order");
	tap_diag("resumed clients (%u): lost %u, duplicated %u, out of order %u, foreign %u, "
	    "seq not the one acked %u; replayed on resume %u messages (at most %u to one client)",
	    moved.clients, moved.lost, moved.dup, moved.disorder, moved.extra, moved.corrupt,
	    replayed, most);
	tap_ok(tstream_clean(&moved),
	    "resumed clients got every message of their topic exactly once, in order");
	if (note != NULL)
		tap_diag("first unexpected frame: %s", note);
	tap_ok(gaps == 0 && errs == 0, "no gap frame and no unexpected frame (gaps %u, others %u)",
	    gaps, errs - gaps);
}

/* kw_burst_verdict - the connections opened right after the kill. */
static void
kw_burst_verdict(void)
{
	unsigned i, greeted = 0, refused = 0;

	for (i = 0; i < KW_BURST; i++) {
		greeted += kw.burst[i].greeted;
		refused += kw.burst[i].refused;
	}
	tap_diag("connections opened during the kill: %u greeted, %u refused, %u failed otherwise; "
	    "slowest greeting %llu ms", greeted, refused, KW_BURST - greeted - refused,
	    (unsigned long long)kw.greet_max);
	tap_is_int(greeted, KW_BURST, "every connection opened during the kill got its greeting");
}

/* kw_master_verdict - the master's side: log lines, the slot's new pid, the other slots. */
static void
kw_master_verdict(void)
{
	char buf[8192], want[128], killed[128];
	unsigned i, others = 1;

	if (tsrv_stats(&kw.srv, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	snprintf(killed, sizeof(killed), "worker %u (pid %lld) killed by signal 9", kw.victim, kw.victim_pid);
	tap_ok(tsrv_log_has(&kw.srv, killed), "the master logged '%s'", killed);
	tap_ok(kw.new_pid > 0 && tsrv_stat_in(buf, kw.victim, "pid") == kw.new_pid &&
	    tsrv_stat_in(buf, kw.victim, "restarts") == 1,
	    "slot %u has a new worker (pid %lld -> %lld), restarts %lld", kw.victim, kw.victim_pid,
	    kw.new_pid, tsrv_stat_in(buf, kw.victim, "restarts"));
	snprintf(want, sizeof(want), "worker %u respawned (pid %lld)", kw.victim, kw.new_pid);
	tap_ok(tsrv_log_has(&kw.srv, want), "the master logged '%s'", want);
	if (kw.t_respawn != 0)
		tap_diag("respawn time: %llu ms (kill to the new pid in janusd -s; target 100 ms)",
		    (unsigned long long)(kw.t_respawn - kw.t_kill));
	tap_ok(kw.t_respawn != 0 && kw.t_respawn - kw.t_kill < KW_RESPAWN_MAX_MS,
	    "respawned within %d ms", KW_RESPAWN_MAX_MS);
	for (i = 0; i < KW_WORKERS; i++)
		if (i != kw.victim)
			others &= tsrv_stat_in(buf, i, "restarts") == 0;
	tap_ok(others && tsrv_log_alerts(&kw.srv, killed) == 0,
	    "no other worker was restarted, and the log has no other warning or error");
}

int
main(void)
{
	static const char *const args[] = { "-w", "3", NULL };
	unsigned i;

	alarm(KW_ALARM_S);
	tap_plan(15);
	if (KW_PATTERNS)
		tap_diag("clients hold kw.*.N; *.x.N and kw.*.N; or kw.x.N and *.*.N");
	if (tsrv_start(&kw.srv, args) < 0)
		tap_bail("cannot start janusd");
	srand((unsigned)getpid());
	if ((kw.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		tap_bail("epoll_create1() failed: %s", strerror(errno));
	if (!kw_setup() || !kw_spread()) {
		tsrv_stop(&kw.srv, 0);
		tap_bail("could not set the stage");
	}
	kw_stream();
	tap_ok(kw.st.acked == KW_MESSAGES && kw.st.errors == 0 && !kw.st.dead,
	    "all %d publishes acknowledged (%u acks, %u other replies%s%s)", KW_MESSAGES,
	    kw.st.acked, kw.st.errors, kw.st.note[0] ? ": " : "", kw.st.note);
	kw_master_verdict();
	kw_verdict();
	kw_burst_verdict();
	for (i = 0; i < KW_CLIENTS; i++) {
		tc_close(kw.subs[i].c);
		tstream_recv_free(&kw.subs[i].rx);
	}
	tstream_free(&kw.st);
	tc_close(kw.pub);
	tsrv_stop(&kw.srv, 0);
	return tap_done();
}
