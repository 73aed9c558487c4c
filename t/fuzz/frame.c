/*
 * t/fuzz/frame.c - libFuzzer harness for proto/frame.c, the \0 framer.
 *
 * Owns: feeding a stream in random splits (drawn from the input) and
 * checking the framer against a reference splitter written here for
 * plainness: the same frames in order, none holding a \0, the same end
 * (all taken, stopped by the handler at frame K, or a frame over max),
 * and the same unfinished tail kept, with no buffer held when there is
 * none. Input: 2 bytes max, 1 byte K, 8 bytes split seed, the stream.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "t/fuzz/fuzz.h"

#define FUZZ_FRAME_HEAD 11

/* A run's frames, each as a 4-byte length and its bytes. */
struct rec {
	char *buf;
	size_t len, cap;
};

struct sink {
	struct rec *rec;
	int frames;
	int stop_at;        /* 1-based frame to stop at; 0: never */
};

static void
rec_add(struct rec *r, const char *p, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (r->len + 4 + n > r->cap) {
		r->cap = (r->len + 4 + n) * 2;
		r->buf = realloc(r->buf, r->cap);
		FUZZ_CHECK(r->buf != NULL, "out of memory");
	}
	memcpy(r->buf + r->len, &len, 4);
	memcpy(r->buf + r->len + 4, p, n);
	r->len += 4 + n;
}

/* ref_split - the reference: frames end at \0; one over max ends the run. */
static enum frame_result
ref_split(const char *s, size_t n, size_t max, int stop_at, struct rec *r, size_t *tail)
{
	size_t i, start = 0;
	int frames = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\0')
			continue;
		if (i - start > max)
			return FRAME_TOO_LARGE;
		rec_add(r, s + start, i - start);
		if (++frames == stop_at)
			return FRAME_STOP;
		start = i + 1;
	}
	if (n - start > max)
		return FRAME_TOO_LARGE;
	*tail = start;
	return FRAME_MORE;
}

static int
sink_frame(void *ctx, const char *frame, size_t len)
{
	struct sink *k = ctx;

	FUZZ_CHECK(memchr(frame, '\0', len) == NULL, "frame %d holds a \\0", k->frames + 1);
	rec_add(k->rec, frame, len);
	return ++k->frames == k->stop_at ? -1 : 0;
}

/* feed - the framer over s in random chunks, each an exact copy. */
static enum frame_result
feed(struct framer *f, const char *s, size_t n, size_t max, uint64_t seed, struct sink *k)
{
	enum frame_result r = FRAME_MORE;
	size_t off = 0, chunk;
	uint32_t x;
	char *c;

	while (off < n && r == FRAME_MORE) {
		x = fuzz_rand(&seed);
		chunk = 1 + (x % 4 == 0 ? (x >> 2) % 512 : (x >> 2) % 8);
		if (chunk > n - off)
			chunk = n - off;
		c = fuzz_copy(s + off, chunk);
		r = framer_feed(f, c, chunk, max, sink_frame, k);
		free(c);
		off += chunk;
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec got = { 0 }, want = { 0 };
	struct framer f = { 0 };
	struct sink k = { &got, 0, 0 };
	const char *s = (const char *)data + FUZZ_FRAME_HEAD;
	size_t n, max, tail = 0;
	enum frame_result r, wr;
	uint64_t seed;

	if (size < FUZZ_FRAME_HEAD)
		return 0;
	max = 1 + ((size_t)data[0] | (size_t)data[1] << 8) % 1024;
	k.stop_at = data[2] < 32 ? data[2] : 0;
	memcpy(&seed, data + 3, 8);
	n = size - FUZZ_FRAME_HEAD;

	wr = ref_split(s, n, max, k.stop_at, &want, &tail);
	r = feed(&f, s, n, max, seed, &k);
	FUZZ_CHECK(r == wr, "result %d, the reference says %d (max %zu, stop at %d)", r, wr, max,
	    k.stop_at);
	FUZZ_CHECK(got.len == want.len && (got.len == 0 || memcmp(got.buf, want.buf, got.len) == 0),
	    "%d frames differ from the reference's (%zu vs %zu bytes of record)", k.frames,
	    got.len, want.len);
	if (r == FRAME_MORE) {
		FUZZ_CHECK(framer_pending(&f) == n - tail, "pending %u, tail is %zu bytes",
		    framer_pending(&f), n - tail);
		FUZZ_CHECK(n - tail == 0 ? f.part == NULL : memcmp(f.part, s + tail, n - tail) == 0,
		    "the kept tail is not the stream's (or a buffer is held for none)");
	}
	framer_free(&f);
	free(got.buf);
	free(want.buf);
	return 0;
}
