/*
 * proto/topic.c - the syntax of topics and subscription patterns
 * (PROTOCOL.md Part 4); proto/topic.h says how each clause is read.
 *
 * Owns: the bad_topic texts of Part 4 and the one-pattern matcher. Each
 * check is one pass over the name, whatever it holds.
 */
#include "config.h"

#include "proto/topic.h"

#define WHY_EMPTY      "empty topic"
#define WHY_EMPTY_TOK  "empty token in topic (a..b, .a and a. are not topics)"
#define WHY_PUBLISH_WC "cannot publish to a wildcard: a token is * or >"
#define WHY_PART_WC    "a wildcard must be a whole token (a.*.c, a.>; not a*)"
#define WHY_GT_LAST    "the wildcard > must be the last token"

/* topic_tok_has_wildcard - whether a literal token holds a '*' or '>' byte. */
static int
topic_tok_has_wildcard(const struct topic_tok *t)
{
	return memchr(t->p, '*', t->len) != NULL || memchr(t->p, '>', t->len) != NULL;
}

int
topic_check_publish(const char *name, size_t len, const char **why)
{
	struct topic_iter it;
	struct topic_tok t;

	*why = NULL;
	if (len == 0)
		*why = WHY_EMPTY;
	topic_iter_init(&it, name, len);
	while (*why == NULL && topic_next(&it, &t)) {
		if (t.len == 0)
			*why = WHY_EMPTY_TOK;
		else if (topic_tok_kind(&t) != TOK_LITERAL)
			*why = WHY_PUBLISH_WC;
	}
	return *why == NULL ? 0 : -1;
}

enum topic_kind
topic_check_pattern(const char *name, size_t len, const char **why)
{
	struct topic_iter it;
	struct topic_tok t;
	enum topic_kind kind = TOPIC_EXACT;

	*why = NULL;
	if (len == 0)
		*why = WHY_EMPTY;
	topic_iter_init(&it, name, len);
	while (*why == NULL && topic_next(&it, &t)) {
		if (t.len == 0)
			*why = WHY_EMPTY_TOK;
		else if (topic_tok_kind(&t) == TOK_GT && topic_more(&it))
			*why = WHY_GT_LAST;
		else if (topic_tok_kind(&t) != TOK_LITERAL)
			kind = TOPIC_PATTERN;
		else if (topic_tok_has_wildcard(&t))
			*why = WHY_PART_WC;
	}
	return *why == NULL ? kind : TOPIC_BAD;
}

int
topic_match(const char *pattern, size_t plen, const char *topic, size_t tlen)
{
	struct topic_iter pi, ti;
	struct topic_tok pt, tt;

	topic_iter_init(&pi, pattern, plen);
	topic_iter_init(&ti, topic, tlen);
	while (topic_next(&pi, &pt)) {
		if (topic_tok_kind(&pt) == TOK_GT)
			return topic_more(&ti);
		if (!topic_next(&ti, &tt))
			return 0;
		if (topic_tok_kind(&pt) == TOK_STAR)
			continue;
		if (pt.len != tt.len || memcmp(pt.p, tt.p, pt.len) != 0)
			return 0;
	}
	return !topic_more(&ti);
}
