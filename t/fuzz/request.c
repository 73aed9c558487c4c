/*
 * t/fuzz/request.c - libFuzzer harness for proto/request.c and
 * proto/render.c: what a frame asks for, and the message it makes.
 *
 * Owns: checking every accepted publish: its rendered members end with
 * `}\1` and hold no \0 or \1 before that; after a timestamp prefix they
 * are a valid JSON object, and still one with `"seq":N,` inserted after
 * the prefix (as version 2 sessions get it); they are exactly the body
 * render_message gives for the same object (the control members left
 * out of the action form, none of the Part 1 form); and, against a
 * reference that decodes and compares every name, no accepted publish
 * repeats a member name or uses timestamp or seq, while a publish is
 * refused for its members (bad_members) only when the reference finds
 * such a name, more than REQUEST_MAX_MEMBERS members or a name over
 * REQUEST_MAX_NAME bytes. Every refusal has a code and a text.
 * Input: 1 byte (bit 0: the frame follows PUBLISH; the rest: the topic
 * length limit, 0 meaning CONF_TOPIC_MAX), then the frame.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/render.h"
#include "proto/request.h"
#include "t/fuzz/fuzz.h"

#define FUZZ_PREFIX "{\"timestamp\":[1,2,3],"
#define FUZZ_SEQ    "\"seq\":18446744073709551615,"

/* A reference's verdict on an object's member names. */
struct names {
	int repeated, server, too_many, too_long;
};

/* names_check - decode every member name of obj (a valid object) and compare each pair. */
static void
names_check(const char *obj, size_t len, struct names *v)
{
	enum { MAXN = REQUEST_MAX_MEMBERS + 1 };
	static char name[MAXN][REQUEST_MAX_NAME + 1];
	static long nlen[MAXN];
	struct json_iter it;
	struct json_span k, val;
	unsigned n = 0, i, j;
	long d;

	memset(v, 0, sizeof(*v));
	FUZZ_CHECK(json_object_begin(&it, obj, len) == 0, "an accepted publish is not an object");
	while (json_object_next(&it, &k, &val) == 1) {
		if (n == MAXN) {
			v->too_many = 1;
			break;
		}
		d = json_str_decode(&k, name[n], REQUEST_MAX_NAME + 1);
		if (d < 0 || d > REQUEST_MAX_NAME) {
			v->too_long = 1;
			continue;
		}
		nlen[n] = d;
		if ((d == 9 && memcmp(name[n], "timestamp", 9) == 0) || (d == 3 && memcmp(name[n], "seq", 3) == 0))
			v->server = 1;
		n++;
	}
	if (n > REQUEST_MAX_MEMBERS)
		v->too_many = 1;
	for (i = 0; i < n && !v->repeated; i++)
		for (j = i + 1; j < n && !v->repeated; j++)
			v->repeated = nlen[i] == nlen[j] && memcmp(name[i], name[j], (size_t)nlen[i]) == 0;
}

/* check_valid - prefix, then (if seq) a seq member, then the members less their \1: valid JSON. */
static void
check_valid(const struct request *r, int seq)
{
	size_t p = sizeof(FUZZ_PREFIX) - 1, q = seq ? sizeof(FUZZ_SEQ) - 1 : 0;
	size_t n = p + q + r->members_len - 1, off = 0;
	char *msg = malloc(n);
	enum json_err err;

	FUZZ_CHECK(msg != NULL, "out of memory");
	memcpy(msg, FUZZ_PREFIX, p);
	memcpy(msg + p, FUZZ_SEQ, q);
	memcpy(msg + p + q, r->members, r->members_len - 1);
	err = json_validate(msg, n, &off);
	FUZZ_CHECK(err == JSON_OK, "the message%s is not valid JSON: %s at %zu: %.*s", seq ? " with seq" : "",
	    json_strerror(err), off, (int)n, msg);
	free(msg);
}

/* check_publish - what an accepted publish renders. */
static void
check_publish(const struct request *r, int after_publish)
{
	size_t cap = RENDER_PREFIX_MAX + r->body_len + 2;
	char *msg = malloc(cap);
	struct names v;
	uint32_t pfx = 0;
	long n;

	FUZZ_CHECK(msg != NULL, "out of memory");
	FUZZ_CHECK(r->members_len >= 2 && r->members[r->members_len - 1] == '\1' &&
	    r->members[r->members_len - 2] == '}', "the members do not end with }\\1");
	FUZZ_CHECK(memchr(r->members, '\0', r->members_len) == NULL, "a \\0 in the members");
	FUZZ_CHECK(memchr(r->members, '\1', r->members_len - 1) == NULL, "a \\1 before the end");
	check_valid(r, 0);
	check_valid(r, 1);
	n = render_message(msg, cap, 1, r->body, r->body_len, after_publish ? NULL : request_control_members,
	    &pfx);
	FUZZ_CHECK(n > 0 && (size_t)n - pfx == r->members_len && memcmp(msg + pfx, r->members, r->members_len) == 0,
	    "render_message gives another body (%ld bytes after a prefix of %u; the request has %zu)", n, pfx,
	    r->members_len);
	names_check(r->body, r->body_len, &v);
	FUZZ_CHECK(!v.repeated && !v.server && !v.too_many && !v.too_long,
	    "a publish was accepted with a repeated name (%d), timestamp or seq (%d), too many members (%d) or a too long name (%d)",
	    v.repeated, v.server, v.too_many, v.too_long);
	free(msg);
}

/* check_refused - a refusal says why, and one for the members has a reason the reference sees. */
static void
check_refused(const struct request *r, const char *frame, size_t len)
{
	struct names v;
	const char *obj;

	FUZZ_CHECK(r->code != NULL && r->text[0] != '\0', "a refusal without code or text");
	if (!r->bad_members)
		return;
	FUZZ_CHECK(strcmp(r->code, ERR_BAD_JSON) == 0, "refused for its members with %s", r->code);
	obj = memchr(frame, '{', len);
	FUZZ_CHECK(obj != NULL, "refused for the members of no object");
	names_check(obj, len - (size_t)(obj - frame), &v);
	FUZZ_CHECK(v.repeated || v.server || v.too_many || v.too_long,
	    "refused for its members (%s), which the reference finds fine", r->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request r;
	char *frame, *body;
	uint32_t max_topic;
	int after_publish;
	size_t len;

	if (size < 1)
		return 0;
	after_publish = data[0] & 1;
	max_topic = data[0] >> 1 ? data[0] >> 1 : CONF_TOPIC_MAX;
	len = size - 1;
	frame = fuzz_copy(data + 1, len);
	body = malloc(REQUEST_BODY_CAP(len));
	FUZZ_CHECK(body != NULL, "out of memory");
	request_parse(&r, frame, len, after_publish, max_topic, body, REQUEST_BODY_CAP(len));
	if (r.kind == REQ_PUBLISH) {
		FUZZ_CHECK(r.part1 == after_publish, "part1 %d after PUBLISH %d", r.part1, after_publish);
		FUZZ_CHECK(r.topic_len > 0 && r.topic_len <= max_topic, "a topic of %u bytes (at most %u)",
		    r.topic_len, max_topic);
		FUZZ_CHECK(r.body >= frame && r.body + r.body_len <= frame + len, "the object is not in the frame");
		FUZZ_CHECK(r.members >= body && r.members + r.members_len <= body + REQUEST_BODY_CAP(len),
		    "the members are not in the body buffer");
		check_publish(&r, after_publish);
	} else if (r.kind == REQ_BAD) {
		check_refused(&r, frame, len);
	} else {
		FUZZ_CHECK(!after_publish || r.kind == REQ_IGNORE, "after PUBLISH a frame gave request %d", r.kind);
	}
	free(body);
	free(frame);
	return 0;
}
