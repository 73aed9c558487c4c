/*
 * t/part4.h - the matching table of PROTOCOL.md Part 4, for the tests of
 * the one-pattern matcher (t/topic_syntax) and of the trie
 * (t/patterns_trie), so both are held to the same rows.
 *
 * Owns: the rows only. Every pattern is a valid subscription topic and
 * every topic a valid published topic.
 */
#ifndef JANUSD_T_PART4_H
#define JANUSD_T_PART4_H

struct part4_row {
	const char *pattern;
	const char *topic;
	int match;
	const char *why;       /* the rule the row shows */
};

static const struct part4_row part4_rows[] = {
	{ "a.*.c", "a.b.c", 1, "* is one token" },
	{ "a.*.c", "a.c", 0, "* is exactly one token, not zero" },
	{ "a.*.c", "a.b.x.c", 0, "* is exactly one token, not two" },
	{ "a.*", "a.b", 1, "* as the last token" },
	{ "a.*", "a", 0, "a.* needs a second token" },
	{ "a.*", "a.b.c", 0, "a.* does not reach a third token" },
	{ "*", "a", 1, "* alone matches a one-token topic" },
	{ "*", "a.b", 0, "* alone does not match two tokens" },
	{ "*.*", "a.b", 1, "two stars, two tokens" },
	{ "*.*", "a.b.c", 0, "two stars, three tokens" },
	{ "*.b.*", "a.b.c", 1, "stars around a literal" },
	{ "*.b.*", "a.x.c", 0, "the literal between stars must match" },
	{ "a.>", "a.b", 1, "> is one token" },
	{ "a.>", "a.b.c.d", 1, "> is several tokens" },
	{ "a.>", "a", 0, "a.> does not match a" },
	{ "a.>", "b.c", 0, "a.> needs the prefix a" },
	{ "a.>", "ab.c", 0, "a token is compared whole, not as a prefix" },
	{ ">", "a", 1, "> alone matches one token" },
	{ ">", "a.b.c", 1, "> alone matches every topic" },
	{ "*.>", "a", 0, "*.> needs two tokens" },
	{ "*.>", "a.b", 1, "*.> with two tokens" },
	{ "a.*.>", "a.b.c", 1, "star then >" },
	{ "a.*.>", "a.b", 0, "star then > needs three tokens" },
	{ "orders.*.created", "orders.42.created", 1, "the issue's example" },
	{ "orders.*.created", "orders.42.shipped", 0, "the issue's example, other event" },
	{ "prices.>", "prices.eur.usd", 1, "the issue's other example" },
	{ "prices.>", "prices", 0, "prices.> does not match prices" },
	{ "events", "events", 1, "a topic without dots as before" },
	{ "events", "event", 0, "exact topics compare whole (shorter)" },
	{ "event", "events", 0, "exact topics compare whole (longer)" },
	{ "a.b", "a.b", 1, "an exact dotted topic" },
	{ "a.b", "a.bc", 0, "an exact dotted topic, last token longer" },
	{ "a.b", "a.b.c", 0, "an exact topic does not match a longer one" },
	{ "a.b.c", "a.b", 0, "an exact topic does not match a shorter one" },
	{ "A.*", "a.b", 0, "tokens are case-sensitive" },
	{ "*", "a*b", 1, "* reaches a published topic with * inside a token" },
	{ ">", "x>", 1, "> reaches a published topic with > inside a token" },
	{ "a.*", "a.**", 1, "** is a literal token when published" },
};

#define PART4_NROWS (sizeof(part4_rows) / sizeof(part4_rows[0]))

#endif
