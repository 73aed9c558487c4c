/*
 * bridge/interest.c - which subjects the bridge subscribes to on NATS.
 *
 * Owns: what bridge/interest.h says: the subjects by hash (each once,
 * whichever ids want it: an evicted id and the new id of the same name
 * share it), what each topic id of the table holds (pins, by id, with
 * the gen it was taken for), the patterns among them, and the list of
 * subjects lingering before their UNSUB, oldest first.
 * Sids count up and are never reused while the bridge lives, so a MSG
 * that comes late through a dropped subscription is recognised.
 * Must not put anything into the ring or write to the socket except
 * through bridge/link.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "proto/topic.h"
#include "bridge/interest.h"
#include "bridge/link.h"

#define INTEREST_BUCKETS 256        /* to start with; doubled when the chains get long */

int
interest_init(struct bridge *b)
{
	struct interest *in = &b->in;

	in->max = b->shm->hdr->max_topics;
	in->pins = calloc(in->max, sizeof(*in->pins));
	in->bucket = calloc(INTEREST_BUCKETS, sizeof(*in->bucket));
	if (in->pins == NULL || in->bucket == NULL) {
		log_error("out of memory for the bridge's subscriptions");
		return -1;
	}
	in->mask = INTEREST_BUCKETS - 1;
	if (getrandom(&in->seed, sizeof(in->seed), 0) != (ssize_t)sizeof(in->seed)) {
		log_error("getrandom() failed: %s", strerror(errno));
		return -1;
	}
	list_init(&in->linger);
	list_init(&in->patterns);
	in->rescan = 1;
	return 0;
}

/* interest_find - the subscription of a subject, or NULL. */
static struct bsub *
interest_find(const struct interest *in, const char *subject, size_t slen, uint32_t hash)
{
	struct bsub *s;

	for (s = in->bucket[hash & in->mask]; s != NULL; s = s->hnext)
		if (s->hash == hash && s->slen == slen && memcmp(s->text, subject, slen) == 0)
			return s;
	return NULL;
}

/* interest_grow - twice the buckets once there are twice as many subjects; kept as it is without memory. */
static void
interest_grow(struct interest *in)
{
	uint32_t nb = 2 * (in->mask + 1), i;
	struct bsub **bucket, *s, *next;

	if (in->n <= 2 * (in->mask + 1) || (bucket = calloc(nb, sizeof(*bucket))) == NULL)
		return;
	for (i = 0; i <= in->mask; i++)
		for (s = in->bucket[i]; s != NULL; s = next) {
			next = s->hnext;
			s->hnext = bucket[s->hash & (nb - 1)];
			bucket[s->hash & (nb - 1)] = s;
		}
	free(in->bucket);
	in->bucket = bucket;
	in->mask = nb - 1;
}

/* interest_line - SUB (on) or UNSUB for s, if the link is up; a new link gets them all anyway. */
static void
interest_line(struct bridge *b, const struct bsub *s, int on)
{
	char line[SUBJECT_MAX + 64];
	long n;

	if (!link_up(b))
		return;
	n = on ? nats_put_sub(line, sizeof(line), s->text, s->slen, s->sid) :
	    nats_put_unsub(line, sizeof(line), s->sid, 0);
	if (n > 0)
		link_queue(b, line, (size_t)n);
}

/* interest_hold - one more id wants subject: subscribe it if it is new, stop its lingering if not. */
static struct bsub *
interest_hold(struct bridge *b, const char *subject, size_t slen, int pattern, const char *name,
    size_t nlen)
{
	struct interest *in = &b->in;
	uint32_t hash = hash_bytes(in->seed, subject, slen);
	struct bsub *s = interest_find(in, subject, slen, hash);

	if (s != NULL) {
		if (s->pins++ == 0)
			list_remove(&s->linger);
		return s;
	}
	if ((s = calloc(1, sizeof(*s) + slen + (pattern ? nlen : 0))) == NULL) {
		log_error("out of memory for a subscription to %.*s", (int)slen, subject);
		return NULL;
	}
	s->sid = ++in->next_sid;
	s->pins = 1;
	s->hash = hash;
	s->slen = (uint16_t)slen;
	s->pattern = pattern;
	memcpy(s->text, subject, slen);
	if (pattern) {
		s->tlen = (uint16_t)nlen;
		memcpy(s->text + slen, name, nlen);
		list_append(&in->patterns, &s->pat);
	}
	s->hnext = in->bucket[hash & in->mask];
	in->bucket[hash & in->mask] = s;
	in->n++;
	bridge_stat_set(&b->st->subjects, in->n);
	interest_grow(in);
	interest_line(b, s, 1);
	return s;
}

/* interest_release - an id no longer wants s: it lingers once nothing does. */
static void
interest_release(struct bridge *b, struct bsub *s)
{
	if (--s->pins > 0)
		return;
	s->linger_until = b->now + b->conf.cluster_linger_ms;
	list_append(&b->in.linger, &s->linger);
}

/* interest_forget - s is no longer subscribed. */
static void
interest_forget(struct bridge *b, struct bsub *s)
{
	struct interest *in = &b->in;
	struct bsub **link = &in->bucket[s->hash & in->mask];

	while (*link != s)
		link = &(*link)->hnext;
	*link = s->hnext;
	list_remove(&s->linger);
	list_remove(&s->pat);
	free(s);
	in->n--;
	bridge_stat_set(&b->st->subjects, in->n);
}

/* interest_reconcile - make what id holds match the table now: the subject of a pinned live topic, or nothing. */
static void
interest_reconcile(struct bridge *b, uint32_t id)
{
	struct topics *t = &b->shm->topics;
	struct bpin *p = &b->in.pins[id];
	char name[CONF_TOPIC_MAX], subject[SUBJECT_MAX];
	enum subject_err e;
	uint32_t gen = 0;
	size_t slen;
	int want, pattern;
	long n;

	want = topics_live(t, id, &gen) && topics_workers(t, id) != 0;
	if (p->sub != NULL && (!want || p->gen != gen)) {
		interest_release(b, p->sub);
		p->sub = NULL;
	}
	if (!want || p->sub != NULL)
		return;
	/* a name that changed meanwhile was unpinned: its own event follows */
	if ((n = topics_name_copy(t, id, gen, name, sizeof(name))) < 0)
		return;
	pattern = topics_is_pattern(t, id);
	e = pattern ? subject_encode_pattern(&b->map, name, (size_t)n, subject, sizeof(subject), &slen) :
	    subject_encode(&b->map, name, (size_t)n, subject, sizeof(subject), &slen);
	if (e != SUBJECT_OK) {
		log_warn("'%.*s' is not subscribed on NATS (%s): only this node's publishers reach it",
		    (int)n, name, subject_strerror(e));
		return;
	}
	p->sub = interest_hold(b, subject, slen, pattern, name, (size_t)n);
	p->gen = gen;
}

void
interest_poll(struct bridge *b)
{
	struct interest *in = &b->in;
	struct shm_pinlog *q = &b->shm->hdr->pinlog;
	uint32_t used, id;
	size_t n, i;
	int lost;

	while (in->rescan || pinlog_head(q) != in->seen) {
		shm_lock_or_exit(b->shm);
		n = pinlog_take_locked(q, in->ev, BRIDGE_EVENTS, &lost);
		in->seen = q->taken;
		used = b->shm->hdr->topics.used;
		shm_unlock(b->shm);
		for (i = 0; i < n; i++)
			if (in->ev[i].id < in->max)
				interest_reconcile(b, in->ev[i].id);
		if (!in->rescan && !lost)
			continue;
		in->rescan = 0;
		for (id = 0; id < used && id < in->max; id++)
			interest_reconcile(b, id);
	}
}

void
interest_timers(struct bridge *b)
{
	struct bsub *s;

	while (!list_empty(&b->in.linger)) {
		s = list_entry(b->in.linger.next, struct bsub, linger);
		if (s->linger_until > b->now)
			return;
		interest_line(b, s, 0);
		interest_forget(b, s);
	}
}

int
interest_next_ms(const struct bridge *b, int cap)
{
	const struct bsub *s;

	if (list_empty(&b->in.linger))
		return cap;
	s = list_entry(b->in.linger.next, struct bsub, linger);
	if (s->linger_until <= b->now)
		return 0;
	return s->linger_until - b->now < (uint64_t)cap ? (int)(s->linger_until - b->now) : cap;
}

void
interest_resend(struct bridge *b)
{
	struct interest *in = &b->in;
	struct bsub *s, *next;
	uint32_t i;

	for (i = 0; i <= in->mask; i++)
		for (s = in->bucket[i]; s != NULL; s = next) {
			next = s->hnext;
			if (s->pins == 0)
				interest_forget(b, s);
			else
				interest_line(b, s, 1);
		}
}

int
interest_accepts(struct bridge *b, const char *subject, size_t slen, const char *topic,
    size_t tlen, uint64_t sid)
{
	const struct interest *in = &b->in;
	const struct bsub *s = interest_find(in, subject, slen, hash_bytes(in->seed, subject, slen));
	uint64_t best = s != NULL && !s->pattern ? s->sid : UINT64_MAX;
	const struct link *l;

	for (l = in->patterns.next; l != &in->patterns; l = l->next) {
		s = list_entry(l, struct bsub, pat);
		if (s->sid < best && topic_match(s->text + s->slen, s->tlen, topic, tlen))
			best = s->sid;
	}
	return sid == best;
}
