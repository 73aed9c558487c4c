/*
 * t/patterns_trie.c - unit test for worker/patterns.c, the wildcard trie.
 *
 * Owns: the Part 4 table (t/part4.h) through the trie; owners matched
 * several ways reported once; removing one of two overlapping patterns;
 * adding twice, removing what is not held; bad and too long patterns;
 * patterns without dots; a thousand owners; the generation number;
 * stopping a match; pruning down to no nodes; thousands of literal
 * siblings (table growth, collisions, backward-shift deletion, shrinking);
 * every allocation failing in turn leaving the set as it was; and a
 * fixed-seed churn of adds, removes and drops compared on random topics
 * with a brute-force matcher over a model of who holds what.
 * Built with -Wl,--wrap for malloc, calloc and realloc (Makefile.am) so
 * that the test can fail the allocation it chooses.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/topic.h"
#include "t/part4.h"
#include "t/tap.h"
#include "worker/list.h"
#include "worker/patterns.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SEED 0x5eed5eedULL

/* --- allocation failures on demand --- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long alloc_fail_at = -1;   /* allocations to let through before one fails */
static int alloc_failed;

/* alloc_fails - whether this allocation is the one to fail. */
static int
alloc_fails(void)
{
	if (alloc_fail_at < 0 || alloc_fail_at-- > 0)
		return 0;
	alloc_failed = 1;
	return 1;
}

void *
__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* --- owners and what a match reported --- */

#define MAX_OWNERS 1000

struct towner {
	struct pat_owner po;
	int id;
};

static struct towner owners[MAX_OWNERS];

/* What one match call reported: how often each owner, in which order. */
struct seen {
	int times[MAX_OWNERS];
	int order[MAX_OWNERS];
	int n;
	int stop_after;       /* 0: never stop */
};

static int
seen_fn(void *ctx, struct pat_owner *o)
{
	struct seen *s = ctx;
	struct towner *t = list_entry(o, struct towner, po);

	s->times[t->id]++;
	if (s->n < MAX_OWNERS)
		s->order[s->n] = t->id;
	s->n++;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

/* match - match topic into *s; returns what patterns_match returned. */
static size_t
match(struct patterns *p, const char *topic, struct seen *s)
{
	int stop = s->stop_after;

	memset(s, 0, sizeof(*s));
	s->stop_after = stop;
	return patterns_match(p, topic, strlen(topic), seen_fn, s);
}

/* reported - the owners topic matches, as "1,4,7" in id order. */
static const char *
reported(struct patterns *p, const char *topic)
{
	static char buf[8192];
	struct seen s = { .stop_after = 0 };
	size_t n = 0;
	int i;

	match(p, topic, &s);
	buf[0] = '\0';
	for (i = 0; i < MAX_OWNERS && n + 16 < sizeof(buf); i++)
		if (s.times[i] > 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d%s",
			    n ? "," : "", i, s.times[i] > 1 ? "(twice or more)" : "");
	return buf;
}

static int
add(struct patterns *p, const char *pattern, int owner)
{
	return patterns_add(p, pattern, strlen(pattern), &owners[owner].po);
}

static int
rm(struct patterns *p, const char *pattern, int owner)
{
	return patterns_remove(p, pattern, strlen(pattern), &owners[owner].po);
}

/* --- the tests --- */

static void
test_table(void)
{
	struct patterns p;
	struct seen s = { .stop_after = 0 };
	const struct part4_row *r;
	size_t i, n;

	patterns_init(&p, SEED);
	for (i = 0; i < PART4_NROWS; i++) {
		r = &part4_rows[i];
		add(&p, r->pattern, 0);
		n = match(&p, r->topic, &s);
		tap_ok(n == (size_t)r->match && s.times[0] == r->match,
		    "trie: '%s' %s '%s': %s (reported %zu)", r->pattern,
		    r->match ? "matches" : "does not match", r->topic, r->why, n);
		rm(&p, r->pattern, 0);
	}
	tap_ok(patterns_count(&p) == 0 && patterns_nodes(&p) == 0,
	    "the table's patterns all removed: no pairs, no nodes");
	patterns_free(&p);
}

static void
test_overlap(void)
{
	static const char *const a_pats[] = { "a.*", "a.>", "*.b", "a.b", ">", "*.*" };
	struct patterns p;
	struct seen s = { .stop_after = 0 };
	size_t i, n;

	patterns_init(&p, SEED);
	for (i = 0; i < NELEM(a_pats); i++)
		add(&p, a_pats[i], 1);
	add(&p, "a.>", 2);
	n = match(&p, "a.b", &s);
	tap_ok(n == 2 && s.times[1] == 1 && s.times[2] == 1,
	    "six patterns of one owner match a.b: each owner reported once (%zu, %d, %d)",
	    n, s.times[1], s.times[2]);
	tap_is_str(reported(&p, "a.b.c"), "1,2", "a.b.c: by > and a.>, once each");
	tap_is_str(reported(&p, "x.y"), "1", "x.y: by > and *.*, once");
	tap_is_str(reported(&p, "a"), "1", "a: by > only");
	patterns_free(&p);
	tap_ok(patterns_owned(&owners[1].po) == 0 && patterns_owned(&owners[2].po) == 0,
	    "patterns_free leaves owners holding nothing");

	patterns_init(&p, SEED);
	add(&p, "a.*", 1);
	add(&p, "a.>", 1);
	tap_is_int(rm(&p, "a.*", 1), 1, "remove a.* of a.* and a.>");
	tap_is_str(reported(&p, "a.b"), "1", "a.b still matches by a.>");
	tap_is_str(reported(&p, "a.b.c"), "1", "a.b.c still matches by a.>");
	tap_is_int(rm(&p, "a.>", 1), 1, "remove a.> too");
	tap_is_str(reported(&p, "a.b"), "", "then a.b matches nothing");
	add(&p, "a.>", 1);
	add(&p, "a.*", 1);
	rm(&p, "a.>", 1);
	tap_ok(strcmp(reported(&p, "a.b"), "1") == 0 && strcmp(reported(&p, "a.b.c"), "") == 0,
	    "removing a.> of the two keeps a.b (a.*), drops a.b.c");
	patterns_free(&p);
}

static void
test_twice(void)
{
	struct patterns p;
	uint64_t g;

	patterns_init(&p, SEED);
	tap_ok(patterns_gen(&p) != 0, "the generation of an empty set is not 0");
	g = patterns_gen(&p);
	tap_is_int(add(&p, "a.*", 0), 1, "first add is new");
	tap_ok(patterns_gen(&p) != g, "an add changes the generation");
	g = patterns_gen(&p);
	tap_is_int(add(&p, "a.*", 0), 0, "same owner, same pattern again: not new");
	tap_ok(patterns_gen(&p) == g && patterns_count(&p) == 1 &&
	    patterns_owned(&owners[0].po) == 1, "and nothing changed");
	tap_is_int(add(&p, "a.*", 1), 1, "another owner, same pattern: new");
	tap_is_int(patterns_count(&p), 2, "two pairs");
	g = patterns_gen(&p);
	reported(&p, "a.b");
	tap_ok(patterns_gen(&p) == g, "a match leaves the generation");
	tap_is_int(rm(&p, "a.>", 0), 0, "removing a pattern not held");
	tap_is_int(rm(&p, "a.*.c", 0), 0, "removing a pattern longer than any held");
	tap_is_int(rm(&p, "a", 0), 0, "removing a prefix node that holds nothing");
	tap_ok(patterns_gen(&p) == g, "removing nothing leaves the generation");
	tap_is_int(rm(&p, "a.*", 0), 1, "remove it");
	tap_ok(patterns_gen(&p) != g, "a remove changes the generation");
	tap_is_int(rm(&p, "a.*", 0), 0, "remove it again: not held");
	tap_is_str(reported(&p, "a.b"), "1", "the other owner keeps it");
	g = patterns_gen(&p);
	patterns_drop(&p, &owners[1].po);
	tap_ok(patterns_gen(&p) != g && patterns_count(&p) == 0 && patterns_nodes(&p) == 0,
	    "dropping the owner empties the set and changes the generation");
	patterns_drop(&p, &owners[1].po);
	tap_ok(patterns_count(&p) == 0, "dropping an owner with nothing is harmless");
	patterns_free(&p);
}

/* long_pattern - "xx...x.>" of len bytes. */
static void
long_pattern(char *out, size_t len)
{
	memset(out, 'x', len);
	out[len - 2] = '.';
	out[len - 1] = '>';
}

static void
test_bad(void)
{
	static const char *const bad[] = { "a*", "a.>.c", ">.a", "a..b", ".a", "a.", "", "x>y" };
	struct patterns p;
	char longest[PATTERNS_MAX_LEN + 1];
	size_t i;
	int rc, fails = 0;

	patterns_init(&p, SEED);
	for (i = 0; i < NELEM(bad); i++) {
		errno = 0;
		rc = add(&p, bad[i], 0);
		if (rc != -1 || errno != EINVAL) {
			tap_diag("'%s': got %d, errno %d", bad[i], rc, errno);
			fails++;
		}
	}
	tap_ok(fails == 0 && patterns_count(&p) == 0 && patterns_nodes(&p) == 0,
	    "%zu bad patterns refused with EINVAL, nothing made", NELEM(bad));
	long_pattern(longest, PATTERNS_MAX_LEN);
	tap_is_int(patterns_add(&p, longest, PATTERNS_MAX_LEN, &owners[0].po), 1,
	    "a pattern of PATTERNS_MAX_LEN bytes is taken");
	long_pattern(longest, sizeof(longest));
	errno = 0;
	rc = patterns_add(&p, longest, sizeof(longest), &owners[0].po);
	tap_ok(rc == -1 && errno == EINVAL, "a valid one a byte longer is refused (EINVAL)");
	tap_is_int(patterns_remove(&p, longest, sizeof(longest), &owners[0].po), 0,
	    "and is not there to remove");
	long_pattern(longest, PATTERNS_MAX_LEN);
	tap_is_int(patterns_remove(&p, longest, PATTERNS_MAX_LEN, &owners[0].po), 1,
	    "the longest one is removed");
	patterns_free(&p);
}

/* test_two_sets - an owner's stamp from one set's match means nothing in another. */
static void
test_two_sets(void)
{
	struct patterns a, b;

	patterns_init(&a, SEED);
	patterns_init(&b, SEED + 1);
	add(&a, "x.*", 3);
	reported(&a, "x.y");
	patterns_drop(&a, &owners[3].po);
	add(&b, "x.*", 3);
	tap_is_str(reported(&b, "x.y"), "3", "an owner that left one set is reported by the next");
	patterns_free(&a);
	patterns_free(&b);
}

static void
test_nodots(void)
{
	struct patterns p;

	patterns_init(&p, SEED);
	add(&p, "events", 0);
	add(&p, "news", 1);
	add(&p, "*", 2);
	tap_is_str(reported(&p, "events"), "0,2", "events: its subscriber and *");
	tap_is_str(reported(&p, "news"), "1,2", "news: its subscriber and *");
	tap_is_str(reported(&p, "eventsx"), "2", "eventsx: * only");
	tap_is_str(reported(&p, "events.x"), "", "events.x: nobody");
	patterns_free(&p);
}

static void
test_many_owners(void)
{
	struct patterns p;
	struct seen s = { .stop_after = 0 };
	char name[32];
	int i, once = 1;
	size_t n;

	patterns_init(&p, SEED);
	for (i = 0; i < MAX_OWNERS; i++) {
		add(&p, "prices.>", i);
		if (i % 2 == 0)
			add(&p, "prices.*", i);
		snprintf(name, sizeof(name), "o.%d", i);
		add(&p, name, i);
	}
	tap_is_int(patterns_count(&p), MAX_OWNERS * 2 + MAX_OWNERS / 2, "pairs of 1000 owners");
	n = match(&p, "prices.eur", &s);
	for (i = 0; i < MAX_OWNERS; i++)
		once &= s.times[i] == 1;
	tap_ok(n == MAX_OWNERS && once, "prices.eur reports each of 1000 owners once (%zu)", n);
	tap_is_str(reported(&p, "o.517"), "517", "o.517 reports its one owner");
	for (i = 0; i < MAX_OWNERS; i += 2)
		patterns_drop(&p, &owners[i].po);
	n = match(&p, "prices.eur", &s);
	tap_ok(n == MAX_OWNERS / 2 && s.times[0] == 0 && s.times[1] == 1,
	    "after dropping the even owners, 500 left (%zu)", n);
	s.stop_after = 7;
	n = match(&p, "prices.eur.usd", &s);
	tap_ok(n == 7 && s.n == 7, "a callback that asks to stop stops the match (%zu)", n);
	patterns_free(&p);
}

/* test_prune - nodes are made per token and freed when nothing needs them. */
static void
test_prune(void)
{
	struct patterns p;

	patterns_init(&p, SEED);
	add(&p, "a.b.c.d.e.f.g.h", 0);
	tap_is_int(patterns_nodes(&p), 9, "an 8-token pattern: root and 8 nodes");
	rm(&p, "a.b.c.d.e.f.g.h", 0);
	tap_ok(patterns_nodes(&p) == 0 && p.root == NULL, "its removal prunes them all");
	add(&p, "a.b.c", 0);
	add(&p, "a.b.d", 1);
	add(&p, "a.b", 2);
	tap_is_int(patterns_nodes(&p), 5, "a.b.c, a.b.d, a.b share a and b");
	rm(&p, "a.b.c", 0);
	tap_is_int(patterns_nodes(&p), 4, "removing a.b.c frees its c only");
	rm(&p, "a.b", 2);
	tap_is_int(patterns_nodes(&p), 4, "removing a.b frees nothing: b leads to d");
	tap_is_str(reported(&p, "a.b.d"), "1", "a.b.d still matches");
	add(&p, "a.*.>", 0);
	add(&p, "a.*", 0);
	tap_is_int(patterns_nodes(&p), 6, "wildcard children are nodes too");
	patterns_drop(&p, &owners[0].po);
	patterns_drop(&p, &owners[1].po);
	tap_ok(patterns_nodes(&p) == 0 && patterns_count(&p) == 0 && p.root == NULL,
	    "dropping both owners prunes everything");
	patterns_free(&p);
}

/* rnd - splitmix64, fixed seed, so failures reproduce. */
static uint64_t
rnd(void)
{
	static uint64_t s = 20251114;
	uint64_t z = (s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* test_siblings - thousands of literal children of one node, removed in random order. */
static void
test_siblings(void)
{
	enum { N = 3000 };
	static int order[N], present[N];
	struct patterns p;
	char name[32];
	int i, j, k, bad = 0;

	patterns_init(&p, SEED);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "k%d.x", i);
		bad += add(&p, name, i % MAX_OWNERS) != 1;
		snprintf(name, sizeof(name), "%d", i);
		bad += add(&p, name, i % MAX_OWNERS) != 1;
		present[i] = 1;
		order[i] = i;
	}
	tap_ok(bad == 0 && patterns_nodes(&p) == 1 + 3 * N, "%d siblings twice over: %zu nodes",
	    N, patterns_nodes(&p));
	for (i = N - 1; i > 0; i--) {
		j = (int)(rnd() % (uint64_t)(i + 1));
		k = order[i], order[i] = order[j], order[j] = k;
	}
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "k%d.x", order[i]);
		bad += rm(&p, name, order[i] % MAX_OWNERS) != 1;
		snprintf(name, sizeof(name), "%d", order[i]);
		bad += rm(&p, name, order[i] % MAX_OWNERS) != 1;
		present[order[i]] = 0;
		if (i % 97 != 0)
			continue;
		for (j = 0; j < N; j += 7) {
			snprintf(name, sizeof(name), "k%d.x", j);
			bad += (strcmp(reported(&p, name), "") != 0) == present[j] ? 0 : 1;
			snprintf(name, sizeof(name), "%d", j);
			bad += (strcmp(reported(&p, name), "") != 0) == present[j] ? 0 : 1;
		}
	}
	tap_ok(bad == 0 && patterns_nodes(&p) == 0,
	    "removed in random order, the rest found all along (%d wrong), no nodes left", bad);
	patterns_free(&p);
}

/* state - the set's figures and what a few topics match, as one string. */
static void
state(struct patterns *p, char *out, size_t cap)
{
	static const char *const topics[] = { "x.y.z", "x.w.v", "q", "x.w", "a.b" };
	size_t i, n;

	n = (size_t)snprintf(out, cap, "count=%zu nodes=%zu", patterns_count(p),
	    patterns_nodes(p));
	for (i = 0; i < NELEM(topics) && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " %s:[%s]", topics[i], reported(p, topics[i]));
	for (i = 0; i < 4 && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " owned%zu=%u", i,
		    patterns_owned(&owners[i].po));
}

/*
 * try_failures - add pattern for owner with allocation k failing, for
 * k = 0, 1, ... until an add needs no more than k allocations; each
 * failure must give ENOMEM and leave the set as it was (generation
 * included). Then remove it with each of the first allocations failing
 * (shrinking may allocate): the set must be as before each time. Returns
 * the add failures tried, or -1 on the first case that went wrong.
 */
static int
try_failures(struct patterns *p, const char *pattern, int owner)
{
	char before[1024], after[1024];
	uint64_t gen = patterns_gen(p);
	int k, tried, rc;

	state(p, before, sizeof(before));
	for (k = 0;; k++) {
		alloc_failed = 0;
		alloc_fail_at = k;
		errno = 0;
		rc = add(p, pattern, owner);
		alloc_fail_at = -1;
		if (!alloc_failed)
			break;
		state(p, after, sizeof(after));
		if (rc != -1 || errno != ENOMEM || patterns_gen(p) != gen ||
		    strcmp(before, after) != 0) {
			tap_diag("add %s, allocation %d failing: rc %d errno %d\n"
			    "  before: %s\n  after:  %s", pattern, k, rc, errno, before, after);
			return -1;
		}
	}
	tried = k;
	for (k = 0; rc == 1 && k < 4; k++) {
		alloc_fail_at = k;
		rc = rm(p, pattern, owner);
		alloc_fail_at = -1;
		state(p, after, sizeof(after));
		if (rc != 1 || strcmp(before, after) != 0) {
			tap_diag("remove %s, allocation %d failing: rc %d\n"
			    "  before: %s\n  after:  %s", pattern, k, rc, before, after);
			return -1;
		}
		rc = add(p, pattern, owner);
	}
	return rc == 1 ? tried : -1;
}

static void
test_no_memory(void)
{
	struct patterns p;
	int n;

	patterns_init(&p, SEED);
	n = try_failures(&p, "x.y.z", 0);
	tap_ok(n >= 0, "first pattern: %d allocation failures leave the set as it was", n);
	add(&p, "x.y.z", 1);
	add(&p, "q", 0);
	n = try_failures(&p, "x.w.>", 0);
	tap_ok(n >= 0, "new branch, growing tables: %d failures leave the set as it was", n);
	n = try_failures(&p, "q", 1);
	tap_ok(n >= 0, "second owner of a pattern: %d failures leave the set as it was", n);
	n = try_failures(&p, "a.b", 2);
	tap_ok(n >= 0, "new owner, new branch: %d failures leave the set as it was", n);
	tap_is_str(reported(&p, "x.w.v"), "0", "afterwards x.w.v matches x.w.>");
	patterns_free(&p);
}

/* --- churn against a model --- */

#define POOL 300
#define CHURN_OWNERS 50

static char pool[POOL][40];
static unsigned char held[CHURN_OWNERS][POOL];

/* random_name - tokens from a small alphabet, wildcards only if pattern. */
static void
random_name(char *out, size_t cap, int pattern)
{
	static const char *const lit[] = { "a", "b", "c", "ab" };
	int i, ntok = 1 + (int)(rnd() % 5);
	size_t n = 0;
	const char *t;

	for (i = 0; i < ntok; i++) {
		if (pattern && i == ntok - 1 && rnd() % 5 == 0)
			t = ">";
		else if (pattern && rnd() % 3 == 0)
			t = "*";
		else
			t = lit[rnd() % (pattern ? 4 : NELEM(lit))];
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "." : "", t);
	}
	if (!pattern && rnd() % 8 == 0)
		snprintf(out + n, cap - n, ".d");
}

static void
pool_fill(void)
{
	int i, j, dup;

	for (i = 0; i < POOL;) {
		random_name(pool[i], sizeof(pool[i]), 1);
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strcmp(pool[i], pool[j]) == 0;
		i += !dup;
	}
}

/* churn_check - whether a topic's match agrees with the model; 0 if so. */
static int
churn_check(struct patterns *p, const char *topic)
{
	struct seen s = { .stop_after = 0 };
	size_t n = match(p, topic, &s), want = 0;
	int o, i, m;

	for (o = 0; o < CHURN_OWNERS; o++) {
		for (m = 0, i = 0; i < POOL && !m; i++)
			m = held[o][i] && topic_match(pool[i], strlen(pool[i]), topic, strlen(topic));
		want += (size_t)m;
		if (s.times[o] != m) {
			tap_diag("topic %s owner %d: reported %d times, reference says %d", topic,
			    o, s.times[o], m);
			return 1;
		}
	}
	return n != want;
}

static void
test_churn(void)
{
	struct patterns p;
	char topic[64];
	size_t pairs = 0;
	long ops, topics = 0, wrong = 0, wrong_rc = 0;
	int o, i, r, rc;

	pool_fill();
	memset(held, 0, sizeof(held));
	patterns_init(&p, SEED);
	for (ops = 0; ops < 20000; ops++) {
		o = (int)(rnd() % CHURN_OWNERS);
		i = (int)(rnd() % POOL);
		r = (int)(rnd() % 100);
		if (r < 55) {
			rc = add(&p, pool[i], o);
			wrong_rc += rc != !held[o][i];
			pairs += !held[o][i];
			held[o][i] = 1;
		} else if (r < 93) {
			rc = rm(&p, pool[i], o);
			wrong_rc += rc != held[o][i];
			pairs -= held[o][i];
			held[o][i] = 0;
		} else if (r < 95) {
			patterns_drop(&p, &owners[o].po);
			for (i = 0; i < POOL; i++)
				pairs -= held[o][i];
			memset(held[o], 0, sizeof(held[o]));
		} else {
			wrong_rc += rm(&p, "zz.*", o) != 0;
		}
		wrong_rc += patterns_count(&p) != pairs;
		if (ops % 10 != 0)
			continue;
		for (r = 0; r < 5; r++, topics++) {
			random_name(topic, sizeof(topic), 0);
			wrong += churn_check(&p, topic);
		}
	}
	tap_ok(wrong_rc == 0, "%ld adds, removes and drops: results and counts as the model (%ld wrong)",
	    ops, wrong_rc);
	tap_ok(wrong == 0, "%ld random topics matched as the brute-force reference (%ld wrong)",
	    topics, wrong);
	for (o = 0; o < CHURN_OWNERS; o++)
		patterns_drop(&p, &owners[o].po);
	tap_ok(patterns_count(&p) == 0 && patterns_nodes(&p) == 0,
	    "dropping every owner leaves no pairs and no nodes");
	patterns_free(&p);
}

int
main(void)
{
	int i;

	for (i = 0; i < MAX_OWNERS; i++)
		owners[i].id = i;
	tap_plan((int)PART4_NROWS + 1 + 11 + 18 + 5 + 1 + 4 + 5 + 8 + 2 + 5 + 3);
	test_table();
	test_overlap();
	test_twice();
	test_bad();
	test_two_sets();
	test_nodots();
	test_many_owners();
	test_prune();
	test_siblings();
	test_no_memory();
	test_churn();
	return tap_done();
}
