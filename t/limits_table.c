/*
 * t/limits_table.c - one address cannot fill the topic table, and
 * publishers cannot lock subscribers out of it (issue 10, finding 2),
 * end to end with two workers, max_topics 200 and max_topics_per_ip 50.
 *   Publishing to 500 new topics: all are taken (they evict each other),
 *     and a subscriber still subscribes to a new topic and gets its
 *     message.
 *   127.0.0.2, with connections on both workers, subscribes to 120 new
 *     topics: exactly 50 get ACK (the quota is per address, shared by the
 *     workers), the rest limit, each counted as quota; it may still
 *     subscribe to a topic others already hold. 127.0.0.3 still
 *     subscribes to 50 new topics and publishes to a new one.
 *   When subscriptions hold every topic of the table, a new topic gets
 *     limit, for subscribing and for publishing, counted as table_full,
 *     while topics that exist still work.
 *   Each refusal kind is logged at notice, naming the address, at most
 *     once per worker for all of an address's refusals of that kind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS  5000
#define NPUB     500

static struct tsrv s;

/* publish_new - NPUB publishes with ack, each to a topic of its own, in one write; how many were taken. */
static unsigned
publish_new(struct tc *p)
{
	static char req[NPUB * 96];
	size_t len = 0;
	char f[512];
	unsigned i, ok = 0;

	for (i = 0; i < NPUB; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"action\":\"publish\",\"topic\":\"pub.%u\",\"data\":%u,\"ack\":true}%c", i, i, '\0');
	if (tc_send(p, req, len) < 0)
		return 0;
	for (i = 0; i < NPUB; i++) {
		if (tc_frame(p, f, sizeof(f), WAIT_MS) < 0)
			break;
		if (strncmp(f, "{\"published\":{\"seq\":", 20) == 0)
			ok++;
		else if (i - ok < 3)
			tap_diag("  publish to pub.%u: '%s'", i, f);
	}
	return ok;
}

/* publish_one - a publish with ack of data to topic on p; the reply into f (or a note). */
static void
publish_one(struct tc *p, const char *topic, const char *data, char *f, size_t cap)
{
	char req[256];

	snprintf(req, sizeof(req), "{\"action\":\"publish\",\"topic\":\"%s\",\"data\":\"%s\",\"ack\":true}",
	    topic, data);
	tc_sendz(p, req);
	if (tc_frame(p, f, cap, WAIT_MS) < 0)
		snprintf(f, cap, "(nothing)");
}

/* got - whether the next frame on c is the message {topic, data}. */
static int
got(struct tc *c, const char *topic, const char *data)
{
	char f[512], want[512];

	snprintf(want, sizeof(want), "{\"topic\":\"%s\",\"data\":\"%s\"}", topic, data);
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0 || tc_strip_ts(f) < 0 || strcmp(f, want) != 0) {
		tap_diag("  got '%s', expected '%s'", f, want);
		return 0;
	}
	return 1;
}

/* subscribe_from - a connection from src subscribes to PREFIX0..n-1; ACKs and limits. */
static struct tc *
subscribe_from(const char *src, const char *prefix, unsigned n, unsigned *acks, unsigned *limits)
{
	struct tc *c = tc_open_from(s.port, src);

	if (c == NULL || tc_greeting(c) < 0 || tc_subscribe_each(c, prefix, 0, n, acks, limits) < 0)
		tap_bail("subscribing from %s failed", src);
	return c;
}

/* logged - lines of worker slot's log at notice for refusals of this kind from src. */
static unsigned
logged(unsigned slot, const char *what, const char *src)
{
	char worker[32], reason[64], addr[32];

	snprintf(worker, sizeof(worker), "worker %u: notice: ", slot);
	snprintf(reason, sizeof(reason), "refused (%s)", what);
	snprintf(addr, sizeof(addr), "client %s:", src);
	return tsrv_log_count(&s, (const char *const[]){ worker, reason, addr, NULL });
}

/* logged_once - TAP: at least one line, and at most one per worker. */
static void
logged_once(const char *what, const char *src)
{
	unsigned w0 = logged(0, what, src), w1 = logged(1, what, src);

	tap_ok(w0 + w1 >= 1 && w0 <= 1 && w1 <= 1,
	    "'%s' refusals of %s logged at notice at most once per worker (%u, %u lines)", what, src, w0, w1);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", "-o", "max_topics=200", "-o", "max_topics_per_ip=50", NULL };
	struct tc *p, *sub, *q[4], *c3, *c4, *c5, *c6;
	unsigned i, acks, limits, a, l;
	char f[512], buf[16384];

	tap_plan(20);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");

	p = tc_open_greeted(s.port);
	tap_is_int(publish_new(p), NPUB, "500 publishes to new topics with max_topics 200 are all taken");
	tsrv_stats(&s, buf, sizeof(buf));
	tap_ok(tc_num_after(buf, "\"evictions\":") >= NPUB - 200, "... evicting each other (%lld evictions)",
	    tc_num_after(buf, "\"evictions\":"));
	sub = tc_open_greeted(s.port);
	tap_ok(tc_subscribe(sub, "held") == 0, "a subscriber still subscribes to a new topic");
	publish_one(p, "held", "1", f, sizeof(f));
	tap_ok(got(sub, "held", "1"), "... and gets what is published to it");

	tap_ok(tc_open_spread(&s, "127.0.0.2", 4, q) == 0, "127.0.0.2 has connections on both workers");
	acks = limits = 0;
	for (i = 0; i < 4; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "q%u.", i);
		if (tc_subscribe_each(q[i], prefix, 0, 30, &a, &l) < 0)
			tap_bail("subscribing from 127.0.0.2 failed");
		acks += a;
		limits += l;
	}
	tap_is_int(acks, 50, "of 120 new topics 127.0.0.2 subscribes to, 50 get ACK (max_topics_per_ip)");
	tap_is_int(limits, 70, "... and 70 get limit");
	tap_is_int(tsrv_total(&s, "quota"), 70, "each is counted as quota");
	tap_ok(tc_subscribe(q[3], "held") == 0 && tc_subscribe(q[0], "q0.0") == 0,
	    "127.0.0.2 may still subscribe to a topic others hold, and again to its own");
	tc_subscribe_each(q[3], "q3.", 0, 1, &a, &l);
	tap_ok(a == 0 && l == 1, "... but not to another new one");

	c3 = subscribe_from("127.0.0.3", "t3.", 50, &acks, &limits);
	tap_ok(acks == 50 && limits == 0, "127.0.0.3 still subscribes to 50 new topics (%u ACK, %u limit)", acks,
	    limits);
	publish_one(c3, "t3.new", "x", f, sizeof(f));
	tap_ok(strncmp(f, "{\"published\":{\"seq\":", 20) == 0, "... and publishes to a new one ('%s')", f);

	/* 1 + 50 + 50 topics held: two more addresses' 50 each are more than the table's 200 */
	c4 = subscribe_from("127.0.0.4", "t4.", 50, &acks, &limits);
	c5 = subscribe_from("127.0.0.5", "t5.", 50, &a, &l);
	tap_ok(acks + a == 99 && limits == 0 && l == 1,
	    "when subscriptions hold all 200 topics, the next new one gets limit (%u+%u ACK, %u+%u limit)",
	    acks, a, limits, l);
	c6 = subscribe_from("127.0.0.6", "t6.", 3, &a, &l);
	tap_ok(a == 0 && l == 3, "... from any address (%u ACK, %u limit)", a, l);
	publish_one(p, "brand.new", "x", f, sizeof(f));
	tap_ok(tc_is_error(f, "limit"), "... and publishing to a new topic gets limit ('%s')", f);
	tap_is_int(tsrv_total(&s, "table_full"), 1 + 3 + 1, "each is counted as table_full");
	publish_one(c6, "held", "2", f, sizeof(f));
	tap_ok(got(sub, "held", "2"), "topics that exist still work");
	tap_ok(tc_subscribe(c6, "t5.3") == 0, "... for subscribing too");

	logged_once("topic quota per address", "127.0.0.2");
	logged_once("topic table full", "127.0.0.6");
	for (i = 0; i < 4; i++)
		tc_close(q[i]);
	tc_close(p);
	tc_close(sub);
	tc_close(c3);
	tc_close(c4);
	tc_close(c5);
	tc_close(c6);
	tsrv_stop(&s, 0);
	return tap_done();
}
