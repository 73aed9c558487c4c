/*
 * bots/run.h - the parent process: one run, from spawning to the figures.
 *
 * Owns: the phases of a run (spawn, set-up barrier, publishing in lockstep
 * or at a rate, the final wait, collecting results), the overall deadline
 * and ^C, and merging the children's results into a struct report.
 * Must not print the report (bots/report.c) or parse options (bots/main.c).
 */
#ifndef JANUS_BOTS_RUN_H
#define JANUS_BOTS_RUN_H

#include "bots/bots.h"
#include "bots/report.h"

/* run_main - do one run; every child is reaped before it returns. */
void run_main(const struct bots_opts *o, struct report *rep);

#endif
