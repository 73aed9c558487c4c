/*
 * t/limits_addr.c - per-address limits end to end (issue 10, finding 4).
 *   max_conns_per_ip 3 with two workers: three connections from
 *     127.0.0.3, held by both workers, are taken; every further one gets
 *     limit and is closed, on either worker (the count is shared), and
 *     is counted as refused_addr; 127.0.0.4 still connects; once one of
 *     127.0.0.3's connections leaves, a new one is taken.
 *   idle_timeout 1s: a connection that never subscribes and sends
 *     nothing is closed and counted as idle_closed; a subscribed Part 1
 *     connection that sends nothing stays, and so does one that keeps
 *     sending PING.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000
#define TRIES   64

/* conns_wait - until the workers hold want connections in all (up to WAIT_MS); 0 or -1. */
static int
conns_wait(const struct tsrv *s, long long want, long long n[2])
{
	uint64_t end = tlib_ms() + WAIT_MS;

	while (tsrv_stat2(s, "conns", n) < 0 || n[0] + n[1] != want)
		if (tlib_ms() > end)
			return -1;
		else
			tlib_sleep_ms(10);
	return 0;
}

/* refused - whether a new connection from src gets limit first and is then closed. */
static int
refused(const struct tsrv *s, const char *src)
{
	struct tc *c = tc_open_from(s->port, src);
	char f[512];
	int r;

	if (c == NULL)
		return 0;
	r = tc_frame(c, f, sizeof(f), WAIT_MS) > 0 && tc_is_error(f, "limit") && tc_eof(c, WAIT_MS);
	if (!r)
		tap_diag("  a connection from %s got '%s'", src, f);
	tc_close(c);
	return r;
}

static void
test_conns_per_ip(void)
{
	static const char *const args[] = { "-w", "2", "-o", "max_conns_per_ip=3", NULL };
	struct tc *c[3], *other[3], *again = NULL;
	struct tsrv s;
	long long r0 = -1, r1 = -1, base[2] = { 0, 0 }, n[2];
	char buf[16384];
	int i, tries = 0, all = 1;
	uint64_t end;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	tap_ok(tc_open_spread(&s, "127.0.0.3", 3, c) == 0, "three connections from 127.0.0.3 are taken, by both workers");
	/* spreading may itself be refused while a connection it closed is still counted */
	if (tsrv_stat2(&s, "refused_addr", base) < 0)
		tap_diag("  cannot read refused_addr");
	/* refused until both workers have refused one */
	do {
		all &= refused(&s, "127.0.0.3");
		tries++;
		if (tsrv_stats(&s, buf, sizeof(buf)) < 0)
			break;
		r0 = tsrv_stat_in(buf, 0, "refused_addr") - base[0];
		r1 = tsrv_stat_in(buf, 1, "refused_addr") - base[1];
	} while (all && (r0 <= 0 || r1 <= 0) && tries < TRIES);
	tap_ok(all, "each 4th connection from 127.0.0.3 gets limit and is closed (%d tried)", tries);
	tap_ok(r0 > 0 && r1 > 0, "... on either worker: the count is shared (slot 0 refused %lld, slot 1 %lld)",
	    r0, r1);
	tap_is_int(tsrv_total(&s, "refused_addr") - base[0] - base[1], tries, "each is counted as refused_addr");
	for (i = 0; i < 3; i++)
		other[i] = tc_open_from(s.port, "127.0.0.4");
	tap_ok(other[0] != NULL && other[1] != NULL && other[2] != NULL && tc_greeting(other[0]) == 0 &&
	    tc_greeting(other[1]) == 0 && tc_greeting(other[2]) == 0,
	    "127.0.0.4 still connects, three times");
	tap_ok(tc_subscribe(c[0], "still") == 0, "127.0.0.3's connections still work");
	tc_close(c[2]);
	conns_wait(&s, 5, n);
	/* the worker that held it may count it down a moment after the other sees the close */
	end = tlib_ms() + WAIT_MS;
	do {
		tc_close(again);
		again = tc_open_from(s.port, "127.0.0.3");
	} while (again != NULL && tc_greeting(again) < 0 && tlib_ms() < end);
	tap_ok(again != NULL && tc_subscribe(again, "again") == 0,
	    "once one of them left, a new connection from 127.0.0.3 is taken");
	tc_close(again);
	for (i = 0; i < 3; i++)
		tc_close(other[i]);
	tc_close(c[0]);
	tc_close(c[1]);
	tsrv_stop(&s, 0);
}

static void
test_idle(void)
{
	static const char *const args[] = { "-w", "1", "-o", "idle_timeout=1s", NULL };
	struct tc *idle, *sub, *pinger;
	struct tsrv s;
	char f[512];
	uint64_t end;
	int pinged = 1;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	idle = tc_open_greeted(s.port);
	sub = tc_open_greeted(s.port);
	pinger = tc_open_greeted(s.port);
	tap_ok(tc_subscribe(sub, "idle") == 0, "a Part 1 client subscribes");
	/* PING every 100 ms, until the silent one is closed and one more timeout passed */
	end = tlib_ms() + 30000;
	while (!tc_eof(idle, 100) && tlib_ms() < end)
		pinged &= tc_sendz(pinger, "PING") == 0;
	tap_ok(tlib_ms() < end, "a connection that sends nothing and subscribes to nothing is closed");
	end = tlib_ms() + 1500;
	while (tlib_ms() < end) {
		pinged &= tc_sendz(pinger, "PING") == 0;
		tlib_sleep_ms(100);
	}
	tap_is_int(tsrv_total(&s, "idle_closed"), 1, "it is counted as idle_closed, and only it");
	tap_ok(pinged && tc_subscribe(pinger, "late") == 0, "one that keeps sending PING stays");
	tc_publish1(s.port, "{\"topic\":\"idle\",\"data\":1}");
	tap_ok(tc_frame(sub, f, sizeof(f), WAIT_MS) > 0 && tc_strip_ts(f) == 0 &&
	    strcmp(f, "{\"topic\":\"idle\",\"data\":1}") == 0,
	    "the subscribed one, silent all along, stays and gets its message");
	tc_close(idle);
	tc_close(sub);
	tc_close(pinger);
	tsrv_stop(&s, 0);
}

int
main(void)
{
	tap_plan(12);
	test_conns_per_ip();
	test_idle();
	return tap_done();
}
