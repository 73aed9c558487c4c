/*
 * t/publish_members.c - a publisher cannot spoof what the server writes
 * (issue 10, finding 7), end to end.
 *   Publishes (the publish action and Part 1 PUBLISH) with a "timestamp"
 *   or "seq" member, or repeating a member, also spelt with escapes
 *   ("\u0074opic" after "topic"), get bad_json and nothing of them is
 *   delivered to Part 1 or version 2 subscribers; the publish action's
 *   connection stays open, the Part 1 one is closed. The same names
 *   inside a member's value, and names that only look alike, are
 *   delivered as sent. Each refusal is counted as bad_members.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000

/* Members after {"action":"publish", that must be refused. */
static const char *const spoofed[] = {
	"\"topic\":\"sp\",\"timestamp\":[0,0,0],\"data\":1}",
	"\"timestamp\":[1,2,3],\"topic\":\"sp\",\"data\":2}",
	"\"topic\":\"sp\",\"seq\":1,\"data\":3}",
	"\"topic\":\"sp\",\"data\":4,\"data\":5}",
	"\"topic\":\"sp\",\"\\u0074opic\":\"sp\",\"data\":6}",
	"\"topic\":\"sp\",\"\\u0074opic\":\"elsewhere\",\"data\":7}",
	"\"\\u0074imestamp\":[0,0,0],\"topic\":\"sp\",\"data\":8}",
	"\"topic\":\"sp\",\"\\u0073\\u0065\\u0071\":9,\"data\":9}",
	"\"topic\":\"sp\",\"event\":\"e\",\"ev\\u0065nt\":\"e\",\"data\":10}",
	"\"topic\":\"sp\",\"action\":\"publish\",\"data\":11}",
};

/* Members that are fine, and exactly what subscribers get after the timestamp. */
static const char *const fine[] = {
	"\"topic\":\"sp\",\"data\":{\"timestamp\":[0,0,0],\"seq\":1,\"a\":1,\"a\":2}}",
	"\"topic\":\"sp\",\"timestamps\":1,\"seq_\":2,\"Seq\":3,\"data\":\"seq\"}",
	"\"topic\":\"sp\",\"event\":\"e\",\"message_id\":\"m\",\"data\":12}",
};

/* expect_msg - the next message on c, without its timestamp (and seq on v2), is {want}. */
static int
expect_msg(struct tc *c, int v2, const char *want, const char *name)
{
	char f[1024], w[1024];

	snprintf(w, sizeof(w), "{%s", want);
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0)
		snprintf(f, sizeof(f), "(nothing)");
	else if (tc_strip_ts(f) < 0 || (v2 && tc_strip_seq(f) < 0))
		tap_diag("  no timestamp%s in '%s'", v2 ? " or seq" : "", f);
	return tap_is_str(f, w, "%s", name);
}

/* publish - the publish action (with "ack":true) and these members on p; its reply into f (or a note). */
static void
publish(struct tc *p, const char *members, char *f, size_t cap)
{
	char req[1024];

	snprintf(req, sizeof(req), "{\"action\":\"publish\",\"ack\":true,%s", members);
	tc_sendz(p, req);
	if (tc_frame(p, f, cap, WAIT_MS) < 0)
		snprintf(f, cap, "(nothing)");
}

/* part1 - the Part 1 way on a new connection: bad_json, then closed. */
static void
part1(const struct tsrv *s, const char *obj)
{
	char f[1024];
	struct tc *c = tc_open_greeted(s->port);

	tc_send(c, "<regular-socket/>\0PUBLISH\0", 26);
	tc_sendz(c, obj);
	if (tc_frame(c, f, sizeof(f), WAIT_MS) < 0)
		snprintf(f, sizeof(f), "(nothing)");
	tap_ok(tc_is_error(f, "bad_json"), "Part 1 PUBLISH %s: bad_json ('%s')", obj, f);
	tap_ok(tc_eof(c, WAIT_MS), "... and the connection is closed");
	tc_close(c);
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", NULL };
	const unsigned nspoof = sizeof(spoofed) / sizeof(spoofed[0]), nfine = sizeof(fine) / sizeof(fine[0]);
	char f[1024];
	struct tsrv s;
	struct tc *sub, *sub2, *p;
	unsigned i;

	tap_plan((int)(nspoof + 2 + 2 * nfine + 4 + 2 + 1));
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	sub = tc_open_greeted(s.port);
	sub2 = tc_open_greeted(s.port);
	tc_sendz(sub2, "{\"action\":\"hello\",\"version\":2}");
	if (tc_frame(sub2, f, sizeof(f), WAIT_MS) < 0 || tc_subscribe(sub, "sp") < 0 ||
	    tc_subscribe(sub2, "sp") < 0)
		tap_bail("cannot subscribe");
	p = tc_open_greeted(s.port);
	for (i = 0; i < nspoof; i++) {
		publish(p, spoofed[i], f, sizeof(f));
		tap_ok(tc_is_error(f, "bad_json"), "publish {...,%s: bad_json ('%s')", spoofed[i], f);
	}
	/* had any of them been delivered, it would come before this one */
	publish(p, "\"topic\":\"sp\",\"data\":\"after\"}", f, sizeof(f));
	expect_msg(sub, 0, "\"topic\":\"sp\",\"data\":\"after\"}",
	    "the connection stays open; a Part 1 subscriber's next message is the next normal publish");
	expect_msg(sub2, 1, "\"topic\":\"sp\",\"data\":\"after\"}", "... and a version 2 subscriber's too");
	for (i = 0; i < nfine; i++) {
		publish(p, fine[i], f, sizeof(f));
		expect_msg(sub, 0, fine[i], "members that only look alike, or nested, are delivered as sent");
		expect_msg(sub2, 1, fine[i], "... also to version 2");
	}
	part1(&s, "{\"topic\":\"sp\",\"seq\":5,\"data\":\"p1\"}");
	part1(&s, "{\"topic\":\"sp\",\"data\":\"p1\",\"\\u0064ata\":\"p2\"}");
	if (tc_publish1(s.port, "{\"topic\":\"sp\",\"data\":\"part 1\"}") < 0)
		tap_diag("  the Part 1 publish failed");
	expect_msg(sub, 0, "\"topic\":\"sp\",\"data\":\"part 1\"}", "then a normal Part 1 publish is the next message");
	expect_msg(sub2, 1, "\"topic\":\"sp\",\"data\":\"part 1\"}", "... for version 2 too");
	tap_is_int(tsrv_total(&s, "bad_members"), nspoof + 2, "each refusal is counted as bad_members");
	tc_close(p);
	tc_close(sub);
	tc_close(sub2);
	tsrv_stop(&s, 0);
	return tap_done();
}
