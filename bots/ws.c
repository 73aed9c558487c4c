/*
 * bots/ws.c - the client's side of WebSocket (RFC 6455) for janus-bots --ws.
 *
 * Owns: the request and key, the 101 check, masked client frames and the
 * splitter of server frames (bots/ws.h says how light it stays).
 * Must not do I/O or know about bots.
 *
 * The held buffer has two lives. Until the 101 is whole it holds the
 * answer head so far, plain bytes. Once frames flow it starts with a
 * struct wsc_held, then the fragmented message so far, then the start of
 * an unfinished frame (the tail); a tail is completed before any byte
 * after it is looked at, so a frame from the caller's bytes never meets
 * one, and the buffer is freed as soon as neither a message nor a tail
 * is held.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bots/util.h"
#include "bots/ws.h"
#include "proto/base64.h"

#define WSC_REQ_HEAD "GET /ws HTTP/1.1\r\nHost: "
#define WSC_REQ_FIELDS "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
#define WSC_STATUS "HTTP/1.1 101 "
#define LIT_LEN(s) (sizeof(s) - 1)

/* What the 101 head must carry. */
#define WSC_SAW_UPGRADE 1u
#define WSC_SAW_CONNECTION 2u
#define WSC_SAW_ACCEPT 4u

/* The start of a held buffer once frames flow. */
struct wsc_held {
	uint32_t msg;        /* bytes of the fragmented message after this struct */
	uint32_t open;       /* a fragmented message is open */
};

/* A server frame's header as read. */
struct wsc_hdr {
	size_t head;         /* its bytes: 2, 4 or 10 */
	uint64_t len;        /* payload bytes */
	uint8_t op, fin;
};

size_t
wsc_request(char *out, const char *host, uint16_t port, size_t *key_off)
{
	int n = sprintf(out, WSC_REQ_HEAD "%s:%u" WSC_REQ_FIELDS, host, (unsigned)port);

	*key_off = (size_t)n;
	memset(out + n, ' ', WSC_KEY_LEN);
	memcpy(out + n + WSC_KEY_LEN, "\r\n\r\n", 4);
	return (size_t)n + WSC_KEY_LEN + 4;
}

void
wsc_key(uint32_t nonce, uint32_t i, char *key)
{
	uint32_t w[4], k;

	/* distinct per client and run; unpredictable keys guard proxies' caches, moot here */
	for (k = 0; k < 4; k++)
		w[k] = util_hash(util_hash(2166136261u + k, &nonce, sizeof(nonce)),
		    &i, sizeof(i));
	base64_encode(key, w, sizeof(w));
}

uint32_t
wsc_mask(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

size_t
wsc_frame(char *out, enum ws_op op, const void *payload, size_t len, uint32_t mask)
{
	const unsigned char *src = payload;
	unsigned char m[4];
	size_t h = ws_header(out, op, 1, len), i;

	out[1] = (char)(out[1] | 0x80);
	memcpy(m, &mask, sizeof(m));
	memcpy(out + h, m, sizeof(m));
	for (i = 0; i < len; i++)
		out[h + 4 + i] = (char)(src[i] ^ m[i & 3]);
	return h + 4 + len;
}

/* wsc_token - whether a comma-separated field value names TOKEN (any case). */
static int
wsc_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token), s = 0, e;

	while (s < n) {
		while (s < n && (v[s] == ' ' || v[s] == '\t' || v[s] == ','))
			s++;
		for (e = s; e < n && v[e] != ','; e++)
			;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return 1;
		while (s < n && v[s] != ',')
			s++;
	}
	return 0;
}

/* wsc_field - one "Name: value" line of the head; the WSC_SAW_ bit it proves, or -1. */
static int
wsc_field(const char *line, size_t n, const char *accept, const char **why)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t name, vn;

	if (colon == NULL) {
		*why = "a line of the 101 head without a colon";
		return -1;
	}
	name = (size_t)(colon - line);
	v = colon + 1;
	vn = n - name - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
#define WSC_IS(lit) (name == LIT_LEN(lit) && strncasecmp(line, lit, name) == 0)
	if (WSC_IS("Upgrade"))
		return wsc_token(v, vn, "websocket") ? (int)WSC_SAW_UPGRADE : 0;
	if (WSC_IS("Connection"))
		return wsc_token(v, vn, "upgrade") ? (int)WSC_SAW_CONNECTION : 0;
	if (WSC_IS("Sec-WebSocket-Accept")) {
		if (vn == WS_ACCEPT_LEN && memcmp(v, accept, vn) == 0)
			return WSC_SAW_ACCEPT;
		*why = "a wrong Sec-WebSocket-Accept";
		return -1;
	}
	if (WSC_IS("Sec-WebSocket-Extensions")) {
		*why = "an extension the bots did not offer";
		return -1;
	}
#undef WSC_IS
	return 0;
}

/* wsc_head_ok - whether the LEN bytes of a head (up to its empty line) are the 101 KEY asks for. */
static int
wsc_head_ok(const char *h, size_t len, const char *key, const char **why)
{
	char accept[WS_ACCEPT_LEN + 1];
	const char *p, *end = h + len, *e;
	unsigned saw = 0;
	size_t n;
	int bit;

	if (len < LIT_LEN(WSC_STATUS) || memcmp(h, WSC_STATUS, LIT_LEN(WSC_STATUS)) != 0) {
		*why = "the answer to the upgrade is not 101";
		return 0;
	}
	ws_accept(key, WSC_KEY_LEN, accept);
	/* the head ends with an empty line, so every line has its \n */
	for (p = (const char *)memchr(h, '\n', len) + 1; p < end &&
	    (e = memchr(p, '\n', (size_t)(end - p))) != NULL; p = e + 1) {
		n = (size_t)(e - p) - (e > p && e[-1] == '\r');
		if (n == 0)
			continue;
		if ((bit = wsc_field(p, n, accept, why)) < 0)
			return 0;
		saw |= (unsigned)bit;
	}
	if (saw != (WSC_SAW_UPGRADE | WSC_SAW_CONNECTION | WSC_SAW_ACCEPT)) {
		*why = !(saw & WSC_SAW_ACCEPT) ? "a 101 without Sec-WebSocket-Accept" :
		    "a 101 without Upgrade: websocket and Connection: Upgrade";
		return 0;
	}
	return 1;
}

/* wsc_head_end - just past the empty line ending a head in buf (searched from FROM), or 0. */
static size_t
wsc_head_end(const char *buf, size_t len, size_t from)
{
	const char *e = memmem(buf + from, len - from, "\r\n\r\n", 4);

	return e != NULL ? (size_t)(e - buf) + 4 : 0;
}

int
wsc_upgrade(char **hold, uint32_t *hlen, const char *p, size_t n,
    const char *key, size_t *used, const char **why)
{
	size_t had = *hlen, take, end;
	char *b;
	int ok;

	if (*hold == NULL && (end = wsc_head_end(p, n, 0)) != 0) {
		*used = end;
		if (end <= WSC_HEAD_MAX)
			return wsc_head_ok(p, end, key, why) ? 1 : -1;
		*why = "a 101 head over 4096 bytes";
		return -1;
	}
	take = n < WSC_HEAD_MAX - had ? n : WSC_HEAD_MAX - had;
	if ((b = realloc(*hold, had + take)) == NULL) {
		*why = "out of memory for the 101 head";
		return -1;
	}
	memcpy(b + had, p, take);
	*hold = b;
	*hlen = (uint32_t)(had + take);
	/* a server that greets (the Janus port) is told apart at its first bytes */
	if (memcmp(b, WSC_STATUS, *hlen < LIT_LEN(WSC_STATUS) ? *hlen : LIT_LEN(WSC_STATUS)) != 0) {
		*why = "the answer to the upgrade is not 101";
		return -1;
	}
	end = wsc_head_end(b, *hlen, had > 3 ? had - 3 : 0);
	if (end == 0) {
		if (*hlen < WSC_HEAD_MAX)
			return 0;
		*why = "a 101 head over 4096 bytes";
		return -1;
	}
	*used = end - had;
	ok = wsc_head_ok(b, end, key, why);
	free(b);
	*hold = NULL;
	*hlen = 0;
	return ok ? 1 : -1;
}

/* wsc_header - the server frame header at p: 1 (h filled), 0 if more bytes are needed, -1 (why). */
static int
wsc_header(const unsigned char *p, size_t n, size_t max, struct wsc_hdr *h,
    const char **why)
{
	uint64_t len;
	size_t k;

	if (n < 2)
		return 0;
	h->op = p[0] & 0x0f;
	h->fin = p[0] >> 7;
	len = p[1] & 0x7f;
	h->head = len == 126 ? 4 : len == 127 ? 10 : 2;
	if (p[0] & 0x70)
		*why = "a server frame with RSV bits set";
	else if (p[1] & 0x80)
		*why = "a masked server frame";
	else if (h->op == WS_OP_BINARY)
		*why = "a binary message";
	else if (h->op > WS_OP_PONG || (h->op > WS_OP_BINARY && h->op < WS_OP_CLOSE))
		*why = "an unknown opcode";
	else if (h->op >= WS_OP_CLOSE && !h->fin)
		*why = "a fragmented control frame";
	else if (h->op >= WS_OP_CLOSE && len > WS_CONTROL_MAX)
		*why = "a control frame over 125 bytes";
	else if (n < h->head)
		return 0;
	else {
		if (len == 126)
			len = (uint64_t)p[2] << 8 | p[3];
		else if (len == 127)
			for (len = 0, k = 2; k < 10; k++)
				len = len << 8 | p[k];
		if ((h->head == 4 && len < 126) || (h->head == 10 && len <= 0xffff))
			*why = "a frame length not in its shortest form";
		else if (len > max)
			*why = "a frame longer than any the bots expect";
		else {
			h->len = len;
			return 1;
		}
	}
	return -1;
}

/* wsc_keep - append n bytes to what is held (a tail starts or grows); WSC_MORE or WSC_FAIL. */
static enum wsc_result
wsc_keep(char **hold, uint32_t *hlen, const char *p, size_t n, const char **why)
{
	size_t base = *hold != NULL ? *hlen : sizeof(struct wsc_held);
	char *b = realloc(*hold, base + n);

	if (b == NULL) {
		*why = "out of memory for a split frame";
		return WSC_FAIL;
	}
	if (*hold == NULL)
		memset(b, 0, sizeof(struct wsc_held));
	memcpy(b + base, p, n);
	*hold = b;
	*hlen = (uint32_t)(base + n);
	return WSC_MORE;
}

/* wsc_trim - a frame was handled: drop its tail; free the buffer unless a message is open. */
static void
wsc_trim(char **hold, uint32_t *hlen)
{
	struct wsc_held *w = (struct wsc_held *)(void *)*hold;

	*hlen = (uint32_t)sizeof(*w) + w->msg;
	if (!w->open) {
		free(*hold);
		*hold = NULL;
		*hlen = 0;
	}
}

/*
 * wsc_append - a fragment's payload joins the message (OPEN: it starts
 * it). A payload IN_HOLD is the tail's, already in the buffer: it moves
 * down over its own header.
 */
static enum wsc_result
wsc_append(char **hold, uint32_t *hlen, const char *payload, size_t len,
    int in_hold, int open, size_t max, const char **why)
{
	size_t msg = *hold != NULL ? ((struct wsc_held *)(void *)*hold)->msg : 0;
	struct wsc_held *w;
	char *b;

	if (msg + len > max) {
		*why = "a message longer than any the bots expect";
		return WSC_FAIL;
	}
	if (in_hold) {
		memmove(*hold + sizeof(*w) + msg, payload, len);
	} else {
		if ((b = realloc(*hold, sizeof(*w) + msg + len)) == NULL) {
			*why = "out of memory for a fragmented message";
			return WSC_FAIL;
		}
		if (*hold == NULL)
			memset(b, 0, sizeof(*w));
		memcpy(b + sizeof(*w) + msg, payload, len);
		*hold = b;
	}
	w = (struct wsc_held *)(void *)*hold;
	w->msg = (uint32_t)(msg + len);
	w->open |= (uint32_t)open;
	*hlen = (uint32_t)(sizeof(*w) + w->msg);
	return WSC_MORE;
}

/* wsc_handle - one whole frame; its payload IN_HOLD (the tail) or the caller's. */
static enum wsc_result
wsc_handle(char **hold, uint32_t *hlen, const struct wsc_hdr *h, const char *payload,
    int in_hold, size_t max, ws_fn fn, void *ctx, const char **why)
{
	struct wsc_held *w = (struct wsc_held *)(void *)*hold;
	int open = w != NULL && w->open;
	struct ws_msg m = { (enum ws_op)h->op, 0, payload, (size_t)h->len };

	switch (h->op) {
	case WS_OP_TEXT:
		if (open) {
			*why = "a new message inside a fragmented one";
			return WSC_FAIL;
		}
		if (!h->fin)
			return wsc_append(hold, hlen, payload, m.len, in_hold, 1, max, why);
		break;
	case WS_OP_CONT:
		if (!open) {
			*why = "a continuation with no message started";
			return WSC_FAIL;
		}
		if (wsc_append(hold, hlen, payload, m.len, in_hold, 0, max, why) != WSC_MORE)
			return WSC_FAIL;
		if (!h->fin)
			return WSC_MORE;
		w = (struct wsc_held *)(void *)*hold;
		m.op = WS_OP_TEXT;
		m.data = *hold + sizeof(*w);
		m.len = w->msg;
		if (fn(ctx, &m) < 0)
			return WSC_STOP;
		w->msg = 0;
		w->open = 0;
		return WSC_MORE;
	case WS_OP_CLOSE:
		if (m.len == 1) {
			*why = "a Close payload of one byte";
			return WSC_FAIL;
		}
		m.code = m.len >= 2 ? (uint16_t)((uint8_t)payload[0] << 8 | (uint8_t)payload[1]) :
		    WS_CLOSE_NO_STATUS;
		m.data = m.len >= 2 ? payload + 2 : payload;
		m.len = m.len >= 2 ? m.len - 2 : 0;
		return fn(ctx, &m) < 0 ? WSC_STOP : WSC_CLOSED;
	default:
		break;
	}
	return fn(ctx, &m) < 0 ? WSC_STOP : WSC_MORE;
}

/* wsc_finish - complete a held tail from the front of *p, then hand it out. */
static enum wsc_result
wsc_finish(char **hold, uint32_t *hlen, const char **p, size_t *n, size_t max,
    ws_fn fn, void *ctx, const char **why)
{
	size_t base = sizeof(struct wsc_held) +
	    ((struct wsc_held *)(void *)*hold)->msg, have = *hlen - base, need, take;
	enum wsc_result r;
	struct wsc_hdr h;
	int k;

	if (have == 0)
		return WSC_MORE;
	for (;;) {
		k = wsc_header((const unsigned char *)*hold + base, have, max, &h, why);
		if (k < 0)
			return WSC_FAIL;
		need = k == 0 ? (have < 2 ? 2 : h.head) : h.head + (size_t)h.len;
		if (need == have)
			break;
		if (*n == 0)
			return WSC_MORE;
		take = need - have < *n ? need - have : *n;
		if (wsc_keep(hold, hlen, *p, take, why) != WSC_MORE)
			return WSC_FAIL;
		*p += take;
		*n -= take;
		have += take;
	}
	r = wsc_handle(hold, hlen, &h, *hold + base + h.head, 1, max, fn, ctx, why);
	if (r == WSC_MORE)
		wsc_trim(hold, hlen);
	return r;
}

enum wsc_result
wsc_feed(char **hold, uint32_t *hlen, const char *p, size_t n, size_t max,
    ws_fn fn, void *ctx, const char **why)
{
	enum wsc_result r;
	struct wsc_hdr h;
	int k;

	if (*hold != NULL &&
	    (r = wsc_finish(hold, hlen, &p, &n, max, fn, ctx, why)) != WSC_MORE)
		return r;
	while (n > 0) {
		k = wsc_header((const unsigned char *)p, n, max, &h, why);
		if (k < 0)
			return WSC_FAIL;
		if (k == 0 || h.head + h.len > n)
			return wsc_keep(hold, hlen, p, n, why);
		r = wsc_handle(hold, hlen, &h, p + h.head, 0, max, fn, ctx, why);
		if (r != WSC_MORE)
			return r;
		if (*hold != NULL)
			wsc_trim(hold, hlen);
		p += h.head + (size_t)h.len;
		n -= h.head + (size_t)h.len;
	}
	return WSC_MORE;
}
