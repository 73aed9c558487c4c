/*
 * t/frame_split.c - unit test for proto/frame.c, the \0 framer.
 *
 * Owns: feeding one stream of mixed frames (Part 1 words, the Flash
 * marker, JSON objects, an empty frame, a frame of exactly max bytes,
 * an unfinished tail) at every split point and every pair of split
 * points, and checking that the handler sees the same frames, results
 * and pending tail each time; frames over max, a handler that stops,
 * and the unfinished-frame buffer. Every chunk is fed from an exactly
 * sized malloc'd copy so ASan catches reads past it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "t/tap.h"
#include "t/transcript.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1

/* A handler's context: the transcript and when to ask the framer to stop. */
struct sink {
	struct transcript *tr;
	int frames;
	int stop_at;       /* 1-based frame number to return -1 on; 0: never */
};

/* tr_frame - one frame as `frame LEN [BYTES]` on its own line. */
static void
tr_frame(struct transcript *tr, const char *p, size_t len)
{
	tr_printf(tr, "frame %zu [", len);
	tr_put(tr, p, len);
	tr_put(tr, "]\n", 2);
}

/*
 * record_frame - the frame handler: log the frame, maybe ask to stop.
 * A full transcript stops the framer too, so a framer that loops ends.
 */
static int
record_frame(void *ctx, const char *frame, size_t len)
{
	struct sink *s = ctx;

	tr_frame(s->tr, frame, len);
	s->frames++;
	return s->frames == s->stop_at || s->tr->overflow ? -1 : 0;
}

/* feed_copy - feed n bytes from an exactly sized heap copy. */
static enum frame_result
feed_copy(struct framer *f, const char *data, size_t n, size_t max, struct sink *s)
{
	char *copy = malloc(n > 0 ? n : 1);
	enum frame_result r;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, data, n);
	r = framer_feed(f, copy, n, max, record_frame, s);
	free(copy);
	return r;
}

/* tr_end - close a transcript with the pending tail, then free the framer. */
static void
tr_end(struct transcript *tr, struct framer *f)
{
	tr_printf(tr, "pending %u [", (unsigned)framer_pending(f));
	if (framer_pending(f) > 0 && f->part != NULL)
		tr_put(tr, f->part, framer_pending(f));
	tr_put(tr, "]\n", 2);
	framer_free(f);
}

/*
 * run_cuts - feed stream in pieces ending at each cut (ascending, may
 * repeat, so empty pieces happen); stop at the first result other than
 * FRAME_MORE. Fills tr.
 */
static void
run_cuts(const char *stream, size_t len, const size_t *cuts, size_t ncuts,
    size_t max, struct transcript *tr)
{
	struct framer f = { NULL, 0, 0 };
	struct sink s = { tr, 0, 0 };
	enum frame_result r = FRAME_MORE;
	size_t i, from = 0, to;

	tr->len = 0;
	tr->overflow = 0;
	for (i = 0; i <= ncuts && r == FRAME_MORE; i++) {
		to = i < ncuts ? cuts[i] : len;
		r = feed_copy(&f, stream + from, to - from, max, &s);
		from = to;
	}
	if (r == FRAME_MORE) {
		tr_end(tr, &f);
		return;
	}
	/* after an error the connection is gone: its tail means nothing */
	tr_printf(tr, "result %d\n", (int)r);
	framer_free(&f);
}

/* The mixed stream: whole frames, then an unfinished tail. */
struct stream {
	char bytes[2048];
	size_t len;
	size_t max;
	struct transcript want;
};

/* stream_frame - append a whole frame and what the handler must see for it. */
static void
stream_frame(struct stream *st, const char *p, size_t n)
{
	if (st->len + n + 1 > sizeof(st->bytes))
		tap_bail("test stream too long");
	memcpy(st->bytes + st->len, p, n);
	st->len += n;
	st->bytes[st->len++] = '\0';
	tr_frame(&st->want, p, n);
}

/* stream_build - every kind of frame, one of exactly max bytes, and a tail. */
static void
stream_build(struct stream *st, size_t max)
{
	static const char *const frames[] = {
		"<regular-socket/>", "PUBLISH",
		"{\"topic\":\"t\",\"data\":1}",
		"", "PING", "{\"action\":\"subscribe\",\"data\":\"t\"}", "", "", "PONG",
	};
	static const char tail[] = "{\"action\":\"unsub";
	char big[1024];
	size_t i;

	memset(st, 0, sizeof(*st));
	st->max = max;
	if (max > sizeof(big))
		tap_bail("max too large for the test");
	for (i = 0; i < max; i++)
		big[i] = (char)('a' + i % 26);
	for (i = 0; i < NELEM(frames); i++) {
		stream_frame(st, frames[i], strlen(frames[i]));
		if (i == 2)
			stream_frame(st, big, max);
	}
	stream_frame(st, big, max);
	memcpy(st->bytes + st->len, tail, sizeof(tail) - 1);
	st->len += sizeof(tail) - 1;
	tr_printf(&st->want, "pending %zu [%s]\n", sizeof(tail) - 1, tail);
}

/* run_stream - a tr_run_fn over a struct stream. */
static void
run_stream(const void *ctx, const size_t *cuts, size_t ncuts, struct transcript *tr)
{
	const struct stream *st = ctx;

	run_cuts(st->bytes, st->len, cuts, ncuts, st->max, tr);
}

/* test_too_large_splits - a frame of max+1 bytes ends the stream at every split. */
static void
test_too_large_splits(size_t max)
{
	static struct stream st;

	memset(&st, 0, sizeof(st));
	st.max = max;
	stream_frame(&st, "PING", 4);
	memset(st.bytes + st.len, 'x', max + 1);
	st.len += max + 1;
	memcpy(st.bytes + st.len, "\0PONG", 6);
	st.len += 6;
	tr_printf(&st.want, "result %d\n", (int)FRAME_TOO_LARGE);
	tr_check_splits(run_stream, &st, st.len, &st.want,
	    "frame of max+1 bytes at every split: same frames and result");
}

/* test_too_large - over max within one feed and accumulated over feeds. */
static void
test_too_large(void)
{
	struct framer f = { NULL, 0, 0 };
	struct transcript tr = { .len = 0 };
	struct sink s = { &tr, 0, 0 };
	char buf[2 + 257 + 1], rest[57];

	memcpy(buf, "A\0", 2);
	memset(buf + 2, 'y', 257);
	buf[2 + 257] = '\0';
	memset(rest, 'y', sizeof(rest));
	rest[56] = '\0';

	tap_is_int(feed_copy(&f, buf, sizeof(buf), 256, &s), FRAME_TOO_LARGE,
	    "257-byte frame with its \\0 in one feed, max 256: too large");
	tap_is_int(s.frames, 1, "the frame before it was still handed out");
	framer_free(&f);

	tap_is_int(feed_copy(&f, buf + 2, 257, 256, &s), FRAME_TOO_LARGE,
	    "257 bytes without a \\0 in one feed, max 256: too large");
	framer_free(&f);

	tap_is_int(feed_copy(&f, buf + 2, 256, 256, &s), FRAME_MORE,
	    "256 bytes without a \\0, max 256: kept");
	tap_is_int(framer_pending(&f), 256, "256 bytes pending");
	tap_is_int(feed_copy(&f, S("z"), 256, &s), FRAME_TOO_LARGE,
	    "one more byte across feeds: too large");
	framer_free(&f);

	tap_is_int(feed_copy(&f, buf + 2, 200, 256, &s), FRAME_MORE, "200 bytes pending");
	tap_is_int(feed_copy(&f, buf + 2 + 200, 58, 256, &s), FRAME_TOO_LARGE,
	    "57 more bytes and the \\0 across feeds: too large");
	tap_is_int(s.frames, 1, "no frame was handed out for it");
	framer_free(&f);

	tap_is_int(feed_copy(&f, buf + 2, 200, 256, &s), FRAME_MORE, "200 bytes pending again");
	tap_is_int(feed_copy(&f, rest, sizeof(rest), 256, &s), FRAME_MORE,
	    "56 more bytes and the \\0: a frame of exactly max");
	tap_is_int(s.frames, 2, "and it was handed out");
	tap_ok(f.part == NULL && framer_pending(&f) == 0,
	    "no buffer held once the frame completed");
	framer_free(&f);
}

/* test_stop - the handler's -1 stops the feed, from a pending frame too. */
static void
test_stop(void)
{
	struct framer f = { NULL, 0, 0 };
	struct transcript tr = { .len = 0 };
	struct sink s = { &tr, 0, 2 };
	static const char three[] = "A\0B\0C\0D";

	tap_is_int(feed_copy(&f, three, sizeof(three) - 1, 64, &s), FRAME_STOP,
	    "handler -1 on the second frame: FRAME_STOP");
	tap_is_mem(tr.buf, tr.len, S("frame 1 [A]\nframe 1 [B]\n"),
	    "no frame after the one that stopped");
	framer_free(&f);

	tr.len = 0;
	s.frames = 0;
	s.stop_at = 1;
	tap_is_int(feed_copy(&f, S("AB"), 64, &s), FRAME_MORE, "two bytes pending");
	tap_is_int(feed_copy(&f, S("C\0D\0"), 64, &s), FRAME_STOP,
	    "handler -1 on a frame completed from pending bytes: FRAME_STOP");
	tap_is_mem(tr.buf, tr.len, S("frame 3 [ABC]\n"), "the completed frame was handed out whole");
	tap_ok(framer_pending(&f) == 0 && f.part == NULL,
	    "nothing pending after the stop (got %u)", (unsigned)framer_pending(&f));
	framer_free(&f);
}

/* test_pending - the unfinished tail as the stream arrives. */
static void
test_pending(void)
{
	struct framer f = { NULL, 0, 0 };
	struct transcript tr = { .len = 0 };
	struct sink s = { &tr, 0, 0 };

	tap_is_int(feed_copy(&f, S(""), 64, &s), FRAME_MORE, "empty feed");
	tap_ok(framer_pending(&f) == 0 && f.part == NULL, "empty feed holds nothing");
	feed_copy(&f, S("PING\0PUB"), 64, &s);
	tap_is_mem(f.part, framer_pending(&f), S("PUB"), "tail after PING\\0PUB");
	feed_copy(&f, S(""), 64, &s);
	tap_is_mem(f.part, framer_pending(&f), S("PUB"), "an empty feed keeps the tail");
	feed_copy(&f, S("LI"), 64, &s);
	tap_is_mem(f.part, framer_pending(&f), S("PUBLI"), "tail grows across feeds");
	feed_copy(&f, S("SH\0{\"a\""), 64, &s);
	tap_is_mem(f.part, framer_pending(&f), S("{\"a\""), "new tail after a completed frame");
	feed_copy(&f, S(":1}\0"), 64, &s);
	tap_ok(framer_pending(&f) == 0 && f.part == NULL, "nothing held after the last \\0");
	tap_is_mem(tr.buf, tr.len, S("frame 4 [PING]\nframe 7 [PUBLISH]\nframe 7 [{\"a\":1}]\n"),
	    "frames handed out in order");
	framer_free(&f);
}

int
main(void)
{
	static struct stream big, small;

	tap_plan(33);
	stream_build(&big, 600);
	tr_check_whole(run_stream, &big, big.len, &big.want,
	    "whole stream in one feed: same frames, result and tail");
	tr_check_splits(run_stream, &big, big.len, &big.want,
	    "every split point, max 600: same frames, result and tail");
	stream_build(&small, 40);
	tr_check_splits(run_stream, &small, small.len, &small.want,
	    "every split point, max 40: same frames, result and tail");
	tr_check_pairs(run_stream, &small, small.len, &small.want,
	    "every pair of split points, max 40: same frames, result and tail");
	test_too_large_splits(256);
	test_too_large();
	test_stop();
	test_pending();
	return tap_done();
}
