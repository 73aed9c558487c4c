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
 * render_message - a delivered message: the prefix, then the members of
 * the published object obj in their order, compacted, then `}\1`.
 * Members named in skip (a NULL-terminated list, may be NULL) are left
 * out. *pfx gets the prefix length (where "seq" goes for version 2).
 * Returns the length, or -1 if it does not fit in cap or obj is not a
 * valid object. The length is never more than RENDER_PREFIX_MAX + len + 2.
 */
long render_message(char *dst, size_t cap, uint64_t usec, const char *obj,
    size_t len, const char *const *skip, uint32_t *pfx);

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
