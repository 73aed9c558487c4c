/*
 * master/stats.c - the workers' counters, for people and for tests.
 *
 * Owns: reading the per-worker counters out of the shared segment:
 * `janusd -s` maps a running instance's segment read-only and prints one
 * JSON object; SIGUSR1 makes the master log a line per worker.
 * Must not write to the segment.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "lib/log.h"
#include "master/master.h"

static const struct {
	const char *name;
	size_t off;
} stats_fields[] = {
	{ "conns", offsetof(struct shm_stats, conns) },
	{ "accepted", offsetof(struct shm_stats, accepted) },
	{ "subs", offsetof(struct shm_stats, subs) },
	{ "published", offsetof(struct shm_stats, published) },
	{ "delivered", offsetof(struct shm_stats, delivered) },
	{ "bytes_in", offsetof(struct shm_stats, bytes_in) },
	{ "bytes_out", offsetof(struct shm_stats, bytes_out) },
	{ "errors", offsetof(struct shm_stats, errors) },
	{ "slow", offsetof(struct shm_stats, slow) },
	{ "refused", offsetof(struct shm_stats, refused) },
};

#define STATS_NFIELDS (sizeof(stats_fields) / sizeof(stats_fields[0]))

static unsigned long long
stats_get(const struct shm_stats *st, size_t i)
{
	return atomic_load_explicit((_Atomic uint64_t *)((char *)st + stats_fields[i].off),
	    memory_order_relaxed);
}

/* stats_line - one worker's counters: JSON members, or "name value" pairs for the log. */
static void
stats_line(char *buf, size_t cap, const struct shm_stats *st, int json)
{
	size_t i, n = 0;
	int k;

	buf[0] = '\0';
	for (i = 0; i < STATS_NFIELDS && n < cap; i++) {
		if (json)
			k = snprintf(buf + n, cap - n, "%s\"%s\":%llu", i ? "," : "",
			    stats_fields[i].name, stats_get(st, i));
		else
			k = snprintf(buf + n, cap - n, "%s%s %llu", i ? ", " : "",
			    stats_fields[i].name, stats_get(st, i));
		if (k < 0)
			return;
		n += (size_t)k;
	}
}

int
stats_print(unsigned port)
{
	struct shm s;
	struct shm_header *h;
	char err[256], line[1024];
	unsigned i;

	if (shm_attach(&s, port, err, sizeof(err)) != SHM_OK) {
		fprintf(stderr, "janusd: %s\n", err);
		return 2;
	}
	h = s.hdr;
	printf("{\"port\":%u,\"master_pid\":%d,\"epoch\":\"%s\",\"ring\":{\"head\":%llu,\"tail\":%llu,\"size\":%llu},"
	    "\"topics\":%u,\"workers\":[", h->port, (int)atomic_load(&h->master_pid), h->epoch,
	    (unsigned long long)ring_head(&s.ring), (unsigned long long)ring_tail(&s.ring),
	    (unsigned long long)h->data_size, h->topics.live);
	for (i = 0; i < h->nworkers; i++) {
		const struct shm_worker *w = &h->workers[i];

		stats_line(line, sizeof(line), &w->stats, 1);
		printf("%s{\"slot\":%u,\"pid\":%d,\"restarts\":%u,%s}", i ? "," : "", i,
		    (int)atomic_load(&w->pid), (unsigned)atomic_load(&w->restarts), line);
	}
	printf("]}\n");
	shm_detach(&s);
	return 0;
}

void
stats_log(struct master *m)
{
	char line[1024];
	unsigned i;

	for (i = 0; i < m->nslots; i++) {
		const struct shm_worker *w = shm_worker(&m->shm, i);

		stats_line(line, sizeof(line), &w->stats, 0);
		log_notice("worker %u (pid %d, %u restarts): %s", i, (int)atomic_load(&w->pid),
		    (unsigned)atomic_load(&w->restarts), line);
	}
	log_notice("ring: head %llu, tail %llu; %u topics", (unsigned long long)ring_head(&m->shm.ring),
	    (unsigned long long)ring_tail(&m->shm.ring), m->shm.hdr->topics.live);
}
