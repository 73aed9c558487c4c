/*
 * t/limits_slow.c - subscribers that stop reading (janusd -w 1,
 * max_backlog 64k, stall_timeout 1s). 12 MB of messages go out while
 * they do not read, and they stay silent past stall_timeout:
 *   a Part 1 subscriber is closed, having received a whole, in-order
 *     prefix of the messages and no error frame (PROTOCOL.md: a Part 1
 *     client never sees an error frame unless it sent something invalid);
 *   a version 2 subscriber (slow_policy skip) is moved ahead and told by
 *     gap frames exactly what it missed: every seq is either received once
 *     or inside a gap, in order; it stays open and gets live messages;
 *   with slow_policy disconnect a version 2 subscriber is closed instead;
 *   a subscriber that keeps reading gets every message; no message is
 *     ever torn, and the worker counts the slow consumers.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000
#define NMSG    4000
#define DATA    3000
#define CHUNK   100

static void
hello(struct tc *c)
{
	char f[256];

	tc_sendz(c, "{\"action\":\"hello\",\"version\":2}");
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0 || strncmp(f, "{\"hello\":", 9) != 0)
		tap_bail("no hello reply: '%s'", f);
}

/*
 * msg_index - which message f (timestamp, and for version 2 seq, removed)
 * is: its index if the message is whole and exact, else -1.
 */
static int
msg_index(const char *f)
{
	static const char head[] = "{\"topic\":\"slow\",\"message_id\":\"";
	const char *p;
	char *end;
	long i;
	int k;

	if (strncmp(f, head, sizeof(head) - 1) != 0)
		return -1;
	i = strtol(f + sizeof(head) - 1, &end, 10);
	if (strncmp(end, "\",\"data\":\"", 10) != 0)
		return -1;
	p = end + 10;
	for (k = 0; k < DATA; k++)
		if (p[k] != 'a' + (char)(i % 26))
			return -1;
	return strcmp(p + DATA, "\"}") == 0 ? (int)i : -1;
}

/* publish_all - NMSG messages of DATA bytes, reading `reader` between chunks so it keeps up. */
static int
publish_all(struct tc *pub, struct tc *reader, char *f, size_t cap)
{
	char *obj = malloc(DATA + 256);
	int i, n, got = 0, bad = 0;

	if (obj == NULL)
		tap_bail("out of memory");
	for (i = 0; i < NMSG; i++) {
		n = snprintf(obj, 256, "{\"action\":\"publish\",\"topic\":\"slow\",\"message_id\":\"%d\",\"data\":\"", i);
		memset(obj + n, 'a' + i % 26, DATA);
		memcpy(obj + n + DATA, "\"}", 3);
		tc_sendz(pub, obj);
		if (i % CHUNK != CHUNK - 1)
			continue;
		while (got <= i && tc_frame(reader, f, cap, WAIT_MS) >= 0) {
			tc_strip_ts(f);
			if (msg_index(f) != got && bad++ < 3)
				tap_diag("  reader: message %d is '%.80s'", got, f);
			got++;
		}
	}
	free(obj);
	return bad == 0 ? got : -got;
}

/*
 * read_part1 - a Part 1 subscriber that stopped reading: count the whole
 * in-order messages, note a slow_consumer error, and whether it ends.
 */
static void
read_part1(struct tc *c, char *f, size_t cap, int *msgs, int *inorder, int *slow, int *eof)
{
	long n;

	*msgs = 0;
	*inorder = 1;
	*slow = *eof = 0;
	while ((n = tc_frame(c, f, cap, WAIT_MS)) >= 0) {
		if (strncmp(f, "{\"error\":\"slow_consumer\"", 24) == 0) {
			(*slow)++;
			continue;
		}
		tc_strip_ts(f);
		if (*slow || msg_index(f) != *msgs) {
			if (*inorder)
				tap_diag("  after %d messages: '%.80s'", *msgs, f);
			*inorder = 0;
		}
		(*msgs)++;
	}
	*eof = n == -2;
}

/*
 * wait_stalled - the non-readers stopped for good: give the server
 * stall_timeout (1 s) to find them stalled and count n slow consumers
 * (bounded), before the test looks at what they got.
 */
static void
wait_stalled(const struct tsrv *s, long long n)
{
	uint64_t until = tlib_ms() + 10000;

	while (tsrv_stat(s, 0, "slow") < n && tlib_ms() < until)
		tlib_sleep_ms(100);
}

static void
test_skip(void)
{
	static const char *const args[] = { "-w", "1", "-o", "max_backlog=64k", "-o", "stall_timeout=1s", NULL };
	struct tsrv s;
	struct tc *pub, *reader, *p1, *v2;
	char *f = malloc(DATA + 1024), *end;
	int got, msgs, inorder, slow, eof, gaps = 0, ok = 1, dup_or_back = 0;
	long long seq, next = 1, from, to, covered = 0;

	if (f == NULL)
		tap_bail("out of memory");
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	reader = tc_open_greeted(s.port);
	p1 = tc_open_greeted(s.port);
	v2 = tc_open_greeted(s.port);
	hello(v2);
	if (tc_subscribe(reader, "slow") < 0 || tc_subscribe(p1, "slow") < 0 || tc_subscribe(v2, "slow") < 0)
		tap_bail("cannot subscribe");
	pub = tc_open_greeted(s.port);
	got = publish_all(pub, reader, f, DATA + 1024);
	tap_is_int(got, NMSG, "a subscriber that keeps reading gets all 4,000 messages, whole and in order");
	wait_stalled(&s, 2);

	read_part1(p1, f, DATA + 1024, &msgs, &inorder, &slow, &eof);
	tap_ok(eof && msgs < NMSG, "Part 1 subscriber that stopped reading: closed (after %d messages)", msgs);
	tap_ok(inorder, "... what it got before is whole and in order");
	tap_is_int(slow, 0, "... and no slow_consumer frame: a Part 1 client never sees an error it did not cause");

	/* version 2, skip: messages and gaps together account for every seq once */
	while (tc_frame(v2, f, DATA + 1024, 1000) >= 0) {
		if (strncmp(f, "{\"gap\":{\"topic\":\"slow\",\"from\":", 30) == 0) {
			from = strtoll(f + 30, &end, 10);
			to = strncmp(end, ",\"to\":", 6) == 0 ? strtoll(end + 6, NULL, 10) : -1;
			gaps++;
			if (from != next || to < from) {
				tap_diag("  gap %lld..%lld, expected one from %lld", from, to, next);
				ok = 0;
			}
			covered += to - from + 1;
			next = to + 1;
			continue;
		}
		tc_strip_ts(f);
		seq = tc_strip_seq(f);
		if (seq != next || msg_index(f) != seq - 1) {
			if (dup_or_back++ < 3)
				tap_diag("  seq %lld (expected %lld): '%.80s'", seq, next, f);
			ok = 0;
		}
		covered++;
		next = seq + 1;
	}
	tap_ok(gaps > 0, "version 2 subscriber that stopped reading, slow_policy skip: told by %d gap frame%s",
	    gaps, gaps == 1 ? "" : "s");
	tap_ok(ok && next == NMSG + 1 && covered == NMSG,
	    "... every seq 1..%d either received once or inside a gap, in order (%lld accounted for)", NMSG, covered);
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"slow\",\"message_id\":\"live\",\"data\":\"x\",\"ack\":true}");
	tc_frame(pub, f, 1024, WAIT_MS);
	tap_ok(tc_frame(v2, f, DATA + 1024, WAIT_MS) > 0 && strstr(f, "\"message_id\":\"live\"") != NULL,
	    "... and it stays open: the next message arrives");
	tap_ok(tsrv_stat(&s, 0, "slow") >= 2, "the worker counts the slow consumers (%lld)", tsrv_stat(&s, 0, "slow"));
	tap_ok(tsrv_stat(&s, 0, "restarts") == 0 && !tsrv_log_has(&s, ": error: "),
	    "no worker restarts, no error in the log");
	tc_close(p1);
	tc_close(v2);
	tc_close(reader);
	tc_close(pub);
	tsrv_stop(&s, 0);
	free(f);
}

static void
test_disconnect(void)
{
	static const char *const args[] = { "-w", "1", "-o", "max_backlog=64k", "-o", "stall_timeout=1s", "-o", "slow_policy=disconnect", NULL };
	struct tsrv s;
	struct tc *pub, *reader, *v2;
	char *f = malloc(DATA + 1024);
	int got, msgs = 0, bad = 0, slow = 0;
	long n;

	if (f == NULL)
		tap_bail("out of memory");
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	reader = tc_open_greeted(s.port);
	v2 = tc_open_greeted(s.port);
	hello(v2);
	if (tc_subscribe(reader, "slow") < 0 || tc_subscribe(v2, "slow") < 0)
		tap_bail("cannot subscribe");
	pub = tc_open_greeted(s.port);
	got = publish_all(pub, reader, f, DATA + 1024);
	tap_is_int(got, NMSG, "slow_policy disconnect: a subscriber that reads gets all 4,000");
	wait_stalled(&s, 1);
	while ((n = tc_frame(v2, f, DATA + 1024, WAIT_MS)) >= 0) {
		if (strncmp(f, "{\"error\":\"slow_consumer\"", 24) == 0) {
			slow++;
			continue;
		}
		tc_strip_ts(f);
		if (slow || tc_strip_seq(f) != msgs + 1 || msg_index(f) != msgs)
			bad++;
		msgs++;
	}
	tap_ok(n == -2 && msgs < NMSG, "slow_policy disconnect: a version 2 subscriber that stopped reading is closed (after %d)", msgs);
	tap_ok(bad == 0 && slow <= 1, "... with whole messages in order before, no gap frame");
	tc_close(v2);
	tc_close(reader);
	tc_close(pub);
	tsrv_stop(&s, 0);
	free(f);
}

int
main(void)
{
	tap_plan(9 + 3);
	test_skip();
	test_disconnect();
	return tap_done();
}
