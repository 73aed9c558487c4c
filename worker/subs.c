/*
 * worker/subs.c - subscriptions: the worker's topics and who reads them.
 *
 * Owns: each connection's subscription list, each local topic's array of
 * subscribers (the fan-out walks it), and keeping the shared per-worker
 * subscriber counts in step, so publishers wake only workers that care.
 * A subscription starts after the newest record at the moment it is
 * counted under the lock: a message published after the client receives
 * ACK is always delivered. Resume (since/epoch) is here too.
 * Must not write to sockets except through worker/out.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "proto/render.h"
#include "worker/worker.h"

struct csub *
subs_find(struct conn *c, uint32_t topic)
{
	uint32_t i;

	for (i = 0; i < c->nsubs; i++)
		if (c->subs[i].topic == topic)
			return &c->subs[i];
	return NULL;
}

/* subs_ltopic - the local topic for id, created on first use. */
static struct ltopic *
subs_ltopic(struct worker *w, uint32_t id, const char *name, uint32_t len)
{
	struct ltopic *lt = w->topics[id];

	if (lt != NULL)
		return lt;
	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	lt->id = id;
	lt->len = len;
	memcpy(lt->name, name, len);
	w->topics[id] = lt;
	return lt;
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

/* subs_count - keep the shared count in step: +1 or -1 per subscription. */
static void
subs_count(struct worker *w, uint32_t id, int delta)
{
	if (shm_lock(w->shm) < 0)
		return;
	topics_sub_locked(&w->shm->topics, id, w->slot, delta);
	shm_unlock(w->shm);
}

/* subs_remove - take subscription i off c and off its topic. */
static void
subs_remove(struct worker *w, struct conn *c, uint32_t i)
{
	struct csub *s = &c->subs[i];
	struct ltopic *lt = w->topics[s->topic];
	struct conn *moved;

	lt->subs[s->pos] = lt->subs[--lt->n];
	if (s->pos < lt->n) {
		moved = lt->subs[s->pos];
		subs_find(moved, s->topic)->pos = s->pos;
	}
	if (lt->n == 0) {
		w->topics[s->topic] = NULL;
		free(lt->subs);
		free(lt);
	}
	c->subs[i] = c->subs[--c->nsubs];
	if (c->gap_idx > c->nsubs)
		c->gap_idx = c->nsubs;
	stat_add(&w->stats->subs, (uint64_t)-1);
}

/* subs_reply_gap - the gap frame of a resume, before its replay. */
static int
subs_reply_gap(struct worker *w, struct conn *c, const struct request *r,
    uint64_t from, uint64_t to)
{
	char buf[2048];
	long n = render_gap(buf, sizeof(buf), r->topic, r->topic_len, from, to);

	return n > 0 ? out_reply(w, c, buf, (size_t)n) : 0;
}

/*
 * subs_resume - replay the topic's records after r->since that the ring
 * still holds, reporting with a gap frame what it no longer holds. A
 * changed epoch means the ring is not the one since counted in: the gap
 * starts at 0 ("before this ring") and the replay at its oldest record.
 */
static int
subs_resume(struct worker *w, struct conn *c, struct csub *sub,
    const struct request *r, uint64_t head)
{
	uint64_t tail = ring_tail(&w->shm->ring), start, cur;
	uint32_t i;

	if (r->epoch.type == JSON_STRING && !json_str_eq(&r->epoch, w->shm->hdr->epoch)) {
		if (subs_reply_gap(w, c, r, 0, tail - 1) < 0)
			return -1;
		start = tail;
	} else {
		if (r->since >= head)
			return 0;
		start = r->since + 1;
		if (start < tail) {
			if (subs_reply_gap(w, c, r, start, tail - 1) < 0)
				return -1;
			start = tail;
		}
	}
	/* records before the cursor went out already to the other subscriptions */
	cur = (c->flags & CONN_BEHIND) ? c->cursor : w->done + 1;
	for (i = 0; i < c->nsubs; i++)
		if (&c->subs[i] != sub && c->subs[i].after < cur - 1)
			c->subs[i].after = cur - 1;
	sub->after = start - 1;
	if (start < cur) {
		out_behind(w, c, start);
		c->cursor = start;
	}
	if ((c->flags & CONN_BEHIND) && !(c->flags & CONN_BLOCKED))
		out_flush(w, c);
	return (c->flags & CONN_CLOSING) ? -1 : 0;
}

/* subs_add - a new subscription on c, counted in the shared table. */
static struct csub *
subs_add(struct worker *w, struct conn *c, const struct request *r, long id,
    uint64_t head)
{
	struct ltopic *lt = subs_ltopic(w, (uint32_t)id, r->topic, r->topic_len);
	struct csub *s;

	if (lt == NULL || subs_grow(c, lt) < 0) {
		if (lt != NULL && lt->n == 0) {
			w->topics[id] = NULL;
			free(lt->subs);
			free(lt);
		}
		subs_count(w, (uint32_t)id, -1);
		return NULL;
	}
	s = &c->subs[c->nsubs++];
	s->topic = (uint32_t)id;
	s->pos = lt->n;
	s->after = head;
	lt->subs[lt->n++] = c;
	stat_add(&w->stats->subs, 1);
	return s;
}

/* subs_intern - the topic's id, counting one more subscriber if c is new to it. */
static long
subs_intern(struct worker *w, struct conn *c, const struct request *r,
    uint64_t *head, int *fresh)
{
	struct shm *s = w->shm;
	long id;

	if (shm_lock(s) < 0)
		return -1;
	id = topics_intern_locked(&s->topics, r->topic, r->topic_len, ring_tail(&s->ring));
	*fresh = id >= 0 && (w->topics[id] == NULL || subs_find(c, (uint32_t)id) == NULL);
	if (*fresh && c->nsubs >= w->conf.max_subs)
		id = -2;
	else if (*fresh)
		topics_sub_locked(&s->topics, (uint32_t)id, w->slot, 1);
	*head = ring_head(&s->ring);
	shm_unlock(s);
	return id;
}

int
subs_subscribe(struct worker *w, struct conn *c, const struct request *r)
{
	struct csub *sub;
	uint64_t head;
	long id;
	int fresh;

	if (!(c->flags & CONN_NET_SUB))
		return out_error(w, c, ERR_NOT_ALLOWED, "subscribing is not allowed from this client");
	id = subs_intern(w, c, r, &head, &fresh);
	if (id == -2)
		return out_error(w, c, ERR_LIMIT, "too many subscriptions on this connection (max_subs)");
	if (id < 0)
		return out_error(w, c, ERR_LIMIT, "too many topics (max_topics)");
	sub = fresh ? subs_add(w, c, r, id, head) : subs_find(c, (uint32_t)id);
	if (sub == NULL)
		return out_error(w, c, ERR_LIMIT, "out of memory for a subscription");
	if (out_reply(w, c, RENDER_ACK, sizeof(RENDER_ACK) - 1) < 0)
		return -1;
	return r->has_since ? subs_resume(w, c, sub, r, head) : 0;
}

void
subs_unsubscribe(struct worker *w, struct conn *c, const struct request *r)
{
	long id;
	uint32_t i;

	if (shm_lock(w->shm) < 0)
		return;
	id = topics_find_locked(&w->shm->topics, r->topic, r->topic_len);
	shm_unlock(w->shm);
	for (i = 0; id >= 0 && i < c->nsubs; i++) {
		if (c->subs[i].topic == (uint32_t)id) {
			subs_remove(w, c, i);
			subs_count(w, (uint32_t)id, -1);
			return;
		}
	}
}

void
subs_drop_all(struct worker *w, struct conn *c)
{
	uint32_t id;
	int locked;

	if (c->nsubs == 0)
		return;
	locked = shm_lock(w->shm) == 0;
	while (c->nsubs > 0) {
		id = c->subs[c->nsubs - 1].topic;
		subs_remove(w, c, c->nsubs - 1);
		if (locked)
			topics_sub_locked(&w->shm->topics, id, w->slot, -1);
	}
	if (locked)
		shm_unlock(w->shm);
}
