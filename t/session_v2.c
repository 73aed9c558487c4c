/*
 * t/session_v2.c - version 2 sessions end to end (janusd -w 2): the hello
 * reply, "seq" right after the timestamp and one apart per publish
 * across topics, the publish action's ack and the members it keeps out
 * of the message, and resume: the replay after ACK of what the ring
 * holds after "since", then live delivery with no gap and no duplicate
 * (also while a publisher keeps publishing), the gap frame for a wrong
 * epoch, and, with a 1 MiB ring that has wrapped, the gap frame naming
 * the lost range before the replay of the rest.
 */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000

static struct tsrv srv;

/*
 * hello_parse - {"hello":{"version":2,"epoch":"16 hex","seq":N}} exactly;
 * the epoch to epoch (17 bytes), N to *seq. 0 or -1.
 */
static int
hello_parse(const char *f, char *epoch, long long *seq)
{
	static const char head[] = "{\"hello\":{\"version\":2,\"epoch\":\"";
	char *end;
	int i;

	if (strncmp(f, head, sizeof(head) - 1) != 0)
		return -1;
	f += sizeof(head) - 1;
	for (i = 0; i < 16; i++)
		if (!isdigit((unsigned char)f[i]) && !(f[i] >= 'a' && f[i] <= 'f'))
			return -1;
	memcpy(epoch, f, 16);
	epoch[16] = '\0';
	f += 16;
	if (strncmp(f, "\",\"seq\":", 8) != 0 || !isdigit((unsigned char)f[8]))
		return -1;
	*seq = strtoll(f + 8, &end, 10);
	return strcmp(end, "}}") == 0 ? 0 : -1;
}

/* hello - say hello on c; its epoch and seq. 0 or -1 (with the reply shown). */
static int
hello(struct tc *c, char *epoch, long long *seq)
{
	char f[512];

	tc_sendz(c, "{\"action\":\"hello\",\"version\":2}");
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0 || hello_parse(f, epoch, seq) < 0) {
		tap_diag("  hello reply: '%s'", f);
		return -1;
	}
	return 0;
}

/*
 * v2_msg - the next frame as a version 2 message: its seq, and in f the
 * message without timestamp and seq. -1 if it is something else (f kept).
 */
static long long
v2_msg(struct tc *c, char *f, size_t cap, int ms)
{
	char *end;
	long long seq;
	long n = tc_frame(c, f, cap, ms);

	if (n < 0) {
		snprintf(f, cap, "(%s)", n == -1 ? "nothing" : "connection closed");
		return -1;
	}
	if (strncmp(f, "{\"timestamp\":[", 14) != 0 || (end = strstr(f, "],\"seq\":")) == NULL ||
	    !isdigit((unsigned char)end[8]))
		return -1;
	seq = strtoll(end + 8, &end, 10);
	if (*end != ',')
		return -1;
	memmove(f + 1, end + 1, strlen(end + 1) + 1);
	return seq;
}

/* published - send a publish action with "ack":true; the seq of the reply, or -1. */
static long long
published(struct tc *c, const char *topic, const char *id)
{
	char obj[256], f[256], *end;
	long long seq;

	snprintf(obj, sizeof(obj), "{\"action\":\"publish\",\"topic\":\"%s\",\"message_id\":\"%s\",\"ack\":true,\"data\":0}", topic, id);
	tc_sendz(c, obj);
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0 || strncmp(f, "{\"published\":{\"seq\":", 20) != 0)
		return -1;
	seq = strtoll(f + 20, &end, 10);
	return strcmp(end, "}}") == 0 ? seq : -1;
}

/* body - what a message from published() looks like, without timestamp and seq. */
static void
body(char *dst, size_t cap, const char *topic, const char *id)
{
	snprintf(dst, cap, "{\"topic\":\"%s\",\"message_id\":\"%s\",\"data\":0}", topic, id);
}

/* stats_ring - head, tail and epoch of a server, from janusd -s. */
static int
stats_ring(const struct tsrv *s, long long *head, long long *tail, char *epoch)
{
	char buf[8192], *p;

	if (tsrv_stats(s, buf, sizeof(buf)) < 0 || (p = strstr(buf, "\"ring\":{\"head\":")) == NULL)
		return -1;
	*head = strtoll(p + 15, &p, 10);
	if (strncmp(p, ",\"tail\":", 8) != 0)
		return -1;
	*tail = strtoll(p + 8, NULL, 10);
	if (epoch != NULL) {
		if ((p = strstr(buf, "\"epoch\":\"")) == NULL)
			return -1;
		snprintf(epoch, 17, "%s", p + 9);
	}
	return 0;
}

static void
test_hello_and_seq(void)
{
	char epoch[17], epoch2[17], sepoch[17], f[1024], want[256];
	long long seq, seq2, s[3], head, tail, got;
	struct tc *v2 = tc_open_greeted(srv.port), *p1 = tc_open_greeted(srv.port), *pub = tc_open_greeted(srv.port);
	int ok, i;
	static const char *const topics[3] = { "sa", "sb", "sa" };

	tap_ok(hello(v2, epoch, &seq) == 0, "hello: {\"hello\":{\"version\":2,\"epoch\":\"<16 hex>\",\"seq\":N}}");
	tap_ok(stats_ring(&srv, &head, &tail, sepoch) == 0 && strcmp(epoch, sepoch) == 0 && seq == head,
	    "hello: the ring's epoch (%s) and newest seq (%lld)", epoch, seq);
	if (tc_subscribe(v2, "sa") < 0 || tc_subscribe(v2, "sb") < 0 || tc_subscribe(p1, "sa") < 0)
		tap_bail("subscribing failed");
	for (i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "m%d", i);
		s[i] = published(pub, topics[i], id);
	}
	tap_ok(s[0] == seq + 1 && s[1] == seq + 2 && s[2] == seq + 3,
	    "publish with \"ack\":true: {\"published\":{\"seq\":N}}, one apart (%lld %lld %lld after %lld)",
	    s[0], s[1], s[2], seq);
	for (i = 0, ok = 1; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "m%d", i);
		body(want, sizeof(want), topics[i], id);
		got = v2_msg(v2, f, sizeof(f), WAIT_MS);
		if (got != s[i] || strcmp(f, want) != 0) {
			tap_diag("  message %d: seq %lld '%s', expected seq %lld '%s'", i, got, f, s[i], want);
			ok = 0;
		}
	}
	tap_ok(ok, "version 2: {\"timestamp\":[..],\"seq\":N,<members>}, seq of each publish, across topics, "
	    "without \"action\" and \"ack\"");
	for (i = 0, ok = 1; i < 3; i += 2) {
		char id[8];

		snprintf(id, sizeof(id), "m%d", i);
		body(want, sizeof(want), "sa", id);
		if (tc_frame(p1, f, sizeof(f), WAIT_MS) < 0 || tc_strip_ts(f) < 0 || strcmp(f, want) != 0) {
			tap_diag("  Part 1 got '%s', expected '%s'", f, want);
			ok = 0;
		}
	}
	tap_ok(ok, "the same messages reach a Part 1 subscriber without seq");
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"sa\",\"ack\":false,\"message_id\":\"m3\",\"data\":0}");
	tc_quiet(pub, 500, "\"ack\":false: no reply");
	got = v2_msg(v2, f, sizeof(f), WAIT_MS);
	body(want, sizeof(want), "sa", "m3");
	tap_ok(got == s[2] + 1 && strcmp(f, want) == 0, "\"ack\":false: delivered without ack (seq %lld '%s')", got, f);
	tc_quiet(v2, 300, "nothing more");
	tc_close(v2);
	v2 = tc_open_greeted(srv.port);
	ok = hello(v2, epoch2, &seq2) == 0;
	tap_ok(ok && strcmp(epoch, epoch2) == 0 && seq2 == seq + 4,
	    "a later hello: same epoch, seq of the newest message (%lld)", seq2);
	tc_close(v2);
	tc_close(p1);
	tc_close(pub);
}

/* expect_replay - the next frames are topic's messages with seqs from..to, ids r<seq>. */
static int
expect_replay(struct tc *c, const char *topic, long long from, long long to, const char *what)
{
	char f[1024], want[256], id[32];
	long long s, got;

	for (s = from; s <= to; s++) {
		snprintf(id, sizeof(id), "r%lld", s);
		body(want, sizeof(want), topic, id);
		got = v2_msg(c, f, sizeof(f), WAIT_MS);
		if (got != s || strcmp(f, want) != 0) {
			tap_diag("  %s: got seq %lld '%s', expected seq %lld '%s'", what, got, f, s, want);
			return 0;
		}
	}
	return 1;
}

/* publish_r - a message on topic whose id names its seq; the seq. */
static long long
publish_r(struct tc *pub, const char *topic, long long expect_seq)
{
	char id[32];
	long long s;

	snprintf(id, sizeof(id), "r%lld", expect_seq);
	s = published(pub, topic, id);
	if (s != expect_seq)
		tap_diag("  publish on %s: seq %lld, expected %lld", topic, s, expect_seq);
	return s;
}

static void
test_resume(void)
{
	char epoch[17], f[1024];
	long long head, first, last, s, tail;
	struct tc *pub = tc_open_greeted(srv.port), *c;
	int i, ok;

	if (hello(pub, epoch, &head) < 0)
		tap_bail("no hello");
	/* 10 on "r", with 5 on "r-other" in between */
	first = head + 1;
	for (i = 0, s = first; i < 10; i++) {
		publish_r(pub, "r", s++);
		if (i % 2)
			publish_r(pub, "r-other", s++);
	}
	last = s - 1;

	/* since in the middle, right epoch: ACK, then the rest of "r" only */
	c = tc_open_greeted(srv.port);
	hello(c, epoch, &head);
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"r\",\"since\":%lld,\"epoch\":\"%s\"}", first + 7, epoch);
	tc_sendz(c, f);
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0, "resume: ACK first (got '%s')", f);
	/* the publish order was r, r, r-other, r, r, r-other, ...: every third is r-other */
	ok = 1;
	for (s = first + 8; s <= last && ok; s++) {
		if ((s - first) % 3 == 2)
			continue;
		ok = expect_replay(c, "r", s, s, "resume replay");
	}
	tap_ok(ok, "resume since N: every message of the topic after N, in order, nothing of other topics");
	tc_quiet(c, 300, "resume: then nothing more");
	s = publish_r(pub, "r", last + 1);
	tap_ok(expect_replay(c, "r", last + 1, last + 1, "live after resume"), "resume: then live, next seq %lld", s);
	last++;
	tc_close(c);

	/* since without an epoch */
	c = tc_open_greeted(srv.port);
	hello(c, epoch, &head);
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"r\",\"since\":%lld}", last - 1);
	tc_sendz(c, f);
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0 &&
	    expect_replay(c, "r", last, last, "since without epoch"),
	    "since without epoch: ACK, then the replay");
	tc_close(c);

	/* since at the newest: nothing to replay, live follows */
	c = tc_open_greeted(srv.port);
	hello(c, epoch, &head);
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"r\",\"since\":%lld,\"epoch\":\"%s\"}", head, epoch);
	tc_sendz(c, f);
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0 &&
	    tc_frame(c, f, sizeof(f), 300) == -1, "since the newest seq: ACK, nothing replayed");
	publish_r(pub, "r", head + 1);
	tap_ok(expect_replay(c, "r", head + 1, head + 1, "live"), "... then live");
	last = head + 1;
	tc_close(c);

	/* wrong epoch: gap from 0 to tail-1, then all of "r" the ring holds */
	c = tc_open_greeted(srv.port);
	hello(c, epoch, &head);
	stats_ring(&srv, &head, &tail, NULL);
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"r\",\"since\":%lld,\"epoch\":\"%s\"}",
	    last - 1, "0123456789abcdef");
	tc_sendz(c, f);
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0, "wrong epoch: ACK");
	{
		char want[128];

		snprintf(want, sizeof(want), "{\"gap\":{\"topic\":\"r\",\"from\":0,\"to\":%lld}}", tail - 1);
		tc_frame(c, f, sizeof(f), WAIT_MS);
		tap_is_str(f, want, "wrong epoch: gap from 0 to tail-1 before the replay");
	}
	ok = 1;
	for (s = first; s < first + 15 && ok; s++)
		if ((s - first) % 3 != 2)
			ok = expect_replay(c, "r", s, s, "wrong-epoch replay");
	ok = ok && expect_replay(c, "r", first + 15, first + 16, "wrong-epoch replay");
	tap_ok(ok, "wrong epoch: every message of the topic in the ring, in order");
	tc_quiet(c, 300, "wrong epoch: then nothing more");
	tc_close(c);
	tc_close(pub);
}

/* race_publisher - the child: n messages on "race", ids r<seq>, a little apart. */
static void __attribute__((noreturn))
race_publisher(long long first, int n)
{
	struct tc *p = tc_open(srv.port);
	char obj[256];
	int i;

	if (p == NULL || tc_greeting(p) < 0)
		_exit(1);
	for (i = 0; i < n; i++) {
		snprintf(obj, sizeof(obj), "{\"action\":\"publish\",\"topic\":\"race\",\"message_id\":\"r%lld\",\"data\":0}",
		    first + i);
		if (tc_sendz(p, obj) < 0)
			_exit(1);
		if (i % 4 == 0)
			tlib_sleep_ms(1);
	}
	tc_close(p);
	_exit(0);
}

/* test_resume_race - resume while a publisher keeps publishing: no gap, no duplicate. */
static void
test_resume_race(void)
{
	enum { N = 600 };
	char epoch[17], f[1024];
	long long head, tail, first, since, s;
	struct tc *c;
	pid_t pid;
	int status, ok;
	uint64_t end;

	stats_ring(&srv, &head, &tail, NULL);
	first = head + 1;
	pid = fork();
	if (pid < 0)
		tap_bail("fork failed");
	if (pid == 0)
		race_publisher(first, N);
	/* resume once some of the messages are out and more keep coming */
	end = tlib_ms() + WAIT_MS;
	do {
		tlib_sleep_ms(5);
		stats_ring(&srv, &head, &tail, NULL);
	} while (head < first + 100 && tlib_ms() < end);
	c = tc_open_greeted(srv.port);
	hello(c, epoch, &head);
	since = first + 49;
	snprintf(f, sizeof(f), "{\"action\":\"subscribe\",\"data\":\"race\",\"since\":%lld,\"epoch\":\"%s\"}", since, epoch);
	tc_sendz(c, f);
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0,
	    "resume during publishing: ACK (the publisher was at seq %lld)", head);
	ok = expect_replay(c, "race", since + 1, first + N - 1, "resume during publishing");
	tap_ok(ok, "resume during publishing: seq %lld..%lld, each once, in order, no gap",
	    since + 1, first + N - 1);
	tc_quiet(c, 300, "resume during publishing: nothing more");
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the publisher process finished");
	stats_ring(&srv, &s, &tail, NULL);
	tap_is_int(s, first + N - 1, "the ring's newest seq is the publisher's last");
	tc_close(c);
}

/* test_wrap - a 1 MiB ring that wrapped: gap for the lost range, then the rest. */
static void
test_wrap(void)
{
	static const char *const args[] = { "-w", "2", "-o", "ring_size=1M", NULL };
	enum { N = 48, DATA = 50000 };
	struct tsrv big;
	struct tc *pub, *c;
	char *obj = malloc(DATA + 256), *f = malloc(DATA + 1024), epoch[17], want[128];
	long long head, tail, s, got;
	int i, n, ok;

	if (obj == NULL || f == NULL)
		tap_bail("out of memory");
	if (tsrv_start(&big, args) < 0)
		tap_bail("cannot start janusd with a 1 MiB ring");
	pub = tc_open_greeted(big.port);
	for (i = 1; i <= N; i++) {
		n = snprintf(obj, 256, "{\"action\":\"publish\",\"topic\":\"big\",\"message_id\":\"r%d\",\"data\":\"", i);
		memset(obj + n, 'a' + i % 26, DATA);
		snprintf(obj + n + DATA, 256, "\"}");
		tc_sendz(pub, obj);
	}
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"big-end\",\"ack\":true}");
	tc_frame(pub, f, 1024, WAIT_MS);
	ok = stats_ring(&big, &head, &tail, NULL) == 0;
	tap_ok(ok && head == N + 1 && tail > 2 && tail <= N,
	    "%d messages of 50 kB wrapped the 1 MiB ring (head %lld, tail %lld)", N, head, tail);

	c = tc_open_greeted(big.port);
	hello(c, epoch, &s);
	snprintf(obj, 256, "{\"action\":\"subscribe\",\"data\":\"big\",\"since\":0,\"epoch\":\"%s\"}", epoch);
	tc_sendz(c, obj);
	tap_ok(tc_frame(c, f, 1024, WAIT_MS) == 3 && strcmp(f, "ACK") == 0, "since older than the ring: ACK");
	snprintf(want, sizeof(want), "{\"gap\":{\"topic\":\"big\",\"from\":1,\"to\":%lld}}", tail - 1);
	tc_frame(c, f, 1024, WAIT_MS);
	tap_is_str(f, want, "since older than the ring: a gap frame naming the lost range");
	ok = 1;
	for (s = tail; s <= N && ok; s++) {
		got = v2_msg(c, f, DATA + 1024, WAIT_MS);
		n = snprintf(want, sizeof(want), "{\"topic\":\"big\",\"message_id\":\"r%lld\",\"data\":\"", s);
		ok = got == s && strncmp(f, want, (size_t)n) == 0 && strlen(f) == (size_t)n + DATA + 2 &&
		    f[n] == 'a' + s % 26 && f[n + DATA - 1] == 'a' + s % 26;
		if (!ok)
			tap_diag("  replay: got seq %lld '%.80s...' (%zu bytes), expected seq %lld", got, f, strlen(f), s);
	}
	tap_ok(ok, "then the replay of what the ring holds (%lld..%d), whole", tail, N);
	tc_quiet(c, 300, "then nothing more");
	tc_close(c);

	/* since inside what the ring holds: no gap */
	c = tc_open_greeted(big.port);
	hello(c, epoch, &s);
	snprintf(obj, 256, "{\"action\":\"subscribe\",\"data\":\"big\",\"since\":%lld,\"epoch\":\"%s\"}", (long long)N - 2, epoch);
	tc_sendz(c, obj);
	tc_frame(c, f, 1024, WAIT_MS);
	got = v2_msg(c, f, DATA + 1024, WAIT_MS);
	ok = got == N - 1;
	got = v2_msg(c, f, DATA + 1024, WAIT_MS);
	tap_ok(ok && got == N, "since inside the ring: no gap, the replay at once");
	tc_close(c);
	tc_close(pub);
	tsrv_stop(&big, 0);
	free(obj);
	free(f);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };

	tap_plan(9 + 11 + 5 + 6);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	test_hello_and_seq();
	test_resume();
	test_resume_race();
	tsrv_stop(&srv, 0);
	test_wrap();
	return tap_done();
}
