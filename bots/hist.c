/*
 * bots/hist.c - latency histograms that merge across processes.
 *
 * Owns: the slot layout (see hist.h), percentiles, packing for the pipe
 * from a child to the parent, and the report's fixed-width rows.
 * Must not print anything.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bots/hist.h"

#define HIST_EXACT 10000u   /* values below are their own slot */
#define HIST_DECADE 9000u   /* slots per decade above: 1000..9999 x 10^d */
#define HIST_DECADES 6u
#define HIST_ROWS_AUTO 20u
#define HIST_ROWS_MAX 100000u

/* hist_slot - slot of US: exact below 10 ms, four significant digits above. */
static unsigned
hist_slot(uint64_t us)
{
	uint64_t p = 1;
	unsigned d = 0;

	if (us < HIST_EXACT)
		return (unsigned)us;
	while (us / p >= HIST_EXACT) {
		p *= 10;
		d++;
	}
	if (d > HIST_DECADES)
		return HIST_SLOTS - 1;
	return HIST_EXACT + (d - 1) * HIST_DECADE + (unsigned)(us / p - 1000);
}

/* hist_floor - the smallest value that falls in slot I. */
static uint64_t
hist_floor(unsigned i)
{
	uint64_t p = 1;
	unsigned d;

	if (i < HIST_EXACT)
		return i;
	i -= HIST_EXACT;
	for (d = 0; d <= i / HIST_DECADE; d++)
		p *= 10;
	return (uint64_t)(i % HIST_DECADE + 1000) * p;
}

int
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->slot = calloc(HIST_SLOTS, sizeof(*h->slot));
	return h->slot != NULL ? 0 : -1;
}

void
hist_free(struct hist *h)
{
	free(h->slot);
	h->slot = NULL;
}

void
hist_add(struct hist *h, uint64_t us)
{
	if (h->n == 0 || us < h->min)
		h->min = us;
	if (h->n == 0 || us > h->max)
		h->max = us;
	h->n++;
	h->sum += (double)us;
	h->sumsq += (double)us * (double)us;
	h->slot[hist_slot(us)]++;
}

int
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	if (src->n == 0)
		return 0;
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->n == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->sum += src->sum;
	dst->sumsq += src->sumsq;
	for (i = 0; i < HIST_SLOTS; i++)
		dst->slot[i] += src->slot[i];
	return 0;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, cum = 0, v;
	unsigned i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->n);
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max;
	for (i = 0; i < HIST_SLOTS; i++) {
		cum += h->slot[i];
		if (cum >= rank)
			break;
	}
	v = hist_floor(i < HIST_SLOTS ? i : HIST_SLOTS - 1);
	if (v < h->min)
		v = h->min;
	return v > h->max ? h->max : v;
}

double
hist_mean(const struct hist *h)
{
	return h->n > 0 ? h->sum / (double)h->n : 0.0;
}

double
hist_sd(const struct hist *h)
{
	double m, var;

	if (h->n < 2)
		return 0.0;
	m = hist_mean(h);
	var = h->sumsq / (double)h->n - m * m;
	return var > 0.0 ? sqrt(var) : 0.0;
}

/*
 * Packed form: n, min, max (u64), sum, sumsq (double), the number of used
 * slots (u32), then (slot u32, count u64) per used slot. Children and
 * parent are the same binary on the same machine, so host byte order.
 */
#define HIST_HEAD (3 * 8 + 2 * 8 + 4)
#define HIST_ENTRY (4 + 8)

size_t
hist_pack_size(const struct hist *h)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < HIST_SLOTS; i++)
		used += h->slot[i] != 0;
	return HIST_HEAD + used * HIST_ENTRY;
}

size_t
hist_pack(const struct hist *h, char *out)
{
	char *p = out + HIST_HEAD;
	uint32_t used = 0, i;

	for (i = 0; i < HIST_SLOTS; i++) {
		if (h->slot[i] == 0)
			continue;
		memcpy(p, &i, 4);
		memcpy(p + 4, &h->slot[i], 8);
		p += HIST_ENTRY;
		used++;
	}
	memcpy(out, &h->n, 8);
	memcpy(out + 8, &h->min, 8);
	memcpy(out + 16, &h->max, 8);
	memcpy(out + 24, &h->sum, 8);
	memcpy(out + 32, &h->sumsq, 8);
	memcpy(out + 40, &used, 4);
	return (size_t)(p - out);
}

size_t
hist_unpack(struct hist *h, const char *p, size_t len)
{
	struct hist part;
	uint32_t used, i, slot;
	uint64_t count, total = 0;

	if (len < HIST_HEAD)
		return 0;
	memcpy(&part.n, p, 8);
	memcpy(&part.min, p + 8, 8);
	memcpy(&part.max, p + 16, 8);
	memcpy(&part.sum, p + 24, 8);
	memcpy(&part.sumsq, p + 32, 8);
	memcpy(&used, p + 40, 4);
	if (used > HIST_SLOTS || len - HIST_HEAD < (size_t)used * HIST_ENTRY)
		return 0;
	for (i = 0; i < used; i++) {
		memcpy(&slot, p + HIST_HEAD + (size_t)i * HIST_ENTRY, 4);
		memcpy(&count, p + HIST_HEAD + (size_t)i * HIST_ENTRY + 4, 8);
		if (slot >= HIST_SLOTS)
			return 0;
		h->slot[slot] += count;
		total += count;
	}
	if (total != part.n)
		return 0;
	if (part.n > 0) {
		if (h->n == 0 || part.min < h->min)
			h->min = part.min;
		if (h->n == 0 || part.max > h->max)
			h->max = part.max;
		h->n += part.n;
		h->sum += part.sum;
		h->sumsq += part.sumsq;
	}
	return HIST_HEAD + (size_t)used * HIST_ENTRY;
}

/* hist_next_width - the 1-2-5 width after W (10, 20, 50, 100, ...). */
static uint64_t
hist_next_width(uint64_t w)
{
	uint64_t p = 1;

	while (p * 10 <= w)
		p *= 10;
	if (w < 2 * p)
		return 2 * p;
	if (w < 5 * p)
		return 5 * p;
	return 10 * p;
}

/* hist_span - rows needed to cover min..max with width W. */
static uint64_t
hist_span(const struct hist *h, uint64_t w)
{
	return h->max / w - h->min / w + 1;
}

int
hist_rows(const struct hist *h, uint64_t width_us, struct hist_rows *r)
{
	uint64_t w = width_us, row, lo;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (w == 0) {
		w = 10;
		while (h->n > 0 && hist_span(h, w) > HIST_ROWS_AUTO)
			w = hist_next_width(w);
	}
	/* a forced width that would print a million rows is widened */
	while (h->n > 0 && hist_span(h, w) > HIST_ROWS_MAX)
		w = hist_next_width(w);
	r->width_us = w;
	if (h->n == 0)
		return 0;
	r->start_us = h->min / w * w;
	r->nrows = (unsigned)hist_span(h, w);
	r->count = calloc(r->nrows, sizeof(*r->count));
	if (r->count == NULL)
		return -1;
	for (i = 0; i < HIST_SLOTS; i++) {
		if (h->slot[i] == 0)
			continue;
		lo = hist_floor(i);
		row = lo < r->start_us ? 0 : (lo - r->start_us) / w;
		if (row >= r->nrows)
			row = r->nrows - 1;
		r->count[row] += h->slot[i];
	}
	return 0;
}

void
hist_rows_free(struct hist_rows *r)
{
	free(r->count);
	r->count = NULL;
}
