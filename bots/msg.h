/*
 * bots/msg.h - the bytes of the messages janus-bots publishes and checks.
 *
 * Owns: the published object, its Part 1 and Part 2 publish frames, the
 * frame a server delivers for it (used by --floor), and the check that a
 * delivered frame is exactly what was published.
 * Must not do I/O.
 *
 * A published object is
 *   {"topic":"T","event":"janus-bots","message_id":"NONCE-SEQ-CHECK","data":"SENDNS[.xxx]"}
 * SENDNS is CLOCK_MONOTONIC at the publish write, CHECK a hash of NONCE,
 * SEQ and SENDNS. A client re-creates the object from SEQ and SENDNS and
 * compares every byte, so a changed digit, member or order is caught. The
 * first good copy of a message in a child is kept (struct msg_cache) and
 * later copies are compared with it whole: the hot path reads no number but
 * SEQ and calls no printf.
 */
#ifndef JANUS_BOTS_MSG_H
#define JANUS_BOTS_MSG_H

#include <stddef.h>
#include <stdint.h>

struct bots_opts;

struct msg_spec {
	const char *topic;
	size_t topic_len;
	uint32_t nonce;
	unsigned size;       /* pad the object to this many bytes */
	int ack;             /* Part 2 frames ask for "ack":true */
};

/* What a client learnt from a good delivery. */
struct msg_seen {
	uint32_t seq;
	int64_t send_ns;     /* publisher's monotonic clock */
	int64_t stamp_us;    /* the server's "timestamp", wall clock */
};

/*
 * The frames of recent messages as this child first verified them, by
 * SEQ % slots. A server stamps every subscriber's copy of a message alike,
 * so the next client's copy is checked by one compare of the whole frame;
 * only a frame that differs is parsed and re-created from scratch.
 */
struct msg_cache {
	unsigned slots;          /* a power of two */
	size_t cap;              /* bytes of one frame slot */
	uint32_t *seq;
	uint32_t *len;           /* 0: slot empty */
	int64_t *send_ns;
	int64_t *stamp_us;
	char *frames;            /* slots x cap */
	char *obj;               /* the slow path's re-created object */
	char *prefix;            /* "topic":"T",...,"message_id":"NONCE- */
	size_t prefix_len;
};

void msg_spec_init(struct msg_spec *s, const struct bots_opts *o);
/* msg_cap - buffer size that holds any frame msg_* builds. */
size_t msg_cap(const struct msg_spec *s);
/* msg_build - the published object for SEQ sent at SEND_NS; its length. */
size_t msg_build(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out);
/* msg_part1 - "<regular-socket/>\0PUBLISH\0" + object, no trailing \0. */
size_t msg_part1(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out);
/* msg_part2 - {"action":"publish",["ack":true,]...}\0 */
size_t msg_part2(const struct msg_spec *s, uint32_t seq, int64_t send_ns, char *out);
/* msg_deliver - {"timestamp":[M,S,U], + members + }\1, as a server sends it. */
size_t msg_deliver(const char *obj, size_t len, int64_t stamp_us, char *out);

/* msg_cache_init - SLOTS (rounded up to a power of two) frames; -1 if no memory. */
int msg_cache_init(struct msg_cache *c, const struct msg_spec *s, unsigned slots);
void msg_cache_free(struct msg_cache *c);
/*
 * msg_check - whether FRAME (without its \1) is exactly a message of this
 * run; fills SEEN. Returns 0 if it is, -1 if not.
 */
int msg_check(const struct msg_spec *s, struct msg_cache *c, const char *frame,
    size_t len, struct msg_seen *seen);
/* msg_is_stamped - FRAME begins like a delivered message (for counting). */
int msg_is_stamped(const char *frame, size_t len);
/* msg_is_greeting - FRAME is {"timestamp":[M,S,U],"token":...}. */
int msg_is_greeting(const char *frame, size_t len);

#endif
