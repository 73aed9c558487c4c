/*
 * bots/seen.c - which messages one client has settled, in a sliding window.
 *
 * Owns: the two bitmaps of struct seen and sliding them. 40 bytes a client.
 * Must not count or time anything.
 */
#include "config.h"

#include <string.h>

#include "bots/seen.h"

#define SEEN_WORDS (SEEN_WINDOW / 64)

static int
seen_test(const uint64_t *bits, uint32_t i)
{
	return (int)(bits[i / 64] >> (i % 64) & 1);
}

static void
seen_set(uint64_t *bits, uint32_t i)
{
	bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* seen_shift - drop the K lowest bits of a window. */
static void
seen_shift(uint64_t *bits, uint32_t k)
{
	uint32_t words = k / 64, b = k % 64, i;

	if (k >= SEEN_WINDOW) {
		memset(bits, 0, SEEN_WORDS * sizeof(*bits));
		return;
	}
	for (i = 0; i < SEEN_WORDS; i++) {
		bits[i] = i + words < SEEN_WORDS ? bits[i + words] >> b : 0;
		if (b > 0 && i + words + 1 < SEEN_WORDS)
			bits[i] |= bits[i + words + 1] << (64 - b);
	}
}

/* seen_slide - move NEXT by K, settling those messages whatever they were. */
static void
seen_slide(struct seen *w, uint32_t k)
{
	seen_shift(w->got, k);
	seen_shift(w->lost, k);
	w->next += k;
}

/* seen_settle - move NEXT past every message that has arrived or been given up. */
static void
seen_settle(struct seen *w)
{
	uint32_t k = 0;

	while (k < SEEN_WINDOW && (seen_test(w->got, k) || seen_test(w->lost, k)))
		k++;
	seen_slide(w, k);
}

int
seen_take(struct seen *w, uint32_t s, uint32_t stride)
{
	uint32_t i, j, k;
	uint64_t pending = 0;

	/* the common case: the next message, nothing else outstanding */
	for (k = 0; k < SEEN_WORDS; k++)
		pending |= w->got[k] | w->lost[k];
	if (s == w->next && pending == 0) {
		w->next++;
		return 1;
	}
	/* a message far ahead: the oldest ones are given up to make room */
	if (s - w->next >= SEEN_WINDOW)
		seen_slide(w, s - w->next - SEEN_WINDOW + 1);
	i = s - w->next;
	if (seen_test(w->got, i) || seen_test(w->lost, i))
		return 0;
	seen_set(w->got, i);
	/* earlier messages of its stream that have not arrived never will, in order */
	for (j = i; stride > 0 && j >= stride; ) {
		j -= stride;
		if (!seen_test(w->got, j))
			seen_set(w->lost, j);
	}
	seen_settle(w);
	return 1;
}

void
seen_close(struct seen *w, uint32_t upto)
{
	if (upto > w->next)
		seen_slide(w, upto - w->next);
}
