/*
 * t/ring_wrap.c - unit test for shm/ring.c on a real shared segment.
 *
 * Owns: publishing through shm_lock/ring_reserve_locked/ring_commit_locked
 * and reading back with ring_get, against a model of where each record
 * must go: records of varied lengths wrapping the 1 MiB data area many
 * times (exact fits at its end and skips to the next lap), then many
 * tiny records wrapping the slot index. After every publish it checks
 * placement, head, tail, that the record reads back byte-exact, that
 * consecutive records are adjacent, that records before tail are gone,
 * and where ring_intact turns false; every so often it sweeps the whole
 * ring. The segment is always removed: atexit, fatal signals, and a
 * sanitizer's death callback.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "shm/segment.h"
#include "t/tap.h"
#include "t/tseg.h"

#define MAX_RECORDS (1u << 18)
#define WRAP_LAPS   8
#define SWEEP_EVERY 1024
#define MAX_LEN     256

/* --- checks counted over thousands of records, reported once each --- */

struct tally {
	const char *what;
	unsigned long runs, fails;
	char first[256];
};

/* tally_ok - count one check; keep the first failure's story. */
static void __attribute__((format(printf, 4, 5)))
tally_ok(struct tally *t, uint64_t seq, int cond, const char *fmt, ...)
{
	va_list ap;
	int n;

	t->runs++;
	if (cond || t->fails++ > 0)
		return;
	n = snprintf(t->first, sizeof(t->first), "at seq %llu: ", (unsigned long long)seq);
	va_start(ap, fmt);
	vsnprintf(t->first + n, sizeof(t->first) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* tally_eq - count one equality check. */
static void
tally_eq(struct tally *t, uint64_t seq, uint64_t got, uint64_t want, const char *what)
{
	tally_ok(t, seq, got == want, "%s: got %llu, expected %llu", what,
	    (unsigned long long)got, (unsigned long long)want);
}

/* tally_report - one TAP line: no failures, and the check ran at all. */
static void
tally_report(const struct tally *t)
{
	if (!tap_ok(t->fails == 0 && t->runs > 0, "%s (%lu checks)", t->what, t->runs))
		tap_diag("  %lu failed%s%s", t->fails, t->fails ? "; first " : "", t->first);
}

enum {
	T_PLACE, T_HIDDEN, T_SEQ, T_READ, T_ADJACENT, T_TAIL, T_GONE, T_OLDEST,
	T_GIVEN_UP, T_KEPT, T_SWEEP, T_COUNT
};

static struct tally tallies[T_COUNT] = {
	[T_PLACE] = { .what = "reserve returns the model's place (adjacent, or the next lap)" },
	[T_HIDDEN] = { .what = "a reserved record is not readable before its commit" },
	[T_SEQ] = { .what = "commit returns head+1 and head follows" },
	[T_READ] = { .what = "a new record reads back byte-exact with its slot fields" },
	[T_ADJACENT] = { .what = "consecutive records are adjacent when the area did not wrap" },
	[T_TAIL] = { .what = "tail is the oldest record whose bytes and slot are still held" },
	[T_GONE] = { .what = "records before tail are gone (ring_get -1)" },
	[T_OLDEST] = { .what = "the record at tail reads back byte-exact" },
	[T_GIVEN_UP] = { .what = "ring_intact false for the newest record overwritten by a reserve" },
	[T_KEPT] = { .what = "ring_intact true for the oldest record not overwritten" },
	[T_SWEEP] = { .what = "sweeps: every held record exact and intact, others absent" },
};

/* --- the model of the ring --- */

struct model {
	uint64_t size;        /* data bytes */
	uint64_t nslots;
	uint64_t next;        /* monotonic offset of the next record */
	uint64_t low;         /* bytes below this may have been overwritten */
	uint64_t gone;        /* first seq whose bytes start at or above low */
	uint64_t head;
	uint64_t fits;        /* records that ended exactly at the data area's end */
	uint64_t skips;       /* reserves that skipped to the next lap */
	uint64_t off[MAX_RECORDS + 1];
	uint32_t len[MAX_RECORDS + 1];
};

static struct model model;

/* record_same - whether bytes are record seq's, whole. */
static int
record_same(const char *bytes, uint64_t seq, uint32_t len)
{
	char want[MAX_LEN];

	seg_record_fill(want, seq, len);
	return memcmp(bytes, want, len) == 0;
}

/* model_reserve - where a reserve of maxlen must go; gives up what it covers. */
static uint64_t
model_reserve(struct model *m, uint32_t maxlen)
{
	uint64_t w = m->next, phys = w % m->size;

	if (phys + maxlen > m->size) {
		w += m->size - phys;
		m->skips++;
	}
	if (w + maxlen > m->size && w + maxlen - m->size > m->low)
		m->low = w + maxlen - m->size;
	while (m->gone <= m->head && m->off[m->gone] < m->low)
		m->gone++;
	return w;
}

/* model_tail - the tail once record seq is committed. */
static uint64_t
model_tail(const struct model *m, uint64_t seq)
{
	uint64_t by_slots = seq + 1 > m->nslots ? seq + 1 - m->nslots : 1;

	return m->gone > by_slots ? m->gone : by_slots;
}

/* check_boundary - ring_intact on both sides of the model's low. */
static void
check_boundary(const struct model *m, uint64_t seq)
{
	if (m->gone > 1)
		tally_ok(&tallies[T_GIVEN_UP], seq, !ring_intact(&seg.ring, m->off[m->gone - 1]),
		    "record %llu at offset %llu still intact",
		    (unsigned long long)(m->gone - 1), (unsigned long long)m->off[m->gone - 1]);
	if (m->gone <= m->head)
		tally_ok(&tallies[T_KEPT], seq, ring_intact(&seg.ring, m->off[m->gone]),
		    "record %llu at offset %llu not intact",
		    (unsigned long long)m->gone, (unsigned long long)m->off[m->gone]);
}

/* check_record - ring_get(seq) is the record the model says, byte-exact. */
static int
check_record(const struct model *m, uint64_t seq, struct ring_rec *rec)
{
	return ring_get(&seg.ring, seq, rec) == 0 && rec->seq == seq &&
	    rec->off == m->off[seq] && rec->len == m->len[seq] &&
	    rec->topic == seq % 16 && rec->pfx == seq % 40 && rec->gen == seq % 7 && rec->flags == seq % 2 &&
	    rec->prev == (seq > 16 ? seq - 16 : 0) &&
	    rec->bytes == seg.ring.data + m->off[seq] % m->size &&
	    record_same(rec->bytes, seq, rec->len);
}

/* check_after_commit - the new record, its neighbour, tail and before. */
static void
check_after_commit(struct model *m, uint64_t seq)
{
	static struct ring_rec prev;
	struct ring_rec rec = { 0 };
	uint64_t tail = ring_tail(&seg.ring), want_tail = model_tail(m, seq);

	tally_ok(&tallies[T_READ], seq, check_record(m, seq, &rec),
	    "ring_get: off %llu len %u (model: off %llu len %u)", (unsigned long long)rec.off,
	    rec.len, (unsigned long long)m->off[seq], m->len[seq]);
	if (seq > 1 && m->off[seq] == m->off[seq - 1] + m->len[seq - 1] &&
	    m->off[seq] % m->size != 0)
		tally_ok(&tallies[T_ADJACENT], seq, rec.bytes == prev.bytes + prev.len,
		    "record starts %td bytes after the previous one's end",
		    rec.bytes - (prev.bytes + prev.len));
	prev = rec;
	tally_eq(&tallies[T_TAIL], seq, tail, want_tail, "tail");
	tally_ok(&tallies[T_OLDEST], seq, check_record(m, tail, &rec), "record %llu (tail)",
	    (unsigned long long)tail);
	if (tail > 1)
		tally_ok(&tallies[T_GONE], seq, ring_get(&seg.ring, tail - 1, &rec) < 0,
		    "record %llu (tail-1) still readable", (unsigned long long)(tail - 1));
}

/* sweep - every sequence number up to just past head: held exactly, or absent. */
static void
sweep(const struct model *m)
{
	uint64_t s, tail = ring_tail(&seg.ring);
	struct ring_rec rec;
	int ok;

	for (s = 1; s <= m->head + 3; s++) {
		if (s >= tail && s <= m->head)
			ok = check_record(m, s, &rec) && ring_intact(&seg.ring, rec.off);
		else
			ok = ring_get(&seg.ring, s, &rec) < 0;
		tally_ok(&tallies[T_SWEEP], s, ok, "%s (tail %llu, head %llu)",
		    s >= tail && s <= m->head ? "held record wrong" : "absent record readable",
		    (unsigned long long)tail, (unsigned long long)m->head);
	}
}

/* publish - one record of len bytes in a reserve of maxlen, checked as it goes. */
static void
publish(struct model *m, uint32_t len, uint32_t maxlen)
{
	uint64_t seq = m->head + 1, w, got;
	struct ring_meta meta;
	struct ring_rec rec;
	char *dst;

	if (seq > MAX_RECORDS || shm_lock(&seg) < 0)
		tap_bail("cannot publish record %llu", (unsigned long long)seq);
	dst = ring_reserve_locked(&seg.ring, maxlen);
	w = model_reserve(m, maxlen);
	tally_ok(&tallies[T_PLACE], seq, dst == seg.ring.data + w % m->size,
	    "reserved at data+%td, model says data+%llu", dst - seg.ring.data,
	    (unsigned long long)(w % m->size));
	check_boundary(m, seq);
	seg_record_fill(dst, seq, len);
	tally_ok(&tallies[T_HIDDEN], seq, ring_get(&seg.ring, seq, &rec) < 0,
	    "readable before its commit");
	meta.topic = (uint32_t)(seq % 16);
	meta.gen = (uint32_t)(seq % 7);
	meta.pfx = (uint32_t)(seq % 40);
	meta.flags = (uint32_t)(seq % 2);
	meta.prev = seq > 16 ? seq - 16 : 0;
	got = ring_commit_locked(&seg.ring, len, &meta);
	shm_unlock(&seg);
	m->off[seq] = w;
	m->len[seq] = len;
	m->head = seq;
	m->next = w + len;
	if (m->next % m->size == 0)
		m->fits++;
	tally_ok(&tallies[T_SEQ], seq, got == seq && ring_head(&seg.ring) == seq,
	    "commit returned %llu, head %llu", (unsigned long long)got,
	    (unsigned long long)ring_head(&seg.ring));
	check_after_commit(m, seq);
	if (seq % SWEEP_EVERY == 0)
		sweep(m);
}

/* pick_wrap_len - varied lengths; on even laps, fill a short lap end exactly. */
static uint32_t
pick_wrap_len(const struct model *m, uint64_t seq)
{
	uint64_t room = m->size - m->next % m->size;

	if ((m->next / m->size) % 2 == 0 && room >= 16 && room <= MAX_LEN)
		return (uint32_t)room;
	return 16 + (uint32_t)(seq * 7919 % (MAX_LEN - 15));
}

/* test_fresh - an empty ring holds nothing. */
static void
test_fresh(void)
{
	struct ring_rec rec;

	tap_is_int((long long)seg.hdr->data_size, 1 << 20, "data area is ring_size (1 MiB)");
	tap_is_int(ring_head(&seg.ring), 0, "fresh ring: head 0");
	tap_is_int(ring_tail(&seg.ring), 1, "fresh ring: tail 1");
	tap_is_int(ring_get(&seg.ring, 1, &rec), -1, "fresh ring: record 1 absent");
	tap_is_int(ring_get(&seg.ring, 0, &rec), -1, "fresh ring: record 0 (never a record) absent");
}

/* test_wrap - records of 16..256 bytes until the data area wrapped many times. */
static void
test_wrap(struct model *m)
{
	uint64_t seq;
	uint32_t len;

	while (m->next / m->size < WRAP_LAPS && m->head + 4 * m->nslots < MAX_RECORDS) {
		seq = m->head + 1;
		len = pick_wrap_len(m, seq);
		/* like a publish: reserve the most it may need, commit what it used */
		publish(m, len, seq % 3 == 0 && len + 48 <= m->size ? len + 48 : len);
	}
	sweep(m);
	tap_ok(m->next / m->size >= WRAP_LAPS, "data area wrapped %llu times in %llu records",
	    (unsigned long long)(m->next / m->size), (unsigned long long)m->head);
	tap_ok(m->fits > 0 && m->skips > 0, "records ended exactly at the end (%llu) and "
	    "skipped to the next lap (%llu)", (unsigned long long)m->fits,
	    (unsigned long long)m->skips);
}

/* test_slots - tiny records: the slot index wraps long before the data does. */
static void
test_slots(struct model *m)
{
	uint64_t first = m->head + 1, i, tail;
	struct ring_rec rec;

	for (i = 0; i < 3 * m->nslots + 5; i++)
		publish(m, 8, 8);
	sweep(m);
	tail = ring_tail(&seg.ring);
	tap_is_int((long long)tail, (long long)(m->head - m->nslots + 1),
	    "after %llu tiny records: tail is head - slots + 1",
	    (unsigned long long)(m->head - first + 1));
	tap_ok(ring_get(&seg.ring, tail - 1, &rec) < 0 && ring_intact(&seg.ring, m->off[tail - 1]),
	    "record tail-1 lost its slot but its bytes are still intact");
}

int
main(void)
{
	size_t i;

	tap_plan(5 + T_COUNT + 4);
	seg_create();
	model.size = seg.hdr->data_size;
	model.nslots = seg.hdr->nslots;
	model.gone = 1;
	tap_diag("segment %s: %llu data bytes, %llu slots", seg.name,
	    (unsigned long long)model.size, (unsigned long long)model.nslots);
	test_fresh();
	test_wrap(&model);
	test_slots(&model);
	for (i = 0; i < T_COUNT; i++)
		tally_report(&tallies[i]);
	return tap_done();
}
