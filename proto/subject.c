/*
 * proto/subject.c - janusd topics and subscription patterns as NATS
 * subjects, and subjects back to topics (the scheme is in subject.h).
 *
 * Owns: the per-token escape and its strict inverse. Every write is
 * checked against the room left; nothing is allocated.
 * Must not know about connections, the topic table or the wire format.
 */
#include "config.h"

#include <string.h>

#include "lib/conf.h"
#include "proto/subject.h"

_Static_assert(SUBJECT_PREFIX_MAX + 3 * CONF_TOPIC_MAX + 1 <= SUBJECT_MAX,
    "every topic janusd accepts must have a subject");

/* An output cursor: bytes written so far into dst, and where to stop. */
struct subject_out {
	char *dst;
	size_t len;
	size_t cap;
};

/* subject_safe - printable ASCII that NATS reads as part of a literal token. */
static int
subject_safe(unsigned char ch)
{
	return ch >= 0x21 && ch <= 0x7e && ch != '.' && ch != '*' && ch != '>';
}

/* subject_plain - whether a token goes into a subject unchanged. */
static int
subject_plain(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || t[0] == SUBJECT_ESCAPE)
		return 0;
	for (i = 0; i < n; i++)
		if (!subject_safe((unsigned char)t[i]))
			return 0;
	return 1;
}

/* subject_put - append n bytes; -1 when they do not fit. */
static int
subject_put(struct subject_out *o, const char *p, size_t n)
{
	if (n > o->cap - o->len)
		return -1;
	memcpy(o->dst + o->len, p, n);
	o->len += n;
	return 0;
}

/* subject_put_token - one topic token, as it is or escaped. */
static int
subject_put_token(struct subject_out *o, const char *t, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;
	char esc[3];
	size_t i;

	if (subject_plain(t, n))
		return subject_put(o, t, n);
	esc[0] = SUBJECT_ESCAPE;
	if (subject_put(o, esc, 1) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)t[i];
		if (subject_safe(ch) && ch != SUBJECT_ESCAPE) {
			if (subject_put(o, t + i, 1) < 0)
				return -1;
			continue;
		}
		esc[1] = hex[ch >> 4];
		esc[2] = hex[ch & 0xf];
		if (subject_put(o, esc, 3) < 0)
			return -1;
	}
	return 0;
}

/* subject_room - the output cursor for dst: the caller's room, at most SUBJECT_MAX. */
static struct subject_out
subject_room(char *dst, size_t cap)
{
	struct subject_out o = { dst, 0, cap < SUBJECT_MAX ? cap : SUBJECT_MAX };

	return o;
}

/*
 * subject_map_tokens - prefix, then each token of src encoded (wild: "*"
 * and ">" tokens copied as wildcards).
 */
static enum subject_err
subject_map_tokens(const struct subject_map *m, const char *src, size_t len,
    int wild, char *dst, size_t cap, size_t *out)
{
	struct subject_out o = subject_room(dst, cap);
	const char *p = src, *end = src + len, *dot;
	size_t n;

	if (subject_put(&o, m->prefix, m->len) < 0)
		return SUBJECT_E_LONG;
	for (;;) {
		dot = memchr(p, '.', (size_t)(end - p));
		n = (size_t)((dot != NULL ? dot : end) - p);
		if (wild && n == 1 && (*p == '*' || *p == '>')) {
			if (*p == '>' && dot != NULL)
				return SUBJECT_E_PATTERN;
			if (subject_put(&o, p, 1) < 0)
				return SUBJECT_E_LONG;
		} else if (subject_put_token(&o, p, n) < 0) {
			return SUBJECT_E_LONG;
		}
		if (dot == NULL)
			break;
		if (subject_put(&o, ".", 1) < 0)
			return SUBJECT_E_LONG;
		p = dot + 1;
	}
	*out = o.len;
	return SUBJECT_OK;
}

enum subject_err
subject_encode(const struct subject_map *m, const char *topic, size_t len,
    char *dst, size_t cap, size_t *out)
{
	return subject_map_tokens(m, topic, len, 0, dst, cap, out);
}

enum subject_err
subject_encode_pattern(const struct subject_map *m, const char *pattern,
    size_t len, char *dst, size_t cap, size_t *out)
{
	return subject_map_tokens(m, pattern, len, 1, dst, cap, out);
}

/* subject_hexval - value of an uppercase hex digit, or -1 (the one spelling). */
static int
subject_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * subject_take_escaped - decode the body of an escaped token (after its
 * "~"), refusing any spelling subject_put_token would not write.
 */
static enum subject_err
subject_take_escaped(struct subject_out *o, const char *s, size_t n)
{
	size_t i, start = o->len;
	unsigned char ch;
	int hi, lo;
	char byte;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch != SUBJECT_ESCAPE) {
			if (!subject_safe(ch))
				return SUBJECT_E_ENCODING;
			if (subject_put(o, s + i, 1) < 0)
				return SUBJECT_E_LONG;
			continue;
		}
		if (n - i < 3 || (hi = subject_hexval(s[i + 1])) < 0 ||
		    (lo = subject_hexval(s[i + 2])) < 0)
			return SUBJECT_E_ENCODING;
		ch = (unsigned char)(hi << 4 | lo);
		/* Safe bytes are never escaped; a '.' is a separator, never in a token. */
		if ((subject_safe(ch) && ch != SUBJECT_ESCAPE) || ch == '.')
			return SUBJECT_E_ENCODING;
		byte = (char)ch;
		if (subject_put(o, &byte, 1) < 0)
			return SUBJECT_E_LONG;
		i += 2;
	}
	/* A token that needed no escape is only ever sent as it is. */
	if (subject_plain(o->dst + start, o->len - start))
		return SUBJECT_E_ENCODING;
	return SUBJECT_OK;
}

/* subject_take_token - one subject token back to its topic token. */
static enum subject_err
subject_take_token(struct subject_out *o, const char *s, size_t n)
{
	if (n > 0 && s[0] == SUBJECT_ESCAPE)
		return subject_take_escaped(o, s + 1, n - 1);
	if (!subject_plain(s, n))
		return SUBJECT_E_ENCODING;
	return subject_put(o, s, n) < 0 ? SUBJECT_E_LONG : SUBJECT_OK;
}

enum subject_err
subject_decode(const struct subject_map *m, const char *subject, size_t len,
    char *dst, size_t cap, size_t *out)
{
	struct subject_out o = { dst, 0, cap };
	const char *p, *end = subject + len, *dot;
	enum subject_err err;

	if (len > SUBJECT_MAX)
		return SUBJECT_E_LONG;
	if (len < m->len || memcmp(subject, m->prefix, m->len) != 0)
		return SUBJECT_E_FOREIGN;
	for (p = subject + m->len;; p = dot + 1) {
		dot = memchr(p, '.', (size_t)(end - p));
		err = subject_take_token(&o, p, (size_t)((dot != NULL ? dot : end) - p));
		if (err != SUBJECT_OK)
			return err;
		if (dot == NULL)
			break;
		if (subject_put(&o, ".", 1) < 0)
			return SUBJECT_E_LONG;
	}
	*out = o.len;
	return SUBJECT_OK;
}

enum subject_err
subject_map_init(struct subject_map *m, const char *prefix, size_t len)
{
	const char *p = prefix, *end = prefix + len, *dot;
	size_t i;

	m->len = 0;
	if (len == 0 || len > sizeof(m->prefix) || prefix[0] == '$' ||
	    prefix[len - 1] != '.')
		return SUBJECT_E_PREFIX;
	for (; p < end; p = dot + 1) {
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == p)
			return SUBJECT_E_PREFIX;
		for (i = 0; p + i < dot; i++)
			if (!subject_safe((unsigned char)p[i]))
				return SUBJECT_E_PREFIX;
	}
	memcpy(m->prefix, prefix, len);
	m->len = len;
	return SUBJECT_OK;
}

const char *
subject_strerror(enum subject_err err)
{
	switch (err) {
	case SUBJECT_OK:
		return "no error";
	case SUBJECT_E_PREFIX:
		return "cluster_prefix must be tokens of printable ascii other than "
		    "'.', '*' and '>', each followed by '.', not starting with '$'";
	case SUBJECT_E_LONG:
		return "subject or topic too long";
	case SUBJECT_E_PATTERN:
		return "'>' must be the last token";
	case SUBJECT_E_FOREIGN:
		return "subject outside cluster_prefix";
	case SUBJECT_E_ENCODING:
		return "subject no topic encodes to";
	}
	return "unknown error";
}
