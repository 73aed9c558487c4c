/*
 * master/stats.c - the workers' counters, for people and for tests.
 *
 * Owns: `janusd -s`, which maps a running instance's segment read-only
 * and prints the JSON of GET /stats, and the lines SIGUSR1 makes the
 * master log, one per worker and one for the bridge. What the counters
 * are and how they are rendered belongs to shm/stats.c. Must not write
 * to the segment.
 */
#include "config.h"

#include <stdio.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "master/master.h"
#include "shm/stats.h"

int
stats_print(unsigned port)
{
	struct stats_snap sn;
	char err[512], out[STATS_JSON_MAX(CONF_MAX_WORKERS)];
	struct shm s;
	long n;

	if (shm_attach(&s, port, err, sizeof(err)) != SHM_OK) {
		fprintf(stderr, "janusd: %s\n", err);
		return 2;
	}
	stats_snap_take(&sn, &s, clock_wall_usec() / 1000);
	shm_detach(&s);
	n = stats_json(&sn, out, sizeof(out));
	if (n < 0 || fwrite(out, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0) {
		fprintf(stderr, "janusd: cannot print the counters\n");
		return 2;
	}
	return 0;
}

void
stats_log(struct master *m)
{
	struct stats_snap sn;
	char line[STATS_LOG_MAX];
	unsigned i;

	stats_snap_take(&sn, &m->shm, clock_wall_usec() / 1000);
	for (i = 0; i < sn.nworkers; i++) {
		if (stats_log_line(&sn, i, line, sizeof(line)) < 0)
			line[0] = '\0';
		log_notice("worker %u (pid %d, %u restarts): %s", i, (int)sn.w[i].pid,
		    sn.w[i].restarts, line);
	}
	if (stats_log_bridge(&sn, line, sizeof(line)) >= 0)
		log_notice("bridge (pid %d, %u restarts): %s", (int)sn.bridge.pid, sn.bridge.restarts, line);
	log_notice("ring: head %llu, tail %llu; %u topics", (unsigned long long)sn.head,
	    (unsigned long long)sn.tail, sn.topics);
}
