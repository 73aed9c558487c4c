/*
 * t/fuzz/ws.c - libFuzzer harness for proto/ws.c, the client-frame
 * parser.
 *
 * Owns: two checks per input. The input as a stream of client bytes,
 * fed whole and fed in random splits (drawn from the input; each piece
 * an exact copy, since the parser unmasks in place), gives the same
 * messages (opcode, close code, bytes) in the same order, the same end
 * (more wanted, a Close handed out, or a failure with the same close
 * code) and the same bytes held. And a stream built from the input by
 * a reference encoder written here (text messages in up to three
 * fragments with Pings and Pongs between them, each frame masked with
 * its own key, lengths in 7, 16 or 64 bits, then maybe a Close), fed in
 * random splits, gives exactly the messages it encoded: unmasking,
 * lengths and reassembly against the reference.
 * Input: 4 bytes (the message limit), 8 bytes (split seed), the stream.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/ws.h"
#include "t/fuzz/fuzz.h"

#define FUZZ_WS_HEAD 12

/* Messages as 1 byte op, 2 bytes code, 4 bytes length, the bytes. */
struct rec {
	char *buf;
	size_t len, cap;
};

static void
rec_add(struct rec *r, unsigned op, unsigned code, const char *p, size_t n)
{
	uint32_t len = (uint32_t)n;
	uint8_t h[3] = { (uint8_t)op, (uint8_t)(code >> 8), (uint8_t)code };

	if (r->len + 7 + n > r->cap) {
		r->cap = (r->len + 7 + n) * 2;
		r->buf = realloc(r->buf, r->cap);
		FUZZ_CHECK(r->buf != NULL, "out of memory");
	}
	memcpy(r->buf + r->len, h, 3);
	memcpy(r->buf + r->len + 3, &len, 4);
	if (n > 0)
		memcpy(r->buf + r->len + 7, p, n);
	r->len += 7 + n;
}

static int
sink(void *ctx, const struct ws_msg *m)
{
	FUZZ_CHECK(m->op == WS_OP_TEXT || m->op == WS_OP_PING || m->op == WS_OP_PONG || m->op == WS_OP_CLOSE,
	    "handed out opcode %d", m->op);
	FUZZ_CHECK(m->op == WS_OP_TEXT || m->len <= WS_CONTROL_MAX, "a control payload of %zu bytes", m->len);
	rec_add(ctx, m->op, m->op == WS_OP_CLOSE ? m->code : 0, m->data, m->len);
	return 0;
}

/* A parser run: what it handed out and how it ended. */
struct run {
	struct rec msgs;
	enum ws_result res;
	uint16_t code;
	size_t pending;
};

/*
 * feed - s[0, n) into a new parser, in pieces drawn from seed (or whole
 * if seed is 0), none shorter than least (but the last).
 */
static void
feed(const char *s, size_t n, size_t max, uint64_t seed, size_t least, struct run *out)
{
	struct ws_parser p;
	size_t off = 0, chunk;
	uint32_t x;
	char *c;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	out->res = WS_MORE;
	while (off < n && out->res == WS_MORE) {
		chunk = n - off;
		if (seed != 0) {
			x = fuzz_rand(&seed);
			chunk = least + 1 + (x % 4 == 0 ? (x >> 2) % 512 : (x >> 2) % 8);
			if (chunk > n - off)
				chunk = n - off;
		}
		c = fuzz_copy(s + off, chunk);
		out->res = ws_feed(&p, c, chunk, max, sink, &out->msgs);
		free(c);
		off += chunk;
	}
	out->code = ws_fail_code(&p);
	out->pending = ws_pending(&p);
	FUZZ_CHECK((out->res == WS_FAIL) == (out->code != 0), "result %d with close code %u", out->res,
	    out->code);
	ws_free(&p);
}

/* same - two runs agree. */
static void
same(const struct run *a, const struct run *b, const char *how)
{
	FUZZ_CHECK(a->res == b->res && a->code == b->code, "%s: result %d code %u, the other %d code %u", how,
	    a->res, a->code, b->res, b->code);
	FUZZ_CHECK(a->msgs.len == b->msgs.len && (a->msgs.len == 0 ||
	    memcmp(a->msgs.buf, b->msgs.buf, a->msgs.len) == 0), "%s: the messages differ (%zu vs %zu bytes)",
	    how, a->msgs.len, b->msgs.len);
	FUZZ_CHECK(a->res != WS_MORE || a->pending == b->pending, "%s: %zu bytes held, the other %zu", how,
	    a->pending, b->pending);
}

/* The reference encoder's output and the input it draws from. */
struct enc {
	const uint8_t *in;
	size_t n, at;
	char *out;
	size_t len, cap;
	int long_done;      /* one 64-bit length per stream: they are slow to feed */
};

static uint8_t
enc_byte(struct enc *e)
{
	return e->at < e->n ? e->in[e->at++] : 0;
}

/* enc_frame - one masked client frame of payload p[0, n). */
static void
enc_frame(struct enc *e, int fin, unsigned op, const char *p, size_t n)
{
	uint8_t mask[4];
	size_t i, h = 2;

	if (e->len + 14 + n > e->cap) {
		e->cap = (e->len + 14 + n) * 2;
		e->out = realloc(e->out, e->cap);
		FUZZ_CHECK(e->out != NULL, "out of memory");
	}
	e->out[e->len] = (char)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		e->out[e->len + 1] = (char)(0x80 | n);
	} else if (n < 65536) {
		e->out[e->len + 1] = (char)(0x80 | 126);
		e->out[e->len + 2] = (char)(n >> 8);
		e->out[e->len + 3] = (char)n;
		h = 4;
	} else {
		e->out[e->len + 1] = (char)(0x80 | 127);
		for (i = 0; i < 8; i++)
			e->out[e->len + 2 + i] = (char)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	for (i = 0; i < 4; i++)
		e->out[e->len + h + i] = (char)(mask[i] = enc_byte(e));
	for (i = 0; i < n; i++)
		e->out[e->len + h + 4 + i] = (char)(p[i] ^ mask[i % 4]);
	e->len += h + 4 + n;
}

/* enc_payload - up to max bytes from the input; ASCII only for text (valid UTF-8, also when split). */
static size_t
enc_payload(struct enc *e, char *p, size_t max, int text)
{
	size_t n = enc_byte(e), i;

	/* now and then a 16-bit length, at most once a 64-bit one */
	if (n == 255)
		n = 126 + (size_t)enc_byte(e) * 4;
	if (n == 126 + 255 * 4 && !e->long_done) {
		n = 65536 + (size_t)enc_byte(e);
		e->long_done = 1;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		p[i] = (char)(text ? enc_byte(e) & 0x7f : enc_byte(e));
	return n;
}

/* enc_control - a Ping or Pong between fragments, as the input says; recorded as expected. */
static void
enc_control(struct enc *e, struct rec *want)
{
	char p[WS_CONTROL_MAX];
	uint8_t b = enc_byte(e);
	size_t n;

	if (b % 4 != 0)
		return;
	n = enc_payload(e, p, WS_CONTROL_MAX, 0);
	enc_frame(e, 1, b & 4 ? WS_OP_PONG : WS_OP_PING, p, n);
	rec_add(want, b & 4 ? WS_OP_PONG : WS_OP_PING, 0, p, n);
}

/* enc_close - a Close with code 1000 and a reason from the input; recorded as expected. */
static void
enc_close(struct enc *e, struct rec *want)
{
	char p[WS_CONTROL_MAX];
	size_t n = 2 + enc_payload(e, p + 2, WS_CONTROL_MAX - 2, 1);

	p[0] = (char)(WS_CLOSE_NORMAL >> 8);
	p[1] = (char)(WS_CLOSE_NORMAL & 0xff);
	enc_frame(e, 1, WS_OP_CLOSE, p, n);
	rec_add(want, WS_OP_CLOSE, WS_CLOSE_NORMAL, p + 2, n - 2);
}

/* check_reference - the encoder's stream, fed in pieces, parses to exactly what it encoded. */
static void
check_reference(const uint8_t *in, size_t n, uint64_t seed)
{
	static char msg[3 * 65791], part[65791];   /* three of the longest payloads */
	struct enc e = { in, n, 0, NULL, 0, 0, 0 };
	struct rec want = { 0 };
	struct run got;
	size_t len, k;
	unsigned frags, f;
	int closed = n % 2;

	while (e.at < e.n) {
		frags = 1 + enc_byte(&e) % 3;
		for (len = 0, f = 0; f < frags; f++) {
			k = enc_payload(&e, part, sizeof(part), 1);
			enc_frame(&e, f == frags - 1, f == 0 ? WS_OP_TEXT : WS_OP_CONT, part, k);
			memcpy(msg + len, part, k);
			len += k;
			if (f == frags - 1)
				rec_add(&want, WS_OP_TEXT, 0, msg, len);   /* handed out at its last fragment */
			enc_control(&e, &want);
		}
	}
	if (closed)
		enc_close(&e, &want);
	/* long streams in fewer pieces: no more than a few hundred calls */
	feed(e.out, e.len, sizeof(msg), seed, e.len / 256, &got);
	FUZZ_CHECK(got.res == (closed ? WS_CLOSED : WS_MORE), "the reference stream: result %d (%s), code %u",
	    got.res, got.code ? "failed" : "", got.code);
	FUZZ_CHECK(got.res == WS_CLOSED || got.pending == 0, "%zu bytes held after whole frames", got.pending);
	FUZZ_CHECK(got.msgs.len == want.len && (want.len == 0 || memcmp(got.msgs.buf, want.buf, want.len) == 0),
	    "the reference stream's messages differ (%zu vs %zu bytes of record)", got.msgs.len, want.len);
	free(got.msgs.buf);
	free(want.buf);
	free(e.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, split;
	uint64_t seed;
	size_t max, n;

	if (size < FUZZ_WS_HEAD)
		return 0;
	max = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
	memcpy(&seed, data + 4, 8);
	seed |= 1;
	n = size - FUZZ_WS_HEAD;
	feed((const char *)data + FUZZ_WS_HEAD, n, max, 0, 0, &whole);
	feed((const char *)data + FUZZ_WS_HEAD, n, max, seed, 0, &split);
	same(&split, &whole, "split");
	free(whole.msgs.buf);
	free(split.msgs.buf);
	check_reference(data + FUZZ_WS_HEAD, n, seed);
	return 0;
}
