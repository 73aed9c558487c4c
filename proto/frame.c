/*
 * proto/frame.c - splitting a client's byte stream into \0-terminated frames.
 *
 * Owns: the unfinished-frame buffer of one connection: allocated when a
 * frame straddles reads, grown up to the frame limit, freed as soon as
 * the frame completes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

void
framer_free(struct framer *f)
{
	free(f->part);
	f->part = NULL;
	f->len = f->cap = 0;
}

/* framer_keep - append n bytes to the unfinished frame. */
static enum frame_result
framer_keep(struct framer *f, const char *p, size_t n, size_t max)
{
	size_t want = (size_t)f->len + n, cap;
	char *np;

	if (want > max)
		return FRAME_TOO_LARGE;
	if (want > f->cap) {
		cap = f->cap ? (size_t)f->cap * 2 : 256;
		while (cap < want)
			cap *= 2;
		if (cap > max)
			cap = max;
		np = realloc(f->part, cap);
		if (np == NULL)
			return FRAME_NO_MEMORY;
		f->part = np;
		f->cap = (uint32_t)cap;
	}
	memcpy(f->part + f->len, p, n);
	f->len = (uint32_t)want;
	return FRAME_MORE;
}

enum frame_result
framer_feed(struct framer *f, const char *data, size_t len, size_t max,
    frame_fn fn, void *ctx)
{
	const char *p = data, *end = data + len, *nul;
	enum frame_result r;
	int stop;

	if (f->len > 0) {
		nul = memchr(p, '\0', len);
		if (nul == NULL)
			return framer_keep(f, p, len, max);
		if ((r = framer_keep(f, p, (size_t)(nul - p), max)) != FRAME_MORE)
			return r;
		stop = fn(ctx, f->part, f->len);
		framer_free(f);
		if (stop < 0)
			return FRAME_STOP;
		p = nul + 1;
	}
	while (p < end && (nul = memchr(p, '\0', (size_t)(end - p))) != NULL) {
		if ((size_t)(nul - p) > max)
			return FRAME_TOO_LARGE;
		if (fn(ctx, p, (size_t)(nul - p)) < 0)
			return FRAME_STOP;
		p = nul + 1;
	}
	return p < end ? framer_keep(f, p, (size_t)(end - p), max) : FRAME_MORE;
}
