/*
 * t/json_parse.c - unit test for proto/json.c.
 *
 * Owns: tables of valid and invalid documents with their expected errors,
 * truncation at every prefix, the member walk, string helpers, compaction,
 * escaping, json_uint, and a fixed-seed mutation loop. Every input is
 * copied into an exactly sized malloc'd buffer so ASan catches overreads.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1

struct vcase {
	const char *in;
	size_t len;
	enum json_err want;
};

static const struct vcase vcases[] = {
	/* structure and whitespace */
	{ S("{}"), JSON_OK },
	{ S("[]"), JSON_OK },
	{ S(" \t\r\n{ \t\r\n} \t\r\n"), JSON_OK },
	{ S("{\"a\":1}"), JSON_OK },
	{ S("{\"a\":1,\"a\":2}"), JSON_OK },
	{ S("{\"a\":{\"b\":[]},\"c\":[{}]}"), JSON_OK },
	{ S("[1, 2 ,3 , [ ] ,{ }]"), JSON_OK },
	{ S("{\"a\":true,\"b\":false,\"c\":null}"), JSON_OK },
	{ S("true"), JSON_OK },
	{ S("false"), JSON_OK },
	{ S("null"), JSON_OK },
	{ S("\"x\""), JSON_OK },
	{ S(""), JSON_E_TRUNCATED },
	{ S("   \n\t\r "), JSON_E_TRUNCATED },
	{ S("\v{}"), JSON_E_SYNTAX },
	{ S("\f{}"), JSON_E_SYNTAX },
	{ S("\xc2\xa0{}"), JSON_E_SYNTAX },
	{ S("{\"a\":1,}"), JSON_E_SYNTAX },
	{ S("[1,]"), JSON_E_SYNTAX },
	{ S("[,1]"), JSON_E_SYNTAX },
	{ S("{,}"), JSON_E_SYNTAX },
	{ S("{\"a\" 1}"), JSON_E_SYNTAX },
	{ S("{\"a\":1 \"b\":2}"), JSON_E_SYNTAX },
	{ S("{'a':1}"), JSON_E_SYNTAX },
	{ S("{\"a\":'x'}"), JSON_E_SYNTAX },
	{ S("{a:1}"), JSON_E_SYNTAX },
	{ S("{1:2}"), JSON_E_SYNTAX },
	{ S("[\"a\":1]"), JSON_E_SYNTAX },
	{ S("{\"a\":1]"), JSON_E_SYNTAX },
	{ S("[1}"), JSON_E_SYNTAX },
	{ S("// c\n{}"), JSON_E_SYNTAX },
	{ S("/* c */{}"), JSON_E_SYNTAX },
	{ S("{/* c */}"), JSON_E_SYNTAX },
	{ S("]"), JSON_E_SYNTAX },
	{ S("}"), JSON_E_SYNTAX },
	{ S(":"), JSON_E_SYNTAX },
	/* numbers */
	{ S("0"), JSON_OK },
	{ S("-0"), JSON_OK },
	{ S("-0.0"), JSON_OK },
	{ S("0e0"), JSON_OK },
	{ S("0E-0"), JSON_OK },
	{ S("1E+2"), JSON_OK },
	{ S("1e-2"), JSON_OK },
	{ S("-12.5e+300"), JSON_OK },
	{ S("1e999999999999999999999"), JSON_OK },
	{ S("123456789012345678901234567890"), JSON_OK },
	{ S("[0,-0,0.5,10,1e1]"), JSON_OK },
	{ S("01"), JSON_E_SYNTAX },
	{ S("-01"), JSON_E_SYNTAX },
	{ S("00"), JSON_E_SYNTAX },
	{ S("[01]"), JSON_E_SYNTAX },
	{ S("+1"), JSON_E_SYNTAX },
	{ S(".5"), JSON_E_SYNTAX },
	{ S("1."), JSON_E_TRUNCATED },
	{ S("[1.]"), JSON_E_SYNTAX },
	{ S("1.e5"), JSON_E_SYNTAX },
	{ S("-"), JSON_E_TRUNCATED },
	{ S("[-]"), JSON_E_SYNTAX },
	{ S("- 1"), JSON_E_SYNTAX },
	{ S("--1"), JSON_E_SYNTAX },
	{ S("1e"), JSON_E_TRUNCATED },
	{ S("[1e]"), JSON_E_SYNTAX },
	{ S("1e+"), JSON_E_TRUNCATED },
	{ S("[1e+]"), JSON_E_SYNTAX },
	{ S("1e5.0"), JSON_E_TRAILING },
	{ S("0x10"), JSON_E_TRAILING },
	{ S("[0x10]"), JSON_E_SYNTAX },
	{ S("NaN"), JSON_E_SYNTAX },
	{ S("Infinity"), JSON_E_SYNTAX },
	{ S("-Infinity"), JSON_E_SYNTAX },
	{ S("[1 2]"), JSON_E_SYNTAX },
	/* literals */
	{ S("t"), JSON_E_TRUNCATED },
	{ S("tru"), JSON_E_TRUNCATED },
	{ S("nul"), JSON_E_TRUNCATED },
	{ S("fals"), JSON_E_TRUNCATED },
	{ S("True"), JSON_E_SYNTAX },
	{ S("trux"), JSON_E_SYNTAX },
	{ S("nulll"), JSON_E_TRAILING },
	{ S("[nulll]"), JSON_E_SYNTAX },
	/* strings: escapes */
	{ S("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), JSON_OK },
	{ S("\"\\u0041\\u00e9\\u00E9\\uFFFF\\u0000\""), JSON_OK },
	{ S("\"\\ud83d\\ude00\""), JSON_OK },
	{ S("\"\\uD834\\uDD1E\""), JSON_OK },
	{ S("\"\\udbff\\udfff\""), JSON_OK },
	{ S("\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF\""), JSON_OK },
	{ S("\"abcdefgh\\\"ijklmnopq\""), JSON_OK },
	{ S("\"abcdefghijklmno\\\\\""), JSON_OK },
	{ S("\"\x7f~ !#$%&'()*+,-./:;<=>?@[]^_`{|}\""), JSON_OK },
	{ S("\"\\x41\""), JSON_E_SYNTAX },
	{ S("\"\\a\""), JSON_E_SYNTAX },
	{ S("\"\\'\""), JSON_E_SYNTAX },
	{ S("\"\\U0041\""), JSON_E_SYNTAX },
	{ S("\"\\u12\""), JSON_E_SYNTAX },
	{ S("\"\\u12g4\""), JSON_E_SYNTAX },
	{ S("\"\\"), JSON_E_TRUNCATED },
	{ S("\"\\u12"), JSON_E_TRUNCATED },
	{ S("\"abc"), JSON_E_TRUNCATED },
	{ S("\"abcdefghijklmnopqrstuvwxyz"), JSON_E_TRUNCATED },
	{ S("\"a\tb\""), JSON_E_SYNTAX },
	{ S("\"a\nb\""), JSON_E_SYNTAX },
	{ S("\"abcdefghijk\x1fmnop\""), JSON_E_SYNTAX },
	{ S("\"a\0b\""), JSON_E_SYNTAX },
	{ S("'a'"), JSON_E_SYNTAX },
	/* strings: surrogates */
	{ S("\"\\ud800\""), JSON_E_UTF8 },
	{ S("\"\\udc00\""), JSON_E_UTF8 },
	{ S("\"\\udfff\\ud800\""), JSON_E_UTF8 },
	{ S("\"\\ud800\\u0041\""), JSON_E_UTF8 },
	{ S("\"\\ud800\\ud800\""), JSON_E_UTF8 },
	{ S("\"\\ud800\\ue000\""), JSON_E_UTF8 },
	{ S("\"\\ud800x\""), JSON_E_UTF8 },
	{ S("\"\\ud800\\n\""), JSON_E_UTF8 },
	{ S("\"\\ud800"), JSON_E_TRUNCATED },
	{ S("\"\\ud800\\"), JSON_E_TRUNCATED },
	{ S("\"\\ud800\\u"), JSON_E_TRUNCATED },
	{ S("\"\\ud800\\udc0"), JSON_E_TRUNCATED },
	/* strings: raw UTF-8 */
	{ S("\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""), JSON_OK },
	{ S("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\""), JSON_OK },
	{ S("\"\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""),
	    JSON_OK },
	{ S("\"\x80\""), JSON_E_UTF8 },
	{ S("\"\xbf\""), JSON_E_UTF8 },
	{ S("\"\xc0\xaf\""), JSON_E_UTF8 },
	{ S("\"\xc1\xbf\""), JSON_E_UTF8 },
	{ S("\"\xe0\x80\xaf\""), JSON_E_UTF8 },
	{ S("\"\xe0\x9f\xbf\""), JSON_E_UTF8 },
	{ S("\"\xf0\x80\x80\xaf\""), JSON_E_UTF8 },
	{ S("\"\xf0\x8f\xbf\xbf\""), JSON_E_UTF8 },
	{ S("\"\xed\xa0\x80\""), JSON_E_UTF8 },
	{ S("\"\xed\xbf\xbf\""), JSON_E_UTF8 },
	{ S("\"\xf4\x90\x80\x80\""), JSON_E_UTF8 },
	{ S("\"\xf5\x80\x80\x80\""), JSON_E_UTF8 },
	{ S("\"\xf8\x88\x80\x80\x80\""), JSON_E_UTF8 },
	{ S("\"\xfe\""), JSON_E_UTF8 },
	{ S("\"\xff\""), JSON_E_UTF8 },
	{ S("\"\xc3\""), JSON_E_UTF8 },
	{ S("\"\xe2\x82\""), JSON_E_UTF8 },
	{ S("\"\xc3\xa9\xa9\""), JSON_E_UTF8 },
	{ S("\"abcdefghij\xc3(klmnop\""), JSON_E_UTF8 },
	{ S("\"\xc3"), JSON_E_TRUNCATED },
	{ S("\"\xe2\x82"), JSON_E_TRUNCATED },
	{ S("\"\xf0\x9f\x98"), JSON_E_TRUNCATED },
	/* trailing bytes */
	{ S("{}x"), JSON_E_TRAILING },
	{ S("{}}"), JSON_E_TRAILING },
	{ S("{} {}"), JSON_E_TRAILING },
	{ S("[]]"), JSON_E_TRAILING },
	{ S("{}\0"), JSON_E_TRAILING },
	{ S("{} // c"), JSON_E_TRAILING },
	{ S("\"a\"\"b\""), JSON_E_TRAILING },
	{ S("1 2"), JSON_E_TRAILING },
	/* truncation */
	{ S("{"), JSON_E_TRUNCATED },
	{ S("["), JSON_E_TRUNCATED },
	{ S("{\"a\""), JSON_E_TRUNCATED },
	{ S("{\"a\":"), JSON_E_TRUNCATED },
	{ S("{\"a\":\"xx"), JSON_E_TRUNCATED },
	{ S("{\"a\":1"), JSON_E_TRUNCATED },
	{ S("{\"a\":1,"), JSON_E_TRUNCATED },
	{ S("{\"a\":1, "), JSON_E_TRUNCATED },
	{ S("[1,"), JSON_E_TRUNCATED },
	{ S("[[[]]"), JSON_E_TRUNCATED },
};

/* Offsets reported with the error (json_validate's err_off). */
static const struct {
	const char *in;
	size_t len;
	enum json_err want;
	size_t off;
} offcases[] = {
	{ S("{\"a\":01}"), JSON_E_SYNTAX, 5 },
	{ S("[1,]"), JSON_E_SYNTAX, 3 },
	{ S("{}  x"), JSON_E_TRAILING, 4 },
	{ S("{\"a\":"), JSON_E_TRUNCATED, 5 },
	{ S("[\"ab\xff\"]"), JSON_E_UTF8, 4 },
	{ S("[\"a\\q\"]"), JSON_E_SYNTAX, 3 },
	{ S("[\"\\ud800\"]"), JSON_E_UTF8, 2 },
	{ S("[tru]"), JSON_E_SYNTAX, 1 },
};

/* Valid objects: every prefix is checked, and they seed the mutations. */
static const struct {
	const char *in;
	size_t len;
} docs[] = {
	{ S("{\"topic\":\"T\",\"event\":\"E\",\"message_id\":\"\","
	    "\"data\":{\"x\":[1,2,{\"y\":null}]}}") },
	{ S("{\"a\":[true,false,null,-0.5e+10,\"\\u00e9\\ud83d\\ude00\\n\"],"
	    "\"b\":{\"c\":{}},\"d\":\"\xc3\xa9\xf0\x9f\x98\x80\"}") },
	{ S(" { \"k\" : [ 1 , 2 ] ,\n\t\"s\" : \"x y\" } \r\n") },
	{ S("{\"n\":1e-7,\"z\":0,\"q\":\"\\\\\\\"\",\"u\":\"\\uD834\\uDD1E\","
	    "\"long\":\"abcdefghijklmnopqrstuvwxyz\"}") },
};

static const struct {
	const char *in;
	size_t len;
	int ret;
	uint64_t val;
	enum json_type type;
} uintcases[] = {
	{ S("0"), 0, 0, JSON_NUMBER },
	{ S("42"), 0, 42, JSON_NUMBER },
	{ S("18446744073709551615"), 0, UINT64_MAX, JSON_NUMBER },
	{ S("18446744073709551616"), -1, 0, JSON_NUMBER },
	{ S("99999999999999999999"), -1, 0, JSON_NUMBER },
	{ S("-1"), -1, 0, JSON_NUMBER },
	{ S("-0"), -1, 0, JSON_NUMBER },
	{ S("1.0"), -1, 0, JSON_NUMBER },
	{ S("1e3"), -1, 0, JSON_NUMBER },
	{ S("01"), -1, 0, JSON_NUMBER },
	{ S(""), -1, 0, JSON_NUMBER },
	{ S("5"), -1, 0, JSON_STRING },
};

/* Tests per section, so the plan stays right when a table grows. */
#define N_WALK 26
#define N_WALK_ERR 10
#define N_DEPTH 8
#define N_STR_EQ 11
#define N_DECODE 10
#define N_COMPACT 10
#define N_ESCAPE 8
#define N_MISC 3
#define N_MUTATE 3

/* dup - an exactly sized heap copy, so ASan flags any read past the end. */
static char *
dup(const char *s, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		tap_bail("out of memory");
	if (n > 0)
		memcpy(p, s, n);
	return p;
}

/* show - a printable, bounded rendering of input for test names. */
static const char *
show(const char *s, size_t n)
{
	static char bufs[2][200];
	static int which;
	char *out = bufs[which ^= 1];
	size_t i, o = 0;
	unsigned char ch;

	for (i = 0; i < n && o + 8 < sizeof(bufs[0]); i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '#' && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02x", ch);
	}
	if (i < n)
		memcpy(out + o, "...", 4);
	else
		out[o] = '\0';
	return out;
}

/* validate_copy - json_validate on an exactly sized copy. */
static enum json_err
validate_copy(const char *s, size_t n, size_t *off)
{
	char *p = dup(s, n);
	enum json_err e = json_validate(p, n, off);

	free(p);
	return e;
}

/* walk - iterate every member; returns the iterator's error (JSON_OK). */
static enum json_err
walk(const char *buf, size_t n, size_t *off)
{
	struct json_iter it;
	struct json_span k, v;
	int r;

	*off = 0;
	if (json_object_begin(&it, buf, n) < 0) {
		*off = it.err_off;
		return it.err;
	}
	while ((r = json_object_next(&it, &k, &v)) == 1)
		;
	if (r == 0)
		return JSON_OK;
	*off = it.err_off;
	return it.err;
}

/* walk_copy - walk on an exactly sized copy. */
static enum json_err
walk_copy(const char *s, size_t n, size_t *off)
{
	char *p = dup(s, n);
	enum json_err e = walk(p, n, off);

	free(p);
	return e;
}

/* starts_object - whether the first non-whitespace byte is '{'. */
static int
starts_object(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i < n && s[i] == '{';
}

/* test_table - every vcase, then walk/validate agreement on objects. */
static void
test_table(void)
{
	size_t i, off, woff = 0, vo;
	enum json_err e, we = JSON_OK;
	int bad = -1;

	for (i = 0; i < NELEM(vcases); i++) {
		e = validate_copy(vcases[i].in, vcases[i].len, &off);
		tap_is_int(e, vcases[i].want, "validate '%s' -> %s",
		    show(vcases[i].in, vcases[i].len),
		    json_strerror(vcases[i].want));
	}
	for (i = 0; i < NELEM(vcases) && bad < 0; i++) {
		if (!starts_object(vcases[i].in, vcases[i].len))
			continue;
		e = validate_copy(vcases[i].in, vcases[i].len, &vo);
		we = walk_copy(vcases[i].in, vcases[i].len, &woff);
		if (e != we || vo != woff) {
			bad = (int)i;
			off = vo;
		}
	}
	if (bad < 0) {
		tap_ok(1, "walk agrees with validate on every object in the table");
	} else {
		tap_is_int(we, e, "walk agrees with validate on '%s'",
		    show(vcases[bad].in, vcases[bad].len));
		tap_diag("  offsets: walk %zu, validate %zu", woff, off);
	}
	for (i = 0; i < NELEM(offcases); i++) {
		e = validate_copy(offcases[i].in, offcases[i].len, &off);
		tap_is_int((long long)e * 100000 + (long long)off,
		    (long long)offcases[i].want * 100000 + (long long)offcases[i].off,
		    "validate '%s' -> %s at offset %zu (error*100000+offset)",
		    show(offcases[i].in, offcases[i].len),
		    json_strerror(offcases[i].want), offcases[i].off);
	}
}

/* close_end - offset just past the final '}' of a valid object document. */
static size_t
close_end(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] != '}')
		n--;
	return n;
}

/* test_prefixes - every prefix: TRUNCATED at its length, or OK if whole. */
static void
test_prefixes(void)
{
	size_t d, l, off, full;
	enum json_err want = JSON_OK, got = JSON_OK;
	int pass;

	for (d = 0; d < NELEM(docs); d++) {
		full = close_end(docs[d].in, docs[d].len);
		for (int mode = 0; mode < 2; mode++) {
			pass = 1;
			for (l = 0; l <= docs[d].len && pass; l++) {
				want = l >= full ? JSON_OK : JSON_E_TRUNCATED;
				got = mode == 0 ?
				    validate_copy(docs[d].in, l, &off) :
				    walk_copy(docs[d].in, l, &off);
				if (got != want || (want == JSON_E_TRUNCATED &&
				    off != l))
					pass = 0;
			}
			if (pass) {
				tap_ok(1, "%s: all %zu prefixes of doc %zu give "
				    "truncated (or ok once complete)",
				    mode == 0 ? "validate" : "walk",
				    docs[d].len + 1, d);
				continue;
			}
			l--;
			tap_is_int(got, want, "%s: prefix of length %zu of doc "
			    "%zu ('%s')", mode == 0 ? "validate" : "walk", l, d,
			    show(docs[d].in, l));
			tap_diag("  error offset %zu, prefix length %zu", off, l);
		}
	}
}

/* check_member - one json_object_next result against expectations. */
static void
check_member(struct json_iter *it, const char *key, enum json_type type,
    const char *val)
{
	struct json_span k = { 0 }, v = { 0 };
	int r = json_object_next(it, &k, &v);

	tap_is_int(r, 1, "next returns a member for key %s", key);
	tap_is_mem(k.p, k.len, key, strlen(key), "key %s", key);
	tap_is_int(v.type, type, "type of %s", key);
	tap_is_mem(v.p, v.len, val, strlen(val), "value span of %s", key);
}

/* test_walk - the members of a publish-like frame, byte for byte. */
static void
test_walk(void)
{
	static const char doc[] = "{\"topic\":\"T\",\"event\":\"E\","
	    "\"message_id\":\"\",\"data\":{\"x\":[1,2,{\"y\":null}]}}";
	char *buf = dup(doc, sizeof(doc) - 1);
	struct json_iter it, in;
	struct json_span k, v, data;
	int r;

	tap_is_int(json_object_begin(&it, buf, sizeof(doc) - 1), 0, "begin");
	check_member(&it, "topic", JSON_STRING, "T");
	check_member(&it, "event", JSON_STRING, "E");
	check_member(&it, "message_id", JSON_STRING, "");
	data.p = NULL;
	r = json_object_next(&it, &k, &data);
	tap_is_int(r, 1, "next returns data");
	tap_is_mem(k.p, k.len, "data", 4, "key data");
	tap_is_int(data.type, JSON_OBJECT, "data is an object");
	tap_is_mem(data.p, data.len, S("{\"x\":[1,2,{\"y\":null}]}"),
	    "data value span");
	tap_is_int(json_object_next(&it, &k, &v), 0, "next at the end -> 0");
	tap_is_int(json_object_next(&it, &k, &v), 0, "next again -> 0");
	tap_is_int(json_object_begin(&in, data.p, data.len), 0, "begin on data");
	check_member(&in, "x", JSON_ARRAY, "[1,2,{\"y\":null}]");
	tap_is_int(json_object_next(&in, &k, &v), 0, "data has one member");
	tap_is_int(k.escaped, 0, "plain key not marked escaped");
	free(buf);
}

/* test_walk_errors - begin errors and sticky next errors. */
static void
test_walk_errors(void)
{
	static const char bad[] = "{\"a\":1,\"b\":}";
	char *buf = dup(bad, sizeof(bad) - 1);
	struct json_iter it;
	struct json_span k, v;

	json_object_begin(&it, buf, sizeof(bad) - 1);
	tap_is_int(json_object_next(&it, &k, &v), 1, "first member ok");
	tap_is_int(json_object_next(&it, &k, &v), -1, "missing value -> -1");
	tap_is_int(it.err, JSON_E_SYNTAX, "missing value is a syntax error");
	tap_is_int((long long)it.err_off, 11, "error offset at the '}'");
	tap_is_int(json_object_next(&it, &k, &v), -1, "error is sticky");
	free(buf);

	buf = dup("[1]", 3);
	tap_is_int(json_object_begin(&it, buf, 3), -1, "begin on array -> -1");
	tap_is_int(it.err, JSON_E_NOT_OBJECT, "array is not an object");
	tap_is_int(json_object_next(&it, &k, &v), -1, "next after failed begin");
	free(buf);

	buf = dup(" {} x", 5);
	json_object_begin(&it, buf, 5);
	tap_is_int(json_object_next(&it, &k, &v), -1, "'{} x' -> -1");
	tap_is_int(it.err, JSON_E_TRAILING, "'{} x' is trailing data");
	free(buf);
}

/* nest - a document of n nested arrays or {"a":...} objects. */
static size_t
nest(char *out, int n, int obj)
{
	size_t o = 0;
	int i;

	for (i = 0; i < n; i++) {
		memcpy(out + o, obj ? "{\"a\":" : "[", obj ? 5 : 1);
		o += obj ? 5 : 1;
	}
	out[o++] = '1';
	for (i = 0; i < n; i++)
		out[o++] = obj ? '}' : ']';
	return o;
}

/* test_depth - exactly JSON_MAX_DEPTH levels pass, one more fails. */
static void
test_depth(void)
{
	char buf[(JSON_MAX_DEPTH + 2) * 6 + 2];
	size_t n, off;
	int obj, extra;

	for (obj = 0; obj < 2; obj++) {
		for (extra = 0; extra < 2; extra++) {
			n = nest(buf, JSON_MAX_DEPTH + extra, obj);
			tap_is_int(validate_copy(buf, n, &off),
			    extra ? JSON_E_DEPTH : JSON_OK,
			    "validate %d nested %s", JSON_MAX_DEPTH + extra,
			    obj ? "objects" : "arrays");
		}
	}
	for (extra = 0; extra < 2; extra++) {
		n = nest(buf, JSON_MAX_DEPTH + extra, 1);
		tap_is_int(walk_copy(buf, n, &off), extra ? JSON_E_DEPTH : JSON_OK,
		    "walk %d nested objects", JSON_MAX_DEPTH + extra);
	}
	/* An object holding 31 nested arrays reaches depth 32. */
	n = nest(buf + 5, JSON_MAX_DEPTH - 1, 0);
	memcpy(buf, "{\"a\":", 5);
	buf[5 + n] = '}';
	tap_is_int(walk_copy(buf, n + 6, &off), JSON_OK,
	    "walk: object + %d arrays", JSON_MAX_DEPTH - 1);
	n = nest(buf + 5, JSON_MAX_DEPTH, 0);
	buf[5 + n] = '}';
	tap_is_int(walk_copy(buf, n + 6, &off), JSON_E_DEPTH,
	    "walk: object + %d arrays", JSON_MAX_DEPTH);
}

/* first_value - the value of "k" in {"k":<text>}; valid until next call. */
static struct json_span
first_value(const char *text, size_t n)
{
	static char buf[4096];
	struct json_iter it;
	struct json_span k, v = { 0 };

	if (n + 7 > sizeof(buf))
		tap_bail("first_value: input too long");
	memcpy(buf, "{\"k\":", 5);
	memcpy(buf + 5, text, n);
	buf[5 + n] = '}';
	if (json_object_begin(&it, buf, n + 6) < 0 ||
	    json_object_next(&it, &k, &v) != 1)
		tap_bail("first_value: '%s' does not parse", show(text, n));
	return v;
}

/* test_str_eq - comparison honours escapes and never matches past lit. */
static void
test_str_eq(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *lit;
		int want;
	} c[] = {
		{ S("\"\\u0061ction\""), "action", 1 },
		{ S("\"action\""), "action", 1 },
		{ S("\"actio\""), "action", 0 },
		{ S("\"action\""), "actio", 0 },
		{ S("\"\\u0061ctio\""), "action", 0 },
		{ S("\"\\u0000\""), "", 0 },
		{ S("\"a\\u0000\""), "a", 0 },
		{ S("\"\\/\\n\""), "/\n", 1 },
		{ S("\"\\ud83d\\ude00!\""), "\xf0\x9f\x98\x80!", 1 },
		{ S("\"\\u00e9\""), "\xc3\xa9", 1 },
		{ S("\"\""), "", 1 },
	};
	struct json_span v;
	size_t i;

	for (i = 0; i < NELEM(c); i++) {
		v = first_value(c[i].in, c[i].len);
		tap_is_int(json_str_eq(&v, c[i].lit), c[i].want,
		    "str_eq(%s, '%s')", show(c[i].in, c[i].len),
		    show(c[i].lit, strlen(c[i].lit)));
	}
}

/* test_decode - decoded bytes, NULs, and the cap limit. */
static void
test_decode(void)
{
	char out[64];
	struct json_span v;
	long n;

	v = first_value(S("\"\\ud83d\\ude00\""));
	n = json_str_decode(&v, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("\xf0\x9f\x98\x80"),
	    "surrogate pair decodes to 4-byte UTF-8");
	tap_is_int(json_str_decode(&v, out, 3), -1, "cap 3 for 4 bytes -> -1");
	tap_is_int(json_str_decode(&v, out, 4), 4, "cap 4 for 4 bytes fits");
	v = first_value(S("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\""));
	n = json_str_decode(&v, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("a\"b\\c/d\b\f\n\r\te"),
	    "short escapes decode");
	v = first_value(S("\"\\u0000x\\u00e9\\u20ac\""));
	n = json_str_decode(&v, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("\0x\xc3\xa9\xe2\x82\xac"),
	    "\\u escapes decode to 1, 2 and 3 bytes");
	v = first_value(S("\"hello\""));
	tap_is_int(json_str_decode(&v, out, 5), 5, "plain string, exact cap");
	tap_is_int(json_str_decode(&v, out, 4), -1, "plain string, cap short");
	v = first_value(S("\"\""));
	tap_is_int(json_str_decode(&v, NULL, 0), 0, "empty string, cap 0");
	v = first_value(S("\"ab\\ncd\""));
	tap_is_int(json_str_decode(&v, out, 4), -1, "escape past cap -> -1");
	tap_is_int(json_str_decode(&v, out, 5), 5, "escape fits exactly");
}

/* compact_is - json_compact of v equals want (and fits exactly). */
static void
compact_is(const struct json_span *v, const char *want, const char *name)
{
	char out[256];
	long n = json_compact(v, out, sizeof(out));

	tap_is_mem(out, n < 0 ? 0 : (size_t)n, want, strlen(want), "%s", name);
}

/* test_compact - whitespace goes, string contents stay byte for byte. */
static void
test_compact(void)
{
	static const char spaced[] = "{ \"a\" : [ 1 , \"x y\" ] }";
	char *buf = dup(spaced, sizeof(spaced) - 1);
	char out[64];
	struct json_iter it;
	struct json_span k, v;
	size_t len;

	json_object_begin(&it, buf, sizeof(spaced) - 1);
	json_object_next(&it, &k, &v);
	compact_is(&k, "\"a\"", "key gets its quotes back");
	compact_is(&v, "[1,\"x y\"]", "array value loses its spaces");
	tap_is_int(json_compact(&v, out, 8), -1, "cap one short -> -1");
	tap_is_int(json_compact(&v, out, 9), 9, "exact cap fits");
	tap_is_int(json_compact(&k, out, 2), -1, "key with cap 2 -> -1");
	free(buf);

	v = first_value(S(" { \"a\" : [ 1 , \"x y\" ] } "));
	compact_is(&v, "{\"a\":[1,\"x y\"]}", "whole object compacts");
	v = first_value(S("[ \"a \\\" b\" ,\t\"\\\\\" ,\n\"\\\\ \\\"\" ]"));
	compact_is(&v, "[\"a \\\" b\",\"\\\\\",\"\\\\ \\\"\"]",
	    "escaped quotes and backslashes do not end strings early");
	v = first_value(S("\"x \\n y\""));
	compact_is(&v, "\"x \\n y\"", "string value is copied raw");
	v = first_value(S("-0.5e+10"));
	compact_is(&v, "-0.5e+10", "number is copied");
	len = strlen(docs[0].in);
	v = first_value(docs[0].in, len);
	compact_is(&v, docs[0].in, "compact input reproduces itself");
}

/* test_escape - short forms, \u00XX, pass-through, cap, round trip. */
static void
test_escape(void)
{
	static const char ctl[] = "\b\f\n\r\t\x01\x1f\0";
	char out[2048], src[128];
	struct json_span v;
	long n;
	int i;

	n = json_escape(S("a\"b\\c"), out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("\"a\\\"b\\\\c\""),
	    "quote and backslash");
	n = json_escape(ctl, sizeof(ctl) - 1, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n,
	    S("\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u0000\""), "control bytes");
	n = json_escape(S("\xc3\xa9\x7f/"), out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("\"\xc3\xa9\x7f/\""),
	    "UTF-8, DEL and slash pass through");
	n = json_escape("", 0, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, S("\"\""), "empty string");
	tap_is_int(json_escape(S("a\n"), out, 4), -1, "cap one short -> -1");
	tap_is_int(json_escape(S("a\n"), out, 5), 5, "exact cap fits");
	tap_is_int(json_escape("", 0, out, 1), -1, "cap 1 cannot hold quotes");
	for (i = 0; i < 128; i++)
		src[i] = (char)i;
	n = json_escape(src, sizeof(src), out, sizeof(out));
	v = first_value(out, n < 0 ? 0 : (size_t)n);
	n = json_str_decode(&v, out, sizeof(out));
	tap_is_mem(out, n < 0 ? 0 : (size_t)n, src, sizeof(src),
	    "bytes 0..127 survive escape then decode");
}

/* test_uint - json_uint on spans from the scanner and a hand-made one. */
static void
test_uint(void)
{
	struct json_span v;
	uint64_t x;
	size_t i;
	int r;

	for (i = 0; i < NELEM(uintcases); i++) {
		v.p = uintcases[i].in;
		v.len = uintcases[i].len;
		v.type = uintcases[i].type;
		v.escaped = 0;
		x = 12345;
		r = json_uint(&v, &x);
		tap_is_int(r, uintcases[i].ret, "json_uint('%s')%s",
		    uintcases[i].in,
		    uintcases[i].type == JSON_STRING ? " on a string span" : "");
		if (uintcases[i].ret == 0)
			tap_ok(x == uintcases[i].val, "json_uint('%s') value: "
			    "got %llu, expected %llu", uintcases[i].in,
			    (unsigned long long)x,
			    (unsigned long long)uintcases[i].val);
	}
}

/* test_misc - strerror and a large frame. */
static void
test_misc(void)
{
	enum json_err e, f;
	const char *s;
	char *big;
	size_t n = 0, off, i;
	int distinct = 1;

	for (e = JSON_OK; e <= JSON_E_UTF8; e++) {
		for (f = JSON_OK; f < e; f++)
			if (strcmp(json_strerror(e), json_strerror(f)) == 0)
				distinct = 0;
	}
	tap_ok(distinct, "json_strerror phrases are distinct");
	s = json_strerror(JSON_E_DEPTH);
	tap_ok(s != NULL && *s >= 'a' && *s <= 'z', "json_strerror lowercase: "
	    "got '%s'", s ? s : "(null)");

	big = malloc(65536);
	if (big == NULL)
		tap_bail("out of memory");
	memcpy(big, "{\"data\":\"", 9);
	n = 9;
	for (i = 0; n < 40000; i++) {
		s = i % 7 ? "plain ascii text " : "\xc3\xa9\\n\xe2\x82\xac ";
		memcpy(big + n, s, strlen(s));
		n += strlen(s);
	}
	memcpy(big + n, "\",\"n\":[", 7);
	n += 7;
	for (i = 0; n < 65000; i++)
		n += (size_t)snprintf(big + n, 65536 - n, "%zu,", i);
	memcpy(big + n - 1, "]}", 2);
	n++;
	tap_is_int(walk(big, n, &off), JSON_OK, "a %zu-byte frame walks", n);
	free(big);
}

/* rnd - xorshift64*, fixed seed, so failures reproduce. */
static uint64_t
rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ULL;

	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s * 0x2545f4914f6cdd1dULL;
}

/* mutate - flip, replace, insert or delete a few bytes of buf in place. */
static size_t
mutate(char *buf, size_t n, size_t cap)
{
	static const char pick[] = "\"\\{}[],:0-1e.u \t\x80\xc3\xed\xf4\xbfntf";
	int k, times = 1 + (int)(rnd() % 4);
	size_t at;

	for (k = 0; k < times; k++) {
		at = n > 0 ? (size_t)(rnd() % n) : 0;
		switch (rnd() % 5) {
		case 0:
			if (n > 0)
				buf[at] ^= (char)(1u << (rnd() % 8));
			break;
		case 1:
			if (n > 0)
				buf[at] = pick[rnd() % (sizeof(pick) - 1)];
			break;
		case 2:
			if (n < cap) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = rnd() % 2 ? pick[rnd() %
				    (sizeof(pick) - 1)] : (char)rnd();
				n++;
			}
			break;
		case 3:
			if (n > 0) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
			break;
		default:
			n = at;	/* cut off the tail */
			break;
		}
	}
	return n;
}

/* check_values - compacted member values validate and compact to self. */
static int
check_values(const char *buf, size_t n)
{
	struct json_iter it;
	struct json_span k, v, c;
	char out[512], again[512], key[512];
	long m;

	json_object_begin(&it, buf, n);
	while (json_object_next(&it, &k, &v) == 1) {
		if (json_str_decode(&k, key, sizeof(key)) < 0)
			return 0;
		m = json_compact(&v, out, sizeof(out));
		if (m < 0 || json_validate(out, (size_t)m, NULL) != JSON_OK)
			return 0;
		c = v;
		c.p = out;
		c.len = (size_t)m;
		if (v.type == JSON_STRING) {
			c.p = out + 1;
			c.len = (size_t)m - 2;
		}
		if (json_compact(&c, again, sizeof(again)) != m ||
		    memcmp(out, again, (size_t)m) != 0)
			return 0;
	}
	return 1;
}

/* test_mutations - validate and walk agree and never overread. */
static void
test_mutations(void)
{
	char work[512], *p;
	size_t n, d, voff, woff;
	enum json_err ve, we;
	long iter, valid = 0, objects = 0;
	long bad_agree = -1, bad_compact = -1;

	for (iter = 0; iter < 200000; iter++) {
		d = (size_t)(rnd() % NELEM(docs));
		memcpy(work, docs[d].in, docs[d].len);
		n = mutate(work, docs[d].len, sizeof(work));
		p = dup(work, n);
		ve = json_validate(p, n, &voff);
		if (starts_object(p, n)) {
			objects++;
			we = walk(p, n, &woff);
			if ((we != ve || woff != voff) && bad_agree < 0) {
				bad_agree = iter;
				tap_diag("iteration %ld: '%s'", iter, show(p, n));
				tap_diag("  validate: %s at %zu; walk: %s at %zu",
				    json_strerror(ve), voff, json_strerror(we),
				    woff);
			}
			if (ve == JSON_OK && !check_values(p, n) &&
			    bad_compact < 0) {
				bad_compact = iter;
				tap_diag("iteration %ld: compact failed on '%s'",
				    iter, show(p, n));
			}
		}
		if (ve == JSON_OK)
			valid++;
		free(p);
	}
	tap_is_int(bad_agree, -1, "walk and validate agree on %ld mutated "
	    "objects (first bad iteration, -1 = none)", objects);
	tap_is_int(bad_compact, -1, "values of valid mutants compact and "
	    "re-validate (first bad iteration, -1 = none)");
	tap_ok(valid > 100 && valid < 190000, "mutations gave both valid and "
	    "invalid documents: got %ld valid of 200000", valid);
}

int
main(void)
{
	size_t n_uint_ok = 0, i;

	for (i = 0; i < NELEM(uintcases); i++)
		n_uint_ok += uintcases[i].ret == 0;
	tap_plan((int)(NELEM(vcases) + 1 + NELEM(offcases) + 2 * NELEM(docs) +
	    N_WALK + N_WALK_ERR + N_DEPTH + N_STR_EQ + N_DECODE + N_COMPACT +
	    N_ESCAPE + NELEM(uintcases) + n_uint_ok + N_MISC + N_MUTATE));
	test_table();
	test_prefixes();
	test_walk();
	test_walk_errors();
	test_depth();
	test_str_eq();
	test_decode();
	test_compact();
	test_escape();
	test_uint();
	test_misc();
	test_mutations();
	return tap_done();
}
