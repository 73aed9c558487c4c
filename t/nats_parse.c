/*
 * t/nats_parse.c - unit test for proto/nats.c, the NATS client protocol.
 *
 * Owns: one stream of every operation a server sends (INFO, MSG with and
 * without reply-to, empty and binary payloads, lowercase names, tabs,
 * bare \n line ends, -ERR, +OK, PING, PONG) fed whole, a byte at a time,
 * at every split point and every pair of split points, with the same
 * operations, result and pending bytes each time; each malformed input
 * at every split, with its error and its words; the line and payload
 * limits at their edges; INFO fields; a callback that stops; that whole
 * operations are handed out from the caller's buffer and only unfinished
 * ones are copied; and the exact bytes of the encoders. Every chunk is
 * fed from an exactly sized malloc'd copy so ASan catches reads past it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nats.h"
#include "t/tap.h"
#include "t/transcript.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1

/* A callback's context: where ops go, the chunk being fed, when to stop. */
struct sink {
	struct transcript *tr;
	const char *chunk;
	size_t chunk_len;
	int ops;
	int stop_at;        /* 1-based op number to return -1 on; 0: never */
	int msgs;
	int msgs_in_chunk;  /* payloads that pointed into the caller's chunk */
};

/* tr_bracket - `[BYTES]`, so any byte shows and lengths are checked too. */
static void
tr_bracket(struct transcript *tr, const char *p, size_t n)
{
	tr_put(tr, "[", 1);
	tr_put(tr, p, n);
	tr_put(tr, "]", 1);
}

/* tr_info - the parsed INFO fields on one line. */
static void
tr_info(struct transcript *tr, const struct nats_info *in)
{
	tr_printf(tr, "INFO id=%s name=%s version=%s max=%llu cid=%llu proto=%llu "
	    "headers=%d auth=%d tls=%d ldm=%d\n", in->server_id, in->server_name,
	    in->version, (unsigned long long)in->max_payload,
	    (unsigned long long)in->client_id, (unsigned long long)in->proto,
	    in->headers, in->auth_required, in->tls_required, in->ldm);
}

/* record_op - the callback: log the operation, maybe ask to stop. */
static int
record_op(void *ctx, const struct nats_op *op)
{
	struct sink *s = ctx;

	switch (op->type) {
	case NATS_OP_INFO:
		tr_info(s->tr, op->info);
		break;
	case NATS_OP_MSG:
		tr_printf(s->tr, "MSG ");
		tr_bracket(s->tr, op->subject, op->subject_len);
		tr_printf(s->tr, " %llu ", (unsigned long long)op->sid);
		if (op->reply != NULL)
			tr_bracket(s->tr, op->reply, op->reply_len);
		else
			tr_put(s->tr, "-", 1);
		tr_printf(s->tr, " %zu ", op->len);
		tr_bracket(s->tr, op->data, op->len);
		tr_put(s->tr, "\n", 1);
		s->msgs++;
		if (op->data >= s->chunk && op->data + op->len <= s->chunk + s->chunk_len)
			s->msgs_in_chunk++;
		break;
	case NATS_OP_PING:
		tr_printf(s->tr, "PING\n");
		break;
	case NATS_OP_PONG:
		tr_printf(s->tr, "PONG\n");
		break;
	case NATS_OP_OK:
		tr_printf(s->tr, "OK\n");
		break;
	case NATS_OP_ERR:
		tr_printf(s->tr, "ERR ");
		tr_bracket(s->tr, op->data, op->len);
		tr_put(s->tr, "\n", 1);
		break;
	}
	s->ops++;
	return s->ops == s->stop_at || s->tr->overflow ? -1 : 0;
}

/* feed_copy - feed n bytes from an exactly sized heap copy. */
static enum nats_result
feed_copy(struct nats_parser *p, const char *data, size_t n, struct sink *s)
{
	char *copy = malloc(n > 0 ? n : 1);
	enum nats_result r;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, data, n);
	s->chunk = copy;
	s->chunk_len = n;
	r = nats_parse(p, copy, n, record_op, s);
	free(copy);
	return r;
}

/*
 * run_cuts - feed stream in pieces ending at each cut (ascending, may
 * repeat, so empty pieces happen); stop at the first result other than
 * NATS_MORE. Fills tr with the ops, then the result or the pending bytes.
 */
static void
run_cuts(const char *stream, size_t len, const size_t *cuts, size_t ncuts,
    uint64_t max_payload, struct transcript *tr)
{
	struct nats_parser p;
	struct sink s = { tr, NULL, 0, 0, 0, 0, 0 };
	enum nats_result r = NATS_MORE;
	size_t i, from = 0, to;

	tr->len = 0;
	tr->overflow = 0;
	nats_parser_init(&p, max_payload);
	for (i = 0; i <= ncuts && r == NATS_MORE; i++) {
		to = i < ncuts ? cuts[i] : len;
		r = feed_copy(&p, stream + from, to - from, &s);
		from = to;
	}
	if (r == NATS_MORE) {
		tr_printf(tr, "pending %zu ", nats_parser_pending(&p));
		tr_bracket(tr, p.part, nats_parser_pending(&p));
		tr_put(tr, "\n", 1);
	} else {
		tr_printf(tr, "result %d %s\n", (int)r,
		    r == NATS_STOP ? "" : nats_parse_error(&p));
	}
	nats_parser_free(&p);
}

/* every_single_cut - the stream split in two at every point gives want. */
static void
every_single_cut(const char *stream, size_t len, uint64_t max_payload,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	size_t cut, runs = 0;

	for (cut = 0; cut <= len; cut++) {
		run_cuts(stream, len, &cut, 1, max_payload, &tr);
		runs++;
		if (!tr_equal(&tr, want))
			break;
	}
	tr_report(&tr, want, what, runs, cut, cut);
}

/* every_pair_cut - the stream split in three at every pair of points gives want. */
static void
every_pair_cut(const char *stream, size_t len, uint64_t max_payload,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	size_t cuts[2], runs = 0;

	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++) {
			run_cuts(stream, len, cuts, 2, max_payload, &tr);
			runs++;
			if (!tr_equal(&tr, want))
				goto out;
		}
	}
	cuts[0] = cuts[1] = len;
out:
	tr_report(&tr, want, what, runs, cuts[0], cuts[1]);
}

/* byte_by_byte - the stream a byte per feed gives want. */
static void
byte_by_byte(const char *stream, size_t len, uint64_t max_payload,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	static size_t cuts[8192];
	size_t i;

	if (len > NELEM(cuts))
		tap_bail("stream too long for byte_by_byte");
	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	run_cuts(stream, len, cuts, len, max_payload, &tr);
	tr_report(&tr, want, what, 1, 0, 0);
}

/* --- the good stream --- */

static const char info1[] =
    "INFO {\"server_id\":\"NABCDEF\",\"server_name\":\"n\\u0031\","
    "\"version\":\"2.9.10\",\"proto\":1,\"go\":\"go1.19\",\"host\":\"0.0.0.0\","
    "\"port\":4222,\"headers\":true,\"max_payload\":1048576,\"client_id\":7,"
    "\"connect_urls\":[\"127.0.0.1:4222\",\"127.0.0.1:4223\"],"
    "\"nested\":{\"a\":[1,{\"b\":null}]}}\r\n";
static const char info1_want[] =
    "INFO id=NABCDEF name=n1 version=2.9.10 max=1048576 cid=7 proto=1 "
    "headers=1 auth=0 tls=0 ldm=0\n";
static const char info2[] =
    "info\t {\"server_id\":\"NABCDEF\",\"max_payload\":65536,\"ldm\":true,"
    "\"auth_required\":true,\"tls_required\":false} \n";
static const char info2_want[] =
    "INFO id=NABCDEF name= version= max=65536 cid=0 proto=0 "
    "headers=0 auth=1 tls=0 ldm=1\n";

/* The operations of the stream and what the callback must log for each. */
static const struct {
	const char *in;
	size_t len;
	const char *want;
	size_t want_len;
} good_ops[] = {
	{ S(info1), S(info1_want) },
	{ S("PING\r\n"), S("PING\n") },
	{ S("MSG janus.orders 1 5\r\nhello\r\n"),
	  S("MSG [janus.orders] 1 - 5 [hello]\n") },
	{ S("MSG a.b 22 _INBOX.x 0\r\n\r\n"), S("MSG [a.b] 22 [_INBOX.x] 0 []\n") },
	{ S("msg\tx  18446744073709551615\t 7 \r\n\r\nMSG \0\r\n"),
	  S("MSG [x] 18446744073709551615 - 7 [\r\nMSG \0]\n") },
	{ S("+OK\r\n"), S("OK\n") },
	{ S("pong\n"), S("PONG\n") },
	{ S("-ERR 'Unknown Protocol Operation'\r\n"),
	  S("ERR [Unknown Protocol Operation]\n") },
	{ S("-err\r\n"), S("ERR []\n") },
	{ S("MSG ~a~20b 3 2\r\n\r\n\r\n"), S("MSG [~a~20b] 3 - 2 [\r\n]\n") },
	{ S("PiNg \t\r\n"), S("PING\n") },
	{ S(info2), S(info2_want) },
	{ S("MSG big 4 40\r\n0123456789012345678901234567890123456789\r\n"),
	  S("MSG [big] 4 - 40 [0123456789012345678901234567890123456789]\n") },
};

/* An unfinished MSG at the end: its line and part of its payload. */
static const char good_tail[] = "MSG t 9 10\r\nabc";

struct stream {
	char bytes[4096];
	size_t len;
	struct transcript want;
};

/* stream_build - the good ops, each `reps` times, then the unfinished tail. */
static void
stream_build(struct stream *st, size_t first, size_t last)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = first; i <= last; i++) {
		if (st->len + good_ops[i].len > sizeof(st->bytes))
			tap_bail("test stream too long");
		memcpy(st->bytes + st->len, good_ops[i].in, good_ops[i].len);
		st->len += good_ops[i].len;
		tr_put(&st->want, good_ops[i].want, good_ops[i].want_len);
	}
	memcpy(st->bytes + st->len, good_tail, sizeof(good_tail) - 1);
	st->len += sizeof(good_tail) - 1;
	tr_printf(&st->want, "pending %zu ", sizeof(good_tail) - 1);
	tr_bracket(&st->want, good_tail, sizeof(good_tail) - 1);
	tr_put(&st->want, "\n", 1);
}

/* test_good_stream - every split of the stream of every operation. */
static void
test_good_stream(void)
{
	static struct stream all, small;
	static struct transcript tr;

	stream_build(&all, 0, NELEM(good_ops) - 1);
	run_cuts(all.bytes, all.len, NULL, 0, 0, &tr);
	tr_report(&tr, &all.want, "every operation in one feed", 1, 0, 0);
	byte_by_byte(all.bytes, all.len, 0, &all.want, "one byte per feed");
	every_single_cut(all.bytes, all.len, 0, &all.want, "every split point");
	/* pairs of cuts on the ops without the long INFO, to stay quick */
	stream_build(&small, 1, NELEM(good_ops) - 2);
	every_pair_cut(small.bytes, small.len, 0, &small.want,
	    "every pair of split points");
}

/* --- zero copy and what is kept --- */

/* test_zero_copy - whole MSGs come from the caller's buffer; only a tail is copied. */
static void
test_zero_copy(void)
{
	static const char two[] = "MSG a 1 3\r\nabc\r\nMSG b 2 3\r\ndef\r\nMSG c 3 3\r\ngh";
	struct transcript tr = { .len = 0 };
	struct sink s = { &tr, NULL, 0, 0, 0, 0, 0 };
	struct nats_parser p;

	nats_parser_init(&p, 0);
	tap_is_int(feed_copy(&p, S(two), &s), NATS_MORE, "two MSGs and a part");
	tap_ok(s.msgs == 2 && s.msgs_in_chunk == 2,
	    "both payloads point into the caller's buffer (%d of %d)",
	    s.msgs_in_chunk, s.msgs);
	tap_is_mem(p.part, nats_parser_pending(&p), S("MSG c 3 3\r\ngh"),
	    "only the unfinished MSG is copied");
	tap_is_int((long long)p.cap, (long long)sizeof("MSG c 3 3\r\ngh\ni\r\n") - 2,
	    "with its line in, the copy is sized for the whole MSG");
	tap_is_int(feed_copy(&p, S("i\r\nPING\r\n"), &s), NATS_MORE,
	    "its end and a PING");
	tap_ok(s.msgs == 3 && s.msgs_in_chunk == 2,
	    "the completed MSG came from the copy");
	tap_ok(p.part == NULL && nats_parser_pending(&p) == 0 && p.cap == 0,
	    "nothing held once it completed");
	tap_is_mem(tr.buf, tr.len, S("MSG [a] 1 - 3 [abc]\nMSG [b] 2 - 3 [def]\n"
	    "MSG [c] 3 - 3 [ghi]\nPING\n"), "ops in order");
	tap_is_int(feed_copy(&p, S(""), &s), NATS_MORE, "an empty feed");
	tap_ok(p.part == NULL, "an empty feed holds nothing");
	nats_parser_free(&p);
}

/* count_msg - a callback that only counts MSGs of the size wanted. */
static int
count_msg(void *ctx, const struct nats_op *op)
{
	size_t *n = ctx;

	if (op->type == NATS_OP_MSG && op->len == (size_t)1 << 20)
		(*n)++;
	return 0;
}

/* test_big_payload - a payload of 1 MiB in 1000-byte reads: one copy of its size. */
static void
test_big_payload(void)
{
	size_t n = 1 << 20, total, off, k, msgs = 0;
	struct nats_parser p;
	enum nats_result r = NATS_MORE;
	char *buf = malloc(n + 64);
	int head;

	if (buf == NULL)
		tap_bail("out of memory");
	head = snprintf(buf, 64, "MSG big 1 %zu\r\n", n);
	memset(buf + head, 'z', n);
	memcpy(buf + head + n, "\r\n", 2);
	total = (size_t)head + n + 2;
	nats_parser_init(&p, 2 << 20);
	for (off = 0; off < total && r == NATS_MORE; off += k) {
		k = total - off < 1000 ? total - off : 1000;
		r = nats_parse(&p, buf + off, k, count_msg, &msgs);
		if (off == 1000)
			tap_is_int((long long)p.cap, (long long)total,
			    "one allocation, of exactly the MSG's size");
	}
	tap_ok(r == NATS_MORE && msgs == 1, "the 1 MiB MSG was handed out");
	tap_ok(p.part == NULL, "and its copy freed");
	nats_parser_free(&p);
	free(buf);
}

/* --- errors --- */

static const struct {
	const char *in;
	size_t len;
	uint64_t max_payload;
	enum nats_result want;
	const char *words;
} bad_cases[] = {
	{ S("PING\r\nFOO bar\r\nPING\r\n"), 0, NATS_E_SYNTAX,
	  "unknown operation: 'FOO bar'" },
	{ S("\r\n"), 0, NATS_E_SYNTAX, "unknown operation: ''" },
	{ S("MS G a 1 1\r\nx\r\n"), 0, NATS_E_SYNTAX, "unknown operation" },
	{ S("MSG a 1\r\n"), 0, NATS_E_SYNTAX, "MSG with 2 arguments, not 3 or 4: 'MSG a 1'" },
	{ S("MSG a 1 2 3 4\r\n"), 0, NATS_E_SYNTAX, "MSG with 5 arguments" },
	{ S("MSG\r\n"), 0, NATS_E_SYNTAX, "MSG with 0 arguments" },
	{ S("MSG a x 3\r\nabc\r\n"), 0, NATS_E_SYNTAX, "MSG with a bad sid" },
	{ S("MSG a -1 3\r\nabc\r\n"), 0, NATS_E_SYNTAX, "MSG with a bad sid" },
	{ S("MSG a 1 -3\r\n"), 0, NATS_E_SYNTAX, "MSG with a bad size" },
	{ S("MSG a 1 3x\r\n"), 0, NATS_E_SYNTAX, "MSG with a bad size" },
	{ S("MSG a 1 99999999999999999999999\r\n"), 0, NATS_E_SYNTAX, "MSG with a bad size" },
	{ S("PING x\r\n"), 0, NATS_E_SYNTAX, "arguments after PING" },
	{ S("PONG\r\r\n"), 0, NATS_E_SYNTAX, "unknown operation: 'PONG\\x0d'" },
	{ S("+OK x\r\n"), 0, NATS_E_SYNTAX, "arguments after +OK" },
	{ S("\x0bOK\r\n"), 0, NATS_E_SYNTAX, "unknown operation: '\\x0bOK'" },
	{ S("INFO\r\n"), 0, NATS_E_SYNTAX, "INFO without its JSON" },
	{ S("HMSG a 1 4 4\r\nab\r\n\r\n"), 0, NATS_E_SYNTAX,
	  "HMSG, but CONNECT asked for no headers" },
	{ S("MSG a 1 3\r\nabcXY"), 0, NATS_E_TERMINATOR,
	  "MSG payload of 3 bytes not followed by \\r\\n: 'XY'" },
	{ S("MSG a 1 3\r\nabc\n\r"), 0, NATS_E_TERMINATOR, "not followed by" },
	{ S("MSG a 1 3\r\nabcd\r\n"), 0, NATS_E_TERMINATOR, "not followed by" },
	{ S("MSG a 1 4\r\nabc\r\nPING\r\n"), 0, NATS_E_TERMINATOR, "'\\x0aP'" },
	{ S("PING\r\nMSG a 1 11\r\n"), 10, NATS_E_PAYLOAD,
	  "MSG payload of 11 bytes over the limit of 10" },
	{ S("INFO {\"max_payload\":16}\r\nMSG a 1 16\r\n0123456789abcdef\r\nMSG a 1 17\r\n"),
	  0, NATS_E_PAYLOAD, "MSG payload of 17 bytes over the limit of 16" },
	{ S("INFO [1]\r\n"), 0, NATS_E_INFO, "INFO is not a JSON object (not a json object)" },
	{ S("INFO {\"a\":1\r\n"), 0, NATS_E_INFO, "INFO is not a JSON object (truncated input at byte" },
	{ S("INFO {\"a\":1} x\r\n"), 0, NATS_E_INFO, "trailing data" },
	{ S("INFO {\"max_payload\":\"1\"}\r\n"), 0, NATS_E_INFO,
	  "INFO with a bad max_payload: '1'" },
	{ S("INFO {\"max_payload\":-1}\r\n"), 0, NATS_E_INFO, "INFO with a bad max_payload" },
	{ S("INFO {\"max_payload\":0}\r\n"), 0, NATS_E_INFO, "INFO with max_payload 0" },
	{ S("INFO {\"headers\":1}\r\n"), 0, NATS_E_INFO, "INFO with a bad headers" },
	{ S("INFO {\"server_id\":7}\r\n"), 0, NATS_E_INFO, "INFO with a bad server_id" },
	{ S("INFO {\"version\":\"0123456789012345678901234567890123456789\"}\r\n"),
	  0, NATS_E_INFO, "INFO with a bad version" },
};

/* test_bad - each malformed input: the ops before it, its error and words, at every split. */
static void
test_bad(void)
{
	static struct transcript want;
	char code[32];
	size_t i;

	for (i = 0; i < NELEM(bad_cases); i++) {
		run_cuts(bad_cases[i].in, bad_cases[i].len, NULL, 0,
		    bad_cases[i].max_payload, &want);
		if (want.len >= sizeof(want.buf))
			tap_bail("transcript too long");
		want.buf[want.len] = '\0';
		snprintf(code, sizeof(code), "result %d ", (int)bad_cases[i].want);
		if (!tap_ok(strstr(want.buf, code) != NULL &&
		    strstr(want.buf, bad_cases[i].words) != NULL,
		    "bad input %zu: %s... '%s'", i, code, bad_cases[i].words))
			tap_diag("transcript: %s", want.buf);
		every_single_cut(bad_cases[i].in, bad_cases[i].len,
		    bad_cases[i].max_payload, &want, "the same at every split point");
	}
}

/* --- limits --- */

/* line_of - "-ERR '" + x's + "'" of exactly n bytes, then end (with a bad op first if bad). */
static size_t
line_of(char *buf, size_t n, const char *end)
{
	memcpy(buf, "-ERR '", 6);
	memset(buf + 6, 'x', n - 7);
	buf[n - 1] = '\'';
	memcpy(buf + n, end, strlen(end));
	return n + strlen(end);
}

/* test_line_limit - a control line of NATS_LINE_MAX bytes passes, one more does not. */
static void
test_line_limit(void)
{
	static char buf[NATS_INFO_MAX + 64];
	static struct transcript tr, want;
	size_t n;

	n = line_of(buf, NATS_LINE_MAX, "\r\n");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tap_ok(tr.len > NATS_LINE_MAX && memcmp(tr.buf, "ERR [", 5) == 0 &&
	    strstr(tr.buf, "pending 0") != NULL, "a line of NATS_LINE_MAX bytes and \\r\\n");
	n = line_of(buf, NATS_LINE_MAX, "\n");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "ERR [", 5) == 0 && strstr(tr.buf, "pending 0") != NULL,
	    "a line of NATS_LINE_MAX bytes and a bare \\n");
	n = line_of(buf, NATS_LINE_MAX + 1, "\r\n");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tr.buf[tr.len - 1] = '\0';
	tap_ok(strstr(tr.buf, "result 3 control line longer than 4160 bytes") != NULL,
	    "one byte more: NATS_E_LINE");
	n = line_of(buf, NATS_LINE_MAX + 1, "\n");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "result 3 ", 9) == 0, "one byte more with a bare \\n: NATS_E_LINE");
	n = line_of(buf, NATS_LINE_MAX + 2, "");
	run_cuts(buf, n, NULL, 0, 0, &want);
	tap_ok(memcmp(want.buf, "result 3 ", 9) == 0,
	    "NATS_LINE_MAX + 2 bytes without a line end: NATS_E_LINE");
	byte_by_byte(buf, n, 0, &want, "that line a byte per feed");
	n = line_of(buf, NATS_LINE_MAX + 1, "");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tap_ok(strstr(tr.buf, "pending 4161") != NULL,
	    "a line end may still come after NATS_LINE_MAX + 1 bytes (\\r)");
	n = line_of(buf, 6000, "");
	run_cuts(buf, n, NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "result 3 ", 9) == 0, "6000 bytes without a line end: NATS_E_LINE");

	/* INFO may be longer: it lists the cluster's URLs */
	memcpy(buf, "INFO {\"connect_urls\":[\"", 23);
	memset(buf + 23, 'u', NATS_INFO_MAX - 23 - 3);
	memcpy(buf + NATS_INFO_MAX - 3, "\"]}\r\n", 5);
	run_cuts(buf, NATS_INFO_MAX + 2, NULL, 0, 0, &tr);
	tap_is_mem(tr.buf, tr.len, S("INFO id= name= version= max=1048576 cid=0 proto=0 "
	    "headers=0 auth=0 tls=0 ldm=0\npending 0 []\n"), "an INFO of NATS_INFO_MAX bytes");
	memcpy(buf + NATS_INFO_MAX - 3, "u\"]}\r\n", 6);
	run_cuts(buf, NATS_INFO_MAX + 3, NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "result 3 control line longer than 65536", 39) == 0,
	    "one byte more: NATS_E_LINE");
}

/* test_payload_limits - the caller's limit wins, INFO's applies without one, clamps. */
static void
test_payload_limits(void)
{
	static const char edge[] = "INFO {\"max_payload\":16}\r\nMSG a 1 17\r\n";
	static struct transcript tr;
	struct nats_parser p;

	run_cuts(S(edge), NULL, 0, 100, &tr);
	tap_ok(strstr(tr.buf, "pending 12 [MSG a 1 17\r\n]") != NULL,
	    "a caller's limit of 100 wins over INFO's 16");
	run_cuts(S("MSG a 1 1048577\r\n"), NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "result 4 ", 9) == 0,
	    "without INFO or a caller's limit: NATS_PAYLOAD_DEFAULT");
	run_cuts(S("MSG a 1 1048576\r\n"), NULL, 0, 0, &tr);
	tap_ok(memcmp(tr.buf, "pending 17", 10) == 0, "exactly NATS_PAYLOAD_DEFAULT is waited for");
	nats_parser_init(&p, UINT64_MAX);
	tap_is_int((long long)p.max_payload, NATS_PAYLOAD_CEIL, "a caller's limit is clamped");
	run_cuts(S("INFO {\"max_payload\":99999999999}\r\nMSG a 1 2147483648\r\n"), NULL, 0, 0,
	    &tr);
	tap_ok(strstr(tr.buf, "max=2147483647") != NULL &&
	    strstr(tr.buf, "result 4 MSG payload of 2147483648 bytes over the limit of 2147483647") != NULL,
	    "INFO's max_payload is clamped to NATS_PAYLOAD_CEIL");
}

/* test_stop_and_sticky - -1 stops (also from a copy); errors stay. */
static void
test_stop_and_sticky(void)
{
	struct transcript tr = { .len = 0 };
	struct sink s = { &tr, NULL, 0, 0, 2, 0, 0 };
	struct nats_parser p;

	nats_parser_init(&p, 0);
	tap_is_int(feed_copy(&p, S("PING\r\nPONG\r\n+OK\r\n"), &s), NATS_STOP,
	    "callback -1 on the second op: NATS_STOP");
	tap_is_mem(tr.buf, tr.len, S("PING\nPONG\n"), "no op after the one that stopped");
	tr.len = 0;
	s.ops = 0;
	s.stop_at = 1;
	tap_is_int(feed_copy(&p, S("MSG a 1 2\r\nx"), &s), NATS_MORE, "an unfinished MSG");
	tap_is_int(feed_copy(&p, S("y\r\nPING\r\n"), &s), NATS_STOP,
	    "callback -1 on the MSG completed from the copy: NATS_STOP");
	tap_is_mem(tr.buf, tr.len, S("MSG [a] 1 - 2 [xy]\n"), "it was handed out whole");
	tap_ok(p.part == NULL, "its copy was freed");
	nats_parser_free(&p);

	tr.len = 0;
	s.ops = 0;
	s.stop_at = 0;
	nats_parser_init(&p, 0);
	tap_is_int(feed_copy(&p, S("BAD\r\n"), &s), NATS_E_SYNTAX, "an error");
	tap_is_int(feed_copy(&p, S("PING\r\n"), &s), NATS_E_SYNTAX, "is returned again");
	tap_ok(tr.len == 0, "and nothing more is handed out");
	tap_is_str(nats_parse_error(&p), "unknown operation: 'BAD'", "its words stay");
	nats_parser_free(&p);
	nats_parser_init(&p, 0);
	tap_is_str(nats_parse_error(&p), "no error", "a new parser has no error");
	tap_is_int(feed_copy(&p, S("MSG a 1 1\r\nxyz"), &s), NATS_E_TERMINATOR,
	    "an error while a part is kept");
	nats_parser_free(&p);
	tap_ok(p.part == NULL && nats_parser_pending(&p) == 0, "nats_parser_free drops it");
}

/* --- encoders --- */

/* test_connect - CONNECT's exact bytes, escaping, and room. */
static void
test_connect(void)
{
	static const char want[] = "CONNECT {\"verbose\":false,\"pedantic\":false,"
	    "\"tls_required\":false,\"name\":\"janusd \\\"n1\\\"\",\"lang\":\"c\","
	    "\"version\":\"0.4\",\"protocol\":1,\"echo\":false,\"headers\":false}\r\n";
	static char big[NATS_ARGS_MAX + 64], dst[NATS_ARGS_MAX + 256];
	char buf[512];
	long n;

	n = nats_put_connect(buf, sizeof(buf), "janusd \"n1\"", "0.4");
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S(want), "CONNECT with an escaped name");
	tap_is_int(nats_put_connect(buf, sizeof(want) - 2, "janusd \"n1\"", "0.4"), -1,
	    "one byte short of room: -1");
	tap_is_int(nats_put_connect(buf, sizeof(want) - 1, "janusd \"n1\"", "0.4"),
	    (long long)sizeof(want) - 1, "exactly enough room");
	memset(big, 'n', NATS_ARGS_MAX);
	big[NATS_ARGS_MAX] = '\0';
	tap_is_int(nats_put_connect(dst, sizeof(dst), big + NATS_ARGS_MAX - 4000, "1"), -1,
	    "arguments over NATS_ARGS_MAX: -1");
}

/* test_sub_unsub_pub - the other encoders' bytes, bad subjects, limits. */
static void
test_sub_unsub_pub(void)
{
	static const char *const bad[] = { "", "a b", "a\tb", "a\rb", "a\nb" };
	static char subj[NATS_ARGS_MAX + 64], buf[NATS_ARGS_MAX + 64];
	char payload[] = "hello", joined[64];
	struct iovec iov[3];
	size_t i, k;
	long n;

	n = nats_put_sub(buf, sizeof(buf), S("janus.a.*"), 42);
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S("SUB janus.a.* 42\r\n"), "SUB");
	n = nats_put_sub(buf, sizeof(buf), S("s"), UINT64_MAX);
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S("SUB s 18446744073709551615\r\n"),
	    "SUB with the largest sid");
	n = nats_put_unsub(buf, sizeof(buf), 7, 0);
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S("UNSUB 7\r\n"), "UNSUB");
	n = nats_put_unsub(buf, sizeof(buf), 7, 3);
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S("UNSUB 7 3\r\n"), "UNSUB after 3 more");
	n = nats_put_pub(buf, sizeof(buf), S("janus.~a~20b"), 0);
	tap_is_mem(buf, n < 0 ? 0 : (size_t)n, S("PUB janus.~a~20b 0\r\n"), "PUB of nothing");
	for (i = 0, k = 0; i < NELEM(bad); i++)
		k += nats_put_sub(buf, sizeof(buf), bad[i], strlen(bad[i]), 1) == -1 &&
		    nats_put_pub(buf, sizeof(buf), bad[i], strlen(bad[i]), 1) == -1;
	tap_is_int((long long)k, (long long)NELEM(bad),
	    "SUB and PUB refuse empty subjects and ones with space, tab, CR, LF");
	for (k = 0; k < sizeof("PUB s 5\r\n") - 1; k++)
		if (nats_put_pub(buf, k, S("s"), 5) != -1)
			break;
	tap_is_int((long long)k, (long long)sizeof("PUB s 5\r\n") - 1,
	    "PUB refuses every room short of its length");
	memset(subj, 's', sizeof(subj));
	tap_is_int(nats_put_pub(buf, sizeof(buf), subj, NATS_ARGS_MAX - 2, 5),
	    NATS_ARGS_MAX + 6, "PUB arguments of exactly NATS_ARGS_MAX");
	tap_is_int(nats_put_pub(buf, sizeof(buf), subj, NATS_ARGS_MAX - 1, 5), -1,
	    "one byte more: -1");
	tap_is_int(nats_put_sub(buf, sizeof(buf), subj, NATS_ARGS_MAX - 1, 5), -1,
	    "SUB too: -1");

	n = nats_put_pub(buf, sizeof(buf), S("t"), sizeof(payload) - 1);
	nats_pub_iov(iov, buf, (size_t)n, payload, sizeof(payload) - 1);
	for (i = 0, k = 0; i < 3; i++) {
		memcpy(joined + k, iov[i].iov_base, iov[i].iov_len);
		k += iov[i].iov_len;
	}
	tap_is_mem(joined, k, S("PUB t 5\r\nhello\r\n"), "the iovecs make the whole PUB");
	tap_ok(iov[1].iov_base == payload, "the payload is not copied");
}

int
main(void)
{
	tap_plan(NELEM(bad_cases) * 2 + 61);
	test_good_stream();
	test_zero_copy();
	test_big_payload();
	test_bad();
	test_line_limit();
	test_payload_limits();
	test_stop_and_sticky();
	test_connect();
	test_sub_unsub_pub();
	return tap_done();
}
