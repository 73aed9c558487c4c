/*
 * proto/request.c - what a client's frame asks for.
 *
 * Owns: the grammar of client frames. JSON frames are walked once: the
 * members we know are picked up, the rest validated and skipped.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/hash.h"
#include "proto/render.h"
#include "proto/request.h"
#include "proto/topic.h"

#define REGULAR_SOCKET "<regular-socket/>"

const char *const request_control_members[] = { "action", "ack", NULL };

/*
 * The members a JSON frame may carry that mean something to us, and the
 * message body rendered from the others on the same walk.
 */
struct req_members {
	struct json_span action, data, topic, since, epoch, version, key, ack;
	char *body;
	size_t cap, n;
	const char *const *skip;   /* members that are not part of the message */
	int overflow;
	/* every name once: a hash set of the names seen so far */
	unsigned nkeys;
	const char *bad_key;       /* why the names cannot make a message, or NULL */
	uint16_t slot[2 * REQUEST_MAX_MEMBERS];   /* index into key + 1; 0 empty */
	/* not cleared per frame: only entries below nkeys are read */
	uint32_t name_hash[REQUEST_MAX_MEMBERS];
	struct json_span name[REQUEST_MAX_MEMBERS];
};

/* req_bad - make r an error reply; returns -1 for tail calls. */
static int __attribute__((format(printf, 3, 4)))
req_bad(struct request *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->kind = REQ_BAD;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* req_word - the Part 1 frames that are plain words. */
static void
req_word(struct request *r, const char *f, size_t len)
{
	if (len == 4 && (memcmp(f, "PING", 4) == 0 || memcmp(f, "PONG", 4) == 0))
		r->kind = REQ_IGNORE;
	else if (len == 7 && memcmp(f, "PUBLISH", 7) == 0)
		r->kind = REQ_PUBLISH_NEXT;
	else
		req_bad(r, ERR_BAD_FRAME, "unknown frame (expected PING, PONG, PUBLISH or a JSON object)");
}

/* req_pick - remember a member we know; later duplicates win, as in most parsers. */
static void
req_pick(struct req_members *m, const struct json_span *key, const struct json_span *val)
{
	static const struct { const char *name; size_t off; } known[] = {
		{ "action", offsetof(struct req_members, action) },
		{ "data", offsetof(struct req_members, data) },
		{ "topic", offsetof(struct req_members, topic) },
		{ "since", offsetof(struct req_members, since) },
		{ "epoch", offsetof(struct req_members, epoch) },
		{ "version", offsetof(struct req_members, version) },
		{ "key", offsetof(struct req_members, key) },
		{ "ack", offsetof(struct req_members, ack) },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (json_str_eq(key, known[i].name))
			*(struct json_span *)((char *)m + known[i].off) = *val;
}

/* req_name_same - whether the decoded name j is the name in a (alen bytes). */
static int
req_name_same(const struct req_members *m, unsigned j, const char *a, long alen)
{
	char b[REQUEST_MAX_NAME];
	long blen = json_str_decode(&m->name[j], b, sizeof(b));

	return blen == alen && memcmp(a, b, (size_t)alen) == 0;
}

/* req_name - note a member's name; a repeated one, or one the server writes, spoils the message. */
static void
req_name(struct req_members *m, const struct json_span *key)
{
	char a[REQUEST_MAX_NAME];
	long alen;
	uint32_t h, i;

	if (m->bad_key != NULL)
		return;
	if (m->nkeys == REQUEST_MAX_MEMBERS) {
		m->bad_key = "a message may have at most 256 members";
		return;
	}
	if ((alen = json_str_decode(key, a, sizeof(a))) < 0) {
		m->bad_key = "a member name is longer than 255 bytes";
		return;
	}
	if (render_skipped(key, render_server_members)) {
		m->bad_key = "\"timestamp\" and \"seq\" are written by the server";
		return;
	}
	h = hash_bytes(0, a, (size_t)alen);
	for (i = h & (2 * REQUEST_MAX_MEMBERS - 1); m->slot[i] != 0; i = (i + 1) & (2 * REQUEST_MAX_MEMBERS - 1)) {
		if (m->name_hash[m->slot[i] - 1] == h && req_name_same(m, m->slot[i] - 1u, a, alen)) {
			m->bad_key = "a member name appears twice";
			return;
		}
	}
	m->name_hash[m->nkeys] = h;
	m->name[m->nkeys] = *key;
	m->slot[i] = (uint16_t)++m->nkeys;
}

/* req_render - add a member to the message body, unless it is a control member. */
static void
req_render(struct req_members *m, const struct json_span *key, const struct json_span *val)
{
	long k;

	if (m->overflow || render_skipped(key, m->skip))
		return;
	k = render_member(m->body + m->n, m->cap - m->n, key, val);
	if (k < 0)
		m->overflow = 1;
	else
		m->n += (size_t)k;
}

/* req_members - walk a JSON object frame, picking up known members and rendering the rest. */
static int
req_members(struct request *r, struct req_members *m, const char *f, size_t len)
{
	struct json_iter it;
	struct json_span key, val;
	int rc;

	if (json_object_begin(&it, f, len) == 0)
		while ((rc = json_object_next(&it, &key, &val)) == 1) {
			req_pick(m, &key, &val);
			req_name(m, &key);
			req_render(m, &key, &val);
		}
	if (it.err == JSON_OK)
		return 0;
	return req_bad(r, ERR_BAD_JSON, "%s at byte %zu", json_strerror(it.err), it.err_off);
}

/* req_topic - decode and check a topic: a non-empty string, no control bytes. */
static int
req_topic(struct request *r, const struct json_span *v, const char *what,
    uint32_t max_len)
{
	long n;
	long i;

	if (v->type != JSON_STRING)
		return req_bad(r, ERR_BAD_TOPIC, "\"%s\" must be a topic string", what);
	n = json_str_decode(v, r->topic, max_len);
	if (n < 0)
		return req_bad(r, ERR_BAD_TOPIC, "topic longer than %u bytes", max_len);
	if (n == 0)
		return req_bad(r, ERR_BAD_TOPIC, "empty topic");
	for (i = 0; i < n; i++)
		if ((unsigned char)r->topic[i] < 0x20)
			return req_bad(r, ERR_BAD_TOPIC, "control character in topic");
	r->topic[n] = '\0';
	r->topic_len = (uint32_t)n;
	return 0;
}

/* req_published_topic - Part 4: no wildcard or empty token in a topic published to. */
static int
req_published_topic(struct request *r)
{
	const char *why;

	if (topic_check_publish(r->topic, r->topic_len, &why) < 0)
		return req_bad(r, ERR_BAD_TOPIC, "%s", why);
	return 0;
}

/* req_subscribed_topic - Part 4: a topic or a well-formed pattern; r->pattern says which. */
static int
req_subscribed_topic(struct request *r)
{
	const char *why;
	enum topic_kind k = topic_check_pattern(r->topic, r->topic_len, &why);

	if (k == TOPIC_BAD)
		return req_bad(r, ERR_BAD_TOPIC, "%s", why);
	r->pattern = k == TOPIC_PATTERN;
	return 0;
}

/* req_since - the resume point of a subscribe, if any. */
static int
req_since(struct request *r, const struct req_members *m)
{
	if (m->since.type == JSON_NONE)
		return 0;
	if (json_uint(&m->since, &r->since) < 0)
		return req_bad(r, ERR_BAD_FRAME, "\"since\" must be a sequence number");
	if (m->epoch.type != JSON_NONE && m->epoch.type != JSON_STRING)
		return req_bad(r, ERR_BAD_FRAME, "\"epoch\" must be a string");
	r->has_since = 1;
	r->epoch = m->epoch;
	return 0;
}

/* req_publish - a message to publish; its members are rendered later. */
static void
req_publish(struct request *r, const struct req_members *m, const char *f,
    size_t len, uint32_t max_topic_len)
{
	long k;

	if (m->topic.type == JSON_NONE) {
		req_bad(r, ERR_BAD_TOPIC, "a message needs a \"topic\"");
		return;
	}
	if (req_topic(r, &m->topic, "topic", max_topic_len) < 0 || req_published_topic(r) < 0)
		return;
	if (m->ack.type != JSON_NONE && m->ack.type != JSON_TRUE && m->ack.type != JSON_FALSE) {
		req_bad(r, ERR_BAD_FRAME, "\"ack\" must be true or false");
		return;
	}
	if (m->bad_key != NULL) {
		req_bad(r, ERR_BAD_JSON, "%s", m->bad_key);
		r->bad_members = 1;
		return;
	}
	k = m->overflow ? -1 : render_body_end(m->body, m->n, m->cap);
	if (k < 0) {
		req_bad(r, ERR_TOO_LARGE, "message does not fit the body buffer");
		return;
	}
	r->kind = REQ_PUBLISH;
	r->ack = m->ack.type == JSON_TRUE;
	r->body = f;
	r->body_len = len;
	r->members = m->body;
	r->members_len = (size_t)k;
}

/* req_action - dispatch on "action". */
static void
req_action(struct request *r, const struct req_members *m, const char *f,
    size_t len, uint32_t max_topic_len)
{
	const struct json_span *a = &m->action;
	uint64_t v;

	if (a->type != JSON_STRING)
		req_bad(r, ERR_UNKNOWN_ACTION, a->type == JSON_NONE ?
		    "no \"action\" member" : "\"action\" must be a string");
	else if (json_str_eq(a, "subscribe") || json_str_eq(a, "unsubscribe")) {
		r->kind = json_str_eq(a, "subscribe") ? REQ_SUBSCRIBE : REQ_UNSUBSCRIBE;
		if (m->data.type == JSON_NONE)
			req_bad(r, ERR_BAD_TOPIC, "\"data\" must name the topic");
		else if (req_topic(r, &m->data, "data", max_topic_len) == 0 &&
		    req_subscribed_topic(r) == 0 && r->kind == REQ_SUBSCRIBE)
			req_since(r, m);
	} else if (json_str_eq(a, "publish")) {
		req_publish(r, m, f, len, max_topic_len);
	} else if (json_str_eq(a, "hello")) {
		if (json_uint(&m->version, &v) < 0 || v != 2)
			req_bad(r, ERR_BAD_FRAME, "unsupported version (this server speaks version 2)");
		else
			r->kind = REQ_HELLO;
	} else if (json_str_eq(a, "auth")) {
		if (m->key.type != JSON_STRING)
			req_bad(r, ERR_BAD_FRAME, "\"key\" must be a string");
		else {
			r->kind = REQ_AUTH;
			r->key = m->key;
		}
	} else {
		req_bad(r, ERR_UNKNOWN_ACTION, "unknown action");
	}
}

/* req_skip_marker - drop any <regular-socket/> prefixes and leading blanks. */
static const char *
req_skip_marker(const char *f, size_t *len)
{
	const size_t n = sizeof(REGULAR_SOCKET) - 1;

	for (;;) {
		while (*len > 0 && (*f == ' ' || *f == '\t' || *f == '\r' || *f == '\n')) {
			f++;
			(*len)--;
		}
		if (*len < n || memcmp(f, REGULAR_SOCKET, n) != 0)
			return f;
		f += n;
		*len -= n;
	}
}

void
request_parse(struct request *r, const char *frame, size_t len,
    int after_publish, uint32_t max_topic_len, char *body, size_t cap)
{
	struct req_members m;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, offsetof(struct req_members, name_hash));
	m.body = body;
	m.cap = cap;
	/* a Part 1 message is delivered with every member; the action form without its controls */
	m.skip = after_publish ? NULL : request_control_members;
	frame = req_skip_marker(frame, &len);
	if (len == 0)
		return;  /* only markers: ignored wherever they appear, also after PUBLISH */
	if (after_publish) {
		r->part1 = 1;
		if (frame[0] != '{')
			req_bad(r, ERR_BAD_JSON, "the frame after PUBLISH must be a JSON object");
		else if (req_members(r, &m, frame, len) == 0)
			req_publish(r, &m, frame, len, max_topic_len);
		return;
	}
	if (frame[0] != '{') {
		req_word(r, frame, len);
		return;
	}
	if (req_members(r, &m, frame, len) == 0)
		req_action(r, &m, frame, len, max_topic_len);
}
