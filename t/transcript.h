/*
 * t/transcript.h - what the stream-splitting unit tests share: a
 * transcript of what a parser handed out, and runs of one stream fed
 * whole, a byte at a time, split at every point and at every pair of
 * points, each compared with the transcript it must give.
 *
 * Owns: the transcript buffer and the TAP line per family of runs (the
 * first mismatch with its cuts, or the last run). The test owns the
 * parser: its run function feeds the stream in pieces ending at each
 * cut (ascending, may repeat, so pieces may be empty) to a fresh parser
 * and writes the transcript.
 */
#ifndef JANUSD_T_TRANSCRIPT_H
#define JANUSD_T_TRANSCRIPT_H

#include <stddef.h>

#define TRANSCRIPT_MAX (80 << 10)

struct transcript {
	char buf[TRANSCRIPT_MAX];
	size_t len;
	int overflow;      /* something did not fit: never equal to a wanted one */
};

/* tr_put - append bytes, noting if they do not fit. */
void tr_put(struct transcript *tr, const void *p, size_t n);

/* tr_printf - append formatted text (a line of at most 255 bytes). */
void tr_printf(struct transcript *tr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* tr_equal - whether a run's transcript is the wanted one. */
int tr_equal(const struct transcript *got, const struct transcript *want);

/*
 * tr_report - one TAP line for a family of runs, "WHAT (RUNS runs)":
 * got must be want; if not, after more than one run, say the cuts.
 */
void tr_report(const struct transcript *got, const struct transcript *want,
    const char *what, size_t runs, size_t c1, size_t c2);

/* tr_run_fn - feed the stream of ctx cut at cuts to a fresh parser; fill tr. */
typedef void (*tr_run_fn)(const void *ctx, const size_t *cuts, size_t ncuts,
    struct transcript *tr);

/* tr_check_whole - two TAP lines: the stream of len bytes in one piece, and a byte at a time. */
void tr_check_whole(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what);

/* tr_check_splits - one TAP line: split in two at every point. */
void tr_check_splits(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what);

/* tr_check_pairs - one TAP line: split in three at every pair of points. */
void tr_check_pairs(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what);

#endif
