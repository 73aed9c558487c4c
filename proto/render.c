/*
 * proto/render.c - the bytes janusd sends: greeting, messages, replies.
 *
 * Owns: formatting. The timestamp is Erlang's now() split of the wall
 * clock: MEGA*1000000 + SEC seconds, MICRO microseconds, plain integers,
 * which is what the 2009 server sent and its clients parse.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"
#include "proto/render.h"

/* render_u64 - decimal digits of v; returns their count. */
static size_t
render_u64(char *dst, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

/* render_put - append a literal. */
static size_t
render_put(char *dst, const char *lit)
{
	size_t n = strlen(lit);

	memcpy(dst, lit, n);
	return n;
}

size_t
render_prefix(char *dst, uint64_t usec)
{
	uint64_t sec = usec / 1000000;
	size_t n = render_put(dst, "{\"timestamp\":[");

	n += render_u64(dst + n, sec / 1000000);
	dst[n++] = ',';
	n += render_u64(dst + n, sec % 1000000);
	dst[n++] = ',';
	n += render_u64(dst + n, usec % 1000000);
	n += render_put(dst + n, "],");
	return n;
}

size_t
render_greeting(char *dst, uint64_t usec, const char token[RENDER_TOKEN_LEN])
{
	size_t n = render_prefix(dst, usec);

	n += render_put(dst + n, "\"token\":\"");
	memcpy(dst + n, token, RENDER_TOKEN_LEN);
	n += RENDER_TOKEN_LEN;
	n += render_put(dst + n, "\"}\1");
	return n;
}

const char *const render_server_members[] = { "timestamp", "seq", NULL };

/* render_prefix_parse - the length of a prefix render_prefix could have written at p, or 0. */
static size_t
render_prefix_parse(const char *p, size_t n)
{
	static const char head[] = "{\"timestamp\":[";
	static const size_t most[3] = { 10, 6, 6 };
	size_t i = sizeof(head) - 1, start, k;

	if (n < i || memcmp(p, head, i) != 0)
		return 0;
	for (k = 0; k < 3; k++) {
		for (start = i; i < n && i - start <= most[k] && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == start || i - start > most[k] || (p[start] == '0' && i - start > 1) ||
		    i == n || p[i] != (k < 2 ? ',' : ']'))
			return 0;
		i++;
	}
	return i < n && p[i] == ',' ? i + 1 : 0;
}

long
render_check_message(const char *p, size_t n, const char **why)
{
	size_t pfx = render_prefix_parse(p, n);
	struct json_iter it;
	struct json_span key, val;
	int rc, first = 1;

	if (pfx == 0) {
		*why = "it does not begin with a timestamp as janusd writes it";
		return -1;
	}
	if (p[n - 1] != '}' || json_object_begin(&it, p, n) < 0) {
		*why = "it is not a JSON object";
		return -1;
	}
	while ((rc = json_object_next(&it, &key, &val)) == 1) {
		if (!first && render_skipped(&key, render_server_members)) {
			*why = "it has a second timestamp or a seq member";
			return -1;
		}
		first = 0;
	}
	if (rc < 0) {
		*why = json_strerror(it.err);
		return -1;
	}
	return (long)pfx;
}

size_t
render_seq(char *dst, uint64_t seq)
{
	size_t n = render_put(dst, "\"seq\":");

	n += render_u64(dst + n, seq);
	dst[n++] = ',';
	return n;
}

int
render_skipped(const struct json_span *key, const char *const *skip)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (json_str_eq(key, *skip))
			return 1;
	return 0;
}

long
render_member(char *dst, size_t cap, const struct json_span *key,
    const struct json_span *val)
{
	long k, v;

	k = json_compact(key, dst, cap);
	if (k < 0 || (size_t)k + 1 >= cap)
		return -1;
	dst[k++] = ':';
	v = json_compact(val, dst + k, cap - (size_t)k);
	if (v < 0 || (size_t)(k + v) + 1 > cap)
		return -1;
	dst[k + v] = ',';
	return k + v + 1;
}

long
render_body_end(char *dst, size_t n, size_t cap)
{
	if (n == 0 || n + 1 > cap)
		return -1;
	dst[n - 1] = '}';  /* replaces the last member's comma */
	dst[n] = '\1';
	return (long)n + 1;
}

size_t
render_publish(char *dst, uint64_t usec, const char *body, size_t len, uint32_t *pfx)
{
	size_t n = render_prefix(dst, usec);

	*pfx = (uint32_t)n;
	memcpy(dst + n, body, len);
	return n + len;
}

long
render_message(char *dst, size_t cap, uint64_t usec, const char *obj,
    size_t len, const char *const *skip, uint32_t *pfx)
{
	struct json_iter it;
	struct json_span key, val;
	size_t n;
	long m;
	int rc;

	if (cap < RENDER_PREFIX_MAX + 2 || json_object_begin(&it, obj, len) < 0)
		return -1;
	n = render_prefix(dst, usec);
	*pfx = (uint32_t)n;
	while ((rc = json_object_next(&it, &key, &val)) == 1) {
		if (render_skipped(&key, skip))
			continue;
		if ((m = render_member(dst + n, cap - n, &key, &val)) < 0)
			return -1;
		n += (size_t)m;
	}
	if (rc < 0 || (m = render_body_end(dst + *pfx, n - *pfx, cap - *pfx)) < 0)
		return -1;
	return (long)(*pfx + (size_t)m);
}

/* render_fmt - snprintf that reports overflow as -1. */
static long __attribute__((format(printf, 3, 4)))
render_fmt(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

long
render_error(char *dst, size_t cap, const char *code, const char *text)
{
	char esc[512];
	long e = json_escape(text, strlen(text), esc, sizeof(esc) - 1);

	if (e < 0)
		return -1;
	esc[e] = '\0';
	return render_fmt(dst, cap, "{\"error\":\"%s\",\"message\":%s}\1", code, esc);
}

long
render_hello(char *dst, size_t cap, const char *epoch, uint64_t seq)
{
	return render_fmt(dst, cap, "{\"hello\":{\"version\":2,\"epoch\":\"%s\",\"seq\":%" PRIu64 "}}\1",
	    epoch, seq);
}

long
render_gap(char *dst, size_t cap, const char *topic, size_t tlen, uint64_t from,
    uint64_t to)
{
	char esc[6 * 256 + 3];
	long e = json_escape(topic, tlen, esc, sizeof(esc) - 1);

	if (e < 0)
		return -1;
	esc[e] = '\0';
	return render_fmt(dst, cap, "{\"gap\":{\"topic\":%s,\"from\":%" PRIu64 ",\"to\":%" PRIu64 "}}\1",
	    esc, from, to);
}

long
render_published(char *dst, size_t cap, uint64_t seq)
{
	return render_fmt(dst, cap, "{\"published\":{\"seq\":%" PRIu64 "}}\1", seq);
}

long
render_auth(char *dst, size_t cap)
{
	return render_fmt(dst, cap, "{\"auth\":\"ok\"}\1");
}
