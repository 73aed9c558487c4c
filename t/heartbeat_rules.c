/*
 * t/heartbeat_rules.c - heartbeat PINGs (janusd -o heartbeat=1s).
 * Part 1 connections keep the original rule: no PING before the first
 * message, then one PING per silence of one interval after a message.
 * A client's PING gets no answer and an error frame is not a message.
 * Version 2 sessions get PING after every silent interval from hello on;
 * one that sends nothing for two intervals is closed, one that answers
 * PONG is kept. Clients are watched side by side, so the file takes
 * about ten seconds.
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define HB_MS   1000
#define WAIT_MS 5000
#define EARLY   800     /* a PING sooner than this after its cause is early */
#define MAXEV   32

struct ev {
	char f[96];
	uint64_t at;        /* ms, tlib_ms() */
};

struct watched {
	const char *name;
	struct tc *c;
	int pong;           /* answer each PING with PONG */
	int n;
	struct ev ev[MAXEV];
	int eof;
	uint64_t eof_at;
};

static struct tsrv srv;

/* note - keep the start of frame f (n bytes) and when it came. */
static void
note(struct ev *e, const char *f, size_t n)
{
	if (n >= sizeof(e->f))
		n = sizeof(e->f) - 1;
	memcpy(e->f, f, n);
	e->f[n] = '\0';
	e->at = tlib_ms();
}

/* watch - read every watched client for ms, noting each frame and its time. */
static void
watch(struct watched *w, int nw, int ms)
{
	uint64_t end = tlib_ms() + (uint64_t)ms;
	struct pollfd pfd[8];
	char f[4096];
	long n;
	int i;

	for (;;) {
		uint64_t now = tlib_ms();

		if (now >= end)
			return;
		for (i = 0; i < nw; i++) {
			pfd[i].fd = w[i].c != NULL && !w[i].eof ? w[i].c->fd : -1;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nw, (int)(end - now)) <= 0)
			continue;
		for (i = 0; i < nw; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			while ((n = tc_frame(w[i].c, f, sizeof(f), 0)) >= 0) {
				if (w[i].n < MAXEV)
					note(&w[i].ev[w[i].n++], f, (size_t)n);
				if (w[i].pong && strcmp(f, "PING") == 0)
					tc_send(w[i].c, "PONG", 5);
			}
			if (n == -2) {
				w[i].eof = 1;
				w[i].eof_at = tlib_ms();
			}
		}
	}
}

/* show - a client's frames, for a failure. */
static void
show(const struct watched *w, uint64_t base)
{
	int i;

	tap_diag("  %s saw %d frame%s (ms after start):", w->name, w->n, w->n == 1 ? "" : "s");
	for (i = 0; i < w->n; i++)
		tap_diag("    +%llu %s", (unsigned long long)(w->ev[i].at - base), w->ev[i].f);
	if (w->eof)
		tap_diag("    +%llu end of stream", (unsigned long long)(w->eof_at - base));
}

/* count - frames of w equal to f from index i on. */
static int
count(const struct watched *w, const char *f, int from)
{
	int i, k = 0;

	for (i = from; i < w->n; i++)
		k += strcmp(w->ev[i].f, f) == 0;
	return k;
}

/* hello - make c a version 2 session; 0 or -1. */
static int
hello(struct tc *c)
{
	char f[256];

	if (c == NULL || tc_send(c, "{\"action\":\"hello\",\"version\":2}", 31) < 0)
		return -1;
	return tc_frame(c, f, sizeof(f), WAIT_MS) > 0 && strncmp(f, "{\"hello\":", 9) == 0 ? 0 : -1;
}

static void
publish(const char *obj)
{
	if (tc_publish1(srv.port, obj) < 0)
		tap_diag("publishing %s failed", obj);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", "-o", "heartbeat=1s", NULL };
	static const char m1[] = "{\"topic\":\"hb1\",\"event\":\"e\",\"message_id\":\"1\",\"data\":1}";
	static const char m2[] = "{\"topic\":\"hb1\",\"event\":\"e\",\"message_id\":\"2\",\"data\":2}";
	static struct watched w[4];
	struct watched *p0 = &w[0], *vpong = &w[1], *vsilent = &w[2], *p1 = &w[3];
	uint64_t base, t1, t2;
	char f[4096];
	int i, ok;

	tap_plan(15);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	p0->name = "Part 1 subscriber without messages";
	vpong->name = "version 2 client answering PONG";
	vsilent->name = "silent version 2 client";
	p1->name = "Part 1 subscriber with messages";
	vpong->pong = 1;
	p0->c = tc_open_greeted(srv.port);
	if (p0->c == NULL || tc_subscribe(p0->c, "hb0") < 0)
		tap_bail("no Part 1 subscriber");
	/* a client PING gets no answer; an error frame is not a message */
	tc_send(p0->c, "PING\0BOGUS", 11);
	tap_ok(tc_frame(p0->c, f, sizeof(f), WAIT_MS) > 0 && strncmp(f, "{\"error\":\"bad_frame\"", 20) == 0,
	    "an unknown frame gets bad_frame (got '%s')", f);
	p1->c = tc_open_greeted(srv.port);
	if (p1->c == NULL || tc_subscribe(p1->c, "hb1") < 0)
		tap_bail("no second Part 1 subscriber");
	vpong->c = tc_open_greeted(srv.port);
	vsilent->c = tc_open_greeted(srv.port);
	base = tlib_ms();
	if (hello(vpong->c) < 0 || hello(vsilent->c) < 0)
		tap_bail("hello failed");

	/* phase 1: four intervals in which nobody publishes */
	watch(w, 4, 4 * HB_MS);
	ok = p0->n == 0 && p1->n == 0;
	tap_ok(ok, "Part 1 subscribers that got no message get no PING in 4 intervals");
	if (!ok) {
		show(p0, base);
		show(p1, base);
	}
	ok = count(vpong, "PING", 0) == vpong->n && vpong->n >= 3 && vpong->n <= 4;
	tap_ok(ok, "version 2: a PING after every interval from hello on (3 or 4 in 4 s, got %d)", vpong->n);
	for (i = 0; ok && i < vpong->n; i++)
		ok = vpong->ev[i].at - (i ? vpong->ev[i - 1].at : base) >= EARLY;
	tap_ok(ok && vpong->n > 0, "version 2: PINGs are an interval apart");
	if (!ok)
		show(vpong, base);
	tap_ok(!vpong->eof, "version 2 client that answers PONG is kept open");
	ok = vsilent->n == 1 && strcmp(vsilent->ev[0].f, "PING") == 0;
	tap_ok(ok, "silent version 2 client: one PING, then ...");
	tap_ok(vsilent->eof && vsilent->eof_at - base >= 2 * HB_MS - 200,
	    "... closed after two silent intervals, not before");
	if (!ok || !vsilent->eof)
		show(vsilent, base);

	/* phase 2: Part 1 PING once per silence after a message */
	t1 = tlib_ms();
	publish(m1);
	watch(w, 4, 3600);
	tap_ok(p1->n >= 1 && strstr(p1->ev[0].f, "\"message_id\":\"1\"") != NULL,
	    "Part 1: the message arrives");
	ok = p1->n >= 2 && strcmp(p1->ev[1].f, "PING") == 0;
	tap_ok(ok, "Part 1: a PING follows an interval of silence after the message");
	tap_ok(ok && p1->ev[1].at - p1->ev[0].at >= EARLY,
	    "Part 1: that PING comes after the interval, not before (%lld ms)",
	    ok ? (long long)(p1->ev[1].at - p1->ev[0].at) : -1LL);
	tap_is_int(p1->n, 2, "Part 1: one PING per silence (nothing else for 2.5 intervals after it)");
	if (p1->n != 2)
		show(p1, t1);
	t2 = tlib_ms();
	publish(m2);
	watch(w, 4, 1800);
	ok = p1->n == 4 && strstr(p1->ev[2].f, "\"message_id\":\"2\"") != NULL &&
	    strcmp(p1->ev[3].f, "PING") == 0 && p1->ev[3].at - p1->ev[2].at >= EARLY;
	tap_ok(ok, "Part 1: a new message and a new silence give another PING (%lld ms after t2)",
	    p1->n >= 4 ? (long long)(p1->ev[3].at - t2) : -1LL);
	if (!ok)
		show(p1, t1);
	tap_ok(p0->n == 0, "Part 1 subscriber of another topic still got nothing (8 intervals)");
	tap_ok(!vpong->eof && count(vpong, "PING", 0) == vpong->n && vpong->n >= 8,
	    "version 2 client answering PONG: still open, %d PINGs in ~9 s", vpong->n);
	if (vpong->eof || vpong->n < 8)
		show(vpong, base);
	tap_ok(!p0->eof && !p1->eof, "Part 1 subscribers still connected");
	for (i = 0; i < 4; i++)
		tc_close(w[i].c);
	tsrv_stop(&srv, 0);
	return tap_done();
}
