/*
 * worker/wild.c - where a topic's records go through wildcard patterns.
 *
 * Owns: w->wcache (by topic id), its list, and the pass's results for the
 * shared table. A cache entry holds pointers to connections, so it is
 * dropped whenever the set of patterns changes (a connection holding
 * patterns cannot go without changing it), never used stale.
 * Must not write to sockets or change subscriptions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "proto/topic.h"
#include "worker/wild.h"

#define WILD_RESULTS 1024          /* results kept per pass; more wait for the next */

int
wild_init(struct worker *w)
{
	uint64_t seed;

	memcpy(&seed, w->token_key, sizeof(seed));
	patterns_init(&w->patterns, seed);
	list_init(&w->wcache_list);
	w->wcache = calloc(w->shm->hdr->max_topics, sizeof(*w->wcache));
	w->wild_out = malloc(WILD_RESULTS * sizeof(*w->wild_out));
	if (w->wcache == NULL || w->wild_out == NULL) {
		log_error("out of memory for the pattern caches");
		return -1;
	}
	return 0;
}

/* wild_forget - drop one cache entry. */
static void
wild_forget(struct worker *w, struct wcache *e)
{
	w->wcache[e->id] = NULL;
	list_remove(&e->all);
	free(e);
}

void
wild_changed(struct worker *w)
{
	while (!list_empty(&w->wcache_list))
		wild_forget(w, list_entry(w->wcache_list.next, struct wcache, all));
	w->nwild_out = 0;  /* what the pass learned is about the old set */
}

/* The state of one cache build. */
struct wild_build {
	struct worker *w;
	struct wcache *e;
	uint32_t id, gen;
	const char *topic;
	size_t len;
	int failed;
};

/* wild_least - the least after (or, if from, cpat.from) of c's patterns but except's that match topic. */
static uint64_t
wild_least(const struct conn *c, const char *topic, size_t len, uint32_t except, int from)
{
	const struct cpat *p;
	uint64_t least = UINT64_MAX, v;
	uint32_t i;

	for (i = 0; i < c->pats->n; i++) {
		p = &c->pats->p[i];
		v = from ? p->from : p->after;
		if (p->entry != except && v < least && topic_match(p->name, p->len, topic, len))
			least = v;
	}
	return least;
}

/* wild_least_after - the least after of c's patterns that match topic. */
static uint64_t
wild_least_after(const struct conn *c, const char *topic, size_t len)
{
	return wild_least(c, topic, len, SHM_NONE, 0);
}

/* wild_memo - c's answer for topic (id, gen) in this generation of patterns: memo_after, exact if least. */
static void
wild_memo(struct worker *w, struct conn *c, uint32_t id, uint32_t gen, uint64_t after, int least)
{
	struct cpats *ps = c->pats;

	ps->memo_topic = id;
	ps->memo_gen = gen;
	ps->memo_pgen = patterns_gen(&w->patterns);
	ps->memo_after = after;
	ps->memo_least = least;
}

/*
 * wild_add - patterns_match's callback: one more connection the topic
 * reaches. The fan-out uses the entry only for records after w->done; if
 * every pattern of c is older than those, they all want them, and which
 * of them match need not be looked at: after_max stands for their least.
 */
static int
wild_add(void *arg, struct pat_owner *o)
{
	struct wild_build *b = arg;
	struct conn *c = list_entry(o, struct conn, po);
	struct wcache *e = b->e, *n;
	int least = c->pats->after_max > b->w->done;
	uint64_t after = least ? wild_least_after(c, b->topic, b->len) : c->pats->after_max;
	uint32_t cap;

	if (e->n == e->cap) {
		cap = e->cap * 2;
		if ((n = realloc(e, sizeof(*n) + cap * sizeof(n->m[0]))) == NULL) {
			b->failed = 1;
			return 1;
		}
		b->e = e = n;
		e->cap = cap;
	}
	e->m[e->n].c = c;
	e->m[e->n].after = after;
	e->n++;
	wild_memo(b->w, c, b->id, b->gen, after, least);
	return 0;
}

/* wild_note - remember for the shared table what the worker's patterns make of a topic. */
static void
wild_note(struct worker *w, uint32_t id, uint32_t gen, int match)
{
	if (w->nwild_out < WILD_RESULTS)
		w->wild_out[w->nwild_out++] = (struct wild_result){ id, gen, match };
}

/* wild_build - the cache entry of (id, gen), from the trie (n 0 if nothing matches); NULL if it cannot be built. */
static struct wcache *
wild_build(struct worker *w, uint32_t id, uint32_t gen)
{
	char name[CONF_TOPIC_MAX + 1];
	long len = topics_name_copy(&w->shm->topics, id, gen, name, sizeof(name));
	struct wild_build b = { w, NULL, id, gen, name, 0, 0 };

	if (len < 0)
		return NULL;    /* evicted meanwhile: its records are not for anybody here */
	b.len = (size_t)len;
	if ((b.e = malloc(sizeof(*b.e) + 4 * sizeof(b.e->m[0]))) == NULL)
		return NULL;
	*b.e = (struct wcache){ .all = { NULL, NULL }, .id = id, .gen = gen, .cap = 4 };
	patterns_match(&w->patterns, name, b.len, wild_add, &b);
	wild_note(w, id, gen, b.e->n > 0);
	if (b.failed)
		log_error("out of memory for a pattern cache: topic %.*s reaches some subscribers late",
		    (int)b.len, name);
	if (b.failed) {
		free(b.e);
		return NULL;
	}
	return b.e;     /* kept if empty too: "no match" is an answer worth keeping */
}

const struct wcache *
wild_topic(struct worker *w, uint32_t id, uint32_t gen)
{
	struct wcache *e;

	if (patterns_count(&w->patterns) == 0)
		return NULL;
	e = w->wcache[id];
	if (e != NULL && e->gen == gen)
		return e->n > 0 ? e : NULL;
	/* records come in ring order: an entry of an older life of the id is done with */
	if (e != NULL && (int32_t)(gen - e->gen) < 0)
		return NULL;
	if (e != NULL)
		wild_forget(w, e);
	if ((e = wild_build(w, id, gen)) == NULL)
		return NULL;
	list_append(&w->wcache_list, &e->all);
	w->wcache[id] = e;
	return e->n > 0 ? e : NULL;
}

int
wild_wants(struct worker *w, struct conn *c, const struct ring_rec *rec)
{
	struct cpats *ps = c->pats;
	char name[CONF_TOPIC_MAX + 1];
	long len;

	if (ps == NULL || ps->n == 0)
		return 0;
	if (ps->memo_topic == rec->topic && ps->memo_gen == rec->gen &&
	    ps->memo_pgen == patterns_gen(&w->patterns) &&
	    (rec->seq > ps->memo_after || ps->memo_least))
		return rec->seq > ps->memo_after;
	len = topics_name_copy(&w->shm->topics, rec->topic, rec->gen, name, sizeof(name));
	wild_memo(w, c, rec->topic, rec->gen,
	    len < 0 ? UINT64_MAX : wild_least_after(c, name, (size_t)len), 1);
	return rec->seq > ps->memo_after;
}

uint64_t
wild_from(struct worker *w, const struct conn *c, uint32_t id, uint32_t gen, uint32_t except)
{
	char name[CONF_TOPIC_MAX + 1];
	long len;

	if (c->pats == NULL || c->pats->n == 0 ||
	    (len = topics_name_copy(&w->shm->topics, id, gen, name, sizeof(name))) < 0)
		return UINT64_MAX;
	return wild_least(c, name, (size_t)len, except, 1);
}

void
wild_resumed(struct conn *c, uint32_t entry, uint64_t start)
{
	uint32_t i;

	for (i = 0; c->pats != NULL && i < c->pats->n; i++)
		if (c->pats->p[i].entry == entry && start < c->pats->p[i].from)
			c->pats->p[i].from = start;
}

void
wild_report(struct worker *w)
{
	struct topics *t = &w->shm->topics;
	uint32_t i, epoch;

	if (w->nwild_out == 0)
		return;
	shm_lock_or_exit(w->shm);
	epoch = topics_pattern_epoch(t);
	for (i = 0; i < w->nwild_out; i++)
		topics_pattern_result_locked(t, w->wild_out[i].id, w->wild_out[i].gen, epoch, w->slot,
		    w->wild_out[i].match);
	shm_unlock(w->shm);
	w->nwild_out = 0;
}
