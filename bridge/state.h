/*
 * bridge/state.h - the cluster bridge's state.
 *
 * Owns: struct bridge (one per bridge process, passed everywhere) and the
 * types the bridge's files share, with no code of its own beyond tiny
 * inlines. The bridge is the master's child for `cluster` (PROTOCOL.md
 * Part 5), supervised like a worker. It reads the ring like a worker (its
 * own position, no lock) and publishes every record made on this node to
 * NATS; it subscribes on NATS to the topics this node's workers pin, and
 * publishes what NATS delivers into the ring, flagged RING_REMOTE so it
 * never goes out again.
 *
 * The bridge's files, from the loop down (each calls only files below it):
 *   bridge.c    set-up, the epoll loop, signals, settings
 *   inbound.c   a MSG from NATS into the ring, and the workers to wake
 *   interest.c  what to subscribe: the topic table's pins as SUB and UNSUB
 *   outbound.c  the ring to NATS: PUB straight from the ring's bytes
 *   link.c      the NATS connection: servers, connecting, backoff, reading,
 *               the output buffer, PING and PONG
 * Must not touch the workers' state or any client connection: workers
 * are reached only through the shared segment and their eventfds.
 */
#ifndef JANUSD_BRIDGE_STATE_H
#define JANUSD_BRIDGE_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/conf.h"
#include "proto/nats.h"
#include "proto/subject.h"
#include "shm/segment.h"
#include "worker/list.h"

#define BRIDGE_MAX_SERVERS 16       /* entries of `cluster` */
#define BRIDGE_EVENTS      256      /* pin log events taken per lock */

/* One entry of `cluster`: nats://HOST[:PORT]. */
struct link_server {
	char host[256];
	char port[8];
};

/* The NATS connection (bridge/link.c's; others use its API). */
struct bridge_link {
	int fd;                      /* -1 while down */
	enum shm_link state;
	int tcp_up;                  /* connect(2) finished */
	int just_up;                 /* came up since the loop last asked (link_take_up) */
	int ever_up;                 /* reconnects count from the second time up */
	unsigned server;             /* the entry of servers in use or next to try */
	unsigned nservers;
	struct link_server servers[BRIDGE_MAX_SERVERS];
	unsigned fails;              /* attempts that failed in a row */
	uint64_t retry_at;           /* ms: down, connect again then */
	uint64_t deadline;           /* ms: connecting, must be up by then */
	uint64_t up_at;              /* ms: when it came up */
	uint64_t ping_at;            /* ms: up, PING then */
	unsigned pings;              /* PINGs sent and not answered */
	uint32_t events;             /* what epoll watches on fd */
	uint64_t max_payload;        /* the server's, from its INFO */
	int sent_connect;            /* CONNECT went out after the INFO */
	int parsing;                 /* inside nats_parse: a failure waits until it returns */
	char why[256];               /* such a waiting failure's reason, or empty */
	nats_op_fn on_msg;           /* where each MSG goes (bridge/inbound.c) */
	struct nats_parser parser;
	char *rbuf;
	char *obuf;                  /* bytes to write, from ooff to olen */
	size_t olen, ooff, ocap;
};

/* A subject the bridge subscribes to (bridge/interest.c's). */
struct bsub {
	struct bsub *hnext;          /* hash chain */
	struct link linger;          /* on linger while nothing pins it */
	struct link pat;             /* on patterns if it is a pattern */
	uint64_t sid;
	uint64_t linger_until;       /* ms, while pins == 0 */
	uint32_t pins;               /* topic ids that want it */
	uint32_t hash;
	uint16_t slen;               /* text: the subject, then for a pattern its name */
	uint16_t tlen;
	int pattern;
	char text[];
};

/* What a topic id of the table holds: its subscription, for that gen. */
struct bpin {
	struct bsub *sub;
	uint32_t gen;
};

struct interest {
	struct bsub **bucket;
	uint32_t mask;               /* buckets - 1 */
	uint32_t n;                  /* subjects */
	uint64_t seed;
	struct bpin *pins;           /* by topic id */
	uint32_t max;                /* topic ids */
	struct link linger;          /* subjects nobody wants, oldest first */
	struct link patterns;
	uint64_t next_sid;
	uint64_t seen;               /* the pin log's head at the last take */
	int rescan;                  /* read the whole table next time */
	struct shm_pin_event ev[BRIDGE_EVENTS];
};

struct outbound;

/* A rate limit for a kind of log line: one a second, and how many were held back. */
struct bridge_quiet {
	uint64_t at;                 /* ms: when one last went out */
	uint64_t held;
};

struct bridge {
	unsigned nworkers;
	int efd;                     /* the bridge's eventfd */
	const int *efds;             /* every worker's eventfd, then the bridge's */
	int master;                  /* pid */
	struct shm *shm;
	struct shm_bridge *me;
	struct shm_bridge_stats *st;
	struct conf conf;
	uint64_t conf_gen;
	struct subject_map map;
	char name[CONF_NAME_MAX + 64];  /* CONNECT's name */
	int epfd;
	uint64_t now;                /* ms, CLOCK_MONOTONIC, once per loop pass */
	uint64_t done;               /* the newest ring record forwarded, skipped or lost */
	uint64_t wake_mask;          /* workers to wake for what came in this pass */
	uint64_t drain_until;        /* QUIT: ms deadline; 0 if not draining */
	int more;                    /* outbound stopped on its budget: no waiting */
	struct bridge_link link;
	struct interest in;
	struct outbound *out;        /* bridge/outbound.c's scratch */
	struct bridge_quiet quiet_in, quiet_out;
};

/* bridge_stat_add - bump one of the bridge's counters (one writer: no locked instruction). */
static inline void
bridge_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

/* bridge_stat_set - set one of them. */
static inline void
bridge_stat_set(_Atomic uint64_t *counter, uint64_t v)
{
	atomic_store_explicit(counter, v, memory_order_relaxed);
}

/*
 * bridge_quiet_due - whether a line of this kind may be logged now;
 * *held gets how many were held back since the last one.
 */
static inline int
bridge_quiet_due(struct bridge_quiet *q, uint64_t now, uint64_t *held)
{
	if (q->at != 0 && now - q->at < 1000) {
		q->held++;
		return 0;
	}
	*held = q->held;
	q->held = 0;
	q->at = now;
	return 1;
}

#endif
