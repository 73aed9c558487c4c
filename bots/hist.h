/*
 * bots/hist.h - latency histograms that merge across processes.
 *
 * Owns: recording latencies (microseconds), merging histograms from the
 * children, percentiles, mean and standard deviation, packing a histogram
 * for a pipe, and cutting it into the fixed-width rows of the report.
 * Must not print anything: bots/report.c does.
 *
 * Slots are decimal log-linear: exact below 10 ms, then four significant
 * digits (0.1 % resolution) up to 10,000 s. Row widths are 1-2-5 multiples
 * of 10 us, so automatic rows always fall on slot boundaries and are exact.
 */
#ifndef JANUS_BOTS_HIST_H
#define JANUS_BOTS_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SLOTS 64000u

struct hist {
	uint64_t n;
	uint64_t min, max;   /* exact, us */
	double sum, sumsq;   /* for the mean and SD, exact up to double rounding */
	uint64_t *slot;      /* HIST_SLOTS counters */
};

/* Fixed-width rows for the report: row I holds [start + I*width, +width). */
struct hist_rows {
	uint64_t width_us;
	uint64_t start_us;
	unsigned nrows;
	uint64_t *count;
};

int hist_init(struct hist *h);
void hist_free(struct hist *h);
void hist_add(struct hist *h, uint64_t us);
int hist_merge(struct hist *dst, const struct hist *src);
/* hist_quantile - nearest-rank quantile Q (0..1) in us; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);
double hist_sd(const struct hist *h);

/* hist_pack_size - bytes hist_pack writes for H. */
size_t hist_pack_size(const struct hist *h);
size_t hist_pack(const struct hist *h, char *out);
/* hist_unpack - add a packed histogram to H; bytes used, or 0 if malformed. */
size_t hist_unpack(struct hist *h, const char *p, size_t len);

/* hist_rows - rows of WIDTH_US (0: choose one giving about 20 rows). */
int hist_rows(const struct hist *h, uint64_t width_us, struct hist_rows *r);
void hist_rows_free(struct hist_rows *r);

#endif
