/*
 * t/slow_consumers.c - subscribers that never read, beside ones that do.
 *
 * janusd -w 2 with a small max_backlog (64k). On one topic: 20 Part 1
 * subscribers and 20 version 2 subscribers that stop reading after their
 * ACK (with a 4 KiB receive buffer and a small MSS, so they fill at
 * once: see sc_open), and 10 readers (5 of each kind). 3,000 messages of
 * about 1 KiB are published on a persistent connection, in batches the
 * readers keep up with. Checks: the readers get everything in order; the
 * workers count slow consumers; the server's memory, apart from the
 * shared ring, stays bounded; the Part 1 non-readers were closed (what
 * they got before is a gapless start of the stream); the version 2
 * non-readers, with slow_policy skip, find their messages in order up to
 * a gap frame that starts exactly where they stop, are still connected,
 * and get the next messages with the seqs right after the gap. A second
 * server with slow_policy=disconnect closes the version 2 non-readers
 * too. Neither server logs a warning or an error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define SC_WORKERS   2
#define SC_P1        20          /* Part 1 non-readers */
#define SC_V2        20          /* version 2 non-readers */
#define SC_READERS   10          /* the first half Part 1, the rest version 2 */
#define SC_MESSAGES  3000
#define SC_TAIL      10          /* published after the skipped clients caught up */
#define SC_BATCH     50          /* publishes between waits for the readers */
#define SC_DATA      1000        /* bytes of "data" per message */
#define SC_RCVBUF    4096
#define SC_MSS       536         /* keeps the server's send buffer small: see tc_open_small */
#define SC_RSS_MAX_KB (4 << 10)  /* private memory the server may grow by */
#define SC_ALARM_S   90
#define SC_STALL_WAIT_MS 10000   /* stall_timeout (1 s) and then some */

/* What a group of processes holds, in kB, from /proc/PID/status. */
struct sc_mem {
	long rss, anon, shmem;
};

/* A stream of messages as a client saw it, checked as it goes. */
struct sc_seen {
	long next_n;                 /* the "n" expected next */
	long long next_seq;          /* the seq expected next (version 2), -1 before the first */
	unsigned gaps, errors, slow_errors, bad;
	int eof;
	char note[200];
};

static struct {
	struct tsrv srv;
	struct tc *pub;
	struct tc *rd[SC_READERS], *p1[SC_P1], *v2[SC_V2];
	struct sc_seen rds[SC_READERS];
	uint64_t ack_seq[SC_MESSAGES + SC_TAIL];
	unsigned sent, acked, pub_bad;
	char frame[SC_DATA + 512];
} sc;

/* sc_bad - count a problem, keeping the first for the diagnostics. */
static void
sc_bad(struct sc_seen *s, const char *what, const char *f)
{
	s->bad++;
	if (s->note[0] == '\0')
		snprintf(s->note, sizeof(s->note), "%s: %.120s", what, f);
}

/* sc_subscriber - greeting, hello if v2, subscribe and ACK; then it is up to the caller to read. */
static struct tc *
sc_subscriber(int v2, int rcvbuf)
{
	struct tc *c = tc_open_small(sc.srv.port, rcvbuf, rcvbuf > 0 ? SC_MSS : 0);
	char f[256];

	if (c == NULL || tc_greeting(c) < 0)
		goto fail;
	if (v2 && (tc_send(c, "{\"action\":\"hello\",\"version\":2}", 31) < 0 ||
	    tc_frame(c, f, sizeof(f), 5000) <= 0 || strncmp(f, "{\"hello\":{\"version\":2,", 22) != 0))
		goto fail;
	if (tc_subscribe(c, "slow") < 0)
		goto fail;
	return c;
fail:
	tc_close(c);
	return NULL;
}

/* sc_mem_of - add one process's memory figures. */
static void
sc_mem_of(long long pid, struct sc_mem *m)
{
	char path[64], line[256];
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			m->rss += v;
		else if (sscanf(line, "RssAnon: %ld", &v) == 1)
			m->anon += v;
		else if (sscanf(line, "RssShmem: %ld", &v) == 1)
			m->shmem += v;
	}
	fclose(f);
}

/* sc_mem - the master's and the workers' memory together. */
static struct sc_mem
sc_mem(void)
{
	struct sc_mem m = { 0, 0, 0 };
	char buf[8192];
	unsigned i;

	sc_mem_of(sc.srv.pid, &m);
	if (tsrv_stats(&sc.srv, buf, sizeof(buf)) < 0)
		return m;
	for (i = 0; i < SC_WORKERS; i++)
		sc_mem_of(tsrv_stat_in(buf, i, "pid"), &m);
	return m;
}

/*
 * sc_see - one frame of the stream: a message must be the next one (by
 * "n", and by seq for version 2); a gap must start where the messages
 * stopped, and the messages go on right after it.
 */
static void
sc_see(struct sc_seen *s, const char *f)
{
	long long n, seq, from, to;

	if (strcmp(f, "PING") == 0)
		return;
	if (strncmp(f, "{\"gap\":{\"topic\":\"slow\",", 23) == 0) {
		from = tc_num_after(f, "\"from\":");
		to = tc_num_after(f, "\"to\":");
		s->gaps++;
		if (s->next_seq < 0 || from != s->next_seq || to < from)
			sc_bad(s, "gap not where the messages stopped", f);
		s->next_seq = to + 1;
		return;
	}
	if (strncmp(f, "{\"error\":", 9) == 0) {
		s->errors++;
		s->slow_errors += strncmp(f, "{\"error\":\"slow_consumer\"", 24) == 0;
		return;
	}
	n = tc_num_after(f, "\"n\":");
	seq = tc_num_after(f, "],\"seq\":");
	if (strncmp(f, "{\"timestamp\":[", 14) != 0 || n < 0 || s->errors > 0) {
		sc_bad(s, "unexpected frame", f);
		return;
	}
	if (s->gaps == 0 && n != s->next_n)
		sc_bad(s, "message out of order", f);
	if (seq >= 0 && s->next_seq >= 0 && seq != s->next_seq)
		sc_bad(s, "seq out of order", f);
	s->next_n = n + 1;
	if (seq >= 0)
		s->next_seq = seq + 1;
}

/* sc_read - the frames a client has (waiting up to ms for the first): how many, -1 if none came, -2 at EOF. */
static long
sc_read(struct tc *c, struct sc_seen *s, int ms)
{
	long n, got = 0;

	while ((n = tc_frame(c, sc.frame, sizeof(sc.frame), got > 0 ? 0 : ms)) >= 0) {
		sc_see(s, sc.frame);
		got++;
	}
	if (n == -2)
		s->eof = 1;
	return n == -2 ? -2 : got > 0 ? got : -1;
}

/* sc_readers_at - every reader has message n-1 (or is gone). */
static int
sc_readers_at(long n)
{
	unsigned i;

	for (i = 0; i < SC_READERS; i++)
		if (sc.rds[i].next_n < n && !sc.rds[i].eof)
			return 0;
	return 1;
}

/* sc_readers_wait - read until every reader has all that was published, up to 5 s. */
static void
sc_readers_wait(void)
{
	struct pollfd pfd[SC_READERS];
	uint64_t end = tlib_ms() + 5000;
	unsigned i;

	while (!sc_readers_at(sc.sent) && tlib_ms() < end) {
		for (i = 0; i < SC_READERS; i++)
			pfd[i] = (struct pollfd){ sc.rd[i]->fd, POLLIN, 0 };
		if (poll(pfd, SC_READERS, 10) < 0 && errno != EINTR)
			break;
		for (i = 0; i < SC_READERS; i++)
			if (!sc.rds[i].eof)
				sc_read(sc.rd[i], &sc.rds[i], 0);
	}
}

/* sc_publish - messages up to n, a batch at a time, with their acks and the readers in step. */
static void
sc_publish(unsigned n)
{
	static char buf[SC_BATCH * (SC_DATA + 128)];
	char pad[SC_DATA + 1], f[256];
	size_t len;
	long long seq;

	memset(pad, 'x', SC_DATA);
	pad[SC_DATA] = '\0';
	while (sc.sent < n) {
		unsigned first = sc.sent;

		for (len = 0; sc.sent < n && sc.sent - first < SC_BATCH; sc.sent++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "{\"action\":\"publish\",\"topic\":\"slow\",\"n\":%u,\"data\":\"%s\",\"ack\":true}",
			    sc.sent, pad) + 1;
		if (tc_send(sc.pub, buf, len) < 0)
			return;
		while (sc.acked < sc.sent) {
			if (tc_frame(sc.pub, f, sizeof(f), 5000) < 0)
				return;
			seq = tc_num_after(f, "{\"published\":{\"seq\":");
			if (seq > 0)
				sc.ack_seq[sc.acked++] = (uint64_t)seq;
			else if (strcmp(f, "PING") != 0)
				sc.pub_bad++;
		}
		sc_readers_wait();
	}
}

/* sc_setup - the publisher and the 50 subscribers. */
static int
sc_setup(void)
{
	unsigned i, ok = 0;

	sc.pub = tc_open(sc.srv.port);
	ok += sc.pub != NULL && tc_greeting(sc.pub) == 0;
	for (i = 0; i < SC_READERS; i++) {
		sc.rd[i] = sc_subscriber(i >= SC_READERS / 2, 0);
		ok += sc.rd[i] != NULL;
	}
	for (i = 0; i < SC_P1; i++) {
		sc.p1[i] = sc_subscriber(0, SC_RCVBUF);
		ok += sc.p1[i] != NULL;
	}
	for (i = 0; i < SC_V2; i++) {
		sc.v2[i] = sc_subscriber(1, SC_RCVBUF);
		ok += sc.v2[i] != NULL;
	}
	return ok == 1 + SC_READERS + SC_P1 + SC_V2;
}

/* sc_readers_verdict - every reader has the whole stream in order. */
static void
sc_readers_verdict(const char *policy)
{
	unsigned i, good = 0;
	const char *note = NULL;

	for (i = 0; i < SC_READERS; i++) {
		const struct sc_seen *s = &sc.rds[i];

		good += s->next_n == SC_MESSAGES && s->bad == 0 && s->gaps == 0 &&
		    s->errors == 0 && !s->eof &&
		    (i < SC_READERS / 2 || (uint64_t)s->next_seq == sc.ack_seq[SC_MESSAGES - 1] + 1);
		if (note == NULL && s->note[0] != '\0')
			note = s->note;
	}
	if (note != NULL)
		tap_diag("first problem: %s", note);
	tap_is_int(good, SC_READERS, "%s: every reader got all %d messages in order", policy, SC_MESSAGES);
}

/* sc_slow_verdict - each worker counted slow consumers. */
static void
sc_slow_verdict(const char *policy)
{
	long long slow[SC_WORKERS];
	unsigned i, ok = 1;

	uint64_t until = tlib_ms() + SC_STALL_WAIT_MS;

	/* a non-reader counts as slow once it stalled (stall_timeout), not at once */
	do {
		ok = 1;
		for (i = 0; i < SC_WORKERS; i++) {
			slow[i] = tsrv_stat(&sc.srv, i, "slow");
			ok &= slow[i] > 0;
		}
	} while (!ok && tlib_ms() < until && (tlib_sleep_ms(100), 1));
	tap_ok(ok, "%s: the workers counted slow consumers (slow: %lld, %lld)", policy, slow[0], slow[1]);
}

/*
 * sc_closed_verdict - non-readers that must have been closed: reading
 * now gives a gapless start of the stream, perhaps a slow_consumer
 * error, then the end of the stream.
 */
static void
sc_closed_verdict(struct tc **cs, unsigned n, const char *who, const char *policy)
{
	struct sc_seen s;
	unsigned i, closed = 0, clean = 0, told = 0;
	long got = 0;
	const char *note = NULL;
	static char notes[200];

	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof(s));
		s.next_seq = -1;
		while (cs[i] != NULL && !s.eof && sc_read(cs[i], &s, 2000) != -1)
			;
		closed += s.eof;
		clean += s.bad == 0 && s.gaps == 0 && s.errors == s.slow_errors;
		told += s.slow_errors > 0;
		got += s.next_n;
		if (note == NULL && s.note[0] != '\0') {
			snprintf(notes, sizeof(notes), "%s", s.note);
			note = notes;
		}
	}
	if (note != NULL)
		tap_diag("first problem: %s", note);
	tap_diag("%s: %s non-readers: %u of %u closed, %u told slow_consumer first; "
	    "on average %ld messages each before the close", policy, who, closed, n, told, got / (long)n);
	tap_ok(closed == n && clean == n, "%s: %s non-readers were closed, after a gapless start of the stream",
	    policy, who);
}

/* sc_drain_to - read c until it has seq last (or a gap through it), EOF, or 2 s of silence. */
static void
sc_drain_to(struct tc *c, struct sc_seen *s, uint64_t last)
{
	while (c != NULL && (uint64_t)s->next_seq <= last && !s->eof && sc_read(c, s, 2000) != -1)
		;
}

/*
 * sc_skipped_verdict - slow_policy skip: reading at last, a non-reader
 * finds its messages in order up to a gap frame that starts right where
 * they stop (perhaps several, while the kernel let a few more through),
 * the last one reaching the newest message. It is still connected: the
 * next messages published reach it, their seqs right after the gap's.
 */
static void
sc_skipped_verdict(void)
{
	static struct sc_seen s[SC_V2];
	uint64_t last = sc.ack_seq[SC_MESSAGES - 1], tail;
	unsigned i, good = 0, cont = 0, gaps = 0;
	long long got = 0;
	const char *note = NULL;

	for (i = 0; i < SC_V2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].next_seq = (long long)sc.ack_seq[0];
		sc_drain_to(sc.v2[i], &s[i], last);
		good += s[i].bad == 0 && s[i].gaps > 0 && s[i].errors == 0 && !s[i].eof &&
		    (uint64_t)s[i].next_seq == last + 1;
		gaps += s[i].gaps;
	}
	sc_publish(SC_MESSAGES + SC_TAIL);
	tail = sc.ack_seq[SC_MESSAGES + SC_TAIL - 1];
	for (i = 0; i < SC_V2; i++) {
		got += s[i].next_n;
		sc_drain_to(sc.v2[i], &s[i], tail);
		cont += s[i].bad == 0 && s[i].errors == 0 && !s[i].eof &&
		    (uint64_t)s[i].next_seq == tail + 1 && s[i].next_n == SC_MESSAGES + SC_TAIL;
		if (note == NULL && s[i].note[0] != '\0')
			note = s[i].note;
	}
	if (note != NULL)
		tap_diag("first problem: %s", note);
	tap_diag("skip: version 2 non-readers: %u gap frames in all; on average, the last message "
	    "before the final gap was n=%lld", gaps, got / SC_V2 - 1);
	tap_is_int(good, SC_V2, "skip: version 2 non-readers find their messages in order up to "
	    "a gap frame that starts where they stop and reaches seq %llu", (unsigned long long)last);
	tap_is_int(cont, SC_V2, "skip: they were skipped forward, not disconnected: "
	    "the next %d messages reach them, seqs right after the gap", SC_TAIL);
}

/* sc_run - one server with one slow_policy, through every check. */
static void
sc_run(const char *policy)
{
	char opt[64];
	const char *args[] = { "-w", "2", "-o", "max_backlog=64k", "-o", "stall_timeout=1s", "-o", opt, NULL };
	struct sc_mem before, after;
	unsigned i;

	memset(&sc, 0, sizeof(sc));
	snprintf(opt, sizeof(opt), "slow_policy=%s", policy);
	if (tsrv_start(&sc.srv, args) < 0)
		tap_bail("cannot start janusd");
	before = sc_mem();
	tap_ok(sc_setup(), "%s: publisher, %d readers and %d non-readers subscribed", policy,
	    SC_READERS, SC_P1 + SC_V2);
	for (i = 0; i < SC_READERS; i++)
		sc.rds[i].next_seq = -1;
	if (sc.pub == NULL || sc.rd[SC_READERS - 1] == NULL || sc.v2[SC_V2 - 1] == NULL)
		tap_bail("%s: cannot go on without the clients", policy);
	sc_publish(SC_MESSAGES);
	tap_ok(sc.acked == SC_MESSAGES && sc.pub_bad == 0, "%s: all %d publishes acknowledged (%u)",
	    policy, SC_MESSAGES, sc.acked);
	sc_readers_verdict(policy);
	sc_slow_verdict(policy);
	after = sc_mem();
	tap_diag("%s: server memory before/after, kB: VmRSS %ld/%ld, RssAnon %ld/%ld, RssShmem %ld/%ld",
	    policy, before.rss, after.rss, before.anon, after.anon, before.shmem, after.shmem);
	tap_ok(before.rss > 0 && (after.rss - after.shmem) - (before.rss - before.shmem) < SC_RSS_MAX_KB,
	    "%s: the server's RSS, not counting the shared ring, grew by less than %d kB (%ld kB)",
	    policy, SC_RSS_MAX_KB, (after.rss - after.shmem) - (before.rss - before.shmem));
	sc_closed_verdict(sc.p1, SC_P1, "Part 1", policy);
	if (strcmp(policy, "skip") == 0)
		sc_skipped_verdict();
	else
		sc_closed_verdict(sc.v2, SC_V2, "version 2", policy);
	tap_is_int(tsrv_log_alerts(&sc.srv, NULL), 0, "%s: the server logged no warning or error", policy);
	tc_close(sc.pub);
	for (i = 0; i < SC_READERS; i++)
		tc_close(sc.rd[i]);
	for (i = 0; i < SC_P1; i++)
		tc_close(sc.p1[i]);
	for (i = 0; i < SC_V2; i++)
		tc_close(sc.v2[i]);
	tsrv_stop(&sc.srv, 0);
}

int
main(void)
{
	alarm(SC_ALARM_S);
	tap_plan(17);
	sc_run("skip");
	sc_run("disconnect");
	return tap_done();
}
