/*
 * worker/state.h - a worker process's state and its connections.
 *
 * Owns: struct worker (one per process, passed everywhere), struct conn
 * and the other types every worker file shares, with no code of its own
 * beyond tiny inlines, so every file can use them without depending on
 * the loop above it. A worker serves the
 * connections it accepted on its slot's listening socket in one epoll
 * loop, and fans messages out of the shared ring to them.
 *
 * The worker's files, from the loop down (each calls only files below it):
 *   worker.c   the loop: events, then fan-out, timers, reaping
 *   session.c  accepting, reading, acting on requests, frame deadlines, freeing
 *   subs.c     subscriptions and resume        publish.c  into the ring
 *   fanout.c   the ring, grouped by topic, to the subscribers
 *   deliver.c  all output: replies, cursors, partial writes, heartbeats
 *   wpath_send.c, wpath_uring.c  the write path: send(2), or io_uring batches
 *   batch.c    iovecs for a run of records     tcp.c      the \1 transport
 *   uring.c    the raw io_uring instance
 *   conn.c     a connection's name, rights and (deferred) close
 * Must not touch another worker's state: other workers are reached only
 * through the shared segment and their eventfds.
 */
#ifndef JANUSD_WORKER_STATE_H
#define JANUSD_WORKER_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/conf.h"
#include "proto/frame.h"
#include "proto/proxy.h"
#include "proto/ws.h"
#include "shm/segment.h"
#include "worker/list.h"
#include "worker/patterns.h"

#define WORKER_RBUF    (64 << 10)
#define WORKER_HTTP_BODY (1 << 20)   /* the largest HTTP answer body: page, /stats, /metrics */

enum conn_flag {
	CONN_V2 = 1 << 0,            /* said hello version 2 */
	CONN_AFTER_PUBLISH = 1 << 1, /* Part 1: the next frame is a message */
	CONN_AUTHED = 1 << 2,        /* gave the publish key */
	CONN_CLOSING = 1 << 3,       /* closed; freed at the end of the loop pass */
	CONN_NET_PUB = 1 << 4,       /* its address may publish */
	CONN_NET_SUB = 1 << 5,       /* its address may subscribe */
	CONN_HB_EVERY = 1 << 6,      /* PING after every silent interval, closed after two (v2, WebSocket) */
	CONN_EOF_HELD = 1 << 7       /* the client is gone: close once its held frames are done */
};

/* Frames a paced connection sent, kept in order until its publish can go (worker/session.c). */
struct held {
	uint32_t len, cap, off;      /* bytes kept, allocated, and done with */
	char buf[];                  /* each frame: its length (4 bytes), then its bytes */
};

/*
 * One subscription of a connection: an exact topic, or a pattern's entry
 * (then c->pats says more). from is the first record it brings c: after
 * + 1, or where a resume of it that was served started (worker/deliver.c
 * lowers it then), so that a resume of another subscription skips what
 * this one sent or sends.
 */
struct csub {
	uint32_t topic;              /* shm topic id */
	uint32_t pos;                /* index in the topic's subscriber array */
	uint64_t after;              /* deliver only records with seq > after */
	uint64_t from;               /* exact topics: records from here on reach c through it */
};

/*
 * A wildcard subscription of a connection (PROTOCOL.md Part 4): besides
 * its struct csub (for its pattern's entry in the shared table, which
 * the limits, gap reports and unsubscribing see like any topic's), what
 * matching needs.
 */
struct cpat {
	uint32_t entry;              /* the csub's topic: the pattern's entry */
	uint32_t len;
	uint64_t after;              /* deliver only records with seq > after */
	uint64_t from;               /* matching records from here on reach c through it (struct csub) */
	char name[CONF_TOPIC_MAX + 1];
};

/* A connection's wildcard subscriptions, and its last answer to "does a pattern match". */
struct cpats {
	uint32_t n, cap;
	uint64_t after_max;              /* the greatest after a pattern of it had (not lowered) */
	uint32_t memo_topic, memo_gen;   /* the topic last asked about */
	uint64_t memo_pgen;              /* the worker's pattern generation it was asked in */
	uint64_t memo_after;             /* the least after of the matching patterns (UINT64_MAX: */
	int memo_least;                  /*   none match), or if !memo_least, after_max: some do */
	struct cpat p[];
};

/* A queued reply. Each goes out in a write of its own, as ACK requires. */
struct cctl {
	uint32_t len;
	uint32_t off;                /* bytes already written */
	char *buf;
};

/*
 * A connection's output state. Only worker/deliver.c reads or writes
 * these fields; everyone else goes through its API (worker/deliver.h),
 * where the invariants are written down.
 */
struct out {
	uint32_t flags;              /* enum out_flag, worker/deliver.h */
	uint64_t cursor;             /* OUT_BEHIND: next record to consider */
	uint64_t owed;               /* OUT_BEHIND: bytes of records waiting */
	uint64_t gap_from, gap_to;   /* skipped records to report (v2) */
	uint32_t gap_idx;            /* next subscription to send the gap frame for */
	char *part;                  /* rest of a record cut short by the socket */
	uint32_t part_len, part_off;
	uint32_t nctl, ctlcap;
	struct cctl *ctl;
	const struct batch *posted;  /* OUT_POSTED: the fan-out batch handed to the write path */
	uint64_t last_tx;            /* ms: last message sent (heartbeat) */
	uint64_t progress;           /* ms: the socket last took bytes (or the lag began) */
	const char *linger_why;      /* OUT_LINGER: what conn_close logs once all is out */
	struct replay *replay;       /* resumes to serve before the cursor, oldest first */
	struct link hb;              /* heartbeat list, in last_tx order */
	struct link behind;          /* OUT_BEHIND list */
};

/*
 * A resume being served: one topic's records from start to until, walked
 * through their links, or (pattern) the ring's records in that range
 * whose topics the pattern matches; either without the records that
 * another subscription of the connection brings it (csub.from, cpat.from).
 */
struct replay {
	struct replay *next;
	uint32_t topic, gen;         /* the topic; pattern: topic is the pattern's entry */
	uint64_t start, until;
	uint64_t pos;                /* finding: walking back from here; then the next to send; 0 done */
	int finding;
	uint64_t lost_from, lost_to; /* what left the ring before it was replayed, for a gap frame (0: none) */
	uint32_t memo_topic, memo_gen;   /* the last topic looked at */
	uint64_t memo_pgen;              /*   in this generation of the worker's patterns */
	int memo_match;                  /*   pattern: whether it matches */
	uint64_t memo_from;              /*   c's other patterns bring its records from here on */
	uint32_t plen;               /* pattern: its length (0: a topic replay) */
	char pattern[];
};

struct transport;
struct http_in;

struct conn {
	int fd;
	uint32_t flags;              /* enum conn_flag */
	const struct transport *tp;  /* how frames look on this connection */
	union {                      /* the transport's input state */
		struct framer frames;        /* tcp: \0-ended frames */
		struct ws_parser ws;         /* websocket */
		struct http_in *http;        /* http: the request head so far, or NULL */
	} in;
	uint64_t in_since;           /* ms: when the unfinished frame started */
	uint64_t last_rx;            /* ms: last bytes received */
	struct out out;
	uint32_t nsubs, subcap;
	struct csub *subs;
	struct csub sub1;            /* the first subscription, without malloc */
	uint32_t *subix;             /* worker/subix.h: topic id -> 1 + index in subs; NULL while few */
	uint32_t subix_mask;         /*   its slots - 1 (a power of two, at least twice nsubs) */
	struct cpats *pats;          /* wildcard subscriptions, or NULL */
	struct pat_owner po;         /* its place in the worker's pattern trie */
	uint32_t fan_pass;           /* worker/fanout.c: the pass fan_* belong to */
	uint32_t fan_last;           /*   the last topic it was counted for */
	uint32_t fan_topics;         /*   topics of the pass it gets */
	uint32_t in_held;            /* bytes the input state held after the last read */
	struct held *held;           /* paced: its frames from the waiting publish on, or NULL */
	uint64_t paced_since;        /* ms: when that publish began to wait */
	struct link paced;           /* the worker's paced list */
	struct link timeo;           /* unfinished-frame list */
	struct link idle;            /* no subscriptions: idle_timeout list, in last_rx order */
	struct link readable;        /* more input to read next pass */
	struct link dead;            /* closed, to free */
	uint8_t family;              /* 4 or 6 */
	uint16_t port;
	uint8_t addr[16];
	uint32_t addr_id;            /* its shm address entry, SHM_NONE if not counted */
	struct proxy_in *pin;        /* from proxy_allow: the PROXY header so far, until it is whole */
};

/* A PROXY protocol header arriving (worker/session.c). */
struct proxy_in {
	uint32_t len;
	char buf[PROXY_HDR_MAX];
};

/* A topic that has subscribers in this worker (which pins it in the shared table). */
struct ltopic {
	uint32_t id;
	uint32_t gen;                /* the id's generation: records of other lives are not ours */
	uint32_t n, cap;
	struct conn **subs;
	uint32_t len;
	char name[CONF_TOPIC_MAX + 1];
};

struct batch;
struct fanout;
struct catchup;
struct stats_snap;
struct wpath;
struct wpath_ring;
struct wcache;
struct wild_result;

/* A recently logged refusal (worker/conn.c's rate limit). */
struct refusal_log {
	uint32_t key;                /* reason and address, hashed; 0 unused */
	uint32_t quiet;              /* refusals not logged since */
	uint64_t at;                 /* ms: when it was last logged */
};

#define WORKER_REFUSAL_LOG 256


struct worker {
	unsigned slot;
	unsigned nworkers;
	int lfd;                     /* this slot's listening socket (the master's copy stays open) */
	int hfd;                     /* and its HTTP/WebSocket one, or -1 */
	int epfd;
	int efd;                     /* this worker's eventfd */
	const int *efds;             /* every worker's eventfd, by slot, then the bridge's (or -1) */
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
	uint64_t wake_mask;          /* workers (and the bridge) to wake after this pass (shm/publish.h) */
	uint64_t pinlog_seen;        /* the shm pin log's head when the bridge was last told of it */
	struct ltopic **topics;      /* by shm topic id */
	struct patterns patterns;    /* every connection's wildcard subscriptions */
	struct wcache **wcache;      /* worker/wild.c: by shm topic id, who patterns reach */
	struct link wcache_list;     /*   every cache entry, to drop them all at once */
	struct wild_result *wild_out;    /*   matches to tell the shared table, this pass */
	uint32_t nwild_out;
	struct conn **byfd;
	uint32_t nfd;
	struct link hb, timeo, htimeo, idle, behind, dead, readable, paced;
	uint64_t frame_bytes;        /* held by unfinished frames (max_frame_memory) */
	uint64_t frame_freed;        /* given back since malloc_trim last ran */
	char *rbuf;
	char *body;                  /* a publish's members, rendered while parsing */
	size_t body_cap;
	char *http_out;              /* an HTTP answer (worker/http.c), allocated on first use */
	size_t http_out_cap;
	struct stats_snap *http_snap;    /*   and the counters it renders */
	uint64_t token_key[2];
	uint64_t token_ctr;
	struct fanout *fan;          /* worker/fanout.c's per-pass scratch */
	struct catchup *cu;          /* worker/deliver.c's scratch for cursors */
	int deliver_more;            /* worker/deliver.c stopped a connection on its budget */
	const struct wpath *wp;      /* the write path (worker/wpath.h), chosen by worker/worker.c */
	struct wpath_ring *wring;    /* worker/wpath_uring.c's instance, or NULL */
	struct refusal_log refusals[WORKER_REFUSAL_LOG];
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

/* worker_ms_until - ms from now until deadline (0 if past), at most cap: the loop's wait. */
static inline int
worker_ms_until(const struct worker *w, uint64_t deadline, int cap)
{
	if (deadline <= w->now)
		return 0;
	return deadline - w->now < (uint64_t)cap ? (int)(deadline - w->now) : cap;
}

/* conn_subix_home - where topic id's probe starts in c's subscription index (the product's high bits, well mixed). */
static inline uint32_t
conn_subix_home(const struct conn *c, uint32_t topic)
{
	return (uint32_t)((topic * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & c->subix_mask;
}

/* conn_subix_slot - c's index slot naming topic id, or the empty one where it goes. */
static inline uint32_t *
conn_subix_slot(const struct conn *c, uint32_t topic)
{
	uint32_t i = conn_subix_home(c, topic);

	while (c->subix[i] != 0 && c->subs[c->subix[i] - 1].topic != topic)
		i = (i + 1) & c->subix_mask;
	return &c->subix[i];
}

/*
 * conn_sub - c's subscription to topic id, or NULL: a scan while c has
 * few, else its index, so a connection holding thousands (patterns)
 * costs no more per lookup.
 */
static inline struct csub *
conn_sub(const struct conn *c, uint32_t topic)
{
	uint32_t i, *slot;

	if (c->subix != NULL) {
		slot = conn_subix_slot(c, topic);
		return *slot != 0 ? &c->subs[*slot - 1] : NULL;
	}
	for (i = 0; i < c->nsubs; i++)
		if (c->subs[i].topic == topic)
			return &c->subs[i];
	return NULL;
}

#endif
