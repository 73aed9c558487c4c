/*
 * proto/render.h - the bytes janusd sends: greeting, messages, replies.
 *
 * Owns: the exact server-to-client formats of PROTOCOL.md, each ending
 * with \1. Renders into caller memory (a message straight into the ring)
 * and never allocates. Must not decide when anything is sent.
 */
#ifndef JANUSD_PROTO_RENDER_H
#define JANUSD_PROTO_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/json.h"

#define RENDER_ACK   "ACK\1"
#define RENDER_PING  "PING\1"
#define RENDER_TOKEN_LEN 32
/* `{"timestamp":[4294967295,999999,999999],` with room to spare */
#define RENDER_PREFIX_MAX 48
/* `"seq":18446744073709551615,` */
#define RENDER_SEQ_MAX 32

/* render_prefix - `{"timestamp":[MEGA,SEC,MICRO],` for usec since the epoch. */
size_t render_prefix(char *dst, uint64_t usec);

/* render_greeting - `{"timestamp":[...],"token":"HEX"}\1`; dst needs 96 bytes. */
size_t render_greeting(char *dst, uint64_t usec, const char token[RENDER_TOKEN_LEN]);

/*
 * A delivered message is the prefix, then the published object's members
 * in their order, compacted, then `}\1`. What follows the prefix (the
 * body) is rendered while the request is parsed, member by member
 * (render_member, render_body_end), so that under the ring's lock only
 * the prefix is rendered and the body copied (render_publish).
 */

/* render_member - `KEY:VALUE,` compacted; returns its length, or -1 if over cap. */
long render_member(char *dst, size_t cap, const struct json_span *key,
    const struct json_span *val);

/*
 * render_body_end - dst holds n bytes of members from render_member:
 * make them a body (the last comma becomes `}`, then `\1`). Returns the
 * body's length (n + 1), or -1 if there is no member or no room.
 */
long render_body_end(char *dst, size_t n, size_t cap);

/*
 * render_publish - the record of a message: the prefix for usec, then the
 * body. dst needs RENDER_PREFIX_MAX + len bytes. *pfx gets the prefix
 * length (where "seq" goes for version 2). Returns the length.
 */
size_t render_publish(char *dst, uint64_t usec, const char *body, size_t len,
    uint32_t *pfx);

/*
 * render_message - the whole message in one call: the prefix, then the
 * members of the published object obj, then `}\1`. Members named in skip
 * (a NULL-terminated list, may be NULL) are left out. Returns the length,
 * or -1 if it does not fit in cap or obj is not a valid object. The
 * length is never more than RENDER_PREFIX_MAX + len + 2.
 */
long render_message(char *dst, size_t cap, uint64_t usec, const char *obj,
    size_t len, const char *const *skip, uint32_t *pfx);

/* render_skipped - whether key is one of the names in skip (a NULL-terminated list, may be NULL). */
int render_skipped(const struct json_span *key, const char *const *skip);

/* The members the server writes into a message: a publisher may not send them. */
extern const char *const render_server_members[];

/*
 * render_check_message - whether p (n bytes, without the final \1) is a
 * message as a janusd node renders it: the prefix exactly as
 * render_prefix writes it (plain integers, MEGA of at most 10 digits, SEC
 * and MICRO under 1000000), then the rest of one valid JSON object ending
 * in `}`, with no other member named in render_server_members. Returns
 * the prefix length, or -1 with *why set to a static text.
 */
long render_check_message(const char *p, size_t n, const char **why);

/* render_seq - `"seq":N,`, inserted after the prefix for version 2 sessions. */
size_t render_seq(char *dst, uint64_t seq);

/* render_error - `{"error":"CODE","message":"TEXT"}\1`; returns -1 if over cap. */
long render_error(char *dst, size_t cap, const char *code, const char *text);

/* render_hello - `{"hello":{"version":2,"epoch":"E","seq":N}}\1`. */
long render_hello(char *dst, size_t cap, const char *epoch, uint64_t seq);

/* render_gap - `{"gap":{"topic":"T","from":A,"to":B}}\1`. */
long render_gap(char *dst, size_t cap, const char *topic, size_t tlen,
    uint64_t from, uint64_t to);

/* render_published - `{"published":{"seq":N}}\1`. */
long render_published(char *dst, size_t cap, uint64_t seq);

/* render_auth - `{"auth":"ok"}\1`. */
long render_auth(char *dst, size_t cap);

#endif
