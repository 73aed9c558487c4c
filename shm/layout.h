/*
 * shm/layout.h - the layout of the shared segment, as every process sees it.
 *
 * Owns: the structs that live in shared memory and nothing else. Every
 * field that more than one process touches is an atomic; fields written
 * by one party and read by others sit on their own cache lines
 * (SHM_LINE), so workers do not fight over a line.
 *
 *   header | lock | pin log | ring control | worker slots | bridge |
 *   ring slots | ring data |
 *   topic hash chains | topic entries | topic names |
 *   address hash chains | address entries
 */
#ifndef JANUSD_SHM_LAYOUT_H
#define JANUSD_SHM_LAYOUT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/conf.h"

#define SHM_MAGIC    UINT64_C(0x3164737573756e6a)  /* "jnususd1" */
#define SHM_VERSION  3
#define SHM_LINE     128
#define SHM_EPOCH_LEN 16
#define SHM_DELAY_BUCKETS 21      /* fan-out delay histogram: 20 bounds and above (shm/stats.h) */

/* One worker's counters. Written by that worker only; read by anyone. */
struct shm_stats {
	_Atomic uint64_t conns;      /* open now */
	_Atomic uint64_t accepted;   /* since the worker started */
	_Atomic uint64_t subs;       /* open subscriptions now */
	_Atomic uint64_t published;  /* messages this worker put in the ring */
	_Atomic uint64_t delivered;  /* messages written whole to subscribers */
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t errors;     /* error frames sent */
	_Atomic uint64_t slow;       /* slow consumers disconnected or skipped */
	_Atomic uint64_t refused;    /* connections refused at max_conns */
	_Atomic uint64_t refused_addr;  /* connections refused at max_conns_per_ip */
	_Atomic uint64_t quota;      /* subscriptions refused at max_topics_per_ip */
	_Atomic uint64_t table_full; /* subscriptions and publishes refused: every topic pinned */
	_Atomic uint64_t auth_failed;   /* wrong keys (each connection closed) */
	_Atomic uint64_t auth_delayed;  /* keys refused unread: the address is waiting after wrong ones */
	_Atomic uint64_t idle_closed;   /* connections closed after idle_timeout without subscriptions */
	_Atomic uint64_t frame_memory;  /* connections closed at max_frame_memory */
	_Atomic uint64_t bad_members;   /* publishes refused for a repeated or server-written member */
	/* by transport (Part 3): conns counts every connection, these the non-TCP ones */
	_Atomic uint64_t conns_ws;      /* of conns: WebSocket connections open now */
	_Atomic uint64_t conns_http;    /* of conns: HTTP connections open now, not upgraded */
	_Atomic uint64_t accepted_http; /* of accepted: on the HTTP port */
	_Atomic uint64_t upgrades;      /* HTTP connections that became WebSocket (101 sent) */
	_Atomic uint64_t http_requests; /* HTTP requests answered, whatever the status */
	/* flow control (issue 11) */
	_Atomic uint64_t paced;      /* publishes that waited for reading subscribers */
	_Atomic uint64_t paced_ms;   /* the time they waited, in all */
	_Atomic uint64_t pace_forced;   /* publishes that waited pace_timeout and went ahead */
	_Atomic uint64_t stall_cut;  /* stalled subscribers closed */
	_Atomic uint64_t stall_skip; /* stalled version 2 subscribers skipped with a gap */
	_Atomic uint64_t wakeups;    /* eventfd wake-ups: another worker published records for this one */
	/*
	 * Fan-out delay: ring commit to the end of this worker's pass over the
	 * record, one count per record, in the bucket of shm/stats.h's bounds
	 * (not cumulative; the last one is above every bound). Updated by
	 * stats_delay_note only.
	 */
	_Atomic uint64_t delay_us[SHM_DELAY_BUCKETS];
	_Atomic uint64_t delay_sum_us;
};

/* What a worker writes its clients through (worker/wpath.h), for janusd -s. */
enum shm_write_path {
	SHM_WPATH_NONE = 0,          /* not chosen yet */
	SHM_WPATH_SEND,              /* send(2) and sendmsg(2) */
	SHM_WPATH_URING              /* fan-out through io_uring, the rest through send(2) */
};

struct shm_worker {
	/* publishers set wake before signalling the eventfd; the worker clears it */
	alignas(SHM_LINE) _Atomic uint32_t wake;
	/*
	 * Flow control, written by the worker once per loop pass: the oldest
	 * ring record its reading subscribers and its own fan-out still need
	 * (publishes that would give it up wait), and whether it holds
	 * publishes waiting for that (it wants waking when any need moves).
	 */
	alignas(SHM_LINE) _Atomic uint64_t need;
	_Atomic uint32_t paced;
	alignas(SHM_LINE) _Atomic int32_t pid;   /* 0 while the slot has no worker */
	_Atomic uint32_t restarts;               /* written by the master */
	_Atomic uint64_t started_ms;             /* CLOCK_REALTIME, ms */
	_Atomic uint32_t write_path;             /* enum shm_write_path: how the worker writes */
	struct shm_stats stats;
};

/*
 * The cluster bridge's counters (bridge/): one struct, so every reader
 * shows the same set. Written by the bridge only; read by anyone.
 */
struct shm_bridge_stats {
	_Atomic uint64_t link;         /* enum shm_link: down, connecting, up */
	_Atomic uint64_t server;       /* the entry of `cluster` it is on or trying, from 0 */
	_Atomic uint64_t msgs_out;     /* local messages published to NATS */
	_Atomic uint64_t bytes_out;    /* their payload bytes */
	_Atomic uint64_t msgs_in;      /* messages from NATS put in the ring */
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t dropped_out;  /* local messages never forwarded (link down or slow, ring moved on) */
	_Atomic uint64_t dropped_in;   /* messages from NATS the ring or the topic table could not take */
	_Atomic uint64_t malformed;    /* messages from NATS refused: a subject or payload no node makes */
	_Atomic uint64_t reconnects;   /* links re-established after the first */
	_Atomic uint64_t subjects;     /* subjects subscribed now */
};

enum shm_link { SHM_LINK_DOWN = 0, SHM_LINK_CONNECTING, SHM_LINK_UP };

/* The bridge's entry: like a worker's, and its place in the ring, kept across its restarts. */
struct shm_bridge {
	/* publishers set wake before signalling the eventfd; the bridge clears it */
	alignas(SHM_LINE) _Atomic uint32_t wake;
	alignas(SHM_LINE) _Atomic int32_t pid;   /* 0 while no bridge runs */
	_Atomic uint32_t restarts;               /* written by the master */
	_Atomic uint64_t started_ms;             /* CLOCK_REALTIME, ms */
	_Atomic uint64_t done;                   /* the newest ring record forwarded, skipped or lost */
	struct shm_bridge_stats stats;
};

/*
 * The pin log: changes of interest for the bridge. A topic got its first
 * subscriber on this node (on) or lost its last (off). Appended under the
 * lock by shm/topics.c, taken under the lock by the bridge; when the
 * bridge does not keep up, overflow tells it to read the whole table.
 */
#define SHM_PINLOG_EVENTS 4096

struct shm_pin_event {
	uint32_t id, gen;
	uint32_t on;
};

struct shm_pinlog {
	_Atomic uint64_t head;      /* events appended; read without the lock to see there are new ones */
	uint64_t taken;             /* events the bridge took */
	uint32_t overflow;          /* events were lost since the bridge last took them */
	struct shm_pin_event ev[SHM_PINLOG_EVENTS];
};

/* Ring control: written under the lock by publishers, read by everyone. */
struct shm_ring_ctl {
	_Atomic uint64_t head;      /* newest committed sequence number (0: none) */
	_Atomic uint64_t tail;      /* oldest sequence number still held */
	_Atomic uint64_t next_off;  /* monotonic data offset of the next record */
	_Atomic uint64_t low;       /* data below this monotonic offset may be overwritten */
};

/*
 * A record's index entry. seq is written last (0 while it is being
 * written), so a reader that sees the same seq before and after reading
 * the other fields has a consistent view (a seqlock per slot).
 */
struct shm_ring_slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t off;       /* monotonic offset of the record's bytes */
	_Atomic uint32_t len;       /* bytes, including the final \1 */
	_Atomic uint32_t topic;     /* topic id */
	_Atomic uint32_t pfx;       /* length of the `{"timestamp":[...],` prefix */
	_Atomic uint32_t gen;       /* the topic id's generation (ids are reused) */
	_Atomic uint32_t flags;     /* enum ring_flag (shm/ring.h) */
	uint32_t pad;
	_Atomic uint64_t commit_us; /* CLOCK_MONOTONIC: when it was committed (fan-out delay) */
	_Atomic uint64_t prev;      /* the topic's record before this one, or 0 */
	/*
	 * The topic's record after this one, or 0 while there is none: the
	 * one field written after seq, once (0 to a sequence number), when
	 * that record is committed. Readers take it only for records before
	 * a head they have read, so it is set by then.
	 */
	_Atomic uint64_t next;
};

#define SHM_NONE         UINT32_MAX   /* "no entry" in every id link */
#define SHM_NAME_UNIT    16           /* topic names live in chunks of whole units */
#define SHM_NAME_CLASSES ((CONF_TOPIC_MAX + SHM_NAME_UNIT) / SHM_NAME_UNIT)
#define SHM_NAME_BYTES   48           /* name heap bytes per topic of max_topics */

#define TOPIC_F_PATTERN 0x01          /* a wildcard subscription's pattern, never published to */

enum shm_topic_state {
	TOPIC_FREE = 0,
	TOPIC_WRITING,              /* being interned; repaired if its writer dies */
	TOPIC_LIVE
};

/*
 * A topic: 64 bytes, its name in a chunk of the name heap. Ids are
 * reused (gen tells the lives of an id apart, and ring records carry
 * it). A topic with subscribers on some worker (workers != 0) is pinned;
 * the others are on the LRU list, least recently published first, and
 * are evicted when room is needed, so creating topics never locks out
 * subscribers or other publishers.
 */
struct shm_topic {
	_Atomic uint8_t state;
	uint8_t len;
	uint8_t units;              /* its name chunk, in SHM_NAME_UNITs */
	uint8_t flags;              /* TOPIC_F_* */
	uint32_t hash;
	uint32_t gen;
	uint32_t name;              /* its name chunk: offset in units into the heap */
	uint32_t hnext;             /* hash chain */
	uint32_t lru_prev, lru_next;
	uint32_t owner;             /* address entry charged for pinning it, or SHM_NONE */
	_Atomic uint64_t last_seq;  /* newest record of this topic, 0 if none */
	uint64_t lost_upto;         /* records up to here may have been this name's under an evicted id */
	_Atomic uint32_t workers;   /* bit w: worker w has subscribers */
	uint32_t pat_epoch;         /* the pattern epoch pat_known and pat_match belong to */
	_Atomic uint32_t pat_known; /* bit w: worker w's patterns were matched against it */
	_Atomic uint32_t pat_match; /* bit w: and some matched */
};

/* The topic table's control block: changed under the lock only. */
struct shm_topics_ctl {
	uint32_t used;              /* high-water mark of entry ids */
	uint32_t live;
	uint32_t free_head;         /* first free id below used, or SHM_NONE */
	uint32_t lru_head, lru_tail;
	uint32_t name_bump;         /* heap units handed out so far */
	uint32_t since_coalesce;    /* interns since the free name chunks were last merged */
	uint32_t name_free[SHM_NAME_CLASSES];  /* free chunks by size, linked through their first bytes */
	uint64_t seed;              /* hash seed, random per segment */
	uint64_t evicted_upto;      /* newest record of any topic evicted so far */
	uint32_t pat_epoch;         /* changes whenever a worker's patterns do */
	_Atomic uint32_t pat_workers;  /* bit w: worker w holds patterns */
	_Atomic uint64_t evictions;
	_Atomic uint64_t refused;   /* interns refused: table or names full */
};

/*
 * A client address, as the per-address limits count it (an IPv6
 * address by its /64). Connections are counted per worker so that a dead
 * worker's can be dropped; topics are the ones it is charged for pinning;
 * after wrong publish keys it waits, whichever worker it reaches.
 */
struct shm_addr {
	uint32_t hnext;             /* hash chain, or the free list */
	uint32_t hash;
	uint8_t family;             /* 0 while free */
	uint8_t pad[3];
	uint32_t topics;
	uint8_t addr[16];
	uint16_t conns[CONF_MAX_WORKERS];
	uint32_t key_fails;         /* wrong publish keys in a row */
	uint64_t key_until;         /* ms, CLOCK_MONOTONIC: no key is read from it before this */
};

struct shm_addrs_ctl {
	uint32_t used;
	uint32_t live;
	uint32_t free_head;
	uint32_t pad;
	uint64_t seed;
	_Atomic uint64_t overflow;  /* lookups refused: table full */
};

struct shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;              /* whole segment */
	_Atomic int32_t master_pid;
	uint64_t started_ms;        /* CLOCK_REALTIME: when the master made the segment */
	uint32_t nworkers;
	uint32_t port;
	char epoch[SHM_EPOCH_LEN + 1];

	uint64_t slots_off;
	uint32_t nslots;            /* power of two */
	uint64_t data_off;
	uint64_t data_size;
	uint64_t buckets_off;
	uint32_t nbuckets;          /* topic hash chains, power of two */
	uint64_t topics_off;
	uint32_t max_topics;
	uint64_t names_off;
	uint32_t name_units;        /* name heap size, in SHM_NAME_UNITs */
	uint64_t abuckets_off;
	uint32_t naddr_buckets;     /* address hash chains, power of two */
	uint64_t addrs_off;
	uint32_t max_addrs;

	/* the live settings, under a sequence counter (odd while written) */
	_Atomic uint64_t conf_gen;
	struct conf conf;

	alignas(SHM_LINE) pthread_mutex_t lock;
	struct shm_topics_ctl topics;
	struct shm_addrs_ctl addrs;
	alignas(SHM_LINE) struct shm_pinlog pinlog;
	alignas(SHM_LINE) struct shm_ring_ctl ring;
	alignas(SHM_LINE) struct shm_worker workers[CONF_MAX_WORKERS];
	struct shm_bridge bridge;
};

#endif
