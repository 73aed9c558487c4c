/*
 * worker/patterns.h - one worker's wildcard subscriptions (PROTOCOL.md
 * Part 4) as a token trie.
 *
 * Owns: the trie of patterns and, for each pattern, the owners (the
 * connections) holding it; the owner records' list of their patterns;
 * the generation number that says the set changed. Must not know about
 * connections, sockets, the ring or the shared table: an owner is a
 * struct pat_owner that the caller embeds in whatever it delivers to, and
 * finds its way back from with list_entry (worker/list.h).
 *
 * Shape: a node per token of a pattern, shared by patterns with the same
 * prefix. A node has its literal children in an open-addressing table
 * keyed by a seeded hash of the token, and one child for "*" and one for
 * ">". A pattern is held where its last token ends; the (owner, node)
 * pair is stored on both sides, each knowing its index on the other, so
 * adding, removing and dropping a connection cost O(tokens) plus a scan
 * of the shorter of the two lists to find an existing pair.
 *
 * Matching walks the topic's tokens from the root: at each level the
 * ">" child's owners match, the "*" child is walked with the rest of the
 * topic, and the literal child of that token is looked up in O(1). So
 * the cost is the number of trie nodes that match a prefix of the topic
 * (at most 2^tokens through "*" children, at most the trie) plus the
 * owners reported; patterns that part from the topic at a literal token
 * are never visited. An owner matched several ways is reported once: each
 * call stamps the owners it reports with its own number.
 *
 * Memory: a node is about 96 bytes plus its token, plus 8 bytes a literal
 * child in its parent's table (at least a quarter full); a pair is 16
 * bytes on each side, the first of each owner and each node held inline.
 * Everything is freed as patterns go: removing a pattern prunes the nodes
 * nobody needs any more, up to the root.
 */
#ifndef JANUSD_WORKER_PATTERNS_H
#define JANUSD_WORKER_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

/* Longer patterns are refused; this bounds the trie's depth and a match's recursion. */
#define PATTERNS_MAX_LEN CONF_TOPIC_MAX

struct pat_node;
struct pat_owner;

/* One (owner, node) pair as one side sees it. Private. */
struct pat_ref {
	union {
		struct pat_owner *owner;   /* on a node: who holds the pattern */
		struct pat_node *node;     /* on an owner: where the pattern ends */
	} to;
	uint32_t back;                 /* index of the pair on the other side */
};

/* A growable array of pairs whose first element needs no malloc. Private. */
struct pat_refs {
	struct pat_ref *heap;          /* the array while cap > 1 */
	struct pat_ref one;            /* the array while cap <= 1 */
	uint32_t n, cap;
};

/*
 * What a subscriber embeds. All zero is an owner with no patterns. It must
 * not move while it holds patterns, and belongs to one set at a time.
 */
struct pat_owner {
	struct pat_refs refs;
	uint64_t mark;                 /* the last match call that reported it */
};

struct patterns {
	struct pat_node *root;         /* NULL while the set is empty */
	uint64_t seed;                 /* token hash seed */
	uint64_t gen;                  /* changes whenever the set does; never 0 */
	uint64_t mark;                 /* the last match call's number */
	size_t count;                  /* (owner, pattern) pairs */
	size_t nodes;
};

/*
 * patterns_fn - called once per owner with a matching pattern. Returns 0
 * to go on, non-zero to stop the match. It must not change the set nor
 * start another match on it.
 */
typedef int (*patterns_fn)(void *ctx, struct pat_owner *o);

/* patterns_init - an empty set; seed keys the token hash (random per worker). */
void patterns_init(struct patterns *p, uint64_t seed);

/*
 * patterns_add - owner o holds pattern (a valid subscription topic, see
 * proto/topic.h; exact topics are allowed too). Returns 1 if new, 0 if o
 * held it already, -1 with errno EINVAL (bad or longer than
 * PATTERNS_MAX_LEN) or ENOMEM, the set unchanged.
 */
int patterns_add(struct patterns *p, const char *pattern, size_t len,
    struct pat_owner *o);

/* patterns_remove - o no longer holds pattern. Returns 1 if it did, else 0. */
int patterns_remove(struct patterns *p, const char *pattern, size_t len,
    struct pat_owner *o);

/* patterns_drop - o no longer holds any pattern (its connection closes). */
void patterns_drop(struct patterns *p, struct pat_owner *o);

/*
 * patterns_match - call fn once for each owner holding at least one
 * pattern that matches topic (a published topic: proto/topic.h's
 * topic_check_publish accepts it). Returns the number of owners reported.
 */
size_t patterns_match(struct patterns *p, const char *topic, size_t len,
    patterns_fn fn, void *ctx);

/* patterns_free - drop every pattern of every owner and free the trie. */
void patterns_free(struct patterns *p);

/* patterns_count - (owner, pattern) pairs held. */
static inline size_t
patterns_count(const struct patterns *p)
{
	return p->count;
}

/*
 * patterns_gen - a number that changes whenever a pattern is added or
 * removed; a match result cached with it stays right while it is equal.
 * Never 0, so a zeroed cache entry is never taken for valid.
 */
static inline uint64_t
patterns_gen(const struct patterns *p)
{
	return p->gen;
}

/* patterns_nodes - trie nodes allocated (0 when the set is empty). */
static inline size_t
patterns_nodes(const struct patterns *p)
{
	return p->nodes;
}

/* patterns_owned - how many patterns o holds (it counts against the subscription limit). */
static inline uint32_t
patterns_owned(const struct pat_owner *o)
{
	return o->refs.n;
}

#endif
