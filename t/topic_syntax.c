/*
 * t/topic_syntax.c - unit test for proto/topic.c, the topic syntax of
 * PROTOCOL.md Part 4.
 *
 * Owns: splitting into tokens (empty tokens included), which published
 * topics get bad_topic and with which text, which subscription topics are
 * exact, patterns or bad, and the one-pattern matcher against the Part 4
 * table (t/part4.h). Every name is checked from an exactly sized malloc'd
 * copy without a NUL, so ASan catches a read past its length.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/topic.h"
#include "t/part4.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A name's bad_topic texts, by the rule broken. */
#define T_EMPTY    "empty topic"
#define T_EMPTYTOK "empty token in topic (a..b, .a and a. are not topics)"
#define T_PUBWC    "cannot publish to a wildcard: a token is * or >"
#define T_PARTWC   "a wildcard must be a whole token (a.*.c, a.>; not a*)"
#define T_GTLAST   "the wildcard > must be the last token"

struct scase {
	const char *name;
	const char *why;       /* NULL: accepted */
};

struct pcase {
	const char *name;
	enum topic_kind kind;
	const char *why;
};

static const struct scase publish_cases[] = {
	{ "events", NULL },
	{ "a.b.c", NULL },
	{ "a*b", NULL },
	{ "x>", NULL },
	{ "*a", NULL },
	{ ">>", NULL },
	{ "a.**.b", NULL },
	{ "a.b*", NULL },
	{ "-", NULL },
	{ "*", T_PUBWC },
	{ ">", T_PUBWC },
	{ "a.*", T_PUBWC },
	{ "a.>", T_PUBWC },
	{ "*.a", T_PUBWC },
	{ ">.a", T_PUBWC },
	{ "a.*.b", T_PUBWC },
	{ "a..b", T_EMPTYTOK },
	{ ".a", T_EMPTYTOK },
	{ "a.", T_EMPTYTOK },
	{ ".", T_EMPTYTOK },
	{ "..", T_EMPTYTOK },
	{ "", T_EMPTY },
};

static const struct pcase pattern_cases[] = {
	{ "events", TOPIC_EXACT, NULL },
	{ "a.b.c", TOPIC_EXACT, NULL },
	{ "-", TOPIC_EXACT, NULL },
	{ "*", TOPIC_PATTERN, NULL },
	{ ">", TOPIC_PATTERN, NULL },
	{ "a.*", TOPIC_PATTERN, NULL },
	{ "a.>", TOPIC_PATTERN, NULL },
	{ "*.a", TOPIC_PATTERN, NULL },
	{ "a.*.c", TOPIC_PATTERN, NULL },
	{ "*.*", TOPIC_PATTERN, NULL },
	{ "*.>", TOPIC_PATTERN, NULL },
	{ "a*", TOPIC_BAD, T_PARTWC },
	{ "*a", TOPIC_BAD, T_PARTWC },
	{ "a*b", TOPIC_BAD, T_PARTWC },
	{ "a.b*", TOPIC_BAD, T_PARTWC },
	{ "x>y", TOPIC_BAD, T_PARTWC },
	{ "**", TOPIC_BAD, T_PARTWC },
	{ ">>", TOPIC_BAD, T_PARTWC },
	{ "a.>.c", TOPIC_BAD, T_GTLAST },
	{ ">.a", TOPIC_BAD, T_GTLAST },
	{ ">.>", TOPIC_BAD, T_GTLAST },
	{ "a..b", TOPIC_BAD, T_EMPTYTOK },
	{ ".a", TOPIC_BAD, T_EMPTYTOK },
	{ "a.", TOPIC_BAD, T_EMPTYTOK },
	{ "a.>.", TOPIC_BAD, T_GTLAST },
	{ "a.*.", TOPIC_BAD, T_EMPTYTOK },
	{ ".", TOPIC_BAD, T_EMPTYTOK },
	{ "", TOPIC_BAD, T_EMPTY },
};

/* copy - name in an exactly sized buffer with no NUL (one byte for ""). */
static char *
copy(const char *name, size_t *len)
{
	char *p;

	*len = strlen(name);
	if ((p = malloc(*len ? *len : 1)) == NULL)
		tap_bail("out of memory");
	memcpy(p, name, *len);
	return p;
}

/* same - whether a check's text is the one expected (NULL: none). */
static int
same(const char *got, const char *want)
{
	return want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
}

/* tokens - name's tokens joined by '|', as topic_next hands them out. */
static void
tokens(const char *name, char *out, size_t cap)
{
	struct topic_iter it;
	struct topic_tok t;
	size_t len, n = 0;
	char *p = copy(name, &len);
	int first = 1;

	out[0] = '\0';
	topic_iter_init(&it, p, len);
	while (topic_next(&it, &t) && n + t.len + 2 < cap) {
		if (!first)
			out[n++] = '|';
		first = 0;
		memcpy(out + n, t.p, t.len);
		n += t.len;
		out[n] = '\0';
	}
	free(p);
}

static void
test_tokens(void)
{
	static const struct scase cases[] = {
		{ "abc", "abc" }, { "a.b.c", "a|b|c" }, { "a..b", "a||b" },
		{ ".a", "|a" }, { "a.", "a|" }, { ".", "|" }, { "", "" },
		{ "*.>", "*|>" },
	};
	struct topic_iter it;
	struct topic_tok t;
	char got[64];
	size_t i;
	int n;

	for (i = 0; i < NELEM(cases); i++) {
		tokens(cases[i].name, got, sizeof(got));
		tap_is_str(got, cases[i].why, "tokens of '%s'", cases[i].name);
	}
	topic_iter_init(&it, "a..", 3);
	for (n = 0; topic_next(&it, &t); n++)
		;
	tap_is_int(n, 3, "'a..' has three tokens, two of them empty");
	topic_iter_init(&it, NULL, 0);
	tap_ok(topic_next(&it, &t) && t.len == 0 && !topic_next(&it, &t),
	    "no name at all is one empty token");
}

static void
test_publish(void)
{
	const struct scase *c;
	const char *why;
	size_t i, len;
	char *p;
	int rc;

	for (i = 0; i < NELEM(publish_cases); i++) {
		c = &publish_cases[i];
		p = copy(c->name, &len);
		rc = topic_check_publish(p, len, &why);
		if (!tap_ok(rc == (c->why ? -1 : 0) && same(why, c->why), "publish to '%s': %s",
		    c->name, c->why ? c->why : "allowed"))
			tap_diag("  got %d, %s", rc, why ? why : "no text");
		free(p);
	}
}

static const char *
kind_name(enum topic_kind k)
{
	return k == TOPIC_EXACT ? "exact" : k == TOPIC_PATTERN ? "pattern" : "bad";
}

static void
test_patterns(void)
{
	const struct pcase *c;
	enum topic_kind k;
	const char *why;
	size_t i, len;
	char *p;

	for (i = 0; i < NELEM(pattern_cases); i++) {
		c = &pattern_cases[i];
		p = copy(c->name, &len);
		k = topic_check_pattern(p, len, &why);
		if (!tap_ok(k == c->kind && same(why, c->why), "subscribe to '%s': %s%s%s",
		    c->name, kind_name(c->kind), c->why ? ", " : "", c->why ? c->why : ""))
			tap_diag("  got %s, %s", kind_name(k), why ? why : "no text");
		free(p);
	}
}

/* test_table - the one-pattern matcher against Part 4's rows. */
static void
test_table(void)
{
	const struct part4_row *r;
	size_t i, plen, tlen;
	const char *why;
	char *p, *t;

	for (i = 0; i < PART4_NROWS; i++) {
		r = &part4_rows[i];
		p = copy(r->pattern, &plen);
		t = copy(r->topic, &tlen);
		tap_ok(topic_check_pattern(p, plen, &why) != TOPIC_BAD &&
		    topic_check_publish(t, tlen, &why) == 0 &&
		    topic_match(p, plen, t, tlen) == r->match,
		    "'%s' %s '%s': %s", r->pattern, r->match ? "matches" : "does not match",
		    r->topic, r->why);
		free(p);
		free(t);
	}
}

/* test_long - a 255-byte name of 128 one-byte tokens, and a 255-byte token. */
static void
test_long(void)
{
	char name[255], pat[255];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(name); i++)
		name[i] = i % 2 ? '.' : 'a';
	memcpy(pat, name, sizeof(pat));
	pat[sizeof(pat) - 1] = '>';
	tap_ok(topic_check_publish(name, sizeof(name), &why) == 0,
	    "128 one-byte tokens may be published to");
	tap_is_int(topic_check_pattern(pat, sizeof(pat), &why), TOPIC_PATTERN,
	    "127 tokens then > is a pattern");
	tap_ok(topic_match(pat, sizeof(pat), name, sizeof(name)), "and matches them");
	tap_ok(!topic_match(pat, sizeof(pat), name, sizeof(name) - 2),
	    "but not the topic one token shorter");
	memset(name, 'x', sizeof(name));
	tap_ok(topic_check_publish(name, sizeof(name), &why) == 0 &&
	    topic_check_pattern(name, sizeof(name), &why) == TOPIC_EXACT,
	    "one 255-byte token is an exact topic");
}

int
main(void)
{
	tap_plan(8 + 2 + (int)NELEM(publish_cases) + (int)NELEM(pattern_cases) +
	    (int)PART4_NROWS + 5);
	test_tokens();
	test_publish();
	test_patterns();
	test_table();
	test_long();
	return tap_done();
}
