/*
 * shm/layout.h - the layout of the shared segment, as every process sees it.
 *
 * Owns: the structs that live in shared memory and nothing else. Every
 * field that more than one process touches is an atomic; fields written
 * by one party and read by others sit on their own cache lines
 * (SHM_LINE), so workers do not fight over a line.
 *
 *   header | lock | ring control | worker slots | ring slots | ring data |
 *   topic hash index | topic entries
 */
#ifndef JANUSD_SHM_LAYOUT_H
#define JANUSD_SHM_LAYOUT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/conf.h"

#define SHM_MAGIC    UINT64_C(0x3164737573756e6a)  /* "jnususd1" */
#define SHM_VERSION  1
#define SHM_LINE     128
#define SHM_EPOCH_LEN 16

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
	_Atomic uint64_t refused;    /* connections refused at the limit */
};

struct shm_worker {
	/* publishers set wake before signalling the eventfd; the worker clears it */
	alignas(SHM_LINE) _Atomic uint32_t wake;
	alignas(SHM_LINE) _Atomic int32_t pid;   /* 0 while the slot has no worker */
	_Atomic uint32_t restarts;               /* written by the master */
	_Atomic uint64_t started_ms;             /* CLOCK_REALTIME, ms */
	struct shm_stats stats;
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
	uint32_t pad;
};

enum shm_topic_state {
	TOPIC_FREE = 0,
	TOPIC_WRITING,              /* being interned; repaired if its writer dies */
	TOPIC_LIVE
};

/*
 * A topic. Entries are dense (ids 0..used-1) so that scans stop at the
 * high-water mark; a hash index of ids finds them by name.
 */
struct shm_topic {
	_Atomic uint32_t state;
	uint32_t hash;
	uint32_t len;
	uint32_t next_free;         /* free-list link while FREE */
	_Atomic uint64_t last_seq;  /* newest record of this topic */
	_Atomic uint32_t subs[CONF_MAX_WORKERS];  /* subscribers per worker */
	char name[CONF_TOPIC_MAX + 1];
};

/* The topic table's control block: changed under the lock only. */
struct shm_topics_ctl {
	uint32_t used;              /* high-water mark of entry ids */
	uint32_t live;
	uint32_t tombstones;        /* hash index slots marked deleted */
	uint32_t free_head;         /* first free id below used, or UINT32_MAX */
	uint64_t seed;              /* hash seed, random per segment */
};

struct shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;              /* whole segment */
	_Atomic int32_t master_pid;
	uint32_t nworkers;
	uint32_t port;
	char epoch[SHM_EPOCH_LEN + 1];

	uint64_t slots_off;
	uint32_t nslots;            /* power of two */
	uint64_t data_off;
	uint64_t data_size;
	uint64_t index_off;
	uint32_t index_size;        /* hash index slots, power of two */
	uint64_t topics_off;
	uint32_t max_topics;

	/* the live settings, under a sequence counter (odd while written) */
	_Atomic uint64_t conf_gen;
	struct conf conf;

	alignas(SHM_LINE) pthread_mutex_t lock;
	struct shm_topics_ctl topics;
	alignas(SHM_LINE) struct shm_ring_ctl ring;
	alignas(SHM_LINE) struct shm_worker workers[CONF_MAX_WORKERS];
};

#define SHM_INDEX_EMPTY     UINT32_MAX
#define SHM_INDEX_TOMBSTONE (UINT32_MAX - 1)

#endif
