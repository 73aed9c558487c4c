/*
 * t/patterns_bench.c - micro-benchmark of worker/patterns.c (make
 * bench-patterns; built by make check, never run by it).
 *
 * Owns: the loads of issue 14 on the trie alone: the match cost of one
 * published topic with 0, 80, 10,000 and 100,000 distinct non-matching
 * patterns in the set beside the matching ones, for one owner and for
 * 1,000 owners; adding 100,000 patterns (time and memory per pattern)
 * and dropping them all. The
 * non-matching patterns are built to share as much of the topic's path
 * as they can (same prefixes, "*" where the topic has a token), since
 * patterns that part at the first token cost nothing in any design.
 * Prints figures; times are the best of three runs.
 */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "worker/patterns.h"

#define TOPIC "orders.eu.created"
#define OWNERS 1000
#define NONMATCH 10000
#define LIVE 100000
#define RUNS 3

static struct pat_owner owners[OWNERS];

/* nonmatch - the i-th distinct pattern that does not match TOPIC: a form with a number in it. */
static size_t
nonmatch(char *out, size_t cap, unsigned i)
{
	static const char *const forms[][2] = {
		{ "orders.", ".created" }, { "orders.eu.created.", "" }, { "orders.eu.n", "" },
		{ "*.eu.n", "" }, { "p", ".>" }, { "orders.*.x", ".>" }, { "*.*.y", "" },
		{ "orders.eu.created.", ".>" },
	};

	return (size_t)snprintf(out, cap, "%s%u%s", forms[i % 8][0], i / 8, forms[i % 8][1]);
}

/* matching - one of the patterns that match TOPIC, by owner. */
static const char *
matching(unsigned owner)
{
	static const char *const forms[] = {
		"orders.*.created", "orders.>", "*.eu.created", "orders.eu.*",
	};

	return forms[owner % 4];
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
count_fn(void *ctx, struct pat_owner *o)
{
	(*(size_t *)ctx)++;
	return 0;
}

/* time_match - best ns per match of TOPIC over RUNS runs of iters; *got: owners per match. */
static double
time_match(struct patterns *p, unsigned iters, size_t *got)
{
	double best = 0, ns;
	uint64_t t0;
	unsigned r, i;
	size_t n;

	for (r = 0; r < RUNS; r++) {
		n = 0;
		t0 = now_ns();
		for (i = 0; i < iters; i++)
			patterns_match(p, TOPIC, sizeof(TOPIC) - 1, count_fn, &n);
		ns = (double)(now_ns() - t0) / iters;
		if (r == 0 || ns < best)
			best = ns;
		*got = n / iters;
	}
	return best;
}

/* fill - owners each hold their matching pattern, and nonmatching spread over them. */
static void
fill(struct patterns *p, unsigned nowners, unsigned nonmatching)
{
	char name[64];
	unsigned i;
	size_t len;

	patterns_init(p, 0x1234567887654321ULL);
	for (i = 0; i < nowners; i++)
		patterns_add(p, matching(i), strlen(matching(i)), &owners[i]);
	for (i = 0; i < nonmatching; i++) {
		len = nonmatch(name, sizeof(name), i);
		patterns_add(p, name, len, &owners[i % nowners]);
	}
}

/*
 * bench_match - match cost with more and more non-matching patterns: 80
 * has each of their eight shapes, so the rows after it show what their
 * number costs (nothing, by design) apart from what their shapes do.
 */
static void
bench_match(unsigned nowners, unsigned iters)
{
	static const unsigned counts[] = { 0, 80, NONMATCH, LIVE };
	struct patterns p;
	double ns, alone = 0;
	size_t got;
	unsigned i;

	printf("match %s, %u owner%s each with one matching pattern:\n", TOPIC, nowners,
	    nowners > 1 ? "s" : "");
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		fill(&p, nowners, counts[i]);
		ns = time_match(&p, iters, &got);
		if (i == 0)
			alone = ns;
		printf("  + %6u non-matching: %9.1f ns/topic, %6.1f ns/owner reported"
		    " (%zu reported)  x%.2f\n", counts[i], ns, ns / (double)got, got, ns / alone);
		patterns_free(&p);
	}
}

static void
bench_live(void)
{
	struct patterns p;
	struct mallinfo2 m0, m1;
	char name[64];
	uint64_t t0, add_ns, drop_ns;
	size_t len, nodes;
	unsigned i;

	m0 = mallinfo2();
	patterns_init(&p, 0x1234567887654321ULL);
	t0 = now_ns();
	for (i = 0; i < LIVE; i++) {
		len = nonmatch(name, sizeof(name), i);
		patterns_add(&p, name, len, &owners[i % OWNERS]);
	}
	add_ns = now_ns() - t0;
	m1 = mallinfo2();
	nodes = patterns_nodes(&p);
	printf("%u patterns (8 shapes, %u owners):\n", LIVE, OWNERS);
	printf("  add:              %9.1f ns/pattern\n", (double)add_ns / LIVE);
	printf("  memory:           %9.1f bytes/pattern (%zu nodes, malloc's count)\n",
	    (double)(m1.uordblks - m0.uordblks) / LIVE, nodes);
	t0 = now_ns();
	for (i = 0; i < OWNERS; i++)
		patterns_drop(&p, &owners[i]);
	drop_ns = now_ns() - t0;
	printf("  drop every owner: %9.1f ns/pattern (%zu nodes left)\n",
	    (double)drop_ns / LIVE, patterns_nodes(&p));
	patterns_free(&p);
}

int
main(void)
{
	bench_match(1, 200000);
	bench_match(OWNERS, 2000);
	bench_live();
	return 0;
}
