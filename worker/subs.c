/*
 * worker/subs.c - subscriptions: the worker's topics and who reads them.
 *
 * Owns: what worker/subs.h says. A subscription starts after the newest
 * record at the moment it is counted under the lock: a message published
 * after the client receives ACK is always delivered.
 * Must not write to sockets except through worker/deliver.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "proto/render.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/subix.h"
#include "worker/subs.h"
#include "worker/wild.h"

#define SUBS_INDEX_MIN 16          /* subscriptions from which a connection's are indexed by topic */

/* What subs_intern found. */
enum subs_interned {
	SUBS_NEW,                  /* a new subscription for c (its topic pinned if new here) */
	SUBS_HELD,                 /* c already holds it */
	SUBS_OVER_LIMIT,           /* c holds max_subs already */
	SUBS_OVER_QUOTA,           /* c's address pins max_topics_per_ip topics already */
	SUBS_TABLE_FULL            /* the shared topic table has no room */
};

/* What subs_intern tells subs_add. */
struct subs_topic {
	uint32_t id, gen;
	uint64_t head;             /* the newest record when it was counted */
	int pinned;                /* this worker pinned it just now */
};

/* subs_ltopic - the local topic for t, created on first use. */
static struct ltopic *
subs_ltopic(struct worker *w, const struct subs_topic *t, const char *name, uint32_t len)
{
	struct ltopic *lt = w->topics[t->id];

	if (lt != NULL)
		return lt;
	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	lt->id = t->id;
	lt->gen = t->gen;
	lt->len = len;
	memcpy(lt->name, name, len);
	w->topics[t->id] = lt;
	return lt;
}

/* subs_ltopic_drop - a local topic without subscribers goes. */
static void
subs_ltopic_drop(struct worker *w, struct ltopic *lt)
{
	w->topics[lt->id] = NULL;
	free(lt->subs);
	free(lt);
}

/* subs_grow - room for one more subscription on c and one more subscriber on lt. */
static int
subs_grow(struct conn *c, struct ltopic *lt)
{
	struct csub *ns;
	struct conn **nc;
	uint32_t cap;

	if (c->nsubs == 0 && c->subs != &c->sub1) {
		free(c->subs);
		c->subs = &c->sub1;
		c->subcap = 1;
		subix_drop(c);
	} else if (c->nsubs == c->subcap) {
		cap = c->subcap * 2;
		ns = malloc(cap * sizeof(*ns));
		if (ns == NULL)
			return -1;
		memcpy(ns, c->subs, c->nsubs * sizeof(*ns));
		if (c->subs != &c->sub1)
			free(c->subs);
		c->subs = ns;
		c->subcap = cap;
		if (cap >= SUBS_INDEX_MIN && subix_build(c, 2 * cap) < 0)
			return -1;
	}
	if (lt->n == lt->cap) {
		cap = lt->cap ? lt->cap * 2 : 4;
		nc = realloc(lt->subs, cap * sizeof(*nc));
		if (nc == NULL)
			return -1;
		lt->subs = nc;
		lt->cap = cap;
	}
	return 0;
}

/* subs_unpin_locked - id (-1: none) lost its last subscriber here; a pattern gone changes the patterns. */
static void
subs_unpin_locked(struct worker *w, long id, int pattern)
{
	if (id >= 0)
		topics_unpin_locked(&w->shm->topics, (uint32_t)id, w->slot);
	if (pattern)
		topics_patterns_changed_locked(&w->shm->topics, w->slot,
		    patterns_count(&w->patterns) > 0);
}

/* subs_unpin - subs_unpin_locked under the lock, if there is anything to tell. */
static void
subs_unpin(struct worker *w, long id, int pattern)
{
	if (id < 0 && !pattern)
		return;
	shm_lock_or_exit(w->shm);
	subs_unpin_locked(w, id, pattern);
	shm_unlock(w->shm);
}

/* subs_pat_find - c's pattern of this name, or -1. */
static long
subs_pat_find(const struct conn *c, const char *name, uint32_t len)
{
	uint32_t i;

	for (i = 0; c->pats != NULL && i < c->pats->n; i++)
		if (c->pats->p[i].len == len && memcmp(c->pats->p[i].name, name, len) == 0)
			return i;
	return -1;
}

/* subs_pat_add - a pattern for c: into its list and the worker's trie; -1 if out of memory. */
static int
subs_pat_add(struct worker *w, struct conn *c, const struct request *r, uint32_t entry,
    uint64_t after)
{
	struct cpats *ps = c->pats;
	struct cpat *p;
	uint32_t cap;

	if (ps == NULL || ps->n == ps->cap) {
		cap = ps != NULL ? ps->cap * 2 : 1;
		if ((ps = realloc(ps, sizeof(*ps) + cap * sizeof(ps->p[0]))) == NULL)
			return -1;
		if (c->pats == NULL) {
			ps->n = 0;
			ps->after_max = 0;
		}
		ps->cap = cap;
		c->pats = ps;
	}
	if (patterns_add(&w->patterns, r->topic, r->topic_len, &c->po) < 0)
		return -1;
	p = &ps->p[ps->n++];
	p->entry = entry;
	p->len = r->topic_len;
	p->after = after;
	p->from = after + 1;
	memcpy(p->name, r->topic, r->topic_len);
	if (after > ps->after_max)
		ps->after_max = after;
	ps->memo_pgen = 0;
	wild_changed(w);
	return 0;
}

/* subs_pat_remove - pattern i of c goes: from its list and the trie. */
static void
subs_pat_remove(struct worker *w, struct conn *c, uint32_t i)
{
	struct cpats *ps = c->pats;

	patterns_remove(&w->patterns, ps->p[i].name, ps->p[i].len, &c->po);
	ps->p[i] = ps->p[--ps->n];
	ps->memo_pgen = 0;
	wild_changed(w);
}

/*
 * subs_remove - take subscription i off c and off its topic. Returns the
 * topic id if that was the topic's last subscriber here (the caller
 * unpins it), else -1.
 */
static long
subs_remove(struct worker *w, struct conn *c, uint32_t i)
{
	struct csub *s = &c->subs[i];
	struct ltopic *lt = w->topics[s->topic];
	uint32_t id = s->topic;
	struct conn *moved;

	lt->subs[s->pos] = lt->subs[--lt->n];
	if (s->pos < lt->n) {
		moved = lt->subs[s->pos];
		conn_sub(moved, id)->pos = s->pos;
	}
	if (c->subix != NULL)
		subix_remove(c, i);
	c->subs[i] = c->subs[--c->nsubs];
	stat_add(&w->stats->subs, (uint64_t)-1);
	if (lt->n > 0)
		return -1;
	subs_ltopic_drop(w, lt);
	return id;
}

/*
 * subs_resume - replay the topic's records after r->since that the ring
 * still holds, reporting with a gap frame what it no longer holds. A
 * changed epoch means the ring is not the one since counted in: the gap
 * starts at 0 ("before this ring") and the replay at its oldest record.
 * Records of this name under an id the table evicted cannot be told from
 * others any more: they are reported as a gap too. The replay runs up to
 * what the subscription already gets live (after). A pattern's replay is
 * every record the ring holds in that range whose topic it matches. Either
 * leaves out what c's other subscriptions bring it (worker/deliver.h).
 */
static int
subs_resume(struct worker *w, struct conn *c, struct csub *sub, const struct request *r)
{
	uint64_t tail = ring_tail(&w->shm->ring), start, lost;

	if (r->epoch.type == JSON_STRING && !json_str_eq(&r->epoch, w->shm->hdr->epoch)) {
		if (deliver_gap(w, c, r->topic, r->topic_len, 0, tail - 1) < 0)
			return -1;
		start = tail;
	} else {
		if (r->since >= sub->after)
			return 0;
		start = r->since + 1;
		lost = topics_lost_upto(&w->shm->topics, sub->topic);
		if (lost + 1 > tail)
			tail = lost + 1;
		if (start < tail) {
			if (deliver_gap(w, c, r->topic, r->topic_len, start, tail - 1) < 0)
				return -1;
			start = tail;
		}
	}
	if ((r->pattern ? deliver_replay_pattern(w, c, sub->topic, r->topic, r->topic_len, start,
	    sub->after) :
	    deliver_replay(w, c, sub->topic, w->topics[sub->topic]->gen, start, sub->after)) < 0)
		return -1;
	return (c->flags & CONN_CLOSING) ? -1 : 0;
}

/* subs_add - a new subscription on c, to the topic subs_intern counted. */
static struct csub *
subs_add(struct worker *w, struct conn *c, const struct request *r, const struct subs_topic *t)
{
	struct ltopic *lt = subs_ltopic(w, t, r->topic, r->topic_len);
	struct csub *s;

	if (lt == NULL || subs_grow(c, lt) < 0 ||
	    (r->pattern && subs_pat_add(w, c, r, t->id, t->head) < 0)) {
		if (lt != NULL && lt->n == 0)
			subs_ltopic_drop(w, lt);
		subs_unpin(w, t->pinned ? (long)t->id : -1, r->pattern);
		return NULL;
	}
	s = &c->subs[c->nsubs++];
	s->topic = t->id;
	s->pos = lt->n;
	s->after = t->head;
	s->from = t->head + 1;
	if (c->subix != NULL)
		subix_add(c, c->nsubs - 1);
	lt->subs[lt->n++] = c;
	stat_add(&w->stats->subs, 1);
	return s;
}

/*
 * subs_intern_locked - r's topic for c. Every refusal is decided before
 * anything is created, in O(1): c's own limit, then its address's quota
 * (charged only for a topic nobody subscribes to yet), then room.
 */
static enum subs_interned
subs_intern_locked(struct worker *w, struct conn *c, const struct request *r,
    struct subs_topic *t)
{
	struct topics *tt = &w->shm->topics;
	uint32_t quota = w->conf.max_topics_per_ip;
	long id = topics_find_locked(tt, r->topic, r->topic_len);

	if (id >= 0 && w->topics[id] != NULL && conn_sub(c, (uint32_t)id) != NULL) {
		t->id = (uint32_t)id;
		return SUBS_HELD;
	}
	if (c->nsubs >= w->conf.max_subs)
		return SUBS_OVER_LIMIT;
	t->pinned = id < 0 || w->topics[id] == NULL;
	if (t->pinned && quota != 0 && c->addr_id != SHM_NONE &&
	    topics_would_charge_locked(tt, id) && addrs_topics(&w->shm->addrs, c->addr_id) >= quota)
		return SUBS_OVER_QUOTA;
	if (id < 0 && (id = topics_intern_locked(tt, r->topic, r->topic_len)) < 0)
		return SUBS_TABLE_FULL;
	if (t->pinned)
		topics_pin_locked(tt, (uint32_t)id, w->slot, c->addr_id, quota);
	if (r->pattern) {
		/* publishers must wake this worker for what the new pattern matches */
		topics_mark_pattern_locked(tt, (uint32_t)id);
		topics_patterns_changed_locked(tt, w->slot, 1);
	}
	t->id = (uint32_t)id;
	t->gen = topics_gen(tt, (uint32_t)id);
	return SUBS_NEW;
}

/* subs_intern - subs_intern_locked under the lock, with the head it counted at. */
static enum subs_interned
subs_intern(struct worker *w, struct conn *c, const struct request *r, struct subs_topic *t)
{
	enum subs_interned res;

	shm_lock_or_exit(w->shm);
	res = subs_intern_locked(w, c, r, t);
	t->head = ring_head(&w->shm->ring);
	shm_unlock(w->shm);
	return res;
}

int
subs_subscribe(struct worker *w, struct conn *c, const struct request *r)
{
	struct subs_topic t = { 0 };
	struct csub *sub = NULL;

	if (!(c->flags & CONN_NET_SUB))
		return deliver_error(w, c, ERR_NOT_ALLOWED, "subscribing is not allowed from this client");
	switch (subs_intern(w, c, r, &t)) {
	case SUBS_TABLE_FULL:
		conn_refused(w, c, REFUSE_TABLE_FULL, "subscribe: every topic of the table has subscribers");
		return deliver_error(w, c, ERR_LIMIT, "too many topics (max_topics)");
	case SUBS_OVER_LIMIT:
		return deliver_error(w, c, ERR_LIMIT, "too many subscriptions on this connection (max_subs)");
	case SUBS_OVER_QUOTA:
		conn_refused(w, c, REFUSE_QUOTA, "subscribe: its address pins max_topics_per_ip topics");
		return deliver_error(w, c, ERR_LIMIT, "too many topics from this address (max_topics_per_ip)");
	case SUBS_HELD:
		sub = conn_sub(c, t.id);
		break;
	case SUBS_NEW:
		sub = subs_add(w, c, r, &t);
		break;
	}
	if (sub == NULL)
		return deliver_error(w, c, ERR_LIMIT, "out of memory for a subscription");
	if (deliver_reply(w, c, RENDER_ACK, sizeof(RENDER_ACK) - 1) < 0)
		return -1;
	return r->has_since ? subs_resume(w, c, sub, r) : 0;
}

void
subs_unsubscribe(struct worker *w, struct conn *c, const struct request *r)
{
	const struct ltopic *lt;
	uint32_t i;
	long p = r->pattern ? subs_pat_find(c, r->topic, r->topic_len) : -1;

	if (p >= 0)
		subs_pat_remove(w, c, (uint32_t)p);
	for (i = 0; i < c->nsubs; i++) {
		lt = w->topics[c->subs[i].topic];
		if (lt->len == r->topic_len && memcmp(lt->name, r->topic, lt->len) == 0) {
			subs_unpin(w, subs_remove(w, c, i), p >= 0);
			return;
		}
	}
}

void
subs_drop_all(struct worker *w, struct conn *c)
{
	int pattern = c->pats != NULL && c->pats->n > 0;

	if (pattern) {
		patterns_drop(&w->patterns, &c->po);
		wild_changed(w);
	}
	free(c->pats);
	c->pats = NULL;
	subix_drop(c);  /* what c holds is not looked up again */
	if (c->nsubs == 0)
		return;
	shm_lock_or_exit(w->shm);
	while (c->nsubs > 0)
		subs_unpin_locked(w, subs_remove(w, c, c->nsubs - 1), 0);
	subs_unpin_locked(w, -1, pattern);
	shm_unlock(w->shm);
}
