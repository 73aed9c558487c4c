/*
 * t/utf8_split.c - unit test for proto/utf8.c.
 *
 * Owns: a table of texts, one per class of valid and invalid UTF-8
 * (boundaries of each length, overlongs, surrogates, past U+10FFFF,
 * bytes that never occur, bad and stray continuations, text cut short),
 * each with the byte at which it must fail, checked a byte at a time,
 * split at every point and at every pair of points; every sequence of
 * one, two and three bytes, and a sample of four, against a decoder
 * written from the code point rules instead of byte ranges; ASCII runs
 * of every length and alignment (the word-at-a-time path) ending in a
 * bad byte or a split code point.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/utf8.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1

struct ucase {
	const char *s;
	size_t len;
	int fail_at;       /* index of the first byte refused, -1 if none */
	int complete;      /* valid and whole at the end */
	const char *what;
};

static const struct ucase cases[] = {
	{ S(""), -1, 1, "empty" },
	{ S("hello, world"), -1, 1, "ASCII" },
	{ S("\x00\x7f"), -1, 1, "U+0000 and U+007F" },
	{ S("\xc2\x80\xdf\xbf"), -1, 1, "U+0080 and U+07FF" },
	{ S("\xe0\xa0\x80\xef\xbf\xbf"), -1, 1, "U+0800 and U+FFFF" },
	{ S("\xed\x9f\xbf\xee\x80\x80"), -1, 1, "U+D7FF and U+E000 around the surrogates" },
	{ S("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), -1, 1, "U+10000 and U+10FFFF" },
	{ S("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!"), -1, 1, "mixed lengths" },
	{ S("\xef\xbb\xbf" "abc"), -1, 1, "a BOM is a code point" },
	{ S("\xc0\x80"), 0, 0, "overlong NUL (C0)" },
	{ S("\xc1\xbf"), 0, 0, "overlong U+007F (C1)" },
	{ S("\xe0\x80\x80"), 1, 0, "overlong 3-byte NUL" },
	{ S("\xe0\x9f\xbf"), 1, 0, "overlong U+07FF" },
	{ S("\xf0\x80\x80\x80"), 1, 0, "overlong 4-byte NUL" },
	{ S("\xf0\x8f\xbf\xbf"), 1, 0, "overlong U+FFFF" },
	{ S("ab\xed\xa0\x80"), 3, 0, "surrogate U+D800" },
	{ S("\xed\xbf\xbf"), 1, 0, "surrogate U+DFFF" },
	{ S("\xed\xa0\xbd\xed\xb8\x80"), 1, 0, "surrogate pair (CESU-8)" },
	{ S("\xf4\x90\x80\x80"), 1, 0, "U+110000" },
	{ S("\xf5\x80\x80\x80"), 0, 0, "lead F5" },
	{ S("\xf7\xbf\xbf\xbf"), 0, 0, "lead F7" },
	{ S("\xf8\x88\x80\x80\x80"), 0, 0, "5-byte form" },
	{ S("\xfc\x84\x80\x80\x80\x80"), 0, 0, "6-byte form" },
	{ S("a\xfe"), 1, 0, "byte FE" },
	{ S("a\xff"), 1, 0, "byte FF" },
	{ S("\x80"), 0, 0, "stray continuation 80" },
	{ S("abc\xbf"), 3, 0, "stray continuation BF" },
	{ S("\xc2\x80\x80"), 2, 0, "one continuation too many" },
	{ S("\xc2\x41"), 1, 0, "2-byte lead then ASCII" },
	{ S("\xe1\x80\x41"), 2, 0, "3-byte sequence broken at its third byte" },
	{ S("\xf1\x80\x80\xc0"), 3, 0, "4-byte sequence broken at its fourth byte" },
	{ S("\xe1\xc2\x80"), 1, 0, "a lead where a continuation is due" },
	{ S("\xc2"), -1, 0, "cut after a 2-byte lead" },
	{ S("ab\xe2\x82"), -1, 0, "cut inside a 3-byte sequence" },
	{ S("\xf0\x9f\x98"), -1, 0, "cut inside a 4-byte sequence" },
	{ S("\xf4\x8f"), -1, 0, "cut after F4 8F" },
};

/* feed_cuts - feed in pieces ending at each cut; the result and completeness. */
static int
feed_cuts(const char *s, size_t len, const size_t *cuts, size_t ncuts, int *complete)
{
	struct utf8 u = UTF8_INIT;
	size_t i, from = 0, to;
	int rc = 0;

	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		rc = utf8_feed(&u, s + from, to - from);
		from = to;
	}
	*complete = utf8_complete(&u);
	return rc;
}

/* fail_index - feeding a byte at a time, where the first -1 comes (-1 if none). */
static int
fail_index(const char *s, size_t len)
{
	struct utf8 u = UTF8_INIT;
	size_t i;

	for (i = 0; i < len; i++)
		if (utf8_feed(&u, s + i, 1) < 0)
			return (int)i;
	return -1;
}

/* check_case - one text: where it fails, and the same result at every split. */
static void
check_case(const struct ucase *c)
{
	int want_rc = c->fail_at >= 0 ? -1 : 0, rc, complete, same = 1;
	size_t cuts[2];

	if (c->fail_at < 0)
		tap_is_int(fail_index(c->s, c->len), -1, "%s: no byte refused", c->what);
	else
		tap_is_int(fail_index(c->s, c->len), c->fail_at, "%s: refused at byte %d",
		    c->what, c->fail_at);
	for (cuts[0] = 0; cuts[0] <= c->len && same; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= c->len && same; cuts[1]++) {
			rc = feed_cuts(c->s, c->len, cuts, 2, &complete);
			same = rc == want_rc && complete == c->complete;
		}
	}
	rc = feed_cuts(c->s, c->len, NULL, 0, &complete);
	tap_ok(same && rc == want_rc && complete == c->complete &&
	    utf8_valid(c->s, c->len) == c->complete,
	    "%s: %s at every split and pair of splits", c->what,
	    c->complete ? "complete" : want_rc ? "refused" : "incomplete");
}

/* Minimum code point per sequence length (index = length). */
static const unsigned long ref_min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

/* ref_len - the length a lead byte announces, 0 if it is no lead. */
static int
ref_len(unsigned char b)
{
	return b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 :
	    (b & 0xf8) == 0xf0 ? 4 : 0;
}

/*
 * ref_ok - the oracle: whether s could begin valid UTF-8 (prefix) or is
 * valid UTF-8 (whole). It decodes bits; for a cut sequence it asks
 * whether any completion of the free bits gives an allowed code point.
 */
static int
ref_ok(const unsigned char *s, size_t len, int whole)
{
	unsigned long lo, hi;
	size_t i = 0, k;
	int n;

	while (i < len) {
		if ((n = ref_len(s[i])) == 0)
			return 0;
		lo = s[i] & (n == 1 ? 0x7f : 0x7f >> n);
		for (k = 1; k < (size_t)n && i + k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			lo = lo << 6 | (s[i + k] & 0x3f);
		}
		if (k < (size_t)n && whole)
			return 0;
		hi = lo;
		for (; k < (size_t)n; k++) {
			lo <<= 6;
			hi = hi << 6 | 0x3f;
		}
		if (lo < ref_min[n])
			lo = ref_min[n];
		if (hi > 0x10ffff)
			hi = 0x10ffff;
		if (lo > hi || (lo >= 0xd800 && hi <= 0xdfff))
			return 0;
		i += (size_t)n;
	}
	return 1;
}

/* oracle_seq - compare every prefix of s with the oracle; 1 if all agree. */
static int
oracle_seq(const unsigned char *s, size_t len)
{
	struct utf8 u = UTF8_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((utf8_feed(&u, s + i, 1) == 0) != ref_ok(s, i + 1, 0))
			return 0;
	}
	return utf8_complete(&u) == ref_ok(s, len, 1);
}

/* test_oracle - all sequences of 1 to 3 bytes, and 4-byte ones from F0..F7. */
static void
test_oracle(void)
{
	static const unsigned char edge[] = {
		0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff
	};
	unsigned char s[4];
	unsigned a, b, c, d, bad = 0, n = 0;

	for (a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		bad += !oracle_seq(s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			bad += !oracle_seq(s, 2);
			for (c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				bad += !oracle_seq(s, 3);
			}
		}
	}
	tap_is_int(bad, 0, "all 16843008 sequences of 1 to 3 bytes agree with the oracle");
	bad = 0;
	for (a = 0xf0; a <= 0xf7; a++)
		for (b = 0; b < 256; b++)
			for (c = 0; c < NELEM(edge); c++)
				for (d = 0; d < NELEM(edge); d++, n++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = edge[c];
					s[3] = edge[d];
					bad += !oracle_seq(s, 4);
				}
	tap_is_int(bad, 0, "%u 4-byte sequences agree with the oracle", n);
}

/* test_ascii_runs - ASCII runs of 0..40 bytes at 8 alignments, then a bad byte or a split euro sign. */
static void
test_ascii_runs(void)
{
	char buf[64];
	size_t run, off, bad = 0;
	struct utf8 u;

	for (off = 0; off < 8; off++) {
		for (run = 0; run <= 40; run++) {
			memset(buf + off, 'x', run);
			buf[off + run] = (char)0x80;
			if (fail_index(buf + off, run + 1) != (int)run ||
			    utf8_valid(buf + off, run + 1))
				bad++;
			memcpy(buf + off + run, "\xe2\x82\xac" "yz", 5);
			u = (struct utf8)UTF8_INIT;
			if (utf8_feed(&u, buf + off, run + 1) < 0 ||
			    utf8_feed(&u, buf + off + run + 1, 4) < 0 || !utf8_complete(&u))
				bad++;
		}
	}
	tap_is_int((long long)bad, 0, "ASCII runs of every length and alignment");
}

int
main(void)
{
	size_t i;

	tap_plan((int)(2 * NELEM(cases)) + 3);
	for (i = 0; i < NELEM(cases); i++)
		check_case(&cases[i]);
	test_oracle();
	test_ascii_runs();
	return tap_done();
}
