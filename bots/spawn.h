/*
 * bots/spawn.h - creating, stopping and reaping janus-bots' child processes.
 *
 * Owns: the process table entries (pid and the two pipe ends the parent
 * keeps), fork with PR_SET_PDEATHSIG so that no child outlives the parent,
 * and stopping every child by PID on any exit path.
 * Must not read or write records: bots/ipc.c frames them, bots/run.c reads.
 */
#ifndef JANUS_BOTS_SPAWN_H
#define JANUS_BOTS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "bots/ipc.h"

struct child {
	pid_t pid;          /* 0 once reaped (or never started) */
	int to_fd;          /* parent writes commands here (blocking) */
	int from_fd;        /* parent reads records here (non-blocking) */
	int status;         /* wait status after reaping */
	int eof;            /* from_fd reached end of file */
	struct ipc_in in;
};

/* A child's work: returns its exit status. */
typedef int (*child_body)(void *arg, int in_fd, int out_fd);

/*
 * child_spawn - fork PS[I] to run BODY(ARG). The child first closes the
 * parent's ends of PS[0..I-1] and the NCLOSE descriptors in CLOSE_IN_CHILD
 * (-1 entries skipped). 0, or -1 with a message printed.
 */
int child_spawn(struct child *ps, unsigned i, child_body body, void *arg,
    const int *close_in_child, unsigned nclose);
/* child_reap_all - wait for every child until DEADLINE_NS, then SIGKILL the rest. */
void child_reap_all(struct child *ps, unsigned n, long long deadline_ns);
/* child_kill_all - SIGKILL and reap every child still running (any exit path). */
void child_kill_all(struct child *ps, unsigned n);
/* child_describe - "exited with status 2", "killed by signal 9", ... */
void child_describe(int status, char *out, size_t len);
void child_close(struct child *p);

#endif
