/*
 * proto/topic.h - the syntax of topics and subscription patterns
 * (PROTOCOL.md Part 4).
 *
 * Owns: splitting a topic into tokens at '.', the checks that decide
 * bad_topic for a published topic and for a subscription (or
 * unsubscription) topic, and matching one pattern against one topic.
 * Pure functions on the caller's bytes: no allocation, no state. Must not
 * know about connections, workers or the shared table; length limits
 * and control bytes are proto/request.c's.
 *
 * What Part 4 says, and how each clause is read here:
 * - Tokens are the bytes between dots; a name without dots is one token.
 *   Every token must be non-empty: "a..b", ".a", "a." and "" are refused
 *   both for publishing and for subscribing.
 * - A token that is exactly "*" or ">" is a wildcard. Publishing to a topic
 *   with a wildcard token is refused; that includes the one-token topics
 *   "*" and ">".
 * - In a subscription a wildcard must be a whole token, so a token of two
 *   or more bytes that contains '*' or '>' ("a*", "x>y") is refused, and
 *   '>' must be the last token ("a.>.c", ">.a" are refused).
 * - For publishing, Part 4 refuses only wildcard tokens and empty tokens,
 *   so '*' and '>' inside a longer token ("a*b", "x>") are plain bytes and
 *   such a topic may be published to. Nobody can subscribe to it exactly
 *   (that subscription is refused); a pattern such as "*" or ">" reaches it.
 */
#ifndef JANUSD_PROTO_TOPIC_H
#define JANUSD_PROTO_TOPIC_H

#include <stddef.h>
#include <string.h>

enum topic_kind {
	TOPIC_BAD = 0,     /* *why says what is wrong (a bad_topic text) */
	TOPIC_EXACT,       /* no wildcard token: one topic */
	TOPIC_PATTERN      /* at least one "*" or ">" token */
};

enum topic_tok_kind {
	TOK_LITERAL = 0,
	TOK_STAR,          /* "*": exactly one token */
	TOK_GT             /* ">": one or more tokens, last only */
};

/* Walks the tokens of one name. Fields are private. */
struct topic_iter {
	const char *p;     /* start of the next token; NULL after the last */
	const char *end;
};

struct topic_tok {
	const char *p;
	size_t len;
};

/* topic_iter_init - start walking the tokens of name (len bytes). */
static inline void
topic_iter_init(struct topic_iter *it, const char *name, size_t len)
{
	it->p = name != NULL ? name : "";
	it->end = it->p + len;
}

/*
 * topic_next - the next token into *t; 1, or 0 after the last one. A name
 * of n dots has n + 1 tokens, empty ones included.
 */
static inline int
topic_next(struct topic_iter *it, struct topic_tok *t)
{
	const char *dot;

	if (it->p == NULL)
		return 0;
	t->p = it->p;
	dot = memchr(it->p, '.', (size_t)(it->end - it->p));
	if (dot == NULL) {
		t->len = (size_t)(it->end - it->p);
		it->p = NULL;
	} else {
		t->len = (size_t)(dot - it->p);
		it->p = dot + 1;
	}
	return 1;
}

/* topic_more - whether topic_next has another token to give. */
static inline int
topic_more(const struct topic_iter *it)
{
	return it->p != NULL;
}

/* topic_tok_kind - whether a token is a wildcard, and which. */
static inline enum topic_tok_kind
topic_tok_kind(const struct topic_tok *t)
{
	if (t->len != 1)
		return TOK_LITERAL;
	return t->p[0] == '*' ? TOK_STAR : t->p[0] == '>' ? TOK_GT : TOK_LITERAL;
}

/*
 * topic_check_publish - whether name may be published to: 0, or -1 with
 * *why set to a static bad_topic text.
 */
int topic_check_publish(const char *name, size_t len, const char **why);

/*
 * topic_check_pattern - what a subscribe or unsubscribe topic is: an exact
 * topic, a pattern, or TOPIC_BAD with *why set to a static bad_topic text.
 */
enum topic_kind topic_check_pattern(const char *name, size_t len,
    const char **why);

/*
 * topic_match - whether a valid pattern (or exact topic) matches a
 * published topic. Linear in the two lengths; the reference the trie of
 * worker/patterns.c is tested against, and the filter for replaying the
 * ring to one pattern.
 */
int topic_match(const char *pattern, size_t plen, const char *topic,
    size_t tlen);

#endif
