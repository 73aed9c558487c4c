/*
 * t/flow_pace.c - flow control: a pipelining publisher is paced, readers
 * are not dropped, subscribers that stop reading are (issue 11).
 *
 * A publisher writes 100,000 publish actions as fast as its socket takes
 * them (one write stream; nothing waits for a reply but the last publish,
 * acknowledged). Subscribers read in child processes, each checking every
 * message it gets: "n" one more than the one before.
 *   defaults, 100 and 1,000 reading subscribers: every one gets every message;
 *   ring_size=1M and readers that take 4 KiB a millisecond: the publisher
 *     must wait for them (the workers count paced publishes), and every
 *     reader still gets every message;
 *   ring_size=1M, stall_timeout=1s, with 5 Part 1 and 5 version 2
 *     subscribers that stop reading: the readers get everything, the Part 1
 *     ones are closed, the version 2 ones are skipped with a gap and go on,
 *     and the publisher finishes.
 * Counts only; the one bound on time is the alarm against a hung run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define FP_MESSAGES   100000
#define FP_CHILDREN   4            /* reader processes */
#define FP_MAX_SUBS   1000
#define FP_SILENCE_MS 20000        /* a reader that hears nothing this long gives up */
#define FP_ALARM_S    900
/* about 190 bytes a message, 19 MB in all: the measurement issue 11 reports */
#define FP_PAD "0123456789012345678901234567890123456789012345678901234567890123456789" \
    "01234567890123456789012345678901234567890123"

/* What one subscriber saw: sent back by its reader process. */
struct fp_seen {
	long got;                  /* messages, each "n" one after the last */
	long bad;                  /* out of order or malformed */
	long gaps;                 /* gap frames (version 2) */
	int eof;                   /* the server closed it */
};

/* A subscriber as its reader process keeps it. */
struct fp_sub {
	int fd;
	int reads;                 /* 0: it stopped reading after its ACK */
	uint32_t plen;
	char part[1024];           /* an unfinished frame */
	long next;                 /* the n expected next */
	struct fp_seen seen;
};

static struct fp_sub subs[FP_MAX_SUBS];
static unsigned nsubs;
static int fp_slow;                /* readers take 4 KiB at a time and rest 1 ms between rounds */

/* fp_frame - the next \1 frame of a fresh connection (greeting, hello, ACK); its length or -1. */
static long
fp_frame(int fd, char *buf, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t n = 0;

	while (n + 1 < cap) {
		if (poll(&p, 1, 5000) <= 0 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\1') {
			buf[n] = '\0';
			return (long)n;
		}
		n++;
	}
	return -1;
}

/* fp_send - all of len bytes to a non-blocking fd (waits for room); 0 or -1. */
static int
fp_send(int fd, const char *p, size_t len)
{
	struct pollfd pf = { fd, POLLOUT, 0 };
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			if (poll(&pf, 1, FP_SILENCE_MS) <= 0)
				return -1;
		} else if (n < 0 && errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

/* fp_subscribe - a subscriber: greeting, (hello), subscribe, ACK; -1 on failure. */
static int
fp_subscribe(unsigned port, int v2, int reads, int rcvbuf)
{
	static const char hello[] = "{\"action\":\"hello\",\"version\":2}";
	static const char sub[] = "{\"action\":\"subscribe\",\"data\":\"flow\"}";
	struct fp_sub *s = &subs[nsubs];
	char f[512];
	int fd = tc_connect(port, rcvbuf, rcvbuf ? 1200 : 0);

	if (fd < 0)
		return -1;
	if (fp_frame(fd, f, sizeof(f)) < 0 ||
	    (v2 && (fp_send(fd, hello, sizeof(hello)) < 0 || fp_frame(fd, f, sizeof(f)) < 0)) ||
	    fp_send(fd, sub, sizeof(sub)) < 0 || fp_frame(fd, f, sizeof(f)) != 3) {
		close(fd);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->reads = reads;
	s->next = 1;
	nsubs++;
	return 0;
}

/* fp_one - one whole frame of s: a message must carry the next n (it ends "n":N}). */
static void
fp_one(struct fp_sub *s, const char *f, size_t len)
{
	const char *p = f + len;
	long n = 0, scale = 1;

	if (len > 8 && strncmp(f, "{\"gap\":", 7) == 0) {
		s->seen.gaps++;
		s->next = -1;           /* after a gap, take up at whatever comes next */
		return;
	}
	if (len < 8 || p[-1] != '}') {
		s->seen.bad++;
		return;
	}
	for (p -= 2; p > f && *p >= '0' && *p <= '9'; p--, scale *= 10)
		n += (*p - '0') * scale;
	if (p - 4 < f || strncmp(p - 3, "\"n\":", 4) != 0) {
		s->seen.bad++;
		return;
	}
	if (s->next != -1 && n != s->next)
		s->seen.bad++;
	else
		s->seen.got++;
	s->next = n + 1;
}

/* fp_take - split bytes read from s into frames. */
static void
fp_take(struct fp_sub *s, const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n, *one;

	while (p < end && (one = memchr(p, '\1', (size_t)(end - p))) != NULL) {
		if (s->plen > 0) {
			if (s->plen + (size_t)(one - p) < sizeof(s->part)) {
				memcpy(s->part + s->plen, p, (size_t)(one - p));
				fp_one(s, s->part, s->plen + (size_t)(one - p));
			} else {
				s->seen.bad++;
			}
			s->plen = 0;
		} else {
			fp_one(s, p, (size_t)(one - p));
		}
		p = one + 1;
	}
	if (p < end) {
		if (s->plen + (size_t)(end - p) < sizeof(s->part)) {
			memcpy(s->part + s->plen, p, (size_t)(end - p));
			s->plen += (uint32_t)(end - p);
		} else {
			s->seen.bad++;
			s->plen = 0;
		}
	}
}

/* fp_done - whether s needs nothing more: the last message (n last), or closed. */
static int
fp_done(const struct fp_sub *s, long last)
{
	return s->seen.eof || s->next > last;
}

/* fp_read_all - a reader process: read subs[from..to) until each is done or silence; report on fd out. */
static void __attribute__((noreturn))
fp_read_all(unsigned from, unsigned to, int out)
{
	static struct pollfd pf[FP_MAX_SUBS];
	static char buf[64 << 10];
	unsigned i, n, left;
	ssize_t r;

	for (;;) {
		for (i = from, n = 0, left = 0; i < to; i++) {
			if (subs[i].reads && !fp_done(&subs[i], FP_MESSAGES))
				left++;
			pf[n].fd = subs[i].reads && !fp_done(&subs[i], FP_MESSAGES) ? subs[i].fd : -1;
			pf[n++].events = POLLIN;
		}
		if (left == 0 || poll(pf, n, FP_SILENCE_MS) <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			while ((r = read(pf[i].fd, buf, fp_slow ? 4096 : sizeof(buf))) > 0 &&
			    (fp_take(&subs[from + i], buf, (size_t)r), !fp_slow))
				;
			if (r == 0 || (r < 0 && errno != EAGAIN))
				subs[from + i].seen.eof = 1;
		}
		if (fp_slow)
			usleep(1000);
	}
	for (i = from; i < to; i++)
		if (write(out, &subs[i].seen, sizeof(subs[i].seen)) != (ssize_t)sizeof(subs[i].seen))
			_exit(1);
	_exit(0);
}

/* fp_read_late - a non-reader reads at last: until it has message last, is closed, or silence. */
static void
fp_read_late(struct fp_sub *x, long last)
{
	struct pollfd pf = { x->fd, POLLIN, 0 };
	static char buf[64 << 10];
	ssize_t r;

	while (!fp_done(x, last) && poll(&pf, 1, 5000) > 0) {
		while ((r = read(x->fd, buf, sizeof(buf))) > 0)
			fp_take(x, buf, (size_t)r);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			x->seen.eof = 1;
	}
}

/* The reader processes and where they report. */
struct fp_readers {
	pid_t pid[FP_CHILDREN];
	int fd[FP_CHILDREN];
	unsigned from[FP_CHILDREN], to[FP_CHILDREN];
};

/* fp_fork_readers - reader processes for the reading subscribers, a share each. */
static void
fp_fork_readers(struct fp_readers *rd)
{
	unsigned k, share = (nsubs + FP_CHILDREN - 1) / FP_CHILDREN;
	int p[2];

	fflush(stdout);
	for (k = 0; k < FP_CHILDREN; k++) {
		rd->from[k] = k * share < nsubs ? k * share : nsubs;
		rd->to[k] = (k + 1) * share < nsubs ? (k + 1) * share : nsubs;
		if (pipe(p) < 0 || (rd->pid[k] = fork()) < 0)
			tap_bail("pipe() or fork(): %s", strerror(errno));
		if (rd->pid[k] == 0) {
			close(p[0]);
			fp_read_all(rd->from[k], rd->to[k], p[1]);
		}
		close(p[1]);
		rd->fd[k] = p[0];
	}
}

/* fp_collect - what each reader process saw, into subs[].seen. */
static void
fp_collect(struct fp_readers *rd)
{
	unsigned k, i;
	int st;

	for (k = 0; k < FP_CHILDREN; k++) {
		for (i = rd->from[k]; i < rd->to[k]; i++)
			if (read(rd->fd[k], &subs[i].seen, sizeof(subs[i].seen)) != (ssize_t)sizeof(subs[i].seen))
				subs[i].seen.bad = -1;
		close(rd->fd[k]);
		waitpid(rd->pid[k], &st, 0);
	}
}

/*
 * fp_publish - the publisher: every message as one stream of publish
 * actions, the last acknowledged; 0 once the acknowledgement came.
 */
static int
fp_publish(unsigned port)
{
	size_t cap = (size_t)FP_MESSAGES * (sizeof(FP_PAD) + 80), len = 0;
	char *buf = malloc(cap), f[256];
	struct tc *c = tc_open_greeted(port);
	long i;
	int rc = -1;

	if (buf == NULL)
		tap_bail("out of memory");
	for (i = 1; i <= FP_MESSAGES; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "{\"action\":\"publish\",\"topic\":\"flow\",\"data\":\"%s\",%s\"n\":%ld}",
		    FP_PAD, i == FP_MESSAGES ? "\"ack\":true," : "", i) + 1;
	if (fp_send(c->fd, buf, len) == 0) {
		while (tc_frame(c, f, sizeof(f), FP_SILENCE_MS) >= 0)
			if (strncmp(f, "{\"published\":", 13) == 0) {
				rc = 0;
				break;
			}
	}
	tc_close(c);
	free(buf);
	return rc;
}

/* fp_close_all - the test's subscribers go. */
static void
fp_close_all(void)
{
	unsigned i;

	for (i = 0; i < nsubs; i++)
		close(subs[i].fd);
	nsubs = 0;
}

/* fp_readers_whole - how many reading subscribers got every message, in order. */
static unsigned
fp_readers_whole(void)
{
	unsigned i, n = 0;

	for (i = 0; i < nsubs; i++)
		n += subs[i].reads && subs[i].seen.got == FP_MESSAGES && subs[i].seen.bad == 0 &&
		    subs[i].seen.gaps == 0;
	return n;
}

/* fp_stat_sum - a counter summed over the workers. */
static long long
fp_stat_sum(const struct tsrv *s, unsigned workers, const char *name)
{
	long long sum = 0, v;
	unsigned i;

	for (i = 0; i < workers; i++)
		if ((v = tsrv_stat(s, i, name)) > 0)
			sum += v;
	return sum;
}

/* fp_run - readers (and non-readers) subscribed, the publisher, then what the readers saw. */
static int
fp_run(const struct tsrv *s, unsigned readers, unsigned p1_stop, unsigned v2_stop)
{
	struct fp_readers rd;
	unsigned i;
	int pub;

	for (i = 0; i < readers; i++)
		if (fp_subscribe(s->port, i % 2, 1, 0) < 0)
			tap_bail("reader %u cannot subscribe", i);
	for (i = 0; i < p1_stop + v2_stop; i++)
		if (fp_subscribe(s->port, i >= p1_stop, 0, 4096) < 0)
			tap_bail("non-reader %u cannot subscribe", i);
	fp_fork_readers(&rd);
	pub = fp_publish(s->port);
	fp_collect(&rd);
	return pub;
}

/* test_readers - default settings: every reading subscriber gets every message. */
static void
test_readers(unsigned readers)
{
	static const char *const args[] = { "-w", "2", NULL };
	struct tsrv s;
	int pub;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	pub = fp_run(&s, readers, 0, 0);
	tap_ok(pub == 0 && fp_readers_whole() == readers,
	    "defaults, %u reading subscribers: %u got all %d messages in order, the last publish acknowledged",
	    readers, fp_readers_whole(), FP_MESSAGES);
	fp_close_all();
	tsrv_stop(&s, 0);
}

/* test_paced - a ring smaller than the stream: the publisher waits, nobody loses anything. */
static void
test_paced(void)
{
	static const char *const args[] = { "-w", "2", "-o", "ring_size=1M", "-o", "max_frame=64k", NULL };
	struct tsrv s;
	int pub;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	fp_slow = 1;
	pub = fp_run(&s, 100, 0, 0);
	fp_slow = 0;
	tap_ok(pub == 0 && fp_readers_whole() == 100,
	    "ring_size=1M, 100 slow readers: %u got all %d messages in order", fp_readers_whole(), FP_MESSAGES);
	tap_ok(fp_stat_sum(&s, 2, "paced") > 0, "... because the publisher waited for them (paced %lld times, %lld ms)",
	    fp_stat_sum(&s, 2, "paced"), fp_stat_sum(&s, 2, "paced_ms"));
	tap_is_int(fp_stat_sum(&s, 2, "slow"), 0, "... and no subscriber counted as slow");
	fp_close_all();
	tsrv_stop(&s, 0);
}

/* test_stalled - subscribers that stop reading pace nobody once stalled, and are cut or skipped. */
static void
test_stalled(void)
{
	static const char *const args[] = { "-w", "2", "-o", "ring_size=1M", "-o", "max_frame=64k",
	    "-o", "stall_timeout=1s", "-o", "pace_timeout=30s", NULL };
	struct tsrv s;
	unsigned i, closed = 0, gapped = 0;
	char last[64];
	int pub;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	pub = fp_run(&s, 50, 5, 5);
	tap_ok(pub == 0, "with 10 subscribers that stopped reading, the publisher finishes (last publish acknowledged)");
	tap_is_int(fp_readers_whole(), 50, "... and the 50 readers got all %d messages in order", FP_MESSAGES);
	for (i = 50; i < 60; i++)
		fp_read_late(&subs[i], FP_MESSAGES);
	/* a skip moves them to the newest message: the next one published reaches them */
	snprintf(last, sizeof(last), "{\"topic\":\"flow\",\"n\":%d}", FP_MESSAGES + 1);
	if (tc_publish1(s.port, last) < 0)
		tap_bail("cannot publish the last message");
	for (i = 50; i < 55; i++)
		closed += subs[i].seen.eof && subs[i].seen.bad == 0;
	for (i = 55; i < 60; i++) {
		subs[i].next = -1;  /* wherever the skip left it, the next message is the one */
		fp_read_late(&subs[i], FP_MESSAGES + 1);
		gapped += subs[i].seen.gaps > 0 && subs[i].seen.bad == 0 && !subs[i].seen.eof &&
		    subs[i].next == FP_MESSAGES + 2;
	}
	tap_is_int(closed, 5, "the Part 1 subscribers that stopped reading were closed");
	if (!tap_is_int(gapped, 5, "the version 2 ones were skipped with a gap and are still open: the next message reaches them"))
		for (i = 55; i < 60; i++)
			tap_diag("  version 2 non-reader %u: %ld messages, %ld gaps, %ld bad, eof %d, next n %ld", i - 55,
			    subs[i].seen.got, subs[i].seen.gaps, subs[i].seen.bad, subs[i].seen.eof, subs[i].next);
	tap_ok(fp_stat_sum(&s, 2, "stall_cut") >= 5 && fp_stat_sum(&s, 2, "stall_skip") >= 5,
	    "the workers count them as stalled (cut %lld, skipped %lld)", fp_stat_sum(&s, 2, "stall_cut"),
	    fp_stat_sum(&s, 2, "stall_skip"));
	fp_close_all();
	tsrv_stop(&s, 0);
}

int
main(void)
{
	alarm(FP_ALARM_S);
	signal(SIGPIPE, SIG_IGN);
	tap_plan(1 + 1 + 3 + 5);
	test_readers(100);
	test_readers(1000);
	test_paced();
	test_stalled();
	return tap_done();
}
