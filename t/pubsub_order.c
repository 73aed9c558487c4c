/*
 * t/pubsub_order.c - order and exactly-once delivery against janusd -w 2:
 * 1,000 numbered messages published with the publish action on one
 * persistent connection reach every subscriber of their topic in publish
 * order, each once, with the publisher's members byte for byte after the
 * timestamp, and one timestamp per message for all subscribers. A
 * subscriber of two topics gets each topic in order; a version 2
 * subscriber sees consecutive sequence numbers.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS  5000
#define NMSG     1000
#define NOTHER   100        /* messages on the second topic, interleaved */
#define NSUB     6          /* Part 1 subscribers of "order" */

static struct tsrv srv;
static int ts_bad;          /* messages whose subscribers got different timestamps */

/* body - message i of topic t as delivered (what was published, without "action"). */
static void
body(char *dst, size_t cap, const char *t, int i)
{
	snprintf(dst, cap, "{\"topic\":\"%s\",\"event\":\"n\",\"message_id\":\"%s-%d\","
	    "\"data\":{\"i\":%d,\"s\":\"x\\\"y\\u00e9\xc3\xa9 %d\",\"arr\":[%d,-1.5e-3,true,null,{},[]]}}",
	    t, t, i, i, i * 7, i);
}

/* publish_frame - the publish action for message i of topic t, with its \0. */
static size_t
publish_frame(char *dst, size_t cap, const char *t, int i)
{
	char b[512];
	int n;

	body(b, sizeof(b), t, i);
	/* the action member goes in the middle once in a while: it is never delivered */
	if (i % 3 == 0)
		n = snprintf(dst, cap, "{\"action\":\"publish\",%s", b + 1);
	else
		n = snprintf(dst, cap, "{\"topic\":\"%s\",\"action\":\"publish\",%s", t,
		    strchr(b + 1, ',') + 1);
	return (size_t)n + 1;
}

/* ts_split - move the "timestamp":[..] member of f into ts and out of f. */
static int
ts_split(char *f, char *ts, size_t cap)
{
	const char *end = strstr(f, "],");

	if (strncmp(f, "{\"timestamp\":[", 14) != 0 || end == NULL)
		return -1;
	snprintf(ts, cap, "%.*s", (int)(end - f - 14), f + 14);
	return tc_strip_ts(f);
}

struct sub {
	struct tc *c;
	const char *name;
	int v2;
	int next[2];          /* next expected index per topic */
	int errors;
	long long hello_seq;  /* version 2: the seq of the hello reply */
};

/* order_seq - the seq of message i of "order": one "other" follows each order i%10 == 5. */
static long long
order_seq(const struct sub *s, int i)
{
	return s->hello_seq + 1 + i + (i + 4) / 10;
}

/* sub_check - read and check one message of s; returns 0 or -1 (stop reading). */
static int
sub_check(struct sub *s, char (*ts)[64], int both)
{
	char f[1024], want[512], t[64];
	long long seq;
	int topic, i;

	if (tc_frame(s->c, f, sizeof(f), WAIT_MS) < 0) {
		tap_diag("  %s: stream ended or stalled after order %d, other %d", s->name,
		    s->next[0], s->next[1]);
		return -1;
	}
	if (ts_split(f, t, sizeof(t)) < 0) {
		tap_diag("  %s: no timestamp in '%s'", s->name, f);
		return -1;
	}
	seq = s->v2 ? tc_strip_seq(f) : 0;
	topic = strncmp(f, "{\"topic\":\"order\"", 16) == 0 ? 0 : 1;
	if (s->v2 && topic == 0 && seq != order_seq(s, s->next[0])) {
		tap_diag("  %s: message %d has seq %lld, expected %lld", s->name, s->next[0], seq,
		    order_seq(s, s->next[0]));
		s->errors++;
	}
	if (topic == 1 && !both) {
		tap_diag("  %s: a message of another topic: '%s'", s->name, f);
		return -1;
	}
	i = s->next[topic]++;
	body(want, sizeof(want), topic ? "other" : "order", i);
	if (strcmp(f, want) != 0) {
		tap_diag("  %s: message %d of %s:\n    got:      %s\n    expected: %s",
		    s->name, i, topic ? "other" : "order", f, want);
		return -1;
	}
	if (topic == 0 && ts != NULL) {
		if (ts[i][0] == '\0')
			snprintf(ts[i], sizeof(ts[i]), "%s", t);
		else if (strcmp(ts[i], t) != 0) {
			tap_diag("  %s: message %d timestamp [%s], another subscriber got [%s]",
			    s->name, i, t, ts[i]);
			ts_bad++;
		}
	}
	return 0;
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	static char ts[NMSG][64];
	struct sub subs[NSUB + 2];
	char *buf, f[256], name[NSUB + 2][32];
	struct tc *pub;
	size_t n, cap = (NMSG + NOTHER) * 512;
	int i, k, other = 0, nsubs = NSUB + 2, same_ts = 1;

	tap_plan(3 + 2 * (NSUB + 2) + 1);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("cannot start janusd");
	memset(subs, 0, sizeof(subs));
	for (k = 0; k < nsubs; k++) {
		struct sub *s = &subs[k];

		snprintf(name[k], sizeof(name[k]), k == NSUB ? "v2 subscriber" :
		    k == NSUB + 1 ? "subscriber of two topics" : "subscriber %d", k);
		s->name = name[k];
		s->v2 = k == NSUB;
		s->c = tc_open(srv.port);
		if (s->c == NULL || tc_greeting(s->c) < 0)
			tap_bail("cannot open %s", s->name);
		if (s->v2) {
			tc_send(s->c, "{\"action\":\"hello\",\"version\":2}", 31);
			if (tc_frame(s->c, f, sizeof(f), WAIT_MS) < 0 || strstr(f, "\"seq\":") == NULL)
				tap_bail("no hello reply: '%s'", f);
			s->hello_seq = strtoll(strstr(f, "\"seq\":") + 6, NULL, 10);
		}
		if (tc_subscribe(s->c, "order") < 0 ||
		    (k == NSUB + 1 && tc_subscribe(s->c, "other") < 0))
			tap_bail("cannot subscribe %s", s->name);
	}

	pub = tc_open(srv.port);
	tap_ok(pub != NULL && tc_greeting(pub) == 0, "publisher connected");
	buf = malloc(cap);
	if (pub == NULL || buf == NULL)
		tap_bail("no publisher");
	/* 1,000 on "order" and 100 on "other" interleaved, sent 100 frames per write */
	for (i = 0, n = 0; i < NMSG; i++) {
		n += publish_frame(buf + n, cap - n, "order", i);
		if (i % 10 == 5 && other < NOTHER) {
			n += publish_frame(buf + n, cap - n, "other", other);
			other++;
		}
		if (i % 100 == 99) {
			if (tc_send(pub, buf, n) < 0)
				tap_diag("sending publishes failed at %d", i);
			n = 0;
		}
	}
	tap_is_int(other, NOTHER, "interleaved messages on a second topic");
	tc_sendz(pub, "{\"action\":\"publish\",\"topic\":\"order-end\",\"ack\":true}");
	n = (size_t)tc_frame(pub, f, sizeof(f), WAIT_MS);
	tap_ok(strncmp(f, "{\"published\":{\"seq\":", 20) == 0,
	    "the publisher's only reply is to the one publish that asked (got '%s')", f);

	for (k = 0; k < nsubs; k++) {
		struct sub *s = &subs[k];
		int both = k == NSUB + 1, want_other = both ? NOTHER : 0;

		while (s->next[0] < NMSG || s->next[1] < want_other)
			if (sub_check(s, ts, both) < 0) {
				s->errors++;
				break;
			}
		tap_ok(s->errors == 0 && s->next[0] == NMSG && s->next[1] == want_other,
		    "%s: %d messages of order%s, in order, byte-exact%s", s->name, NMSG,
		    both ? " and 100 of other" : "", s->v2 ? ", seq numbers of the publishes" : "");
		tap_ok(tc_frame(s->c, f, sizeof(f), k == 0 ? 1000 : 100) == -1,
		    "%s: nothing more (each message once)", s->name);
	}
	for (i = 0; i < NMSG; i++)
		same_ts &= ts[i][0] != '\0';
	tap_ok(same_ts && ts_bad == 0, "every subscriber got the same timestamp for each message");
	for (k = 0; k < nsubs; k++)
		tc_close(subs[k].c);
	tc_close(pub);
	free(buf);
	tsrv_stop(&srv, 0);
	return tap_done();
}
