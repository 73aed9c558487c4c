/*
 * t/topics_table.c - unit test for shm/topics.c and shm/addrs.c on a real
 * shared segment.
 *
 * Owns: interning names to ids (same name same id, 255-byte names, names
 * one byte apart, one byte too long), the 64-byte entry, pinning by
 * worker bits and the address charge and quota, eviction of the least
 * recently published unpinned topic when ids or name heap run out (with
 * its generation and lost_upto), refusal in O(1) when every topic is
 * pinned, clearing a dead worker, repair after a writer died mid-change,
 * and many rounds of churn checked against a model. Then the address
 * table: per-worker connection counts, /64 grouping, release, full.
 * The segment is always removed: atexit, fatal signals, and a
 * sanitizer's death callback.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "shm/segment.h"
#include "t/tap.h"
#include "t/tseg.h"

static struct topics *tt;

static long
intern_str(const char *name)
{
	return seg_intern(name, (uint32_t)strlen(name));
}

static long
find_str(const char *name)
{
	long id;

	seg_lock();
	id = topics_find_locked(tt, name, (uint32_t)strlen(name));
	shm_unlock(&seg);
	return id;
}

/* publish - note seq as id's newest record; returns the record before it. */
static uint64_t
publish(long id, uint64_t seq)
{
	uint64_t prev;

	seg_lock();
	prev = topics_published_locked(tt, (uint32_t)id, seq);
	shm_unlock(&seg);
	return prev;
}

static long
repair(void)
{
	unsigned n;

	seg_lock();
	n = topics_repair_locked(tt);
	shm_unlock(&seg);
	return n;
}

/* name_of - entry id's name, as stored in the heap. */
static const char *
name_of(long id)
{
	return tt->names + (size_t)tt->tab[id].name * SHM_NAME_UNIT;
}

/* lru_len - the eviction list walked both ways; -1 if the two walks disagree. */
static long
lru_len(void)
{
	long fwd = 0, back = 0;
	uint32_t id;

	for (id = tt->ctl->lru_head; id != SHM_NONE && fwd <= (long)tt->max; id = tt->tab[id].lru_next)
		fwd++;
	for (id = tt->ctl->lru_tail; id != SHM_NONE && back <= (long)tt->max; id = tt->tab[id].lru_prev)
		back++;
	return fwd == back ? fwd : -1;
}

/* test_basics - same name same id, the entry's size and contents. */
static void
test_basics(void)
{
	long a, b;

	tap_is_int(sizeof(struct shm_topic), 64, "a topic entry is 64 bytes (the name lives in the heap)");
	tap_is_int(find_str("alpha"), -1, "empty table: find -1");
	a = intern_str("alpha");
	tap_is_int(a, 0, "first id is 0");
	tap_is_int(intern_str("alpha"), a, "alpha again: same id");
	b = intern_str("beta");
	tap_is_int(b, 1, "beta: the next id");
	tap_ok(atomic_load(&tt->tab[b].state) == TOPIC_LIVE && tt->tab[b].len == 4 &&
	    memcmp(name_of(b), "beta", 4) == 0 && tt->tab[b].units == 1 && topics_gen(tt, (uint32_t)b) == 1,
	    "beta's entry: LIVE, its name in one heap unit, generation 1");
	tap_ok(tt->ctl->live == 2 && lru_len() == 2 && topics_workers(tt, (uint32_t)a) == 0,
	    "two live topics, both unpinned on the eviction list");
}

/* test_names - 255-byte names, one byte apart, prefixes, one too long. */
static void
test_names(void)
{
	char name[CONF_TOPIC_MAX + 2];
	long base, x, y;

	memset(name, 'n', sizeof(name));
	base = seg_intern(name, CONF_TOPIC_MAX);
	tap_ok(base >= 0 && seg_intern(name, CONF_TOPIC_MAX) == base && tt->tab[base].len == CONF_TOPIC_MAX &&
	    tt->tab[base].units == 16 && memcmp(name_of(base), name, CONF_TOPIC_MAX) == 0,
	    "255-byte name: interned whole in 16 units, and again the same id");
	tap_is_int(seg_intern(name, CONF_TOPIC_MAX + 1), -1, "256-byte name: -1");
	tap_is_int(seg_intern(name, 0), -1, "empty name: -1");
	base = seg_intern(name, 100);
	name[99] = 'N';
	x = seg_intern(name, 100);
	name[99] = 'n';
	name[0] = 'N';
	y = seg_intern(name, 100);
	name[0] = 'n';
	tap_ok(x >= 0 && y >= 0 && x != base && y != base && x != y && seg_intern(name, 100) == base,
	    "100-byte names one byte apart (last, first): distinct ids %ld %ld %ld", base, x, y);
	tap_ok(intern_str("ab") != intern_str("abc") && find_str("ab") >= 0 && find_str("abc") >= 0,
	    "a name and its prefix are different topics");
}

/* test_evict - room comes from the least recently published unpinned topic. */
static void
test_evict(void)
{
	char name[32];
	long ids[16], fresh, oldest;
	uint32_t gen;
	int i;

	/* start over in a known order: evict everything by filling with pinned-then-unpinned names */
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "e-%02d", i);
		ids[i] = intern_str(name);
		publish(ids[i], 100 + (uint64_t)i);
	}
	tap_ok(tt->ctl->used == 16 && tt->ctl->live == 16 && find_str("alpha") == -1,
	    "sixteen new names in a 16-entry table: the old ones were evicted");
	tap_is_int(publish(ids[3], 200), 103, "publishing returns the topic's record before (its link)");
	oldest = ids[0];
	gen = topics_gen(tt, (uint32_t)oldest);
	tap_ok(seg_pin(ids[0], 0, SHM_NONE, 0) == 0 && topics_workers(tt, (uint32_t)ids[0]) == 1 &&
	    lru_len() == 15, "pinning e-00 on worker 0 takes it off the eviction list");
	fresh = intern_str("fresh-1");
	tap_is_int(fresh, ids[1], "a new name takes the least recently published unpinned id (e-01)");
	tap_ok(topics_gen(tt, (uint32_t)fresh) == topics_gen(tt, (uint32_t)ids[2]) + 1 &&
	    find_str("e-01") == -1 && find_str("e-00") == oldest && topics_gen(tt, (uint32_t)oldest) == gen,
	    "the reused id's generation moved on; e-01 is gone; pinned e-00 kept, unchanged");
	tap_ok(topics_lost_upto(tt, (uint32_t)fresh) >= 101 && tt->ctl->evicted_upto >= 101,
	    "the new name knows records up to %llu may have been an evicted name's",
	    (unsigned long long)topics_lost_upto(tt, (uint32_t)fresh));
	tap_is_int(intern_str("fresh-2"), ids[2], "next: e-02 (e-03 was published to since)");
	tap_is_int(intern_str("fresh-3"), ids[4], "then e-04: e-03 moved to the recent end");
	seg_unpin(ids[0], 0);
	tap_ok(topics_workers(tt, (uint32_t)ids[0]) == 0 && lru_len() == 16,
	    "unpinned again: back on the eviction list, at the recent end");
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "p-%02d", i);
		ids[i] = intern_str(name);
		seg_pin(ids[i], (unsigned)i % 2, SHM_NONE, 0);
	}
	tap_ok(lru_len() == 0 && tt->ctl->live == 16, "sixteen pinned topics: nothing to evict");
	tap_is_int(intern_str("no-room"), -1, "every topic pinned: -1 at once");
	tap_ok(find_str("no-room") == -1 && tt->ctl->live == 16 && atomic_load(&tt->ctl->refused) >= 1,
	    "nothing was created for it, and the refusal is counted");
	seg_lock();
	topics_clear_worker_locked(tt, 0);
	shm_unlock(&seg);
	tap_ok(lru_len() == 8 && topics_workers(tt, (uint32_t)ids[1]) == 2 &&
	    topics_workers(tt, (uint32_t)ids[0]) == 0,
	    "a dead worker 0 cleared: its 8 topics unpinned, worker 1's stay pinned");
	fresh = intern_str("room-again");
	for (i = 0; i < 16 && ids[i] != fresh; i += 2)
		;
	tap_ok(fresh >= 0 && i < 16, "and a new name gets room: one of worker 0's former topics (%ld)", fresh);
	seg_lock();
	topics_clear_worker_locked(tt, 1);
	shm_unlock(&seg);
}

/* test_names_heap - long names take the heap's room; eviction makes more. */
static void
test_names_heap(void)
{
	char name[CONF_TOPIC_MAX + 1];
	long ids[8];
	int i, ok = 1;

	tap_is_int(tt->name_units, 48, "the heap: 48 bytes per topic, 16-byte units");
	memset(name, 'L', sizeof(name));
	for (i = 0; i < 8; i++) {
		name[0] = (char)('a' + i);
		ids[i] = seg_intern(name, CONF_TOPIC_MAX);
		ok &= ids[i] >= 0 && memcmp(name_of(ids[i]), name, CONF_TOPIC_MAX) == 0;
	}
	tap_ok(ok, "eight 255-byte names fit a heap of three: older ones are evicted for the room");
	tap_ok(find_str("room-again") == -1 && tt->ctl->live <= 3,
	    "only the newest long names are left (%u topics)", tt->ctl->live);
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "s-%02d", i);
		ok &= intern_str(name) >= 0;
	}
	tap_ok(ok && tt->ctl->live == 16, "short names then split the freed long chunks: 16 topics");
}

/* test_pins - worker bits, the owner's charge and its quota. */
static void
test_pins(void)
{
	struct addrs *a = &seg.addrs;
	uint8_t ip[16] = { 10, 0, 0, 1 };
	uint32_t owner;
	long x = find_str("s-00"), y = find_str("s-01"), z = find_str("s-02");

	seg_lock();
	owner = addrs_get_locked(a, 4, ip);
	addrs_conn_locked(a, owner, 0, 1);
	shm_unlock(&seg);
	tap_ok(seg_pin(x, 0, owner, 2) == 0 && addrs_topics(a, owner) == 1,
	    "the first subscriber anywhere pins the topic and charges its address");
	tap_ok(seg_pin(x, 1, owner, 2) == 0 && addrs_topics(a, owner) == 1 && topics_workers(tt, (uint32_t)x) == 3,
	    "a second worker joining charges nothing");
	tap_ok(seg_pin(y, 0, owner, 2) == 0 && addrs_topics(a, owner) == 2, "a second topic: charged 2");
	seg_lock();
	tap_ok(topics_would_charge_locked(tt, z) && topics_would_charge_locked(tt, -1) &&
	    !topics_would_charge_locked(tt, x), "would_charge: unpinned or new yes, pinned no");
	shm_unlock(&seg);
	tap_ok(seg_pin(z, 0, owner, 2) == -1 && topics_workers(tt, (uint32_t)z) == 0 && addrs_topics(a, owner) == 2,
	    "a third at quota 2: refused, nothing changes");
	seg_unpin(x, 0);
	tap_ok(addrs_topics(a, owner) == 2, "worker 0 leaves, worker 1 still subscribes: still charged");
	seg_unpin(x, 1);
	tap_ok(addrs_topics(a, owner) == 1 && seg_pin(z, 0, owner, 2) == 0,
	    "the last one leaves: uncharged, so the third fits now");
	seg_unpin(y, 0);
	seg_unpin(z, 0);
	seg_lock();
	addrs_conn_locked(a, owner, 0, -1);
	shm_unlock(&seg);
	tap_ok(addrs_topics(a, owner) == 0 && seg.addrs.tab[owner].family == 0 && a->ctl->live == 0,
	    "nothing charged and no connection: the address entry is released");
}

/* test_repair - a writer that died mid-change leaves nothing repair cannot mend. */
static void
test_repair(void)
{
	struct shm_topic *e;
	uint32_t id, i, live = tt->ctl->live;
	long x = find_str("s-05");

	tap_is_int(repair(), 0, "repair of a healthy table gives back nothing");
	tap_ok(tt->ctl->live == live && lru_len() == (long)live && find_str("s-05") == x,
	    "and changes nothing that matters");
	/* a writer died mid-intern: state WRITING, half a name */
	e = &tt->tab[tt->ctl->free_head != SHM_NONE ? tt->ctl->free_head : x];
	id = (uint32_t)(e - tt->tab);
	atomic_store(&e->state, TOPIC_WRITING);
	tap_ok(repair() == 1 && atomic_load(&e->state) == TOPIC_FREE && tt->ctl->free_head == id,
	    "a WRITING entry is given back to the free list");
	tap_ok(find_str("s-05") == (id == (uint32_t)x ? -1 : x), "its name is not found any more");
	/* died with the chains and the eviction list in pieces */
	for (i = 0; i <= tt->mask; i++)
		atomic_store(&tt->bucket[i], SHM_NONE);
	tt->ctl->lru_head = tt->ctl->lru_tail = SHM_NONE;
	tt->ctl->name_free[0] = SHM_NONE;
	live = tt->ctl->live;
	tap_ok(repair() == 0 && find_str("s-06") >= 0 && find_str("s-15") >= 0 && lru_len() == (long)live,
	    "emptied chains and eviction list are rebuilt from the entries");
	tap_ok(intern_str("after-repair") >= 0 && find_str("after-repair") >= 0,
	    "and the table works on: a new name is interned");
}

/* A model of the table for the churn rounds. */
static char model_name[64][16];
static int model_pinned[64];

/* test_churn - rounds of interning, pinning and unpinning against a model. */
static void
test_churn(void)
{
	char name[16];
	unsigned r, i, k, pinned;
	long id;
	int ok = 1;

	for (r = 0; r < 400 && ok; r++) {
		k = (r * 37) % 64;
		snprintf(name, sizeof(name), "c-%u", k);
		id = intern_str(name);
		pinned = 0;
		for (i = 0; i < 64; i++)
			pinned += model_pinned[i] && find_str(model_name[i]) >= 0;
		if (id < 0) {
			ok = pinned == 16;
			continue;
		}
		snprintf(model_name[k], sizeof(model_name[k]), "%s", name);
		ok = find_str(name) == id && memcmp(name_of(id), name, strlen(name)) == 0 &&
		    tt->ctl->live <= tt->max;
		if (r % 3 == 0 && !model_pinned[k]) {
			ok &= seg_pin(id, r % 2, SHM_NONE, 0) == 0;
			model_pinned[k] = (int)(r % 2) + 1;
		} else if (r % 5 == 0 && model_pinned[k]) {
			seg_unpin(id, (unsigned)model_pinned[k] - 1);
			model_pinned[k] = 0;
		}
		for (i = 0; i < 64 && ok; i++)
			if (model_pinned[i])
				ok = find_str(model_name[i]) >= 0;
		ok &= lru_len() >= 0;
	}
	tap_ok(ok, "400 rounds: names found, pinned ones never evicted, lists sound (stopped at %u)", r);
}

/* test_addrs - connections per worker, IPv6 by /64, release. */
static void
test_addrs(void)
{
	struct addrs *a = &seg.addrs;
	uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 2 };
	uint8_t v4[16] = { 192, 0, 2, 7 };
	uint32_t x, y, z;

	seg_lock();
	x = addrs_get_locked(a, 6, v6a);
	y = addrs_get_locked(a, 6, v6b);
	z = addrs_get_locked(a, 4, v4);
	addrs_conn_locked(a, x, 0, 1);
	addrs_conn_locked(a, x, 1, 1);
	addrs_conn_locked(a, z, 1, 1);
	shm_unlock(&seg);
	tap_ok(x == y && x != z && x != SHM_NONE, "two IPv6 addresses of one /64 share an entry");
	tap_ok(addrs_conns(a, x) == 2 && addrs_conns(a, z) == 1, "connections counted over workers");
	seg_lock();
	addrs_clear_worker_locked(a, 1);
	shm_unlock(&seg);
	tap_ok(addrs_conns(a, x) == 1 && a->tab[z].family == 0,
	    "worker 1 died: its connections dropped, an address left with none released");
	seg_lock();
	addrs_conn_locked(a, x, 0, -1);
	addrs_conn_locked(a, x, 0, -1);
	x = addrs_get_locked(a, 4, v4);
	shm_unlock(&seg);
	tap_ok(a->ctl->live == 1 && addrs_conns(a, x) == 0 && a->tab[x].family == 4 && x == y,
	    "counts saturate at 0; a released entry is reused by the next new address");
}

int
main(void)
{
	tap_plan(7 + 5 + 14 + 4 + 8 + 6 + 1 + 4);
	seg_create();
	tt = &seg.topics;
	tap_diag("segment %s: %u topics, %u chains, %u heap units", seg.name, tt->max, tt->mask + 1,
	    tt->name_units);
	test_basics();
	test_names();
	test_evict();
	test_names_heap();
	test_pins();
	test_repair();
	test_churn();
	test_addrs();
	return tap_done();
}
