/*
 * t/bots_ws_frames.c - unit test for bots/ws.c, janus-bots' side of WebSocket.
 *
 * Owns: a server's byte stream (the 101 head, then short, 16- and
 * 64-bit-length text messages, a fragmented message with Pings and a
 * Pong between its fragments, a Close, bytes after it) fed whole, a byte
 * at a time, at every split point and every pair of points, each giving
 * the same messages; the 101 checks (status, Upgrade, Connection, the
 * accept value of the RFC 6455 example key, extensions, head size); one
 * case per broken rule of a server frame at every split point; what is
 * held between and inside frames; zero copy for whole frames; a handler
 * that frees the held buffer and stops; the request, keys and masked
 * client frames, read back by the server's own parser (proto/ws.c).
 * Every piece is fed from an exactly sized malloc'd copy so ASan catches
 * reads past it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bots/ws.h"
#include "proto/base64.h"
#include "t/tap.h"
#include "t/transcript.h"
#include "t/tweb.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1
#define FIN TW_FIN
#define MAX 300                     /* the message limit of most runs */
#define STREAM_MAX (192 << 10)
#define PATTERN_MAX 70000
#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define STATUS_101 "HTTP/1.1 101 Switching Protocols\r\n"
#define HEAD_101 STATUS_101 "Upgrade: websocket\r\n" \
	"Connection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n"

/* A server byte stream and the transcript it must give. */
struct stream {
	char bytes[STREAM_MAX];
	size_t len, max;
	int upgrade;              /* it starts with a 101 head for RFC_KEY */
	struct transcript want;
};

/* The payload of frames given none: 'a' + i % 23 at i. */
static char pattern[PATTERN_MAX];

/* A run's state, seen by the handler. */
struct sink {
	struct transcript *tr;
	char **hold;              /* the run's held buffer */
	uint32_t *hlen;
	const char *lo, *hi;      /* the piece being fed */
	int inside;               /* text messages handed out from the piece itself */
	int free_at;              /* 1-based call that frees *hold and stops; 0: never */
	int calls;
};

/* st_raw - append bytes as they are. */
static void
st_raw(struct stream *st, const void *p, size_t n)
{
	if (n > STREAM_MAX - st->len)
		tap_bail("a test stream over %d bytes", STREAM_MAX);
	memcpy(st->bytes + st->len, p, n);
	st->len += n;
}

/* st_init - an empty stream; with UPGRADE it starts with the 101 head. */
static void
st_init(struct stream *st, size_t max, int upgrade)
{
	st->len = 0;
	memset(&st->want, 0, sizeof(st->want));
	st->max = max;
	st->upgrade = upgrade;
	if (upgrade) {
		st_raw(st, S(HEAD_101));
		tr_printf(&st->want, "upgraded\n");
	}
}

/*
 * st_frame - a server frame (t/tweb.c builds it: the shortest length;
 * MASK sets the mask bit and masks). payload NULL: the pattern.
 */
static void
st_frame(struct stream *st, unsigned b0, int mask, const void *payload, size_t len)
{
	if (len + TW_FRAME_EXTRA > STREAM_MAX - st->len)
		tap_bail("a test stream over %d bytes", STREAM_MAX);
	st->len += tw_ws_build(st->bytes + st->len, b0, mask, payload != NULL ? payload : pattern,
	    len);
}

/* tr_msg - one handed-out message as `KIND [CODE] N [BYTES]`. */
static void
tr_msg(struct transcript *tr, const struct ws_msg *m)
{
	if (m->op == WS_OP_CLOSE)
		tr_printf(tr, "close %u %zu [", m->code, m->len);
	else
		tr_printf(tr, "%s %zu [", m->op == WS_OP_TEXT ? "text" : m->op == WS_OP_PING ?
		    "ping" : m->op == WS_OP_PONG ? "pong" : "?", m->len);
	tr_put(tr, m->data, m->len);
	tr_put(tr, "]\n", 2);
}

/* want_msg - a message the stream must hand out; p NULL: the pattern. */
static void
want_msg(struct stream *st, enum ws_op op, unsigned code, const char *p, size_t len)
{
	struct ws_msg m = { op, (uint16_t)code, p != NULL ? p : pattern, len };

	tr_msg(&st->want, &m);
}

/* record - the handler: log; maybe free the held buffer as a dying bot does, and stop. */
static int
record(void *ctx, const struct ws_msg *m)
{
	struct sink *s = ctx;

	tr_msg(s->tr, m);
	if (m->op == WS_OP_TEXT && m->data >= s->lo && m->data + m->len <= s->hi)
		s->inside++;
	if (++s->calls == s->free_at) {
		free(*s->hold);
		*s->hold = NULL;
		*s->hlen = 0;
		return -1;
	}
	return s->tr->overflow ? -1 : 0;
}

/* run_piece - one piece through the upgrade check, then the splitter; 1 when the run is over. */
static int
run_piece(struct sink *s, int *upgrading, const char *p, size_t n, size_t max)
{
	static const char *const names[] = { "MORE", "STOP", "CLOSED", "FAIL" };
	const char *why = "";
	enum wsc_result r;
	size_t used;
	int u;

	if (*upgrading) {
		u = wsc_upgrade(s->hold, s->hlen, p, n, RFC_KEY, &used, &why);
		if (u < 0)
			tr_printf(s->tr, "FAIL %s\n", why);
		if (u <= 0)
			return u < 0;
		tr_printf(s->tr, "upgraded\n");
		*upgrading = 0;
		p += used;
		n -= used;
	}
	r = wsc_feed(s->hold, s->hlen, p, n, max, record, s, &why);
	if (r == WSC_FAIL)
		tr_printf(s->tr, "FAIL %s\n", why);
	else if (r != WSC_MORE)
		tr_printf(s->tr, "%s\n", names[r]);
	return r != WSC_MORE;
}

/* run_cuts - tr_run_fn: feed the stream in pieces, each from its own exact copy. */
static void
run_cuts(const void *ctx, const size_t *cuts, size_t ncuts, struct transcript *tr)
{
	const struct stream *st = ctx;
	char *hold = NULL, *copy;
	uint32_t hlen = 0;
	struct sink s = { tr, &hold, &hlen, NULL, NULL, 0, 0, 0 };
	size_t i, from = 0, to;
	int upgrading = st->upgrade, over = 0;

	tr->len = 0;
	tr->overflow = 0;
	for (i = 0; i <= ncuts && !over; i++) {
		to = i < ncuts ? cuts[i] : st->len;
		if ((copy = malloc(to - from + 1)) == NULL)
			tap_bail("out of memory");
		memcpy(copy, st->bytes + from, to - from);
		s.lo = copy;
		s.hi = copy + (to - from);
		over = to > from && run_piece(&s, &upgrading, copy, to - from, st->max);
		free(copy);
		from = to;
	}
	if (!over)
		tr_printf(tr, "MORE held %u\n", hlen);
	free(hold);
}

/* check_all - whole, a byte at a time, every split, every pair of splits. */
static void
check_all(struct stream *st, const char *what)
{
	char name[128];

	tr_check_whole(run_cuts, st, st->len, &st->want, what);
	snprintf(name, sizeof(name), "%s, split in two", what);
	tr_check_splits(run_cuts, st, st->len, &st->want, name);
	snprintf(name, sizeof(name), "%s, split in three", what);
	tr_check_pairs(run_cuts, st, st->len, &st->want, name);
}

/* test_stream - the valid stream, every split. */
static void
test_stream(struct stream *st)
{
	static const char close_body[] = "\x03\xe8" "bye";

	st_init(st, MAX, 1);
	st_frame(st, FIN | WS_OP_TEXT, 0, S("{\"timestamp\":[1,2,3],\"token\":\"x\"}"));
	want_msg(st, WS_OP_TEXT, 0, S("{\"timestamp\":[1,2,3],\"token\":\"x\"}"));
	st_frame(st, FIN | WS_OP_TEXT, 0, S("ACK"));
	want_msg(st, WS_OP_TEXT, 0, S("ACK"));
	st_frame(st, FIN | WS_OP_PING, 0, NULL, 0);
	want_msg(st, WS_OP_PING, 0, "", 0);
	st_frame(st, WS_OP_TEXT, 0, S("{\"a\":"));
	st_frame(st, FIN | WS_OP_PING, 0, S("hb"));
	want_msg(st, WS_OP_PING, 0, S("hb"));
	st_frame(st, WS_OP_CONT, 0, S("12"));
	st_frame(st, FIN | WS_OP_PONG, 0, S("p"));
	want_msg(st, WS_OP_PONG, 0, S("p"));
	st_frame(st, WS_OP_CONT, 0, NULL, 0);
	st_frame(st, FIN | WS_OP_CONT, 0, S("3}"));
	want_msg(st, WS_OP_TEXT, 0, S("{\"a\":123}"));
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, 0);
	want_msg(st, WS_OP_TEXT, 0, "", 0);
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, 200);
	want_msg(st, WS_OP_TEXT, 0, NULL, 200);
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, MAX);
	want_msg(st, WS_OP_TEXT, 0, NULL, MAX);
	st_frame(st, FIN | WS_OP_CLOSE, 0, S(close_body));
	want_msg(st, WS_OP_CLOSE, 1000, S("bye"));
	tr_printf(&st->want, "CLOSED\n");
	st_frame(st, FIN | WS_OP_TEXT, 0, S("after the close"));
	check_all(st, "101, then every kind of server frame");

	/* without a Close, a stream ending inside a frame keeps only that frame's bytes */
	st_init(st, MAX, 0);
	st_frame(st, FIN | WS_OP_TEXT, 0, S("ACK"));
	want_msg(st, WS_OP_TEXT, 0, S("ACK"));
	st_raw(st, "\x81\x05" "AC", 4);
	tr_printf(&st->want, "MORE held %zu\n", (size_t)8 + 4);
	tr_check_whole(run_cuts, st, st->len, &st->want, "an unfinished frame is all that is held");
	tr_check_splits(run_cuts, st, st->len, &st->want,
	    "an unfinished frame is all that is held, split in two");

	st_init(st, MAX, 0);
	st_frame(st, WS_OP_TEXT, 0, S("abc"));
	tr_printf(&st->want, "MORE held %zu\n", (size_t)8 + 3);
	tr_check_splits(run_cuts, st, st->len, &st->want,
	    "an open fragmented message holds its bytes so far, split in two");
}

/* check_few - whole, and in seven pieces cutting the header and the payload (long streams). */
static void
check_few(struct stream *st, const char *what)
{
	size_t cuts[] = { 1, 3, 5, 9, st->len / 2, st->len - 1 };
	static struct transcript tr;
	char name[128];

	run_cuts(st, NULL, 0, &tr);
	tr_report(&tr, &st->want, what, 1, 0, 0);
	run_cuts(st, cuts, NELEM(cuts), &tr);
	snprintf(name, sizeof(name), "%s, in seven pieces", what);
	tr_report(&tr, &st->want, name, 2, cuts[0], cuts[1]);
}

/* test_long - 16- and 64-bit lengths, and a long message in two fragments. */
static void
test_long(struct stream *st)
{
	size_t big = PATTERN_MAX;

	st_init(st, 100000, 0);
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, 65535);
	want_msg(st, WS_OP_TEXT, 0, NULL, 65535);
	tr_printf(&st->want, "MORE held 0\n");
	check_few(st, "a 65535-byte message (16-bit length)");
	st_init(st, 100000, 0);
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, big);
	want_msg(st, WS_OP_TEXT, 0, NULL, big);
	tr_printf(&st->want, "MORE held 0\n");
	check_few(st, "a 70000-byte message (64-bit length)");
	st_init(st, 100000, 0);
	st_frame(st, WS_OP_TEXT, 0, NULL, big / 2);
	st_frame(st, FIN | WS_OP_PING, 0, S("between"));
	want_msg(st, WS_OP_PING, 0, S("between"));
	st_frame(st, FIN | WS_OP_CONT, 0, pattern + big / 2, big - big / 2);
	want_msg(st, WS_OP_TEXT, 0, NULL, big);
	tr_printf(&st->want, "MORE held 0\n");
	check_few(st, "a 70000-byte message in two fragments, a Ping between");
}

/* One broken server stream: a good message, then the frame that breaks a rule. */
struct broken {
	const char *what;
	unsigned b0;              /* the frame st_frame builds */
	int mask;
	const char *payload;      /* NULL: the pattern */
	size_t len;
	const char *raw;          /* or, when not NULL, these bytes */
	size_t raw_len;
	const char *why;
	int fragment_first;       /* open a fragmented message before it */
};

/* test_broken - each rule a server frame can break, at every split point. */
static void
test_broken(struct stream *st)
{
	static const struct broken cases[] = {
		{ "a masked frame", FIN | WS_OP_TEXT, 1, "abcdef", 6, NULL, 0,
		  "a masked server frame", 0 },
		{ "RSV1 set", FIN | 0x40 | WS_OP_TEXT, 0, "x", 1, NULL, 0,
		  "a server frame with RSV bits set", 0 },
		{ "RSV3 set", FIN | 0x10 | WS_OP_TEXT, 0, "x", 1, NULL, 0,
		  "a server frame with RSV bits set", 0 },
		{ "a binary message", FIN | WS_OP_BINARY, 0, "x", 1, NULL, 0,
		  "a binary message", 0 },
		{ "opcode 3", FIN | 0x3, 0, "x", 1, NULL, 0, "an unknown opcode", 0 },
		{ "opcode 0xB", FIN | 0xB, 0, "x", 1, NULL, 0, "an unknown opcode", 0 },
		{ "a fragmented Ping", WS_OP_PING, 0, "x", 1, NULL, 0,
		  "a fragmented control frame", 0 },
		{ "a 126-byte Ping", FIN | WS_OP_PING, 0, NULL, 126, NULL, 0,
		  "a control frame over 125 bytes", 0 },
		{ "a continuation without a message", FIN | WS_OP_CONT, 0, "x", 1, NULL, 0,
		  "a continuation with no message started", 0 },
		{ "a text frame inside a fragmented message", FIN | WS_OP_TEXT, 0, "x", 1, NULL, 0,
		  "a new message inside a fragmented one", 1 },
		{ "a 16-bit length under 126", 0, 0, NULL, 0, S("\x81\x7e\x00\x01" "x"),
		  "a frame length not in its shortest form", 0 },
		{ "a 64-bit length under 65536", 0, 0, NULL, 0,
		  S("\x81\x7f\x00\x00\x00\x00\x00\x00\xff\xff" "x"),
		  "a frame length not in its shortest form", 0 },
		{ "a frame over the limit", FIN | WS_OP_TEXT, 0, NULL, MAX + 1, NULL, 0,
		  "a frame longer than any the bots expect", 0 },
		{ "fragments over the limit", FIN | WS_OP_CONT, 0, NULL, MAX - 1, NULL, 0,
		  "a message longer than any the bots expect", 1 },
		{ "a Close of one byte", FIN | WS_OP_CLOSE, 0, "\x03", 1, NULL, 0,
		  "a Close payload of one byte", 0 },
	};
	const struct broken *c;
	char name[128];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		c = &cases[i];
		st_init(st, MAX, 0);
		st_frame(st, FIN | WS_OP_TEXT, 0, S("ACK"));
		want_msg(st, WS_OP_TEXT, 0, S("ACK"));
		if (c->fragment_first)
			st_frame(st, WS_OP_TEXT, 0, S("ab"));
		if (c->raw != NULL)
			st_raw(st, c->raw, c->raw_len);
		else
			st_frame(st, c->b0, c->mask, c->payload, c->len);
		st_frame(st, FIN | WS_OP_TEXT, 0, S("never seen"));
		tr_printf(&st->want, "FAIL %s\n", c->why);
		snprintf(name, sizeof(name), "%s: fails, nothing after it (split in two)", c->what);
		tr_check_splits(run_cuts, st, st->len, &st->want, name);
	}
}

/* One 101 head and what it must give. */
struct head {
	const char *what;
	const char *text;
	const char *why;          /* NULL: it is good */
};

/* test_heads - the answer to the upgrade, good and bad, at every split point. */
static void
test_heads(struct stream *st)
{
	static const struct head cases[] = {
		{ "a 101 with fields in another order and case",
		  "HTTP/1.1 101 OK\r\nsec-websocket-accept:  " RFC_ACCEPT " \r\nX: y\r\n"
		  "connection: keep-alive, UPGRADE\r\nUPGRADE: WebSocket\r\n\r\n", NULL },
		{ "a 200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		  "the answer to the upgrade is not 101" },
		{ "a 426", "HTTP/1.1 426 Upgrade Required\r\n\r\n",
		  "the answer to the upgrade is not 101" },
		{ "a wrong accept value",
		  STATUS_101 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=x\r\n\r\n",
		  "a wrong Sec-WebSocket-Accept" },
		{ "no accept value",
		  STATUS_101 "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		  "a 101 without Sec-WebSocket-Accept" },
		{ "no Upgrade",
		  STATUS_101 "Connection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		  "a 101 without Upgrade: websocket and Connection: Upgrade" },
		{ "Connection without upgrade",
		  STATUS_101 "Upgrade: websocket\r\nConnection: upgraded\r\n"
		  "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		  "a 101 without Upgrade: websocket and Connection: Upgrade" },
		{ "an extension",
		  STATUS_101 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		  "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		  "an extension the bots did not offer" },
		{ "a line without a colon",
		  STATUS_101 "Upgrade websocket\r\n\r\n",
		  "a line of the 101 head without a colon" },
	};
	char name[160];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		st_init(st, MAX, 0);
		st->upgrade = 1;
		st_raw(st, cases[i].text, strlen(cases[i].text));
		st_frame(st, FIN | WS_OP_TEXT, 0, S("ACK"));
		if (cases[i].why == NULL) {
			tr_printf(&st->want, "upgraded\n");
			want_msg(st, WS_OP_TEXT, 0, S("ACK"));
			tr_printf(&st->want, "MORE held 0\n");
		} else {
			tr_printf(&st->want, "FAIL %s\n", cases[i].why);
		}
		snprintf(name, sizeof(name), "%s: %s (split in two)", cases[i].what,
		    cases[i].why == NULL ? "upgraded" : "refused");
		tr_check_splits(run_cuts, st, st->len, &st->want, name);
	}
	st_init(st, MAX, 0);
	st->upgrade = 1;
	st_raw(st, S(STATUS_101 "X: "));
	for (i = 0; i < WSC_HEAD_MAX; i++)
		st_raw(st, "y", 1);
	st_raw(st, S("\r\n\r\n"));
	tr_printf(&st->want, "FAIL a 101 head over 4096 bytes\n");
	tr_check_whole(run_cuts, st, st->len, &st->want, "a head over 4096 bytes is refused");
}

/* test_memory - zero copy, nothing held between frames, a handler that frees and stops. */
static void
test_memory(struct stream *st)
{
	char *hold = NULL;
	uint32_t hlen = 0;
	struct transcript tr;
	struct sink s = { &tr, &hold, &hlen, NULL, NULL, 0, 0, 0 };
	const char *why = "";
	char *copy;
	size_t cut;

	memset(&tr, 0, sizeof(tr));
	st_init(st, MAX, 0);
	st_frame(st, FIN | WS_OP_TEXT, 0, S("one"));
	st_frame(st, FIN | WS_OP_TEXT, 0, NULL, 200);
	st_frame(st, FIN | WS_OP_TEXT, 0, S("three"));
	if ((copy = malloc(st->len)) == NULL)
		tap_bail("out of memory");
	memcpy(copy, st->bytes, st->len);
	s.lo = copy;
	s.hi = copy + st->len;
	tap_is_int(wsc_feed(&hold, &hlen, copy, st->len, MAX, record, &s, &why), WSC_MORE,
	    "three whole frames in one read: all taken");
	tap_is_int(s.inside, 3, "each is handed out from the read's own bytes (no copy)");
	tap_ok(hold == NULL && hlen == 0, "and nothing is held after them");

	/* a frame split over two reads: held, then freed when done */
	cut = 5 + 10;
	s.inside = 0;
	wsc_feed(&hold, &hlen, copy, cut, MAX, record, &s, &why);
	tap_is_int(hlen, 8 + 10, "the start of a split frame is all that is held");
	wsc_feed(&hold, &hlen, copy + cut, st->len - cut, MAX, record, &s, &why);
	tap_ok(hold == NULL && hlen == 0, "the buffer is freed once the frame is whole");
	free(copy);

	/* a handler that frees the held buffer (a bot dying) inside a held message */
	st_init(st, MAX, 0);
	st_frame(st, WS_OP_TEXT, 0, S("ab"));
	st_frame(st, FIN | WS_OP_CONT, 0, S("cd"));
	st_frame(st, FIN | WS_OP_TEXT, 0, S("never"));
	s.calls = 0;
	s.free_at = 1;
	tr.len = 0;
	tap_is_int(wsc_feed(&hold, &hlen, st->bytes, 6, MAX, record, &s, &why), WSC_MORE,
	    "a fragment and half the next: held");
	tap_is_int(wsc_feed(&hold, &hlen, st->bytes + 6, st->len - 6, MAX, record, &s, &why),
	    WSC_STOP, "the handler freed the held message and stopped: STOP");
	tap_is_mem(tr.buf, tr.len, S("text 4 [abcd]\n"),
	    "nothing was touched or handed out after it");
	free(hold);
}

/* feed_server - the server's parser over a client frame; its one message into tr. */
static enum ws_result
feed_server(char *frame, size_t n, struct transcript *tr)
{
	struct ws_parser p;
	struct sink s = { tr, NULL, NULL, NULL, NULL, 0, 0, 0 };
	enum ws_result r;

	memset(&p, 0, sizeof(p));
	tr->len = 0;
	r = ws_feed(&p, frame, n, MAX, record, &s);
	ws_free(&p);
	return r;
}

/* test_client - the request, keys, and masked frames the server's parser reads back. */
static void
test_client(void)
{
	char req[64 + 192], key[WSC_KEY_LEN + 1], key2[WSC_KEY_LEN + 1], frame[300];
	unsigned char raw[200];
	struct transcript tr;
	uint32_t state = 1, m1, m2;
	size_t n, off;

	n = wsc_request(req, "127.0.0.1", 8080, &off);
	req[n] = '\0';
	tap_ok(strncmp(req, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", 40) == 0 &&
	    strstr(req, "\r\nUpgrade: websocket\r\n") != NULL &&
	    strstr(req, "\r\nConnection: Upgrade\r\n") != NULL &&
	    strstr(req, "\r\nSec-WebSocket-Version: 13\r\n") != NULL,
	    "the request asks for /ws with every upgrade field");
	tap_ok(off + WSC_KEY_LEN + 4 == n &&
	    strncmp(req + off - 19, "Sec-WebSocket-Key: ", 19) == 0 &&
	    strcmp(req + off + WSC_KEY_LEN, "\r\n\r\n") == 0,
	    "its key is last, where key_off says, before the empty line");
	wsc_key(7, 1, key);
	wsc_key(7, 2, key2);
	key[WSC_KEY_LEN] = key2[WSC_KEY_LEN] = '\0';
	tap_is_int(base64_decode(raw, sizeof(raw), key, WSC_KEY_LEN), 16,
	    "a key is base64 of 16 bytes");
	tap_ok(strcmp(key, key2) != 0, "two clients get different keys");

	m1 = wsc_mask(&state);
	m2 = wsc_mask(&state);
	tap_ok(m1 != 0 && m2 != 0 && m1 != m2, "masking keys change from frame to frame");
	n = wsc_frame(frame, WS_OP_TEXT, S("{\"action\":\"subscribe\",\"data\":\"events\"}"), m1);
	tap_ok((frame[1] & 0x80) && memcmp(frame + 6, "{\"action\"", 9) != 0,
	    "a client frame is masked");
	tap_is_int(feed_server(frame, n, &tr), WS_MORE, "the server's parser takes it");
	tap_is_mem(tr.buf, tr.len, S("text 38 [{\"action\":\"subscribe\",\"data\":\"events\"}]\n"),
	    "and reads the subscribe back");
	n = wsc_frame(frame, WS_OP_PONG, NULL, 0, m2);
	tap_is_int(feed_server(frame, n, &tr), WS_MORE, "an empty Pong: taken");
	tap_is_mem(tr.buf, tr.len, S("pong 0 []\n"), "and read back");
	memset(raw, 'p', 125);
	n = wsc_frame(frame, WS_OP_PONG, raw, 125, m2);
	feed_server(frame, n, &tr);
	tap_ok(tr.len == 10 + 125 + 2 && memcmp(tr.buf, "pong 125 [", 10) == 0,
	    "a 125-byte Pong is read back");
	n = wsc_frame(frame, WS_OP_CLOSE, "\x03\xea", 2, m1);
	tap_is_int(feed_server(frame, n, &tr), WS_CLOSED, "a Close 1002: the server sees a Close");
	tap_is_mem(tr.buf, tr.len, S("close 1002 0 []\n"), "with its code");
	memset(raw, 'z', 200);
	n = wsc_frame(frame, WS_OP_TEXT, raw, 200, m1);
	tap_is_int((long long)n, 4 + 4 + 200, "a 200-byte text frame has a 16-bit length");
}

int
main(void)
{
	static struct stream st;
	size_t i;

	for (i = 0; i < PATTERN_MAX; i++)
		pattern[i] = (char)('a' + i % 23);
	tap_plan(8 + 6 + 15 + 11 + 8 + 14);
	test_stream(&st);
	test_long(&st);
	test_broken(&st);
	test_heads(&st);
	test_memory(&st);
	test_client();
	return tap_done();
}
