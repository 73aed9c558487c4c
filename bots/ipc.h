/*
 * bots/ipc.h - records on the pipes between the parent and its children.
 *
 * Owns: the record types, their framing (type, length, payload) and the
 * payload layouts both sides read. A child writes with blocking writes;
 * the parent and the children read non-blocking and reassemble.
 * Must not decide what a record means: the parent (bots/run.c), the client
 * children (bots/client.c) and the floor writers (bots/floor.c) do.
 */
#ifndef JANUS_BOTS_IPC_H
#define JANUS_BOTS_IPC_H

#include <stddef.h>
#include <stdint.h>

enum ipc_type {
	IPC_READY = 1,   /* child -> parent: set-up over (struct ipc_ready) */
	IPC_DONE,        /* child -> parent: uint32 K, messages 0..K-1 settled for all */
	IPC_FINISHED,    /* child -> parent: every client settled */
	IPC_RESULT,      /* child -> parent: struct ipc_result, spreads, 2 hists */
	IPC_ERROR,       /* child -> parent: text; the child exits with status 2 */
	IPC_STOP,        /* parent -> child: report and exit */
	IPC_MSG,         /* parent -> floor writer: a frame to write to all */
	IPC_LAST,        /* parent -> child: uint32, messages published in all */
	IPC_PROGRESS     /* child -> parent: struct ipc_progress, for the progress line */
};

#define IPC_ERRLEN 200

struct ipc_ready {
	int64_t setup_start_ns;   /* when the child began its first connect */
	int64_t setup_end_ns;     /* when the child's last client got its ACK */
	uint64_t connected;       /* clients that got their ACK */
	uint64_t failed;          /* clients that never did */
	char first_err[IPC_ERRLEN];
};

/* Counts since the child began; sent a few times a second while they change. */
struct ipc_progress {
	uint64_t connected;       /* clients greeted by the server */
	uint64_t subscribed;      /* clients that got their ACK */
	uint64_t delivered;       /* good deliveries */
};

struct ipc_result {
	uint64_t clients;
	uint64_t connected, failed, closed;
	uint64_t good;            /* clients with every message (bots/client.c) */
	uint64_t deliveries;      /* deliveries intact, in order, once */
	uint64_t corrupt, dup, unexpected;
	int64_t setup_end_ns;
	int64_t last_recv_ns;     /* last good delivery, 0 if none */
	int64_t cpu_user_ns;      /* the child's own CPU time (getrusage) */
	int64_t cpu_sys_ns;
	uint32_t nspread;         /* int64 spreads (ns) that follow, per message */
	char first_err[IPC_ERRLEN];
};

/* A reassembly buffer for the reading side. */
struct ipc_in {
	char *buf;
	size_t len, off, cap;
};

int ipc_send(int fd, uint32_t type, const void *p, size_t len);
/* ipc_fill - read what FD holds: >0 bytes, 0 at end of file, -1 (errno). */
long ipc_fill(int fd, struct ipc_in *in);
/* ipc_next - pop one complete record; 1 if one was popped, 0 if none yet. */
int ipc_next(struct ipc_in *in, uint32_t *type, const char **p, size_t *len);
void ipc_free(struct ipc_in *in);

#endif
