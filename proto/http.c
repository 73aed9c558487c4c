/*
 * proto/http.c - HTTP/1.1 request heads and answer heads.
 *
 * Owns: the line scanner (offsets line/scan carried between calls), the
 * request-line and field grammars of RFC 9112, the few fields Part 3
 * needs, and the table of answers. Never allocates; reads only the
 * caller's buffer, and never past the head limit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/base64.h"
#include "proto/http.h"

enum {
	HTTP_S_START = 0,   /* before the request line */
	HTTP_S_FIELDS,      /* after it */
	HTTP_S_DONE,
	HTTP_S_ERROR
};

/* Fields that must not repeat (struct http_req.seen). */
enum {
	HTTP_SEEN_HOST = 0x01,
	HTTP_SEEN_ORIGIN = 0x02,
	HTTP_SEEN_CLEN = 0x04,
	HTTP_SEEN_TE = 0x08,
	HTTP_SEEN_KEY = 0x10,
	HTTP_SEEN_VERSION = 0x20
};

/* http_fail - stop with status and a reason; returns -1 for the caller to pass on. */
static int
http_fail(struct http_req *r, uint16_t status, const char *why)
{
	r->state = HTTP_S_ERROR;
	r->status = status;
	r->why = why;
	return -1;
}

/* http_tchar - RFC 9110 5.6.2 token characters. */
static int
http_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* http_token_end - end of the token starting at p. */
static size_t
http_token_end(const char *buf, size_t p, size_t e)
{
	while (p < e && http_tchar((unsigned char)buf[p]))
		p++;
	return p;
}

/* http_is - whether buf[s..e) is lit, ASCII case-insensitively. */
static int
http_is(const char *buf, size_t s, size_t e, const char *lit)
{
	return strlen(lit) == e - s && strncasecmp(buf + s, lit, e - s) == 0;
}

/* http_span_of - the span buf[s..e). */
static struct http_span
http_span_of(size_t s, size_t e)
{
	struct http_span sp = { (uint32_t)s, (uint32_t)(e - s) };

	return sp;
}

/*
 * http_target - the request target buf[s..e): origin-form or absolute-form
 * give the path (up to '?'); other forms only for other methods, naming
 * no path of ours.
 */
static int
http_target(struct http_req *r, const char *buf, size_t s, size_t e)
{
	size_t p = s, n;

	if (buf[s] != '/') {
		n = e - s > 8 && strncasecmp(buf + s, "https://", 8) == 0 ? 8 :
		    e - s > 7 && strncasecmp(buf + s, "http://", 7) == 0 ? 7 : 0;
		if (n == 0) {
			if (r->method != HTTP_M_OTHER)
				return http_fail(r, 400, "bad request target");
			r->path = http_span_of(s, e);
			return 0;
		}
		for (p = s + n; p < e && buf[p] != '/' && buf[p] != '?'; p++)
			;
		if (p == s + n)
			return http_fail(r, 400, "bad request target");
	}
	for (s = p; p < e && buf[p] != '?'; p++)
		;
	r->path = http_span_of(s, p);
	return 0;
}

/* http_request_line - `METHOD SP TARGET SP HTTP/D.D` in buf[s..e). */
static int
http_request_line(struct http_req *r, const char *buf, size_t s, size_t e)
{
	size_t m = http_token_end(buf, s, e), t, v;

	if (m == s || m >= e || buf[m] != ' ')
		return http_fail(r, 400, "bad method");
	/* Methods are case-sensitive (RFC 9110 9.1). */
	r->method = m - s == 3 && memcmp(buf + s, "GET", 3) == 0 ? HTTP_M_GET :
	    m - s == 4 && memcmp(buf + s, "HEAD", 4) == 0 ? HTTP_M_HEAD : HTTP_M_OTHER;
	for (t = v = m + 1; v < e && buf[v] > 0x20 && buf[v] < 0x7f; v++)
		;
	if (v == t || v >= e || buf[v] != ' ')
		return http_fail(r, 400, "bad request target");
	v++;
	if (e - v != 8 || memcmp(buf + v, "HTTP/", 5) != 0 ||
	    buf[v + 5] < '0' || buf[v + 5] > '9' || buf[v + 6] != '.' ||
	    buf[v + 7] < '0' || buf[v + 7] > '9')
		return http_fail(r, 400, "bad http version");
	if (buf[v + 5] != '1')
		return http_fail(r, 505, "http version not supported");
	r->minor = buf[v + 7] == '0' ? 0 : 1;
	return http_target(r, buf, t, v - 1);
}

/*
 * http_list_next - the next element of a comma-separated list in
 * buf[*p..e), without surrounding whitespace; empty elements skipped.
 * Returns 0 at the end of the list.
 */
static int
http_list_next(const char *buf, size_t *p, size_t e, size_t *ts, size_t *te)
{
	size_t s, t;

	while (*p < e) {
		for (s = *p; s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == ','); s++)
			;
		for (t = s; t < e && buf[t] != ','; t++)
			;
		*p = t;
		while (t > s && (buf[t - 1] == ' ' || buf[t - 1] == '\t'))
			t--;
		if (t > s) {
			*ts = s;
			*te = t;
			return 1;
		}
	}
	return 0;
}

/* http_host - RFC 3986 host [":" port]: only its characters are checked. */
static int
http_host(const char *buf, size_t s, size_t e)
{
	unsigned char c;

	for (; s < e; s++) {
		c = (unsigned char)buf[s];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=%:[]", c) != NULL))
			return 0;
	}
	return 1;
}

/* http_field_once - note a field that must not repeat; -1 if it did. */
static int
http_field_once(struct http_req *r, uint8_t bit, const char *why)
{
	if (r->seen & bit)
		return http_fail(r, 400, why);
	r->seen |= bit;
	return 0;
}

/* http_content_length - digits only; a body if not zero. */
static int
http_content_length(struct http_req *r, const char *buf, size_t s, size_t e)
{
	uint64_t n = 0;

	if (http_field_once(r, HTTP_SEEN_CLEN, "more than one Content-Length") < 0)
		return -1;
	if (s == e || e - s > 18)
		return http_fail(r, 400, "bad Content-Length");
	for (; s < e; s++) {
		if (buf[s] < '0' || buf[s] > '9')
			return http_fail(r, 400, "bad Content-Length");
		n = n * 10 + (uint64_t)(buf[s] - '0');
	}
	if (n > 0)
		r->flags |= HTTP_F_BODY;
	return 0;
}

/*
 * http_ws_once - a Sec-WebSocket field that counts only when given once
 * and valid: a repeat takes its flag back for good.
 */
static void
http_ws_once(struct http_req *r, uint8_t bit, uint32_t flag, int valid)
{
	if (r->seen & bit) {
		r->flags &= ~flag;
		return;
	}
	r->seen |= bit;
	if (valid)
		r->flags |= flag;
}

/* http_ws_key - whether the value is base64 of 16 bytes (RFC 6455 4.1). */
static int
http_ws_key(const char *buf, size_t s, size_t e)
{
	unsigned char raw[18];

	return base64_decode(raw, sizeof(raw), buf + s, e - s) == 16;
}

/* http_tokens - set flags for the list elements of buf[s..e) equal to the names. */
static void
http_tokens(struct http_req *r, const char *buf, size_t s, size_t e,
    const char *const *names, const uint32_t *flags)
{
	size_t ts, te;
	int i;

	while (http_list_next(buf, &s, e, &ts, &te))
		for (i = 0; names[i] != NULL; i++)
			if (http_is(buf, ts, te, names[i]))
				r->flags |= flags[i];
}

/* http_janus - whether the subprotocol list offers janus (case-sensitive, RFC 6455 4.1). */
static int
http_janus(const char *buf, size_t s, size_t e)
{
	size_t ts, te;

	while (http_list_next(buf, &s, e, &ts, &te))
		if (te - ts == strlen(HTTP_WS_PROTOCOL) &&
		    memcmp(buf + ts, HTTP_WS_PROTOCOL, te - ts) == 0)
			return 1;
	return 0;
}

/* http_field_value - act on a field named buf[n..ne) with value buf[s..e). */
static int
http_field_value(struct http_req *r, const char *buf, size_t n, size_t ne,
    size_t s, size_t e)
{
	static const char *const conn[] = { "close", "keep-alive", "upgrade", NULL };
	static const uint32_t conn_flags[] = {
		HTTP_F_CONN_CLOSE, HTTP_F_CONN_KEEPALIVE, HTTP_F_CONN_UPGRADE
	};
	static const char *const upgrade[] = { "websocket", NULL };
	static const uint32_t upgrade_flags[] = { HTTP_F_UPGRADE_WS };

	if (http_is(buf, n, ne, "host")) {
		if (http_field_once(r, HTTP_SEEN_HOST, "more than one Host") < 0)
			return -1;
		return http_host(buf, s, e) ? 0 : http_fail(r, 400, "bad Host");
	}
	if (http_is(buf, n, ne, "connection"))
		http_tokens(r, buf, s, e, conn, conn_flags);
	else if (http_is(buf, n, ne, "upgrade"))
		http_tokens(r, buf, s, e, upgrade, upgrade_flags);
	else if (http_is(buf, n, ne, "sec-websocket-version"))
		http_ws_once(r, HTTP_SEEN_VERSION, HTTP_F_WS_VERSION,
		    e - s == 2 && memcmp(buf + s, "13", 2) == 0);
	else if (http_is(buf, n, ne, "sec-websocket-key")) {
		http_ws_once(r, HTTP_SEEN_KEY, HTTP_F_WS_KEY, http_ws_key(buf, s, e));
		r->key = http_span_of(s, e);
	} else if (http_is(buf, n, ne, "sec-websocket-protocol")) {
		if (http_janus(buf, s, e))
			r->flags |= HTTP_F_WS_JANUS;
	} else if (http_is(buf, n, ne, "origin")) {
		if (http_field_once(r, HTTP_SEEN_ORIGIN, "more than one Origin") < 0)
			return -1;
		r->flags |= HTTP_F_ORIGIN;
		r->origin = http_span_of(s, e);
	} else if (http_is(buf, n, ne, "content-length")) {
		return http_content_length(r, buf, s, e);
	} else if (http_is(buf, n, ne, "transfer-encoding")) {
		r->seen |= HTTP_SEEN_TE;
		r->flags |= HTTP_F_BODY;
	}
	return 0;
}

/* http_field - `name ":" OWS value OWS` in buf[s..e). */
static int
http_field(struct http_req *r, const char *buf, size_t s, size_t e)
{
	size_t n = http_token_end(buf, s, e), v, p;
	unsigned char c;

	if (buf[s] == ' ' || buf[s] == '\t')
		return http_fail(r, 400, "obs-fold");
	if (n == s || n >= e || buf[n] != ':')
		return http_fail(r, 400, "bad field name");
	for (p = n + 1; p < e; p++) {
		c = (unsigned char)buf[p];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return http_fail(r, 400, "bad field value");
	}
	for (v = n + 1; v < e && (buf[v] == ' ' || buf[v] == '\t'); v++)
		;
	while (e > v && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
		e--;
	return http_field_value(r, buf, s, n, v, e);
}

/* http_head_end - the empty line: the checks that need every field. */
static int
http_head_end(struct http_req *r, size_t len)
{
	if (r->minor == 1 && !(r->seen & HTTP_SEEN_HOST))
		return http_fail(r, 400, "no Host");
	if ((r->seen & HTTP_SEEN_CLEN) && (r->seen & HTTP_SEEN_TE))
		return http_fail(r, 400, "Content-Length with Transfer-Encoding");
	r->state = HTTP_S_DONE;
	r->head_len = (uint32_t)len;
	return 0;
}

/* http_line - one whole line buf[s..e), its CRLF stripped. */
static int
http_line(struct http_req *r, const char *buf, size_t s, size_t e)
{
	if (r->state == HTTP_S_START) {
		if (s == e)
			return 0;
		r->state = HTTP_S_FIELDS;
		return http_request_line(r, buf, s, e);
	}
	if (s == e)
		return http_head_end(r, e + 2);
	return http_field(r, buf, s, e);
}

enum http_result
http_parse(struct http_req *r, const char *buf, size_t len, size_t max)
{
	size_t lim, e;
	const char *lf;

	if (max > UINT32_MAX - 1)
		max = UINT32_MAX - 1;
	lim = len < max ? len : max;
	while (r->state < HTTP_S_DONE && r->scan < lim) {
		lf = memchr(buf + r->scan, '\n', lim - r->scan);
		if (lf == NULL) {
			r->scan = (uint32_t)lim;
			break;
		}
		e = (size_t)(lf - buf);
		if (e == r->line || buf[e - 1] != '\r')
			http_fail(r, 400, "bare LF");
		else if (memchr(buf + r->line, '\r', e - 1 - r->line) != NULL)
			http_fail(r, 400, "bare CR");
		else
			http_line(r, buf, r->line, e - 1);
		r->line = r->scan = (uint32_t)(e + 1);
	}
	if (r->state == HTTP_S_DONE)
		return HTTP_DONE;
	if (r->state == HTTP_S_ERROR)
		return HTTP_ERROR;
	if (len >= max) {
		http_fail(r, 431, "request head too large");
		return HTTP_ERROR;
	}
	return HTTP_MORE;
}

const char *
http_reason(unsigned status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

void
http_answer_error(struct http_answer *a, uint16_t status)
{
	a->route = HTTP_R_ERROR;
	a->status = status;
	a->body = http_reason(status);
	a->extra = status == 405 ? "Allow: GET, HEAD\r\n" :
	    status == 426 ? "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" : "";
	if (status == 400 || status == 431 || status == 505)
		a->keep_alive = 0;
}

/* http_route_of - the route a path names, or HTTP_R_ERROR for none. */
static enum http_route
http_route_of(const char *buf, struct http_span path)
{
	static const struct { const char *path; enum http_route route; } routes[] = {
		{ "/", HTTP_R_PAGE }, { "/stats", HTTP_R_STATS },
		{ "/metrics", HTTP_R_METRICS }, { "/healthz", HTTP_R_HEALTHZ },
		{ HTTP_WS_PATH, HTTP_R_UPGRADE },
	};
	const char *p = path.len == 0 ? "/" : buf + path.off;
	size_t i, n = path.len == 0 ? 1 : path.len;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strlen(routes[i].path) == n && memcmp(routes[i].path, p, n) == 0)
			return routes[i].route;
	}
	return HTTP_R_ERROR;
}

/* http_upgrade - GET /ws: 101, or 400 for a bad key, or 426. */
static void
http_upgrade(const struct http_req *r, const char *buf, struct http_answer *a)
{
	const uint32_t need = HTTP_F_UPGRADE_WS | HTTP_F_CONN_UPGRADE | HTTP_F_WS_VERSION;

	if (r->method != HTTP_M_GET || r->minor < 1 || (r->flags & need) != need) {
		http_answer_error(a, 426);
		return;
	}
	if (!(r->flags & HTTP_F_WS_KEY)) {
		http_answer_error(a, 400);
		return;
	}
	a->route = HTTP_R_UPGRADE;
	a->status = 101;
	a->keep_alive = 1;
	a->janus = (r->flags & HTTP_F_WS_JANUS) != 0;
	ws_accept(buf + r->key.off, r->key.len, a->accept);
}

void
http_decide(const struct http_req *r, const char *buf, struct http_answer *a)
{
	enum http_route route;

	memset(a, 0, sizeof(*a));
	a->extra = "";
	a->head_only = r->method == HTTP_M_HEAD;
	a->keep_alive = !(r->flags & (HTTP_F_CONN_CLOSE | HTTP_F_BODY)) &&
	    (r->minor == 1 || (r->flags & HTTP_F_CONN_KEEPALIVE));
	if (r->state != HTTP_S_DONE) {
		http_answer_error(a, r->status ? r->status : 400);
		return;
	}
	route = http_route_of(buf, r->path);
	if (route == HTTP_R_ERROR)
		http_answer_error(a, 404);
	else if (r->method == HTTP_M_OTHER)
		http_answer_error(a, 405);
	else if (r->flags & HTTP_F_BODY)
		http_answer_error(a, 400);
	else if (route == HTTP_R_UPGRADE)
		http_upgrade(r, buf, a);
	else {
		a->route = route;
		a->status = 200;
	}
}

/* http_fit - an snprintf result as a length, or -1 if it did not fit. */
static long
http_fit(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

long
http_render(char *dst, size_t cap, const struct http_answer *a,
    const char *type, size_t length)
{
	if (a->status == 101)
		return http_fit(snprintf(dst, cap,
		    "HTTP/1.1 101 %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n%s\r\n", http_reason(101), a->accept,
		    a->janus ? "Sec-WebSocket-Protocol: " HTTP_WS_PROTOCOL "\r\n" : ""), cap);
	return http_fit(snprintf(dst, cap,
	    "HTTP/1.1 %u %s\r\n%s%s%sContent-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: %s%s\r\n%s\r\n", (unsigned)a->status, http_reason(a->status),
	    type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "",
	    length, a->status == 426 ? "Upgrade, " : "",
	    a->keep_alive ? "keep-alive" : "close", a->extra), cap);
}
