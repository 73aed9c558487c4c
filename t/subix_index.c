/*
 * t/subix_index.c - worker/subix: a connection's subscriptions by topic id.
 *
 * Against a plain array searched from end to end (the model): random adds
 * and removes the way worker/subs.c makes them (a removed subscription's
 * place taken by the last one), over topic ids from the whole id range
 * and over ids that all start their probe at one slot (one long run, so
 * every removal shifts entries back), with the index rebuilt larger on
 * the way; after every step each subscription is found where it is, and
 * ids not held are not found.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "worker/subix.h"

#define CAP   1024               /* index slots */
#define MAXN  (CAP / 2)          /* subscriptions at most: the index stays half full */
#define STEPS 20000

static struct csub subs[4 * MAXN];
static unsigned rng = 2463534242u;

static unsigned
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* model_has - whether c holds topic, by scanning c->subs. */
static int
model_has(const struct conn *c, uint32_t topic)
{
	uint32_t i;

	for (i = 0; i < c->nsubs; i++)
		if (c->subs[i].topic == topic)
			return 1;
	return 0;
}

/* verify - every subscription found at its place, and a few ids not held not found; mismatches. */
static unsigned
verify(const struct conn *c, const uint32_t *absent, unsigned nabsent)
{
	unsigned bad = 0, i;

	for (i = 0; i < c->nsubs; i++)
		bad += conn_sub(c, c->subs[i].topic) != &c->subs[i];
	for (i = 0; i < nabsent; i++)
		bad += !model_has(c, absent[i]) && conn_sub(c, absent[i]) != NULL;
	return bad;
}

/* step_add - add topic (not held) at the end, as subs_add does. */
static void
step_add(struct conn *c, uint32_t topic)
{
	c->subs[c->nsubs].topic = topic;
	c->nsubs++;
	subix_add(c, c->nsubs - 1);
}

/* step_remove - remove subscription i, as subs_remove does. */
static void
step_remove(struct conn *c, uint32_t i)
{
	subix_remove(c, i);
	c->subs[i] = c->subs[--c->nsubs];
}

/* churn - STEPS random adds and removes of ids from pick(); the mismatches seen. */
static unsigned
churn(struct conn *c, uint32_t (*pick)(void), unsigned maxn, unsigned *steps_done)
{
	uint32_t absent[8], topic;
	unsigned bad = 0, s, k;

	for (s = 0; s < STEPS; s++) {
		topic = pick();
		if (c->nsubs > 0 && (c->nsubs == maxn || next_rand() % 3 == 0))
			step_remove(c, next_rand() % c->nsubs);
		else if (!model_has(c, topic))
			step_add(c, topic);
		for (k = 0; k < 8; k++)
			absent[k] = pick();
		bad += verify(c, absent, 8);
		(*steps_done)++;
	}
	return bad;
}

static uint32_t
pick_any(void)
{
	return next_rand() & ((1u << 24) - 1);
}

/* The ids that start their probe at slot 0 of a CAP-slot index. */
static uint32_t same_home[MAXN];
static unsigned nsame;

static uint32_t
pick_same(void)
{
	return same_home[next_rand() % nsame];
}

int
main(void)
{
	struct conn c;
	unsigned steps = 0, bad;
	uint32_t id;

	tap_plan(6);
	memset(&c, 0, sizeof(c));
	c.subs = subs;
	tap_ok(subix_build(&c, CAP) == 0 && c.subix != NULL && c.subix_mask == CAP - 1,
	    "an empty index of %d slots", CAP);
	bad = churn(&c, pick_any, MAXN, &steps);
	tap_ok(bad == 0, "%u random adds and removes of ids across the id range: every lookup right "
	    "(%u wrong)", steps, bad);
	tap_ok(subix_build(&c, 4 * CAP) == 0 && verify(&c, NULL, 0) == 0,
	    "rebuilt in %d slots with %u subscriptions: all found", 4 * CAP, c.nsubs);
	steps = 0;
	bad = churn(&c, pick_any, 2 * MAXN, &steps);
	tap_ok(bad == 0, "%u more in the larger index: every lookup right (%u wrong)", steps, bad);
	while (c.nsubs > 0)
		step_remove(&c, c.nsubs - 1);
	tap_ok(subix_build(&c, CAP) == 0, "emptied and rebuilt in %d slots", CAP);
	for (id = 0; nsame < 64; id++)
		if (conn_subix_home(&c, id) == 0)
			same_home[nsame++] = id;
	steps = 0;
	bad = churn(&c, pick_same, 48, &steps);
	tap_ok(bad == 0, "%u adds and removes of 64 ids that all probe from one slot: every lookup "
	    "right (%u wrong)", steps, bad);
	subix_drop(&c);
	return tap_done();
}
