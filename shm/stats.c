/*
 * shm/stats.c - what the shared segment's counters say: one snapshot,
 * rendered as JSON (GET /stats, janusd -s), as Prometheus text 0.0.4
 * (GET /metrics) or as a log line.
 *
 * Owns: stats_fields, the one list of worker counters and their names,
 * and the formats. The snapshot reads each value once, without the lock
 * (a stats reader never delays a publisher), so a rendering is a
 * consistent story: totals are the sums of the workers shown, the
 * connections by transport add up to the connections, and a histogram's
 * +Inf bucket is its count. Must not write to the segment or allocate.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shm/stats.h"

#define STATS_DERIVED SIZE_MAX

struct stats_field {
	const char *key;          /* JSON member and log name */
	const char *metric;       /* metric family, or NULL: /metrics shows it split by transport */
	const char *label;        /* this field's label within its family, or NULL */
	const char *help;         /* the family's # HELP, given on its first field */
	int gauge;                /* a value now (gauge), or a count since the worker started */
	size_t off;               /* in struct shm_stats, or STATS_DERIVED */
};

#define STATS_F(e, name, metric, label, gauge, help) \
	[e] = { #name, metric, label, help, gauge, offsetof(struct shm_stats, name) }
#define STATS_D(e, name, metric, label, gauge, help) \
	[e] = { #name, metric, label, help, gauge, STATS_DERIVED }

/* A family's fields are adjacent: /metrics gives each family's samples together. */
static const struct stats_field stats_fields[STATS_NCOUNTERS] = {
	STATS_F(STATS_CONNS, conns, NULL, NULL, 1, NULL),
	STATS_D(STATS_CONNS_TCP, conns_tcp, "janusd_connections", "transport=\"tcp\"", 1,
	    "Connections open now, by transport: tcp (the Janus protocol), ws (WebSocket), http (not upgraded)."),
	STATS_F(STATS_CONNS_WS, conns_ws, "janusd_connections", "transport=\"ws\"", 1, NULL),
	STATS_F(STATS_CONNS_HTTP, conns_http, "janusd_connections", "transport=\"http\"", 1, NULL),
	STATS_F(STATS_ACCEPTED, accepted, NULL, NULL, 0, NULL),
	STATS_D(STATS_ACCEPTED_TCP, accepted_tcp, "janusd_connections_accepted_total",
	    "listener=\"janus\"", 0, "Connections accepted, by listener: janus (port), http (http_port)."),
	STATS_F(STATS_ACCEPTED_HTTP, accepted_http, "janusd_connections_accepted_total",
	    "listener=\"http\"", 0, NULL),
	STATS_F(STATS_UPGRADES, upgrades, "janusd_websocket_upgrades_total", NULL, 0,
	    "HTTP connections upgraded to WebSocket."),
	STATS_F(STATS_HTTP_REQUESTS, http_requests, "janusd_http_requests_total", NULL, 0,
	    "HTTP requests answered, whatever the status."),
	STATS_F(STATS_SUBS, subs, "janusd_subscriptions", NULL, 1, "Subscriptions open now."),
	STATS_F(STATS_PUBLISHED, published, "janusd_messages_published_total", NULL, 0,
	    "Messages the worker put in the ring."),
	STATS_F(STATS_DELIVERED, delivered, "janusd_messages_delivered_total", NULL, 0,
	    "Messages written whole to subscribers."),
	STATS_F(STATS_BYTES_IN, bytes_in, "janusd_received_bytes_total", NULL, 0,
	    "Bytes read from clients."),
	STATS_F(STATS_BYTES_OUT, bytes_out, "janusd_sent_bytes_total", NULL, 0,
	    "Bytes written to clients."),
	STATS_F(STATS_ERRORS, errors, "janusd_error_frames_total", NULL, 0,
	    "Error frames sent to clients."),
	STATS_F(STATS_SLOW, slow, "janusd_slow_consumers_total", NULL, 0,
	    "Slow consumers disconnected or moved ahead."),
	STATS_F(STATS_REFUSED, refused, "janusd_connections_refused_total", "reason=\"max_conns\"", 0,
	    "Connections refused, by the limit they met."),
	STATS_F(STATS_REFUSED_ADDR, refused_addr, "janusd_connections_refused_total",
	    "reason=\"max_conns_per_ip\"", 0, NULL),
	STATS_F(STATS_QUOTA, quota, "janusd_subscriptions_refused_total", "reason=\"max_topics_per_ip\"", 0,
	    "Subscriptions refused, by the limit they met."),
	STATS_F(STATS_TABLE_FULL, table_full, "janusd_topic_table_full_total", NULL, 0,
	    "Subscriptions and publishes refused because every topic was pinned."),
	STATS_F(STATS_AUTH_FAILED, auth_failed, "janusd_auth_failures_total", NULL, 0,
	    "Wrong publish keys (each closes its connection)."),
	STATS_F(STATS_AUTH_DELAYED, auth_delayed, "janusd_auth_delayed_total", NULL, 0,
	    "Publish keys refused unread while their address waits after wrong ones."),
	STATS_F(STATS_IDLE_CLOSED, idle_closed, "janusd_idle_closed_total", NULL, 0,
	    "Connections closed after idle_timeout without a subscription."),
	STATS_F(STATS_FRAME_MEMORY, frame_memory, "janusd_frame_memory_closed_total", NULL, 0,
	    "Connections closed at max_frame_memory."),
	STATS_F(STATS_BAD_MEMBERS, bad_members, "janusd_bad_members_total", NULL, 0,
	    "Publishes refused for a repeated or server-written member."),
	STATS_F(STATS_PACED, paced, "janusd_publishes_paced_total", NULL, 0,
	    "Publishes that waited for reading subscribers (flow control)."),
	STATS_F(STATS_PACED_MS, paced_ms, "janusd_paced_milliseconds_total", NULL, 0,
	    "The time publishes waited for reading subscribers, in all."),
	STATS_F(STATS_PACE_FORCED, pace_forced, "janusd_publishes_pace_forced_total", NULL, 0,
	    "Publishes that waited pace_timeout and went ahead."),
	STATS_F(STATS_STALL_CUT, stall_cut, "janusd_stalled_closed_total", NULL, 0,
	    "Stalled subscribers closed."),
	STATS_F(STATS_STALL_SKIP, stall_skip, "janusd_stalled_skipped_total", NULL, 0,
	    "Stalled version 2 subscribers moved ahead with a gap."),
	STATS_F(STATS_WAKEUPS, wakeups, "janusd_wakeups_total", NULL, 0,
	    "Wake-ups by another worker that published records for this one's subscribers."),
};

#define STATS_B(e, name, metric, label, gauge, help) \
	[e] = { #name, metric, label, help, gauge, offsetof(struct shm_bridge_stats, name) }

/* The bridge's counters, a family's fields adjacent; link and server are shown apart, as words. */
static const struct stats_field stats_bridge_fields[STATS_BR_NCOUNTERS] = {
	STATS_B(STATS_BR_MSGS_OUT, msgs_out, "janusd_bridge_messages_total", "direction=\"out\"", 0,
	    "Messages the bridge forwarded: out (local to NATS), in (NATS to the ring)."),
	STATS_B(STATS_BR_MSGS_IN, msgs_in, "janusd_bridge_messages_total", "direction=\"in\"", 0, NULL),
	STATS_B(STATS_BR_BYTES_OUT, bytes_out, "janusd_bridge_payload_bytes_total", "direction=\"out\"", 0,
	    "Payload bytes of the messages the bridge forwarded."),
	STATS_B(STATS_BR_BYTES_IN, bytes_in, "janusd_bridge_payload_bytes_total", "direction=\"in\"", 0, NULL),
	STATS_B(STATS_BR_DROPPED_OUT, dropped_out, "janusd_bridge_dropped_total", "direction=\"out\"", 0,
	    "Messages the bridge could not forward: out (link down or slow), in (ring or table full)."),
	STATS_B(STATS_BR_DROPPED_IN, dropped_in, "janusd_bridge_dropped_total", "direction=\"in\"", 0, NULL),
	STATS_B(STATS_BR_MALFORMED, malformed, "janusd_bridge_malformed_total", NULL, 0,
	    "Messages from NATS refused: a subject or payload no node makes."),
	STATS_B(STATS_BR_RECONNECTS, reconnects, "janusd_bridge_reconnects_total", NULL, 0,
	    "Links to NATS established again after the first."),
	STATS_B(STATS_BR_SUBJECTS, subjects, "janusd_bridge_subjects", NULL, 1,
	    "NATS subjects the bridge subscribes to now."),
};

static const char *const stats_link_names[] = { "down", "connecting", "up" };

/* Bounded output into the caller's buffer; once it overflows, nothing more is written. */
struct sbuf {
	char *p;
	size_t n, cap;
	int over;
};

static void sb_put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->over)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= b->cap - b->n)
		b->over = 1;
	else
		b->n += (size_t)k;
}

static void
sb_init(struct sbuf *b, char *dst, size_t cap)
{
	b->p = dst;
	b->n = 0;
	b->cap = cap;
	b->over = cap == 0;
	if (cap > 0)
		dst[0] = '\0';
}

static long
sb_end(const struct sbuf *b)
{
	return b->over ? -1 : (long)b->n;
}

/* stats_at_least - raise a total to the sum of its parts: a snapshot never shows parts above their whole. */
static void
stats_at_least(uint64_t *sum, uint64_t parts)
{
	if (*sum < parts)
		*sum = parts;
}

static void
stats_slot_take(struct stats_slot *o, const struct shm_worker *w)
{
	const struct shm_stats *st = &w->stats;
	uint64_t *v = o->v;
	size_t i;

	o->pid = atomic_load_explicit(&w->pid, memory_order_relaxed);
	o->restarts = atomic_load_explicit(&w->restarts, memory_order_relaxed);
	o->write_path = atomic_load_explicit(&w->write_path, memory_order_relaxed);
	o->started_ms = atomic_load_explicit(&w->started_ms, memory_order_relaxed);
	for (i = 0; i < STATS_NCOUNTERS; i++)
		if (stats_fields[i].off != STATS_DERIVED)
			v[i] = atomic_load_explicit((const _Atomic uint64_t *)(const void *)
			    ((const char *)st + stats_fields[i].off), memory_order_relaxed);
	/* the worker moves a connection between counters in two stores: we may see one */
	stats_at_least(&v[STATS_CONNS], v[STATS_CONNS_WS] + v[STATS_CONNS_HTTP]);
	v[STATS_CONNS_TCP] = v[STATS_CONNS] - v[STATS_CONNS_WS] - v[STATS_CONNS_HTTP];
	stats_at_least(&v[STATS_ACCEPTED], v[STATS_ACCEPTED_HTTP]);
	v[STATS_ACCEPTED_TCP] = v[STATS_ACCEPTED] - v[STATS_ACCEPTED_HTTP];
	for (i = 0; i < SHM_DELAY_BUCKETS; i++)
		o->delay[i] = atomic_load_explicit(&st->delay_us[i], memory_order_relaxed);
	o->delay_sum_us = atomic_load_explicit(&st->delay_sum_us, memory_order_relaxed);
}

/* stats_ring_take - the ring's extent; used: from the oldest record's bytes to the next record's. */
static void
stats_ring_take(struct stats_snap *sn, const struct ring *r)
{
	struct ring_rec rec;
	uint64_t next_off = 0;
	int tries;

	sn->ring_size = r->size;
	sn->ring_slots = r->mask + 1;
	for (tries = 0; tries < 4; tries++) {
		sn->tail = ring_tail(r);
		sn->head = ring_head(r);
		next_off = atomic_load_explicit(&r->ctl->next_off, memory_order_acquire);
		if (sn->tail > sn->head)
			return;
		if (ring_get(r, sn->tail, &rec) == 0) {
			sn->ring_used = next_off - rec.off;
			break;
		}
	}
	/* publishers kept giving up the oldest record while we looked: all but low is held */
	if (tries == 4)
		sn->ring_used = next_off - atomic_load_explicit(&r->ctl->low, memory_order_acquire);
	if (sn->ring_used > sn->ring_size)
		sn->ring_used = sn->ring_size;
}

/*
 * stats_server_take - entry i of the cluster list as HOST:PORT, the way
 * the bridge's log names it. Only the characters such an address is made
 * of are kept, so a damaged segment cannot put anything else into the
 * output.
 */
static void
stats_server_take(char *dst, const char *list, uint64_t i)
{
	static const char addr[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:.[]-_%";
	const char *host_end;
	size_t n, k = 0;

	list = list + strspn(list, " ,\t");
	while (*list != '\0' && i-- > 0) {
		list += strcspn(list, " ,\t");
		list += strspn(list, " ,\t");
	}
	n = strcspn(list, " ,\t");
	if (n >= 7 && strncmp(list, "nats://", 7) == 0) {
		list += 7;
		n -= 7;
	}
	while (k < n && k < STATS_SERVER_MAX - 8 && strchr(addr, list[k]) != NULL) {
		dst[k] = list[k];
		k++;
	}
	dst[k] = '\0';
	/* no port after the host (or after "[v6]"): the bridge uses NATS's own */
	host_end = dst[0] == '[' ? strchr(dst, ']') : dst;
	if (k > 0 && host_end != NULL && strchr(host_end, ':') == NULL)
		memcpy(dst + k, ":4222", 6);
}

static void
stats_bridge_take(struct stats_bridge *o, const struct shm_header *h)
{
	const struct shm_bridge *br = &h->bridge;
	char cluster[CONF_CLUSTER_MAX];
	size_t i;

	/* the master rewrites conf on a reload, but never the restart-only cluster */
	memcpy(cluster, h->conf.cluster, sizeof(cluster));
	cluster[sizeof(cluster) - 1] = '\0';
	if (cluster[0] == '\0')
		return;
	o->on = 1;
	o->pid = atomic_load_explicit(&br->pid, memory_order_relaxed);
	o->restarts = atomic_load_explicit(&br->restarts, memory_order_relaxed);
	o->link = (unsigned)atomic_load_explicit(&br->stats.link, memory_order_relaxed);
	if (o->link >= sizeof(stats_link_names) / sizeof(stats_link_names[0]))
		o->link = SHM_LINK_DOWN;
	stats_server_take(o->server, cluster, atomic_load_explicit(&br->stats.server, memory_order_relaxed));
	o->done = atomic_load_explicit(&br->done, memory_order_relaxed);
	for (i = 0; i < STATS_BR_NCOUNTERS; i++)
		o->v[i] = atomic_load_explicit((const _Atomic uint64_t *)(const void *)
		    ((const char *)&br->stats + stats_bridge_fields[i].off), memory_order_relaxed);
}

void
stats_snap_take(struct stats_snap *sn, const struct shm *s, uint64_t now_ms)
{
	const struct shm_header *h = s->hdr;
	unsigned i;

	memset(sn, 0, sizeof(*sn));
	sn->port = h->port;
	sn->uid = (unsigned)s->uid;
	sn->master_pid = atomic_load_explicit(&h->master_pid, memory_order_relaxed);
	/* the epoch is hex; a damaged segment must not put anything else into the output */
	for (i = 0; i < SHM_EPOCH_LEN && h->epoch[i] != '\0' &&
	    strchr("0123456789abcdef", h->epoch[i]) != NULL; i++)
		sn->epoch[i] = h->epoch[i];
	sn->now_ms = now_ms;
	sn->started_ms = h->started_ms;
	stats_ring_take(sn, &s->ring);
	/* written under the lock by others, read here without it, whole words */
	sn->topics = __atomic_load_n(&h->topics.live, __ATOMIC_RELAXED);
	sn->topics_max = h->max_topics;
	sn->topics_evicted = atomic_load_explicit(&h->topics.evictions, memory_order_relaxed);
	sn->topics_refused = atomic_load_explicit(&h->topics.refused, memory_order_relaxed);
	sn->addrs = __atomic_load_n(&h->addrs.live, __ATOMIC_RELAXED);
	sn->addrs_max = h->max_addrs;
	sn->addrs_untracked = atomic_load_explicit(&h->addrs.overflow, memory_order_relaxed);
	sn->nworkers = h->nworkers < CONF_MAX_WORKERS ? h->nworkers : CONF_MAX_WORKERS;
	for (i = 0; i < sn->nworkers; i++)
		stats_slot_take(&sn->w[i], &h->workers[i]);
	stats_bridge_take(&sn->bridge, h);
}

static unsigned long long
stats_since(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
}

/* stats_counters_json - "key":value for every counter of v, comma-separated. */
static void
stats_counters_json(struct sbuf *b, const uint64_t *v)
{
	size_t i;

	for (i = 0; i < STATS_NCOUNTERS; i++)
		sb_put(b, "%s\"%s\":%llu", i ? "," : "", stats_fields[i].key, (unsigned long long)v[i]);
}

static void
stats_delay_json(struct sbuf *b, const struct stats_snap *sn)
{
	uint64_t counts[SHM_DELAY_BUCKETS] = { 0 }, count = 0, sum = 0;
	unsigned i, k;

	for (k = 0; k < sn->nworkers; k++) {
		for (i = 0; i < SHM_DELAY_BUCKETS; i++)
			counts[i] += sn->w[k].delay[i];
		sum += sn->w[k].delay_sum_us;
	}
	for (i = 0; i < SHM_DELAY_BUCKETS; i++)
		count += counts[i];
	sb_put(b, "\"fanout_delay\":{\"count\":%llu,\"sum_us\":%llu,\"le_us\":[",
	    (unsigned long long)count, (unsigned long long)sum);
	for (i = 0; i < STATS_DELAY_BOUNDS; i++)
		sb_put(b, "%s%llu", i ? "," : "", (unsigned long long)stats_delay_bound(i));
	sb_put(b, "],\"counts\":[");
	for (i = 0; i < SHM_DELAY_BUCKETS; i++)
		sb_put(b, "%s%llu", i ? "," : "", (unsigned long long)counts[i]);
	sb_put(b, "]}");
}

/* stats_bridge_json - ,"bridge":{...} when the instance has a cluster. */
static void
stats_bridge_json(struct sbuf *b, const struct stats_bridge *br)
{
	size_t i;

	if (!br->on)
		return;
	sb_put(b, ",\"bridge\":{\"pid\":%d,\"restarts\":%u,\"link\":\"%s\",\"server\":\"%s\",\"done\":%llu",
	    (int)br->pid, br->restarts, stats_link_names[br->link], br->server,
	    (unsigned long long)br->done);
	for (i = 0; i < STATS_BR_NCOUNTERS; i++)
		sb_put(b, ",\"%s\":%llu", stats_bridge_fields[i].key, (unsigned long long)br->v[i]);
	sb_put(b, "}");
}

/* stats_write_path - what a worker writes through (enum shm_write_path), by name. */
static const char *
stats_write_path(uint32_t path)
{
	switch (path) {
	case SHM_WPATH_SEND:
		return "send";
	case SHM_WPATH_URING:
		return "io_uring";
	default:
		return "none";
	}
}

long
stats_json(const struct stats_snap *sn, char *dst, size_t cap)
{
	uint64_t totals[STATS_NCOUNTERS] = { 0 };
	unsigned long long restarts = 0;
	unsigned i, up = 0;
	struct sbuf b;
	size_t f;

	for (i = 0; i < sn->nworkers; i++) {
		for (f = 0; f < STATS_NCOUNTERS; f++)
			totals[f] += sn->w[i].v[f];
		restarts += sn->w[i].restarts;
		up += sn->w[i].pid != 0;
	}
	sb_init(&b, dst, cap);
	/* the members janusd -s always printed come first, in their order */
	sb_put(&b, "{\"port\":%u,\"uid\":%u,\"master_pid\":%d,\"epoch\":\"%s\","
	    "\"ring\":{\"head\":%llu,\"tail\":%llu,\"size\":%llu,\"used\":%llu,\"slots\":%u,\"records\":%llu},"
	    "\"topics\":%u,\"topic_table\":{\"max\":%u,\"evictions\":%llu,\"refused\":%llu},"
	    "\"addresses\":{\"live\":%u,\"max\":%u,\"untracked\":%llu},",
	    sn->port, sn->uid, (int)sn->master_pid, sn->epoch, (unsigned long long)sn->head,
	    (unsigned long long)sn->tail, (unsigned long long)sn->ring_size,
	    (unsigned long long)sn->ring_used, sn->ring_slots,
	    (unsigned long long)(sn->head >= sn->tail ? sn->head - sn->tail + 1 : 0),
	    sn->topics, sn->topics_max, (unsigned long long)sn->topics_evicted,
	    (unsigned long long)sn->topics_refused, sn->addrs, sn->addrs_max,
	    (unsigned long long)sn->addrs_untracked);
	sb_put(&b, "\"version\":\"%s\",\"now_ms\":%llu,\"started_ms\":%llu,\"uptime_s\":%llu,"
	    "\"nworkers\":%u,\"workers_up\":%u,\"totals\":{\"restarts\":%llu,", PACKAGE_VERSION,
	    (unsigned long long)sn->now_ms, (unsigned long long)sn->started_ms,
	    stats_since(sn->now_ms, sn->started_ms), sn->nworkers, up, restarts);
	stats_counters_json(&b, totals);
	sb_put(&b, "},");
	stats_delay_json(&b, sn);
	sb_put(&b, ",\"workers\":[");
	for (i = 0; i < sn->nworkers; i++) {
		sb_put(&b, "%s{\"slot\":%u,\"pid\":%d,\"restarts\":%u,\"started_ms\":%llu,\"write_path\":\"%s\",",
		    i ? "," : "", i, (int)sn->w[i].pid, sn->w[i].restarts,
		    (unsigned long long)sn->w[i].started_ms, stats_write_path(sn->w[i].write_path));
		stats_counters_json(&b, sn->w[i].v);
		sb_put(&b, "}");
	}
	sb_put(&b, "]");
	stats_bridge_json(&b, &sn->bridge);
	sb_put(&b, "}\n");
	return sb_end(&b);
}

long
stats_log_line(const struct stats_snap *sn, unsigned slot, char *dst, size_t cap)
{
	struct sbuf b;
	size_t i;

	sb_init(&b, dst, cap);
	if (slot >= sn->nworkers)
		return -1;
	for (i = 0; i < STATS_NCOUNTERS; i++)
		sb_put(&b, "%s%s %llu", i ? ", " : "", stats_fields[i].key,
		    (unsigned long long)sn->w[slot].v[i]);
	sb_put(&b, ", write_path %s", stats_write_path(sn->w[slot].write_path));
	return sb_end(&b);
}

long
stats_log_bridge(const struct stats_snap *sn, char *dst, size_t cap)
{
	const struct stats_bridge *br = &sn->bridge;
	struct sbuf b;
	size_t i;

	sb_init(&b, dst, cap);
	if (!br->on)
		return -1;
	sb_put(&b, "link %s to %s, done %llu", stats_link_names[br->link], br->server,
	    (unsigned long long)br->done);
	for (i = 0; i < STATS_BR_NCOUNTERS; i++)
		sb_put(&b, ", %s %llu", stats_bridge_fields[i].key, (unsigned long long)br->v[i]);
	return sb_end(&b);
}

/* stats_decimal - v / scale (1000 or 1000000) exactly, without the fraction's trailing zeros. */
static const char *
stats_decimal(char *buf, size_t cap, uint64_t v, uint64_t scale)
{
	int n = snprintf(buf, cap, "%llu.%0*llu", (unsigned long long)(v / scale),
	    scale == 1000 ? 3 : 6, (unsigned long long)(v % scale));

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

static void
stats_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* stats_metrics_global - the instance's own figures: no worker label. */
static void
stats_metrics_global(struct sbuf *b, const struct stats_snap *sn)
{
	static const char *const ring_help[] = {
		"Bytes of the ring's data area.", "Bytes the records the ring holds span.",
		"Records the ring can index.", "Records the ring holds.",
		"Sequence number of the newest record (0: none yet).",
		"Sequence number of the oldest record the ring may still hold.",
	};
	static const char *const ring_name[] = {
		"janusd_ring_size_bytes", "janusd_ring_used_bytes", "janusd_ring_slots",
		"janusd_ring_records", "janusd_ring_newest_seq", "janusd_ring_oldest_seq",
	};
	uint64_t ring[6];
	char t[32];
	size_t i;

	ring[0] = sn->ring_size;
	ring[1] = sn->ring_used;
	ring[2] = sn->ring_slots;
	ring[3] = sn->head >= sn->tail ? sn->head - sn->tail + 1 : 0;
	ring[4] = sn->head;
	ring[5] = sn->tail;
	stats_family(b, "janusd_info", "gauge", "Always 1; the labels name the build and the ring's epoch.");
	sb_put(b, "janusd_info{version=\"%s\",epoch=\"%s\"} 1\n", PACKAGE_VERSION, sn->epoch);
	stats_family(b, "janusd_start_time_seconds", "gauge", "When the master started, since the Unix epoch.");
	sb_put(b, "janusd_start_time_seconds %s\n", stats_decimal(t, sizeof(t), sn->started_ms, 1000));
	stats_family(b, "janusd_uptime_seconds", "gauge", "Seconds since the master started.");
	sb_put(b, "janusd_uptime_seconds %s\n", stats_decimal(t, sizeof(t),
	    sn->now_ms > sn->started_ms ? sn->now_ms - sn->started_ms : 0, 1000));
	stats_family(b, "janusd_workers", "gauge", "Worker slots.");
	sb_put(b, "janusd_workers %u\n", sn->nworkers);
	for (i = 0; i < sizeof(ring) / sizeof(ring[0]); i++) {
		stats_family(b, ring_name[i], "gauge", ring_help[i]);
		sb_put(b, "%s %llu\n", ring_name[i], (unsigned long long)ring[i]);
	}
	stats_family(b, "janusd_topics", "gauge", "Topics in the shared table.");
	sb_put(b, "janusd_topics %u\n", sn->topics);
	stats_family(b, "janusd_topics_max", "gauge", "Room in the shared topic table (max_topics).");
	sb_put(b, "janusd_topics_max %u\n", sn->topics_max);
	stats_family(b, "janusd_topic_evictions_total", "counter", "Unpinned topics evicted to make room.");
	sb_put(b, "janusd_topic_evictions_total %llu\n", (unsigned long long)sn->topics_evicted);
	stats_family(b, "janusd_topics_refused_total", "counter", "Topics refused: table or names full.");
	sb_put(b, "janusd_topics_refused_total %llu\n", (unsigned long long)sn->topics_refused);
	stats_family(b, "janusd_addresses", "gauge", "Client addresses tracked for the per-address limits.");
	sb_put(b, "janusd_addresses %u\n", sn->addrs);
	stats_family(b, "janusd_addresses_max", "gauge", "Room in the address table.");
	sb_put(b, "janusd_addresses_max %u\n", sn->addrs_max);
	stats_family(b, "janusd_addresses_untracked_total", "counter",
	    "Address lookups refused because the address table was full.");
	sb_put(b, "janusd_addresses_untracked_total %llu\n", (unsigned long long)sn->addrs_untracked);
}

/* stats_metrics_slots - what the master knows of each slot. */
static void
stats_metrics_slots(struct sbuf *b, const struct stats_snap *sn)
{
	char t[32];
	unsigned i;

	stats_family(b, "janusd_worker_up", "gauge", "1 while the slot has a worker process.");
	for (i = 0; i < sn->nworkers; i++)
		sb_put(b, "janusd_worker_up{worker=\"%u\"} %d\n", i, sn->w[i].pid != 0);
	stats_family(b, "janusd_worker_restarts_total", "counter", "Times the master started the slot's worker again.");
	for (i = 0; i < sn->nworkers; i++)
		sb_put(b, "janusd_worker_restarts_total{worker=\"%u\"} %u\n", i, sn->w[i].restarts);
	stats_family(b, "janusd_worker_start_time_seconds", "gauge",
	    "When the slot's worker started, since the Unix epoch; its counters count from then.");
	for (i = 0; i < sn->nworkers; i++)
		sb_put(b, "janusd_worker_start_time_seconds{worker=\"%u\"} %s\n", i,
		    stats_decimal(t, sizeof(t), sn->w[i].started_ms, 1000));
	stats_family(b, "janusd_worker_write_path", "gauge",
	    "1 for the path the slot's worker writes through (send, io_uring; none before it started).");
	for (i = 0; i < sn->nworkers; i++)
		sb_put(b, "janusd_worker_write_path{worker=\"%u\",path=\"%s\"} 1\n", i,
		    stats_write_path(sn->w[i].write_path));
}

/* stats_metrics_counters - every family of stats_fields, each worker's sample per field. */
static void
stats_metrics_counters(struct sbuf *b, const struct stats_snap *sn)
{
	const struct stats_field *f;
	size_t i;
	unsigned k;

	for (i = 0; i < STATS_NCOUNTERS; i++) {
		f = &stats_fields[i];
		if (f->metric == NULL)
			continue;
		if (f->help != NULL)
			stats_family(b, f->metric, f->gauge ? "gauge" : "counter", f->help);
		for (k = 0; k < sn->nworkers; k++)
			sb_put(b, "%s{worker=\"%u\"%s%s} %llu\n", f->metric, k, f->label ? "," : "",
			    f->label ? f->label : "", (unsigned long long)sn->w[k].v[i]);
	}
}

static void
stats_metrics_delay(struct sbuf *b, const struct stats_snap *sn)
{
	static const char name[] = "janusd_fanout_delay_seconds";
	uint64_t cum;
	char t[32];
	unsigned i, k;

	stats_family(b, name, "histogram",
	    "Fan-out delay: from a record's commit to the ring to the end of the worker's pass over it.");
	for (k = 0; k < sn->nworkers; k++) {
		cum = 0;
		for (i = 0; i < SHM_DELAY_BUCKETS; i++) {
			cum += sn->w[k].delay[i];
			if (i < STATS_DELAY_BOUNDS)
				sb_put(b, "%s_bucket{worker=\"%u\",le=\"%s\"} %llu\n", name, k,
				    stats_decimal(t, sizeof(t), stats_delay_bound(i), 1000000),
				    (unsigned long long)cum);
			else
				sb_put(b, "%s_bucket{worker=\"%u\",le=\"+Inf\"} %llu\n", name, k,
				    (unsigned long long)cum);
		}
		sb_put(b, "%s_sum{worker=\"%u\"} %s\n", name, k,
		    stats_decimal(t, sizeof(t), sn->w[k].delay_sum_us, 1000000));
		sb_put(b, "%s_count{worker=\"%u\"} %llu\n", name, k, (unsigned long long)cum);
	}
}

/* stats_metrics_bridge - the bridge's families, when the instance has a cluster. */
static void
stats_metrics_bridge(struct sbuf *b, const struct stats_bridge *br)
{
	const struct stats_field *f;
	size_t i;

	if (!br->on)
		return;
	stats_family(b, "janusd_bridge_up", "gauge", "1 while the bridge's link to NATS is up.");
	sb_put(b, "janusd_bridge_up %d\n", br->link == SHM_LINK_UP);
	stats_family(b, "janusd_bridge_restarts_total", "counter", "Times the master started the bridge again.");
	sb_put(b, "janusd_bridge_restarts_total %u\n", br->restarts);
	for (i = 0; i < STATS_BR_NCOUNTERS; i++) {
		f = &stats_bridge_fields[i];
		if (f->help != NULL)
			stats_family(b, f->metric, f->gauge ? "gauge" : "counter", f->help);
		sb_put(b, "%s%s%s%s %llu\n", f->metric, f->label ? "{" : "", f->label ? f->label : "",
		    f->label ? "}" : "", (unsigned long long)br->v[i]);
	}
}

long
stats_metrics(const struct stats_snap *sn, char *dst, size_t cap)
{
	struct sbuf b;

	sb_init(&b, dst, cap);
	stats_metrics_global(&b, sn);
	stats_metrics_slots(&b, sn);
	stats_metrics_counters(&b, sn);
	stats_metrics_delay(&b, sn);
	stats_metrics_bridge(&b, &sn->bridge);
	return sb_end(&b);
}
