/*
 * t/fuzz/patterns.c - libFuzzer harness for worker/patterns.c, the
 * wildcard trie, against proto/topic.c's topic_match.
 *
 * Owns: running a sequence of operations drawn from the input on one
 * trie and a plain model (each owner's list of patterns): adding a
 * pattern (a refused one exactly when topic_check_pattern refuses it,
 * "new" exactly when the owner did not hold it), removing one,
 * dropping an owner, and matching a topic. A match must report each
 * owner at most once, and exactly the owners holding a pattern that
 * topic_match says matches; the pair count must be the model's, and an
 * empty set must hold no node. Names are made of a few short tokens
 * ("a", "b", "ab", "*", ">", and an empty one now and then), so that
 * patterns overlap and match often. The trie is freed at the end (leaks
 * are findings).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "proto/topic.h"
#include "t/fuzz/fuzz.h"
#include "worker/patterns.h"

#define OWNERS  8
#define HELD    32      /* patterns per owner in the model */
#define NAMELEN 64

static const char *const tokens[] = { "a", "b", "ab", "*", ">", "" };

/* The model: what each owner holds. */
struct model {
	char name[OWNERS][HELD][NAMELEN];
	size_t len[OWNERS][HELD];
	unsigned n[OWNERS];
};

/* The input, read a byte at a time (zeros past its end). */
struct in {
	const uint8_t *p;
	size_t n, at;
};

static uint8_t
in_byte(struct in *in)
{
	return in->at < in->n ? in->p[in->at++] : 0;
}

/* in_name - 1 to 4 tokens joined by dots; wildcards only if wild. Its length. */
static size_t
in_name(struct in *in, char *name, int wild)
{
	unsigned ntok = 1 + in_byte(in) % 4, i;
	size_t len = 0, t;
	uint8_t b;

	for (i = 0; i < ntok; i++) {
		b = in_byte(in);
		t = wild ? b % 6u : b % 3u;
		if (!wild && b >= 250)
			t = 5;             /* now and then an empty token in a topic too */
		if (i > 0)
			name[len++] = '.';
		memcpy(name + len, tokens[t], strlen(tokens[t]));
		len += strlen(tokens[t]);
	}
	return len;
}

/* model_find - the index of name among o's patterns, or -1. */
static int
model_find(const struct model *m, unsigned o, const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < m->n[o]; i++)
		if (m->len[o][i] == len && memcmp(m->name[o][i], name, len) == 0)
			return (int)i;
	return -1;
}

/* What a match reported. */
struct seen {
	struct pat_owner *owners;
	unsigned times[OWNERS];
	unsigned calls;
};

static int
seen_owner(void *ctx, struct pat_owner *o)
{
	struct seen *s = ctx;
	long i = o - s->owners;

	FUZZ_CHECK(i >= 0 && i < OWNERS, "reported an owner that is none of ours");
	s->times[i]++;
	s->calls++;
	return 0;
}

/* check_match - the trie's owners for topic are the model's. */
static void
check_match(struct patterns *p, struct pat_owner *owners, const struct model *m, const char *topic,
    size_t len)
{
	struct seen s;
	size_t n;
	unsigned o, i;
	int want;
	const char *why;

	if (topic_check_publish(topic, len, &why) < 0)
		return;
	memset(&s, 0, sizeof(s));
	s.owners = owners;
	n = patterns_match(p, topic, len, seen_owner, &s);
	FUZZ_CHECK(n == s.calls, "match returned %zu after %u calls", n, s.calls);
	for (o = 0; o < OWNERS; o++) {
		for (want = 0, i = 0; i < m->n[o] && !want; i++)
			want = topic_match(m->name[o][i], m->len[o][i], topic, len);
		FUZZ_CHECK(s.times[o] == (unsigned)want, "owner %u reported %u times for %.*s; topic_match says %d",
		    o, s.times[o], (int)len, topic, want);
	}
}

/* check_count - the trie holds as many pairs as the model, per owner too, and no node when empty. */
static void
check_count(const struct patterns *p, const struct pat_owner *owners, const struct model *m)
{
	size_t pairs = 0;
	unsigned o;

	for (o = 0; o < OWNERS; o++) {
		pairs += m->n[o];
		FUZZ_CHECK(patterns_owned(&owners[o]) == m->n[o], "owner %u holds %u patterns, the model %u", o,
		    patterns_owned(&owners[o]), m->n[o]);
	}
	FUZZ_CHECK(patterns_count(p) == pairs, "%zu pairs held, the model has %zu", patterns_count(p), pairs);
	FUZZ_CHECK(pairs > 0 || patterns_nodes(p) == 0, "%zu nodes left in an empty set", patterns_nodes(p));
}

/* add - o adds name; the trie and the model agree on whether it is bad or new. */
static void
add(struct patterns *p, struct pat_owner *owners, struct model *m, unsigned o, const char *name, size_t len)
{
	const char *why;
	int bad = topic_check_pattern(name, len, &why) == TOPIC_BAD, had = model_find(m, o, name, len) >= 0;
	int r = patterns_add(p, name, len, &owners[o]);

	if (bad) {
		FUZZ_CHECK(r == -1 && errno == EINVAL, "added the bad pattern %.*s (%d)", (int)len, name, r);
		return;
	}
	if (r == -1 && errno == ENOMEM)
		return;
	FUZZ_CHECK(r == !had, "adding %.*s to owner %u gave %d, it %s it", (int)len, name, o, r,
	    had ? "held" : "did not hold");
	if (r == 1) {
		FUZZ_CHECK(m->n[o] < HELD, "the model is full");
		memcpy(m->name[o][m->n[o]], name, len);
		m->len[o][m->n[o]++] = len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct pat_owner owners[OWNERS];
	struct patterns p;
	struct in in = { data, size, 0 };
	char name[NAMELEN];
	size_t len;
	uint8_t op;
	unsigned o;
	int i;

	memset(&m, 0, sizeof(m));
	memset(owners, 0, sizeof(owners));
	patterns_init(&p, size > 8 ? (uint64_t)data[0] << 8 | data[1] : 1);
	while (in.at < in.n) {
		op = in_byte(&in);
		o = (op >> 3) % OWNERS;
		switch (op & 7) {
		case 0: case 1: case 2:
			len = in_name(&in, name, 1);
			if (m.n[o] < HELD)
				add(&p, owners, &m, o, name, len);
			break;
		case 3:
			/* remove one it holds, or (a byte says) any name */
			if (m.n[o] > 0 && !(in_byte(&in) & 1)) {
				i = in_byte(&in) % (int)m.n[o];
				FUZZ_CHECK(patterns_remove(&p, m.name[o][i], m.len[o][i], &owners[o]) == 1,
				    "removing a pattern owner %u holds failed", o);
				m.n[o]--;
				memmove(m.name[o][i], m.name[o][m.n[o]], NAMELEN);
				m.len[o][i] = m.len[o][m.n[o]];
			} else {
				len = in_name(&in, name, 1);
				i = model_find(&m, o, name, len);
				FUZZ_CHECK(patterns_remove(&p, name, len, &owners[o]) == (i >= 0),
				    "removing %.*s from owner %u: it %s it", (int)len, name, o, i >= 0 ? "held" : "did not hold");
				if (i >= 0) {
					m.n[o]--;
					memmove(m.name[o][i], m.name[o][m.n[o]], NAMELEN);
					m.len[o][i] = m.len[o][m.n[o]];
				}
			}
			break;
		case 4:
			patterns_drop(&p, &owners[o]);
			m.n[o] = 0;
			break;
		default:
			len = in_name(&in, name, 0);
			check_match(&p, owners, &m, name, len);
			break;
		}
		check_count(&p, owners, &m);
	}
	patterns_free(&p);
	for (o = 0; o < OWNERS; o++)
		FUZZ_CHECK(patterns_owned(&owners[o]) == 0, "owner %u holds patterns after the set was freed", o);
	return 0;
}
