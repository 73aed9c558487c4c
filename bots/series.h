/*
 * bots/series.h - the curves a picture draws, from a run or its report.
 *
 * Owns: filling a struct plot_series from this run's struct report, and
 * reading one back from the JSON line of an earlier run's output (the
 * latencies from the bots' publish: send_latency_ms and send_hist), with
 * a clear message for a file that holds no such line.
 * Must not draw (bots/plot.c) or write reports (bots/report.c).
 */
#ifndef JANUS_BOTS_SERIES_H
#define JANUS_BOTS_SERIES_H

#include <time.h>

#include "bots/plot.h"
#include "bots/report.h"

/* series_from_report - S from this run's figures; -1 if memory runs out. */
int series_from_report(struct plot_series *s, const struct report *r,
    const char *label);
/*
 * series_read - S from SPEC, "LABEL=FILE" or "FILE" (then the label is
 * server or floor, as the report says): the last line of FILE that starts
 * with '{'. Sets *MTIME to the file's. 0, or -1 with a message printed.
 */
int series_read(struct plot_series *s, const char *spec, time_t *mtime);
void series_free(struct plot_series *s);

#endif
