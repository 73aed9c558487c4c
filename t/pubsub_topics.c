/*
 * t/pubsub_topics.c - Part 1 topics end to end against janusd -w 2: each
 * topic reaches only its subscribers, subscribing twice is once,
 * unsubscribe takes effect at once, and the original bots' ways of
 * publishing (no trailing \0, closing at once, a reset instead of a
 * close) still publish. Frames split over many writes and many frames in
 * one write, keys in any order, unknown keys, escaped topic names.
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS  5000   /* for what should take milliseconds */
#define QUIET_MS 1000   /* how long "nothing arrives" is watched */

static struct tsrv srv;

/* sub_open - a greeted connection subscribed to topic; NULL on failure. */
static struct tc *
sub_open(const char *topic)
{
	struct tc *c = tc_open(srv.port);

	if (c == NULL || tc_greeting(c) < 0 || (topic != NULL && tc_subscribe(c, topic) < 0)) {
		tap_diag("could not open a subscriber of '%s'", topic ? topic : "");
		tc_close(c);
		return NULL;
	}
	return c;
}

/* next_msg - the next frame on c, timestamp removed; or a note of why there is none. */
static long
next_msg(struct tc *c, char *f, size_t cap, int ms)
{
	long n;

	if (c == NULL) {
		f[0] = '\0';
		return -2;
	}
	n = tc_frame(c, f, cap, ms);
	if (n < 0)
		snprintf(f, cap, "(%s)", n == -1 ? "nothing within the wait" : "connection closed");
	else if (tc_strip_ts(f) < 0)
		tap_diag("frame without a leading timestamp: '%s'", f);
	return n;
}

/* expect_msg - the next frame on c is the message obj. */
static int
expect_msg(struct tc *c, const char *obj, const char *name)
{
	char f[4096];

	next_msg(c, f, sizeof(f), WAIT_MS);
	return tap_is_str(f, obj, "%s", name);
}

/* publish - the original way (PUBLISH, object, close); reports failure. */
static void
publish(const char *obj)
{
	if (tc_publish1(srv.port, obj) < 0)
		tap_diag("publishing %s failed", obj);
}

static void
test_isolation(void)
{
	static const char a[] = "{\"topic\":\"news\",\"event\":\"e\",\"message_id\":\"1\",\"data\":\"for news\"}";
	static const char b[] = "{\"topic\":\"news2\",\"event\":\"e\",\"message_id\":\"2\",\"data\":\"for news2\"}";
	static const char cc[] = "{\"topic\":\"News\",\"event\":\"e\",\"message_id\":\"3\",\"data\":\"for News\"}";
	struct tc *sa = sub_open("news"), *sb = sub_open("news2"), *sab = sub_open("news");

	if (sab != NULL && tc_subscribe(sab, "news2") < 0)
		tap_diag("second subscription of sab failed");
	publish(a);
	publish(b);
	publish(cc);
	expect_msg(sa, a, "subscriber of news gets news");
	tc_quiet(sa, QUIET_MS, "subscriber of news gets nothing of news2 or News");
	expect_msg(sb, b, "subscriber of news2 gets news2");
	tc_quiet(sb, 200, "subscriber of news2 gets nothing of news or News");
	/* two publishers, no order between them: either may come first */
	{
		char f1[4096], f2[4096];

		next_msg(sab, f1, sizeof(f1), WAIT_MS);
		next_msg(sab, f2, sizeof(f2), WAIT_MS);
		tap_ok((strcmp(f1, a) == 0 && strcmp(f2, b) == 0) || (strcmp(f1, b) == 0 && strcmp(f2, a) == 0),
		    "subscriber of both gets news and news2");
		if (!((strcmp(f1, a) == 0 && strcmp(f2, b) == 0) || (strcmp(f1, b) == 0 && strcmp(f2, a) == 0)))
			tap_diag("  got '%s' and '%s'", f1, f2);
	}
	tc_quiet(sab, 200, "subscriber of both gets nothing else");
	tc_close(sa);
	tc_close(sb);
	tc_close(sab);
}

static void
test_twice(void)
{
	static const char m1[] = "{\"topic\":\"twice\",\"event\":\"e\",\"message_id\":\"1\",\"data\":1}";
	static const char m2[] = "{\"topic\":\"twice\",\"event\":\"e\",\"message_id\":\"2\",\"data\":2}";
	struct tc *c = sub_open("twice");

	tap_ok(c != NULL && tc_subscribe(c, "twice") == 0, "subscribing twice gets a second ACK");
	publish(m1);
	expect_msg(c, m1, "subscribed twice: the message arrives");
	tc_quiet(c, QUIET_MS, "subscribed twice: it arrives once");
	/* one unsubscribe undoes both: subscribing twice was the same as once */
	if (c != NULL)
		tc_sendz(c, "{\"action\":\"unsubscribe\",\"data\":\"twice\"}");
	tap_ok(c != NULL && tc_subscribe(c, "sync-twice") == 0, "ACK after the unsubscribe");
	publish(m2);
	tc_quiet(c, QUIET_MS, "after one unsubscribe nothing arrives");
	tc_close(c);
}

static void
test_unsubscribe(void)
{
	static const char m1[] = "{\"topic\":\"unsub\",\"event\":\"e\",\"message_id\":\"1\",\"data\":\"before\"}";
	static const char m2[] = "{\"topic\":\"unsub\",\"event\":\"e\",\"message_id\":\"2\",\"data\":\"after\"}";
	static const char m3[] = "{\"topic\":\"unsub-other\",\"event\":\"e\",\"message_id\":\"3\",\"data\":\"other\"}";
	static const char m4[] = "{\"topic\":\"unsub\",\"event\":\"e\",\"message_id\":\"4\",\"data\":\"again\"}";
	struct tc *c = sub_open("unsub"), *other = sub_open("unsub");

	publish(m1);
	expect_msg(c, m1, "subscribed: message arrives");
	expect_msg(other, m1, "second subscriber: message arrives");
	/*
	 * The ACK of a subscribe sent right after the unsubscribe proves the
	 * unsubscribe was acted on before the next publish.
	 */
	if (c != NULL)
		tc_sendz(c, "{\"action\":\"unsubscribe\",\"data\":\"unsub\"}");
	tap_ok(c != NULL && tc_subscribe(c, "unsub-other") == 0, "unsubscribe: no reply, next subscribe gets ACK");
	publish(m2);
	publish(m3);
	expect_msg(c, m3, "after unsubscribe: the other topic arrives, and nothing of the old one before it");
	tc_quiet(c, QUIET_MS, "after unsubscribe: nothing of the old topic arrives");
	expect_msg(other, m2, "the other subscriber of the topic still gets it");
	tap_ok(c != NULL && tc_subscribe(c, "unsub") == 0, "subscribing again gets ACK");
	publish(m4);
	expect_msg(c, m4, "subscribed again: message arrives");
	tc_quiet(c, 300, "subscribed again: once");
	expect_msg(other, m4, "other subscriber: message arrives");
	if (c != NULL)
		tc_sendz(c, "{\"action\":\"unsubscribe\",\"data\":\"never-subscribed\"}");
	tap_ok(c != NULL && tc_subscribe(c, "unsub-x") == 0, "unsubscribing a topic never subscribed: ignored, connection works");
	tc_close(c);
	tc_close(other);
}

/* pub_conn - a publisher connection; greeted says whether to read the greeting. */
static struct tc *
pub_conn(int greeted)
{
	struct tc *p = tc_open(srv.port);
	struct pollfd pfd;

	if (p == NULL)
		return NULL;
	if (greeted) {
		if (tc_greeting(p) < 0)
			tap_diag("publisher: no greeting");
		return p;
	}
	/* let the greeting arrive unread, so close() must reset the connection */
	pfd.fd = p->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, WAIT_MS) != 1)
		tap_diag("publisher: the greeting did not arrive");
	return p;
}

/* close_reset - close with SO_LINGER {1,0}: the kernel sends RST, not FIN. */
static void
close_reset(struct tc *p)
{
	struct linger lg = { 1, 0 };

	if (p == NULL)
		return;
	if (setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		tap_diag("setsockopt(SO_LINGER) failed");
	tc_close(p);
}

static void
test_end_of_stream(void)
{
	static const char m1[] = "{\"topic\":\"eos\",\"event\":\"e\",\"message_id\":\"fin\",\"data\":\"no zero, FIN\"}";
	static const char m2[] = "{\"topic\":\"eos\",\"event\":\"e\",\"message_id\":\"rst\",\"data\":\"no zero, RST\"}";
	static const char m3[] = "{\"topic\":\"eos\",\"event\":\"e\",\"message_id\":\"bot\",\"data\":\"unread greeting\"}";
	static const char m4[] = "{\"topic\":\"eos\",\"event\":\"e\",\"message_id\":\"bot0\",\"data\":\"unread greeting, zero\"}";
	static const char m5[] = "{\"topic\":\"eos\",\"event\":\"e\",\"message_id\":\"rst0\",\"data\":\"zero, RST\"}";
	struct tc *sub = sub_open("eos"), *p;
	char buf[1024];

	/* FIN: the greeting read, the object without \0, then shutdown(SHUT_WR) */
	p = pub_conn(1);
	if (p != NULL) {
		tc_sends(p, "<regular-socket/>");
		tc_send(p, "\0PUBLISH\0", 9);
		tc_sends(p, m1);
		shutdown(p->fd, SHUT_WR);
	}
	expect_msg(sub, m1, "PUBLISH without a trailing \\0, then end of stream: delivered");
	tap_ok(p != NULL && tc_eof(p, WAIT_MS), "the Part 1 publisher is closed by the server");
	tc_close(p);

	/* RST by SO_LINGER 0 right after sending, no trailing \0 */
	p = pub_conn(1);
	if (p != NULL) {
		snprintf(buf, sizeof(buf), "<regular-socket/>%cPUBLISH%c%s", 0, 0, m2);
		tc_send(p, buf, strlen(m2) + 26);
	}
	close_reset(p);
	expect_msg(sub, m2, "PUBLISH without \\0 followed by a reset: delivered");

	/* the original bots: greeting never read, close at once (unread data: RST) */
	p = pub_conn(0);
	if (p != NULL) {
		snprintf(buf, sizeof(buf), "<regular-socket/>%cPUBLISH%c%s", 0, 0, m3);
		tc_send(p, buf, strlen(m3) + 26);
	}
	tc_close(p);
	expect_msg(sub, m3, "bot way (greeting unread, no \\0, close causes RST): delivered");

	p = pub_conn(0);
	if (p != NULL) {
		snprintf(buf, sizeof(buf), "<regular-socket/>%cPUBLISH%c%s", 0, 0, m4);
		tc_send(p, buf, strlen(m4) + 27);
	}
	tc_close(p);
	expect_msg(sub, m4, "bot way with a trailing \\0 and RST: delivered");

	p = pub_conn(1);
	if (p != NULL) {
		snprintf(buf, sizeof(buf), "PUBLISH%c%s", 0, m5);
		tc_send(p, buf, strlen(m5) + 9);
	}
	close_reset(p);
	expect_msg(sub, m5, "PUBLISH with \\0 (no marker) followed by a reset: delivered");
	tc_quiet(sub, QUIET_MS, "each delivered once");
	tc_close(sub);
}

/* send_bytewise - one byte per write, with a short pause between. */
static int
send_bytewise(struct tc *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tc_send(c, p + i, 1) < 0)
			return -1;
		tlib_sleep_ms(1);
	}
	return 0;
}

static void
test_split_and_joined(void)
{
	static const char sub_frames[] = "<regular-socket/>\0{\"action\":\"subscribe\",\"data\":\"split\"}";
	static const char m1[] = "{\"topic\":\"split\",\"event\":\"e\",\"message_id\":\"1\",\"data\":{\"a\":[1,2,3]}}";
	char f[4096], buf[8192];
	struct tc *c = tc_open(srv.port), *p, *many;
	size_t n;
	int i, acks = 0, ok = 1;

	tap_ok(c != NULL && tc_greeting(c) == 0, "greeting (bytewise client)");
	if (c != NULL)
		send_bytewise(c, sub_frames, sizeof(sub_frames));
	tap_ok(c != NULL && tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0,
	    "subscribe sent one byte per write: ACK");
	p = tc_open(srv.port);
	if (p != NULL) {
		n = (size_t)snprintf(buf, sizeof(buf), "<regular-socket/>%cPUBLISH%c%s", 0, 0, m1) + 1;
		send_bytewise(p, buf, n);
	}
	expect_msg(c, m1, "PUBLISH and object sent one byte per write: delivered");
	tap_ok(p != NULL && tc_eof(p, WAIT_MS), "bytewise publisher closed after its publish");
	tc_close(p);

	/* 50 subscribes in one write: 50 ACKs; 50 publishes in one write: 50 messages */
	many = sub_open(NULL);
	n = 0;
	for (i = 0; i < 50; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "<regular-socket/>%c{\"action\":\"subscribe\",\"data\":\"many%d\"}%c", 0, i, 0);
	if (many != NULL)
		tc_send(many, buf, n);
	for (i = 0; i < 50 && many != NULL; i++)
		acks += tc_frame(many, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0;
	tap_is_int(acks, 50, "50 subscribe frames in one write: 50 ACKs");
	p = sub_open(NULL);
	n = 0;
	for (i = 0; i < 50; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "{\"action\":\"publish\",\"topic\":\"many%d\",\"event\":\"e\",\"message_id\":\"%d\",\"data\":%d}%c",
		    i, i, i, 0);
	if (p != NULL)
		tc_send(p, buf, n);
	for (i = 0; i < 50 && ok; i++) {
		char want[256];

		snprintf(want, sizeof(want), "{\"topic\":\"many%d\",\"event\":\"e\",\"message_id\":\"%d\",\"data\":%d}", i, i, i);
		next_msg(many, f, sizeof(f), WAIT_MS);
		if (strcmp(f, want) != 0) {
			tap_diag("  message %d: got '%s', expected '%s'", i, f, want);
			ok = 0;
		}
	}
	tap_ok(ok, "50 publish frames in one write: 50 messages, in order");
	tc_quiet(p, 200, "the publish action alone gets no reply");
	tc_close(p);
	tc_close(many);
	tc_close(c);
}

static void
test_keys(void)
{
	static const char obj[] = "{\"event\":\"first\",\"data\":{\"z\":1,\"a\":[true,null]},\"topic\":\"keys\",\"x-extra\":\"kept\",\"message_id\":\"m\"}";
	char f[4096];
	struct tc *c = sub_open(NULL);
	long n = -1;

	if (c != NULL)
		tc_sendz(c, "{\"data\":\"keys\",\"action\":\"subscribe\"}");
	tap_ok(c != NULL && tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0,
	    "data before action: ACK");
	if (c != NULL)
		tc_sendz(c, "{\"unknown\":[1,{\"deep\":{}}],\"action\":\"subscribe\",\"more\":null,\"data\":\"keys2\",\"n\":-1.5e3}");
	tap_ok(c != NULL && tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0,
	    "unknown keys of any type are ignored: ACK");
	publish(obj);
	expect_msg(c, obj, "topic not first, unknown member: delivered with members in the publisher's order");
	publish("{\"topic\":\"keys2\",\"event\":\"e\",\"message_id\":\"\",\"data\":\"two\"}");
	expect_msg(c, "{\"topic\":\"keys2\",\"event\":\"e\",\"message_id\":\"\",\"data\":\"two\"}",
	    "the subscription made with unknown keys works");
	if (c != NULL)
		n = tc_frame(c, f, sizeof(f), 200);
	tap_ok(n == -1, "nothing else");
	tc_close(c);
}

static void
test_escapes(void)
{
	/* "caf\u00e9" and the raw UTF-8 "café" name one topic; so do "a\/b" and "a/b" */
	static const char pub_raw[] = "{\"topic\":\"caf\xc3\xa9\",\"event\":\"e\",\"message_id\":\"1\",\"data\":\"utf8\"}";
	static const char pub_slash[] = "{\"topic\":\"a/b\",\"event\":\"e\",\"message_id\":\"2\",\"data\":\"slash\"}";
	static const char pub_quote[] = "{\"topic\":\"q\\u0022t\",\"event\":\"e\",\"message_id\":\"3\",\"data\":\"quote\"}";
	char f[4096];
	struct tc *c = sub_open(NULL);
	int acks = 0, i;

	if (c != NULL) {
		tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"caf\\u00e9\"}");
		tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"a\\/b\"}");
		tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"q\\\"t\"}");
	}
	for (i = 0; i < 3 && c != NULL; i++)
		acks += tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0;
	tap_is_int(acks, 3, "subscribes with escaped topic names: ACKs");
	publish(pub_raw);
	expect_msg(c, pub_raw, "subscribed as caf\\u00e9, published as raw UTF-8: delivered as published");
	publish(pub_slash);
	expect_msg(c, pub_slash, "subscribed as a\\/b, published as a/b: delivered");
	publish(pub_quote);
	expect_msg(c, pub_quote, "subscribed as q\\\"t, published as q\\u0022t: delivered");
	tc_close(c);
}

/* test_marker_after_publish - <regular-socket/> is ignored wherever it appears. */
static void
test_marker_after_publish(void)
{
	static const char m[] = "{\"topic\":\"marker\",\"event\":\"e\",\"message_id\":\"1\",\"data\":\"after marker\"}";
	struct tc *c = sub_open("marker"), *p = pub_conn(1);
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "<regular-socket/>%cPUBLISH%c<regular-socket/>%c%s", 0, 0, 0, m);
	if (p != NULL)
		tc_send(p, buf, (size_t)n + 1);
	expect_msg(c, m, "PUBLISH, <regular-socket/>, object: the marker is ignored, the object published");
	tc_close(p);
	tc_close(c);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };

	tap_plan(46);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	test_isolation();
	test_twice();
	test_unsubscribe();
	test_end_of_stream();
	test_split_and_joined();
	test_keys();
	test_escapes();
	test_marker_after_publish();
	tsrv_stop(&srv, 0);
	return tap_done();
}
