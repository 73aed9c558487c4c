/*
 * bots/report.h - what a run measured, and printing it.
 *
 * Owns: struct report (the merged figures of one run) and its two forms:
 * the text report (the 2009 bots' "setup: ..., good: ..., bad: ..., run:
 * ..." line and histogram, then wsperf-style percentiles) and one JSON line.
 * Must not measure anything: bots/run.c fills the struct.
 */
#ifndef JANUS_BOTS_REPORT_H
#define JANUS_BOTS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "bots/bots.h"
#include "bots/hist.h"
#include "bots/ipc.h"

struct report {
	const struct bots_opts *o;
	int setup_error;          /* the run could not be set up: exit 2 */
	uint64_t good, bad;       /* clients with every message intact / not */
	uint64_t deliveries_expected;  /* clients x planned messages */
	uint64_t deliveries_good; /* deliveries intact, in order, once */
	uint64_t corrupt, dup, unexpected;
	uint64_t connected, failed, closed;
	uint64_t connected_ready; /* clients that had their ACK at the set-up barrier */
	uint32_t messages;        /* messages each client expected */
	uint64_t published, pub_failed, acks, refused;
	int64_t setup_ns;         /* start until the last client had its ACK */
	int64_t run_ns;           /* first publish until the last good delivery */
	int64_t spread_ns;        /* max over messages of publish-to-last-client */
	int64_t publish_ns;       /* first publish until the last */
	int64_t late_ns;          /* rate mode: the most a publish fell behind */
	int64_t cpu_user_ns;      /* the client children's CPU time, summed */
	int64_t cpu_sys_ns;
	int64_t *spreads;         /* lockstep: per message, -1 if nobody got it */
	unsigned nspreads;
	struct hist wall;         /* latency from the server's timestamp */
	struct hist mono;         /* latency from the bots' own publish send */
	char first_err[IPC_ERRLEN];
	char pub_err[IPC_ERRLEN];
};

/* The JSON keys of the latencies from the bots' own publish, which a picture shows. */
#define REPORT_KEY_SEND_LATENCY "send_latency_ms"
#define REPORT_KEY_SEND_HIST "send_hist"

int report_init(struct report *r, const struct bots_opts *o);
void report_free(struct report *r);
/* report_status - the exit status the figures call for. */
int report_status(const struct report *r);
void report_text(const struct report *r, FILE *f);
/*
 * report_quantile - the key of the Ith quantile the JSON line gives (min,
 * median, ..., max) and its Q (0 .. 1); NULL past the last.
 */
const char *report_quantile(unsigned i, double *q);
/* report_mode - "lockstep", "rate" or "flood", as the JSON line says. */
const char *report_mode(const struct bots_opts *o);
/* report_rows - H cut into the rows both reports print (--bucket or automatic). */
int report_rows(const struct report *r, const struct hist *h, struct hist_rows *rows);
void report_json(const struct report *r, FILE *f);

#endif
