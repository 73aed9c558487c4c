/*
 * bots/msg.c - the bytes of the messages janus-bots publishes and checks.
 *
 * Owns: building published objects and frames, building the frame a server
 * would deliver (for --floor), and checking delivered frames byte for byte.
 * Must not do I/O.
 */
#include "config.h"

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

/* msg_lit - copy a literal; the bytes written. */
#define MSG_PUT(out, n, lit) (memcpy((out) + (n), (lit), LIT_LEN(lit)), LIT_LEN(lit))

/* msg_head - "{"topic":"T","event":"janus-bots","message_id":"NONCE-" */
static size_t
msg_head(const struct msg_spec *s, char *out)
{
	size_t n = 0;

	n += MSG_PUT(out, n, "{\"topic\":\"");
	memcpy(out + n, s->topic, s->topic_len);
	n += s->topic_len;
	n += MSG_PUT(out, n, "\",\"event\":\"" MSG_EVENT "\"," MSG_ID);
	util_hex32(out + n, s->nonce);
	n += 8;
	out[n++] = '-';
	return n;
}

size_t
msg_build(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out)
{
	size_t n;

	/* printf-free: a publisher builds hundreds of thousands a second */
	n = msg_head(s, out);
	n += util_u64(out + n, seq);
	out[n++] = '-';
	util_hex32(out + n, msg_sum(s->nonce, seq, send_ns));
	n += 8;
	n += MSG_PUT(out, n, "\"," MSG_DATA);
	n += util_u64(out + n, (uint64_t)send_ns);
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

/* msg_stamp_put - {"timestamp":[M,S,U], for STAMP_US; its length. */
static size_t
msg_stamp_put(int64_t stamp_us, char *out)
{
	uint64_t sec = (uint64_t)stamp_us / 1000000;
	size_t n = 0;

	n += MSG_PUT(out, n, MSG_STAMP);
	n += util_u64(out + n, sec / 1000000);
	out[n++] = ',';
	n += util_u64(out + n, sec % 1000000);
	out[n++] = ',';
	n += util_u64(out + n, (uint64_t)stamp_us % 1000000);
	out[n++] = ']';
	out[n++] = ',';
	return n;
}

size_t
msg_deliver(const char *obj, size_t len, int64_t stamp_us, char *out)
{
	size_t n = msg_stamp_put(stamp_us, out);

	memcpy(out + n, obj + 1, len - 1);
	out[n + len - 1] = '\1';
	return n + len;
}

int
msg_cache_init(struct msg_cache *c, const struct msg_spec *s, unsigned slots)
{
	unsigned n = 1;

	memset(c, 0, sizeof(*c));
	while (n < slots)
		n *= 2;
	c->slots = n;
	/* a frame is the object, a timestamp and maybe "ack":true */
	c->cap = msg_cap(s) + 64;
	c->seq = calloc(n, sizeof(*c->seq));
	c->len = calloc(n, sizeof(*c->len));
	c->send_ns = calloc(n, sizeof(*c->send_ns));
	c->stamp_us = calloc(n, sizeof(*c->stamp_us));
	c->frames = malloc(n * c->cap);
	c->obj = malloc(c->cap);
	c->prefix = malloc(c->cap);
	if (c->seq == NULL || c->len == NULL || c->send_ns == NULL ||
	    c->stamp_us == NULL || c->frames == NULL || c->obj == NULL ||
	    c->prefix == NULL)
		return -1;
	/* the members after the timestamp start like the object without '{' */
	c->prefix_len = msg_head(s, c->prefix) - 1;
	memmove(c->prefix, c->prefix + 1, c->prefix_len);
	return 0;
}

void
msg_cache_free(struct msg_cache *c)
{
	free(c->seq);
	free(c->len);
	free(c->send_ns);
	free(c->stamp_us);
	free(c->frames);
	free(c->obj);
	free(c->prefix);
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

/* msg_members - skip a delivered "ack":true (PROTOCOL.md leaves it open). */
static const char *
msg_members(const struct msg_spec *s, const char *p, const char *end)
{
	if (s->ack && (size_t)(end - p) >= LIT_LEN(MSG_ACK) &&
	    memcmp(p, MSG_ACK, LIT_LEN(MSG_ACK)) == 0)
		p += LIT_LEN(MSG_ACK);
	return p;
}

/* msg_slot - the cache slot a frame's SEQ names, parsed at fixed offsets; -1 if none. */
static long
msg_slot(const struct msg_spec *s, const struct msg_cache *c, const char *frame,
    size_t len, uint32_t *seq)
{
	const char *p, *end = frame + len;
	uint32_t v = 0;
	unsigned i;

	if (len < LIT_LEN(MSG_STAMP) + 8 ||
	    memcmp(frame, MSG_STAMP, LIT_LEN(MSG_STAMP)) != 0)
		return -1;
	/* [M,S,U] is at most 3 x 19 digits and 2 commas */
	p = memchr(frame + LIT_LEN(MSG_STAMP), ']',
	    len - LIT_LEN(MSG_STAMP) < 64 ? len - LIT_LEN(MSG_STAMP) : 64);
	if (p == NULL)
		return -1;
	p = msg_members(s, p + 2, end);
	if ((size_t)(end - p) < c->prefix_len + 11 ||
	    memcmp(p, c->prefix, c->prefix_len) != 0)
		return -1;
	p += c->prefix_len;
	for (i = 0; i < 10 && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (uint32_t)(p[i] - '0');
	if (i == 0 || p[i] != '-')
		return -1;
	*seq = v;
	return (long)(v & (c->slots - 1));
}

/* msg_verify - the slow path: parse FRAME whole and re-create its object. */
static int
msg_verify(const struct msg_spec *s, struct msg_cache *c, const char *frame,
    size_t len, struct msg_seen *seen)
{
	const char *p, *end = frame + len;
	size_t olen;

	if ((p = msg_stamp(frame, end, &seen->stamp_us)) == NULL)
		return -1;
	p = msg_members(s, p, end);
	if (msg_ids(s, p, end, &seen->seq, &seen->send_ns) < 0)
		return -1;
	olen = msg_build(s, seen->seq, seen->send_ns, c->obj);
	/* the members after the timestamp are the object without its '{' */
	if ((size_t)(end - p) != olen - 1 || memcmp(p, c->obj + 1, olen - 1) != 0)
		return -1;
	return 0;
}

int
msg_check(const struct msg_spec *s, struct msg_cache *c, const char *frame,
    size_t len, struct msg_seen *seen)
{
	long slot;
	uint32_t seq;

	slot = msg_slot(s, c, frame, len, &seq);
	if (slot >= 0 && c->len[slot] == len && c->seq[slot] == seq &&
	    memcmp(frame, c->frames + (size_t)slot * c->cap, len) == 0) {
		seen->seq = seq;
		seen->send_ns = c->send_ns[slot];
		seen->stamp_us = c->stamp_us[slot];
		return 0;
	}
	if (msg_verify(s, c, frame, len, seen) < 0)
		return -1;
	/* keep the first good copy; a copy stamped otherwise stays slow */
	slot = (long)(seen->seq & (c->slots - 1));
	if (len <= c->cap && (c->len[slot] == 0 || c->seq[slot] != seen->seq)) {
		memcpy(c->frames + (size_t)slot * c->cap, frame, len);
		c->len[slot] = (uint32_t)len;
		c->seq[slot] = seen->seq;
		c->send_ns[slot] = seen->send_ns;
		c->stamp_us[slot] = seen->stamp_us;
	}
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
