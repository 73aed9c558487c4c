/*
 * t/fuzz/http.c - libFuzzer harness for proto/http.c, request heads.
 *
 * Owns: checking that the parser never reads past the bytes it is given
 * (each call sees an exactly sized copy, a new one each time, as a
 * buffer that moved), that a head fed in two pieces (split where the
 * input says), and one fed a byte at a time, gives the same result as
 * the whole: the same status, method, version, flags, head length,
 * spans and reason, and then the same answer; that a result is one the
 * header allows (spans inside the head, a head length no more than
 * what was given, 400, 431 or 505 for errors); and that every answer
 * renders to a head ending with an empty line.
 * Input: 2 bytes (the head limit), 2 bytes (the split point), the head.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/http.h"
#include "t/fuzz/fuzz.h"

#define FUZZ_HTTP_HEAD 4

/* parse - http_parse on an exact copy of buf[0, n), freed afterwards. */
static enum http_result
parse(struct http_req *r, const char *buf, size_t n, size_t max)
{
	char *c = fuzz_copy(buf, n);
	enum http_result res = http_parse(r, c, n, max);

	free(c);
	return res;
}

/* span_ok - a span inside the first n bytes. */
static int
span_ok(struct http_span s, size_t n)
{
	return (size_t)s.off + s.len <= n;
}

/* check_form - what a result may look like. */
static void
check_form(enum http_result res, const struct http_req *r, size_t n)
{
	if (res == HTTP_DONE) {
		FUZZ_CHECK(r->head_len > 0 && r->head_len <= n, "a head of %u bytes of %zu", r->head_len, n);
		FUZZ_CHECK(span_ok(r->path, r->head_len) && span_ok(r->key, r->head_len) &&
		    span_ok(r->origin, r->head_len), "a span outside the head");
		FUZZ_CHECK(r->minor <= 1 && r->method <= HTTP_M_HEAD, "version 1.%u, method %u", r->minor,
		    r->method);
	} else if (res == HTTP_ERROR) {
		FUZZ_CHECK(r->status == 400 || r->status == 431 || r->status == 505, "error status %u",
		    r->status);
		FUZZ_CHECK(r->why != NULL, "an error without a reason");
	} else {
		FUZZ_CHECK(res == HTTP_MORE, "result %d", res);
	}
}

/* same - two parses of one head agree on everything the caller reads. */
static void
same(enum http_result a, const struct http_req *x, enum http_result b, const struct http_req *y,
    const char *how)
{
	FUZZ_CHECK(a == b, "%s: result %d, the whole head %d", how, a, b);
	if (a == HTTP_MORE)
		return;
	FUZZ_CHECK(x->status == y->status && x->method == y->method && x->minor == y->minor &&
	    x->flags == y->flags && x->head_len == y->head_len, "%s: status %u/%u, method %u/%u, "
	    "minor %u/%u, flags %#x/%#x, head %u/%u", how, x->status, y->status, x->method, y->method,
	    x->minor, y->minor, x->flags, y->flags, x->head_len, y->head_len);
	FUZZ_CHECK(memcmp(&x->path, &y->path, sizeof(x->path)) == 0 &&
	    memcmp(&x->key, &y->key, sizeof(x->key)) == 0 &&
	    memcmp(&x->origin, &y->origin, sizeof(x->origin)) == 0, "%s: the spans differ", how);
	FUZZ_CHECK((x->why == NULL) == (y->why == NULL) && (x->why == NULL || strcmp(x->why, y->why) == 0),
	    "%s: why '%s', the whole head '%s'", how, x->why ? x->why : "", y->why ? y->why : "");
}

/* check_answer - the answers of two agreeing parses are the same, and render. */
static void
check_answer(const struct http_req *x, const struct http_req *y, const char *buf)
{
	struct http_answer a, b;
	char head[2048];
	long n;

	http_decide(x, buf, &a);
	http_decide(y, buf, &b);
	FUZZ_CHECK(a.route == b.route && a.status == b.status && a.keep_alive == b.keep_alive &&
	    a.head_only == b.head_only && a.janus == b.janus && strcmp(a.accept, b.accept) == 0,
	    "the answers differ: route %d/%d, status %u/%u", a.route, b.route, a.status, b.status);
	n = http_render(head, sizeof(head), &a, HTTP_TEXT, 10);
	FUZZ_CHECK(n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0, "the answer's head: %ld bytes", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req whole, two, bytes;
	enum http_result rw, r2, rb = HTTP_MORE;
	const char *head = (const char *)data + FUZZ_HTTP_HEAD;
	size_t n, max, k, i;

	if (size < FUZZ_HTTP_HEAD)
		return 0;
	max = 1 + ((size_t)data[0] | (size_t)data[1] << 8);
	n = size - FUZZ_HTTP_HEAD;
	k = n == 0 ? 0 : ((size_t)data[2] | (size_t)data[3] << 8) % n;

	memset(&whole, 0, sizeof(whole));
	rw = parse(&whole, head, n, max);
	check_form(rw, &whole, n);

	memset(&two, 0, sizeof(two));
	r2 = parse(&two, head, k, max);
	check_form(r2, &two, k);
	if (r2 == HTTP_MORE)
		r2 = parse(&two, head, n, max);
	same(r2, &two, rw, &whole, "in two pieces");

	memset(&bytes, 0, sizeof(bytes));
	for (i = 1; i <= n && i <= 1024 && rb == HTTP_MORE; i++)
		rb = parse(&bytes, head, i, max);
	if (n <= 1024)
		same(rb, &bytes, rw, &whole, "a byte at a time");
	if (rw != HTTP_MORE) {
		char *c = fuzz_copy(head, rw == HTTP_DONE ? whole.head_len : n);

		check_answer(&two, &whole, c);
		free(c);
	}
	return 0;
}
