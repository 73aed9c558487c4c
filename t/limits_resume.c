/*
 * t/limits_resume.c - resumes on a connection with 1,024 subscriptions
 * and a ring full of their records do not hold up the worker (issue
 * 10, finding 3), end to end with one worker and a 16 MiB ring holding
 * 120 records of each of the 1,024 topics (122,880, no record lost yet).
 *   A connection that reads nothing (a small receive buffer) sends 20
 *   resumes ("since":0): while their replay (about 170 kB) is still owed
 *   to it, another client gets a message published after them; then
 *   the resuming connection gets 20 ACKs and, in order, exactly the
 *   records of each topic, oldest first.
 *   A connection that reads all the while sends 1,024 resumes, one per
 *   subscription, in one write: another client gets a message published
 *   right after them before the resuming connection got all its replay
 *   (the worker serves each connection a bounded share per loop pass;
 *   a server that scans the ring per resume serves them all first, for
 *   20 ms each here), and within 20 s; and the resuming connection gets
 *   every record of the ring in resume order, each topic's oldest
 *   first, and 1,024 ACKs (it is not taken for a slow consumer).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS   5000
#define NTOPIC    1024
#define PER_TOPIC 120
#define NREC      (NTOPIC * PER_TOPIC)
#define STALL_MS  20000
#define END_MS    180000
#define DRAIN     1024

static struct tsrv s;

/*
 * What a resuming connection was sent so far, checked against what it
 * is owed: the records of topics first.. in turn, record j of topic k
 * being fill message k + NTOPIC * j (data and seq - 1 both say which).
 */
struct replay {
	unsigned first, topics;      /* the topics resumed, in order */
	unsigned k, j;               /* the next record expected */
	unsigned acks, bad;
};

/* replay_done - whether every record owed came. */
static int
replay_done(const struct replay *r)
{
	return r->k == r->first + r->topics;
}

/* replay_take - one frame sent to the resuming connection. */
static void
replay_take(struct replay *r, const char *f)
{
	unsigned long long seq, data;
	unsigned topic;
	char tail[8];

	if (strcmp(f, "ACK") == 0) {
		r->acks++;
		return;
	}
	if (sscanf(f, "{\"timestamp\":[%*u,%*u,%*u],\"seq\":%llu,\"topic\":\"r.%u\",\"data\":%llu%7s", &seq, &topic,
	    &data, tail) != 4 || strcmp(tail, "}") != 0 || replay_done(r) || topic != r->k ||
	    data != r->k + (unsigned long long)NTOPIC * r->j || seq != data + 1) {
		if (r->bad++ < 3)
			tap_diag("  after %u records of r.%u: '%s'", r->j, r->k, f);
		return;
	}
	if (++r->j == PER_TOPIC) {
		r->j = 0;
		r->k++;
	}
}

/*
 * drain - up to DRAIN frames that c has into r (a bound, so that other
 * clients are read too); how many, or -1 if c was closed.
 */
static int
drain(struct tc *c, struct replay *r)
{
	char f[1024];
	long rc = 0;
	int n;

	for (n = 0; n < DRAIN && (rc = tc_frame(c, f, sizeof(f), 0)) >= 0; n++)
		replay_take(r, f);
	if (rc == -2) {
		tap_diag("  the resuming connection was closed after %u records of r.%u", r->j, r->k);
		return -1;
	}
	return n;
}

/* readable - wait up to ms for input on a or b. */
static void
readable(const struct tc *a, const struct tc *b, int ms)
{
	struct pollfd p[2] = { { a->fd, POLLIN, 0 }, { b->fd, POLLIN, 0 } };

	while (poll(p, 2, ms) < 0 && errno == EINTR)
		;
}

/* fill - NREC publishes, message i to topic r.(i % NTOPIC) with data i, then one with ack to wait for. */
static int
fill(struct tc *p)
{
	static char req[1 << 20];
	size_t len = 0;
	unsigned i;
	char f[256];

	for (i = 0; i < NREC; i++) {
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"action\":\"publish\",\"topic\":\"r.%u\",\"data\":%u}%c", i % NTOPIC, i, '\0');
		if (len > sizeof(req) - 128 || i == NREC - 1) {
			if (tc_send(p, req, len) < 0)
				return -1;
			len = 0;
		}
	}
	tc_sendz(p, "{\"action\":\"publish\",\"topic\":\"sync\",\"data\":0,\"ack\":true}");
	return tc_frame(p, f, sizeof(f), 60000) > 0 && strncmp(f, "{\"published\":", 13) == 0 ? 0 : -1;
}

/* resumer - a version 2 connection subscribed to all NTOPIC topics. */
static struct tc *
resumer(int rcvbuf)
{
	struct tc *c = tc_open_small(s.port, rcvbuf, 0);
	unsigned acks = 0;
	char f[512];

	if (c == NULL || tc_greeting(c) < 0)
		tap_bail("cannot connect");
	tc_sendz(c, "{\"action\":\"hello\",\"version\":2}");
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0 || tc_subscribe_each(c, "r.", 0, NTOPIC, &acks, NULL) < 0 ||
	    acks != NTOPIC)
		tap_bail("cannot subscribe to %u topics", NTOPIC);
	return c;
}

/* resume - n resumes from topic first on, in one write. */
static void
resume(struct tc *c, unsigned first, unsigned n)
{
	static char req[NTOPIC * 64];
	size_t len = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"action\":\"subscribe\",\"data\":\"r.%u\",\"since\":0}%c", first + i, '\0');
	if (tc_send(c, req, len) < 0)
		tap_bail("cannot send the resumes");
}

/* live - publish a message to the topic live; whether sub gets it within ms. */
static int
live(struct tc *p, struct tc *sub, int n, int ms)
{
	char req[128], f[256], want[64];

	snprintf(req, sizeof(req), "{\"action\":\"publish\",\"topic\":\"live\",\"data\":%d}", n);
	tc_sendz(p, req);
	snprintf(want, sizeof(want), "{\"topic\":\"live\",\"data\":%d}", n);
	return tc_frame(sub, f, sizeof(f), ms) > 0 && tc_strip_ts(f) == 0 && strcmp(f, want) == 0;
}

/* gated - 20 resumes on a connection that reads nothing until another client had its message. */
static void
gated(struct tc *p, struct tc *sub)
{
	struct tc *c = resumer(4096);
	struct replay r = { 0, 20, 0, 0, 0, 0 };
	uint64_t end;
	int n;

	resume(c, 0, 20);
	tap_ok(live(p, sub, 1, WAIT_MS),
	    "while 20 resumes are owed to a connection that reads nothing, another client gets its message");
	end = tlib_ms() + 60000;
	while (!replay_done(&r) && r.bad == 0 && tlib_ms() < end && (n = drain(c, &r)) >= 0)
		if (n == 0)
			readable(c, c, 100);
	tap_ok(replay_done(&r) && r.bad == 0, "then the resuming one gets exactly each topic's %u records in order",
	    PER_TOPIC);
	tap_is_int(r.acks, 20, "... and 20 ACKs");
	tc_quiet(c, 200, "... and nothing more");
	tc_close(c);
}

/* reading - 1,024 resumes on a connection read all the while. */
static void
reading(struct tc *p, struct tc *sub)
{
	struct tc *c = resumer(0);
	struct replay r = { 0, NTOPIC, 0, 0, 0, 0 };
	uint64_t start, end;
	char req[128], f[256];
	int got = 0;

	resume(c, 0, NTOPIC);
	snprintf(req, sizeof(req), "{\"action\":\"publish\",\"topic\":\"live\",\"data\":2}");
	tc_sendz(p, req);
	start = tlib_ms();
	end = start + END_MS;
	while ((!replay_done(&r) || !got) && r.bad == 0 && tlib_ms() < end) {
		int any = drain(c, &r);

		if (any < 0)
			break;
		if (!got && tc_frame(sub, f, sizeof(f), 0) >= 0) {
			got = tc_strip_ts(f) == 0 && strcmp(f, "{\"topic\":\"live\",\"data\":2}") == 0 ? 1 : -1;
			tap_ok(got == 1 && !replay_done(&r) && tlib_ms() - start < STALL_MS,
			    "while 1,024 resumes are served, another client gets its message (%s, after %u of %u records)",
			    f, r.k * PER_TOPIC + r.j, NREC);
			any = 1;
		}
		if (!any)
			readable(c, sub, 100);
	}
	if (!got)
		tap_ok(0, "while 1,024 resumes are served, another client gets its message");
	tap_ok(replay_done(&r) && r.bad == 0, "the resuming connection gets every record, in resume order (%u of %u)",
	    r.k * PER_TOPIC + r.j, NREC);
	tap_is_int(r.acks, NTOPIC, "... and 1,024 ACKs");
	tc_close(c);
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", "-o", "ring_size=16M", NULL };
	struct tc *p, *sub;

	tap_plan(8);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	sub = tc_open_greeted(s.port);
	if (tc_subscribe(sub, "live") < 0)
		tap_bail("cannot subscribe");
	p = tc_open_greeted(s.port);
	if (fill(p) < 0)
		tap_bail("cannot fill the ring");
	gated(p, sub);
	reading(p, sub);
	tap_ok(tsrv_stat(&s, 0, "restarts") == 0, "the worker did not restart");
	tc_close(p);
	tc_close(sub);
	tsrv_stop(&s, 0);
	return tap_done();
}
