/*
 * bots/client.h - a child process that runs a share of the subscribing clients.
 *
 * Owns: the client connections of one child (connect with a bounded number
 * in flight, greeting, subscribe, ACK), reading and checking every
 * delivered frame, and counting and timing deliveries. Reports to the parent
 * over a pipe (bots/ipc.h).
 * Must not publish and must not print a report.
 */
#ifndef JANUS_BOTS_CLIENT_H
#define JANUS_BOTS_CLIENT_H

#include "bots/bots.h"

struct client_plan {
	unsigned id;      /* child number, for messages */
	unsigned first;   /* global index of its first client */
	unsigned count;   /* clients it runs */
};

/* client_main - run the clients until the parent says STOP; exit status. */
int client_main(const struct bots_opts *o, const struct bots_target *t,
    const struct client_plan *plan, int in_fd, int out_fd);

#endif
