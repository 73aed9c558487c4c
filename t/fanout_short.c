/*
 * t/fanout_short.c - fan-out through each write path, with writes cut short.
 *
 * janusd -w 1, once with -o io_uring=yes (skipped, saying why, where the
 * kernel refuses io_uring) and once with -o io_uring=no; janusd -s must
 * name the path. On one topic, subscribers with a 4 KiB receive buffer
 * and a small MSS (tc_open_small), so that nearly every fan-out write is
 * cut short or finds the socket full: readers (Part 1 and version 2)
 * drained after each batch of publishes, and stallers that read nothing
 * until everything is published, so they go behind and are served from
 * their cursors. Messages are of many sizes, up to a few times the
 * receive buffer. Checks, per path: every subscriber gets every message
 * byte for byte, in order, once (version 2: consecutive seqs); the worker
 * counts each delivery once (delivered) and every byte it wrote once
 * (bytes_out grows by what the subscribers read); the log has no
 * warning or error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define FS_READERS   10          /* the first half Part 1, the rest version 2 */
#define FS_STALLERS  6           /* likewise */
#define FS_SUBS      (FS_READERS + FS_STALLERS)
#define FS_MESSAGES  1200
#define FS_BATCH     40          /* publishes between drains of the readers */
#define FS_DATA_MAX  9000        /* bytes of "data": up to a few receive buffers */
#define FS_RCVBUF    4096
#define FS_MSS       536
#define FS_WAIT_MS   10000
#define FS_ALARM_S   240
#define FS_CHECKS    7

/* A subscriber and what it has seen, checked as it goes. */
struct fs_sub {
	struct tc *c;
	int v2;
	long next;                   /* the message number expected next */
	long long seq;               /* version 2: the last seq, -1 before the first */
	unsigned bad;
	char note[200];
};

static struct {
	struct tsrv srv;
	struct tc *pub;
	struct fs_sub sub[FS_SUBS];
	unsigned long long bytes;    /* everything the clients read */
	char data[FS_DATA_MAX + 1];
	char frame[FS_DATA_MAX + 256];
	char want[FS_DATA_MAX + 256];
} fs;

/* fs_len - the data length of message i: varied, from tiny to several receive buffers. */
static size_t
fs_len(long i)
{
	return 1 + (size_t)(i * 2713) % FS_DATA_MAX;
}

/* fs_body - message i as delivered after its timestamp (and seq), into dst. */
static void
fs_body(char *dst, size_t cap, long i)
{
	size_t n = fs_len(i), k;

	for (k = 0; k < n; k++)
		fs.data[k] = (char)('a' + (i * 7 + (long)k * 13) % 26);
	fs.data[n] = '\0';
	snprintf(dst, cap, "\"topic\":\"short\",\"n\":%ld,\"data\":\"%s\"}", i, fs.data);
}

/* fs_frame - the next frame on c, counted in fs.bytes (with its \1). */
static long
fs_frame(struct tc *c, char *out, size_t cap, int ms)
{
	long n = tc_frame(c, out, cap, ms);

	if (n >= 0)
		fs.bytes += (unsigned long long)n + 1;
	return n;
}

/* fs_open - greeted, said hello if v2, subscribed to "short", every reply counted; NULL on failure. */
static struct tc *
fs_open(int v2, int small)
{
	struct tc *c = small ? tc_open_small(fs.srv.port, FS_RCVBUF, FS_MSS) : tc_open(fs.srv.port);
	static const char hello[] = "{\"action\":\"hello\",\"version\":2}";
	static const char sub[] = "{\"action\":\"subscribe\",\"data\":\"short\"}";
	char f[512];

	if (c == NULL || fs_frame(c, f, sizeof(f), 5000) <= 0 || strncmp(f, "{\"timestamp\":[", 14) != 0)
		goto fail;
	if (v2 && (tc_send(c, hello, sizeof(hello)) < 0 || fs_frame(c, f, sizeof(f), 5000) <= 0 ||
	    strncmp(f, "{\"hello\":{\"version\":2,", 22) != 0))
		goto fail;
	if (small && (tc_send(c, sub, sizeof(sub)) < 0 || fs_frame(c, f, sizeof(f), 5000) != 3 ||
	    strcmp(f, "ACK") != 0))
		goto fail;
	return c;
fail:
	tc_close(c);
	return NULL;
}

/* fs_bad - a problem on s, the first kept for the diagnostics. */
static void
fs_bad(struct fs_sub *s, const char *what, const char *f)
{
	s->bad++;
	if (s->note[0] == '\0')
		snprintf(s->note, sizeof(s->note), "message %ld: %s: %.100s", s->next, what, f);
}

/* fs_check - one delivered frame against the message s expects next. */
static void
fs_check(struct fs_sub *s, char *f)
{
	long long seq = -1;

	if (tc_strip_ts(f) < 0) {
		fs_bad(s, "no timestamp", f);
		return;
	}
	if (s->v2 && (seq = tc_strip_seq(f)) < 0) {
		fs_bad(s, "no seq", f);
		return;
	}
	if (s->v2 && s->seq >= 0 && seq != s->seq + 1)
		fs_bad(s, "seq not the next", f);
	s->seq = seq;
	fs_body(fs.want, sizeof(fs.want), s->next);
	/* after tc_strip_ts the frame is {"topic":..., the same as want after its brace */
	if (f[0] != '{' || strcmp(f + 1, fs.want) != 0)
		fs_bad(s, "not the message expected", f);
	s->next++;
}

/* fs_drain - read s until it has every message up to (not including) upto; 0, or -1 on a timeout or EOF. */
static int
fs_drain(struct fs_sub *s, long upto)
{
	long n;

	while (s->next < upto) {
		n = fs_frame(s->c, fs.frame, sizeof(fs.frame), FS_WAIT_MS);
		if (n < 0) {
			fs_bad(s, n == -1 ? "timed out" : "connection closed", "");
			return -1;
		}
		fs_check(s, fs.frame);
	}
	return 0;
}

/* fs_publish - message i, without a reply. 0 or -1. */
static int
fs_publish(long i)
{
	size_t n;

	fs_body(fs.want, sizeof(fs.want), i);
	n = (size_t)snprintf(fs.frame, sizeof(fs.frame), "{\"action\":\"publish\",%s", fs.want);
	return tc_send(fs.pub, fs.frame, n + 1);
}

/* fs_path - janusd -s: worker 0's write_path, into out. */
static void
fs_path(char *out, size_t cap)
{
	char buf[8192];
	const char *p;

	snprintf(out, cap, "?");
	if (tsrv_stats(&fs.srv, buf, sizeof(buf)) == 0 && (p = strstr(buf, "\"write_path\":\"")) != NULL)
		snprintf(out, cap, "%.*s", (int)strcspn(p + 14, "\""), p + 14);
}

/* fs_run_subs - publish everything, draining the readers per batch, then the stallers; how many failed. */
static unsigned
fs_run_subs(void)
{
	unsigned i, failed = 0;
	long m;

	for (m = 0; m < FS_MESSAGES; m++) {
		if (fs_publish(m) < 0)
			return FS_SUBS;
		if ((m + 1) % FS_BATCH != 0 && m + 1 != FS_MESSAGES)
			continue;
		for (i = 0; i < FS_READERS; i++)
			if (fs.sub[i].bad == 0)
				fs_drain(&fs.sub[i], m + 1);
	}
	for (i = FS_READERS; i < FS_SUBS; i++)
		fs_drain(&fs.sub[i], FS_MESSAGES);
	for (i = 0; i < FS_SUBS; i++) {
		if (fs.sub[i].bad == 0)
			continue;
		if (failed++ == 0)
			tap_diag("subscriber %u (%s, %s): %u problems; first: %s", i,
			    i < FS_READERS ? "reader" : "staller", fs.sub[i].v2 ? "v2" : "Part 1",
			    fs.sub[i].bad, fs.sub[i].note);
	}
	return failed;
}

/*
 * fs_bytes_settled - bytes_out once it stops moving. On io_uring a send is
 * counted when its completion is reaped, which can come just after the client
 * has read the bytes (a subscriber's ACK), so the count is read until two
 * reads 20 ms apart agree.
 */
static long long
fs_bytes_settled(void)
{
	long long prev = -2, now = -1;
	int tries;

	for (tries = 0; tries < 100 && now != prev; tries++) {
		prev = now;
		tlib_sleep_ms(20);
		now = tsrv_stat(&fs.srv, 0, "bytes_out");
	}
	return now;
}

/* fs_one - one server on one write path (want: what -s must say), all the checks. */
static void
fs_one(const char *setting, const char *want)
{
	const char *args[] = { "-w", "1", "-o", "max_backlog=1G", "-o", setting, NULL };
	char path[32];
	unsigned i, failed;
	long long delivered, bytes, bytes0;
	unsigned long long read0;

	memset(fs.sub, 0, sizeof(fs.sub));
	fs.bytes = 0;
	if (tsrv_start(&fs.srv, args) < 0)
		tap_bail("janusd did not start");
	/* the port accepts before the worker is up: its write path is logged after the slot shows it */
	tsrv_log_wait(&fs.srv, "write path: ", 5000);
	fs_path(path, sizeof(path));
	if (strcmp(want, "io_uring") == 0 && strcmp(path, "send") == 0 &&
	    tsrv_log_has(&fs.srv, "write path: send() (io_uring_setup")) {
		tap_skip(FS_CHECKS, "the kernel refuses io_uring here");
		tsrv_log_show(&fs.srv);
		tsrv_stop(&fs.srv, 0);
		return;
	}
	tap_is_str(path, want, "%s: janusd -s says write_path %s", setting, want);
	tap_ok(tsrv_log_has(&fs.srv, want[0] == 'i' ? "write path: io_uring (" : "write path: send() (io_uring no)"),
	    "%s: the log says which write path and why", setting);
	fs.pub = fs_open(0, 0);
	for (i = 0; i < FS_SUBS; i++) {
		fs.sub[i].v2 = (i < FS_READERS ? i >= FS_READERS / 2 : i >= FS_READERS + FS_STALLERS / 2);
		fs.sub[i].seq = -1;
		fs.sub[i].c = fs_open(fs.sub[i].v2, 1);
	}
	for (i = 0; i < FS_SUBS && fs.sub[i].c != NULL; i++)
		;
	if (fs.pub == NULL || i < FS_SUBS)
		tap_bail("%s: could not set up the publisher and %u subscribers", setting, FS_SUBS);
	/* from here on (tsrv_start's probe got a greeting nobody counted) */
	bytes0 = fs_bytes_settled();
	read0 = fs.bytes;
	failed = fs_run_subs();
	tap_is_int(failed, 0, "%s: every subscriber got all %d messages (1 to %d bytes), whole, in order, once",
	    setting, FS_MESSAGES, FS_DATA_MAX);
	delivered = tsrv_stat(&fs.srv, 0, "delivered");
	tap_is_int(delivered, (long long)FS_SUBS * FS_MESSAGES, "%s: delivered counts each message once per subscriber",
	    setting);
	bytes = fs_bytes_settled();
	tap_is_int(bytes - bytes0, (long long)(fs.bytes - read0),
	    "%s: bytes_out is every byte the subscribers read, once", setting);
	tap_ok(fs.sub[FS_READERS].next == FS_MESSAGES && fs.sub[FS_SUBS - 1].next == FS_MESSAGES,
	    "%s: the stallers, each far more than its buffers behind, caught up from their cursors", setting);
	tap_is_int(tsrv_log_alerts(&fs.srv, NULL), 0, "%s: no warning or error in the log", setting);
	for (i = 0; i < FS_SUBS; i++)
		tc_close(fs.sub[i].c);
	tc_close(fs.pub);
	tsrv_stop(&fs.srv, 0);
}

int
main(void)
{
	alarm(FS_ALARM_S);
	tap_plan(2 * FS_CHECKS);
	fs_one("io_uring=yes", "io_uring");
	fs_one("io_uring=no", "send");
	return tap_done();
}
