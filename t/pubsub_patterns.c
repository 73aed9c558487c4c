/*
 * t/pubsub_patterns.c - wildcard subscriptions end to end (PROTOCOL.md
 * Part 4), over TCP and over WebSocket alike.
 *
 * janusd -w 1 -o max_subs=6 with its HTTP/WebSocket listener: every row
 * of t/part4.h's matching table as a subscription and a publish;
 * overlapping patterns, and an exact subscription beside a pattern,
 * delivering once; unsubscribing one of two overlapping patterns (the
 * other stays), and the exact topic under a pattern; bad patterns and
 * bad published topics getting bad_topic and reaching nobody; a topic
 * without dots as before, byte for byte; patterns counting against
 * max_subs; resume (since) with a pattern replaying only what it matches,
 * in order, then live with no gap and no duplicate while a publisher goes
 * on; and a resume of overlapping subscriptions giving each message once.
 * Then janusd -w 2: subscribers of both workers and both transports with
 * patterns, publishers on either worker; and the shared wake mask: with
 * patterns only on worker 0, publishes to topics they do not match wake
 * neither worker 1 nor (after the first) worker 0 (janusd -s "wakeups"),
 * and a pattern added later is woken for at once.
 *
 * Whether a message did not arrive is told without waiting: every check
 * ends with a publish to a sentinel topic the subscriber holds, and all
 * it got before the sentinel is what the check is about.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/topic.h"
#include "t/part4.h"
#include "t/tap.h"
#include "t/tlib.h"
#include "t/tweb.h"

#define WAIT_MS  5000
#define SENTINEL "zz.end"
#define MAX_GOT  64
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A client of either transport: the same Janus frames, framed by TCP's \0/\1 or as WebSocket text. */
struct pc {
	struct tc *tc;
	int ws;
};

/* One message a client received. */
struct got {
	char topic[64];
	long long n;                  /* its "n" member */
	long long seq;                /* version 2: its seq; else -1 */
};

static struct tsrv srv;
static unsigned mark;             /* numbers the sentinels */

static const char *const tp_name[2] = { "tcp", "ws" };

/* pc_open - a greeted session on s (WebSocket when ws); bails out if it cannot. */
static struct pc
pc_open(const struct tsrv *s, int ws)
{
	struct pc p = { NULL, ws };

	p.tc = ws ? tw_ws_open(s->hport, NULL, "", NULL, 0) : tc_open(s->port);
	if (p.tc == NULL || (!ws && tc_greeting(p.tc) < 0))
		tap_bail("cannot open a %s session", tp_name[ws]);
	return p;
}

static void
pc_close(struct pc *p)
{
	tc_close(p->tc);
	p->tc = NULL;
}

/* pc_send - one client frame. 0 or -1. */
static int
pc_send(struct pc *p, const char *frame)
{
	return p->ws ? tw_ws_text(p->tc, frame) : tc_sendz(p->tc, frame);
}

/* pc_recv - the next server frame without its framing into out: its length, or < 0 (timeout, end). */
static long
pc_recv(struct pc *p, char *out, size_t cap, int ms)
{
	long n = p->ws ? tw_ws_msg(p->tc, out, cap, ms) : tc_frame(p->tc, out, cap, ms);

	if (n < 0)
		snprintf(out, cap, "(%s)", n == -1 ? "nothing" : "closed or malformed");
	return n;
}

/* pc_ask - send frame; its one reply into out. 0, or -1 if none came. */
static int
pc_ask(struct pc *p, const char *frame, char *out, size_t cap)
{
	return pc_send(p, frame) == 0 && pc_recv(p, out, cap, WAIT_MS) >= 0 ? 0 : -1;
}

/* pc_sub - subscribe (with extra members, e.g. since; "" for none); 0 if ACK came. */
static int
pc_sub_with(struct pc *p, const char *topic, const char *extra)
{
	char frame[512], f[4096];

	snprintf(frame, sizeof(frame), "{\"action\":\"subscribe\",\"data\":\"%s\"%s}", topic, extra);
	if (pc_ask(p, frame, f, sizeof(f)) == 0 && strcmp(f, "ACK") == 0)
		return 0;
	tap_diag("  subscribe %s: '%s' instead of ACK", topic, f);
	return -1;
}

static int
pc_sub(struct pc *p, const char *topic)
{
	return pc_sub_with(p, topic, "");
}

/* pc_unsub - unsubscribe (no reply comes; the next request's reply orders it). */
static void
pc_unsub(struct pc *p, const char *topic)
{
	char frame[512];

	snprintf(frame, sizeof(frame), "{\"action\":\"unsubscribe\",\"data\":\"%s\"}", topic);
	pc_send(p, frame);
}

/* pc_pub - publish {"topic":T,"n":N} with ack; the seq, or -1 (the reply in why, if any). */
static long long
pc_pub_why(struct pc *p, const char *topic, long long n, char *why, size_t cap)
{
	char frame[512];

	snprintf(frame, sizeof(frame), "{\"action\":\"publish\",\"topic\":\"%s\",\"n\":%lld,\"ack\":true}",
	    topic, n);
	if (pc_ask(p, frame, why, cap) < 0 || strncmp(why, "{\"published\":{\"seq\":", 20) != 0)
		return -1;
	return strtoll(why + 20, NULL, 10);
}

static long long
pc_pub(struct pc *p, const char *topic, long long n)
{
	char f[4096];
	long long seq = pc_pub_why(p, topic, n, f, sizeof(f));

	if (seq < 0)
		tap_diag("  publish to %s: '%s'", topic, f);
	return seq;
}

/* got_parse - a message frame into g (topic, n, seq); 0, or -1 if f is no message of ours. */
static int
got_parse(const char *f, struct got *g)
{
	const char *t = strstr(f, "\"topic\":\""), *n = strstr(f, "\"n\":"), *s = strstr(f, "],\"seq\":");
	size_t len;

	if (strncmp(f, "{\"timestamp\":[", 14) != 0 || t == NULL || n == NULL)
		return -1;
	t += 9;
	len = strcspn(t, "\"");
	snprintf(g->topic, sizeof(g->topic), "%.*s", (int)len, t);
	g->n = strtoll(n + 4, NULL, 10);
	g->seq = s != NULL ? strtoll(s + 8, NULL, 10) : -1;
	return 0;
}

/*
 * pc_collect_acks - read up to the sentinel numbered m; the messages
 * before it into g (up to MAX_GOT), ACKs on the way counted in *acks
 * (NULL: an ACK is unexpected). Their count, or -1 (diagnosed) if
 * something else came or the sentinel did not.
 */
static int
pc_collect_acks(struct pc *p, unsigned m, struct got *g, unsigned *acks)
{
	char f[4096];
	struct got one;
	int n = 0;

	for (;;) {
		if (pc_recv(p, f, sizeof(f), WAIT_MS) >= 0 && acks != NULL && strcmp(f, "ACK") == 0) {
			(*acks)++;
			continue;
		}
		if (got_parse(f, &one) < 0) {
			tap_diag("  waiting for sentinel %u: '%s'", m, f);
			return -1;
		}
		if (strcmp(one.topic, SENTINEL) == 0 && one.n == (long long)m)
			return n;
		if (n < MAX_GOT)
			g[n++] = one;
	}
}

/* pc_sync_acks - publish the next sentinel through pub; what sub got before it (pc_collect_acks). */
static int
pc_sync_acks(struct pc *sub, struct pc *pub, struct got *g, unsigned *acks)
{
	mark++;
	if (pc_pub(pub, SENTINEL, mark) < 0)
		return -1;
	return pc_collect_acks(sub, mark, g, acks);
}

/* pc_sync - pc_sync_acks with no ACK expected. */
static int
pc_sync(struct pc *sub, struct pc *pub, struct got *g)
{
	return pc_sync_acks(sub, pub, g, NULL);
}

/* got_count - how many of g[0..n) are topic with "n" num (num < 0: any). */
static int
got_count(const struct got *g, int n, const char *topic, long long num)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += strcmp(g[i].topic, topic) == 0 && (num < 0 || g[i].n == num);
	return k;
}

/* got_show - what came, as a diagnostic. */
static void
got_show(const struct got *g, int n)
{
	char line[1024];
	size_t len = 0;
	int i;

	line[0] = '\0';
	for (i = 0; i < n && len < sizeof(line) - 80; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s#%lld", g[i].topic, g[i].n);
	tap_diag("  received:%s", n > 0 ? line : " nothing");
}

/* rows - every row of Part 4's matching table: subscribe the pattern, publish the topic. */
static void
rows(struct pc *sub, struct pc *pub, int ws)
{
	struct got g[MAX_GOT];
	size_t i;
	int n, k;

	for (i = 0; i < PART4_NROWS; i++) {
		const struct part4_row *r = &part4_rows[i];

		n = -1;
		k = 0;
		if (pc_sub(sub, r->pattern) == 0 && pc_pub(pub, r->topic, (long long)i) > 0 &&
		    (n = pc_sync(sub, pub, g)) >= 0)
			k = got_count(g, n, r->topic, (long long)i);
		if (!tap_ok(n == r->match && k == r->match, "%s: %s %s %s (%s)", tp_name[ws], r->pattern,
		    r->match ? "matches" : "does not match", r->topic, r->why) && n >= 0)
			got_show(g, n);
		pc_unsub(sub, r->pattern);
	}
}

/* once - subscribe to each of subs, publish topic once: it must come exactly once. */
static void
once(struct pc *sub, struct pc *pub, const char *const *subs, size_t nsubs, const char *topic,
    const char *name, int ws)
{
	struct got g[MAX_GOT];
	size_t i;
	int ok = 1, n = -1;

	for (i = 0; i < nsubs; i++)
		ok &= pc_sub(sub, subs[i]) == 0;
	if (ok && pc_pub(pub, topic, 1) > 0)
		n = pc_sync(sub, pub, g);
	if (!tap_ok(n == 1 && got_count(g, n, topic, 1) == 1, "%s: %s", tp_name[ws], name) && n >= 0)
		got_show(g, n);
	for (i = 0; i < nsubs; i++)
		pc_unsub(sub, subs[i]);
}

/* expect - publish each of topics (n = its index); sub must get exactly want (a mask of indexes). */
static void
expect(struct pc *sub, struct pc *pub, const char *const *topics, size_t nt, unsigned want,
    const char *name, int ws)
{
	struct got g[MAX_GOT];
	size_t i;
	int ok = 1, n;

	for (i = 0; i < nt; i++)
		ok &= pc_pub(pub, topics[i], (long long)i) > 0;
	n = ok ? pc_sync(sub, pub, g) : -1;
	for (i = 0; n >= 0 && i < nt; i++)
		ok &= got_count(g, n, topics[i], (long long)i) == (int)((want >> i) & 1);
	if (!tap_ok(n >= 0 && ok && n == (int)__builtin_popcount(want), "%s: %s", tp_name[ws], name) && n >= 0)
		got_show(g, n);
}

/* keep_other - subscribe to drop and keep, unsubscribe drop: expect() what keep still brings; then drop keep too. */
static void
keep_other(struct pc *sub, struct pc *pub, const char *drop, const char *keep,
    const char *const *topics, size_t nt, unsigned want, const char *name, int ws)
{
	if (pc_sub(sub, drop) < 0 || pc_sub(sub, keep) < 0)
		tap_bail("subscribing to %s and %s failed", drop, keep);
	pc_unsub(sub, drop);
	expect(sub, pub, topics, nt, want, name, ws);
	pc_unsub(sub, keep);
}

/* overlaps - several ways to one message give it once; unsubscribing one way keeps the others. */
static void
overlaps(struct pc *sub, struct pc *pub, int ws)
{
	static const char *const four[] = { "o.*.c", "o.>", "*.b.c", "o.b.*" };
	static const char *const exact[] = { "e.b", "e.*", "e.>" };
	static const char *const u1[] = { "u.x", "u.x.y", "v.x" };
	static const char *const u2[] = { "u.x", "e.b" };

	once(sub, pub, four, NELEM(four), "o.b.c", "four overlapping patterns deliver a message once", ws);
	once(sub, pub, exact, NELEM(exact), "e.b", "an exact subscription and two patterns deliver once", ws);
	keep_other(sub, pub, "u.*", "u.>", u1, NELEM(u1), 0x3,
	    "after unsubscribing u.*, u.> still delivers u.x and u.x.y, once each", ws);
	keep_other(sub, pub, "e.b", "e.*", u2, NELEM(u2), 0x2,
	    "after unsubscribing u.> nothing gets u.x; after unsubscribing e.b, e.* still gets it", ws);
}

/* refused - bad patterns and bad published topics get bad_topic; what was refused reaches nobody. */
static void
refused(struct pc *sub, struct pc *pub, int ws)
{
	static const char *const pats[] = { "a*", "a.>.c", ">.a", "a..b", ".a", "a.", "x>y" };
	static const char *const tops[] = { "a.*", "*", ">", "a..b", ".a", "a.", "a.>" };
	char frame[256], f[4096];
	struct got g[MAX_GOT];
	size_t i;
	int n;

	for (i = 0; i < NELEM(pats); i++) {
		snprintf(frame, sizeof(frame), "{\"action\":\"subscribe\",\"data\":\"%s\"}", pats[i]);
		pc_ask(sub, frame, f, sizeof(f));
		tap_ok(tc_is_error(f, "bad_topic"), "%s: subscribing to %s gets bad_topic ('%s')",
		    tp_name[ws], pats[i], f);
	}
	snprintf(frame, sizeof(frame), "{\"action\":\"unsubscribe\",\"data\":\"a.>.c\"}");
	pc_ask(sub, frame, f, sizeof(f));
	tap_ok(tc_is_error(f, "bad_topic"), "%s: unsubscribing from a.>.c gets bad_topic", tp_name[ws]);
	if (pc_sub(sub, ">") < 0)
		tap_bail("subscribing to > failed");
	for (i = 0; i < NELEM(tops); i++) {
		pc_pub_why(pub, tops[i], (long long)i, f, sizeof(f));
		tap_ok(tc_is_error(f, "bad_topic"), "%s: publishing to %s gets bad_topic ('%s')",
		    tp_name[ws], tops[i], f);
	}
	if (!ws) {
		snprintf(frame, sizeof(frame), "{\"topic\":\"a.*\",\"n\":%d}", 99);
		tc_publish1(srv.port, frame);
	}
	n = pc_sync(sub, pub, g);
	if (!tap_ok(n == 0, "%s: a subscriber of > got none of the refused publishes%s", tp_name[ws],
	    ws ? "" : " (nor a Part 1 PUBLISH to a.*)") && n > 0)
		got_show(g, n);
	pc_unsub(sub, ">");
}

/* plain - a topic without dots, subscribed and published the Part 1 way, as before, byte for byte. */
static void
plain(void)
{
	struct tc *s1 = tc_open_greeted(srv.port);
	char f[4096];

	if (tc_subscribe(s1, "events") < 0 || tc_publish1(srv.port,
	    "{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}") < 0)
		tap_bail("Part 1 subscribe or publish failed");
	if (tc_frame(s1, f, sizeof(f), WAIT_MS) < 0 || tc_strip_ts(f) < 0)
		f[0] = '\0';
	tap_is_str(f, "{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}",
	    "tcp: a topic without dots, Part 1 subscribe and PUBLISH, as before");
	tc_close(s1);
}

/* limits - with max_subs=6, patterns and topics count together; a held one is not counted again. */
static void
limits(int ws)
{
	static const char *const six[] = { "l.a", "l.*", "l.b", "l.>", "*.l", "l.c" };
	struct pc c = pc_open(&srv, ws);
	char f[4096];
	size_t i;
	int ok = 1;

	for (i = 0; i < NELEM(six); i++)
		ok &= pc_sub(&c, six[i]) == 0;
	tap_ok(ok, "%s: three topics and three patterns fit max_subs=6", tp_name[ws]);
	pc_ask(&c, "{\"action\":\"subscribe\",\"data\":\"l.*.x\"}", f, sizeof(f));
	tap_ok(tc_is_error(f, "limit"), "%s: a seventh, a pattern, gets limit ('%s')", tp_name[ws], f);
	pc_ask(&c, "{\"action\":\"subscribe\",\"data\":\"l.d\"}", f, sizeof(f));
	tap_ok(tc_is_error(f, "limit"), "%s: a seventh, a topic, gets limit too", tp_name[ws]);
	tap_ok(pc_sub(&c, "l.>") == 0, "%s: subscribing again to a held pattern is ACKed", tp_name[ws]);
	pc_unsub(&c, "l.*");
	tap_ok(pc_sub(&c, "l.*.x") == 0, "%s: after unsubscribing a pattern, another fits", tp_name[ws]);
	pc_close(&c);
}

/* pc_hello - hello version 2; the epoch into epoch (17 bytes) and the newest seq, or -1. */
static long long
pc_hello(struct pc *p, char *epoch)
{
	char f[512];
	const char *e, *s;

	if (pc_ask(p, "{\"action\":\"hello\",\"version\":2}", f, sizeof(f)) < 0 ||
	    (e = strstr(f, "\"epoch\":\"")) == NULL || (s = strstr(f, "\"seq\":")) == NULL)
		tap_bail("hello failed: '%s'", f);
	snprintf(epoch, 17, "%s", e + 9);
	return strtoll(s + 6, NULL, 10);
}

/* A record the resume tests published: its topic and seq. */
struct pubrec {
	const char *topic;
	long long seq;
};

/* resume_pub - publish topics[0..n) in one write, then read the acks; their seqs into r. */
static int
resume_pub(struct pc *pub, const char *const *topics, size_t n, struct pubrec *r, unsigned base)
{
	char frame[256], f[512];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(frame, sizeof(frame), "{\"action\":\"publish\",\"topic\":\"%s\",\"n\":%zu,\"ack\":true}",
		    topics[i], base + i);
		if (pc_send(pub, frame) < 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		if (pc_recv(pub, f, sizeof(f), WAIT_MS) < 0 || strncmp(f, "{\"published\":{\"seq\":", 20) != 0)
			return -1;
		r[i].topic = topics[i];
		r[i].seq = strtoll(f + 20, NULL, 10);
	}
	return 0;
}

/* resume_got - g[0..n) against the records of r (nr) that pattern matches: once each, in order per topic. */
static int
resume_got(const struct got *g, int n, const struct pubrec *r, size_t nr,
    const char *const *pats, size_t npats)
{
	size_t i, j, want = 0;
	int k, seen, ok = n >= 0;

	for (i = 0; ok && i < nr; i++) {
		int m = 0;

		for (j = 0; j < npats; j++)
			m |= topic_match(pats[j], strlen(pats[j]), r[i].topic, strlen(r[i].topic));
		for (k = 0, seen = 0; k < n; k++)
			seen += g[k].seq == r[i].seq && strcmp(g[k].topic, r[i].topic) == 0;
		ok &= seen == m;
		want += (size_t)m;
	}
	for (k = 1; ok && k < n; k++)
		for (j = 0; j < (size_t)k; j++)
			ok &= strcmp(g[j].topic, g[k].topic) != 0 || g[j].seq < g[k].seq;
	return ok && (size_t)n == want;
}

/* in_order - whether g[0..n) has strictly increasing seqs. */
static int
in_order(const struct got *g, int n)
{
	int k;

	for (k = 1; k < n; k++)
		if (g[k].seq <= g[k - 1].seq)
			return 0;
	return 1;
}

/* resume_subs - send a subscribe with since and epoch for each of pats, not waiting for the ACKs. */
static int
resume_subs(struct pc *c, const char *const *pats, size_t n, long long since, const char *epoch)
{
	char frame[256];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(frame, sizeof(frame),
		    "{\"action\":\"subscribe\",\"data\":\"%s\",\"since\":%lld,\"epoch\":\"%s\"}",
		    pats[i], since, epoch);
		if (pc_send(c, frame) < 0)
			return -1;
	}
	return 0;
}

/*
 * resume_one - records published before and while a version 2 client
 * resumes subs (sent at once, their ACKs read among the messages): it
 * must get each record its subscriptions match, after since, exactly
 * once and in order per topic (strictly in seq order: strict).
 */
static void
resume_one(int ws, const char *const *subs, size_t nsubs, int strict, const char *name)
{
	static const char *const before[] = { "r.a.1", "r.b.1", "r.a.2", "x.y", "r.a.3", "r.a", "r.a.b.c" };
	static const char *const during[] = { "r.a.4", "r.b.2", "r.a.5", "r.x.y", "r.a.6", "s.a.1",
		"r.a.7", "r.a", "r.b.3", "r.a.8" };
	struct pubrec r[NELEM(before) + NELEM(during)];
	struct pc c = pc_open(&srv, ws), pub = pc_open(&srv, ws);
	struct got g[MAX_GOT];
	char epoch[17];
	long long since;
	unsigned acks = 0;
	int n = -1, ok;

	since = pc_hello(&c, epoch);
	if (pc_sub(&c, SENTINEL) < 0 || resume_pub(&pub, before, NELEM(before), r, 0) < 0)
		tap_bail("setting up the resume failed");
	ok = resume_subs(&c, subs, nsubs, since, epoch) == 0 &&
	    resume_pub(&pub, during, NELEM(during), r + NELEM(before), NELEM(before)) == 0;
	if (ok)
		n = pc_sync_acks(&c, &pub, g, &acks);
	ok = ok && acks == nsubs && resume_got(g, n, r, NELEM(r), subs, nsubs) && (!strict || in_order(g, n));
	if (!tap_ok(ok, "%s: %s", tp_name[ws], name) && n >= 0) {
		tap_diag("  %u ACKs for %zu subscriptions", acks, nsubs);
		got_show(g, n);
	}
	pc_close(&c);
	pc_close(&pub);
}

static void
resumes(int ws)
{
	static const char *const one[] = { "r.a.*" };
	static const char *const two[] = { "r.a.*", "r.>" };
	static const char *const mixed[] = { "r.a.3", "r.a.*", "*.a.*" };

	resume_one(ws, one, NELEM(one), 1,
	    "resume with r.a.* replays only its records, in order, then live with no gap or duplicate");
	resume_one(ws, two, NELEM(two), 0,
	    "resume with r.a.* and r.> (overlapping): every record of either once, in order per topic");
	resume_one(ws, mixed, NELEM(mixed), 0,
	    "resume with r.a.3, r.a.* and *.a.* (a topic and two patterns): each record once");
}

/* transport - the single-worker checks over one transport. */
static void
transport(int ws)
{
	struct pc sub = pc_open(&srv, ws), pub = pc_open(&srv, ws);

	if (pc_sub(&sub, SENTINEL) < 0)
		tap_bail("subscribing to the sentinel failed");
	rows(&sub, &pub, ws);
	overlaps(&sub, &pub, ws);
	refused(&sub, &pub, ws);
	pc_close(&sub);
	pc_close(&pub);
	limits(ws);
	resumes(ws);
}

/*
 * behind - a subscriber of s.* whose socket is full falls behind; while
 * behind it subscribes to t.* too (which s.a does not match), which sends
 * the worker's pattern caches back to the trie: once it reads again it
 * still gets every s.a message, in order, once.
 */
#define BEHIND_MSGS 3000
#define BEHIND_PAD  400          /* bytes of data per message: the first half is more than sockets hold */
static void
behind(void)
{
	struct tc *c = tc_open_small(srv.port, 4096, 536);
	struct pc sub = { c, 0 }, pub = pc_open(&srv, 0);
	static char frames[BEHIND_MSGS / 2 * (BEHIND_PAD + 64)], pad[BEHIND_PAD + 1];
	char f[4096];
	struct got g;
	size_t len;
	long long next = 0, subs;
	unsigned acks = 0, bad = 0;
	uint64_t end;
	int i, half;

	if (c == NULL || tc_greeting(c) < 0 || pc_sub(&sub, "s.*") < 0 || pc_sub(&sub, SENTINEL) < 0)
		tap_bail("the slow subscriber could not subscribe");
	memset(pad, 'x', BEHIND_PAD);
	for (half = 0; half < 2; half++) {
		for (i = 0, len = 0; i < BEHIND_MSGS / 2; i++)
			len += (size_t)snprintf(frames + len, sizeof(frames) - len,
			    "{\"action\":\"publish\",\"topic\":\"s.a\",\"n\":%d,\"data\":\"%s\"}%c",
			    half * BEHIND_MSGS / 2 + i, pad, 0);
		if (tc_send(pub.tc, frames, len) < 0 || (half == 0 && pc_pub(&pub, "s.b", half) < 0))
			tap_bail("publishing failed");
		if (half > 0)
			break;
		/* t.* while behind: counted (janusd -s) before the second half is published */
		subs = tsrv_stat(&srv, 0, "subs");
		pc_send(&sub, "{\"action\":\"subscribe\",\"data\":\"t.*\"}");
		for (end = tlib_ms() + WAIT_MS; tsrv_stat(&srv, 0, "subs") != subs + 1 && tlib_ms() < end;)
			tlib_sleep_ms(10);
	}
	mark++;
	if (pc_pub(&pub, SENTINEL, mark) < 0)
		tap_bail("publishing the sentinel failed");
	for (;;) {
		if (pc_recv(&sub, f, sizeof(f), WAIT_MS) < 0) {
			bad++;
			break;
		}
		if (strcmp(f, "ACK") == 0) {
			acks++;
			continue;
		}
		if (got_parse(f, &g) < 0 || (strcmp(g.topic, SENTINEL) == 0 && g.n == (long long)mark))
			break;
		if (strcmp(g.topic, "s.b") == 0)
			continue;
		bad += strcmp(g.topic, "s.a") != 0 || g.n != next;
		next = g.n + 1;
	}
	tap_ok(bad == 0 && next == BEHIND_MSGS && acks == 1, "tcp: a subscriber of s.* that fell behind "
	    "and subscribed to t.* meanwhile gets all %d s.a messages in order, once (%lld, %u wrong, "
	    "%u ACK)", BEHIND_MSGS, next, bad, acks);
	pc_close(&sub);
	pc_close(&pub);
}

/* counter - worker slot's counter name, from janusd -s; bails out if there is none. */
static long long
counter(unsigned slot, const char *name)
{
	long long v = tsrv_stat(&srv, slot, name);

	if (v < 0)
		tap_bail("janusd -s gave no %s for worker %u", name, slot);
	return v;
}

/* pc_open_on - a session accepted by worker slot (connections are opened until one lands there). */
static struct pc
pc_open_on(int ws, unsigned slot)
{
	struct pc p;
	long long was;
	int i;

	for (i = 0; i < 100; i++) {
		was = counter(slot, "accepted");
		p = pc_open(&srv, ws);
		if (counter(slot, "accepted") == was + 1)
			return p;
		pc_close(&p);
	}
	tap_bail("no %s connection landed on worker %u in 100 tries", tp_name[ws], slot);
}

/* A subscriber of the two-worker checks: where it is and what it holds. */
struct wsub {
	int ws;
	unsigned slot;
	const char *subs[3];
	struct pc pc;
};

/*
 * workers - subscribers with patterns on both workers and transports;
 * the topics published alternately from a publisher on each worker:
 * each subscriber gets what its patterns match, once.
 */
static void
workers(void)
{
	static struct wsub s[] = {
		{ 0, 0, { "x.*.a", NULL, NULL }, { NULL, 0 } },
		{ 0, 1, { "x.>", NULL, NULL }, { NULL, 0 } },
		{ 1, 0, { "*.b.a", "x.b.>", NULL }, { NULL, 0 } },
		{ 1, 1, { "x.b.*", "x.c.a", "*.*.a" }, { NULL, 0 } },
	};
	static const char *const topics[] = { "x.b.a", "x.c.a", "x.b.c", "y.b.a", "x.b", "x.b.a.d", "x" };
	struct pc pub[2] = { pc_open_on(0, 0), pc_open_on(1, 1) };
	struct got g[MAX_GOT];
	size_t i, j, t;
	int n, ok, seq_ok = 1;

	for (i = 0; i < NELEM(s); i++) {
		s[i].pc = pc_open_on(s[i].ws, s[i].slot);
		for (j = 0; j < NELEM(s[i].subs) && s[i].subs[j] != NULL; j++)
			seq_ok &= pc_sub(&s[i].pc, s[i].subs[j]) == 0;
		seq_ok &= pc_sub(&s[i].pc, SENTINEL) == 0;
	}
	for (t = 0; t < NELEM(topics); t++)
		seq_ok &= pc_pub(&pub[t % 2], topics[t], (long long)t) > 0;
	mark++;
	seq_ok &= pc_pub(&pub[1], SENTINEL, mark) > 0;
	tap_ok(seq_ok, "-w 2: subscribers with patterns on both workers, publishers on both");
	for (i = 0; i < NELEM(s); i++) {
		n = pc_collect_acks(&s[i].pc, mark, g, NULL);
		ok = n >= 0;
		for (t = 0, j = 0; ok && t < NELEM(topics); t++) {
			int m = 0;
			size_t k;

			for (k = 0; k < NELEM(s[i].subs) && s[i].subs[k] != NULL; k++)
				m |= topic_match(s[i].subs[k], strlen(s[i].subs[k]), topics[t], strlen(topics[t]));
			ok &= got_count(g, n, topics[t], (long long)t) == m;
			j += (size_t)m;
		}
		if (!tap_ok(ok && (size_t)n == j, "-w 2: %s subscriber on worker %u holding %s%s%s%s%s gets "
		    "what they match from both workers' publishers, once", tp_name[s[i].ws], s[i].slot,
		    s[i].subs[0], s[i].subs[1] ? ", " : "", s[i].subs[1] ? s[i].subs[1] : "",
		    s[i].subs[2] ? ", " : "", s[i].subs[2] ? s[i].subs[2] : "") && n >= 0)
			got_show(g, n);
	}
	for (i = 0; i < NELEM(s); i++)
		pc_close(&s[i].pc);
	pc_close(&pub[0]);
	pc_close(&pub[1]);
}

#define MANY 300

/* many_publish - publish m.I (n = I), or p.I.x for every tenth I, then a sentinel. 0 or -1. */
static int
many_publish(struct pc *pub)
{
	char topic[32];
	int i, ok = 1;

	for (i = 0; i < MANY; i++) {
		snprintf(topic, sizeof(topic), i % 10 == 9 ? "p.%d.x" : "m.%d", i);
		ok &= pc_pub(pub, topic, i) > 0;
	}
	mark++;
	ok &= pc_pub(pub, SENTINEL, mark) > 0;
	return ok ? 0 : -1;
}

/* many_check - what many_publish sent: c must get exactly the ones held[] says, once each. */
static int
many_check(struct pc *c, const unsigned char *held)
{
	static struct got g[MANY + 1];
	char f[4096], topic[32];
	struct got one;
	int i, n = 0, ok = 1;

	while (ok) {
		if (pc_recv(c, f, sizeof(f), WAIT_MS) < 0 || got_parse(f, &one) < 0)
			return 0;
		if (strcmp(one.topic, SENTINEL) == 0 && one.n == (long long)mark)
			break;
		if (n < MANY + 1)
			g[n++] = one;
	}
	for (i = 0; ok && i < MANY; i++) {
		snprintf(topic, sizeof(topic), i % 10 == 9 ? "p.%d.x" : "m.%d", i);
		ok &= got_count(g, n, topic, i) == held[i];
	}
	return ok;
}

/* many_flip - subscribe to or unsubscribe from entry i: m.I, or the pattern p.I.* for every tenth. */
static int
many_flip(struct pc *c, int i, unsigned char *held)
{
	char topic[32];

	snprintf(topic, sizeof(topic), i % 10 == 9 ? "p.%d.*" : "m.%d", i);
	held[i] = !held[i];
	if (held[i])
		return pc_sub(c, topic);
	pc_unsub(c, topic);
	return 0;
}

/*
 * many - two connections of one worker with 300 subscriptions each
 * (indexed by topic past a few), sharing half: unsubscribing most of them
 * in a scrambled order, and again, leaves each exactly what it holds.
 */
static void
many(void)
{
	static unsigned char held[2][MANY];
	struct pc c[2] = { pc_open_on(0, 0), pc_open_on(0, 0) }, pub = pc_open_on(0, 1);
	unsigned x = 12345;
	int i, k, ok = 1;

	for (k = 0; k < 2; k++) {
		ok &= pc_sub(&c[k], SENTINEL) == 0;
		for (i = 0; i < MANY; i++)
			if (k == 0 || i % 2 == 0)
				ok &= many_flip(&c[k], i, held[k]) == 0;
	}
	for (i = 0; i < 4 * MANY; i++) {
		x = x * 1103515245u + 12345u;
		k = (int)((x >> 16) & 1);
		ok &= many_flip(&c[k], (int)((x >> 17) % MANY), held[k]) == 0;
	}
	ok &= many_publish(&pub) == 0;
	for (k = 0; k < 2; k++)
		ok &= many_check(&c[k], held[k]);
	tap_ok(ok, "-w 2: two connections with up to %d subscriptions, unsubscribed and resubscribed in a "
	    "scrambled order: each gets exactly what it holds", MANY);
	pc_close(&c[0]);
	pc_close(&c[1]);
	pc_close(&pub);
}

/* no_subs - wait until neither worker counts a subscription (closed clients are reaped). */
static int
no_subs(void)
{
	uint64_t end = tlib_ms() + WAIT_MS;

	while (tsrv_stat(&srv, 0, "subs") + tsrv_stat(&srv, 1, "subs") != 0)
		if (tlib_ms() > end)
			return 0;
		else
			tlib_sleep_ms(20);
	return 1;
}

/* publish_n - publish to topic n times from p, one at a time (each acknowledged). */
static int
publish_n(struct pc *p, const char *topic, int n)
{
	int i, ok = 1;

	for (i = 0; i < n; i++)
		ok &= pc_pub(p, topic, i) > 0;
	return ok;
}

/*
 * wake - with pattern subscribers only on worker 0: publishes to a topic
 * they do not match wake worker 0 once (until it has told the shared
 * table "no match"), and worker 1 never; a matching topic wakes worker 0
 * each time (it is the counter's control); a pattern added later that
 * matches the topic is woken for at once.
 */
static void
wake(void)
{
	struct pc sub, exact, p0, p1;
	struct got g[MAX_GOT];
	char f[4096];
	long long w0 = 0, w1 = 0;
	int n, ok, round, quiet;

	tap_ok(no_subs(), "-w 2: the previous clients are gone (no subscriptions left)");
	sub = pc_open_on(0, 0);
	exact = pc_open_on(0, 1);
	p0 = pc_open_on(0, 0);
	p1 = pc_open_on(0, 1);
	if (pc_sub(&sub, "wk.yes.*") < 0 || pc_sub(&sub, SENTINEL) < 0 || pc_sub(&exact, "wk.one") < 0 ||
	    pc_sub(&exact, SENTINEL) < 0)
		tap_bail("subscribing failed");
	/* the first publish of wk.no wakes worker 0, which tells the table its patterns do not match */
	ok = pc_pub(&p1, "wk.no", 0) > 0 && pc_pub(&p1, "wk.yes.1", 0) > 0;
	n = ok ? pc_sync(&sub, &p1, g) : -1;
	tap_ok(n == 1 && got_count(g, n, "wk.yes.1", 0) == 1, "-w 2: worker 0's pattern gets wk.yes.1 only");
	/*
	 * Worker 0 tells the table at the end of its fan-out, which may come
	 * just after the sentinel reached sub: a round of publishes right then
	 * can wake it once more. No round should, after that.
	 */
	for (round = 0, quiet = 0; round < 3 && !quiet; round++) {
		w0 = counter(0, "wakeups");
		w1 = counter(1, "wakeups");
		ok = publish_n(&p1, "wk.no", 50) && publish_n(&p0, "wk.no", 50);
		tap_diag("  round %d: wakeups of worker 0 %lld -> %lld, of worker 1 %lld -> %lld", round,
		    w0, counter(0, "wakeups"), w1, counter(1, "wakeups"));
		quiet = ok && counter(0, "wakeups") == w0;
	}
	tap_ok(quiet, "-w 2: 50 publishes to wk.no on worker 1 do not wake worker 0");
	tap_ok(counter(1, "wakeups") == w1, "-w 2: 50 publishes to wk.no on worker 0 do not wake worker 1, "
	    "which holds no pattern");
	ok = publish_n(&p1, "wk.yes.2", 5);
	n = ok ? pc_sync(&sub, &p1, g) : -1;
	tap_ok(n == 5 && counter(0, "wakeups") > w0, "-w 2: publishes to wk.yes.2 on worker 1 wake worker 0 "
	    "(wakeups %lld -> %lld) and are delivered", w0, counter(0, "wakeups"));
	ok = publish_n(&p0, "wk.one", 3);
	n = ok ? pc_sync(&exact, &p0, g) : -1;
	tap_ok(got_count(g, n, "wk.one", -1) == 3 && counter(1, "wakeups") > w1,
	    "-w 2: an exact subscriber on worker 1 is woken for (wakeups %lld -> %lld)", w1, counter(1, "wakeups"));
	/* what the last sentinel brought sub too goes first */
	if (pc_sync(&sub, &p1, g) < 0 || pc_sub(&sub, "wk.*") < 0)
		tap_bail("subscribing to wk.* failed");
	/* no sentinel here: its exact subscriber would wake worker 0 whatever the mask said */
	w0 = counter(0, "wakeups");
	ok = pc_pub(&p1, "wk.no", 7) > 0 && pc_recv(&sub, f, sizeof(f), WAIT_MS) >= 0 &&
	    got_parse(f, g) == 0 && strcmp(g[0].topic, "wk.no") == 0 && g[0].n == 7;
	tap_ok(ok && counter(0, "wakeups") > w0, "-w 2: after worker 0 adds wk.*, a publish to wk.no on worker 1 "
	    "wakes it (wakeups %lld -> %lld) and reaches it", w0, counter(0, "wakeups"));
	pc_close(&sub);
	pc_close(&exact);
	pc_close(&p0);
	pc_close(&p1);
}

int
main(void)
{
	static const char *const one[] = { "-w", "1", "-o", "max_subs=6", NULL };
	static const char *const two[] = { "-w", "2", NULL };

	alarm(300);
	tap_plan(2 * (int)(PART4_NROWS + 4 + 7 + 1 + 7 + 1 + 5 + 3) + 1 + 1 + 1 + 5 + 1 + 7);
	if (tsrv_start_http(&srv, one) < 0)
		tap_bail("cannot start janusd");
	transport(0);
	transport(1);
	plain();
	behind();
	tap_ok(tsrv_log_alerts(&srv, NULL) == 0, "-w 1: no warning or error in the log");
	tsrv_stop(&srv, 0);
	if (tsrv_start_http(&srv, two) < 0)
		tap_bail("cannot start janusd -w 2");
	workers();
	many();
	wake();
	tsrv_stop(&srv, 0);
	return tap_done();
}
