/*
 * t/fault_lock.c - a worker killed while it holds the ring's lock, in the
 * middle of writing a record (fault hook ring_commit): the master logs
 * and respawns it, the next writer recovers the lock, the half-written
 * record reaches nobody, and sequence numbers go on without a hole.
 * Needs a build configured with --enable-fault-injection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define NSUB 24

/* v2_subscriber - hello, then subscribe to both topics. NULL on failure. */
static struct tc *
v2_subscriber(unsigned port)
{
	struct tc *c = tc_open(port);
	char f[512];

	if (c == NULL || tc_greeting(c) < 0 ||
	    tc_send(c, "{\"action\":\"hello\",\"version\":2}", 31) < 0 ||
	    tc_send(c, "", 1) < 0 || tc_frame(c, f, sizeof(f), 5000) < 0 ||
	    tc_subscribe(c, "events") < 0 || tc_subscribe(c, "fault.die") < 0) {
		tc_close(c);
		return NULL;
	}
	return c;
}

/* publish_acked - publish on c with "ack":true; the seq, or -1 if c died. */
static long long
publish_acked(struct tc *c, const char *topic, int n)
{
	char msg[256], f[256];

	snprintf(msg, sizeof(msg), "{\"action\":\"publish\",\"topic\":\"%s\",\"n\":%d,\"ack\":true}", topic, n);
	if (tc_send(c, msg, strlen(msg) + 1) < 0 || tc_frame(c, f, sizeof(f), 3000) < 0)
		return -1;
	return strncmp(f, "{\"published\":{\"seq\":", 20) == 0 ? atoll(f + 20) : -1;
}

/* publish_fresh - publish from a new connection until one succeeds (the lock must be usable). */
static long long
publish_fresh(unsigned port, int n)
{
	long long seq = -1;
	struct tc *c;
	int i;

	for (i = 0; i < 50 && seq < 0; i++) {
		c = tc_open(port);
		if (c != NULL && tc_greeting(c) == 0)
			seq = publish_acked(c, "events", n);
		tc_close(c);
		if (seq < 0)
			usleep(100000);
	}
	return seq;
}

/*
 * check_stream - what one subscriber got. Returns 1 if it stayed connected
 * and got exactly s1 then s2 on events; 0 if its worker was the one that
 * died (end of stream, after nothing but whole messages); -1 otherwise.
 */
static int
check_stream(struct tc *c, long long s1, long long s2)
{
	char f[1024], want[64];
	long long expect[2] = { s1, s2 };
	long n;
	int i;

	for (i = 0; i < 3; i++) {
		n = tc_frame(c, f, sizeof(f), i < 2 ? 3000 : 300);
		if (n == -2)
			return 0;
		if (n == -1)
			return i == 2 ? 1 : -1;
		if (i == 2) {
			tap_diag("unexpected third frame: %s", f);
			return -1;
		}
		snprintf(want, sizeof(want), "],\"seq\":%lld,\"topic\":\"events\",", expect[i]);
		if (strncmp(f, "{\"timestamp\":[", 14) != 0 || strstr(f, want) == NULL) {
			tap_diag("unexpected frame: %s", f);
			return -1;
		}
	}
	return -1;
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	struct tc *sub[NSUB], *pub;
	struct tsrv s;
	long long s1, s2, dead;
	int i, r, alive = 0, bad = 0;

	if (getenv("JANUSD_FAULTS_BUILT") == NULL || strcmp(getenv("JANUSD_FAULTS_BUILT"), "yes") != 0)
		tap_skip_all("fault injection not built (configure --enable-fault-injection)");
	tap_plan(7);
	setenv("JANUSD_FAULT", "ring_commit:fault.die", 1);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	for (i = 0; i < NSUB; i++)
		sub[i] = v2_subscriber(s.port);
	pub = tc_open(s.port);
	tc_greeting(pub);
	s1 = publish_acked(pub, "events", 1);
	tap_ok(s1 > 0, "a first message is published (seq %lld)", s1);
	dead = publish_acked(pub, "fault.die", 2);
	tap_ok(dead < 0 && tc_eof(pub, 3000), "the publishing worker dies holding the lock");
	tc_close(pub);
	s2 = publish_fresh(s.port, 3);
	tap_is_int(s2, s1 + 1, "the next publish recovers the lock; no hole in the sequence");
	tap_ok(tsrv_log_wait(&s, "killed by signal 9", 5000), "the master logs the death");
	tap_ok(tsrv_log_wait(&s, "shared lock: its holder died", 5000), "the lock is repaired and that is logged");
	for (i = 0; i < NSUB; i++) {
		r = sub[i] == NULL ? -1 : check_stream(sub[i], s1, s2);
		alive += r == 1;
		bad += r < 0;
	}
	tap_ok(alive > 0, "subscribers on the surviving worker: %d", alive);
	tap_is_int(bad, 0, "every subscriber got whole messages only, in order, and nothing of the torn one");
	for (i = 0; i < NSUB; i++)
		tc_close(sub[i]);
	tsrv_stop(&s, 0);
	return tap_done();
}
