/*
 * worker/subix.c - a connection's subscriptions indexed by topic id
 * (worker/subix.h; the lookup itself is conn_sub in worker/state.h).
 *
 * Owns: building and updating the index. A removal leaves no tombstone:
 * the entries after the hole in its run are shifted back into it where
 * their probe passes it, so lookups stop at the first empty slot.
 * Must not change c->subs.
 */
#include "config.h"

#include <stdlib.h>

#include "worker/subix.h"

int
subix_build(struct conn *c, uint32_t cap)
{
	uint32_t *ix = calloc(cap, sizeof(*ix)), i;

	if (ix == NULL)
		return -1;
	free(c->subix);
	c->subix = ix;
	c->subix_mask = cap - 1;
	for (i = 0; i < c->nsubs; i++)
		subix_add(c, i);
	return 0;
}

void
subix_add(struct conn *c, uint32_t i)
{
	*conn_subix_slot(c, c->subs[i].topic) = i + 1;
}

void
subix_remove(struct conn *c, uint32_t i)
{
	uint32_t m = c->subix_mask, last = c->nsubs - 1, h, j, home;

	h = (uint32_t)(conn_subix_slot(c, c->subs[i].topic) - c->subix);
	c->subix[h] = 0;
	for (j = (h + 1) & m; c->subix[j] != 0; j = (j + 1) & m) {
		home = conn_subix_home(c, c->subs[c->subix[j] - 1].topic);
		/* its probe from home reaches j through the hole: move it there */
		if (((j - home) & m) >= ((j - h) & m)) {
			c->subix[h] = c->subix[j];
			c->subix[j] = 0;
			h = j;
		}
	}
	if (i != last)
		*conn_subix_slot(c, c->subs[last].topic) = i + 1;
}

void
subix_drop(struct conn *c)
{
	free(c->subix);
	c->subix = NULL;
}
