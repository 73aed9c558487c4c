/*
 * worker/batch.h - a run of ring records as iovecs, framed for a transport.
 *
 * Owns: building the iovecs that send records straight from the ring,
 * for one transport and one protocol version, and reading a record's wire
 * bytes back out of them (for the rest of a record a socket cut short).
 * Per record: the transport's head (if any), the record's prefix, for
 * version 2 `"seq":N,`, then the rest of the record (without its final \1
 * where the transport drops it). Adjacent records with nothing inserted
 * between them go out as one iovec, and the iovecs as one msghdr that
 * every write of the batch uses (an io_uring SENDMSG reads it until its
 * completion is reaped). Where heads or seqs split a batch into several
 * iovecs, its short ones (up to BATCH_SHORT bytes) are copied once into
 * b->flat, each run of them one iovec, while BATCH_FLAT has room: every
 * subscriber's write then walks a few iovecs instead of two per record (a
 * WebSocket batch of short records cost the kernel twice the copying of
 * the same batch over TCP); long records still go out from the ring. The
 * caller checks with ring_intact after using the bytes, copied or not.
 * Must not write to sockets or know about connections.
 */
#ifndef JANUSD_WORKER_BATCH_H
#define JANUSD_WORKER_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto/render.h"
#include "shm/ring.h"
#include "worker/transport.h"

#define BATCH_IOV  1024                  /* iovecs per sendmsg (IOV_MAX on Linux) */
#define BATCH_RECS (BATCH_IOV / 4)       /* head, prefix, seq and rest per record */
#define BATCH_SHORT 2048                 /* an iovec up to this long is copied into flat */
#define BATCH_FLAT  (64 * 1024)          /* room for copied iovecs per batch */

struct batch {
	const struct transport *tp;
	int v2;                              /* "seq":N after each prefix */
	const struct ring_rec *recs;
	uint32_t nrec;
	uint32_t niov;
	size_t total;                        /* wire bytes of all records */
	struct msghdr mh;                    /* iov as one sendmsg, shared by every write of the batch */
	struct iovec iov[BATCH_IOV];
	uint8_t seqlen[BATCH_RECS];
	uint8_t headlen[BATCH_RECS];
	char seq[BATCH_RECS][RENDER_SEQ_MAX];
	char head[BATCH_RECS][TRANSPORT_HEAD_MAX];
	char flat[BATCH_FLAT];               /* short iovecs' bytes, copied */
};

/* batch_build - iovecs for recs[0..n) (n <= BATCH_RECS) framed by tp, for version v2 or not. */
void batch_build(struct batch *b, const struct transport *tp, int v2,
    const struct ring_rec *recs, uint32_t n);

/* batch_rec_len - the wire bytes of record i. */
size_t batch_rec_len(const struct batch *b, uint32_t i);

/* batch_copy_rest - copy record i's wire bytes from offset off on into dst. */
void batch_copy_rest(const struct batch *b, uint32_t i, size_t off, char *dst);

#endif
