/*
 * t/errors_input.c - malformed input end to end (janusd -w 2, max_frame
 * 4k, max_topic_len 32, frame_timeout 1s). Every class of bad frame gets
 * {"error":CODE,"message":TEXT} with the right code; after the errors
 * that do not close, the same connection still subscribes; too_large, a
 * stalled frame and a bad message after PUBLISH close it, and publish
 * nothing. A separate subscriber gets every message published between
 * the bad inputs. Binary garbage and bursts of errors leave both workers
 * running (same pids, no restarts).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS   5000
#define MAX_FRAME 4096
#define MAX_TOPIC 32

static struct tsrv srv;
static struct tc *listener;     /* subscribed to "live" */
static struct tc *publisher;    /* publishes to "live" with the publish action */
static int live_sent, live_bad;

/* live_check - publish the next "live" message; the listener must get exactly it. */
static void
live_check(const char *after)
{
	char obj[256], f[1024];

	live_sent++;
	snprintf(obj, sizeof(obj), "{\"action\":\"publish\",\"topic\":\"live\",\"data\":%d}", live_sent);
	tc_sendz(publisher, obj);
	snprintf(obj, sizeof(obj), "{\"topic\":\"live\",\"data\":%d}", live_sent);
	if (tc_frame(listener, f, sizeof(f), WAIT_MS) < 0)
		snprintf(f, sizeof(f), "(nothing)");
	else
		tc_strip_ts(f);
	if (strcmp(f, obj) != 0) {
		live_bad++;
		tap_diag("  listener after %s: got '%s', expected '%s'", after, f, obj);
	}
}

/* expect_error - the next frame on c is an error with code. */
static int
expect_error(struct tc *c, const char *code, char *f, size_t cap)
{
	long n = tc_frame(c, f, cap, WAIT_MS);

	if (n < 0)
		snprintf(f, cap, "(%s)", n == -1 ? "nothing" : "connection closed");
	return tc_is_error(f, code);
}

struct bad {
	const char *name;
	const char *frame;
	const char *code;
};

static const struct bad bads[] = {
	{ "bad JSON", "{bad", "bad_json" },
	{ "JSON cut short", "{\"action\":\"subscribe\",\"data\":\"x\"", "bad_json" },
	{ "text after the object", "{\"action\":\"subscribe\",\"data\":\"x\"} x", "bad_json" },
	{ "two objects in one frame", "{\"action\":\"subscribe\",\"data\":\"x\"}{}", "bad_json" },
	{ "trailing comma", "{\"action\":\"subscribe\",\"data\":\"x\",}", "bad_json" },
	{ "single quotes", "{'action':'subscribe','data':'x'}", "bad_json" },
	{ "invalid UTF-8 in a string", "{\"action\":\"subscribe\",\"data\":\"\xff\xfe\"}", "bad_json" },
	{ "raw control byte in a string", "{\"action\":\"subscribe\",\"data\":\"a\tb\"}", "bad_json" },
	{ "lone surrogate escape", "{\"action\":\"subscribe\",\"data\":\"\\ud800\"}", "bad_json" },
	{ "JSON array instead of an object", "[\"subscribe\",\"x\"]", "bad_frame" },
	{ "JSON string instead of an object", "\"subscribe\"", "bad_frame" },
	{ "JSON number instead of an object", "42", "bad_frame" },
	{ "unknown frame word", "HELLO", "bad_frame" },
	{ "lowercase publish word", "publish", "bad_frame" },
	{ "unknown action", "{\"action\":\"dance\",\"data\":\"x\"}", "unknown_action" },
	{ "missing action", "{\"data\":\"x\"}", "unknown_action" },
	{ "empty object", "{}", "unknown_action" },
	{ "action not a string", "{\"action\":42,\"data\":\"x\"}", "unknown_action" },
	{ "empty topic", "{\"action\":\"subscribe\",\"data\":\"\"}", "bad_topic" },
	{ "topic a number", "{\"action\":\"subscribe\",\"data\":7}", "bad_topic" },
	{ "topic an array", "{\"action\":\"subscribe\",\"data\":[\"x\"]}", "bad_topic" },
	{ "topic null", "{\"action\":\"subscribe\",\"data\":null}", "bad_topic" },
	{ "subscribe without data", "{\"action\":\"subscribe\"}", "bad_topic" },
	{ "topic over max_topic_len (33 > 32)",
	    "{\"action\":\"subscribe\",\"data\":\"abcdefghijklmnopqrstuvwxyz0123456\"}", "bad_topic" },
	{ "topic over max_topic_len once unescaped (33 bytes, 2 of them from \\u00e9)",
	    "{\"action\":\"subscribe\",\"data\":\"\\u00e9bcdefghijklmnopqrstuvwxyz012345\"}", "bad_topic" },
	{ "control character in topic (\\u0001)", "{\"action\":\"subscribe\",\"data\":\"a\\u0001b\"}", "bad_topic" },
	{ "control character in topic (\\n)", "{\"action\":\"subscribe\",\"data\":\"a\\nb\"}", "bad_topic" },
	{ "NUL in topic (\\u0000)", "{\"action\":\"subscribe\",\"data\":\"a\\u0000b\"}", "bad_topic" },
	{ "unsubscribe with an empty topic", "{\"action\":\"unsubscribe\",\"data\":\"\"}", "bad_topic" },
	{ "hello version 3", "{\"action\":\"hello\",\"version\":3}", "bad_frame" },
	{ "hello without version", "{\"action\":\"hello\"}", "bad_frame" },
	{ "hello version as a string", "{\"action\":\"hello\",\"version\":\"2\"}", "bad_frame" },
	{ "publish action without topic", "{\"action\":\"publish\",\"data\":\"x\"}", "bad_topic" },
	{ "publish action with an empty topic", "{\"action\":\"publish\",\"topic\":\"\",\"data\":1}", "bad_topic" },
	{ "publish action with a topic over max_topic_len",
	    "{\"action\":\"publish\",\"topic\":\"abcdefghijklmnopqrstuvwxyz0123456\"}", "bad_topic" },
	{ "publish action with ack not a boolean", "{\"action\":\"publish\",\"topic\":\"live\",\"ack\":1}", "bad_frame" },
	{ "auth without key", "{\"action\":\"auth\"}", "bad_frame" },
	{ "since not a number", "{\"action\":\"subscribe\",\"data\":\"x\",\"since\":\"5\"}", "bad_frame" },
	{ "since negative", "{\"action\":\"subscribe\",\"data\":\"x\",\"since\":-1}", "bad_frame" },
	{ "epoch not a string", "{\"action\":\"subscribe\",\"data\":\"x\",\"since\":1,\"epoch\":5}", "bad_frame" },
};

/* test_bad_frames - each non-closing error, then the same connection subscribes. */
static void
test_bad_frames(void)
{
	struct tc *c = tc_open_greeted(srv.port);
	char f[1024], deep[256];
	size_t i;
	int ok, k;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		tc_sendz(c, bads[i].frame);
		ok = expect_error(c, bads[i].code, f, sizeof(f));
		tap_ok(ok && tc_subscribe(c, "ok") == 0, "%s: %s, connection still works", bads[i].name, bads[i].code);
		if (!ok)
			tap_diag("  got: '%s'\n  expected: {\"error\":\"%s\",\"message\":\"...\"}", f, bads[i].code);
		live_check(bads[i].name);
	}
	/* nesting deeper than the parser takes */
	for (k = 0; k < 40; k++)
		deep[k] = '[';
	snprintf(deep + 40, sizeof(deep) - 40, "%s", "1");
	for (k = 0; k < 40; k++)
		strcat(deep, "]");
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"x\",\"deep\":%s}", deep);
	tc_sendz(c, f);
	ok = expect_error(c, "bad_json", f, sizeof(f));
	tap_ok(ok && tc_subscribe(c, "ok") == 0, "nesting 40 deep: bad_json, connection still works (got '%s')", f);
	live_check("deep nesting");
	/* the longest topic allowed is fine */
	tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"abcdefghijklmnopqrstuvwxyz012345\"}");
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0,
	    "a topic of exactly max_topic_len (32) bytes: ACK (got '%s')", f);
	tap_ok(tc_frame(c, f, sizeof(f), 200) == -1, "and nothing else was sent");
	tc_close(c);
}

/* test_too_large - a frame over max_frame: too_large, then closed. */
static void
test_too_large(void)
{
	char *big = malloc(2 * MAX_FRAME), f[1024];
	struct tc *c;
	int n;

	if (big == NULL)
		tap_bail("out of memory");
	/* just under the limit, \0 included: delivered */
	c = tc_open_greeted(srv.port);
	n = snprintf(big, 2 * MAX_FRAME, "{\"action\":\"publish\",\"topic\":\"live\",\"data\":\"");
	memset(big + n, 'x', (size_t)(MAX_FRAME - 1 - n - 2));
	memcpy(big + MAX_FRAME - 3, "\"}", 3);
	tap_is_int((long long)strlen(big) + 1, MAX_FRAME, "a frame of max_frame bytes, \\0 included ...");
	tc_sendz(c, big);
	tap_ok(tc_frame(listener, f, sizeof(f), WAIT_MS) > 0 && strstr(f, "\"data\":\"xxxx") != NULL,
	    "... is published");
	tap_ok(tc_subscribe(c, "ok") == 0, "... and its connection still works");
	tc_close(c);

	/* over the limit, \0 and all in one write */
	c = tc_open_greeted(srv.port);
	memset(big + n, 'y', (size_t)(MAX_FRAME + 100 - n));
	memcpy(big + MAX_FRAME + 100, "\"}", 3);
	tc_sendz(c, big);
	tap_ok(expect_error(c, "too_large", f, sizeof(f)), "frame over max_frame: too_large (got '%s')", f);
	tap_ok(tc_eof(c, WAIT_MS), "too_large: connection closed");
	tc_close(c);

	/* over the limit and still going, no \0 */
	c = tc_open_greeted(srv.port);
	big[MAX_FRAME + 50] = '\0';
	tc_sends(c, big);
	tap_ok(expect_error(c, "too_large", f, sizeof(f)), "unfinished frame grows over max_frame: too_large (got '%s')", f);
	tap_ok(tc_eof(c, WAIT_MS), "too_large: connection closed");
	tc_close(c);
	free(big);
	live_check("too_large");
}

/* test_stalled - a frame left unfinished for frame_timeout: bad_frame, closed. */
static void
test_stalled(void)
{
	char f[1024], buf[256];
	struct tc *c = tc_open_greeted(srv.port);
	uint64_t t0 = tlib_ms(), dt;
	int i, acks = 0, errs = 0, ok;

	tc_sends(c, "{\"action\":\"subscribe\",\"da");
	ok = expect_error(c, "bad_frame", f, sizeof(f));
	dt = tlib_ms() - t0;
	tap_ok(ok, "frame stalled mid-way: bad_frame (got '%s')", f);
	tap_ok(ok && dt >= 800, "... after frame_timeout, not before (%llu ms)", (unsigned long long)dt);
	tap_ok(tc_eof(c, WAIT_MS), "stalled: connection closed");
	tc_close(c);
	live_check("a stalled frame");

	/*
	 * A client that keeps finishing frames is not stalled, even if every
	 * write also starts the next frame: 16 frames over 2.4 s, each done
	 * within 150 ms, with frame_timeout 1 s.
	 */
	c = tc_open_greeted(srv.port);
	t0 = tlib_ms();
	tc_sends(c, "{\"action\":\"subscribe\",");
	for (i = 0; i < 16; i++) {
		tlib_sleep_ms(150);
		snprintf(buf, sizeof(buf), "\"data\":\"ft%d\"}%c{\"action\":\"subscribe\",", i, 0);
		tc_send(c, buf, strlen(buf) + 1 + strlen(buf + strlen(buf) + 1));
		while (tc_frame(c, f, sizeof(f), 0) >= 0) {
			acks += strcmp(f, "ACK") == 0;
			if (strncmp(f, "{\"error\"", 8) == 0 && errs++ == 0)
				tap_diag("  after %d ACKs, %llu ms: '%s'", acks,
				    (unsigned long long)(tlib_ms() - t0), f);
		}
	}
	snprintf(buf, sizeof(buf), "\"data\":\"ft-last\"}");
	tc_sendz(c, buf);
	while (acks + errs < 17 && tc_frame(c, f, sizeof(f), WAIT_MS) >= 0) {
		acks += strcmp(f, "ACK") == 0;
		if (strncmp(f, "{\"error\"", 8) == 0) {
			errs++;
			tap_diag("  got '%s'", f);
		}
	}
	tap_ok(acks == 17 && errs == 0,
	    "frames finished in time, each write starting the next: 17 ACKs, no error (got %d ACKs, %d errors)",
	    acks, errs);
	tc_close(c);
	live_check("frames kept finishing");
}

/* test_bad_publish - a bad message after PUBLISH: error, closed, nothing published. */
static void
test_bad_publish(void)
{
	static const struct { const char *name, *bytes, *code; int zero; } cases[] = {
		{ "bad JSON after PUBLISH", "PUBLISH\0{\"topic\":\"live\",\"data\":\"bad\",}", "bad_json", 1 },
		{ "a JSON array after PUBLISH", "PUBLISH\0[{\"topic\":\"live\"}]", "bad_json", 1 },
		{ "a word after PUBLISH", "PUBLISH\0PING", "bad_json", 1 },
		{ "no topic after PUBLISH", "PUBLISH\0{\"data\":\"bad\"}", "bad_topic", 1 },
		{ "empty topic after PUBLISH", "PUBLISH\0{\"topic\":\"\",\"data\":\"bad\"}", "bad_topic", 1 },
		{ "bad JSON after PUBLISH, ended by end of stream",
		    "PUBLISH\0{\"topic\":\"live\",\"data\":\"bad\"", "bad_json", 0 },
	};
	char f[1024];
	struct tc *c;
	size_t i, n;
	int ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = tc_open_greeted(srv.port);
		n = strlen(cases[i].bytes);
		n += 1 + strlen(cases[i].bytes + n + 1);
		tc_send(c, cases[i].bytes, n + (size_t)cases[i].zero);
		if (!cases[i].zero)
			shutdown(c->fd, SHUT_WR);
		ok = expect_error(c, cases[i].code, f, sizeof(f));
		tap_ok(ok && tc_eof(c, WAIT_MS), "%s: %s, then closed (got '%s')", cases[i].name, cases[i].code, f);
		tc_close(c);
		/* the listener's next message must be the live one, not the bad one */
		live_check(cases[i].name);
	}
}

/* drain_errors - read frames until none comes for ms; count error frames and others. */
static void
drain_errors(struct tc *c, int ms, long *errors, long *others)
{
	char f[1024];

	while (tc_frame(c, f, sizeof(f), ms) >= 0) {
		if (tc_is_error(f, "bad_json") || tc_is_error(f, "bad_frame") ||
		    tc_is_error(f, "unknown_action") || tc_is_error(f, "bad_topic"))
			(*errors)++;
		else if (++*others <= 3)
			tap_diag("  not an error frame: '%.100s'", f);
	}
}

/* garbage_errors - how many error frames the server owes for these bytes. */
static long
garbage_errors(const unsigned char *g, size_t n)
{
	size_t i = 0, start;
	long k = 0;

	while (i < n) {
		start = i;
		while (i < n && g[i] != 0)
			i++;
		while (start < i && (g[start] == ' ' || g[start] == '\t' || g[start] == '\r' || g[start] == '\n'))
			start++;
		k += start < i;   /* a frame that is empty or blank is ignored */
		i++;
	}
	return k;
}

/* test_garbage - random bytes with \0s in them, then a burst of errors. */
static void
test_garbage(void)
{
	enum { GARBAGE = 64 << 10, CHUNK = 4096, BURST = 20000 };
	unsigned char *g = malloc(GARBAGE);
	char *burst = malloc(1000 * 2), f[1024];
	struct tc *c = tc_open_greeted(srv.port), *noread;
	long errors = 0, others = 0, want;
	size_t i;
	int k;

	if (g == NULL || burst == NULL)
		tap_bail("out of memory");
	srand(12345);
	for (i = 0; i < GARBAGE; i++) {
		g[i] = (unsigned char)(rand() & 0xff);
		if (g[i] == 0xc0 || rand() % 64 == 0)
			g[i] = 0;   /* frames of ~64 bytes, well under max_frame */
	}
	g[GARBAGE - 1] = 0;
	want = garbage_errors(g, GARBAGE);
	for (i = 0; i < GARBAGE; i += CHUNK) {
		tc_send(c, g + i, CHUNK);
		drain_errors(c, 20, &errors, &others);
	}
	drain_errors(c, 500, &errors, &others);
	tap_ok(errors == want && others == 0, "64 KiB of binary garbage: one error frame per frame (%ld of %ld, %ld others)",
	    errors, want, others);
	tap_ok(tc_subscribe(c, "ok") == 0, "after the garbage the connection still works");
	live_check("binary garbage");

	/* 20,000 bad frames, 100 per write, each write's errors read before the next */
	for (k = 0; k < 1000; k++)
		memcpy(burst + 2 * k, "x", 2);
	errors = others = 0;
	for (k = 0; k < BURST / 100 && errors == (long)k * 100; k++) {
		tc_send(c, burst, 200);
		while (errors < (long)(k + 1) * 100 && tc_frame(c, f, sizeof(f), WAIT_MS) >= 0)
			errors += tc_is_error(f, "bad_frame");
	}
	drain_errors(c, 300, &errors, &others);
	tap_is_int(errors, BURST, "a burst of 20,000 bad frames: 20,000 error frames");
	tap_ok(tc_subscribe(c, "ok") == 0, "after the burst the connection still works");
	live_check("a burst of errors");
	tc_close(c);

	/* 50,000 bad frames from a client that never reads: whatever happens to it, the worker lives */
	noread = tc_open_greeted(srv.port);
	for (k = 0; k < 50 && tc_send(noread, burst, 2000) == 0; k++)
		;
	tlib_sleep_ms(300);
	tc_close(noread);
	live_check("a burst of errors nobody read");
	free(g);
	free(burst);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", "-o", "max_frame=4k", "-o", "max_topic_len=32",
	    "-o", "frame_timeout=1s", NULL };
	long long pid0, pid1;
	size_t nbad = sizeof(bads) / sizeof(bads[0]);

	tap_plan((int)nbad + 3 + 7 + 4 + 6 + 4 + 5);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	pid0 = tsrv_stat(&srv, 0, "pid");
	pid1 = tsrv_stat(&srv, 1, "pid");
	listener = tc_open_greeted(srv.port);
	publisher = tc_open_greeted(srv.port);
	if (tc_subscribe(listener, "live") < 0)
		tap_bail("listener cannot subscribe");

	test_bad_frames();
	test_too_large();
	test_stalled();
	test_bad_publish();
	test_garbage();

	tap_is_int(live_bad, 0, "the listener got each of the %d messages published between bad inputs", live_sent);
	tap_ok(pid0 > 0 && tsrv_stat(&srv, 0, "pid") == pid0, "worker 0 still runs (pid %lld)", pid0);
	tap_ok(pid1 > 0 && tsrv_stat(&srv, 1, "pid") == pid1, "worker 1 still runs (pid %lld)", pid1);
	tap_ok(tsrv_stat(&srv, 0, "restarts") == 0 && tsrv_stat(&srv, 1, "restarts") == 0, "no worker restarts");
	tap_ok(!tsrv_log_has(&srv, ": error: "), "no error-level lines in the server log");
	tc_close(listener);
	tc_close(publisher);
	tsrv_stop(&srv, 0);
	return tap_done();
}
