/*
 * proto/ws.c - WebSocket (RFC 6455): handshake value, client-frame
 * parser, server frames.
 *
 * Owns: a connection's unfinished header (inline), unfinished control
 * payload and unfinished or fragmented message (heap, freed when done).
 * Must not allocate ahead of bytes received: a header announcing a
 * large frame costs nothing until the payload arrives.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/sha1.h"
#include "proto/ws.h"

enum {
	WS_S_HEADER = 0,   /* reading a frame header */
	WS_S_PAYLOAD,      /* reading a frame payload: left bytes to come */
	WS_S_CLOSED,       /* a Close was handed out */
	WS_S_FAILED        /* err says why */
};

void
ws_free(struct ws_parser *p)
{
	free(p->msg);
	free(p->ctl);
	memset(p, 0, sizeof(*p));
}

/* ws_fail - drop everything and stay failed with err. */
static enum ws_result
ws_fail(struct ws_parser *p, enum ws_err err)
{
	ws_free(p);
	p->state = WS_S_FAILED;
	p->err = (uint8_t)err;
	return WS_FAIL;
}

uint16_t
ws_err_code(enum ws_err err)
{
	switch (err) {
	case WS_E_NONE:
		return 0;
	case WS_E_BINARY:
		return WS_CLOSE_UNSUPPORTED;
	case WS_E_UTF8:
	case WS_E_CLOSE_UTF8:
		return WS_CLOSE_BAD_DATA;
	case WS_E_TOO_BIG:
		return WS_CLOSE_TOO_BIG;
	case WS_E_NO_MEMORY:
		return WS_CLOSE_INTERNAL;
	default:
		return WS_CLOSE_PROTOCOL;
	}
}

uint16_t
ws_fail_code(const struct ws_parser *p)
{
	return ws_err_code((enum ws_err)p->err);
}

const char *
ws_fail_text(const struct ws_parser *p)
{
	static const char *const text[] = {
		[WS_E_NONE] = "no error",
		[WS_E_UNMASKED] = "unmasked client frame",
		[WS_E_RSV] = "reserved bits set",
		[WS_E_OPCODE] = "unknown opcode",
		[WS_E_CONTROL_FRAGMENTED] = "fragmented control frame",
		[WS_E_CONTROL_LONG] = "control frame over 125 bytes",
		[WS_E_NO_MESSAGE] = "continuation without a message",
		[WS_E_IN_MESSAGE] = "new message inside a fragmented one",
		[WS_E_LENGTH] = "bad payload length",
		[WS_E_CLOSE_SHORT] = "one-byte close payload",
		[WS_E_CLOSE_CODE] = "invalid close code",
		[WS_E_BINARY] = "binary messages are not supported",
		[WS_E_UTF8] = "text is not valid utf-8",
		[WS_E_CLOSE_UTF8] = "close reason is not valid utf-8",
		[WS_E_TOO_BIG] = "message too big",
		[WS_E_NO_MEMORY] = "out of memory",
	};

	return p->err < sizeof(text) / sizeof(text[0]) ? text[p->err] : "unknown error";
}

size_t
ws_pending(const struct ws_parser *p)
{
	return (size_t)p->hlen + p->ctl_len + p->len;
}

/*
 * ws_close_code_ok - RFC 6455 7.4: the defined codes a peer may send
 * (1004-1006 and 1015 are never sent), IANA's later 1012-1014, and the
 * ranges for libraries (3000-3999) and applications (4000-4999).
 */
int
ws_close_code_ok(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

/* ws_check_start - the rules the first two header bytes settle. */
static enum ws_err
ws_check_start(const struct ws_parser *p)
{
	uint8_t b0 = p->hdr[0], b1 = p->hdr[1], op = b0 & 0x0f;

	if (b0 & 0x70)
		return WS_E_RSV;
	if ((op > WS_OP_BINARY && op < WS_OP_CLOSE) || op > WS_OP_PONG)
		return WS_E_OPCODE;
	if (!(b1 & 0x80))
		return WS_E_UNMASKED;
	if (op & 0x08) {
		if (!(b0 & 0x80))
			return WS_E_CONTROL_FRAGMENTED;
		if ((b1 & 0x7f) > WS_CONTROL_MAX)
			return WS_E_CONTROL_LONG;
		return WS_E_NONE;
	}
	if (op == WS_OP_CONT)
		return p->in_msg ? WS_E_NONE : WS_E_NO_MESSAGE;
	if (p->in_msg)
		return WS_E_IN_MESSAGE;
	return op == WS_OP_BINARY ? WS_E_BINARY : WS_E_NONE;
}

/* ws_header_need - a client header's size, known from its second byte. */
static size_t
ws_header_need(const uint8_t *h)
{
	uint8_t l7 = h[1] & 0x7f;

	return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
}

/* ws_check_length - take the length and mask of a whole header. */
static enum ws_err
ws_check_length(struct ws_parser *p, size_t max)
{
	const uint8_t *h = p->hdr;
	uint64_t n = h[1] & 0x7f;
	size_t k = 2;

	if (n == 126) {
		n = (uint64_t)h[2] << 8 | h[3];
		if (n < 126)
			return WS_E_LENGTH;
		k = 4;
	} else if (n == 127) {
		for (n = 0; k < 10; k++)
			n = n << 8 | h[k];
		if (n >> 63 || n <= 0xffff)
			return WS_E_LENGTH;
	}
	if (!(h[0] & 0x08) && (p->len > max || n > max - p->len))
		return WS_E_TOO_BIG;
	memcpy(p->mask, h + k, 4);
	p->left = n;
	return WS_E_NONE;
}

/* ws_read_header - gather a header; on success the parser reads its payload. */
static enum ws_result
ws_read_header(struct ws_parser *p, char **pos, char *end, size_t max)
{
	size_t need = p->hlen < 2 ? 2 : ws_header_need(p->hdr), n;
	enum ws_err err;

	while (p->hlen < need) {
		if (*pos == end)
			return WS_MORE;
		n = need - p->hlen;
		if (n > (size_t)(end - *pos))
			n = (size_t)(end - *pos);
		memcpy(p->hdr + p->hlen, *pos, n);
		p->hlen = (uint8_t)(p->hlen + n);
		*pos += n;
		if (p->hlen == 2) {
			if ((err = ws_check_start(p)) != WS_E_NONE)
				return ws_fail(p, err);
			need = ws_header_need(p->hdr);
		}
	}
	if ((err = ws_check_length(p, max)) != WS_E_NONE)
		return ws_fail(p, err);
	p->op = p->hdr[0] & 0x0f;
	p->fin = p->hdr[0] >> 7;
	p->hlen = 0;
	p->mpos = 0;
	p->state = WS_S_PAYLOAD;
	if (p->op == WS_OP_TEXT)
		p->utf8 = (struct utf8)UTF8_INIT;
	return WS_MORE;
}

/* ws_unmask - undo the client's mask on n payload bytes, in place. */
static void
ws_unmask(struct ws_parser *p, char *s, size_t n)
{
	unsigned m = p->mpos;
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (char)(s[i] ^ p->mask[(m + i) & 3]);
	p->mpos = (uint8_t)((m + n) & 3);
}

/*
 * ws_keep - copy n payload bytes aside: a control payload into a buffer
 * of its frame's size, message bytes into one grown as they arrive (at
 * most to the end of this frame). Returns 0, or -1 without memory.
 */
static int
ws_keep(struct ws_parser *p, const char *s, size_t n)
{
	size_t want = (size_t)p->len + n, limit = want + (size_t)p->left, cap;
	char *np;

	if (p->op & 0x08) {
		if (p->ctl == NULL && (p->ctl = malloc(n + (size_t)p->left)) == NULL)
			return -1;
		memcpy(p->ctl + p->ctl_len, s, n);
		p->ctl_len = (uint8_t)(p->ctl_len + n);
		return 0;
	}
	if (want > p->cap) {
		cap = p->cap ? (size_t)p->cap * 2 : 256;
		while (cap < want)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		if ((np = realloc(p->msg, cap)) == NULL)
			return -1;
		p->msg = np;
		p->cap = (uint32_t)cap;
	}
	memcpy(p->msg + p->len, s, n);
	p->len = (uint32_t)want;
	return 0;
}

/* ws_close_parse - a Close payload's code and reason into m. */
static enum ws_err
ws_close_parse(struct ws_msg *m)
{
	const unsigned char *d = (const unsigned char *)m->data;

	m->code = WS_CLOSE_NO_STATUS;
	if (m->len == 0)
		return WS_E_NONE;
	if (m->len == 1)
		return WS_E_CLOSE_SHORT;
	m->code = (uint16_t)(d[0] << 8 | d[1]);
	if (!ws_close_code_ok(m->code))
		return WS_E_CLOSE_CODE;
	if (!utf8_valid(d + 2, m->len - 2))
		return WS_E_CLOSE_UTF8;
	m->data += 2;
	m->len -= 2;
	return WS_E_NONE;
}

/* ws_control_done - hand out a whole control frame's payload. */
static enum ws_result
ws_control_done(struct ws_parser *p, const char *data, size_t n, ws_fn fn, void *ctx)
{
	struct ws_msg m = { (enum ws_op)p->op, 0, data, n };
	enum ws_err err;
	int stop;

	if (p->op == WS_OP_CLOSE && (err = ws_close_parse(&m)) != WS_E_NONE)
		return ws_fail(p, err);
	stop = fn(ctx, &m);
	free(p->ctl);
	p->ctl = NULL;
	p->ctl_len = 0;
	p->state = WS_S_HEADER;
	if (p->op == WS_OP_CLOSE) {
		ws_free(p);
		p->state = WS_S_CLOSED;
		return stop < 0 ? WS_STOP : WS_CLOSED;
	}
	return stop < 0 ? WS_STOP : WS_MORE;
}

/* ws_data_done - a data frame ended: open the message, or hand it out whole. */
static enum ws_result
ws_data_done(struct ws_parser *p, const char *data, size_t n, ws_fn fn, void *ctx)
{
	struct ws_msg m = { WS_OP_TEXT, 0, data ? data : "", n };
	int stop;

	p->state = WS_S_HEADER;
	if (!p->fin) {
		p->in_msg = 1;
		return WS_MORE;
	}
	if (!utf8_complete(&p->utf8))
		return ws_fail(p, WS_E_UTF8);
	stop = fn(ctx, &m);
	free(p->msg);
	p->msg = NULL;
	p->len = p->cap = 0;
	p->in_msg = 0;
	return stop < 0 ? WS_STOP : WS_MORE;
}

/*
 * ws_read_payload - unmask, check and keep what is here of a payload;
 * fresh: the header ended in this feed, so a payload that is all here
 * can be handed out from the caller's buffer.
 */
static enum ws_result
ws_read_payload(struct ws_parser *p, char **pos, char *end, int fresh,
    ws_fn fn, void *ctx)
{
	size_t n = (size_t)(end - *pos);
	char *s = *pos;
	int control = p->op & 0x08;

	if (n > p->left)
		n = (size_t)p->left;
	ws_unmask(p, s, n);
	*pos += n;
	p->left -= n;
	if (!control && utf8_feed(&p->utf8, s, n) < 0)
		return ws_fail(p, WS_E_UTF8);
	if (fresh && p->left == 0 && (control || (p->fin && !p->in_msg)))
		return control ? ws_control_done(p, s, n, fn, ctx) :
		    ws_data_done(p, s, n, fn, ctx);
	if (n > 0 && ws_keep(p, s, n) < 0)
		return ws_fail(p, WS_E_NO_MEMORY);
	if (p->left > 0)
		return WS_MORE;
	return control ? ws_control_done(p, p->ctl, p->ctl_len, fn, ctx) :
	    ws_data_done(p, p->msg, p->len, fn, ctx);
}

enum ws_result
ws_feed(struct ws_parser *p, char *data, size_t len, size_t max, ws_fn fn,
    void *ctx)
{
	char *pos = data, *end = data + len;
	enum ws_result r = WS_MORE;
	int fresh;

	if (p->state == WS_S_CLOSED)
		return WS_CLOSED;
	if (p->state == WS_S_FAILED)
		return WS_FAIL;
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	while (r == WS_MORE && pos < end) {
		fresh = p->state == WS_S_HEADER;
		if (fresh) {
			r = ws_read_header(p, &pos, end, max);
			if (r != WS_MORE || p->state == WS_S_HEADER)
				break;
		}
		r = ws_read_payload(p, &pos, end, fresh, fn, ctx);
	}
	return r;
}

void
ws_accept(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char digest[SHA1_LEN];
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, key, len);
	sha1_update(&s, WS_GUID, sizeof(WS_GUID) - 1);
	sha1_final(&s, digest);
	base64_encode(out, digest, sizeof(digest));
	out[WS_ACCEPT_LEN] = '\0';
}

size_t
ws_header(char *dst, enum ws_op op, int fin, uint64_t len)
{
	int i;

	dst[0] = (char)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		dst[1] = (char)len;
		return 2;
	}
	if (len <= 0xffff) {
		dst[1] = 126;
		dst[2] = (char)(len >> 8);
		dst[3] = (char)len;
		return 4;
	}
	dst[1] = 127;
	for (i = 0; i < 8; i++)
		dst[2 + i] = (char)(len >> (56 - 8 * i));
	return 10;
}

size_t
ws_control_frame(char *dst, enum ws_op op, const void *payload, size_t len)
{
	size_t n;

	if (len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	n = ws_header(dst, op, 1, len);
	if (len > 0)
		memcpy(dst + n, payload, len);
	return n + len;
}

size_t
ws_close_frame(char *dst, uint16_t code, const char *reason, size_t rlen)
{
	size_t n;

	if (code == WS_CLOSE_NO_STATUS)
		return ws_header(dst, WS_OP_CLOSE, 1, 0);
	if (rlen > WS_CONTROL_MAX - 2) {
		rlen = WS_CONTROL_MAX - 2;
		while (rlen > 0 && ((unsigned char)reason[rlen] & 0xc0) == 0x80)
			rlen--;
	}
	n = ws_header(dst, WS_OP_CLOSE, 1, 2 + rlen);
	dst[n++] = (char)(code >> 8);
	dst[n++] = (char)code;
	if (rlen > 0)
		memcpy(dst + n, reason, rlen);
	return n + rlen;
}
