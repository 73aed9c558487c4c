/*
 * proto/frame.h - splitting a client's byte stream into \0-terminated frames.
 *
 * Owns: one connection's unfinished frame. Bytes arrive in any split;
 * whole frames are handed out straight from the caller's read buffer,
 * and only the unfinished tail is copied aside (so an idle connection
 * holds no buffer at all). Must not interpret frames.
 */
#ifndef JANUSD_PROTO_FRAME_H
#define JANUSD_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct framer {
	char *part;          /* the unfinished frame so far, or NULL */
	uint32_t len;
	uint32_t cap;
};

enum frame_result {
	FRAME_MORE = 0,      /* all bytes taken; maybe an unfinished frame kept */
	FRAME_STOP,          /* the handler asked to stop (its connection is gone) */
	FRAME_TOO_LARGE,     /* a frame passed max bytes without its \0 */
	FRAME_NO_MEMORY
};

/*
 * frame_fn - called for each whole frame, without its \0. Returns 0 to go
 * on, -1 to stop. The frame's bytes are valid only during the call.
 */
typedef int (*frame_fn)(void *ctx, const char *frame, size_t len);

/* framer_feed - split data, calling fn per whole frame; keep the tail. */
enum frame_result framer_feed(struct framer *f, const char *data, size_t len,
    size_t max, frame_fn fn, void *ctx);

/* framer_pending - bytes of an unfinished frame held. */
static inline uint32_t
framer_pending(const struct framer *f)
{
	return f->len;
}

/* framer_free - drop the unfinished frame. */
void framer_free(struct framer *f);

#endif
