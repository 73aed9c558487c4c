/*
 * bots/floor.h - --floor: the machine's own fan-out floor, no server at all.
 *
 * Owns: the floor's listeners, the writer processes that accept the
 * clients' connections (greeting and ACK, like a server) and write each
 * frame to all of their sockets, and building the frame the parent hands
 * them. The clients are the ordinary ones (bots/client.c), so spread and
 * latency are measured exactly as against a server.
 * Must not count deliveries: the clients do.
 */
#ifndef JANUS_BOTS_FLOOR_H
#define JANUS_BOTS_FLOOR_H

#include <netinet/in.h>
#include <stdint.h>

#include "bots/bots.h"
#include "bots/msg.h"

/* floor_listen - a listener on ADDR and a free port; its fd, or -1. */
int floor_listen(struct in_addr addr, uint16_t *port);
/* floor_main - writer ID: accept on LFD, write every IPC_MSG frame to all. */
int floor_main(const struct bots_opts *o, unsigned id, int lfd, int in_fd,
    int out_fd);
/*
 * floor_publish - stamp message SEQ as a server would and hand the frame to
 * the N writers on FDS; BUF holds 2 * msg_cap() bytes. Sets *SEND_NS.
 */
int floor_publish(const struct msg_spec *s, char *buf, const int *fds,
    unsigned n, uint32_t seq, int64_t *send_ns);

#endif
