/*
 * t/fuzz/json.c - libFuzzer harness for proto/json.c.
 *
 * Owns: checking that the validator and the member walk agree on every
 * input (same verdict, error and offset for objects); that compacting each
 * member the walk hands out, and any valid value, gives exactly what a
 * reference whitespace stripper written here gives, valid again, and
 * unchanged by a second compaction, and
 * that compaction never writes past a buffer one byte too small; that
 * each string decodes to valid UTF-8 which escapes and decodes back to
 * itself, and compares equal to itself; that escaping the raw input
 * yields valid JSON exactly when the input is valid UTF-8; and that
 * json_uint reads exactly the plain integers that fit in 64 bits.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "t/fuzz/fuzz.h"

/* ref_utf8 - whether s[0, n) is UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
static int
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* ref_compact - s without JSON whitespace outside strings, into dst (room for n). */
static size_t
ref_compact(const char *s, size_t n, char *dst)
{
	size_t i, o = 0;
	int in_str = 0, esc = 0;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			continue;
		}
		dst[o++] = s[i];
	}
	return o;
}

/* compact_exact - json_compact into an exactly sized buffer, after one a byte short. */
static char *
compact_exact(const struct json_span *v, long *n)
{
	size_t cap = v->len + 2;      /* the quotes a key gets back */
	char *dst = malloc(cap), *small;

	FUZZ_CHECK(dst != NULL, "out of memory");
	*n = json_compact(v, dst, cap);
	FUZZ_CHECK(*n > 0 && (size_t)*n <= cap, "compaction gave %ld of at most %zu bytes", *n, cap);
	small = fuzz_copy(dst, (size_t)*n - 1);
	FUZZ_CHECK(json_compact(v, small, (size_t)*n - 1) == -1,
	    "compaction fit in one byte less than it needs");
	free(small);
	return dst;
}

/* span_of - the value of the only member of a {"v":...} wrapping; 0 or -1. */
static int
span_of(const char *obj, size_t len, struct json_span *v)
{
	struct json_iter it;
	struct json_span k;

	if (json_object_begin(&it, obj, len) < 0 || json_object_next(&it, &k, v) != 1)
		return -1;
	return 0;
}

/* check_compact - a valid value compacts as the reference does, validly and idempotently. */
static void
check_compact(const struct json_span *v)
{
	char *c1, *c2, *ref, *w;
	struct json_span s;
	long n1, n2;
	size_t rn;

	c1 = compact_exact(v, &n1);
	ref = malloc(v->len + 2);
	FUZZ_CHECK(ref != NULL, "out of memory");
	if (v->type == JSON_STRING) {
		ref[0] = '"';
		memcpy(ref + 1, v->p, v->len);
		ref[v->len + 1] = '"';
		rn = v->len + 2;
	} else {
		rn = ref_compact(v->p, v->len, ref);
	}
	FUZZ_CHECK((size_t)n1 == rn && memcmp(c1, ref, rn) == 0,
	    "compaction differs from the reference's (%ld vs %zu bytes)", n1, rn);
	FUZZ_CHECK(json_validate(c1, (size_t)n1, NULL) == JSON_OK, "a compacted value is not valid");
	w = malloc((size_t)n1 + 6);
	FUZZ_CHECK(w != NULL, "out of memory");
	memcpy(w, "{\"v\":", 5);
	memcpy(w + 5, c1, (size_t)n1);
	w[n1 + 5] = '}';
	FUZZ_CHECK(span_of(w, (size_t)n1 + 6, &s) == 0 && s.type == v->type,
	    "a compacted value is not the same kind of value");
	c2 = compact_exact(&s, &n2);
	FUZZ_CHECK(n2 == n1 && memcmp(c1, c2, (size_t)n1) == 0, "a second compaction changed it");
	free(c1);
	free(c2);
	free(ref);
	free(w);
}

/* check_string - decode, escape, decode again: the same bytes; equal to itself. */
static void
check_string(const struct json_span *s)
{
	char *d, *e, *d2, *w;
	struct json_span ws;
	long dn, en, dn2;
	size_t ecap;

	d = malloc(s->len + 2);
	FUZZ_CHECK(d != NULL, "out of memory");
	dn = json_str_decode(s, d, s->len);
	FUZZ_CHECK(dn >= 0 && (size_t)dn <= s->len, "decoding a string gave %ld of %zu", dn, s->len);
	FUZZ_CHECK(ref_utf8((unsigned char *)d, (size_t)dn), "a valid string decoded to bad UTF-8");
	if (dn > 0)
		FUZZ_CHECK(json_str_decode(s, d, (size_t)dn - 1) == -1, "decoding fit in less room");
	if (memchr(d, '\0', (size_t)dn) == NULL) {
		d[dn] = '\0';
		FUZZ_CHECK(json_str_eq(s, d), "a string is not equal to its own decoding");
		d[dn] = 'x';
		d[dn + 1] = '\0';
		FUZZ_CHECK(!json_str_eq(s, d), "a string equals itself with a byte more");
	}
	ecap = (size_t)dn * 6 + 2;
	e = malloc(ecap);
	FUZZ_CHECK(e != NULL, "out of memory");
	en = json_escape(d, (size_t)dn, e, ecap);
	FUZZ_CHECK(en >= 2, "escaping failed");
	FUZZ_CHECK(json_escape(d, (size_t)dn, e, (size_t)en - 1) == -1, "escaping fit in less room");
	w = malloc((size_t)en + 6);
	FUZZ_CHECK(w != NULL, "out of memory");
	memcpy(w, "{\"v\":", 5);
	memcpy(w + 5, e, (size_t)en);
	w[en + 5] = '}';
	FUZZ_CHECK(span_of(w, (size_t)en + 6, &ws) == 0 && ws.type == JSON_STRING,
	    "an escaped string is not a valid string");
	d2 = malloc((size_t)dn + 1);
	FUZZ_CHECK(d2 != NULL, "out of memory");
	dn2 = json_str_decode(&ws, d2, (size_t)dn);
	FUZZ_CHECK(dn2 == dn && memcmp(d, d2, (size_t)dn) == 0, "escape then decode changed a string");
	free(d);
	free(e);
	free(d2);
	free(w);
}

/* check_uint - json_uint takes exactly the integers without sign, fraction or leading 0 that fit. */
static void
check_uint(const struct json_span *v)
{
	char text[32];
	uint64_t x = 0;
	size_t i;
	int plain = v->len > 0 && v->len <= 20 && (v->p[0] != '0' || v->len == 1);

	for (i = 0; plain && i < v->len; i++)
		plain = v->p[i] >= '0' && v->p[i] <= '9';
	if (plain && v->len == 20)
		plain = memcmp(v->p, "18446744073709551615", 20) <= 0;
	if (json_uint(v, &x) < 0) {
		FUZZ_CHECK(!plain, "json_uint refused %.*s", (int)v->len, v->p);
		return;
	}
	snprintf(text, sizeof(text), "%" PRIu64, x);
	FUZZ_CHECK(plain && strlen(text) == v->len && memcmp(text, v->p, v->len) == 0,
	    "json_uint read %.*s as %s", (int)v->len, v->p, text);
}

/*
 * walk - the member walk over buf, checking each member it hands out (a
 * member is whole and valid when handed out, even if the object is not);
 * returns the error as json_validate would report it.
 */
static enum json_err
walk(const char *buf, size_t len, size_t *off)
{
	struct json_iter it;
	struct json_span k, v;
	int r;

	/* a failed begin leaves the iterator failed: next then returns -1 */
	json_object_begin(&it, buf, len);
	while ((r = json_object_next(&it, &k, &v)) == 1) {
		FUZZ_CHECK(k.type == JSON_STRING && v.type != JSON_NONE, "a member without a type");
		check_string(&k);
		check_compact(&k);
		check_compact(&v);
		if (v.type == JSON_STRING)
			check_string(&v);
		if (v.type == JSON_NUMBER)
			check_uint(&v);
	}
	*off = r < 0 ? it.err_off : 0;
	return r < 0 ? it.err : JSON_OK;
}

/* check_escape_raw - the raw input as a string: valid JSON exactly when it is UTF-8. */
static void
check_escape_raw(const char *s, size_t n)
{
	size_t cap = n * 6 + 2;
	char *e = malloc(cap);
	enum json_err err;
	long en;

	FUZZ_CHECK(e != NULL, "out of memory");
	en = json_escape(s, n, e, cap);
	FUZZ_CHECK(en >= 2, "escaping failed");
	err = json_validate(e, (size_t)en, NULL);
	FUZZ_CHECK(ref_utf8((const unsigned char *)s, n) ? err == JSON_OK : err == JSON_E_UTF8,
	    "escaped input: %s, though the input is %sUTF-8", json_strerror(err),
	    ref_utf8((const unsigned char *)s, n) ? "" : "not ");
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size), *w;
	size_t voff = 0, woff = 0, i = 0;
	enum json_err ve, we;
	struct json_span v;

	ve = json_validate(buf, size, &voff);
	we = walk(buf, size, &woff);
	while (i < size && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i < size && buf[i] == '{')
		FUZZ_CHECK(ve == we && voff == woff, "validate: %s at %zu; the walk: %s at %zu",
		    json_strerror(ve), voff, json_strerror(we), woff);
	else if (i < size)
		FUZZ_CHECK(we == JSON_E_NOT_OBJECT, "the walk took a non-object: %s", json_strerror(we));
	else
		FUZZ_CHECK(ve == JSON_E_TRUNCATED && we == JSON_E_TRUNCATED, "empty input: %s, %s",
		    json_strerror(ve), json_strerror(we));
	if (ve == JSON_OK) {
		/* any value, as the member of an object: one level deeper */
		w = malloc(size + 6);
		FUZZ_CHECK(w != NULL, "out of memory");
		memcpy(w, "{\"v\":", 5);
		memcpy(w + 5, buf, size);
		w[size + 5] = '}';
		if (span_of(w, size + 6, &v) == 0)
			check_compact(&v);
		else
			FUZZ_CHECK(json_validate(w, size + 6, NULL) == JSON_E_DEPTH,
			    "a valid value is refused as a member, not for its depth");
		free(w);
	}
	check_escape_raw(buf, size);
	free(buf);
	return 0;
}
