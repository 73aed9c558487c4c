/*
 * t/transcript.c - transcripts of stream-splitting runs, and the runs.
 *
 * Owns: the transcript buffer and the loops over cut points. The
 * transcripts the loops fill are static: they are too big for a stack
 * frame and a test runs one loop at a time.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/transcript.h"

void
tr_put(struct transcript *tr, const void *p, size_t n)
{
	if (tr->len + n > sizeof(tr->buf)) {
		tr->overflow = 1;
		return;
	}
	/* an empty span may come as NULL, which memcpy must not get */
	if (n == 0)
		return;
	memcpy(tr->buf + tr->len, p, n);
	tr->len += n;
}

void
tr_printf(struct transcript *tr, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tr_put(tr, line, n < 0 ? 0 : (size_t)n);
}

int
tr_equal(const struct transcript *got, const struct transcript *want)
{
	return !got->overflow && got->len == want->len &&
	    memcmp(got->buf, want->buf, want->len) == 0;
}

void
tr_report(const struct transcript *got, const struct transcript *want,
    const char *what, size_t runs, size_t c1, size_t c2)
{
	if (!tap_is_mem(got->buf, got->len, want->buf, want->len, "%s (%zu runs)",
	    what, runs) && runs > 1)
		tap_diag("first mismatch with cuts at %zu and %zu", c1, c2);
}

void
tr_check_whole(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	size_t *cuts = malloc((len + 1) * sizeof(*cuts)), i;

	if (cuts == NULL)
		tap_bail("out of memory");
	run(ctx, NULL, 0, &tr);
	tr_report(&tr, want, what, 1, 0, 0);
	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	run(ctx, cuts, len, &tr);
	tr_report(&tr, want, "  ... a byte at a time", 1, 0, 0);
	free(cuts);
}

void
tr_check_splits(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	size_t cut, runs = 0;

	for (cut = 0; cut <= len; cut++) {
		run(ctx, &cut, 1, &tr);
		runs++;
		if (!tr_equal(&tr, want))
			break;
	}
	tr_report(&tr, want, what, runs, cut, cut);
}

void
tr_check_pairs(tr_run_fn run, const void *ctx, size_t len,
    const struct transcript *want, const char *what)
{
	static struct transcript tr;
	size_t cuts[2], runs = 0;

	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++) {
			run(ctx, cuts, 2, &tr);
			runs++;
			if (!tr_equal(&tr, want))
				goto out;
		}
	}
	cuts[0] = cuts[1] = len;
out:
	tr_report(&tr, want, what, runs, cuts[0], cuts[1]);
}
