/*
 * shm/stats.h - what the shared segment's counters say, for people and
 * for programs: GET /stats and janusd -s (JSON), GET /metrics
 * (Prometheus text 0.0.4), the SIGUSR1 log lines.
 *
 * Owns: the one list of every worker counter with its names (JSON key,
 * metric, help) and the cluster bridge's, taking one snapshot of the
 * segment (each value read once, so totals are the sums of the workers
 * shown and derived values never go negative), rendering a snapshot, and
 * the fan-out delay histogram's buckets. Must not take the segment's
 * lock, write to the segment (but stats_delay_note, each worker into its
 * own slot) or allocate: renderers write into the caller's memory. Fields
 * and metric names are documented in janusd(8), STATISTICS.
 */
#ifndef JANUSD_SHM_STATS_H
#define JANUSD_SHM_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "shm/layout.h"
#include "shm/segment.h"

#define STATS_JSON_TYPE    "application/json"
#define STATS_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Every worker counter, in JSON order. The _TCP values are derived:
 * conns_tcp = conns - conns_ws - conns_http (TCP: the Janus port's own
 * protocol), accepted_tcp = accepted - accepted_http; the others are
 * struct shm_stats fields of the same name.
 */
enum stats_counter {
	STATS_CONNS, STATS_CONNS_TCP, STATS_CONNS_WS, STATS_CONNS_HTTP,
	STATS_ACCEPTED, STATS_ACCEPTED_TCP, STATS_ACCEPTED_HTTP, STATS_UPGRADES,
	STATS_HTTP_REQUESTS, STATS_SUBS, STATS_PUBLISHED, STATS_DELIVERED,
	STATS_BYTES_IN, STATS_BYTES_OUT, STATS_ERRORS, STATS_SLOW,
	STATS_REFUSED, STATS_REFUSED_ADDR, STATS_QUOTA, STATS_TABLE_FULL,
	STATS_AUTH_FAILED, STATS_AUTH_DELAYED, STATS_IDLE_CLOSED,
	STATS_FRAME_MEMORY, STATS_BAD_MEMBERS,
	STATS_PACED, STATS_PACED_MS, STATS_PACE_FORCED, STATS_STALL_CUT, STATS_STALL_SKIP,
	STATS_WAKEUPS,
	STATS_NCOUNTERS
};

/* The fan-out delay buckets' upper bounds (µs, inclusive); one more bucket holds the rest. */
#define STATS_DELAY_BOUNDS (SHM_DELAY_BUCKETS - 1)

/* stats_delay_bound - bound i (0 .. STATS_DELAY_BOUNDS-1): 5 µs to 10 s, 1-2.5-5 per decade. */
static inline uint64_t
stats_delay_bound(unsigned i)
{
	static const uint32_t bound[STATS_DELAY_BOUNDS] = {
		5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
		100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	};

	return bound[i];
}

/*
 * stats_delay_note - count one record's fan-out delay in this worker's
 * histogram. Called only by the worker that owns st, so, as stat_add,
 * relaxed loads and stores without a locked instruction.
 */
static inline void
stats_delay_note(struct shm_stats *st, uint64_t usec)
{
	unsigned i = 0;

	while (i < STATS_DELAY_BOUNDS && usec > stats_delay_bound(i))
		i++;
	atomic_store_explicit(&st->delay_us[i],
	    atomic_load_explicit(&st->delay_us[i], memory_order_relaxed) + 1, memory_order_relaxed);
	atomic_store_explicit(&st->delay_sum_us,
	    atomic_load_explicit(&st->delay_sum_us, memory_order_relaxed) + usec, memory_order_relaxed);
}

/* One worker slot, as read. */
struct stats_slot {
	int32_t pid;                 /* 0: no worker in the slot */
	uint32_t restarts;
	uint32_t write_path;         /* enum shm_write_path */
	uint64_t started_ms;         /* CLOCK_REALTIME */
	uint64_t v[STATS_NCOUNTERS];
	uint64_t delay[SHM_DELAY_BUCKETS];   /* per bucket, not cumulative */
	uint64_t delay_sum_us;
};

/* The cluster bridge's counters, in JSON order: struct shm_bridge_stats fields of the same name. */
enum stats_bridge_counter {
	STATS_BR_MSGS_OUT, STATS_BR_MSGS_IN, STATS_BR_BYTES_OUT, STATS_BR_BYTES_IN,
	STATS_BR_DROPPED_OUT, STATS_BR_DROPPED_IN, STATS_BR_MALFORMED, STATS_BR_RECONNECTS,
	STATS_BR_SUBJECTS,
	STATS_BR_NCOUNTERS
};

#define STATS_SERVER_MAX 256

/* The bridge, as read: only when the instance has a cluster. */
struct stats_bridge {
	int on;                      /* `cluster` is set: there is a bridge to show */
	int32_t pid;                 /* 0: no bridge process now */
	uint32_t restarts;
	unsigned link;               /* enum shm_link */
	char server[STATS_SERVER_MAX];   /* the entry of `cluster` it is on or trying, as configured */
	uint64_t done;               /* the newest ring record it forwarded, skipped or lost */
	uint64_t v[STATS_BR_NCOUNTERS];
};

/* One reading of the whole segment. */
struct stats_snap {
	unsigned port;
	unsigned uid;                /* the segment file's owner */
	int32_t master_pid;
	char epoch[SHM_EPOCH_LEN + 1];
	uint64_t now_ms, started_ms; /* CLOCK_REALTIME */
	uint64_t head, tail;         /* newest and oldest sequence number held (tail > head: none) */
	uint64_t ring_size, ring_used;   /* data bytes, and those the held records span */
	uint32_t ring_slots;         /* records it can index */
	uint32_t topics, topics_max;
	uint64_t topics_evicted, topics_refused;
	uint32_t addrs, addrs_max;
	uint64_t addrs_untracked;
	unsigned nworkers;
	struct stats_slot w[CONF_MAX_WORKERS];
	struct stats_bridge bridge;
};

/*
 * Room a rendering needs for n worker slots, the final NUL included
 * (checked with every value at its maximum by t/stats_render).
 */
#define STATS_JSON_MAX(n)    (3328 + 1216 * (size_t)(n))
#define STATS_METRICS_MAX(n) (9216 + 4160 * (size_t)(n))
#define STATS_LOG_MAX        1024

/* stats_snap_take - read s's counters once; now_ms: CLOCK_REALTIME, for the uptimes. */
void stats_snap_take(struct stats_snap *sn, const struct shm *s, uint64_t now_ms);

/*
 * stats_json - the snapshot as one JSON object and a newline (GET
 * /stats, janusd -s), NUL-terminated in dst. Returns its length (without
 * the NUL), or -1 if cap is too small; never writes past cap.
 */
long stats_json(const struct stats_snap *sn, char *dst, size_t cap);

/* stats_metrics - the snapshot in the Prometheus text format 0.0.4; as stats_json. */
long stats_metrics(const struct stats_snap *sn, char *dst, size_t cap);

/* stats_log_line - worker slot's counters as "name value, ..." for the log; as stats_json. */
long stats_log_line(const struct stats_snap *sn, unsigned slot, char *dst, size_t cap);

/* stats_log_bridge - the bridge's link and counters for the log, as stats_log_line; -1 without a bridge. */
long stats_log_bridge(const struct stats_snap *sn, char *dst, size_t cap);

#endif
