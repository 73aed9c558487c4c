/*
 * worker/worker.h - a worker process, as the master starts it.
 *
 * Owns: the entry point. The master fills in a struct worker
 * (worker/state.h) in the new process and calls worker_main, whose
 * return value is the process's exit status: 0 for a normal stop, 2 for
 * "this worker cannot run, do not respawn it".
 * Must not be included by worker files below the loop: they use state.h.
 */
#ifndef JANUSD_WORKER_WORKER_H
#define JANUSD_WORKER_WORKER_H

#include "worker/state.h"

int worker_main(struct worker *w);

#endif
