/*
 * t/ring_seqlock.c - concurrent test of shm/ring.c's lock-free readers.
 *
 * Owns: one writer process that publishes as the workers do (shm_lock,
 * reserve, render, commit, unlock) as fast as it can, wrapping the 1 MiB
 * data area many times and, in stretches of tiny records, the slot index
 * too; and reader processes that meanwhile take records from all over the
 * ring as the workers do (ring_get, use a copy of the bytes, then
 * ring_intact) and follow each one's topic link (ring_next) the same way.
 * Every record's length, slot fields and bytes follow from its sequence
 * number (16 topics taking turns), so each record a reader accepts as
 * whole is checked against what that number must hold: one torn record
 * fails the test, as do too few accepted reads, or readers that did not
 * read while the ring wrapped. Every wait is bounded; children die with
 * the parent.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/segment.h"
#include "t/tap.h"
#include "t/tlib.h"
#include "t/tseg.h"

#define READERS       3
#define MAX_LEN       1024
#define PHASE_BITS    14          /* 16384 records of long, then of tiny lengths */
#define MIN_LAPS      40          /* the writer goes on at least this far ... */
#define MIN_ACCEPTED  20000       /* ... and until every reader accepted this many */
#define MIN_LINKED    2000        /* (and followed this many links to whole records) */
#define MAX_LAPS      1024        /* bounds: laps, and time */
#define WRITER_MAX_MS 15000
#define READER_MAX_MS 20000
#define MIN_LAPS_SEEN 8           /* distinct laps the accepted records came from */

/* What a reader found; written by that reader, read by the parent after it exited. */
struct reader_result {
	alignas(128) _Atomic uint64_t accepted;  /* the writer watches it grow */
	_Atomic uint64_t linked;
	uint64_t reads, absent, overwritten, torn;
	uint64_t laps_seen[MAX_LAPS / 64];
	char first_torn[256];
};

/* Shared by the test's processes (an anonymous shared mapping made before fork). */
struct race {
	_Atomic unsigned ready;       /* readers in their loop */
	_Atomic int writer_done;
	uint64_t records, laps;       /* the writer's, once done */
	struct reader_result res[READERS];
};

static struct race *race;

/* rec_len - the length record seq has: 8..MAX_LEN, or 8..64 in a tiny stretch. */
static uint32_t
rec_len(uint64_t seq)
{
	uint32_t span = (seq >> PHASE_BITS) & 1 ? 57 : MAX_LEN - 7;

	return 8 + (uint32_t)(seq * 7919 % span);
}

/* rec_meta - what record seq is besides its bytes: topic seq % 16, linked after seq - 16. */
static struct ring_meta
rec_meta(uint64_t seq)
{
	struct ring_meta m;

	m.topic = (uint32_t)(seq % 16);
	m.gen = m.topic + 1;
	m.pfx = (uint32_t)(seq % 40);
	m.flags = (uint32_t)(seq % 2);
	m.prev = seq > 16 ? seq - 16 : 0;
	return m;
}

/* rec_whole - whether what was read as record seq is exactly what it must hold. */
static int
rec_whole(uint64_t seq, const struct ring_rec *rec, const char *copy)
{
	struct ring_meta m = rec_meta(seq);
	char want[MAX_LEN];

	if (rec->seq != seq || rec->len != rec_len(seq) || rec->topic != m.topic ||
	    rec->gen != m.gen || rec->pfx != m.pfx || rec->flags != m.flags || rec->prev != m.prev)
		return 0;
	seg_record_fill(want, seq, rec->len);
	return memcmp(copy, want, rec->len) == 0;
}

/* writer_should_go_on - below the bounds, and not yet enough laps or accepted reads. */
static int
writer_should_go_on(uint64_t laps, uint64_t end)
{
	unsigned i;

	if (laps >= MAX_LAPS || tlib_ms() >= end)
		return 0;
	if (laps < MIN_LAPS)
		return 1;
	for (i = 0; i < READERS; i++)
		if (atomic_load_explicit(&race->res[i].accepted, memory_order_relaxed) < MIN_ACCEPTED ||
		    atomic_load_explicit(&race->res[i].linked, memory_order_relaxed) < MIN_LINKED)
			return 1;
	return 0;
}

/* writer_run - publish records 1, 2, ... under the lock until writer_should_go_on says no. */
static void
writer_run(unsigned id)
{
	uint64_t seq = 0, laps = 0, end = tlib_ms() + WRITER_MAX_MS;
	struct ring_meta meta;
	uint32_t len, maxlen;
	char *dst;

	while (atomic_load(&race->ready) < READERS && tlib_ms() < end)
		tlib_sleep_ms(1);
	while (writer_should_go_on(laps, end)) {
		seq++;
		len = rec_len(seq);
		/* like a publish: reserve the most it may need, commit what it used */
		maxlen = seq % 3 == 0 ? len + 48 : len;
		if (shm_lock(&seg) < 0)
			break;
		dst = ring_reserve_locked(&seg.ring, maxlen);
		seg_record_fill(dst, seq, len);
		meta = rec_meta(seq);
		if (ring_commit_locked(&seg.ring, len, &meta) != seq) {
			shm_unlock(&seg);
			break;
		}
		shm_unlock(&seg);
		laps = seg.ring.reserved / seg.ring.size;
	}
	race->records = ring_head(&seg.ring);
	race->laps = laps;
	atomic_store(&race->writer_done, 1);
}

/* reader_pick - where to read: the oldest records (being given up), anywhere, the newest, beyond. */
static uint64_t
reader_pick(uint64_t n, uint64_t *rnd)
{
	uint64_t tail = ring_tail(&seg.ring), head = ring_head(&seg.ring), r;

	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 7;
	*rnd ^= *rnd << 17;
	r = *rnd >> 8;
	switch (n % 6) {
	case 0: return tail;
	case 1: return tail + r % 4;
	case 2: return head >= tail ? tail + r % (head - tail + 1) : tail;
	case 3: return head;
	case 4: return tail > 4 ? tail - 1 - r % 4 : tail;  /* just given up */
	default: return head + 1;                            /* being written */
	}
}

/*
 * reader_take - use record rec as a worker does: copy its bytes, then ask
 * ring_intact. 1 if accepted (and checked against seq), 0 if overwritten.
 */
static int
reader_take(struct reader_result *res, uint64_t seq, const struct ring_rec *rec)
{
	char copy[MAX_LEN];
	uint64_t lap;

	/* the slot was whole when read; its length is checked against seq below */
	memcpy(copy, rec->bytes, rec->len <= MAX_LEN ? rec->len : MAX_LEN);
	if (!ring_intact(&seg.ring, rec->off)) {
		res->overwritten++;
		return 0;
	}
	lap = rec->off / seg.ring.size;
	if (lap < MAX_LAPS)
		res->laps_seen[lap / 64] |= UINT64_C(1) << (lap % 64);
	if (!rec_whole(seq, rec, copy) && res->torn++ == 0)
		snprintf(res->first_torn, sizeof(res->first_torn),
		    "record %llu (seq %llu, len %u, want %u; topic %u, gen %u, pfx %u, flags %u, "
		    "prev %llu; at offset %llu) reads '%.*s'", (unsigned long long)seq,
		    (unsigned long long)rec->seq, rec->len, rec_len(seq), rec->topic, rec->gen,
		    rec->pfx, rec->flags, (unsigned long long)rec->prev, (unsigned long long)rec->off,
		    (int)(rec->len < 24 ? rec->len : 24), copy);
	return 1;
}

/* reader_run - read as a worker does until the writer is done; count and check every read. */
static void
reader_run(unsigned id)
{
	struct reader_result *res = &race->res[id];
	uint64_t rnd = 0x9e3779b97f4a7c15ull * (id + 1), seq, accepted = 0, linked = 0;
	uint64_t end = tlib_ms() + READER_MAX_MS;
	struct ring_rec rec, next;

	atomic_fetch_add(&race->ready, 1);
	/* reads before the first record would only count as absent */
	while (ring_head(&seg.ring) == 0 && !atomic_load(&race->writer_done) && tlib_ms() < end)
		tlib_sleep_ms(1);
	while (!atomic_load_explicit(&race->writer_done, memory_order_acquire) &&
	    (res->reads % 1024 != 0 || tlib_ms() < end)) {
		seq = reader_pick(res->reads++, &rnd);
		if (ring_get(&seg.ring, seq, &rec) < 0) {
			res->absent++;
			continue;
		}
		if (!reader_take(res, seq, &rec))
			continue;
		atomic_store_explicit(&res->accepted, ++accepted, memory_order_relaxed);
		/* the topic's next record, once linked, is seq + 16 */
		if (ring_next(&seg.ring, &rec, &next) == 0 && reader_take(res, seq + 16, &next))
			atomic_store_explicit(&res->linked, ++linked, memory_order_relaxed);
	}
}

/* spawn - fork a child that runs fn(id) and exits; it dies with the parent. */
static pid_t
spawn(void (*fn)(unsigned), unsigned id)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tap_bail("fork() failed: %s", strerror(errno));
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(3);
		fn(id);
		_exit(0);
	}
	return pid;
}

/* reap - wait for pid; whether it exited 0 (the status shown if not). */
static int
reap(pid_t pid, const char *who)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid() failed: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	tap_diag("  %s: wait status 0x%x", who, status);
	return 0;
}

/* laps_seen - distinct laps that some reader accepted a record from. */
static unsigned
laps_seen(void)
{
	unsigned i, w, n = 0;

	for (w = 0; w < MAX_LAPS / 64; w++) {
		uint64_t bits = 0;

		for (i = 0; i < READERS; i++)
			bits |= race->res[i].laps_seen[w];
		n += (unsigned)__builtin_popcountll(bits);
	}
	return n;
}

int
main(void)
{
	pid_t writer, readers[READERS];
	char who[32];
	unsigned i, seen;
	int ok;

	tap_plan(2 + 2 * READERS + 1);
	seg_create();
	race = mmap(NULL, sizeof(*race), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (race == MAP_FAILED)
		tap_bail("mmap() failed: %s", strerror(errno));
	memset(race, 0, sizeof(*race));
	tap_diag("segment %s: %llu data bytes, %u slots; %d readers", seg.name,
	    (unsigned long long)seg.ring.size, seg.ring.mask + 1, READERS);
	for (i = 0; i < READERS; i++)
		readers[i] = spawn(reader_run, i);
	writer = spawn(writer_run, 0);
	ok = reap(writer, "writer");
	for (i = 0; i < READERS; i++) {
		snprintf(who, sizeof(who), "reader %u", i);
		ok &= reap(readers[i], who);
	}
	tap_ok(ok, "the writer and %d readers exited 0", READERS);
	tap_ok(race->laps >= MIN_LAPS, "the writer wrapped the data area %llu times in %llu records",
	    (unsigned long long)race->laps, (unsigned long long)race->records);
	for (i = 0; i < READERS; i++) {
		const struct reader_result *r = &race->res[i];
		uint64_t accepted = atomic_load(&r->accepted), linked = atomic_load(&r->linked);

		tap_diag("reader %u: %llu reads: %llu accepted (and %llu through links), %llu absent, "
		    "%llu overwritten while read", i, (unsigned long long)r->reads,
		    (unsigned long long)accepted, (unsigned long long)linked,
		    (unsigned long long)r->absent, (unsigned long long)r->overwritten);
		tap_ok(accepted >= MIN_ACCEPTED && linked >= MIN_LINKED, "reader %u accepted %llu "
		    "records, and %llu through ring_next, while the ring wrapped (at least %d and %d)",
		    i, (unsigned long long)accepted, (unsigned long long)linked, MIN_ACCEPTED, MIN_LINKED);
		if (!tap_is_int((long long)r->torn, 0, "reader %u: every accepted record is whole", i))
			tap_diag("  first torn: %s", r->first_torn);
	}
	seen = laps_seen();
	tap_ok(seen >= MIN_LAPS_SEEN, "accepted records came from %u laps of the data area "
	    "(at least %d: the readers read while it wrapped)", seen, MIN_LAPS_SEEN);
	return tap_done();
}
