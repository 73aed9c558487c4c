/*
 * t/tweb.c - clients of janusd's HTTP and WebSocket listener for the
 * end-to-end tests.
 *
 * Owns: the answer and frame parsing of t/tweb.h. Each reader takes its
 * bytes from the front of the struct tc buffer and leaves what follows
 * (the next answer, the next frame) there.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "proto/base64.h"
#include "proto/ws.h"
#include "t/tap.h"
#include "t/tweb.h"

/* tw_random - bytes for keys and masks; rand() if the kernel will not give them. */
static void
tw_random(void *p, size_t n)
{
	unsigned char *b = p;
	size_t i;

	if (getrandom(p, n, 0) == (ssize_t)n)
		return;
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)rand();
}

/* tw_take - drop the first n bytes of c's buffer. */
static void
tw_take(struct tc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* tw_need - until c's buffer holds n bytes; 0, -1 timeout, -2 end of stream. */
static int
tw_need(struct tc *c, size_t n, uint64_t end)
{
	long rc;

	while (c->len < n) {
		int left = (int)(end > tlib_ms() ? end - tlib_ms() : 0);

		if ((rc = tc_fill(c, left)) < 0)
			return (int)rc;
		if (rc == 0 && left == 0)
			return -1;
	}
	return 0;
}

/* tw_head_end - bytes of a whole answer head at the start of c's buffer, or 0. */
static size_t
tw_head_end(const struct tc *c)
{
	size_t i;

	for (i = 3; i < c->len; i++)
		if (memcmp(c->buf + i - 3, "\r\n\r\n", 4) == 0)
			return i + 1;
	return 0;
}

int
tw_header(const struct tw_resp *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), vl;
	const char *line = strstr(r->head, "\r\n"), *v, *end;

	while (line != NULL && line[2] != '\r' && line[2] != '\0') {
		line += 2;
		end = strstr(line, "\r\n");
		if (end == NULL)
			return 0;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			for (v = line + nl + 1; *v == ' ' || *v == '\t'; v++)
				;
			for (vl = (size_t)(end - v); vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'); vl--)
				;
			snprintf(out, cap, "%.*s", (int)vl, v);
			return 1;
		}
		line = end;
	}
	return 0;
}

int
tw_response(struct tc *c, struct tw_resp *r, int head_only, int timeout_ms)
{
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	char value[64], *e;
	size_t head;
	int rc;

	r->status = 0;
	r->head[0] = r->body[0] = '\0';
	r->length = -1;
	r->body_len = 0;
	while ((head = tw_head_end(c)) == 0)
		if ((rc = tw_need(c, c->len + 1, end)) < 0)
			return rc;
	if (head >= sizeof(r->head) || strncmp(c->buf, "HTTP/1.1 ", 9) != 0 ||
	    !isdigit((unsigned char)c->buf[9]))
		return -2;
	memcpy(r->head, c->buf, head);
	r->head[head] = '\0';
	r->status = atoi(r->head + 9);
	if (tw_header(r, "Content-Length", value, sizeof(value))) {
		r->length = strtol(value, &e, 10);
		if (*e != '\0' || r->length < 0 || r->length > TW_BODY_MAX)
			return -2;
	}
	tw_take(c, head);
	if (head_only || r->length <= 0)
		return 0;
	if ((rc = tw_need(c, (size_t)r->length, end)) < 0)
		return rc;
	r->body_len = (size_t)r->length;
	memcpy(r->body, c->buf, r->body_len);
	r->body[r->body_len] = '\0';
	tw_take(c, r->body_len);
	return 0;
}

int
tw_request(struct tc *c, const char *method, const char *path, const char *extra)
{
	char req[TW_HEAD_MAX];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
	    method, path, extra);

	return n > 0 && (size_t)n < sizeof(req) ? tc_send(c, req, (size_t)n) : -1;
}

int
tw_fetch(unsigned port, const char *src, const char *method, const char *path,
    struct tw_resp *r)
{
	struct tc *c = tc_open_from(port, src);
	int rc;

	if (c == NULL)
		return -1;
	rc = tw_request(c, method, path, "Connection: close\r\n") < 0 ? -1 :
	    tw_response(c, r, strcmp(method, "HEAD") == 0, 10000);
	tc_close(c);
	return rc < 0 ? -1 : 0;
}

void
tw_ws_key(char key[25])
{
	unsigned char raw[16];

	tw_random(raw, sizeof(raw));
	key[base64_encode(key, raw, sizeof(raw))] = '\0';
}

int
tw_ws_upgrade(struct tc *c, const char *extra, struct tw_resp *r)
{
	char key[25], want[WS_ACCEPT_LEN + 1], got[64], fields[TW_HEAD_MAX];

	tw_ws_key(key);
	snprintf(fields, sizeof(fields), "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s", key, extra);
	if (tw_request(c, "GET", "/ws", fields) < 0 || tw_response(c, r, 0, 10000) < 0)
		return -1;
	ws_accept(key, strlen(key), want);
	return r->status == 101 && tw_header(r, "Sec-WebSocket-Accept", got, sizeof(got)) &&
	    strcmp(got, want) == 0;
}

int
tw_greeting_ok(const char *f)
{
	unsigned long mega, sec, micro;
	int n = -1, i;

	if (sscanf(f, "{\"timestamp\":[%lu,%lu,%lu],\"token\":\"%n", &mega, &sec, &micro, &n) != 3 ||
	    n < 0 || sec > 999999 || micro > 999999)
		return 0;
	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)f[n + i]) || isupper((unsigned char)f[n + i]))
			return 0;
	return strcmp(f + n + 32, "\"}") == 0;
}

struct tc *
tw_ws_open(unsigned port, const char *src, const char *extra, char *greet, size_t cap)
{
	static struct tw_resp r;
	char f[256];
	struct tc *c = tc_open_from(port, src);
	int up = c != NULL ? tw_ws_upgrade(c, extra, &r) : -1;

	if (up == 1 && tw_ws_msg(c, f, sizeof(f), 10000) > 0 && tw_greeting_ok(f)) {
		if (greet != NULL)
			snprintf(greet, cap, "%s", f);
		return c;
	}
	tap_diag("WebSocket to port %u: %s (status %d)", port, c == NULL ? "no connection" :
	    up < 0 ? "no answer" : up == 0 ? "no valid 101" : "no greeting", r.status);
	tc_close(c);
	return NULL;
}

size_t
tw_ws_build(char *dst, unsigned b0, int mask, const void *p, size_t n)
{
	const unsigned char *src = p;
	unsigned char *d = (unsigned char *)dst, key[4];
	size_t h = 2, i;

	d[0] = (unsigned char)b0;
	if (n < 126) {
		d[1] = (unsigned char)n;
	} else if (n <= 0xffff) {
		d[1] = 126;
		d[2] = (unsigned char)(n >> 8);
		d[3] = (unsigned char)n;
		h = 4;
	} else {
		d[1] = 127;
		for (i = 0; i < 8; i++)
			d[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (mask) {
		d[1] |= 0x80;
		tw_random(key, sizeof(key));
		memcpy(d + h, key, 4);
		h += 4;
	}
	for (i = 0; i < n; i++)
		d[h + i] = mask ? src[i] ^ key[i % 4] : src[i];
	return h + n;
}

int
tw_ws_send(struct tc *c, unsigned b0, const void *p, size_t n)
{
	char stack[4096], *buf = n + TW_FRAME_EXTRA <= sizeof(stack) ? stack : malloc(n + TW_FRAME_EXTRA);
	int rc;

	if (buf == NULL)
		return -1;
	rc = tc_send(c, buf, tw_ws_build(buf, b0, 1, p, n));
	if (buf != stack)
		free(buf);
	return rc;
}

int
tw_ws_text(struct tc *c, const char *s)
{
	return tw_ws_send(c, TW_FIN | WS_OP_TEXT, s, strlen(s));
}

int
tw_ws_close(struct tc *c, unsigned code)
{
	char p[2] = { (char)(code >> 8), (char)code };

	return tw_ws_send(c, TW_FIN | WS_OP_CLOSE, p, 2);
}

long
tw_ws_parse(const char *buf, size_t len, struct tw_frame *f)
{
	const unsigned char *b = (const unsigned char *)buf;
	uint64_t n;
	size_t h = 2, i;

	if (len < 2)
		return 0;
	f->b0 = b[0];
	f->masked = (b[1] & 0x80) != 0;
	n = b[1] & 0x7f;
	if (n == 126)
		h = 4;
	else if (n == 127)
		h = 10;
	if (len < h)
		return 0;
	if (h > 2) {
		for (n = 0, i = 2; i < h; i++)
			n = n << 8 | b[i];
		if ((h == 4 && n < 126) || (h == 10 && n <= 0xffff))
			return -1;
	}
	if (f->masked || n > TW_BODY_MAX)
		return -1;
	if (len - h < n)
		return 0;
	f->len = (size_t)n;
	f->data = buf + h;
	return (long)(h + n);
}

/* tw_next_by - tw_ws_next with an end time (tlib_ms) instead of a timeout. */
static long
tw_next_by(struct tc *c, struct tw_frame *f, char *out, size_t cap, uint64_t end)
{
	size_t copy;
	long whole;
	int rc;

	while ((whole = tw_ws_parse(c->buf, c->len, f)) == 0)
		if ((rc = tw_need(c, c->len + 1, end)) < 0)
			return rc;
	if (whole < 0)
		return -3;
	copy = f->len < cap ? f->len : cap - 1;
	memcpy(out, f->data, copy);
	out[copy] = '\0';
	f->data = out;
	tw_take(c, (size_t)whole);
	return (long)f->len;
}

long
tw_ws_next(struct tc *c, struct tw_frame *f, char *out, size_t cap, int timeout_ms)
{
	return tw_next_by(c, f, out, cap, tlib_ms() + (uint64_t)timeout_ms);
}

long
tw_ws_msg(struct tc *c, char *out, size_t cap, int timeout_ms)
{
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	struct tw_frame f;
	long n;

	for (;;) {
		n = tw_next_by(c, &f, out, cap, end);
		if (n < 0)
			return n;
		if (f.b0 == (TW_FIN | WS_OP_TEXT))
			return n;
		if (f.b0 != (TW_FIN | WS_OP_PING) || tw_ws_send(c, TW_FIN | WS_OP_PONG, out, f.len) < 0)
			return -3;
	}
}

int
tw_ws_closed(struct tc *c, int timeout_ms)
{
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	struct tw_frame f;
	char p[256];
	long n;

	do
		n = tw_next_by(c, &f, p, sizeof(p), end);
	while (n >= 0 && f.b0 == (TW_FIN | WS_OP_PING));
	if (n == -1 || n == -2)
		return -1;
	if (n < 0 || f.b0 != (TW_FIN | WS_OP_CLOSE)) {
		tap_diag("  expected a Close, got %s frame 0x%02x: '%s'", n < 0 ? "a malformed" : "a",
		    n < 0 ? 0 : f.b0, n < 0 ? "" : p);
		return -2;
	}
	return f.len >= 2 ? ((unsigned char)p[0] << 8 | (unsigned char)p[1]) : WS_CLOSE_NO_STATUS;
}
