/*
 * bots/msg.c - the bytes of the messages janus-bots publishes and checks.
 *
 * Owns: building published objects and frames, building the frame a server
 * would deliver (for --floor), and checking delivered frames byte for byte.
 * Must not do I/O.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memmem */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bots/bots.h"
#include "bots/msg.h"
#include "bots/util.h"

#define MSG_EVENT "janus-bots"
#define MSG_PART1 "<regular-socket/>\0PUBLISH\0"
#define MSG_PART1_LEN (sizeof(MSG_PART1) - 1)
#define MSG_ACTION "{\"action\":\"publish\","
#define MSG_ACK "\"ack\":true,"
#define MSG_STAMP "{\"timestamp\":["
#define MSG_ID "\"message_id\":\""
#define MSG_DATA "\"data\":\""

#define LIT_LEN(s) (sizeof(s) - 1)

void
msg_spec_init(struct msg_spec *s, const struct bots_opts *o)
{
	s->topic = o->topic;
	s->topic_len = strlen(o->topic);
	s->nonce = o->nonce;
	s->size = o->size;
	s->ack = o->ack;
}

size_t
msg_cap(const struct msg_spec *s)
{
	return s->size + s->topic_len + 256;
}

/* msg_sum - the CHECK part of a message_id. */
static uint32_t
msg_sum(uint32_t nonce, uint32_t seq, int64_t send_ns)
{
	uint32_t h = 2166136261u;

	h = util_hash(h, &nonce, sizeof(nonce));
	h = util_hash(h, &seq, sizeof(seq));
	return util_hash(h, &send_ns, sizeof(send_ns));
}

size_t
msg_build(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out)
{
	size_t n;
	int len;

	len = sprintf(out, "{\"topic\":\"%s\",\"event\":\"" MSG_EVENT "\","
	    MSG_ID "%08x-%u-%08x\"," MSG_DATA "%lld", s->topic, s->nonce, seq,
	    msg_sum(s->nonce, seq, send_ns), (long long)send_ns);
	n = (size_t)len;
	/* pad inside the data string: '.', then x up to the closing quote */
	if (s->size >= n + 3) {
		out[n] = '.';
		memset(out + n + 1, 'x', s->size - n - 3);
		n = s->size - 2;
	}
	out[n++] = '"';
	out[n++] = '}';
	return n;
}

size_t
msg_part1(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out)
{
	memcpy(out, MSG_PART1, MSG_PART1_LEN);
	return MSG_PART1_LEN + msg_build(s, seq, send_ns, out + MSG_PART1_LEN);
}

size_t
msg_part2(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out)
{
	size_t head = LIT_LEN(MSG_ACTION), n;

	memcpy(out, MSG_ACTION, head);
	if (s->ack) {
		memcpy(out + head, MSG_ACK, LIT_LEN(MSG_ACK));
		head += LIT_LEN(MSG_ACK);
	}
	/* the object's '{' lands on the ',' that ends the head: put it back */
	n = msg_build(s, seq, send_ns, out + head - 1);
	out[head - 1] = ',';
	n += head - 1;
	out[n++] = '\0';
	return n;
}

size_t
msg_deliver(const char *obj, size_t len, int64_t stamp_us, char *out)
{
	long long sec = stamp_us / 1000000;
	int n;

	n = sprintf(out, MSG_STAMP "%lld,%lld,%lld],", sec / 1000000,
	    sec % 1000000, (long long)(stamp_us % 1000000));
	memcpy(out + n, obj + 1, len - 1);
	out[(size_t)n + len - 1] = '\1';
	return (size_t)n + len;
}

int
msg_cache_init(struct msg_cache *c, const struct msg_spec *s)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->cap = msg_cap(s);
	for (i = 0; i < MSG_CACHE; i++) {
		c->obj[i] = malloc(c->cap);
		if (c->obj[i] == NULL)
			return -1;
	}
	return 0;
}

void
msg_cache_free(struct msg_cache *c)
{
	unsigned i;

	for (i = 0; i < MSG_CACHE; i++)
		free(c->obj[i]);
	memset(c, 0, sizeof(*c));
}

/* msg_uint - a plain decimal integer (no sign, no leading zero) at P. */
static const char *
msg_uint(const char *p, const char *end, uint64_t *v)
{
	const char *start = p;

	*v = 0;
	while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
		*v = *v * 10 + (uint64_t)(*p++ - '0');
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	return p;
}

/* msg_hex - exactly 8 lowercase hex digits at P. */
static const char *
msg_hex(const char *p, const char *end, uint32_t *v)
{
	int i;

	*v = 0;
	if (end - p < 8)
		return NULL;
	for (i = 0; i < 8; i++, p++) {
		if (*p >= '0' && *p <= '9')
			*v = *v << 4 | (uint32_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			*v = *v << 4 | (uint32_t)(*p - 'a' + 10);
		else
			return NULL;
	}
	return p;
}

/* msg_stamp - parse "{"timestamp":[M,S,U]," and return what follows it. */
static const char *
msg_stamp(const char *p, const char *end, int64_t *stamp_us)
{
	uint64_t mega, sec, micro;

	if ((size_t)(end - p) < LIT_LEN(MSG_STAMP) ||
	    memcmp(p, MSG_STAMP, LIT_LEN(MSG_STAMP)) != 0)
		return NULL;
	p += LIT_LEN(MSG_STAMP);
	if ((p = msg_uint(p, end, &mega)) == NULL || p >= end || *p++ != ',')
		return NULL;
	if ((p = msg_uint(p, end, &sec)) == NULL || p >= end || *p++ != ',')
		return NULL;
	if ((p = msg_uint(p, end, &micro)) == NULL || end - p < 2 ||
	    p[0] != ']' || p[1] != ',')
		return NULL;
	if (sec > 999999 || micro > 999999 || mega > 100000000)
		return NULL;
	*stamp_us = ((int64_t)mega * 1000000 + (int64_t)sec) * 1000000 +
	    (int64_t)micro;
	return p + 2;
}

/* msg_ids - find SEQ and SEND_NS in the members and verify the nonce and sum. */
static int
msg_ids(const struct msg_spec *s, const char *p, const char *end,
    uint32_t *seq, int64_t *send_ns)
{
	const char *id, *data;
	uint32_t nonce, sum;
	uint64_t v;

	id = memmem(p, (size_t)(end - p), MSG_ID, LIT_LEN(MSG_ID));
	data = memmem(p, (size_t)(end - p), MSG_DATA, LIT_LEN(MSG_DATA));
	if (id == NULL || data == NULL)
		return -1;
	id += LIT_LEN(MSG_ID);
	if ((id = msg_hex(id, end, &nonce)) == NULL || id >= end || *id++ != '-')
		return -1;
	if ((id = msg_uint(id, end, &v)) == NULL || v > UINT32_MAX ||
	    id >= end || *id++ != '-')
		return -1;
	*seq = (uint32_t)v;
	if (msg_hex(id, end, &sum) == NULL)
		return -1;
	if (msg_uint(data + LIT_LEN(MSG_DATA), end, &v) == NULL || v > INT64_MAX)
		return -1;
	*send_ns = (int64_t)v;
	if (nonce != s->nonce || sum != msg_sum(nonce, *seq, *send_ns))
		return -1;
	return 0;
}

int
msg_check(const struct msg_spec *s, struct msg_cache *c, const char *frame,
    size_t len, struct msg_seen *seen)
{
	const char *p, *end = frame + len;
	unsigned slot;

	if ((p = msg_stamp(frame, end, &seen->stamp_us)) == NULL)
		return -1;
	/* PROTOCOL.md leaves open whether "ack" is delivered: accept both */
	if (s->ack && (size_t)(end - p) >= LIT_LEN(MSG_ACK) &&
	    memcmp(p, MSG_ACK, LIT_LEN(MSG_ACK)) == 0)
		p += LIT_LEN(MSG_ACK);
	if (msg_ids(s, p, end, &seen->seq, &seen->send_ns) < 0)
		return -1;
	slot = seen->seq % MSG_CACHE;
	if (c->len[slot] == 0 || c->seq[slot] != seen->seq ||
	    c->send_ns[slot] != seen->send_ns) {
		c->len[slot] = msg_build(s, seen->seq, seen->send_ns, c->obj[slot]);
		c->seq[slot] = seen->seq;
		c->send_ns[slot] = seen->send_ns;
	}
	/* the members after the timestamp are the object without its '{' */
	if ((size_t)(end - p) != c->len[slot] - 1 ||
	    memcmp(p, c->obj[slot] + 1, c->len[slot] - 1) != 0)
		return -1;
	return 0;
}

int
msg_is_stamped(const char *frame, size_t len)
{
	return len >= LIT_LEN(MSG_STAMP) &&
	    memcmp(frame, MSG_STAMP, LIT_LEN(MSG_STAMP)) == 0;
}

int
msg_is_greeting(const char *frame, size_t len)
{
	static const char token[] = "\"token\":";
	const char *p, *end = frame + len;
	int64_t stamp;

	if ((p = msg_stamp(frame, end, &stamp)) == NULL)
		return 0;
	/* the token may be any JSON value (the 2009 server sent an array) */
	return (size_t)(end - p) > LIT_LEN(token) + 1 &&
	    memcmp(p, token, LIT_LEN(token)) == 0 && end[-1] == '}';
}
