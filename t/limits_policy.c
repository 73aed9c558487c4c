/*
 * t/limits_policy.c - who may publish and subscribe, and per-connection
 * and per-worker limits, end to end.
 *   publish_allow none, publish_key: Part 1 PUBLISH refused (not_allowed,
 *     closed, nothing delivered); the publish action refused (connection
 *     kept); a wrong key refused and its connection closed, the address
 *     then waiting a doubling time before a key is read again; the right
 *     key gives {"auth":"ok"} and
 *     then both ways of publishing work, on that connection only.
 *   publish_allow of another network: loopback refused.
 *   subscribe_allow none: subscribe refused with not_allowed.
 *   max_subs 2: a third subscription gets limit; re-subscribing and
 *     subscribing after an unsubscribe do not count.
 *   max_conns 5 with one worker: the 6th connection gets limit and is
 *     closed; once one leaves, a new one is taken.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000

/* next - the next frame into f, or a note of why there is none. */
static long
next(struct tc *c, char *f, size_t cap, int ms)
{
	long n = tc_frame(c, f, cap, ms);

	if (n < 0)
		snprintf(f, cap, "(%s)", n == -1 ? "nothing" : "connection closed");
	return n;
}

static int
expect_error(struct tc *c, const char *code, const char *name)
{
	char f[1024];

	next(c, f, sizeof(f), WAIT_MS);
	if (!tc_is_error(f, code))
		tap_diag("  got: '%s'\n  expected: {\"error\":\"%s\",\"message\":\"...\"}", f, code);
	return tap_ok(tc_is_error(f, code), "%s", name);
}

static int
expect_frame(struct tc *c, const char *want, const char *name)
{
	char f[1024];

	next(c, f, sizeof(f), WAIT_MS);
	return tap_is_str(f, want, "%s", name);
}

static int
expect_msg(struct tc *c, const char *want, const char *name)
{
	char f[1024];

	if (next(c, f, sizeof(f), WAIT_MS) >= 0)
		tc_strip_ts(f);
	return tap_is_str(f, want, "%s", name);
}

/* part1_publish - PUBLISH and obj (with \0) on c, which has been greeted. */
static void
part1_publish(struct tc *c, const char *obj)
{
	tc_send(c, "<regular-socket/>\0PUBLISH\0", 26);
	tc_sendz(c, obj);
}

/*
 * wrong_keys - each wrong key closes its connection, and its address
 * waits 100 ms, then 200, 400, 800 before a key is read again: one
 * sent sooner is refused unread. After the wait the right key works.
 */
static void
wrong_keys(const struct tsrv *s)
{
	static const char *const keys[] = { "wrong", "s3cr", "s3cr\\\"tt", "" };
	static const char *const what[] = { "a wrong key", "a prefix of the key", "the key and more",
	    "an empty key" };
	char frame[256];
	struct tc *p;
	unsigned i;

	for (i = 0; i < 4; i++) {
		p = tc_open_greeted(s->port);
		snprintf(frame, sizeof(frame), "{\"action\":\"auth\",\"key\":\"%s\"}", keys[i]);
		tc_sendz(p, frame);
		snprintf(frame, sizeof(frame), "auth with %s: not_allowed", what[i]);
		expect_error(p, "not_allowed", frame);
		tap_ok(tc_eof(p, WAIT_MS), "... and the connection is closed");
		tc_close(p);
		p = tc_open_greeted(s->port);
		tc_sendz(p, "{\"action\":\"auth\",\"key\":\"s3cr\\\"t\"}");
		tap_ok(tc_frame(p, frame, sizeof(frame), WAIT_MS) > 0 && tc_is_error(frame, "not_allowed") &&
		    strstr(frame, "try again in") != NULL && tc_eof(p, WAIT_MS),
		    "right after it even the right key is refused unread: '%s'", frame);
		tc_close(p);
		tlib_sleep_ms((100 << i) + 50);
	}
}

static void
test_publish_policy(void)
{
	static const char *const args[] = { "-w", "2", "-o", "publish_allow=none", "-o", "publish_key=s3cr\"t", NULL };
	static const char m1[] = "{\"topic\":\"pol\",\"event\":\"e\",\"message_id\":\"1\",\"data\":\"refused\"}";
	static const char m2[] = "{\"topic\":\"pol\",\"event\":\"e\",\"message_id\":\"2\",\"data\":\"action refused\"}";
	static const char m3[] = "{\"topic\":\"pol\",\"event\":\"e\",\"message_id\":\"3\",\"data\":\"authed action\"}";
	static const char m4[] = "{\"topic\":\"pol\",\"event\":\"e\",\"message_id\":\"4\",\"data\":\"authed PUBLISH\"}";
	static const char m5[] = "{\"topic\":\"pol\",\"event\":\"e\",\"message_id\":\"5\",\"data\":\"other conn\"}";
	struct tsrv s;
	struct tc *sub, *p, *q;
	char obj[256];

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	sub = tc_open_greeted(s.port);
	tap_ok(tc_subscribe(sub, "pol") == 0, "publish_allow none: subscribing is still allowed");

	p = tc_open_greeted(s.port);
	part1_publish(p, m1);
	expect_error(p, "not_allowed", "publish_allow none: Part 1 PUBLISH gets not_allowed");
	tap_ok(tc_eof(p, WAIT_MS), "... and is closed");
	tc_close(p);

	p = tc_open_greeted(s.port);
	snprintf(obj, sizeof(obj), "{\"action\":\"publish\",%s", m2 + 1);
	tc_sendz(p, obj);
	expect_error(p, "not_allowed", "publish_allow none: the publish action gets not_allowed");
	tap_ok(tc_subscribe(p, "pol-x") == 0, "... and the connection stays open");
	tc_quiet(sub, 500, "nothing refused was delivered");

	tc_sendz(p, obj);
	expect_error(p, "not_allowed", "without the key publishing is still refused");
	tc_close(p);
	wrong_keys(&s);
	p = tc_open_greeted(s.port);
	tc_sendz(p, "{\"action\":\"auth\",\"key\":\"s3cr\\u0022t\"}");
	expect_frame(p, "{\"auth\":\"ok\"}", "auth with the right key (escaped in JSON): {\"auth\":\"ok\"}");
	snprintf(obj, sizeof(obj), "{\"action\":\"publish\",%s", m3 + 1);
	tc_sendz(p, obj);
	expect_msg(sub, m3, "after auth the publish action publishes");
	part1_publish(p, m4);
	expect_msg(sub, m4, "after auth Part 1 PUBLISH publishes ...");
	tap_ok(tc_eof(p, WAIT_MS), "... and closes, as Part 1 does");
	tc_close(p);

	q = tc_open_greeted(s.port);
	snprintf(obj, sizeof(obj), "{\"action\":\"publish\",%s", m5 + 1);
	tc_sendz(q, obj);
	expect_error(q, "not_allowed", "auth is per connection: another one is still refused");
	tc_sendz(q, "{\"action\":\"auth\",\"key\":\"s3cr\\\"t\"}");
	expect_frame(q, "{\"auth\":\"ok\"}", "it can authenticate too");
	tc_sendz(q, obj);
	expect_msg(sub, m5, "and then publish");
	tc_quiet(sub, 300, "nothing else reached the subscriber");
	tc_close(q);
	tc_close(sub);
	tsrv_stop(&s, 0);
}

static void
test_subscribe_policy_and_conns(void)
{
	static const char *const args[] = { "-w", "1", "-o", "subscribe_allow=none", "-o", "max_conns=5",
	    "-o", "publish_allow=10.0.0.0/8 ::1", NULL };
	struct tsrv s;
	struct tc *c[6], *late;
	char f[1024];
	uint64_t end;
	int i;
	long n;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	c[0] = tc_open_greeted(s.port);
	tc_sendz(c[0], "{\"action\":\"subscribe\",\"data\":\"t\"}");
	expect_error(c[0], "not_allowed", "subscribe_allow none: subscribe gets not_allowed");
	tc_sendz(c[0], "{\"action\":\"subscribe\",\"data\":\"t\",\"since\":0}");
	expect_error(c[0], "not_allowed", "subscribe_allow none: a resume gets not_allowed too");
	tc_sendz(c[0], "{\"action\":\"publish\",\"topic\":\"t\"}");
	expect_error(c[0], "not_allowed", "publish_allow of other networks: loopback's publish action refused");
	tc_close(c[0]);
	c[0] = tc_open_greeted(s.port);
	part1_publish(c[0], "{\"topic\":\"t\",\"data\":1}");
	expect_error(c[0], "not_allowed", "publish_allow of other networks: loopback's PUBLISH refused");
	tc_close(c[0]);

	/* max_conns 5: wait until the connections above are gone */
	end = tlib_ms() + WAIT_MS;
	while (tsrv_stat(&s, 0, "conns") != 0 && tlib_ms() < end)
		tlib_sleep_ms(20);
	for (i = 0; i < 5; i++)
		c[i] = tc_open_greeted(s.port);
	c[5] = tc_open(s.port);
	n = c[5] != NULL ? next(c[5], f, sizeof(f), WAIT_MS) : -2;
	tap_ok(n > 0 && tc_is_error(f, "limit"), "max_conns 5: the 6th connection gets limit instead of a greeting (got '%s')", f);
	tap_ok(c[5] != NULL && tc_eof(c[5], WAIT_MS), "... and is closed");
	tap_is_int(tsrv_stat(&s, 0, "refused"), 1, "the worker counts it as refused");
	tap_is_int(tsrv_stat(&s, 0, "conns"), 5, "five connections are open");
	tc_close(c[5]);
	tc_close(c[0]);
	end = tlib_ms() + WAIT_MS;
	while (tsrv_stat(&s, 0, "conns") != 4 && tlib_ms() < end)
		tlib_sleep_ms(20);
	late = tc_open(s.port);
	tap_ok(late != NULL && tc_greeting(late) == 0, "once one left, a new connection is greeted");
	tc_sendz(c[1], "PING");
	tap_ok(tc_frame(c[1], f, sizeof(f), 200) == -1 && !tc_eof(c[1], 100), "the five were not disturbed");
	for (i = 1; i < 5; i++)
		tc_close(c[i]);
	tc_close(late);
	tsrv_stop(&s, 0);
}

static void
test_max_subs(void)
{
	static const char *const args[] = { "-w", "2", "-o", "max_subs=2", NULL };
	struct tsrv s;
	struct tc *c, *pub;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	c = tc_open_greeted(s.port);
	tap_ok(tc_subscribe(c, "a") == 0 && tc_subscribe(c, "b") == 0, "max_subs 2: two subscriptions");
	tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"c\"}");
	expect_error(c, "limit", "max_subs 2: a third gets limit");
	tap_ok(tc_subscribe(c, "a") == 0, "subscribing again to one it has is no new subscription: ACK");
	tc_sendz(c, "{\"action\":\"unsubscribe\",\"data\":\"a\"}");
	tap_ok(tc_subscribe(c, "c") == 0, "after an unsubscribe there is room again: ACK");
	tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"d\"}");
	expect_error(c, "limit", "and then the limit holds again");
	/* one publisher, so the four are in this order */
	pub = tc_open_greeted(s.port);
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"a\",\"data\":\"a\"}");
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"d\",\"data\":\"d\"}");
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"c\",\"data\":\"c\"}");
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"b\",\"data\":\"b\"}");
	expect_msg(c, "{\"topic\":\"c\",\"data\":\"c\"}", "the subscription made after the unsubscribe delivers");
	expect_msg(c, "{\"topic\":\"b\",\"data\":\"b\"}", "the old one still delivers");
	tc_quiet(c, 300, "nothing from the unsubscribed or refused topics");
	tc_close(c);
	tc_close(pub);
	tsrv_stop(&s, 0);
}

int
main(void)
{
	tap_plan(27 + 10 + 8);
	test_publish_policy();
	test_subscribe_policy_and_conns();
	test_max_subs();
	return tap_done();
}
