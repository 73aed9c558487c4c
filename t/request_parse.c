/*
 * t/request_parse.c - unit test for proto/request.c and proto/render.c.
 *
 * Owns: a table of client frames with the request each must become
 * (kind, topic, since/epoch, key, ack, body, or error code), long and
 * bad topics, and byte-exact checks of every server-to-client format:
 * timestamp prefix, messages (PROTOCOL.md's example, the skip list,
 * compaction, capacity limits), seq, error, gap, hello, greeting.
 * Inputs and outputs live in exactly sized malloc'd buffers so ASan
 * catches reads and writes past them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/render.h"
#include "proto/request.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1

/* PROTOCOL.md's example time: [1763,812345,678901]. */
#define EXAMPLE_USEC UINT64_C(1763812345678901)
#define EXAMPLE_PREFIX "{\"timestamp\":[1763,812345,678901],"

struct pcase {
	const char *in;
	size_t len;
	int after_publish;
	const char *want;
};

/*
 * Each frame and the request it must become, written the way describe()
 * prints a request: KIND, then the fields that kind carries.
 */
static const struct pcase pcases[] = {
	/* Part 1 words and the Flash marker */
	{ S("PING"), 0, "IGNORE" },
	{ S("PONG"), 0, "IGNORE" },
	{ S("PUBLISH"), 0, "PUBLISH_NEXT" },
	{ S(""), 0, "IGNORE" },
	{ S("<regular-socket/>"), 0, "IGNORE" },
	{ S("<regular-socket/>PING"), 0, "IGNORE" },
	{ S("<regular-socket/><regular-socket/>PUBLISH"), 0, "PUBLISH_NEXT" },
	{ S("<regular-socket/>{\"action\":\"subscribe\",\"data\":\"t\"}"), 0,
	    "SUBSCRIBE topic=t" },
	{ S("PINGX"), 0, "BAD bad_frame" },
	{ S("ping"), 0, "BAD bad_frame" },
	{ S("PUBLISHED"), 0, "BAD bad_frame" },
	{ S("<regular-socket"), 0, "BAD bad_frame" },
	{ S("[\"subscribe\",\"t\"]"), 0, "BAD bad_frame" },
	{ S("\"PING\""), 0, "BAD bad_frame" },
	{ S("PI\0NG"), 0, "BAD bad_frame" },

	/* subscribe and unsubscribe: any key order, unknown keys, escapes */
	{ S("{\"action\":\"subscribe\",\"data\":\"events\"}"), 0, "SUBSCRIBE topic=events" },
	{ S("{\"data\":\"events\",\"action\":\"subscribe\"}"), 0, "SUBSCRIBE topic=events" },
	{ S("{\"x\":1,\"action\":\"subscribe\",\"y\":{\"data\":[\"no\"]},\"data\":\"events\",\"z\":null}"),
	    0, "SUBSCRIBE topic=events" },
	{ S(" \r\n{ \"action\" : \"subscribe\" ,\t\"data\" : \"events\" } \n"), 0,
	    "SUBSCRIBE topic=events" },
	{ S("{\"action\":\"unsubscribe\",\"data\":\"events\"}"), 0, "UNSUBSCRIBE topic=events" },
	{ S("{\"data\":\"events\",\"q\":[],\"action\":\"unsubscribe\"}"), 0,
	    "UNSUBSCRIBE topic=events" },
	{ S("{\"action\":\"subscribe\",\"data\":\"\\u0041\"}"), 0, "SUBSCRIBE topic=A" },
	{ S("{\"\\u0061ction\":\"\\u0073ubscribe\",\"data\":\"t\"}"), 0, "SUBSCRIBE topic=t" },
	{ S("{\"action\":\"subscribe\",\"data\":\"a\\\"b\\\\c\\/d\"}"), 0,
	    "SUBSCRIBE topic=a\"b\\c/d" },
	{ S("{\"action\":\"subscribe\",\"data\":\"caf\xc3\xa9 \\u00e9\"}"), 0,
	    "SUBSCRIBE topic=caf\\xc3\\xa9 \\xc3\\xa9" },
	{ S("{\"action\":\"subscribe\",\"data\":\"a\",\"data\":\"b\"}"), 0, "SUBSCRIBE topic=b" },

	/* resume */
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":42,\"epoch\":\"00ff\"}"), 0,
	    "SUBSCRIBE topic=t since=42 epoch=\"00ff\"" },
	{ S("{\"epoch\":\"e\",\"since\":0,\"data\":\"t\",\"action\":\"subscribe\"}"), 0,
	    "SUBSCRIBE topic=t since=0 epoch=\"e\"" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":42}"), 0,
	    "SUBSCRIBE topic=t since=42" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":18446744073709551615}"), 0,
	    "SUBSCRIBE topic=t since=18446744073709551615" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":18446744073709551616}"), 0,
	    "BAD bad_frame" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":-1}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":1.5}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":1e3}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":\"5\"}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\",\"since\":5,\"epoch\":5}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"unsubscribe\",\"data\":\"t\",\"since\":5}"), 0, "UNSUBSCRIBE topic=t" },

	/* hello and auth */
	{ S("{\"action\":\"hello\",\"version\":2}"), 0, "HELLO" },
	{ S("{\"version\":2,\"action\":\"hello\",\"client\":\"x\"}"), 0, "HELLO" },
	{ S("{\"action\":\"hello\",\"version\":3}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"hello\",\"version\":1}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"hello\",\"version\":\"2\"}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"hello\"}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"auth\",\"key\":\"s3cr\\u0065t\"}"), 0, "AUTH key=\"s3cr\\u0065t\"" },
	{ S("{\"action\":\"auth\",\"key\":5}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"auth\"}"), 0, "BAD bad_frame" },

	/* publish on a persistent connection */
	{ S("{\"action\":\"publish\",\"topic\":\"T\",\"event\":\"E\",\"message_id\":\"1\",\"data\":{\"a\":1}}"),
	    0, "PUBLISH topic=T ack=0 part1=0 body=+0" },
	{ S("{\"topic\":\"T\",\"ack\":true,\"action\":\"publish\"}"), 0,
	    "PUBLISH topic=T ack=1 part1=0 body=+0" },
	{ S("{\"action\":\"publish\",\"topic\":\"T\",\"ack\":false}"), 0,
	    "PUBLISH topic=T ack=0 part1=0 body=+0" },
	{ S("<regular-socket/>{\"action\":\"publish\",\"topic\":\"T\"}"), 0,
	    "PUBLISH topic=T ack=0 part1=0 body=+17" },
	{ S("{\"action\":\"publish\",\"topic\":\"T\",\"ack\":\"yes\"}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"publish\",\"topic\":\"T\",\"ack\":1}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"publish\",\"topic\":\"T\",\"ack\":null}"), 0, "BAD bad_frame" },
	{ S("{\"action\":\"publish\",\"data\":\"x\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"publish\",\"topic\":7}"), 0, "BAD bad_topic" },

	/* the frame after PUBLISH (Part 1) */
	{ S("{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}"),
	    1, "PUBLISH topic=events ack=0 part1=1 body=+0" },
	{ S("<regular-socket/>{\"topic\":\"events\",\"data\":1}"), 1,
	    "PUBLISH topic=events ack=0 part1=1 body=+17" },
	{ S("{\"data\":[1,2],\"topic\":\"ev\\u0065nts\"}"), 1,
	    "PUBLISH topic=events ack=0 part1=1 body=+0" },
	{ S("{\"action\":\"subscribe\",\"topic\":\"t\",\"data\":\"u\"}"), 1,
	    "PUBLISH topic=t ack=0 part1=1 body=+0" },
	{ S("<regular-socket/>"), 1, "IGNORE" },
	{ S("PING"), 1, "BAD bad_json" },
	{ S("{\"topic\":\"events\",\"data\":"), 1, "BAD bad_json" },
	{ S("{\"event\":\"e\"}"), 1, "BAD bad_topic" },
	{ S("{\"topic\":\"\"}"), 1, "BAD bad_topic" },

	/* error classes */
	{ S("{\"action\":\"subscribe\",\"data\":\"t\""), 0, "BAD bad_json" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\"}x"), 0, "BAD bad_json" },
	{ S("{\"action\":\"subscribe\",\"data\":\"t\"}{}"), 0, "BAD bad_json" },
	{ S("{action:\"subscribe\"}"), 0, "BAD bad_json" },
	{ S("{\"action\":\"subscribe\",\"data\":\"a\x01z\"}"), 0, "BAD bad_json" },
	{ S("{\"action\":\"subscribe\",\"data\":\"\xff\"}"), 0, "BAD bad_json" },
	{ S("{\"action\":\"subscribe\",\"data\":\"\\ud800\"}"), 0, "BAD bad_json" },
	{ S("{}"), 0, "BAD unknown_action" },
	{ S("{\"data\":\"t\"}"), 0, "BAD unknown_action" },
	{ S("{\"action\":\"frobnicate\",\"data\":\"t\"}"), 0, "BAD unknown_action" },
	{ S("{\"action\":\"Subscribe\",\"data\":\"t\"}"), 0, "BAD unknown_action" },
	{ S("{\"action\":5,\"data\":\"t\"}"), 0, "BAD unknown_action" },
	{ S("{\"action\":\"subscribe\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":\"\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":5}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":null}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":[\"t\"]}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":{\"t\":1}}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":\"a\\u0001b\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":\"a\\nb\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":\"\\u0000\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"subscribe\",\"data\":\"x\\u001f\"}"), 0, "BAD bad_topic" },
	{ S("{\"action\":\"unsubscribe\",\"data\":\"\\t\"}"), 0, "BAD bad_topic" },
};

/* put_bytes - printable bytes as they are, others as \xNN. */
static void
put_bytes(char *out, size_t cap, const char *p, size_t len)
{
	size_t n = strlen(out), i;

	for (i = 0; i < len && n + 5 < cap; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f)
			out[n++] = (char)ch;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
	}
	out[n] = '\0';
}

/* put_text - append formatted text. */
static void __attribute__((format(printf, 3, 4)))
put_text(char *out, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out + n, cap - n, fmt, ap);
	va_end(ap);
}

static const char *const kind_names[] = {
	"IGNORE", "PUBLISH_NEXT", "SUBSCRIBE", "UNSUBSCRIBE", "HELLO", "AUTH",
	"PUBLISH", "BAD"
};

/* describe_topic - ` topic=T`, flagging a topic whose NUL is missing. */
static void
describe_topic(char *out, size_t cap, const struct request *r)
{
	put_text(out, cap, " topic=");
	put_bytes(out, cap, r->topic, r->topic_len);
	if (r->topic_len > CONF_TOPIC_MAX || r->topic[r->topic_len] != '\0')
		put_text(out, cap, " (not NUL-terminated)");
}

/* describe - a request as one line: its kind and the fields that kind carries. */
static void
describe(char *out, size_t cap, const struct request *r, const char *frame,
    size_t len)
{
	out[0] = '\0';
	put_text(out, cap, "%s", r->kind <= REQ_BAD ? kind_names[r->kind] : "?");
	if (r->kind == REQ_BAD) {
		put_text(out, cap, " %s%s", r->code ? r->code : "(no code)",
		    r->text[0] ? "" : " (no text)");
		return;
	}
	if (r->kind == REQ_SUBSCRIBE || r->kind == REQ_UNSUBSCRIBE || r->kind == REQ_PUBLISH)
		describe_topic(out, cap, r);
	if (r->has_since)
		put_text(out, cap, " since=%" PRIu64, r->since);
	if (r->epoch.type != JSON_NONE) {
		put_text(out, cap, " epoch=");
		put_bytes(out, cap, r->epoch.p - 1, r->epoch.len + 2);
	}
	if (r->kind == REQ_AUTH) {
		put_text(out, cap, " key=");
		put_bytes(out, cap, r->key.p - 1, r->key.len + 2);
	}
	if (r->kind != REQ_PUBLISH)
		return;
	put_text(out, cap, " ack=%d part1=%d body=+%td", r->ack, r->part1, r->body - frame);
	if (r->body + r->body_len != frame + len)
		put_text(out, cap, " len=%zu", r->body_len);
}

/* parse_copy - parse a heap copy of exactly len bytes; describe the result. */
static void
parse_copy(char *out, size_t cap, const char *in, size_t len, int after,
    uint32_t max_topic_len)
{
	char *copy = malloc(len > 0 ? len : 1), *body = malloc(REQUEST_BODY_CAP(len));
	struct request r;

	if (copy == NULL || body == NULL)
		tap_bail("out of memory");
	memcpy(copy, in, len);
	request_parse(&r, copy, len, after, max_topic_len, body, REQUEST_BODY_CAP(len));
	describe(out, cap, &r, copy, len);
	free(copy);
	free(body);
}

/* test_table - every frame of pcases. */
static void
test_table(void)
{
	char got[2048], name[160];
	size_t i;

	for (i = 0; i < NELEM(pcases); i++) {
		parse_copy(got, sizeof(got), pcases[i].in, pcases[i].len,
		    pcases[i].after_publish, CONF_TOPIC_MAX);
		name[0] = '\0';
		put_bytes(name, 80, pcases[i].in, pcases[i].len);
		tap_is_str(got, pcases[i].want, "%s'%s'",
		    pcases[i].after_publish ? "after PUBLISH: " : "", name);
	}
}

/* subscribe_frame - a subscribe to a topic of n copies of unit. */
static size_t
subscribe_frame(char *buf, size_t cap, const char *unit, size_t n)
{
	size_t len = (size_t)snprintf(buf, cap, "{\"action\":\"subscribe\",\"data\":\"");
	size_t i;

	for (i = 0; i < n && len + strlen(unit) + 3 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s", unit);
	len += (size_t)snprintf(buf + len, cap - len, "\"}");
	return len;
}

/*
 * expect_topic_len - subscribing to n copies of unit with max_topic_len
 * max gives want: "SUBSCRIBE len=N" (decoded bytes) or "BAD code".
 */
static void
expect_topic_len(const char *unit, size_t n, uint32_t max, const char *want)
{
	static char frame[2048];
	size_t len = subscribe_frame(frame, sizeof(frame), unit, n);
	char *copy = malloc(len), *body = malloc(REQUEST_BODY_CAP(len)), got[64];
	struct request r;

	if (copy == NULL || body == NULL)
		tap_bail("out of memory");
	memcpy(copy, frame, len);
	request_parse(&r, copy, len, 0, max, body, REQUEST_BODY_CAP(len));
	if (r.kind == REQ_SUBSCRIBE)
		snprintf(got, sizeof(got), "SUBSCRIBE len=%u%s", r.topic_len,
		    r.topic[r.topic_len] == '\0' ? "" : " (not NUL-terminated)");
	else
		snprintf(got, sizeof(got), "%s %s", kind_names[r.kind], r.code ? r.code : "");
	tap_is_str(got, want, "%zu x '%s', max_topic_len %u", n, unit, max);
	free(copy);
	free(body);
}

/* test_topic_lengths - the topic length limit, in decoded bytes. */
static void
test_topic_lengths(void)
{
	expect_topic_len("a", 255, 255, "SUBSCRIBE len=255");
	expect_topic_len("a", 256, 255, "BAD bad_topic");
	expect_topic_len("\\u0041", 255, 255, "SUBSCRIBE len=255");
	expect_topic_len("\\u0041", 256, 255, "BAD bad_topic");
	expect_topic_len("b", 8, 8, "SUBSCRIBE len=8");
	expect_topic_len("b", 9, 8, "BAD bad_topic");
	expect_topic_len("\xc3\xa9", 4, 8, "SUBSCRIBE len=8");
	expect_topic_len("\xc3\xa9", 5, 8, "BAD bad_topic");
}

/* expect_render - dst[0..n) must be want, and n its length. */
static void
expect_render(const char *dst, long n, const char *want, size_t want_len,
    const char *what)
{
	tap_is_mem(dst, n < 0 ? 0 : (size_t)n, want, want_len, "%s", what);
	if (n < 0)
		tap_diag("  returned %ld", n);
}

/* test_prefix - the Erlang now() split of known times. */
static void
test_prefix(void)
{
	static const struct { uint64_t usec; const char *want; } cases[] = {
		{ EXAMPLE_USEC, EXAMPLE_PREFIX },
		{ 0, "{\"timestamp\":[0,0,0]," },
		{ UINT64_C(999999), "{\"timestamp\":[0,0,999999]," },
		{ UINT64_C(1000000), "{\"timestamp\":[0,1,0]," },
		{ UINT64_C(1000000000000), "{\"timestamp\":[1,0,0]," },
		{ UINT64_C(1700000005000007), "{\"timestamp\":[1700,5,7]," },
		{ UINT64_C(1763000000000010), "{\"timestamp\":[1763,0,10]," },
		{ UINT64_MAX, "{\"timestamp\":[18446744,73709,551615]," },
	};
	char *dst = malloc(RENDER_PREFIX_MAX);
	size_t i, n;

	if (dst == NULL)
		tap_bail("out of memory");
	for (i = 0; i < NELEM(cases); i++) {
		n = render_prefix(dst, cases[i].usec);
		tap_is_mem(dst, n, cases[i].want, strlen(cases[i].want),
		    "render_prefix(%" PRIu64 ")", cases[i].usec);
	}
	free(dst);
}

/* render_exact - render_message into a buffer of exactly cap bytes. */
static long
render_exact(char **dst, size_t cap, uint64_t usec, const char *obj,
    const char *const *skip, uint32_t *pfx)
{
	long n;

	free(*dst);
	*dst = malloc(cap);
	if (*dst == NULL)
		tap_bail("out of memory");
	*pfx = UINT32_MAX;
	n = render_message(*dst, cap, usec, obj, strlen(obj), skip, pfx);
	return n;
}

/* test_message - PROTOCOL.md's example and the publish action's skip list. */
static void
test_message(void)
{
	static const char example[] =
	    "{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}";
	static const char want_example[] = EXAMPLE_PREFIX
	    "\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}\1";
	static const char action[] =
	    " { \"action\" : \"publish\", \"topic\":\"t\" ,\"ack\":true,\n"
	    "\t\"data\" : [ 1 , {\"a\" : \"x  y\\n\"} ], \"\\u0061ck\":false, \"z\":null } ";
	static const char want_action[] = "{\"timestamp\":[0,0,0],"
	    "\"topic\":\"t\",\"data\":[1,{\"a\":\"x  y\\n\"}],\"z\":null}\1";
	static const char want_kept[] = "{\"timestamp\":[0,0,0],"
	    "\"action\":\"publish\",\"topic\":\"t\",\"ack\":true,"
	    "\"data\":[1,{\"a\":\"x  y\\n\"}],\"\\u0061ck\":false,\"z\":null}\1";
	char *dst = NULL;
	uint32_t pfx;
	long n;

	n = render_exact(&dst, 4096, EXAMPLE_USEC, example, NULL, &pfx);
	expect_render(dst, n, S(want_example), "render_message: PROTOCOL.md's example");
	tap_is_int(pfx, sizeof(EXAMPLE_PREFIX) - 1, "prefix length reported");
	tap_ok(n <= (long)(RENDER_PREFIX_MAX + sizeof(example) - 1 + 2),
	    "length %ld within RENDER_PREFIX_MAX + len + 2", n);
	n = render_exact(&dst, sizeof(want_example) - 1, EXAMPLE_USEC, example, NULL, &pfx);
	expect_render(dst, n, S(want_example), "render_message into exactly its length");
	n = render_exact(&dst, sizeof(want_example) - 2, EXAMPLE_USEC, example, NULL, &pfx);
	tap_is_int(n, -1, "render_message one byte short: -1");

	n = render_exact(&dst, 4096, 0, action, request_control_members, &pfx);
	expect_render(dst, n, S(want_action),
	    "skip list: action and ack left out, whitespace compacted, order kept");
	n = render_exact(&dst, 4096, 0, action, NULL, &pfx);
	expect_render(dst, n, S(want_kept), "no skip list: every member kept");

	n = render_exact(&dst, 4096, 0, "{}", NULL, &pfx);
	tap_is_int(n, -1, "empty object: -1");
	n = render_exact(&dst, 4096, 0, "{\"action\":\"publish\",\"ack\":true}",
	    request_control_members, &pfx);
	tap_is_int(n, -1, "every member skipped: -1");
	n = render_exact(&dst, 4096, 0, "{\"topic\":\"t\"", NULL, &pfx);
	tap_is_int(n, -1, "truncated object: -1");
	n = render_exact(&dst, 4096, 0, "[\"topic\"]", NULL, &pfx);
	tap_is_int(n, -1, "not an object: -1");
	free(dst);
}

/*
 * expect_members - the body request_parse renders for a publish frame is
 * exactly what render_message puts after the prefix, in a body buffer of
 * exactly REQUEST_BODY_CAP bytes.
 */
static void
expect_members(const char *frame, int after, const char *want, const char *name)
{
	size_t len = strlen(frame);
	char *copy = malloc(len), *body = malloc(REQUEST_BODY_CAP(len)), *msg = NULL;
	struct request r;
	uint32_t pfx;
	long n;

	if (copy == NULL || body == NULL)
		tap_bail("out of memory");
	memcpy(copy, frame, len);
	request_parse(&r, copy, len, after, CONF_TOPIC_MAX, body, REQUEST_BODY_CAP(len));
	n = render_exact(&msg, 4096, 0, frame, after ? NULL : request_control_members, &pfx);
	tap_ok(r.kind == REQ_PUBLISH && n > 0 && r.members_len == strlen(want) &&
	    memcmp(r.members, want, r.members_len) == 0 &&
	    (size_t)n - pfx == r.members_len && memcmp(msg + pfx, r.members, r.members_len) == 0,
	    "request_parse renders the body render_message does: %s", name);
	free(msg);
	free(copy);
	free(body);
}

/* test_members - the body rendered while parsing (what publishing copies under the lock). */
static void
test_members(void)
{
	expect_members(" { \"action\" : \"publish\", \"topic\":\"t\" ,\"ack\":true,\n"
	    "\t\"data\" : [ 1 , {\"a\" : \"x  y\\n\"} ], \"z\":null } ", 0,
	    "\"topic\":\"t\",\"data\":[1,{\"a\":\"x  y\\n\"}],\"z\":null}\1",
	    "action form: controls left out, compacted");
	expect_members("{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}",
	    1, "\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}\1",
	    "Part 1: PROTOCOL.md's example");
	expect_members("{\"action\":\"x\",\"topic\":\"t\"}", 1,
	    "\"action\":\"x\",\"topic\":\"t\"}\1", "Part 1 keeps every member");
}

/* test_seq - `"seq":N,` for small, zero and largest N. */
static void
test_seq(void)
{
	char *dst = malloc(RENDER_SEQ_MAX);
	size_t n;

	if (dst == NULL)
		tap_bail("out of memory");
	n = render_seq(dst, 7);
	tap_is_mem(dst, n, S("\"seq\":7,"), "render_seq(7)");
	n = render_seq(dst, 0);
	tap_is_mem(dst, n, S("\"seq\":0,"), "render_seq(0)");
	n = render_seq(dst, UINT64_MAX);
	tap_is_mem(dst, n, S("\"seq\":18446744073709551615,"), "render_seq(UINT64_MAX)");
	free(dst);
}

/* test_replies - error (with escaping), gap, hello, published, auth. */
static void
test_replies(void)
{
	static const char want_err[] =
	    "{\"error\":\"bad_json\",\"message\":\"a \\\"q\\\" \\\\ \\n\\t\\u0001 \xc3\xa9\"}\1";
	static const char want_gap[] = "{\"gap\":{\"topic\":\"a\\\"b\\u0000c\",\"from\":5,\"to\":9}}\1";
	static char ctl_topic[255], want_long[64 + 6 * 255];
	char buf[2048];
	long n;
	size_t i, w;

	n = render_error(buf, sizeof(buf), ERR_BAD_JSON, "a \"q\" \\ \n\t\x01 \xc3\xa9");
	expect_render(buf, n, S(want_err), "render_error escapes the text");
	n = render_error(buf, 20, ERR_BAD_JSON, "text");
	tap_is_int(n, -1, "render_error over cap: -1");

	n = render_gap(buf, sizeof(buf), S("a\"b\0c"), 5, 9);
	expect_render(buf, n, S(want_gap), "render_gap escapes the topic");
	memset(ctl_topic, 0x01, sizeof(ctl_topic));
	w = (size_t)snprintf(want_long, sizeof(want_long), "{\"gap\":{\"topic\":\"");
	for (i = 0; i < sizeof(ctl_topic); i++)
		w += (size_t)snprintf(want_long + w, sizeof(want_long) - w, "\\u0001");
	w += (size_t)snprintf(want_long + w, sizeof(want_long) - w,
	    "\",\"from\":0,\"to\":18446744073709551615}}\1");
	n = render_gap(buf, sizeof(buf), ctl_topic, sizeof(ctl_topic), 0, UINT64_MAX);
	expect_render(buf, n, want_long, w, "render_gap: 255 control bytes, largest seq");

	n = render_hello(buf, sizeof(buf), "0123456789abcdef", 42);
	expect_render(buf, n, S("{\"hello\":{\"version\":2,\"epoch\":\"0123456789abcdef\",\"seq\":42}}\1"),
	    "render_hello");
	n = render_published(buf, sizeof(buf), 5);
	expect_render(buf, n, S("{\"published\":{\"seq\":5}}\1"), "render_published");
	n = render_auth(buf, sizeof(buf));
	expect_render(buf, n, S("{\"auth\":\"ok\"}\1"), "render_auth");
}

/* test_greeting - the greeting, in the 96 bytes its header promises. */
static void
test_greeting(void)
{
	static const char token[RENDER_TOKEN_LEN + 1] = "0123456789abcdef0123456789abcdef";
	char *dst = malloc(96);
	size_t n;

	if (dst == NULL)
		tap_bail("out of memory");
	n = render_greeting(dst, EXAMPLE_USEC, token);
	tap_is_mem(dst, n, S(EXAMPLE_PREFIX "\"token\":\"0123456789abcdef0123456789abcdef\"}\1"),
	    "render_greeting");
	n = render_greeting(dst, UINT64_MAX, token);
	tap_is_mem(dst, n, S("{\"timestamp\":[18446744,73709,551615],"
	    "\"token\":\"0123456789abcdef0123456789abcdef\"}\1"),
	    "render_greeting at the largest time fits 96 bytes");
	free(dst);
}

/*
 * test_check_message - render_check_message takes what nodes render, with
 * the prefix length, and refuses what no node renders.
 */
static void
test_check_message(void)
{
	static const uint64_t times[] = { 0, EXAMPLE_USEC, UINT64_C(1700000005000007) };
	static const char *const bad[] = {
		"{\"timestamp\":[1,2,3]}", "{\"timestamp\":[1,2,3],\"a\":1", "{\"timestamp\":[1,2,3],\"a\":}",
		"{\"timestamp\":[01,2,3],\"a\":1}", "{\"timestamp\":[1,1000000,3],\"a\":1}",
		"{\"timestamp\":[12345678901,2,3],\"a\":1}", "{\"timestamp\":[1,2],\"a\":1}",
		"{\"timestamp\": [1,2,3],\"a\":1}", "{\"a\":1,\"timestamp\":[1,2,3]}",
		"{\"timestamp\":[1,2,3],\"a\":1,\"timestamp\":2}", "{\"timestamp\":[1,2,3],\"seq\":4,\"a\":1}",
		"{\"timestamp\":[1,2,3],\"a\":1} ", "{\"timestamp\":[1,2,3],\"a\":\"\xff\"}",
	};
	static const char rest[] = "\"topic\":\"t\",\"d\":[1,{}]}";
	char msg[128];
	const char *why = NULL;
	size_t i;
	long n;

	for (i = 0; i < NELEM(times); i++) {
		n = (long)render_prefix(msg, times[i]);
		memcpy(msg + n, rest, sizeof(rest) - 1);
		tap_is_int(render_check_message(msg, (size_t)n + sizeof(rest) - 1, &why), n,
		    "render_check_message of a rendered message: its prefix length (%zu)", i);
	}
	for (i = 0; i < NELEM(bad); i++) {
		n = render_check_message(bad[i], strlen(bad[i]), &why);
		tap_ok(n == -1 && why != NULL, "render_check_message refuses %s", bad[i]);
	}
}

int
main(void)
{
	tap_plan((int)NELEM(pcases) + 8 + 8 + 11 + 3 + 3 + 7 + 2 + 3 + 13);
	test_table();
	test_topic_lengths();
	test_prefix();
	test_message();
	test_members();
	test_seq();
	test_replies();
	test_greeting();
	test_check_message();
	return tap_done();
}
