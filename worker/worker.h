/*
 * worker/worker.h - a worker process: its state and its connections.
 *
 * Owns: struct worker (one per process, passed everywhere) and struct
 * conn, and the functions the worker's files offer each other. A worker
 * serves the connections it accepted on its slot's listening socket in
 * one epoll loop, and fans messages out of the shared ring to them.
 * Must not touch another worker's state: other workers are reached only
 * through the shared segment and their eventfds.
 */
#ifndef JANUSD_WORKER_WORKER_H
#define JANUSD_WORKER_WORKER_H

#include <signal.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/conf.h"
#include "proto/frame.h"
#include "proto/render.h"
#include "proto/request.h"
#include "shm/segment.h"
#include "worker/list.h"

#define WORKER_BATCH   1024      /* ring records fanned out per pass */
#define WORKER_IOV     1024      /* iovecs per writev (IOV_MAX on Linux) */
#define WORKER_RBUF    (64 << 10)

enum conn_flag {
	CONN_V2 = 1 << 0,            /* said hello version 2 */
	CONN_AFTER_PUBLISH = 1 << 1, /* Part 1: the next frame is a message */
	CONN_AUTHED = 1 << 2,        /* gave the publish key */
	CONN_BEHIND = 1 << 3,        /* delivery runs from cursor, not the fan-out */
	CONN_BLOCKED = 1 << 4,       /* socket full: waiting for EPOLLOUT */
	CONN_CLOSING = 1 << 5,       /* closed; freed at the end of the loop pass */
	CONN_WDEAD = 1 << 6,         /* writes fail: read what is left, then close */
	CONN_NET_PUB = 1 << 7,       /* its address may publish */
	CONN_NET_SUB = 1 << 8        /* its address may subscribe */
};

/* One subscription of a connection. */
struct csub {
	uint32_t topic;              /* shm topic id */
	uint32_t pos;                /* index in the topic's subscriber array */
	uint64_t after;              /* deliver only records with seq > after */
};

/* A queued reply. Each goes out in a write of its own, as ACK requires. */
struct cctl {
	uint32_t len;
	uint32_t off;                /* bytes already written */
	char *buf;
};

struct conn {
	int fd;
	uint32_t flags;
	struct framer in;
	uint64_t in_since;           /* ms: when the unfinished frame started */
	uint64_t last_tx;            /* ms: last message sent (heartbeat) */
	uint64_t last_rx;            /* ms: last bytes received */
	uint64_t cursor;             /* CONN_BEHIND: next record to consider */
	uint64_t owed;               /* CONN_BEHIND: bytes of records waiting */
	uint64_t gap_from, gap_to;   /* skipped records to report (v2) */
	uint32_t gap_idx;            /* next subscription to send the gap frame for */
	char *part;                  /* rest of a record cut short by the socket */
	uint32_t part_len, part_off;
	uint32_t nctl, ctlcap;
	struct cctl *ctl;
	uint32_t nsubs, subcap;
	struct csub *subs;
	struct csub sub1;            /* the first subscription, without malloc */
	struct link hb;              /* heartbeat list */
	struct link timeo;           /* unfinished-frame list */
	struct link behind;          /* CONN_BEHIND list */
	struct link dead;            /* closed, to free */
	uint8_t family;              /* 4 or 6 */
	uint16_t port;
	uint8_t addr[16];
};

/* A topic that has subscribers in this worker. */
struct ltopic {
	uint32_t id;
	uint32_t n, cap;
	struct conn **subs;
	uint32_t bfirst, blast;      /* this pass's records: indexes into w->batch */
	uint32_t bn;
	uint64_t bbytes;
	uint32_t len;
	char name[CONF_TOPIC_MAX + 1];
};

struct batch_rec {
	struct ring_rec rec;
	uint32_t next;               /* next record of the same topic, or UINT32_MAX */
};

/* Records on their way to one or more connections, as iovecs over the ring. */
struct out_batch {
	const struct ring_rec *recs;
	uint32_t nrec;
	int v2;                      /* with "seq":N, after each prefix */
	uint32_t niov;
	size_t total;                /* bytes, seq members included */
	struct iovec iov[WORKER_IOV];
	char seq[WORKER_IOV / 3][RENDER_SEQ_MAX];
	uint8_t seqlen[WORKER_IOV / 3];
};

/* The most records one out_batch carries: three iovecs each for version 2. */
#define OUT_BATCH_RECS (WORKER_IOV / 3)

struct worker {
	unsigned slot;
	unsigned nworkers;
	int lfd;                     /* this slot's listening socket (the master's copy stays open) */
	int epfd;
	int efd;                     /* this worker's eventfd */
	const int *efds;             /* every worker's eventfd, by slot */
	int master;                  /* pid */
	struct shm *shm;
	struct shm_worker *me;
	struct shm_stats *stats;
	struct conf conf;
	uint64_t conf_gen;
	uint32_t max_conns;
	uint32_t nconns;
	uint64_t done;               /* ring records fanned out so far */
	uint64_t drain_until;        /* graceful stop: ms deadline, 0 if not draining */
	uint64_t now;                /* ms, CLOCK_MONOTONIC, once per loop pass */
	uint64_t wake_mask;          /* workers to wake after this pass's publishes */
	struct ltopic **topics;      /* by shm topic id */
	struct conn **byfd;
	uint32_t nfd;
	struct link hb, timeo, behind, dead, readable;
	char *rbuf;
	uint64_t token_key[2];
	uint64_t token_ctr;
	struct batch_rec *batch;     /* this pass's records in ring order */
	struct ring_rec *sorted;     /* the same, grouped by topic */
	struct ltopic **touched;
	uint32_t ntouched;
	struct out_batch *fan[2];    /* fan-out iovecs: Part 1, version 2 */
	struct out_batch *cu;        /* catch-up iovecs */
	struct ring_rec *curecs;
};

/*
 * stat_add - bump one of this worker's shared counters. Each has a single
 * writer, so a plain relaxed load and store is enough: no locked
 * instruction on the fan-out path.
 */
static inline void
stat_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

/* worker/worker.c */
int worker_main(struct worker *w);

/* worker/conn.c: accept, read, requests, close */
void conn_accept_all(struct worker *w);
void conn_acl(const struct worker *w, struct conn *c);
const char *conn_name(const struct conn *c, char *buf, size_t cap);
void conn_readable(struct worker *w, struct conn *c, int hup);
void conn_close(struct worker *w, struct conn *c, const char *why);
void conn_reap(struct worker *w);
void conn_close_all(struct worker *w);

/* worker/out.c: everything written to a client */
int out_reply(struct worker *w, struct conn *c, const char *buf, size_t len);
int out_error(struct worker *w, struct conn *c, const char *code, const char *text);
void out_flush(struct worker *w, struct conn *c);
void out_behind(struct worker *w, struct conn *c, uint64_t cursor);
void out_ahead(struct worker *w, struct conn *c);
void out_batch_build(struct out_batch *b, const struct ring_rec *recs,
    uint32_t nrec, int v2);
int out_send_batch(struct worker *w, struct conn *c, const struct out_batch *b);
void out_check_lag(struct worker *w, struct conn *c);
int out_pending(const struct conn *c);
void out_free(struct conn *c);

/* worker/fanout.c: the ring to the subscribers */
void fanout_run(struct worker *w);
void fanout_wake(struct worker *w);

/* worker/subs.c: subscriptions */
struct csub *subs_find(struct conn *c, uint32_t topic);
int subs_subscribe(struct worker *w, struct conn *c, const struct request *r);
void subs_unsubscribe(struct worker *w, struct conn *c, const struct request *r);
void subs_drop_all(struct worker *w, struct conn *c);

/* worker/publish.c: messages into the ring */
int publish_message(struct worker *w, struct conn *c, const struct request *r);
int publish_allowed(const struct worker *w, const struct conn *c);

/* worker/timer.c: heartbeats and frame deadlines */
void timer_sent(struct worker *w, struct conn *c);
void timer_frame(struct worker *w, struct conn *c, int finished);
void timer_run(struct worker *w);
int timer_next(const struct worker *w);

#endif
