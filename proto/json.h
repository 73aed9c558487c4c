/*
 * proto/json.h - a small strict JSON (RFC 8259) validator and scanner.
 *
 * Owns: checking that a frame is exactly one JSON object, walking its
 * top-level members, comparing and decoding strings, copying values
 * without insignificant whitespace, and escaping strings for output.
 * It never allocates and never copies more than the caller asks for;
 * spans point into the caller's buffer.
 * Must not know about actions, topics or the wire protocol: proto/request.c
 * gives the members their meaning.
 */
#ifndef JANUSD_PROTO_JSON_H
#define JANUSD_PROTO_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is rejected (bounded recursion, fuzz-safe). */
#define JSON_MAX_DEPTH 32

enum json_type {
	JSON_NONE = 0,
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
};

enum json_err {
	JSON_OK = 0,
	JSON_E_SYNTAX,     /* not JSON at all, or a malformed token */
	JSON_E_DEPTH,      /* nested deeper than JSON_MAX_DEPTH */
	JSON_E_TRAILING,   /* a complete value followed by more than whitespace */
	JSON_E_TRUNCATED,  /* input ended inside a value */
	JSON_E_NOT_OBJECT, /* valid JSON, but the top-level value is not an object */
	JSON_E_UTF8        /* invalid UTF-8 or a lone surrogate escape in a string */
};

/*
 * A value inside the caller's buffer. For a string, p/len cover the bytes
 * between the quotes, still escaped; escaped says whether a backslash occurs.
 * For other types p/len cover the whole value text (e.g. `[1, 2]`, `-0.5e3`).
 */
struct json_span {
	const char *p;
	size_t len;
	enum json_type type;
	int escaped;
};

/* Iterator over the top-level members of one object. Fields are private. */
struct json_iter {
	const char *buf;
	const char *pos;
	const char *end;
	int state;
	enum json_err err;
	size_t err_off;    /* byte offset of the error, for messages */
};

/*
 * json_object_begin - start walking the object in [buf, buf+len).
 * Leading/trailing JSON whitespace is allowed. Returns 0, or -1 with
 * it->err set (JSON_E_NOT_OBJECT if the text starts with something other
 * than '{', after whitespace).
 */
int json_object_begin(struct json_iter *it, const char *buf, size_t len);

/*
 * json_object_next - the next member. Returns 1 and fills key (a JSON_STRING
 * span) and val (the member's value, fully validated including nested
 * values and depth); 0 at the closing brace once the rest of the input is
 * only whitespace; -1 with it->err and it->err_off on any error.
 * After 0 or -1 it keeps returning the same.
 */
int json_object_next(struct json_iter *it, struct json_span *key,
    struct json_span *val);

/*
 * json_validate - check that [buf, buf+len) is exactly one JSON value
 * (any type) with optional surrounding whitespace. Returns JSON_OK or the
 * first error; *err_off (if not NULL) gets its byte offset.
 */
enum json_err json_validate(const char *buf, size_t len, size_t *err_off);

/* json_strerror - a short lowercase English phrase for an error code. */
const char *json_strerror(enum json_err err);

/*
 * json_str_eq - whether a JSON_STRING span decodes to exactly the
 * NUL-terminated string lit (escapes honoured: "\u0061ction" equals "action").
 */
int json_str_eq(const struct json_span *s, const char *lit);

/*
 * json_str_decode - decode a JSON_STRING span to UTF-8 into dst (room for
 * cap bytes; no NUL is added). Returns the decoded length, or -1 if it does
 * not fit in cap bytes. A \u0000 escape decodes to a NUL byte; callers that
 * cannot take one must check.
 */
long json_str_decode(const struct json_span *s, char *dst, size_t cap);

/*
 * json_compact - copy a validated value (any span returned by
 * json_object_next, or a key: for a JSON_STRING span the quotes are added
 * back) into dst without the whitespace between tokens; string contents
 * are copied byte for byte. Returns the bytes written, or -1 if more than
 * cap would be needed. Compacting compact input reproduces it exactly.
 */
long json_compact(const struct json_span *v, char *dst, size_t cap);

/*
 * json_escape - write src (len bytes of UTF-8) as a JSON string, with its
 * quotes, into dst. Escapes '"', '\\' and bytes below 0x20 (\n, \t etc.
 * short forms, \u00XX otherwise); other bytes are copied. Returns bytes
 * written, or -1 if more than cap would be needed.
 */
long json_escape(const char *src, size_t len, char *dst, size_t cap);

/*
 * json_uint - parse a JSON_NUMBER span that is a non-negative integer
 * (no fraction, no exponent, no sign) fitting in 64 bits. Returns 0 and
 * sets *out, or -1.
 */
int json_uint(const struct json_span *v, uint64_t *out);

#endif
