/*
 * t/ws_frames.c - unit test for proto/ws.c, the WebSocket layer.
 *
 * Owns: the RFC 6455 handshake example; a stream of every kind of valid
 * client frame (short, 16- and 64-bit lengths, a fragmented message with
 * code points split across fragments and control frames between them,
 * a message of exactly the limit, a Close and bytes after it) fed whole,
 * a byte at a time, at every split point and every pair of points; one
 * case per conformance class of PROTOCOL.md Part 3 (close code, failure
 * reason, and nothing handed out after the broken rule) at every split
 * point; UTF-8 refused before its message or even its frame is whole;
 * the limit refused at the header; Close codes and reasons; handing out
 * from the caller's buffer, the memory held between and inside frames;
 * a handler that stops; the server frame builders, round-tripped
 * through the parser. Every piece is fed from an exactly sized malloc'd
 * copy so ASan catches reads and writes past it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ws.h"
#include "t/tap.h"
#include "t/transcript.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1
#define FIN 0x80
#define MAX 300   /* the message limit of most runs */

/* tr_event - one handed-out message as `KIND N [BYTES]`. */
static void
tr_event(struct transcript *tr, enum ws_op op, unsigned code, const char *p, size_t n)
{
	if (op == WS_OP_CLOSE)
		tr_printf(tr, "close %u %zu [", code, n);
	else
		tr_printf(tr, "%s %zu [", op == WS_OP_TEXT ? "text" : op == WS_OP_PING ?
		    "ping" : op == WS_OP_PONG ? "pong" : "?", n);
	tr_put(tr, p, n);
	tr_put(tr, "]\n", 2);
}

/* tr_end - how a run ended: pending bytes, or the result and its code. */
static void
tr_end(struct transcript *tr, enum ws_result r, const struct ws_parser *p)
{
	static const char *const names[] = { "MORE", "STOP", "CLOSED", "FAIL" };

	if (r == WS_MORE)
		tr_printf(tr, "pending %zu\n", ws_pending(p));
	else if (r == WS_FAIL)
		tr_printf(tr, "FAIL %u %s\n", ws_fail_code(p), ws_fail_text(p));
	else
		tr_printf(tr, "%s\n", names[r]);
}

/* A handler's context. */
struct sink {
	struct transcript *tr;
	int calls;
	int stop_at;              /* 1-based call to return -1 on; 0: never */
	const char *feed_lo;      /* the piece being fed, to see where data lies */
	const char *feed_hi;
	int inside;               /* calls whose data lay inside the piece */
};

/* record - the handler: log the call; stop when asked or when the log is full. */
static int
record(void *ctx, const struct ws_msg *m)
{
	struct sink *s = ctx;

	tr_event(s->tr, m->op, m->code, m->data, m->len);
	s->calls++;
	if (m->data >= s->feed_lo && m->data + m->len <= s->feed_hi)
		s->inside++;
	return s->calls == s->stop_at || s->tr->overflow ? -1 : 0;
}

/* feed_copy - feed n bytes from an exactly sized heap copy. */
static enum ws_result
feed_copy(struct ws_parser *p, const void *data, size_t n, size_t max, struct sink *s)
{
	char *copy = malloc(n > 0 ? n : 1);
	enum ws_result r;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, data, n);
	s->feed_lo = copy;
	s->feed_hi = copy + n;
	r = ws_feed(p, copy, n, max, record, s);
	free(copy);
	return r;
}

/* run_cuts - feed in pieces ending at each cut until a result other than MORE. */
static void
run_cuts(const char *stream, size_t len, const size_t *cuts, size_t ncuts,
    size_t max, struct transcript *tr)
{
	struct ws_parser p;
	struct sink s = { tr, 0, 0, NULL, NULL, 0 };
	enum ws_result r = WS_MORE;
	size_t i, from = 0, to;

	memset(&p, 0, sizeof(p));
	tr->len = 0;
	tr->overflow = 0;
	for (i = 0; i <= ncuts && r == WS_MORE; i++) {
		to = i < ncuts ? cuts[i] : len;
		r = feed_copy(&p, stream + from, to - from, max, &s);
		from = to;
	}
	tr_end(tr, r, &p);
	ws_free(&p);
}

/* A client byte stream and the transcript it must give. */
struct stream {
	char *bytes;
	size_t len;
	size_t cap;
	unsigned frames;          /* to vary the mask key */
	size_t max;
	struct transcript want;
};

/* st_free - drop a stream's bytes; it is empty. */
static void
st_free(struct stream *st)
{
	free(st->bytes);
	memset(st, 0, sizeof(*st));
}

/* st_init - an empty stream for the message limit max. */
static void
st_init(struct stream *st, size_t max)
{
	st_free(st);
	st->max = max;
}

/* st_raw - append bytes as they are. */
static void
st_raw(struct stream *st, const void *p, size_t n)
{
	if (st->len + n > st->cap) {
		st->cap = (st->len + n) * 2;
		if ((st->bytes = realloc(st->bytes, st->cap)) == NULL)
			tap_bail("out of memory");
	}
	memcpy(st->bytes + st->len, p, n);
	st->len += n;
}

/*
 * st_frame - append a client frame: b0 is FIN | RSV bits | opcode;
 * lenform 0 is the shortest length, 16 or 64 force that form. payload
 * NULL means len bytes of a pattern. Masked with a key that changes
 * per frame (the first is all zero, a legal key).
 */
static void
st_frame(struct stream *st, uint8_t b0, int masked, int lenform,
    const void *payload, size_t len)
{
	unsigned char h[14], key[4], b;
	size_t n = 0, i;

	h[n++] = b0;
	if (lenform == 0 && len < 126) {
		h[n++] = (unsigned char)len;
	} else if (lenform != 64 && len <= 0xffff) {
		h[n++] = 126;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 127;
		for (i = 0; i < 8; i++)
			h[n++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	for (i = 0; i < 4; i++)
		key[i] = (unsigned char)(st->frames == 0 ? 0 : st->frames * 37 + i * 91 + 1);
	st->frames++;
	if (masked) {
		h[1] |= 0x80;
		memcpy(h + n, key, 4);
		n += 4;
	}
	st_raw(st, h, n);
	for (i = 0; i < len; i++) {
		b = payload ? ((const unsigned char *)payload)[i] : (unsigned char)('a' + i % 23);
		if (masked)
			b ^= key[i % 4];
		st_raw(st, &b, 1);
	}
}

/* run_stream - a tr_run_fn over a struct stream. */
static void
run_stream(const void *ctx, const size_t *cuts, size_t ncuts, struct transcript *tr)
{
	const struct stream *st = ctx;

	run_cuts(st->bytes, st->len, cuts, ncuts, st->max, tr);
}

/* check_whole - the stream in one feed and a byte at a time. */
static void
check_whole(const struct stream *st, const char *what)
{
	tr_check_whole(run_stream, st, st->len, &st->want, what);
}

/* check_splits - every split point. */
static void
check_splits(const struct stream *st, const char *what)
{
	tr_check_splits(run_stream, st, st->len, &st->want, what);
}

/* check_pairs - every pair of split points. */
static void
check_pairs(const struct stream *st, const char *what)
{
	tr_check_pairs(run_stream, st, st->len, &st->want, what);
}

/* st_want - a message the handler must get. */
static void
st_want(struct stream *st, enum ws_op op, unsigned code, const void *p, size_t n)
{
	char pat[1024];
	size_t i;

	if (p == NULL) {
		for (i = 0; i < n && i < sizeof(pat); i++)
			pat[i] = (char)('a' + i % 23);
		p = pat;
	}
	tr_event(&st->want, op, code, p, n);
}

/* build_fragmented - a message in five fragments with controls between; code points split. */
static void
build_fragmented(struct stream *st)
{
	static const char whole[] = "ab\xf0\x9f\x98\x80" "c\xe2\x82\xac";

	st_frame(st, WS_OP_TEXT, 1, 0, S("ab\xf0\x9f"));
	st_frame(st, FIN | WS_OP_PING, 1, 0, S("mid"));
	st_want(st, WS_OP_PING, 0, S("mid"));
	st_frame(st, WS_OP_CONT, 1, 0, S("\x98\x80" "c"));
	st_frame(st, WS_OP_CONT, 1, 0, S(""));
	st_frame(st, FIN | WS_OP_PONG, 1, 0, S(""));
	st_want(st, WS_OP_PONG, 0, S(""));
	st_frame(st, WS_OP_CONT, 1, 0, S("\xe2"));
	st_frame(st, FIN | WS_OP_CONT, 1, 0, S("\x82\xac"));
	st_want(st, WS_OP_TEXT, 0, S(whole));
}

/* test_valid - every kind of valid frame, then a Close and bytes after it. */
static void
test_valid(void)
{
	static struct stream st;
	char big[MAX];

	memset(big, 'q', sizeof(big));
	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("hello"));
	st_want(&st, WS_OP_TEXT, 0, S("hello"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S(""));
	st_want(&st, WS_OP_TEXT, 0, S(""));
	st_frame(&st, FIN | WS_OP_PING, 1, 0, S("p1"));
	st_want(&st, WS_OP_PING, 0, S("p1"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 126);
	st_want(&st, WS_OP_TEXT, 0, NULL, 126);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 125);
	st_want(&st, WS_OP_TEXT, 0, NULL, 125);
	build_fragmented(&st);
	st_frame(&st, FIN | WS_OP_PING, 1, 0, NULL, 125);
	st_want(&st, WS_OP_PING, 0, NULL, 125);
	st_frame(&st, WS_OP_TEXT, 1, 0, big, 100);
	st_frame(&st, WS_OP_CONT, 1, 0, big, 100);
	st_frame(&st, FIN | WS_OP_CONT, 1, 0, big, 100);
	st_want(&st, WS_OP_TEXT, 0, big, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, big, MAX);
	st_want(&st, WS_OP_TEXT, 0, big, MAX);
	st_frame(&st, FIN | WS_OP_CLOSE, 1, 0, S("\x03\xe8" "bye"));
	st_want(&st, WS_OP_CLOSE, 1000, S("bye"));
	st_frame(&st, FIN | WS_OP_TEXT, 0, 0, S("after the close"));
	tr_printf(&st.want, "CLOSED\n");
	check_whole(&st, "valid frames of every kind, then a Close: whole");
	check_splits(&st, "valid frames of every kind: every split point");

	st_init(&st, MAX);
	build_fragmented(&st);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("x\xc3"));
	tr_printf(&st.want, "FAIL 1007 text is not valid utf-8\n");
	check_pairs(&st, "fragmented message, code points split across fragments, "
	    "then text cut inside a code point: every pair of splits");

	st_init(&st, MAX);
	build_fragmented(&st);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("tail"));
	st.len -= 3;
	tr_printf(&st.want, "pending 1\n");
	check_pairs(&st, "fragmented message then an unfinished frame: "
	    "every pair of splits, one payload byte pending");
	st_free(&st);
}

/* test_long - the 64-bit length form: exactly the limit, and one over it. */
static void
test_long(void)
{
	static struct stream st;
	static struct transcript tr;
	size_t cuts[1], runs = 0, i;

	st_init(&st, 65536);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 65536);
	tr_printf(&st.want, "text 65536 [");
	for (i = 0; i < 65536; i++)
		tr_printf(&st.want, "%c", 'a' + (int)(i % 23));
	tr_printf(&st.want, "]\nCLOSED\n");
	st_frame(&st, FIN | WS_OP_CLOSE, 1, 0, S(""));
	st.want.len -= strlen("CLOSED\n");
	st_want(&st, WS_OP_CLOSE, WS_CLOSE_NO_STATUS, S(""));
	tr_printf(&st.want, "CLOSED\n");
	check_whole(&st, "65536-byte message (64-bit length), limit 65536");
	for (i = 0; i < 40; i++) {
		cuts[0] = i < 20 ? i : st.len - (i - 20);
		run_cuts(st.bytes, st.len, cuts, 1, st.max, &tr);
		runs++;
		if (!tr_equal(&tr, &st.want))
			break;
	}
	tr_report(&tr, &st.want, "  ... split in the header and near the end", runs, cuts[0],
	    cuts[0]);

	st_init(&st, 65536);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("ok"));
	st_want(&st, WS_OP_TEXT, 0, S("ok"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 65537);
	st.len = 6 + 2 + 14;
	tr_printf(&st.want, "FAIL 1009 message too big\n");
	check_splits(&st, "65537 bytes over limit 65536: 1009 from the header alone");
	st_free(&st);
}

/* A frame of a bad case: raw bytes, or a frame as st_frame builds it. */
struct fspec {
	uint8_t b0;
	uint8_t unmasked;
	uint8_t lenform;
	uint8_t raw;
	const char *p;            /* NULL: len pattern bytes */
	size_t len;
};

struct badcase {
	const char *what;
	struct fspec f[3];
	unsigned code;
	const char *why;
};

#define TEXT(fin, lit) { (fin) | WS_OP_TEXT, 0, 0, 0, S(lit) }
#define CONT(fin, lit) { (fin) | WS_OP_CONT, 0, 0, 0, S(lit) }
#define CLOSE(lit) { FIN | WS_OP_CLOSE, 0, 0, 0, S(lit) }
#define OP(b0) { (b0), 0, 0, 0, S("x") }
#define RAW(lit) { 0, 0, 0, 1, S(lit) }

static const struct badcase bad_cases[] = {
	{ "unmasked text", { { FIN | WS_OP_TEXT, 1, 0, 0, S("hi") } }, 1002, "unmasked client frame" },
	{ "unmasked ping", { { FIN | WS_OP_PING, 1, 0, 0, S("") } }, 1002, "unmasked client frame" },
	{ "RSV1", { OP(FIN | 0x40 | WS_OP_TEXT) }, 1002, "reserved bits set" },
	{ "RSV2", { OP(FIN | 0x20 | WS_OP_TEXT) }, 1002, "reserved bits set" },
	{ "RSV3", { OP(FIN | 0x10 | WS_OP_TEXT) }, 1002, "reserved bits set" },
	{ "RSV1 on a ping", { OP(FIN | 0x40 | WS_OP_PING) }, 1002, "reserved bits set" },
	{ "opcode 3", { OP(FIN | 3) }, 1002, "unknown opcode" },
	{ "opcode 4", { OP(FIN | 4) }, 1002, "unknown opcode" },
	{ "opcode 5", { OP(FIN | 5) }, 1002, "unknown opcode" },
	{ "opcode 6", { OP(FIN | 6) }, 1002, "unknown opcode" },
	{ "opcode 7", { OP(FIN | 7) }, 1002, "unknown opcode" },
	{ "opcode 0xB", { OP(FIN | 0xb) }, 1002, "unknown opcode" },
	{ "opcode 0xC", { OP(FIN | 0xc) }, 1002, "unknown opcode" },
	{ "opcode 0xD", { OP(FIN | 0xd) }, 1002, "unknown opcode" },
	{ "opcode 0xE", { OP(FIN | 0xe) }, 1002, "unknown opcode" },
	{ "opcode 0xF", { OP(FIN | 0xf) }, 1002, "unknown opcode" },
	{ "ping without FIN", { OP(WS_OP_PING) }, 1002, "fragmented control frame" },
	{ "pong without FIN", { OP(WS_OP_PONG) }, 1002, "fragmented control frame" },
	{ "close without FIN", { OP(WS_OP_CLOSE) }, 1002, "fragmented control frame" },
	{ "ping of 126 bytes", { { FIN | WS_OP_PING, 0, 0, 0, NULL, 126 } }, 1002,
	    "control frame over 125 bytes" },
	{ "pong of 126 bytes", { { FIN | WS_OP_PONG, 0, 0, 0, NULL, 126 } }, 1002,
	    "control frame over 125 bytes" },
	{ "close of 126 bytes", { { FIN | WS_OP_CLOSE, 0, 0, 0, NULL, 126 } }, 1002,
	    "control frame over 125 bytes" },
	{ "ping of 5 bytes with a 64-bit length", { { FIN | WS_OP_PING, 0, 64, 0, NULL, 5 } },
	    1002, "control frame over 125 bytes" },
	{ "continuation with no message", { CONT(FIN, "x") }, 1002,
	    "continuation without a message" },
	{ "continuation without FIN with no message", { CONT(0, "x") }, 1002,
	    "continuation without a message" },
	{ "continuation after a finished message", { TEXT(FIN, "a"), CONT(FIN, "b") }, 1002,
	    "continuation without a message" },
	{ "text inside a fragmented text", { TEXT(0, "a"), TEXT(FIN, "b") }, 1002,
	    "new message inside a fragmented one" },
	{ "binary inside a fragmented text", { TEXT(0, "a"), OP(FIN | WS_OP_BINARY) }, 1002,
	    "new message inside a fragmented one" },
	{ "binary message", { OP(FIN | WS_OP_BINARY) }, 1003, "binary messages are not supported" },
	{ "fragmented binary message", { OP(WS_OP_BINARY), CONT(FIN, "y") }, 1003,
	    "binary messages are not supported" },
	{ "empty binary message", { { FIN | WS_OP_BINARY, 0, 0, 0, S("") } }, 1003,
	    "binary messages are not supported" },
	{ "16-bit length for 5 bytes", { { FIN | WS_OP_TEXT, 0, 16, 0, NULL, 5 } }, 1002,
	    "bad payload length" },
	{ "64-bit length for 200 bytes", { { FIN | WS_OP_TEXT, 0, 64, 0, NULL, 200 } }, 1002,
	    "bad payload length" },
	{ "64-bit length with its top bit set", { RAW("\x81\xff\x80\0\0\0\0\0\0\0" "abcd") },
	    1002, "bad payload length" },
	{ "overlong NUL in text", { TEXT(FIN, "a\xc0\x80") }, 1007, "text is not valid utf-8" },
	{ "surrogate in text", { TEXT(FIN, "\xed\xa0\x80") }, 1007, "text is not valid utf-8" },
	{ "U+110000 in text", { TEXT(FIN, "\xf4\x90\x80\x80") }, 1007, "text is not valid utf-8" },
	{ "text ending inside a code point", { TEXT(FIN, "a\xe2\x82") }, 1007,
	    "text is not valid utf-8" },
	{ "overlong split across fragments", { TEXT(0, "a\xe0"), CONT(FIN, "\x80\x80") }, 1007,
	    "text is not valid utf-8" },
	{ "surrogate split across three fragments",
	    { TEXT(0, "\xed"), CONT(0, "\xa0"), CONT(FIN, "\x80") }, 1007,
	    "text is not valid utf-8" },
	{ "fragmented text ending inside a code point", { TEXT(0, "a\xe2"), CONT(FIN, "\x82") },
	    1007, "text is not valid utf-8" },
	{ "bad continuation in a later fragment", { TEXT(0, "ok"), CONT(FIN, "\xc3(") }, 1007,
	    "text is not valid utf-8" },
	{ "text one byte over the limit", { { FIN | WS_OP_TEXT, 0, 0, 0, NULL, MAX + 1 } },
	    1009, "message too big" },
	{ "fragments one byte over the limit",
	    { { WS_OP_TEXT, 0, 0, 0, NULL, 200 }, { FIN | WS_OP_PING, 0, 0, 0, S("p") },
	    { FIN | WS_OP_CONT, 0, 0, 0, NULL, MAX - 199 } }, 1009, "message too big" },
	{ "close with a 1-byte payload", { CLOSE("\x03") }, 1002, "one-byte close payload" },
	{ "close code 0", { CLOSE("\0\0") }, 1002, "invalid close code" },
	{ "close code 999", { CLOSE("\x03\xe7") }, 1002, "invalid close code" },
	{ "close code 1004", { CLOSE("\x03\xec") }, 1002, "invalid close code" },
	{ "close code 1005", { CLOSE("\x03\xed") }, 1002, "invalid close code" },
	{ "close code 1006", { CLOSE("\x03\xee") }, 1002, "invalid close code" },
	{ "close code 1015", { CLOSE("\x03\xf7") }, 1002, "invalid close code" },
	{ "close code 1016", { CLOSE("\x03\xf8") }, 1002, "invalid close code" },
	{ "close code 2000", { CLOSE("\x07\xd0") }, 1002, "invalid close code" },
	{ "close code 2999", { CLOSE("\x0b\xb7") }, 1002, "invalid close code" },
	{ "close code 5000", { CLOSE("\x13\x88") }, 1002, "invalid close code" },
	{ "close code 65535", { CLOSE("\xff\xff") }, 1002, "invalid close code" },
	{ "close reason not UTF-8", { CLOSE("\x03\xe8" "bye\xff") }, 1007,
	    "close reason is not valid utf-8" },
	{ "close reason cut inside a code point", { CLOSE("\x03\xe8" "\xc3") }, 1007,
	    "close reason is not valid utf-8" },
};

/*
 * check_bad - "ok", the case's frames, then "after": "ok", the whole
 * text or ping frames before the last one, then the failure.
 */
static void
check_bad(const struct badcase *c)
{
	static struct stream st;
	const struct fspec *f;
	char what[160];
	size_t i;

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("ok"));
	st_want(&st, WS_OP_TEXT, 0, S("ok"));
	for (i = 0; i < NELEM(c->f); i++) {
		f = &c->f[i];
		if (f->raw)
			st_raw(&st, f->p, f->len);
		else if (f->b0 != 0 || f->len != 0)
			st_frame(&st, f->b0, !f->unmasked, f->lenform, f->p, f->len);
		if (i + 1 < NELEM(c->f) && (c->f[i + 1].b0 != 0 || c->f[i + 1].len != 0) &&
		    (f->b0 == (FIN | WS_OP_TEXT) || f->b0 == (FIN | WS_OP_PING)))
			st_want(&st, (enum ws_op)(f->b0 & 0x0f), 0, f->p, f->len);
	}
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("after"));
	tr_printf(&st.want, "FAIL %u %s\n", c->code, c->why);
	snprintf(what, sizeof(what), "%s: %u at every split point", c->what, c->code);
	check_splits(&st, what);
	st_free(&st);
}

/* one_feed - a fresh parser fed bytes once; the result, and the parser kept in p. */
static enum ws_result
one_feed(struct ws_parser *p, struct transcript *tr, const struct stream *st, size_t n)
{
	struct sink s = { tr, 0, 0, NULL, NULL, 0 };

	memset(p, 0, sizeof(*p));
	tr->len = 0;
	return feed_copy(p, st->bytes, n, st->max, &s);
}

/* test_as_it_arrives - bad UTF-8 refused before its frame, or message, is whole. */
static void
test_as_it_arrives(void)
{
	static struct stream st;
	static struct transcript tr;
	struct ws_parser p;

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("a\xe0\x80 and much more text"));
	tap_is_int(one_feed(&p, &tr, &st, 6 + 3), WS_FAIL,
	    "overlong in the first 3 of 24 payload bytes: refused at once");
	tap_is_int(ws_fail_code(&p), 1007, "with 1007");
	tap_ok(p.msg == NULL && ws_pending(&p) == 0, "and nothing held");
	ws_free(&p);

	st_init(&st, MAX);
	st_frame(&st, WS_OP_TEXT, 1, 0, S("fine"));
	st_frame(&st, WS_OP_CONT, 1, 0, S("\xff"));
	tap_is_int(one_feed(&p, &tr, &st, st.len), WS_FAIL,
	    "bad byte in the second of an unfinished message's fragments: refused");
	tap_is_int(ws_fail_code(&p), 1007, "with 1007");
	tap_is_int(feed_copy(&p, "\x81\x80\0\0\0\0", 6, MAX, &(struct sink){ &tr, 0, 0, NULL, NULL, 0 }),
	    WS_FAIL, "a failed parser stays failed");
	ws_free(&p);
	st_free(&st);
}

/* test_close_codes - codes a peer may send are handed out with the reason. */
static void
test_close_codes(void)
{
	static const unsigned ok[] = {
		1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
		3000, 3999, 4000, 4999
	};
	static const unsigned no[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 };
	static struct stream st;
	static struct transcript tr;
	unsigned char pl[2 + 6];
	size_t i, bad_ok = 0, bad_no = 0;

	for (i = 0; i < NELEM(ok); i++) {
		st_init(&st, MAX);
		pl[0] = (unsigned char)(ok[i] >> 8);
		pl[1] = (unsigned char)ok[i];
		memcpy(pl + 2, "r\xc3\xa9son", 6);
		st_frame(&st, FIN | WS_OP_CLOSE, 1, 0, pl, sizeof(pl));
		st_want(&st, WS_OP_CLOSE, ok[i], pl + 2, 6);
		tr_printf(&st.want, "CLOSED\n");
		run_cuts(st.bytes, st.len, NULL, 0, MAX, &tr);
		if (!tr_equal(&tr, &st.want) || !ws_close_code_ok(ok[i]))
			bad_ok++;
	}
	tap_is_int((long long)bad_ok, 0, "%zu valid close codes handed out with their reason",
	    NELEM(ok));
	for (i = 0; i < NELEM(no); i++)
		bad_no += ws_close_code_ok(no[i]);
	tap_is_int((long long)bad_no, 0, "%zu close codes refused", NELEM(no));
	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_CLOSE, 1, 0, S(""));
	st_want(&st, WS_OP_CLOSE, WS_CLOSE_NO_STATUS, S(""));
	tr_printf(&st.want, "CLOSED\n");
	check_splits(&st, "empty close: code 1005, no reason");
	st_free(&st);
}

/* test_memory - handing out from the caller's buffer; what is held, and when. */
static void
test_memory(void)
{
	static struct stream st;
	static struct transcript tr;
	struct sink s = { &tr, 0, 0, NULL, NULL, 0 };
	struct ws_parser p;
	size_t hl;

	tap_ok(sizeof(struct ws_parser) <= 64, "the parser is %zu bytes (at most 64)",
	    sizeof(struct ws_parser));
	st_init(&st, 65536);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("one"));
	st_frame(&st, FIN | WS_OP_PING, 1, 0, S("two"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 300);
	memset(&p, 0, sizeof(p));
	tr.len = 0;
	tap_is_int(feed_copy(&p, st.bytes, st.len, st.max, &s), WS_MORE, "three whole frames in one read");
	tap_is_int(s.inside, 3, "all three handed out from the caller's buffer");
	tap_ok(p.msg == NULL && p.ctl == NULL && ws_pending(&p) == 0, "nothing held after them");

	st_init(&st, 65536);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 60000);
	hl = 2 + 2 + 4;
	s.calls = s.inside = 0;
	tap_is_int(feed_copy(&p, st.bytes, hl + 10, st.max, &s), WS_MORE,
	    "header of a 60000-byte text and 10 bytes of it");
	tap_ok(ws_pending(&p) == 10 && p.cap <= 256, "10 bytes held in %u allocated, not 60000",
	    (unsigned)p.cap);
	feed_copy(&p, st.bytes + hl + 10, 1000, st.max, &s);
	tap_ok(ws_pending(&p) == 1010 && p.cap < 2048, "1010 bytes held in %u allocated",
	    (unsigned)p.cap);
	feed_copy(&p, st.bytes + hl + 1010, st.len - hl - 1010, st.max, &s);
	tap_ok(s.calls == 1 && tr.len > 60000, "the rest: the message handed out");
	tap_ok(p.msg == NULL && p.cap == 0 && ws_pending(&p) == 0, "and its buffer freed");

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, NULL, 300);
	feed_copy(&p, st.bytes, 8 + 290, st.max, &s);
	tap_is_int(p.cap, 300, "290 of 300 bytes: grown to the frame's end, not past it");
	feed_copy(&p, st.bytes + 298, st.len - 298, st.max, &s);

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_PING, 1, 0, NULL, 100);
	feed_copy(&p, st.bytes, 50, st.max, &s);
	tap_ok(p.ctl != NULL && ws_pending(&p) == 44, "half a ping: its 44 payload bytes held");
	feed_copy(&p, st.bytes + 50, st.len - 50, st.max, &s);
	tap_ok(s.calls == 3 && p.ctl == NULL && ws_pending(&p) == 0,
	    "the other half: ping handed out, buffer freed");

	feed_copy(&p, "\x81\xfe\x00", 3, st.max, &s);
	tap_is_int((long long)ws_pending(&p), 3, "3 bytes of a header held inline");
	tap_ok(p.msg == NULL && p.ctl == NULL, "no buffer for them");
	ws_free(&p);
	tap_ok(ws_pending(&p) == 0 && p.state == 0, "ws_free: ready again");
	st_free(&st);
}

/* test_stop - the handler's -1 stops the feed, for a message and for a Close. */
static void
test_stop(void)
{
	static struct stream st;
	static struct transcript tr;
	struct sink s = { &tr, 0, 2, NULL, NULL, 0 };
	struct ws_parser p;

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("A"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("B"));
	st_frame(&st, FIN | WS_OP_TEXT, 1, 0, S("C"));
	memset(&p, 0, sizeof(p));
	tr.len = 0;
	tap_is_int(feed_copy(&p, st.bytes, st.len, MAX, &s), WS_STOP, "-1 on the second: WS_STOP");
	tap_is_mem(tr.buf, tr.len, S("text 1 [A]\ntext 1 [B]\n"), "nothing after it");
	ws_free(&p);

	st_init(&st, MAX);
	st_frame(&st, FIN | WS_OP_CLOSE, 1, 0, S("\x03\xe9"));
	s.calls = 0;
	s.stop_at = 1;
	tap_is_int(feed_copy(&p, st.bytes, st.len, MAX, &s), WS_STOP, "-1 on a Close: WS_STOP");
	s.calls = 0;
	tap_is_int(feed_copy(&p, st.bytes, st.len, MAX, &s), WS_CLOSED,
	    "after a Close: WS_CLOSED");
	tap_is_int(s.calls, 0, "and the handler is not called");
	ws_free(&p);
	st_free(&st);
}

/* test_accept - RFC 6455 1.3's example. */
static void
test_accept(void)
{
	char out[WS_ACCEPT_LEN + 1];

	ws_accept(S("dGhlIHNhbXBsZSBub25jZQ=="), out);
	tap_is_str(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Accept of RFC 6455's example");
}

/* test_header - server headers: the three length forms, FIN, never a mask. */
static void
test_header(void)
{
	static const struct { uint64_t len; int fin; enum ws_op op; const char *want; size_t n; } v[] = {
		{ 0, 1, WS_OP_TEXT, S("\x81\x00") },
		{ 125, 1, WS_OP_TEXT, S("\x81\x7d") },
		{ 126, 1, WS_OP_TEXT, S("\x81\x7e\x00\x7e") },
		{ 65535, 1, WS_OP_TEXT, S("\x81\x7e\xff\xff") },
		{ 65536, 1, WS_OP_TEXT, S("\x81\x7f\0\0\0\0\0\x01\0\0") },
		{ UINT64_C(0x123456789a), 1, WS_OP_TEXT, S("\x81\x7f\0\0\0\x12\x34\x56\x78\x9a") },
		{ 3, 0, WS_OP_TEXT, S("\x01\x03") },
		{ 3, 1, WS_OP_CONT, S("\x80\x03") },
		{ 0, 1, WS_OP_PING, S("\x89\x00") },
	};
	char dst[WS_HEADER_MAX];
	size_t i, n;

	for (i = 0; i < NELEM(v); i++) {
		n = ws_header(dst, v[i].op, v[i].fin, v[i].len);
		tap_is_mem(dst, n, v[i].want, v[i].n, "ws_header op %d fin %d len %llu",
		    (int)v[i].op, v[i].fin, (unsigned long long)v[i].len);
	}
}

/* mask_server - a server frame as a client would send it (masked), for the parser. */
static size_t
mask_server(const char *f, size_t n, char *out)
{
	size_t h = (f[1] & 0x7f) == 126 ? 4 : 2, i;
	static const unsigned char key[4] = { 0xa5, 0x01, 0x7e, 0xc3 };

	memcpy(out, f, h);
	out[1] = (char)(out[1] | 0x80);
	memcpy(out + h, key, 4);
	for (i = h; i < n; i++)
		out[i + 4] = (char)(f[i] ^ key[(i - h) % 4]);
	return n + 4;
}

/* round_trip - a server control frame parsed back: the transcript line. */
static void
round_trip(const char *f, size_t n, struct transcript *tr)
{
	char masked[WS_CONTROL_FRAME_MAX + 8];
	struct ws_parser p;
	struct sink s = { tr, 0, 0, NULL, NULL, 0 };
	enum ws_result r;

	memset(&p, 0, sizeof(p));
	tr->len = 0;
	r = feed_copy(&p, masked, mask_server(f, n, masked), MAX, &s);
	tr_end(tr, r, &p);
	ws_free(&p);
}

/* test_builders - ping, pong and close frames, exact bytes and parsed back. */
static void
test_builders(void)
{
	static struct transcript tr;
	char dst[WS_CONTROL_FRAME_MAX], big[300];
	size_t n, i;

	n = ws_control_frame(dst, WS_OP_PING, "abc", 3);
	tap_is_mem(dst, n, S("\x89\x03" "abc"), "ping 'abc'");
	n = ws_control_frame(dst, WS_OP_PONG, NULL, 0);
	tap_is_mem(dst, n, S("\x8a\x00"), "empty pong");
	memset(big, 'z', sizeof(big));
	n = ws_control_frame(dst, WS_OP_PONG, big, sizeof(big));
	tap_ok(n == WS_CONTROL_FRAME_MAX && dst[1] == 125, "a 300-byte pong payload is cut to 125");
	round_trip(dst, n, &tr);
	tap_ok(tr.len > 0 && memcmp(tr.buf, "pong 125 [", 10) == 0, "and parses back as a pong");

	n = ws_close_frame(dst, 1000, "bye", 3);
	tap_is_mem(dst, n, S("\x88\x05\x03\xe8" "bye"), "close 1000 'bye'");
	round_trip(dst, n, &tr);
	tap_is_mem(tr.buf, tr.len, S("close 1000 3 [bye]\nCLOSED\n"), "parses back");
	n = ws_close_frame(dst, WS_CLOSE_NO_STATUS, "ignored", 7);
	tap_is_mem(dst, n, S("\x88\x00"), "1005: an empty close");
	n = ws_close_frame(dst, 1002, NULL, 0);
	tap_is_mem(dst, n, S("\x88\x02\x03\xea"), "close 1002 without a reason");
	for (i = 0; i + 1 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	n = ws_close_frame(dst, 1001, big, sizeof(big));
	tap_ok(n == 2 + 2 + 122 && dst[1] == 124,
	    "a 300-byte reason is cut to 122 bytes, at a code point boundary (frame %zu)", n);
	round_trip(dst, n, &tr);
	tap_ok(tr.len > 0 && memcmp(tr.buf, "close 1001 122 [", 16) == 0,
	    "and parses back with valid UTF-8");
	memset(big, 'r', sizeof(big));
	n = ws_close_frame(dst, 4000, big, sizeof(big));
	tap_ok(n == WS_CONTROL_FRAME_MAX, "an ASCII reason is cut to 123 bytes");
}

/* test_err_codes - every failure has a code and a phrase. */
static void
test_err_codes(void)
{
	struct ws_parser p;
	int e, bad = 0;

	memset(&p, 0, sizeof(p));
	for (e = WS_E_UNMASKED; e <= WS_E_NO_MEMORY; e++) {
		p.err = (uint8_t)e;
		if (ws_err_code((enum ws_err)e) < 1002 || strcmp(ws_fail_text(&p), "unknown error") == 0 ||
		    ws_fail_text(&p) == NULL)
			bad++;
	}
	tap_is_int(bad, 0, "every failure has a close code and a phrase");
	tap_is_int(ws_err_code(WS_E_NO_MEMORY), 1011, "out of memory: 1011");
}

int
main(void)
{
	size_t i;

	tap_plan(1 + 9 + 11 + 15 + 3 + 6 + 5 + 4 + 5 + 2 + (int)NELEM(bad_cases));
	test_accept();
	test_header();
	test_builders();
	test_memory();
	test_close_codes();
	test_as_it_arrives();
	test_stop();
	test_long();
	test_valid();
	test_err_codes();
	for (i = 0; i < NELEM(bad_cases); i++)
		check_bad(&bad_cases[i]);
	return tap_done();
}
