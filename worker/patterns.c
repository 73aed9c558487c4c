/*
 * worker/patterns.c - one worker's wildcard subscriptions as a token
 * trie; worker/patterns.h describes the shape and the costs.
 *
 * Owns: the trie's nodes, their child tables and pair arrays, and the
 * pair arrays of the owners. Invariants: a node exists only while it
 * holds a pair or has a child (pat_prune keeps this after every change);
 * for every pair, node->owners[j] = {o, i} and o->refs[i] = {node, j};
 * a table of capacity > 2 is at most 3/4 full, so probing ends at an
 * empty slot, and smaller ones are probed at most cap times.
 * Must not touch the owners beyond their struct pat_owner.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/topic.h"
#include "worker/patterns.h"

struct pat_node {
	struct pat_node *parent;       /* NULL for the root */
	struct pat_node *star, *gt;    /* the "*" and ">" children */
	struct pat_node **kids;        /* literal children by hash, while kcap > 1 */
	struct pat_node *kid1;         /* the table while kcap is 1 */
	struct pat_refs owners;        /* pairs of the patterns ending here */
	uint32_t nkids, kcap;          /* kcap: a power of two */
	uint32_t hash;                 /* of tok, for the parent's table */
	uint32_t len;
	uint8_t kind;                  /* enum topic_tok_kind */
	char tok[];                    /* literal nodes: the token */
};

/* One match call: what it reports to, and how far it got. */
struct pat_walk {
	const struct patterns *p;
	uint64_t mark;
	patterns_fn fn;
	void *ctx;
	size_t reported;
	int stop;
};

/* --- arrays of pairs, the first one inline --- */

static struct pat_ref *
refs_at(struct pat_refs *r)
{
	return r->cap > 1 ? r->heap : &r->one;
}

/* refs_resize - move the n pairs into an array of cap (>= n) pairs. */
static int
refs_resize(struct pat_refs *r, uint32_t cap)
{
	struct pat_ref *nh;

	if (cap <= 1) {
		if (r->cap > 1) {
			if (r->n == 1)
				r->one = r->heap[0];
			free(r->heap);
			r->heap = NULL;
		}
		r->cap = 1;
		return 0;
	}
	if (r->cap > 1) {
		if ((nh = realloc(r->heap, cap * sizeof(*nh))) == NULL)
			return -1;
	} else {
		if ((nh = malloc(cap * sizeof(*nh))) == NULL)
			return -1;
		if (r->n == 1)
			nh[0] = r->one;
	}
	r->heap = nh;
	r->cap = cap;
	return 0;
}

/* refs_push - append a pair; its index, or -1 if out of memory. */
static long
refs_push(struct pat_refs *r, struct pat_ref ref)
{
	if (r->n >= r->cap && refs_resize(r, r->cap ? r->cap * 2 : 1) < 0)
		return -1;
	refs_at(r)[r->n] = ref;
	return r->n++;
}

/*
 * refs_del - take pair i out, moving the last one into its place; returns
 * 1 and that pair in *moved if one moved, so the caller can fix its back
 * index. Shrinks at a quarter full, so memory follows the pairs held.
 */
static int
refs_del(struct pat_refs *r, uint32_t i, struct pat_ref *moved)
{
	struct pat_ref *a = refs_at(r);
	int did = i != r->n - 1;

	if (did)
		*moved = a[i] = a[r->n - 1];
	r->n--;
	if (r->cap > 1 && (r->n <= 1 || r->n * 4 <= r->cap))
		(void)refs_resize(r, r->n <= 1 ? 1 : r->cap / 2);
	return did;
}

/* refs_release - free the array (the pairs are gone on the other side). */
static void
refs_release(struct pat_refs *r)
{
	if (r->cap > 1)
		free(r->heap);
	memset(r, 0, sizeof(*r));
}

/* --- literal children: open addressing, linear probing --- */

/* pat_hash - seeded hash of a token, eight bytes a step. */
static uint32_t
pat_hash(uint64_t seed, const char *s, size_t len)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static struct pat_node **
kids_at(struct pat_node *n)
{
	return n->kcap > 1 ? n->kids : &n->kid1;
}

/* kids_load - how many children a table of cap slots may hold. */
static uint32_t
kids_load(uint32_t cap)
{
	return cap <= 2 ? cap : cap - cap / 4;
}

/* kids_find - the literal child for token t (hash h), or NULL. */
static struct pat_node *
kids_find(struct pat_node *n, const struct topic_tok *t, uint32_t h)
{
	struct pat_node **tab = kids_at(n), *c;
	uint32_t mask = n->kcap - 1, i = h & mask, probes;

	for (probes = 0; probes < n->kcap; probes++, i = (i + 1) & mask) {
		if ((c = tab[i]) == NULL)
			return NULL;
		if (c->hash == h && c->len == t->len && memcmp(c->tok, t->p, t->len) == 0)
			return c;
	}
	return NULL;
}

/* kids_place - put c in the first free slot of its chain (there is one). */
static void
kids_place(struct pat_node **tab, uint32_t cap, struct pat_node *c)
{
	uint32_t mask = cap - 1, i = c->hash & mask;

	while (tab[i] != NULL)
		i = (i + 1) & mask;
	tab[i] = c;
}

/* kids_resize - rehash the children into cap slots (a power of two >= nkids). */
static int
kids_resize(struct pat_node *n, uint32_t cap)
{
	struct pat_node **old = kids_at(n), **tab, *one = NULL;
	uint32_t i, oldcap = n->kcap;

	if (cap > 1) {
		if ((tab = calloc(cap, sizeof(*tab))) == NULL)
			return -1;
	} else {
		tab = &one;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			kids_place(tab, cap, old[i]);
	if (oldcap > 1)
		free(old);
	n->kcap = cap;
	n->kid1 = one;
	n->kids = cap > 1 ? tab : NULL;
	return 0;
}

/* kids_insert - add literal child c (not there yet). */
static int
kids_insert(struct pat_node *n, struct pat_node *c)
{
	if (n->nkids + 1 > kids_load(n->kcap) && kids_resize(n, n->kcap * 2) < 0)
		return -1;
	kids_place(kids_at(n), n->kcap, c);
	n->nkids++;
	return 0;
}

/*
 * kids_delete - take literal child c out. Backward-shift deletion: later
 * members of the chain move up into the hole unless that would put them
 * before their home slot, so no tombstones are needed.
 */
static void
kids_delete(struct pat_node *n, struct pat_node *c)
{
	struct pat_node **tab = kids_at(n), *m;
	uint32_t mask = n->kcap - 1, i = c->hash & mask, j, k;

	while (tab[i] != c)
		i = (i + 1) & mask;
	tab[i] = NULL;
	for (j = i, k = 1; k < n->kcap; k++) {
		j = (j + 1) & mask;
		if ((m = tab[j]) == NULL)
			break;
		if (((j - m->hash) & mask) >= ((j - i) & mask)) {
			tab[i] = m;
			tab[j] = NULL;
			i = j;
		}
	}
	n->nkids--;
	if (n->kcap > 1 && (n->nkids <= 1 || n->nkids * 4 <= n->kcap))
		(void)kids_resize(n, n->nkids <= 1 ? 1 : n->kcap / 2);
}

/* --- nodes --- */

static struct pat_node *
node_new(struct patterns *p, struct pat_node *parent, const struct topic_tok *t)
{
	enum topic_tok_kind kind = t != NULL ? topic_tok_kind(t) : TOK_LITERAL;
	size_t len = t != NULL && kind == TOK_LITERAL ? t->len : 0;
	struct pat_node *n = calloc(1, sizeof(*n) + len);

	if (n == NULL)
		return NULL;
	n->parent = parent;
	n->kind = (uint8_t)kind;
	n->kcap = 1;
	n->len = (uint32_t)len;
	if (len > 0) {
		memcpy(n->tok, t->p, len);
		n->hash = pat_hash(p->seed, t->p, len);
	}
	p->nodes++;
	return n;
}

/* node_free - free one node whose pairs and children are gone. */
static void
node_free(struct patterns *p, struct pat_node *n)
{
	refs_release(&n->owners);
	if (n->kcap > 1)
		free(n->kids);
	free(n);
	p->nodes--;
}

/* node_child - n's child for token t, created if create; NULL if none (or no memory). */
static struct pat_node *
node_child(struct patterns *p, struct pat_node *n, const struct topic_tok *t,
    int create)
{
	struct pat_node **slot, *c;

	switch (topic_tok_kind(t)) {
	case TOK_STAR:
		slot = &n->star;
		break;
	case TOK_GT:
		slot = &n->gt;
		break;
	default:
		c = kids_find(n, t, pat_hash(p->seed, t->p, t->len));
		if (c != NULL || !create)
			return c;
		if ((c = node_new(p, n, t)) != NULL && kids_insert(n, c) < 0) {
			node_free(p, c);
			c = NULL;
		}
		return c;
	}
	if (*slot == NULL && create)
		*slot = node_new(p, n, t);
	return *slot;
}

/* node_unused - whether n holds nothing and leads nowhere. */
static int
node_unused(const struct pat_node *n)
{
	return n->owners.n == 0 && n->nkids == 0 && n->star == NULL && n->gt == NULL;
}

/* pat_prune - free n and its ancestors as long as nothing needs them. */
static void
pat_prune(struct patterns *p, struct pat_node *n)
{
	struct pat_node *parent;

	while (n != NULL && node_unused(n)) {
		parent = n->parent;
		if (parent == NULL)
			p->root = NULL;
		else if (n->kind == TOK_STAR)
			parent->star = NULL;
		else if (n->kind == TOK_GT)
			parent->gt = NULL;
		else
			kids_delete(parent, n);
		node_free(p, n);
		n = parent;
	}
}

/*
 * pat_path - the node where pattern ends, created if create. NULL if it
 * is not there, or (create) out of memory, having pruned what it made.
 */
static struct pat_node *
pat_path(struct patterns *p, const char *pattern, size_t len, int create)
{
	struct topic_iter it;
	struct topic_tok t;
	struct pat_node *n, *c;

	if (p->root == NULL && (!create || (p->root = node_new(p, NULL, NULL)) == NULL))
		return NULL;
	n = p->root;
	topic_iter_init(&it, pattern, len);
	while (topic_next(&it, &t)) {
		if ((c = node_child(p, n, &t, create)) == NULL) {
			if (create)
				pat_prune(p, n);
			return NULL;
		}
		n = c;
	}
	return n;
}

/* pat_held - the index in o's pairs of its pair with n, or -1: scans the shorter side. */
static long
pat_held(struct pat_node *n, struct pat_owner *o)
{
	struct pat_ref *r;
	uint32_t i;

	if (o->refs.n <= n->owners.n) {
		r = refs_at(&o->refs);
		for (i = 0; i < o->refs.n; i++)
			if (r[i].to.node == n)
				return i;
	} else {
		r = refs_at(&n->owners);
		for (i = 0; i < n->owners.n; i++)
			if (r[i].to.owner == o)
				return r[i].back;
	}
	return -1;
}

/* pat_link - add the pair (o, n) on both sides. */
static int
pat_link(struct pat_node *n, struct pat_owner *o)
{
	struct pat_ref on_node = { .back = o->refs.n }, on_owner = { .back = n->owners.n };
	struct pat_ref unused;

	on_node.to.owner = o;
	on_owner.to.node = n;
	if (o->refs.n == 0)
		o->mark = 0;     /* it may come from another set, whose calls it saw */
	if (refs_push(&n->owners, on_node) < 0)
		return -1;
	if (refs_push(&o->refs, on_owner) < 0) {
		refs_del(&n->owners, n->owners.n - 1, &unused);
		return -1;
	}
	return 0;
}

/* pat_unlink - take o's pair i out of both sides and prune its node. */
static void
pat_unlink(struct patterns *p, struct pat_owner *o, uint32_t i)
{
	struct pat_ref r = refs_at(&o->refs)[i], m;
	struct pat_node *n = r.to.node;

	if (refs_del(&n->owners, r.back, &m))
		refs_at(&m.to.owner->refs)[m.back].back = r.back;
	if (refs_del(&o->refs, i, &m))
		refs_at(&m.to.node->owners)[m.back].back = i;
	p->count--;
	p->gen++;
	pat_prune(p, n);
}

/* --- the API --- */

void
patterns_init(struct patterns *p, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->gen = 1;
}

int
patterns_add(struct patterns *p, const char *pattern, size_t len,
    struct pat_owner *o)
{
	struct pat_node *n;
	const char *why;

	if (len > PATTERNS_MAX_LEN || topic_check_pattern(pattern, len, &why) == TOPIC_BAD) {
		errno = EINVAL;
		return -1;
	}
	if ((n = pat_path(p, pattern, len, 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (pat_held(n, o) >= 0)
		return 0;
	if (pat_link(n, o) < 0) {
		pat_prune(p, n);
		errno = ENOMEM;
		return -1;
	}
	p->count++;
	p->gen++;
	return 1;
}

int
patterns_remove(struct patterns *p, const char *pattern, size_t len,
    struct pat_owner *o)
{
	struct pat_node *n;
	long i;

	if (len > PATTERNS_MAX_LEN || (n = pat_path(p, pattern, len, 0)) == NULL)
		return 0;
	if ((i = pat_held(n, o)) < 0)
		return 0;
	pat_unlink(p, o, (uint32_t)i);
	return 1;
}

void
patterns_drop(struct patterns *p, struct pat_owner *o)
{
	while (o->refs.n > 0)
		pat_unlink(p, o, o->refs.n - 1);
}

/* match_report - report n's owners not yet reported by this call. */
static void
match_report(struct pat_walk *w, struct pat_node *n)
{
	struct pat_ref *r = refs_at(&n->owners);
	struct pat_owner *o;
	uint32_t i;

	for (i = 0; i < n->owners.n && !w->stop; i++) {
		o = r[i].to.owner;
		if (o->mark == w->mark)
			continue;
		o->mark = w->mark;
		w->reported++;
		w->stop = w->fn(w->ctx, o) != 0;
	}
}

/*
 * match_walk - match the tokens left in it from node n: the literal path
 * is followed in a loop, each "*" child by recursion, as deep as the
 * trie at most.
 */
static void
match_walk(struct pat_walk *w, struct pat_node *n, struct topic_iter it)
{
	struct topic_tok t;

	while (n != NULL && !w->stop) {
		if (!topic_next(&it, &t)) {
			match_report(w, n);
			return;
		}
		if (n->gt != NULL)
			match_report(w, n->gt);
		if (n->star != NULL)
			match_walk(w, n->star, it);
		n = n->nkids > 0 ? kids_find(n, &t, pat_hash(w->p->seed, t.p, t.len)) : NULL;
	}
}

size_t
patterns_match(struct patterns *p, const char *topic, size_t len,
    patterns_fn fn, void *ctx)
{
	struct pat_walk w = { .p = p, .mark = ++p->mark, .fn = fn, .ctx = ctx };
	struct topic_iter it;

	if (p->root == NULL)
		return 0;
	topic_iter_init(&it, topic, len);
	match_walk(&w, p->root, it);
	return w.reported;
}

/* free_tree - free n and everything below it; owners met lose their pairs. */
static void
free_tree(struct patterns *p, struct pat_node *n)
{
	struct pat_node **tab = kids_at(n);
	struct pat_ref *r = refs_at(&n->owners);
	uint32_t i;

	for (i = 0; i < n->kcap; i++)
		if (tab[i] != NULL)
			free_tree(p, tab[i]);
	if (n->star != NULL)
		free_tree(p, n->star);
	if (n->gt != NULL)
		free_tree(p, n->gt);
	for (i = 0; i < n->owners.n; i++)
		refs_release(&r[i].to.owner->refs);
	node_free(p, n);
}

void
patterns_free(struct patterns *p)
{
	if (p->root != NULL)
		free_tree(p, p->root);
	p->root = NULL;
	p->count = 0;
	p->gen++;
}
