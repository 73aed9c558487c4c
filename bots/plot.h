/*
 * bots/plot.h - the latency distribution of one or more runs as an SVG.
 *
 * Owns: struct plot_series (what one curve shows: a run's latencies from
 * the bots' publish to receipt, as its report gives them, and what ran)
 * and struct plot (the curves of one picture and its caption), and writing
 * the picture: a self-contained SVG, written by hand.
 * Must not measure or read reports: bots/series.c fills the series.
 */
#ifndef JANUS_BOTS_PLOT_H
#define JANUS_BOTS_PLOT_H

#include <stdint.h>
#include <time.h>

#define PLOT_LABEL 64
#define PLOT_MODE 16
#define PLOT_MAX_Q 16

struct plot_series {
	char label[PLOT_LABEL];   /* the curve's name in the legend */
	/* what ran, as the report says */
	char mode[PLOT_MODE];     /* lockstep, rate or flood */
	int floor;
	unsigned writers, clients, messages;
	double rate, duration_s;
	/* the distribution, in ms as the report prints it (to the microsecond) */
	uint64_t n;               /* deliveries; 0: no curve */
	unsigned nq;
	const char *qkey[PLOT_MAX_Q];  /* the report's names: min, median, ... */
	double q[PLOT_MAX_Q];          /* 0 (min) .. 1 (max), increasing */
	double qms[PLOT_MAX_Q];
	double bucket_ms, start_ms;    /* histogram rows */
	unsigned nrows;
	uint64_t *counts;
};

struct plot {
	const char *title;
	time_t when;              /* the run's date */
	int argc;                 /* the command line that drew it */
	char *const *argv;
	const struct plot_series *series;
	unsigned nseries;
};

/* plot_init - a picture with no series yet; TITLE NULL for the default. */
void plot_init(struct plot *p, const char *title, time_t when, int argc,
    char *const *argv);
/* plot_save - write the SVG to PATH; 0, or -1 with a message printed. */
int plot_save(const struct plot *p, const char *path);

#endif
