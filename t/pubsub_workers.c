/*
 * t/pubsub_workers.c - fan-out across worker processes (janusd -w 2):
 * 200 subscribers spread over both workers each get every message once,
 * whichever worker accepted the publisher, with one timestamp per message;
 * the greetings are well formed with tokens unique across workers; and the
 * per-worker counters of `janusd -s` add up (conns, subs, published,
 * delivered), back to no connections once the clients leave.
 */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000
#define NSUBS   200
#define NMSG    5

static struct tsrv srv;
static int ts_bad;           /* messages whose subscribers got different timestamps */

/* stat_sum - a counter summed over both slots, or -1. */
static long long
stat_sum(const char *name)
{
	long long a = tsrv_stat(&srv, 0, name), b = tsrv_stat(&srv, 1, name);

	return a < 0 || b < 0 ? -1 : a + b;
}

/* stat_wait - until the summed counter equals want (up to WAIT_MS); its last value. */
static long long
stat_wait(const char *name, long long want)
{
	uint64_t end = tlib_ms() + WAIT_MS;
	long long v;

	while ((v = stat_sum(name)) != want && tlib_ms() < end)
		tlib_sleep_ms(50);
	return v;
}

/*
 * greeting_ok - {"timestamp":[MEGA,SEC,MICRO],"token":"HEX"} exactly:
 * plain integers, SEC and MICRO below 1000000, 32 lowercase hex digits.
 * The token goes to token.
 */
static int
greeting_ok(const char *g, char *token)
{
	unsigned long long part[3];
	const char *p = g;
	char *end;
	int i;

	if (strncmp(p, "{\"timestamp\":[", 14) != 0)
		return 0;
	p += 14;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p) || (*p == '0' && isdigit((unsigned char)p[1])))
			return 0;
		part[i] = strtoull(p, &end, 10);
		p = end;
		if (*p++ != (i < 2 ? ',' : ']'))
			return 0;
	}
	if (part[1] > 999999 || part[2] > 999999 || part[0] * 1000000 + part[1] < 1500000000)
		return 0;
	if (strncmp(p, ",\"token\":\"", 10) != 0)
		return 0;
	p += 10;
	for (i = 0; i < 32; i++)
		if (!isdigit((unsigned char)p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
			return 0;
	memcpy(token, p, 32);
	token[32] = '\0';
	return strcmp(p + 32, "\"}") == 0;
}

/* check_msg - the next frame of subscriber k is message i; its timestamp must be everyone's. */
static int
check_msg(struct tc *c, int k, int i, char (*ts)[64])
{
	char f[1024], want[256], t[64];
	const char *end;

	snprintf(want, sizeof(want), "{\"topic\":\"fan\",\"event\":\"e\",\"message_id\":\"m%d\",\"data\":[%d]}", i, i);
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0) {
		tap_diag("  subscriber %d: message %d did not arrive", k, i);
		return 0;
	}
	end = strstr(f, "],");
	if (end != NULL && strncmp(f, "{\"timestamp\":[", 14) == 0) {
		snprintf(t, sizeof(t), "%.*s", (int)(end - f - 14), f + 14);
		if (ts[i][0] == '\0')
			snprintf(ts[i], sizeof(ts[i]), "%s", t);
		ts_bad += strcmp(ts[i], t) != 0;
	}
	tc_strip_ts(f);
	if (strcmp(f, want) != 0) {
		tap_diag("  subscriber %d message %d: got '%s', expected '%s'", k, i, f, want);
		return 0;
	}
	return 1;
}

static int
cmp_token(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	static char tokens[NSUBS][33];
	static char ts[NMSG][64];
	struct tc **subs;
	char f[1024], obj[256];
	long long c0, c1;
	int i, k, bad_greet = 0, dup = 0, got_all = 1, extra = 0;

	tap_plan(13);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	/* tsrv_start's probe connections are gone before counting */
	stat_wait("conns", 0);
	subs = calloc(NSUBS, sizeof(*subs));
	if (subs == NULL)
		tap_bail("out of memory");
	for (k = 0; k < NSUBS; k++) {
		subs[k] = tc_open(srv.port);
		if (subs[k] == NULL)
			tap_bail("cannot open subscriber %d", k);
		if (tc_frame(subs[k], f, sizeof(f), WAIT_MS) < 0 || !greeting_ok(f, tokens[k])) {
			if (bad_greet++ < 3)
				tap_diag("  subscriber %d greeting: '%s'", k, f);
			snprintf(tokens[k], sizeof(tokens[k]), "bad%d", k);
		}
		if (tc_subscribe(subs[k], "fan") < 0)
			tap_bail("subscriber %d: no ACK", k);
	}
	tap_is_int(bad_greet, 0, "200 greetings: {\"timestamp\":[M,S,U],\"token\":\"32 hex\"}");
	qsort(tokens, NSUBS, sizeof(tokens[0]), cmp_token);
	for (k = 1; k < NSUBS; k++)
		dup += strcmp(tokens[k - 1], tokens[k]) == 0;
	tap_is_int(dup, 0, "the 200 tokens are unique across both workers");

	c0 = tsrv_stat(&srv, 0, "conns");
	c1 = tsrv_stat(&srv, 1, "conns");
	tap_ok(c0 > 0 && c1 > 0, "both workers hold subscribers (slot 0: %lld, slot 1: %lld)", c0, c1);
	tap_is_int(stat_wait("conns", NSUBS), NSUBS, "conns add up to 200");
	tap_is_int(stat_sum("subs"), NSUBS, "subs add up to 200");

	/*
	 * A Part 1 publish has no reply, and each goes on a connection of its
	 * own that either worker may take: the next is sent once subscriber 0
	 * got the last, so that the publish order is defined.
	 */
	for (i = 0; i < NMSG; i++) {
		snprintf(obj, sizeof(obj), "{\"topic\":\"fan\",\"event\":\"e\",\"message_id\":\"m%d\",\"data\":[%d]}", i, i);
		if (tc_publish1(srv.port, obj) < 0)
			tap_diag("publish %d failed", i);
		got_all &= check_msg(subs[0], 0, i, ts);
	}
	for (k = 1; k < NSUBS; k++)
		for (i = 0; i < NMSG; i++)
			if (!check_msg(subs[k], k, i, ts)) {
				got_all = 0;
				break;
			}
	tap_ok(got_all, "each of 200 subscribers got the 5 messages, in order");
	tap_is_int(ts_bad, 0, "one timestamp per message for all subscribers");
	tlib_sleep_ms(300);
	for (k = 0; k < NSUBS; k++)
		if (tc_frame(subs[k], f, sizeof(f), 0) != -1)
			extra++;
	tap_is_int(extra, 0, "no subscriber got anything more (each message exactly once)");
	tap_is_int(stat_sum("published"), NMSG, "published adds up to 5");
	tap_is_int(stat_sum("delivered"), (long long)NSUBS * NMSG, "delivered adds up to 200*5");
	tap_is_int(stat_sum("errors"), 0, "no error frames were sent");

	for (k = 0; k < NSUBS; k++)
		tc_close(subs[k]);
	free(subs);
	tap_is_int(stat_wait("conns", 0), 0, "conns back to 0 once the subscribers left");
	tap_is_int(stat_sum("subs"), 0, "subs back to 0");
	tsrv_stop(&srv, 0);
	return tap_done();
}
