/*
 * t/subject_map.c - unit test for proto/subject.c, topics as NATS subjects.
 *
 * Owns: the examples of the scheme in subject.h, exactly; round trips of
 * every byte value in a token and of many generated topics; that every
 * subject is made of literal NATS tokens; injectivity (all short topics
 * over a tricky alphabet, and generated ones, sorted by subject); that
 * decoding takes only what encoding makes (each hand-made non-canonical
 * spelling, and decode-then-encode over generated subjects); prefix
 * checks; length limits at their edges; and that each pattern's NATS
 * subject matches, by nats-server's matching rules, exactly the subjects
 * of the topics the pattern matches by PROTOCOL.md Part 4. Inputs are
 * fed from exactly sized malloc'd copies so ASan catches reads past them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "proto/subject.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1
#define TOPIC_MAX 64

static struct subject_map map;

/* A topic and its subject. */
struct pair {
	char topic[TOPIC_MAX];
	size_t tlen;
	char subject[SUBJECT_MAX];
	size_t slen;
};

/* rng - a fixed-seed generator, so every run tests the same inputs. */
static uint32_t
rng(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* encode_copy - subject_encode from an exactly sized heap copy of the topic. */
static enum subject_err
encode_copy(const char *topic, size_t len, int pattern, char *dst, size_t cap,
    size_t *out)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum subject_err err;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, topic, len);
	err = pattern ? subject_encode_pattern(&map, copy, len, dst, cap, out) :
	    subject_encode(&map, copy, len, dst, cap, out);
	free(copy);
	return err;
}

/* decode_copy - subject_decode from an exactly sized heap copy. */
static enum subject_err
decode_copy(const char *subject, size_t len, char *dst, size_t cap, size_t *out)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum subject_err err;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, subject, len);
	err = subject_decode(&map, copy, len, dst, cap, out);
	free(copy);
	return err;
}

/* literal_subject - every token non-empty, only printable ASCII but . * >. */
static int
literal_subject(const char *s, size_t n)
{
	size_t i, tok = 0;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '.') {
			if (tok == 0)
				return 0;
			tok = 0;
			continue;
		}
		if (ch < 0x21 || ch > 0x7e || ch == '*' || ch == '>')
			return 0;
		tok++;
	}
	return tok > 0;
}

/* count_dots - how many '.' in s: tokens - 1. */
static size_t
count_dots(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += s[i] == '.';
	return k;
}

/*
 * round_trip - encode, check the subject is literal with as many tokens,
 * decode, compare. 1 if all is well; else a diagnostic.
 */
static int
round_trip(const char *topic, size_t len, struct pair *out)
{
	char back[SUBJECT_MAX];
	size_t blen;
	enum subject_err err;

	if (len > TOPIC_MAX)
		tap_bail("topic too long for the test");
	err = encode_copy(topic, len, 0, out->subject, sizeof(out->subject), &out->slen);
	if (err != SUBJECT_OK) {
		tap_diag("encode: %s", subject_strerror(err));
		return 0;
	}
	memcpy(out->topic, topic, len);
	out->tlen = len;
	if (!literal_subject(out->subject, out->slen) ||
	    count_dots(out->subject, out->slen) != count_dots(topic, len) + 1) {
		tap_diag("subject '%.*s' is not literal or has other tokens",
		    (int)out->slen, out->subject);
		return 0;
	}
	err = decode_copy(out->subject, out->slen, back, sizeof(back), &blen);
	if (err != SUBJECT_OK || blen != len || memcmp(back, topic, len) != 0) {
		tap_diag("decode of '%.*s': %s", (int)out->slen, out->subject,
		    subject_strerror(err));
		return 0;
	}
	return 1;
}

/* test_prefix - what cluster_prefix may be. */
static void
test_prefix(void)
{
	static const char *const good[] = { "janus.", "prod.janus.", "a~b.", "_x.$y." };
	static const char *const bad[] = {
		"", "janus", ".", "a..", ".a.", "$SYS.", "a b.", "a*.", "a>.", "*.",
		">.", "caf\xc3\xa9.", "a\tb.",
	};
	char big[SUBJECT_PREFIX_MAX + 2];
	struct subject_map m;
	size_t i, k;

	for (i = 0, k = 0; i < NELEM(good); i++)
		k += subject_map_init(&m, good[i], strlen(good[i])) == SUBJECT_OK;
	tap_is_int((long long)k, (long long)NELEM(good), "good prefixes are taken");
	for (i = 0, k = 0; i < NELEM(bad); i++) {
		if (subject_map_init(&m, bad[i], strlen(bad[i])) == SUBJECT_E_PREFIX &&
		    m.len == 0)
			k++;
		else
			tap_diag("prefix '%s' was taken", bad[i]);
	}
	tap_is_int((long long)k, (long long)NELEM(bad), "bad prefixes are refused");
	memset(big, 'p', sizeof(big));
	big[SUBJECT_PREFIX_MAX - 1] = '.';
	tap_is_int(subject_map_init(&m, big, SUBJECT_PREFIX_MAX), SUBJECT_OK,
	    "a prefix of SUBJECT_PREFIX_MAX bytes");
	big[SUBJECT_PREFIX_MAX - 1] = 'p';
	big[SUBJECT_PREFIX_MAX] = '.';
	tap_is_int(subject_map_init(&m, big, SUBJECT_PREFIX_MAX + 1), SUBJECT_E_PREFIX,
	    "one byte more: refused");
}

/* The examples of subject.h and a few more, exactly. */
static const struct {
	const char *topic;
	size_t tlen;
	const char *subject;
} examples[] = {
	{ S("orders"), "janus.orders" },
	{ S("a b"), "janus.~a~20b" },
	{ S(""), "janus.~" },
	{ S("~x"), "janus.~~7Ex" },
	{ S("*"), "janus.~~2A" },
	{ S("a*"), "janus.~a~2A" },
	{ S(">"), "janus.~~3E" },
	{ S("caf\xc3\xa9"), "janus.~caf~C3~A9" },
	{ S("x~y"), "janus.x~y" },
	{ S("~"), "janus.~~7E" },
	{ S("orders.eu.created"), "janus.orders.eu.created" },
	{ S("a..b"), "janus.a.~.b" },
	{ S(".a"), "janus.~.a" },
	{ S("a."), "janus.a.~" },
	{ S("."), "janus.~.~" },
	{ S("a.b c.d"), "janus.a.~b~20c.d" },
	{ S("\x7f\x01\0"), "janus.~~7F~01~00" },
	{ S("$SYS.x"), "janus.$SYS.x" },
	{ S("_INBOX.~7E"), "janus._INBOX.~~7E7E" },
	{ S("A-Z_0:9/@!#%&'()+,;<=?[]^`{|}\"\\"),
	  "janus.A-Z_0:9/@!#%&'()+,;<=?[]^`{|}\"\\" },
};

/* test_examples - each example's exact subject, and back. */
static void
test_examples(void)
{
	struct pair pr;
	size_t i, k = 0;

	for (i = 0; i < NELEM(examples); i++) {
		if (round_trip(examples[i].topic, examples[i].tlen, &pr) &&
		    pr.slen == strlen(examples[i].subject) &&
		    memcmp(pr.subject, examples[i].subject, pr.slen) == 0)
			k++;
		else
			tap_diag("example %zu: got '%.*s', want '%s'", i,
			    (int)pr.slen, pr.subject, examples[i].subject);
	}
	tap_is_int((long long)k, (long long)NELEM(examples),
	    "the examples encode exactly as documented, and back");
}

/* test_every_byte - each byte value alone, inside a token, and all in one token. */
static void
test_every_byte(void)
{
	char topic[TOPIC_MAX], all[256];
	struct pair pr;
	size_t k = 0, n = 0;
	int b;

	for (b = 0; b < 256; b++) {
		topic[0] = 't';
		topic[1] = '.';
		topic[2] = (char)b;
		topic[3] = '.';
		topic[4] = 'y';
		k += round_trip(topic, 5, &pr);
		memcpy(topic, "a", 1);
		topic[1] = (char)b;
		topic[2] = 'z';
		k += round_trip(topic, 3, &pr);
		topic[0] = (char)b;
		k += round_trip(topic, 1, &pr);
		k += round_trip(topic, 1, &pr) && (b == '.' || pr.slen == 6 +
		    ((b > 0x20 && b < 0x7f && b != '*' && b != '>' && b != '~') ? 1 : 4));
		if (b != '.')
			all[n++] = (char)b;
	}
	tap_is_int((long long)k, 4 * 256,
	    "every byte value round-trips alone, inside a token and between tokens");
	tap_ok(encode_copy(all, n, 0, pr.subject, sizeof(pr.subject), &pr.slen) == SUBJECT_OK &&
	    literal_subject(pr.subject, pr.slen) && count_dots(pr.subject, pr.slen) == 1,
	    "a token of all 255 bytes but '.' is one literal token");
	k = 0;
	if (pr.slen <= sizeof(pr.subject)) {
		char back[SUBJECT_MAX];
		size_t blen;

		k = decode_copy(pr.subject, pr.slen, back, sizeof(back), &blen) == SUBJECT_OK &&
		    blen == n && memcmp(back, all, n) == 0;
	}
	tap_ok((int)k, "and it comes back byte for byte");
}

/* The alphabet of generated topics: the bytes that matter to the scheme. */
static const char tricky[] = "a.~*> 7E\xc3\0";

/* gen_topic - a random topic over tricky (and sometimes any byte), up to max bytes. */
static size_t
gen_topic(char *dst, size_t max)
{
	size_t n = rng() % (max + 1), i;
	uint32_t r;

	for (i = 0; i < n; i++) {
		r = rng();
		dst[i] = r % 8 == 0 ? (char)(r >> 8) : tricky[(r >> 8) % (sizeof(tricky) - 1)];
	}
	return n;
}

/* pair_cmp - order pairs by subject, then by topic. */
static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	size_t n = x->slen < y->slen ? x->slen : y->slen;
	int c = memcmp(x->subject, y->subject, n);

	if (c != 0 || x->slen != y->slen)
		return c != 0 ? c : x->slen < y->slen ? -1 : 1;
	n = x->tlen < y->tlen ? x->tlen : y->tlen;
	c = memcmp(x->topic, y->topic, n);
	return c != 0 ? c : (int)x->tlen - (int)y->tlen;
}

/* injective - sorted by subject, no two different topics share one. */
static int
injective(struct pair *pairs, size_t n, size_t *clashes)
{
	size_t i;

	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	*clashes = 0;
	for (i = 1; i < n; i++) {
		if (pairs[i].slen != pairs[i - 1].slen ||
		    memcmp(pairs[i].subject, pairs[i - 1].subject, pairs[i].slen) != 0)
			continue;
		if (pairs[i].tlen != pairs[i - 1].tlen ||
		    memcmp(pairs[i].topic, pairs[i - 1].topic, pairs[i].tlen) != 0) {
			if (*clashes == 0)
				tap_diag("two topics share '%.*s'", (int)pairs[i].slen,
				    pairs[i].subject);
			(*clashes)++;
		}
	}
	return *clashes == 0;
}

/* test_all_short - every topic of up to 4 bytes over the tricky alphabet. */
static void
test_all_short(void)
{
	size_t a = sizeof(tricky) - 1, total = 1 + a + a * a + a * a * a + a * a * a * a;
	struct pair *pairs = calloc(total, sizeof(*pairs));
	size_t len, i, j, v, n = 0, ok = 0, clashes = 0;
	char topic[4];

	if (pairs == NULL)
		tap_bail("out of memory");
	for (len = 0; len <= 4; len++) {
		size_t count = 1;

		for (j = 0; j < len; j++)
			count *= a;
		for (i = 0; i < count; i++) {
			for (j = 0, v = i; j < len; j++, v /= a)
				topic[j] = tricky[v % a];
			ok += round_trip(topic, len, &pairs[n++]);
		}
	}
	tap_is_int((long long)ok, (long long)total,
	    "all %zu topics of up to 4 bytes over '.~*> 7E\\xc3\\0a' round-trip", total);
	tap_ok(injective(pairs, n, &clashes), "no two of them share a subject (%zu clashes)",
	    clashes);
	free(pairs);
}

/* test_generated - many random topics: round trip and injectivity. */
static void
test_generated(void)
{
	enum { N = 30000 };
	struct pair *pairs = calloc(N, sizeof(*pairs));
	size_t i, ok = 0, clashes = 0;
	char topic[TOPIC_MAX];

	if (pairs == NULL)
		tap_bail("out of memory");
	for (i = 0; i < N; i++)
		ok += round_trip(topic, gen_topic(topic, 40), &pairs[i]);
	tap_is_int((long long)ok, N, "%d generated topics round-trip", N);
	tap_ok(injective(pairs, N, &clashes), "no two of them share a subject (%zu clashes)",
	    clashes);
	free(pairs);
}

/* Subjects decoding must refuse, and why. */
static const struct {
	const char *subject;
	enum subject_err want;
} not_ours[] = {
	{ "janus.~abc", SUBJECT_E_ENCODING },       /* escaped, but needed none */
	{ "janus.~a~7e", SUBJECT_E_ENCODING },      /* lowercase hex */
	{ "janus.~a~41", SUBJECT_E_ENCODING },      /* a safe byte escaped */
	{ "janus.~a~7", SUBJECT_E_ENCODING },       /* escape cut short */
	{ "janus.~a~", SUBJECT_E_ENCODING },
	{ "janus.~a~GG", SUBJECT_E_ENCODING },
	{ "janus.~~2E", SUBJECT_E_ENCODING },       /* a '.' inside a token */
	{ "janus.a..b", SUBJECT_E_ENCODING },       /* an empty token */
	{ "janus.", SUBJECT_E_ENCODING },
	{ "janus.a.", SUBJECT_E_ENCODING },
	{ "janus.a b", SUBJECT_E_ENCODING },
	{ "janus.a*", SUBJECT_E_ENCODING },
	{ "janus.*", SUBJECT_E_ENCODING },
	{ "janus.>", SUBJECT_E_ENCODING },
	{ "janus.~*", SUBJECT_E_ENCODING },
	{ "janus.caf\xc3\xa9", SUBJECT_E_ENCODING },
	{ "janus.~caf\xc3\xa9", SUBJECT_E_ENCODING },
	{ "other.a", SUBJECT_E_FOREIGN },
	{ "janus", SUBJECT_E_FOREIGN },
	{ "Janus.a", SUBJECT_E_FOREIGN },
	{ "", SUBJECT_E_FOREIGN },
};

/* test_strict_decode - the hand-made spellings, then decode-then-encode on random subjects. */
static void
test_strict_decode(void)
{
	static const char alpha[] = "~.aAF07E2*";
	char subj[48], topic[SUBJECT_MAX], again[SUBJECT_MAX];
	size_t i, k = 0, n, tlen, alen, decoded = 0, canonical = 0;
	enum subject_err err;

	for (i = 0; i < NELEM(not_ours); i++) {
		err = decode_copy(not_ours[i].subject, strlen(not_ours[i].subject), topic,
		    sizeof(topic), &tlen);
		if (err == not_ours[i].want)
			k++;
		else
			tap_diag("'%s': got '%s'", not_ours[i].subject, subject_strerror(err));
	}
	tap_is_int((long long)k, (long long)NELEM(not_ours),
	    "subjects no topic encodes to are refused, each for its reason");
	for (i = 0; i < 200000; i++) {
		memcpy(subj, "janus.", 6);
		n = 6 + rng() % 12;
		for (k = 6; k < n; k++)
			subj[k] = alpha[rng() % (sizeof(alpha) - 1)];
		if (decode_copy(subj, n, topic, sizeof(topic), &tlen) != SUBJECT_OK)
			continue;
		decoded++;
		canonical += encode_copy(topic, tlen, 0, again, sizeof(again), &alen) ==
		    SUBJECT_OK && alen == n && memcmp(again, subj, n) == 0;
	}
	tap_ok(decoded > 1000 && canonical == decoded,
	    "every random subject that decodes is the encoding of its topic (%zu of %zu)",
	    canonical, decoded);
}

/* test_lengths - SUBJECT_MAX, the caller's room, the longest topic with the longest prefix. */
static void
test_lengths(void)
{
	static char topic[SUBJECT_MAX + 8], prefix[SUBJECT_PREFIX_MAX], out[SUBJECT_MAX + 8];
	static char back[SUBJECT_MAX];
	struct subject_map saved = map;
	size_t n, blen, cap;

	memset(topic, 0xff, sizeof(topic));
	memset(prefix, 'p', sizeof(prefix));
	prefix[sizeof(prefix) - 1] = '.';
	if (subject_map_init(&map, prefix, sizeof(prefix)) != SUBJECT_OK)
		tap_bail("prefix of SUBJECT_PREFIX_MAX bytes refused");
	n = 0;
	tap_ok(encode_copy(topic, CONF_TOPIC_MAX, 0, out, sizeof(out), &n) == SUBJECT_OK &&
	    n == SUBJECT_PREFIX_MAX + 1 + 3 * CONF_TOPIC_MAX,
	    "the longest prefix and a longest topic of bytes that all need escapes fit");
	tap_ok(decode_copy(out, n, back, sizeof(back), &blen) == SUBJECT_OK &&
	    blen == CONF_TOPIC_MAX && memcmp(back, topic, blen) == 0, "and decode");
	tap_is_int(decode_copy(out, n, back, CONF_TOPIC_MAX - 1, &blen), SUBJECT_E_LONG,
	    "a topic longer than the caller's room: SUBJECT_E_LONG");
	map = saved;
	tap_is_int(encode_copy(topic, 400, 0, out, sizeof(out), &n), SUBJECT_E_LONG,
	    "a 400-byte topic of such bytes is over SUBJECT_MAX: SUBJECT_E_LONG");
	memset(topic, 'x', sizeof(topic));
	tap_is_int(encode_copy(topic, SUBJECT_MAX - 6, 0, out, sizeof(out), &n), SUBJECT_OK,
	    "a subject of exactly SUBJECT_MAX bytes");
	tap_is_int(encode_copy(topic, SUBJECT_MAX - 5, 0, out, sizeof(out), &n),
	    SUBJECT_E_LONG, "one byte more: SUBJECT_E_LONG");
	memcpy(out, "janus.", 6);
	memset(out + 6, 'x', SUBJECT_MAX - 5);
	tap_is_int(decode_copy(out, SUBJECT_MAX + 1, back, sizeof(back), &blen),
	    SUBJECT_E_LONG, "decoding a subject over SUBJECT_MAX: SUBJECT_E_LONG");
	for (cap = 0; cap < sizeof("janus.~a~20b") - 1; cap++)
		if (encode_copy(S("a b"), 0, out, cap, &n) != SUBJECT_E_LONG)
			break;
	tap_is_int((long long)cap, (long long)sizeof("janus.~a~20b") - 1,
	    "every room short of the subject: SUBJECT_E_LONG");
	tap_ok(encode_copy(S("a b"), 0, out, cap, &n) == SUBJECT_OK && n == cap,
	    "exactly enough room");
}

/* --- patterns --- */

/* token - the token of s (n bytes) starting at *pos; advances *pos past its '.'. */
static size_t
token(const char *s, size_t n, size_t *pos, const char **tok)
{
	size_t start = *pos;

	while (*pos < n && s[*pos] != '.')
		(*pos)++;
	*tok = s + start;
	return (*pos)++ - start;
}

/* janus_match - PROTOCOL.md Part 4: '*' one token, '>' one or more (last), whole tokens. */
static int
janus_match(const char *pat, size_t plen, const char *topic, size_t tlen)
{
	size_t pp = 0, tp = 0, pn, tn;
	const char *pt, *tt;

	while (pp <= plen) {
		pn = token(pat, plen, &pp, &pt);
		if (tp > tlen)
			return 0;
		if (pn == 1 && *pt == '>' && pp > plen)
			return 1;
		tn = token(topic, tlen, &tp, &tt);
		if (!(pn == 1 && *pt == '*') && (pn != tn || memcmp(pt, tt, pn) != 0))
			return 0;
	}
	return tp > tlen;
}

/*
 * nats_match - nats-server's rule (server/sublist.go, matchLiteral),
 * written again: walk the literal subject byte by byte against the
 * wildcard subject; a '*' that is a token of its own skips one token,
 * a '>' that is the last token of its own matches the rest.
 */
static int
nats_match(const char *lit, size_t ll, const char *sub, size_t sl)
{
	size_t i, li = 0;

	for (i = 0; i < sl; i++) {
		int own = i == 0 || sub[i - 1] == '.';

		if (li >= ll)
			return 0;
		if (sub[i] == '*' && own && (i == sl - 1 || sub[i + 1] == '.')) {
			while (li < ll && lit[li] != '.')
				li++;
			if (i == sl - 1)
				return li >= ll;
			if (li >= ll)
				return 0;
			i++;
		} else if (sub[i] == '>' && own && i == sl - 1) {
			return 1;
		}
		if (sub[i] != lit[li])
			return 0;
		li++;
	}
	return li >= ll;
}

/* test_pattern_examples - the exact wildcard subjects, and '>' not last. */
static void
test_pattern_examples(void)
{
	static const struct { const char *in; const char *want; } pats[] = {
		{ "orders.*.created", "janus.orders.*.created" },
		{ "prices.>", "janus.prices.>" },
		{ ">", "janus.>" },
		{ "*", "janus.*" },
		{ "*.*", "janus.*.*" },
		{ "a*.>", "janus.~a~2A.>" },
		{ "* b.~", "janus.~~2A~20b.~~7E" },
	};
	char out[SUBJECT_MAX];
	size_t i, k = 0, n;

	for (i = 0; i < NELEM(pats); i++) {
		if (encode_copy(pats[i].in, strlen(pats[i].in), 1, out, sizeof(out), &n) ==
		    SUBJECT_OK && n == strlen(pats[i].want) && memcmp(out, pats[i].want, n) == 0)
			k++;
		else
			tap_diag("pattern '%s': got '%.*s'", pats[i].in, (int)n, out);
	}
	tap_is_int((long long)k, (long long)NELEM(pats), "patterns map to these NATS subjects");
	tap_ok(encode_copy(S("a.>.b"), 1, out, sizeof(out), &n) == SUBJECT_E_PATTERN &&
	    encode_copy(S(">.>"), 1, out, sizeof(out), &n) == SUBJECT_E_PATTERN,
	    "'>' before the last token: SUBJECT_E_PATTERN");
	tap_ok(encode_copy(S("a.>.b"), 0, out, sizeof(out), &n) == SUBJECT_OK,
	    "as a topic it is just escaped");
}

/* check_patterns - every pattern against every topic: the same verdict both ways. */
static void
check_patterns(const char *const *pats, size_t np, const struct pair *topics,
    size_t nt, const char *what)
{
	char ps[SUBJECT_MAX];
	size_t i, j, pl, yes = 0, no = 0, wrong = 0;
	int a, b;

	for (i = 0; i < np; i++) {
		if (encode_copy(pats[i], strlen(pats[i]), 1, ps, sizeof(ps), &pl) != SUBJECT_OK)
			tap_bail("pattern '%s' did not map", pats[i]);
		for (j = 0; j < nt; j++) {
			a = janus_match(pats[i], strlen(pats[i]), topics[j].topic, topics[j].tlen);
			b = nats_match(topics[j].subject, topics[j].slen, ps, pl);
			if (a != b && wrong++ == 0)
				tap_diag("pattern '%s' topic '%.*s': janusd %d, NATS %d",
				    pats[i], (int)topics[j].tlen, topics[j].topic, a, b);
			a ? yes++ : no++;
		}
	}
	tap_ok(wrong == 0 && yes > 0 && no > 0,
	    "%s: each NATS pattern subject matches exactly the subjects of the topics the "
	    "pattern matches (%zu matching, %zu not, %zu wrong)", what, yes, no, wrong);
}

/* test_pattern_matching - the lead's examples on chosen topics, then generated ones. */
static void
test_pattern_matching(void)
{
	static const char *const pats[] = {
		"orders.*.created", "prices.>", "*", ">", "*.*", "a.*", "~.>", "*.~",
		"a b.*", "*.>", "orders.>", "orders.*", "*.*.created", "a*", "~~", "a.~.*",
	};
	static const char *const chosen[] = {
		"orders.eu.created", "orders.us.created", "orders..created",
		"orders.eu.x.created", "orders.~.created", "orders.*.created",
		"orders.eu.created.x", "orders.created", "orders", "prices", "prices.",
		"prices.a", "prices.a.b", "pricesx.a", "prices~.a", "a", "a.b", "a b.c",
		"~", "~.x", "x.~", "a*", "~~", "a.~.z", "a.~~7E.z", "", ".", "*.created",
	};
	enum { NGEN = 3000 };
	struct pair *pairs = calloc(NELEM(chosen) + NGEN, sizeof(*pairs));
	const char *gp[200];
	static char gbuf[200][TOPIC_MAX + 2];
	size_t i, n = 0, k;
	char topic[TOPIC_MAX];

	if (pairs == NULL)
		tap_bail("out of memory");
	for (i = 0; i < NELEM(chosen); i++)
		if (!round_trip(chosen[i], strlen(chosen[i]), &pairs[n++]))
			tap_bail("chosen topic '%s' did not round-trip", chosen[i]);
	check_patterns(pats, NELEM(pats), pairs, n, "chosen topics");
	for (i = 0; i < NGEN; i++) {
		k = gen_topic(topic, 12);
		if (memchr(topic, '\0', k) != NULL || !round_trip(topic, k, &pairs[n]))
			continue;
		n++;
	}
	/* patterns: generated topics with some tokens made '*', maybe ending in '>' */
	for (i = 0; i < NELEM(gp); i++) {
		size_t len = 0, t, ntok = 1 + rng() % 4;

		for (t = 0; t < ntok; t++) {
			uint32_t r = rng();

			if (t > 0)
				gbuf[i][len++] = '.';
			if (r % 3 == 0)
				gbuf[i][len++] = '*';
			else if (t == ntok - 1 && r % 3 == 1)
				gbuf[i][len++] = '>';
			else
				gbuf[i][len++] = tricky[(r >> 4) % 2 ? 0 : 2];
		}
		gbuf[i][len] = '\0';
		gp[i] = gbuf[i];
	}
	check_patterns(gp, NELEM(gp), pairs, n, "generated patterns and topics");
	check_patterns(pats, NELEM(pats), pairs, n, "the fixed patterns on generated topics");
	free(pairs);
}

int
main(void)
{
	tap_plan(29);
	if (subject_map_init(&map, S("janus.")) != SUBJECT_OK)
		tap_bail("prefix janus. refused");
	test_prefix();
	test_examples();
	test_every_byte();
	test_all_short();
	test_generated();
	test_strict_decode();
	test_lengths();
	test_pattern_examples();
	test_pattern_matching();
	return tap_done();
}
