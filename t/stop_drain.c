/*
 * t/stop_drain.c - stopping. QUIT stops accepting, lets a subscriber that
 * was not reading take every message it is owed, then exits 0. TERM
 * stops at once. Either way the shared memory segment is gone after.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define NMSG 2500                  /* ~5 MB: more than socket buffers hold */

/* slow_subscriber - a subscriber with a small receive buffer, subscribed to "events". */
static struct tc *
slow_subscriber(unsigned port)
{
	struct tc *c = tc_open_small(port, 4096, 0);

	if (c == NULL || tc_greeting(c) < 0 || tc_subscribe(c, "events") < 0)
		tap_bail("cannot subscribe");
	return c;
}

/* publish_many - NMSG numbered messages of ~2 KiB on one persistent connection. */
static void
publish_many(unsigned port)
{
	static char pad[2000];
	char msg[2200];
	struct tc *p = tc_open(port);
	int i;

	memset(pad, 'x', sizeof(pad) - 1);
	if (p == NULL || tc_greeting(p) < 0)
		tap_bail("cannot connect the publisher");
	for (i = 0; i < NMSG; i++) {
		int n = snprintf(msg, sizeof(msg), "{\"action\":\"publish\",\"topic\":\"events\",\"n\":%d,\"pad\":\"%s\"}", i, pad);
		tc_send(p, msg, (size_t)n + 1);
	}
	/* an acked publish last: all before it are in the ring when its ack arrives */
	tc_sends(p, "{\"action\":\"publish\",\"topic\":\"other\",\"ack\":true}");
	tc_send(p, "", 1);
	if (tc_frame(p, msg, sizeof(msg), 10000) < 0)
		tap_bail("no ack from the publisher");
	tc_close(p);
}

/* read_all - messages received in order until the end of stream; -1 on disorder. */
static int
read_all(struct tc *c)
{
	static char f[4096];
	char want[32];
	int n = 0;

	for (;;) {
		long r = tc_frame(c, f, sizeof(f), 10000);

		if (r == -2)
			return n;
		if (r < 0)
			return -1;
		snprintf(want, sizeof(want), "\"n\":%d,", n);
		if (strstr(f, want) == NULL)
			return -1;
		n++;
	}
}

static int
segment_gone(unsigned port)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/shm/janusd.%u", port);
	return access(path, F_OK) != 0;
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", "-o", "drain_timeout=20s", "-o", "max_backlog=64M", NULL };
	struct tsrv s;
	struct tc *sub, *late;
	int got;

	tap_plan(7);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	sub = slow_subscriber(s.port);
	publish_many(s.port);
	kill(s.pid, SIGQUIT);
	tap_ok(tsrv_log_wait(&s, "worker 0: notice: draining", 5000), "QUIT: the worker starts draining");
	late = tc_open(s.port);
	tap_ok(late == NULL, "QUIT: no new connections are accepted");
	tc_close(late);
	got = read_all(sub);
	tap_is_int(got, NMSG, "QUIT: the slow subscriber gets every message it was owed, in order, then the end");
	tap_is_int(tsrv_wait_exit(&s, 20000), 0, "QUIT: exit status 0");
	tap_ok(segment_gone(s.port), "QUIT: shared memory removed");
	tc_close(sub);
	tsrv_stop(&s, 0);

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd again");
	sub = slow_subscriber(s.port);
	publish_many(s.port);
	kill(s.pid, SIGTERM);
	tap_is_int(tsrv_wait_exit(&s, 3000), 0, "TERM: stops at once with status 0, not waiting for slow clients");
	tap_ok(segment_gone(s.port), "TERM: shared memory removed");
	tc_close(sub);
	tsrv_stop(&s, 0);
	return tap_done();
}
