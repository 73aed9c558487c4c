/*
 * proto/request.h - what a client's frame asks for.
 *
 * Owns: turning one frame into a request: the Part 1 words, the JSON
 * actions and their members, and the error code and text for anything
 * else. Liberal where PROTOCOL.md allows it (any key order, unknown keys,
 * a <regular-socket/> prefix), strict about values. Must not act on a
 * request or know about connections: worker/conn.c does that.
 */
#ifndef JANUSD_PROTO_REQUEST_H
#define JANUSD_PROTO_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "proto/json.h"

enum req_kind {
	REQ_IGNORE = 0,    /* <regular-socket/>, PING, PONG, an empty frame */
	REQ_PUBLISH_NEXT,  /* PUBLISH: the next frame is a message */
	REQ_SUBSCRIBE,
	REQ_UNSUBSCRIBE,
	REQ_HELLO,
	REQ_AUTH,
	REQ_PUBLISH,       /* a message: the frame after PUBLISH, or action publish */
	REQ_BAD            /* code and text say why */
};

/* Error codes of PROTOCOL.md Part 2. */
#define ERR_BAD_JSON       "bad_json"
#define ERR_BAD_FRAME      "bad_frame"
#define ERR_UNKNOWN_ACTION "unknown_action"
#define ERR_BAD_TOPIC      "bad_topic"
#define ERR_TOO_LARGE      "too_large"
#define ERR_NOT_ALLOWED    "not_allowed"
#define ERR_SLOW_CONSUMER  "slow_consumer"
#define ERR_LIMIT          "limit"

struct request {
	enum req_kind kind;
	const char *code;              /* REQ_BAD */
	char text[160];                /* REQ_BAD */
	char topic[CONF_TOPIC_MAX + 1];
	uint32_t topic_len;
	int pattern;                   /* subscribe, unsubscribe: the topic is a Part 4 pattern */
	int has_since;
	uint64_t since;
	struct json_span epoch;        /* type JSON_NONE if absent */
	struct json_span key;          /* auth */
	int ack;                       /* publish: "ack":true */
	int part1;                     /* REQ_PUBLISH: the Part 1 form (after PUBLISH) */
	const char *body;              /* REQ_PUBLISH: the object as sent */
	size_t body_len;
	int bad_members;               /* REQ_BAD: a message repeating a member or writing a server's */
	const char *members;           /* REQ_PUBLISH: what follows the prefix in the record */
	size_t members_len;            /* (render.h's body: members compacted, then `}\1`) */
};

/*
 * A message may have at most REQUEST_MAX_MEMBERS members, each named
 * once, with names of at most REQUEST_MAX_NAME bytes, and none of the
 * names the server writes (timestamp, seq): otherwise a subscriber could
 * be shown a second timestamp or seq.
 */
#define REQUEST_MAX_MEMBERS 256
#define REQUEST_MAX_NAME    255

/* Members of a publish action that are requests to the server, not message. */
extern const char *const request_control_members[];

/*
 * request_parse - parse frame (len bytes, no \0). after_publish: the
 * previous frame was PUBLISH, so this one is the message. The frame is
 * walked once: a message's members are validated and rendered into body
 * (cap bytes; len + 2 always suffice) on the way, so publishing only
 * copies them (r->members).
 */
void request_parse(struct request *r, const char *frame, size_t len,
    int after_publish, uint32_t max_topic_len, char *body, size_t cap);

/* REQUEST_BODY_CAP - the body room a frame of len bytes needs. */
#define REQUEST_BODY_CAP(len) ((len) + 2)

#endif
