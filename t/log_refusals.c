/*
 * t/log_refusals.c - refusals are logged at the default level, and a
 * flood of them is not (issue 10, finding 8), end to end.
 *   Each kind of refusal (max_conns_per_ip, max_topics_per_ip, a table
 *   held full by subscriptions, a wrong publish_key, a key sent while
 *   its address waits, max_frame_memory, a publish spoofing members),
 *   each from an address of its own, gives a notice line naming the
 *   reason and the address.
 *   20 more of one kind from one address add no line; the first one
 *   after CONN_LOG_EVERY_MS (10 s) gives one line saying that 20 more
 *   were not logged.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS   5000
#define FRAME     60000
#define QUIET     20
#define EVERY_MS  10000    /* worker/conn.h CONN_LOG_EVERY_MS */

static struct tsrv s;

/* lines - the notice lines for refusals of kind what from src (and also, if not NULL). */
static unsigned
lines(const char *what, const char *src, const char *also)
{
	char reason[64], addr[32];

	snprintf(reason, sizeof(reason), "refused (%s)", what);
	snprintf(addr, sizeof(addr), "client %s:", src);
	return tsrv_log_count(&s, (const char *const[]){ ": notice: ", reason, addr, also, NULL });
}

/* logged - TAP: within WAIT_MS, one notice line for kind what from src. */
static void
logged(const char *what, const char *src)
{
	uint64_t end = tlib_ms() + WAIT_MS;

	while (lines(what, src, NULL) == 0 && tlib_ms() < end)
		tlib_sleep_ms(20);
	tap_is_int(lines(what, src, NULL), 1, "'%s' of %s: a notice line naming both", what, src);
}

/* from - a greeted connection from src. */
static struct tc *
from(const char *src)
{
	struct tc *c = tc_open_from(s.port, src);

	if (c == NULL || tc_greeting(c) < 0)
		tap_bail("cannot connect from %s", src);
	return c;
}

/* reply - the next frame on c into f, or a note. */
static void
reply(struct tc *c, char *f, size_t cap)
{
	if (tc_frame(c, f, cap, WAIT_MS) < 0)
		snprintf(f, cap, "(nothing)");
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", "-o", "max_conns_per_ip=2", "-o", "max_topics_per_ip=4",
	    "-o", "max_topics=16", "-o", "publish_key=k", "-o", "max_frame_memory=64K", NULL };
	static char frame[FRAME];
	struct tc *c[12], *t;
	char f[512], src[32];
	unsigned a, l, i;
	uint64_t end;

	tap_plan(10);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");

	c[0] = from("127.0.0.5");
	c[1] = from("127.0.0.5");
	t = tc_open_from(s.port, "127.0.0.5");
	tc_close(t);
	logged("connection limit per address", "127.0.0.5");

	c[2] = from("127.0.0.6");
	tc_subscribe_each(c[2], "q.", 0, 5, &a, &l);
	logged("topic quota per address", "127.0.0.6");

	/* .6 holds 4 topics; .7, .8 and .9 the other 12 of the table's 16 */
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "127.0.0.%u", 7 + i);
		c[3 + i] = from(src);
		snprintf(f, sizeof(f), "t%u.", i);
		tc_subscribe_each(c[3 + i], f, 0, 4, &a, &l);
	}
	c[6] = from("127.0.0.10");
	tc_subscribe_each(c[6], "new.", 0, 1, &a, &l);
	logged("topic table full", "127.0.0.10");

	t = from("127.0.0.11");
	tc_sendz(t, "{\"action\":\"auth\",\"key\":\"wrong\"}");
	tc_eof(t, WAIT_MS);
	tc_close(t);
	logged("wrong publish key", "127.0.0.11");
	t = from("127.0.0.11");
	tc_sendz(t, "{\"action\":\"auth\",\"key\":\"k\"}");
	tc_eof(t, WAIT_MS);
	tc_close(t);
	logged("key refused while waiting", "127.0.0.11");

	memset(frame, 'x', sizeof(frame));
	c[7] = from("127.0.0.12");
	c[8] = from("127.0.0.12");
	tc_send(c[7], frame, sizeof(frame));
	tc_send(c[8], frame, sizeof(frame));
	logged("frame memory", "127.0.0.12");

	c[9] = from("127.0.0.13");
	tc_sendz(c[9], "{\"action\":\"publish\",\"topic\":\"t0.0\",\"seq\":1,\"data\":1}");
	reply(c[9], f, sizeof(f));
	logged("bad message members", "127.0.0.13");

	for (i = 0; i < QUIET; i++) {
		tc_subscribe_each(c[2], "q.", 10 + i, 1, &a, &l);
		if (l != 1)
			tap_diag("  subscription %u from 127.0.0.6 was not refused", i);
	}
	tap_is_int(lines("topic quota per address", "127.0.0.6", NULL), 1,
	    "20 more refusals of that kind from 127.0.0.6 add no line");
	tlib_sleep_ms(EVERY_MS + 500);
	tc_subscribe_each(c[2], "q.", 100, 1, &a, &l);
	snprintf(f, sizeof(f), "; %u more refusals of it in the last 1", QUIET);
	end = tlib_ms() + WAIT_MS;
	while (lines("topic quota per address", "127.0.0.6", f) == 0 && tlib_ms() < end)
		tlib_sleep_ms(20);
	tap_is_int(lines("topic quota per address", "127.0.0.6", f), 1,
	    "the first one after 10 s is logged, saying how many were not ('%s')", f);
	tap_is_int(lines("topic quota per address", "127.0.0.6", NULL), 2, "... in the second line of that kind");
	for (i = 0; i < 10; i++)
		tc_close(c[i]);
	tsrv_stop(&s, 0);
	return tap_done();
}
