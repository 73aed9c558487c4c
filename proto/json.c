/*
 * proto/json.c - a small strict JSON (RFC 8259) validator and scanner.
 *
 * Owns: the recursive-descent scanner behind json_validate and the member
 * iterator, UTF-8 and escape checking, string comparison and decoding,
 * compaction and escaping. Inputs are never NUL-terminated, so every read
 * is checked against the end pointer; nothing is allocated, and recursion
 * is bounded by JSON_MAX_DEPTH.
 * Must not know about actions, topics or the wire protocol.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "proto/json.h"

/* Iterator states (struct json_iter.state). */
enum {
	JSON_IT_FIRST = 0,	/* after '{': a key or '}' */
	JSON_IT_MORE,		/* after a member: ',' or '}' */
	JSON_IT_DONE,		/* closing brace seen, rest was whitespace */
	JSON_IT_ERROR
};

/* Scanner cursor: the error fields stay unset until something fails. */
struct json_cur {
	const char *p;
	const char *end;
	enum json_err err;
	const char *err_at;
};

/* Eight copies of a byte, for scanning string bodies a word at a time. */
#define JSON_BYTES(b) ((uint64_t)0x0101010101010101ULL * (uint8_t)(b))

/* json_skip_ws - first byte at or after p that is not JSON whitespace. */
static const char *
json_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* json_fail - note what and where; every caller unwinds with -1 at once. */
static int
json_fail(struct json_cur *c, enum json_err err, const char *at)
{
	c->err = err;
	c->err_at = at;
	return -1;
}

/* json_need - fail as truncated when a byte is required but input ended. */
static int
json_need(struct json_cur *c, enum json_err otherwise)
{
	return json_fail(c, c->p >= c->end ? JSON_E_TRUNCATED : otherwise, c->p);
}

/* json_word_plain - whether none of 8 bytes needs a closer look in a string. */
static int
json_word_plain(uint64_t w)
{
	uint64_t hi = JSON_BYTES(0x80);
	uint64_t q = w ^ JSON_BYTES('"');
	uint64_t b = w ^ JSON_BYTES('\\');

	/* Exact "any byte below n / equal to zero" tests (no false negatives). */
	uint64_t bad = ((w - JSON_BYTES(0x20)) & ~w) |
	    ((q - JSON_BYTES(1)) & ~q) | ((b - JSON_BYTES(1)) & ~b) | w;
	return (bad & hi) == 0;
}

/* json_skip_plain - skip printable ASCII in a string body, a word at a time. */
static const char *
json_skip_plain(const char *p, const char *end)
{
	uint64_t w;
	unsigned char ch;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		if (!json_word_plain(w))
			break;
		p += 8;
	}
	for (; p < end; p++) {
		ch = (unsigned char)*p;
		if (ch < 0x20 || ch >= 0x80 || ch == '"' || ch == '\\')
			break;
	}
	return p;
}

/* json_hexval - value of one hex digit, or -1. */
static int
json_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* json_hex4 - value of four hex digits at p, or -1 (bounded by end). */
static long
json_hex4(const char *p, const char *end)
{
	long v = 0;
	int i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = json_hexval(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* json_scan_hex4 - read \u's digits at c->p, telling truncation from junk. */
static long
json_scan_hex4(struct json_cur *c)
{
	long v = json_hex4(c->p, c->end);
	const char *p;

	if (v >= 0) {
		c->p += 4;
		return v;
	}
	for (p = c->p; p < c->end && json_hexval(*p) >= 0; p++)
		;
	return p >= c->end ? json_fail(c, JSON_E_TRUNCATED, c->end) : json_fail(c, JSON_E_SYNTAX, p);
}

/* json_scan_u - a \uXXXX escape (c->p after the 'u'); pairs surrogates. */
static int
json_scan_u(struct json_cur *c)
{
	const char *start = c->p - 2;
	long u = json_scan_hex4(c), lo;

	if (u < 0)
		return -1;
	if (u >= 0xdc00 && u <= 0xdfff)
		return json_fail(c, JSON_E_UTF8, start);
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	/* A high surrogate means nothing without the low one right after it. */
	if (c->p >= c->end || (*c->p == '\\' && c->p + 1 >= c->end))
		return json_fail(c, JSON_E_TRUNCATED, c->end);
	if (c->p[0] != '\\' || c->p[1] != 'u')
		return json_fail(c, JSON_E_UTF8, start);
	c->p += 2;
	lo = json_scan_hex4(c);
	if (lo < 0)
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return json_fail(c, JSON_E_UTF8, start);
	return 0;
}

/* json_scan_escape - one escape sequence, c->p at the backslash. */
static int
json_scan_escape(struct json_cur *c)
{
	c->p++;
	if (c->p >= c->end)
		return json_fail(c, JSON_E_TRUNCATED, c->end);
	switch (*c->p++) {
	case '"': case '\\': case '/': case 'b':
	case 'f': case 'n': case 'r': case 't':
		return 0;
	case 'u':
		return json_scan_u(c);
	default:
		return json_fail(c, JSON_E_SYNTAX, c->p - 2);
	}
}

/* json_scan_utf8 - one multi-byte UTF-8 sequence (RFC 3629 table 3-7). */
static int
json_scan_utf8(struct json_cur *c)
{
	const unsigned char *p = (const unsigned char *)c->p;
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return json_fail(c, JSON_E_UTF8, c->p);
	/* Narrowed second bytes exclude overlongs, surrogates, > U+10FFFF. */
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf) {
		if (c->p + i >= c->end)
			return json_fail(c, JSON_E_TRUNCATED, c->end);
		if (p[i] < lo || p[i] > hi)
			return json_fail(c, JSON_E_UTF8, c->p);
	}
	c->p += n;
	return 0;
}

/* json_scan_string - a string, c->p at its opening quote. */
static int
json_scan_string(struct json_cur *c, struct json_span *out)
{
	const char *body = ++c->p;
	int escaped = 0;
	unsigned char ch;

	for (;;) {
		c->p = json_skip_plain(c->p, c->end);
		if (c->p >= c->end)
			return json_fail(c, JSON_E_TRUNCATED, c->end);
		ch = (unsigned char)*c->p;
		if (ch == '"')
			break;
		if (ch == '\\') {
			escaped = 1;
			if (json_scan_escape(c) < 0)
				return -1;
		} else if (ch < 0x20) {
			return json_fail(c, JSON_E_SYNTAX, c->p);
		} else if (json_scan_utf8(c) < 0) {
			return -1;
		}
	}
	out->p = body;
	out->len = (size_t)(c->p - body);
	out->type = JSON_STRING;
	out->escaped = escaped;
	c->p++;
	return 0;
}

/* json_scan_digits - one or more digits; none is truncation or junk. */
static int
json_scan_digits(struct json_cur *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p == start ? json_need(c, JSON_E_SYNTAX) : 0;
}

/* json_scan_number - int frac? exp? per the RFC grammar, c->p at its start. */
static int
json_scan_number(struct json_cur *c)
{
	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0') {
		c->p++;
		/* "01" would otherwise end at "0" and report trailing junk. */
		if (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			return json_fail(c, JSON_E_SYNTAX, c->p - 1);
	} else if (json_scan_digits(c) < 0) {
		return -1;
	}
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (json_scan_digits(c) < 0)
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (json_scan_digits(c) < 0)
			return -1;
	}
	return 0;
}

/* json_scan_literal - true, false or null, spelled exactly. */
static int
json_scan_literal(struct json_cur *c, const char *word, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, c->p++) {
		if (c->p >= c->end)
			return json_fail(c, JSON_E_TRUNCATED, c->end);
		if (*c->p != word[i])
			return json_fail(c, JSON_E_SYNTAX, c->p - i);
	}
	return 0;
}

static int json_scan_value(struct json_cur *c, int depth,
    struct json_span *out);

/* json_scan_member - `"key" : value`, c->p at the key (after whitespace). */
static int
json_scan_member(struct json_cur *c, int depth, struct json_span *key,
    struct json_span *val)
{
	if (c->p >= c->end || *c->p != '"')
		return json_need(c, JSON_E_SYNTAX);
	if (json_scan_string(c, key) < 0)
		return -1;
	c->p = json_skip_ws(c->p, c->end);
	if (c->p >= c->end || *c->p != ':')
		return json_need(c, JSON_E_SYNTAX);
	c->p = json_skip_ws(c->p + 1, c->end);
	return json_scan_value(c, depth, val);
}

/*
 * json_scan_items - an array or an object, c->p at its opening bracket;
 * its items (values, or members when close is '}') go one level deeper.
 */
static int
json_scan_items(struct json_cur *c, int depth, char close)
{
	struct json_span k, v;
	int r;

	c->p = json_skip_ws(c->p + 1, c->end);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		r = close == '}' ? json_scan_member(c, depth + 1, &k, &v) :
		    json_scan_value(c, depth + 1, &v);
		if (r < 0)
			return -1;
		c->p = json_skip_ws(c->p, c->end);
		if (c->p >= c->end)
			return json_fail(c, JSON_E_TRUNCATED, c->end);
		if (*c->p == close) {
			c->p++;
			return 0;
		}
		if (*c->p != ',')
			return json_fail(c, JSON_E_SYNTAX, c->p);
		c->p = json_skip_ws(c->p + 1, c->end);
	}
}

/* json_scan_value - any value at c->p (no leading whitespace) at depth. */
static int
json_scan_value(struct json_cur *c, int depth, struct json_span *out)
{
	const char *start = c->p;
	int r;

	if (c->p >= c->end)
		return json_fail(c, JSON_E_TRUNCATED, c->end);
	out->escaped = 0;
	switch (*c->p) {
	case '"':
		return json_scan_string(c, out);
	case '{':
	case '[':
		if (depth > JSON_MAX_DEPTH)
			return json_fail(c, JSON_E_DEPTH, c->p);
		out->type = *c->p == '{' ? JSON_OBJECT : JSON_ARRAY;
		r = json_scan_items(c, depth, out->type == JSON_OBJECT ? '}' : ']');
		break;
	case 't':
		out->type = JSON_TRUE;
		r = json_scan_literal(c, "true", 4);
		break;
	case 'f':
		out->type = JSON_FALSE;
		r = json_scan_literal(c, "false", 5);
		break;
	case 'n':
		out->type = JSON_NULL;
		r = json_scan_literal(c, "null", 4);
		break;
	default:
		if (*c->p != '-' && (*c->p < '0' || *c->p > '9'))
			return json_fail(c, JSON_E_SYNTAX, c->p);
		out->type = JSON_NUMBER;
		r = json_scan_number(c);
		break;
	}
	out->p = start;
	out->len = (size_t)(c->p - start);
	return r;
}

/* json_it_fail - park the iterator in its error state. */
static int
json_it_fail(struct json_iter *it, enum json_err err, const char *at)
{
	it->state = JSON_IT_ERROR;
	it->err = err;
	it->err_off = (size_t)(at - it->buf);
	return -1;
}

/* json_object_begin - position after the brace; members come from _next. */
int
json_object_begin(struct json_iter *it, const char *buf, size_t len)
{
	it->buf = buf;
	it->end = buf + len;
	it->pos = json_skip_ws(buf, it->end);
	it->state = JSON_IT_FIRST;
	it->err = JSON_OK;
	it->err_off = 0;
	if (it->pos >= it->end)
		return json_it_fail(it, JSON_E_TRUNCATED, it->end);
	if (*it->pos != '{')
		return json_it_fail(it, JSON_E_NOT_OBJECT, it->pos);
	it->pos++;
	return 0;
}

/* json_it_close - the closing brace: only whitespace may follow it. */
static int
json_it_close(struct json_iter *it)
{
	const char *p = json_skip_ws(it->pos + 1, it->end);

	if (p < it->end)
		return json_it_fail(it, JSON_E_TRAILING, p);
	it->pos = p;
	it->state = JSON_IT_DONE;
	return 0;
}

/* json_object_next - one member per call; errors are sticky. */
int
json_object_next(struct json_iter *it, struct json_span *key,
    struct json_span *val)
{
	struct json_cur c;

	if (it->state == JSON_IT_DONE)
		return 0;
	if (it->state == JSON_IT_ERROR)
		return -1;
	c.p = json_skip_ws(it->pos, it->end);
	c.end = it->end;
	c.err = JSON_OK;
	c.err_at = NULL;
	if (c.p >= c.end)
		return json_it_fail(it, JSON_E_TRUNCATED, c.end);
	if (*c.p == '}') {
		it->pos = c.p;
		return json_it_close(it);
	}
	if (it->state == JSON_IT_MORE) {
		if (*c.p != ',')
			return json_it_fail(it, JSON_E_SYNTAX, c.p);
		c.p = json_skip_ws(c.p + 1, c.end);
	}
	/* The object itself is depth 1, so member values start at 2. */
	if (json_scan_member(&c, 2, key, val) < 0)
		return json_it_fail(it, c.err, c.err_at);
	it->pos = c.p;
	it->state = JSON_IT_MORE;
	return 1;
}

/* json_validate - one value of any type, whitespace around it allowed. */
enum json_err
json_validate(const char *buf, size_t len, size_t *err_off)
{
	struct json_cur c;
	struct json_span v;

	c.p = json_skip_ws(buf, buf + len);
	c.end = buf + len;
	c.err = JSON_OK;
	c.err_at = NULL;
	if (json_scan_value(&c, 1, &v) == 0) {
		c.p = json_skip_ws(c.p, c.end);
		if (c.p < c.end)
			json_fail(&c, JSON_E_TRAILING, c.p);
	}
	if (err_off != NULL)
		*err_off = c.err == JSON_OK ? 0 : (size_t)(c.err_at - buf);
	return c.err;
}

/* json_strerror - phrases are lowercase to fit inside error messages. */
const char *
json_strerror(enum json_err err)
{
	switch (err) {
	case JSON_OK:
		return "no error";
	case JSON_E_SYNTAX:
		return "syntax error";
	case JSON_E_DEPTH:
		return "nested too deeply";
	case JSON_E_TRAILING:
		return "trailing data after the value";
	case JSON_E_TRUNCATED:
		return "truncated input";
	case JSON_E_NOT_OBJECT:
		return "not a json object";
	case JSON_E_UTF8:
		return "invalid utf-8 or lone surrogate";
	}
	return "unknown error";
}

/* json_put - append k bytes at *n, or fail when cap would be exceeded. */
static int
json_put(char *dst, size_t *n, size_t cap, const char *src, size_t k)
{
	if (k > cap - *n)
		return -1;
	if (k > 0)
		memcpy(dst + *n, src, k);
	*n += k;
	return 0;
}

/* json_put_utf8 - encode code point u into out; returns the byte count. */
static int
json_put_utf8(unsigned long u, char out[4])
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xe0 | u >> 12);
		out[1] = (char)(0x80 | (u >> 6 & 0x3f));
		out[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | u >> 18);
	out[1] = (char)(0x80 | (u >> 12 & 0x3f));
	out[2] = (char)(0x80 | (u >> 6 & 0x3f));
	out[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* json_unescape_u - decode XXXX (and a low-half escape) at *pp, after \u. */
static int
json_unescape_u(const char **pp, const char *end, char out[4])
{
	const char *p = *pp;
	long u = json_hex4(p, end), lo = -1;

	/* Spans are validated, but stay in bounds even if one is not. */
	if (u < 0) {
		out[0] = 'u';
		return 1;
	}
	p += 4;
	if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
	    p[1] == 'u')
		lo = json_hex4(p + 2, end);
	if (lo >= 0xdc00 && lo <= 0xdfff) {
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	} else if (u >= 0xd800 && u <= 0xdfff) {
		u = 0xfffd;
	}
	*pp = p;
	return json_put_utf8((unsigned long)u, out);
}

/* json_unescape - decode the escape at *pp into out; advances *pp. */
static int
json_unescape(const char **pp, const char *end, char out[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (++*pp >= end) {
		out[0] = '\\';
		return 1;
	}
	if (*(*pp)++ == 'u')
		return json_unescape_u(pp, end, out);
	hit = memchr(from, (*pp)[-1], sizeof(from) - 1);
	out[0] = hit != NULL ? to[hit - from] : (*pp)[-1];
	return 1;
}

/* json_str_eq - compare while decoding, so no buffer is needed. */
int
json_str_eq(const struct json_span *s, const char *lit)
{
	const char *p = s->p, *end = s->p + s->len;
	char buf[4];
	int n, i;

	if (!s->escaped)
		return strlen(lit) == s->len && memcmp(lit, s->p, s->len) == 0;
	while (p < end) {
		if (*p != '\\') {
			if (*lit == '\0' || *lit != *p)
				return 0;
			lit++;
			p++;
			continue;
		}
		n = json_unescape(&p, end, buf);
		/* A decoded NUL must not match the literal's terminator. */
		for (i = 0; i < n; i++, lit++) {
			if (*lit == '\0' || *lit != buf[i])
				return 0;
		}
	}
	return *lit == '\0';
}

/* json_str_decode - copy runs between escapes whole; decode each escape. */
long
json_str_decode(const struct json_span *s, char *dst, size_t cap)
{
	const char *p = s->p, *end = s->p + s->len, *run;
	size_t n = 0, k;
	char buf[4];

	while (p < end) {
		run = memchr(p, '\\', (size_t)(end - p));
		k = (size_t)((run != NULL ? run : end) - p);
		if (json_put(dst, &n, cap, p, k) < 0)
			return -1;
		p += k;
		if (p < end) {
			k = (size_t)json_unescape(&p, end, buf);
			if (json_put(dst, &n, cap, buf, k) < 0)
				return -1;
		}
	}
	return (long)n;
}

/* json_string_end - just past the closing quote of a string body at p. */
static const char *
json_string_end(const char *p, const char *end)
{
	while (p < end && *p != '"')
		p += *p == '\\' && end - p > 1 ? 2 : 1;
	return p < end ? p + 1 : end;
}

/* json_token_end - end of a run that is neither whitespace nor a string. */
static const char *
json_token_end(const char *p, const char *end)
{
	while (p < end && *p != '"' && *p != ' ' && *p != '\n' && *p != '\r' &&
	    *p != '\t')
		p++;
	return p;
}

/* json_compact - strings go through untouched, whitespace elsewhere goes. */
long
json_compact(const struct json_span *v, char *dst, size_t cap)
{
	const char *p = v->p, *end = v->p + v->len, *q;
	size_t n = 0;

	if (v->type == JSON_STRING) {
		if (json_put(dst, &n, cap, "\"", 1) < 0 ||
		    json_put(dst, &n, cap, v->p, v->len) < 0 ||
		    json_put(dst, &n, cap, "\"", 1) < 0)
			return -1;
		return (long)n;
	}
	while (p < end) {
		p = json_skip_ws(p, end);
		if (p >= end)
			break;
		/* A string goes across whole, so its spaces and escapes stay. */
		q = *p == '"' ? json_string_end(p + 1, end) : json_token_end(p, end);
		if (json_put(dst, &n, cap, p, (size_t)(q - p)) < 0)
			return -1;
		p = q;
	}
	return (long)n;
}

/* json_escape_one - the escape for byte ch (< 0x20, '"' or '\\'). */
static int
json_escape_one(unsigned char ch, char out[6])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	switch (ch) {
	case '"': out[1] = '"'; return 2;
	case '\\': out[1] = '\\'; return 2;
	case '\b': out[1] = 'b'; return 2;
	case '\f': out[1] = 'f'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\r': out[1] = 'r'; return 2;
	case '\t': out[1] = 't'; return 2;
	}
	memcpy(out + 1, "u00", 3);
	out[4] = hex[ch >> 4];
	out[5] = hex[ch & 0xf];
	return 6;
}

/* json_escape - copy runs of safe bytes whole; escape the rest. */
long
json_escape(const char *src, size_t len, char *dst, size_t cap)
{
	const char *p = src, *end = src + len, *q;
	size_t n = 0;
	unsigned char ch;
	char buf[6];

	if (json_put(dst, &n, cap, "\"", 1) < 0)
		return -1;
	while (p < end) {
		for (q = p; q < end; q++) {
			ch = (unsigned char)*q;
			if (ch < 0x20 || ch == '"' || ch == '\\')
				break;
		}
		if (json_put(dst, &n, cap, p, (size_t)(q - p)) < 0)
			return -1;
		p = q;
		if (p < end && json_put(dst, &n, cap, buf,
		    (size_t)json_escape_one((unsigned char)*p++, buf)) < 0)
			return -1;
	}
	if (json_put(dst, &n, cap, "\"", 1) < 0)
		return -1;
	return (long)n;
}

/* json_uint - digits only, overflow checked before each step. */
int
json_uint(const struct json_span *v, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;
	unsigned d;

	if (v->type != JSON_NUMBER || v->len == 0 ||
	    (v->p[0] == '0' && v->len > 1))
		return -1;
	for (i = 0; i < v->len; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return -1;
		d = (unsigned)(v->p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}
