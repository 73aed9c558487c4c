/*
 * t/topics_table.c - unit test for shm/topics.c on a real shared segment.
 *
 * Owns: interning names to dense ids (same name same id, 255-byte names,
 * names one byte apart, one byte too long), filling the 16-entry table,
 * giving back unused topics when it is full (and keeping those with
 * subscribers or records still in the ring), per-worker subscriber
 * counts, repair after a writer died mid-intern, and many rounds of
 * interning and giving back that leave tombstones and force rebuilds.
 * The segment is always removed: atexit, fatal signals, and a
 * sanitizer's death callback.
 */
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

/* --- the table, used the way the workers do: under the lock --- */

static struct topics *tt;

/* intern - topics_intern_locked under the lock. */
static long
intern(const char *name, uint32_t len, uint64_t tail)
{
	long id;

	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	id = topics_intern_locked(tt, name, len, tail);
	shm_unlock(&seg);
	return id;
}

/* intern_str - intern a NUL-terminated name. */
static long
intern_str(const char *name, uint64_t tail)
{
	return intern(name, (uint32_t)strlen(name), tail);
}

/* find_str - topics_find_locked under the lock. */
static long
find_str(const char *name)
{
	long id;

	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	id = topics_find_locked(tt, name, (uint32_t)strlen(name));
	shm_unlock(&seg);
	return id;
}

/* add_subs - topics_sub_locked under the lock; returns the new count. */
static long
add_subs(long id, unsigned worker, int delta)
{
	uint32_t n;

	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	n = topics_sub_locked(tt, (uint32_t)id, worker, delta);
	shm_unlock(&seg);
	return n;
}

/* note_published - note seq as id's newest record, under the lock. */
static void
note_published(long id, uint64_t seq)
{
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	topics_published_locked(tt, (uint32_t)id, seq);
	shm_unlock(&seg);
}

/* repair_table - topics_repair_locked under the lock; entries given back. */
static long
repair_table(void)
{
	unsigned n;

	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	n = topics_repair_locked(tt);
	shm_unlock(&seg);
	return n;
}

/* count_live - LIVE entries below the high-water mark, counted by hand. */
static uint32_t
count_live(void)
{
	uint32_t id, n = 0;

	for (id = 0; id < tt->ctl->used; id++)
		n += atomic_load(&tt->tab[id].state) == TOPIC_LIVE;
	return n;
}

/* The names the tests intern, and the ids they got. */
struct named {
	char name[CONF_TOPIC_MAX + 1];
	uint32_t len;
	long id;
};

static struct named known[CONF_TOPIC_MAX];
static size_t nknown;

/* remember - intern a name and keep its id for later lookups. */
static long
remember(const char *name, uint32_t len, uint64_t tail)
{
	struct named *k = &known[nknown++];

	memcpy(k->name, name, len);
	k->len = len;
	k->id = intern(name, len, tail);
	return k->id;
}

/* forget - drop a remembered name (it was given back on purpose). */
static void
forget(long id)
{
	size_t i;

	for (i = 0; i < nknown; i++)
		if (known[i].id == id)
			known[i] = known[--nknown];
}

/* check_all_found - every remembered name finds its id; 1 or 0 with a diagnostic. */
static int
check_all_found(void)
{
	size_t i;
	long id;

	for (i = 0; i < nknown; i++) {
		if (shm_lock(&seg) < 0)
			tap_bail("shm_lock failed");
		id = topics_find_locked(tt, known[i].name, known[i].len);
		shm_unlock(&seg);
		if (id != known[i].id) {
			tap_diag("  '%.40s' (%u bytes): got id %ld, expected %ld", known[i].name,
			    known[i].len, id, known[i].id);
			return 0;
		}
	}
	return 1;
}

/* test_basics - same name same id, ids dense from 0. */
static void
test_basics(void)
{
	long a, b;

	tap_is_int(find_str("alpha"), -1, "empty table: find -1");
	a = remember("alpha", 5, 1);
	tap_is_int(a, 0, "first id is 0");
	tap_is_int(intern_str("alpha", 1), a, "alpha again: same id");
	tap_is_int(find_str("alpha"), a, "find alpha");
	b = remember("beta", 4, 1);
	tap_is_int(b, 1, "beta: the next dense id");
	tap_ok(atomic_load(&tt->tab[b].state) == TOPIC_LIVE && tt->tab[b].len == 4 &&
	    strcmp(tt->tab[b].name, "beta") == 0, "beta's entry: LIVE, its name and length");
	tap_is_int(tt->ctl->live, 2, "two live topics");
}

/* test_names - 255-byte names, one byte apart, prefixes, and one too long. */
static void
test_names(void)
{
	static const size_t at[] = { 0, 127, 254 };
	char name[CONF_TOPIC_MAX + 2];
	long base, ids[3];
	size_t i;
	int distinct = 1;

	memset(name, 'n', sizeof(name));
	base = remember(name, CONF_TOPIC_MAX, 1);
	tap_ok(base >= 0 && intern(name, CONF_TOPIC_MAX, 1) == base,
	    "255-byte name: interned (%ld), and again the same id", base);
	tap_ok(base >= 0 && tt->tab[base].len == CONF_TOPIC_MAX &&
	    memcmp(tt->tab[base].name, name, CONF_TOPIC_MAX) == 0 &&
	    tt->tab[base].name[CONF_TOPIC_MAX] == '\0', "255-byte name stored whole");
	tap_is_int(intern(name, CONF_TOPIC_MAX + 1, 1), -1, "256-byte name: -1");
	tap_is_int(tt->ctl->live, 3, "and nothing was added for it");
	for (i = 0; i < 3; i++) {
		name[at[i]] = 'N';
		ids[i] = remember(name, CONF_TOPIC_MAX, 1);
		name[at[i]] = 'n';
		distinct &= ids[i] >= 0 && ids[i] != base && (i == 0 || ids[i] != ids[i - 1]) &&
		    (i < 2 || ids[i] != ids[0]);
	}
	tap_ok(distinct, "names one byte apart (first, middle, last): distinct ids %ld %ld %ld",
	    ids[0], ids[1], ids[2]);
	remember("ab", 2, 1);
	remember("abc", 3, 1);
	tap_ok(check_all_found(), "every name so far finds its own id, prefixes too");
	tap_is_int(tt->ctl->live, 8, "eight live topics");
}

/* test_repair - half-interned entries are given back; lookups still work. */
static void
test_repair(void)
{
	struct shm_topic *e;
	uint32_t id, i, live = tt->ctl->live;

	tap_is_int(repair_table(), 0, "repair of a healthy table gives back nothing");
	tap_ok(check_all_found() && tt->ctl->live == live, "and changes nothing");

	/* a writer died mid-intern of a new id: after state, half the name */
	id = tt->ctl->used++;
	e = &tt->tab[id];
	atomic_store(&e->state, TOPIC_WRITING);
	e->len = 12;
	memcpy(e->name, "half-w", 6);
	tap_is_int(repair_table(), 1, "one half-interned new entry: given back");
	tap_ok(atomic_load(&e->state) == TOPIC_FREE && tt->ctl->live == live && check_all_found(),
	    "it is FREE, live count unchanged, every other name found");
	tap_is_int(find_str("half-written"), -1, "its name is not found");
	tap_is_int(remember("half-written", 12, 1), id, "interning it again reuses its id");

	/* the brief's simulation: a live entry set back to WRITING by hand */
	atomic_store(&tt->tab[1].state, TOPIC_WRITING);
	forget(1);
	tap_is_int(repair_table(), 1, "a live entry in state WRITING: given back");
	tap_ok(find_str("beta") == -1 && check_all_found() && tt->ctl->live == live,
	    "its name is gone from the index, the others found, live %u", tt->ctl->live);
	tap_is_int(remember("beta", 4, 1), 1, "beta interned again gets its id back");

	/* died between publishing the entry in the index and counting it */
	tt->ctl->live--;
	tap_ok(repair_table() == 0 && tt->ctl->live == live + 1, "repair recounts live (%u)",
	    tt->ctl->live);

	/* died while rebuilding the index: every slot empty */
	for (i = 0; i <= tt->mask; i++)
		atomic_store(&tt->index[i], SHM_INDEX_EMPTY);
	tap_ok(repair_table() == 0 && check_all_found(), "repair rebuilds an emptied index");
}

/* test_full - a full table whose topics all hold records refuses a new one. */
static void
test_full(void)
{
	char name[32];
	size_t i;
	int n = 0;

	while (tt->ctl->live < tt->max && n++ < 64) {
		snprintf(name, sizeof(name), "fill-%d", n);
		remember(name, (uint32_t)strlen(name), 1);
	}
	tap_is_int(tt->ctl->used, 16, "table filled to max_topics ids");
	for (i = 0; i < nknown; i++)
		note_published(known[i].id, 100);
	tap_is_int(intern_str("overflow", 50), -1,
	    "full, every topic has a record at or after tail: -1");
	tap_ok(check_all_found() && tt->ctl->live == 16, "and every topic is still there");
}

/* test_reclaim - unused topics are given back when the table is full. */
static void
test_reclaim(void)
{
	long a = find_str("alpha"), b = find_str("beta"), c = find_str("ab"), n;

	note_published(a, 10);
	note_published(b, 10);
	add_subs(b, CONF_MAX_WORKERS - 1, 1);
	note_published(c, 11);
	n = intern_str("new-1", 11);
	tap_is_int(n, a, "full: a topic without subscribers whose records left the ring is reused");
	/* as a publish does before it lets go of the lock */
	note_published(n, 100);
	forget(a);
	tap_is_int(find_str("alpha"), -1, "and its old name is gone");
	tap_is_int(intern_str("new-2", 11), -1,
	    "a topic with a subscriber (last worker) and one with last_seq == tail are kept");
	tap_ok(find_str("beta") == b && find_str("ab") == c, "both still found");
	n = intern_str("new-2", 12);
	tap_is_int(n, c, "tail past its last record: that topic is reused");
	note_published(n, 100);
	forget(c);
	add_subs(b, CONF_MAX_WORKERS - 1, -1);
	n = intern_str("new-3", 12);
	tap_is_int(n, b, "once its subscriber left, so is the other");
	note_published(n, 100);
	forget(b);
	remember("new-1", 5, 12);
	remember("new-2", 5, 12);
	remember("new-3", 5, 12);
	tap_ok(check_all_found() && tt->ctl->live == 16 && count_live() == 16,
	    "table full again, every name found, live counted right");
}

/* test_subs - per-worker counts, clamping, and clearing a dead worker's. */
static void
test_subs(void)
{
	long x = find_str("new-1"), y = find_str("new-2");

	tap_is_int(add_subs(x, 0, 1), 1, "worker 0 subscribes: 1");
	tap_is_int(add_subs(x, 0, 1), 2, "again: 2");
	tap_ok(topics_has_subs(tt, (uint32_t)x, 0) && !topics_has_subs(tt, (uint32_t)x, 1),
	    "has_subs: worker 0 yes, worker 1 no");
	tap_is_int(add_subs(x, 1, 3), 3, "worker 1 adds 3: its own count");
	tap_is_int(add_subs(x, 1, -1), 2, "worker 1 drops one: 2");
	tap_is_int(add_subs(x, 1, -5), 0, "dropping more than it has stops at 0");
	tap_ok(!topics_has_subs(tt, (uint32_t)x, 1) && add_subs(x, 0, 0) == 2,
	    "worker 1 has none left, worker 0 still 2");
	add_subs(y, 0, 1);
	add_subs(y, 1, 1);
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	topics_clear_worker_locked(tt, 0);
	shm_unlock(&seg);
	tap_ok(!topics_has_subs(tt, (uint32_t)x, 0) && !topics_has_subs(tt, (uint32_t)y, 0) &&
	    topics_has_subs(tt, (uint32_t)y, 1), "clearing worker 0 leaves worker 1's counts");
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	topics_clear_worker_locked(tt, 1);
	shm_unlock(&seg);
	tap_ok(!topics_has_subs(tt, (uint32_t)y, 1), "clearing worker 1");
}

/* What the cycles saw of the index's tombstones. */
struct graves {
	uint32_t most;       /* highest tombstone count seen after an intern */
	unsigned rebuilds;   /* interns that left more than a quarter of the index dead */
};

/* check_stale - round r-1's names: still their own id, or gone, never another. */
static int
check_stale(unsigned r, const long *prev, unsigned nprev, const long *ids, unsigned k)
{
	char name[32];
	unsigned i, j;
	long got;

	for (i = 0; r > 0 && i < nprev; i++) {
		snprintf(name, sizeof(name), "r%u-%u", r - 1, i);
		got = find_str(name);
		for (j = 0; j < k && got >= 0; j++)
			if (ids[j] == got)
				got = -2;
		if (got != -1 && got != prev[i]) {
			tap_diag("  round %u: old name '%s' finds id %ld (it had %ld)", r, name,
			    got, prev[i]);
			return 0;
		}
	}
	return 1;
}

/* run_round - intern k fresh names for round r; check them, the keepers, round r-1. */
static int
run_round(unsigned r, const long *keep, struct graves *g)
{
	static long prev[16];
	static unsigned nprev;
	char name[32];
	long ids[16] = { 0 };
	unsigned k = 1 + (r * 7) % 12, i, j;
	uint64_t tail = 1001 + r;
	uint32_t graves, live;
	int ok = 1;

	for (i = 0; i < k && ok; i++) {
		snprintf(name, sizeof(name), "r%u-%u", r, i);
		graves = tt->ctl->tombstones;
		live = tt->ctl->live;
		ids[i] = intern_str(name, tail);
		if (tt->ctl->tombstones > g->most)
			g->most = tt->ctl->tombstones;
		/* entries given back to make room each left a tombstone */
		if (graves + live + 1 - tt->ctl->live > (tt->mask + 1) / 4)
			g->rebuilds++;
		ok = ids[i] >= 0 && ids[i] < (long)tt->max && intern_str(name, tail) == ids[i] &&
		    find_str(name) == ids[i];
		if (!ok)
			tap_diag("  round %u: '%s' got id %ld", r, name, ids[i]);
		for (j = 0; j < i; j++)
			ok &= ids[j] != ids[i];
		for (j = 0; j < 4; j++)
			ok &= keep[j] != ids[i];
		if (ok)
			note_published(ids[i], tail);
	}
	for (j = 0; j < 4 && ok; j++) {
		snprintf(name, sizeof(name), "keep-%u", j);
		ok = find_str(name) == keep[j];
	}
	ok = ok && check_stale(r, prev, nprev, ids, k) && tt->ctl->live == count_live() &&
	    tt->ctl->live <= tt->max;
	memcpy(prev, ids, sizeof(ids));
	nprev = k;
	return ok;
}

/* test_cycles - many rounds of interning and giving back, around keepers. */
static void
test_cycles(void)
{
	struct graves g = { 0, 0 };
	char name[32];
	long keep[4];
	unsigned r, i;
	int ok = 1;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "keep-%u", i);
		keep[i] = intern_str(name, 1000);
		if (keep[i] < 0)
			tap_bail("cannot intern %s", name);
		add_subs(keep[i], 2 + i, 1);
	}
	for (r = 0; r < 300 && ok; r++)
		ok = run_round(r, keep, &g);
	tap_ok(ok, "300 rounds of 1-12 fresh names: ids valid and distinct, keepers kept "
	    "(stopped after round %u)", r);
	tap_ok(g.most > 0 && g.rebuilds > 0, "tombstones were left (up to %u), and the index "
	    "was rebuilt (%u times)", g.most, g.rebuilds);
}

int
main(void)
{
	tap_plan(7 + 7 + 11 + 3 + 7 + 9 + 2);
	seg_create();
	tt = &seg.topics;
	tap_diag("segment %s: %u topics, %u index slots", seg.name, tt->max, tt->mask + 1);
	test_basics();
	test_names();
	test_repair();
	test_full();
	test_reclaim();
	test_subs();
	test_cycles();
	return tap_done();
}
