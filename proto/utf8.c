/*
 * proto/utf8.c - incremental UTF-8 validation (RFC 3629 section 4).
 *
 * Owns: a small DFA. Each byte falls into one of twelve classes; the
 * state says how many continuation bytes are still due and which range
 * the next one must lie in (narrowed after E0, ED, F0 and F4, which is
 * how overlongs, surrogates and code points past U+10FFFF are refused
 * at their second byte). Runs of ASCII are skipped a word at a time.
 */
#include "config.h"

#include <string.h>

#include "proto/utf8.h"

enum {
	U_OK = 0,      /* on a code point boundary */
	U_BAD,         /* invalid; stays so */
	U_1,           /* one continuation due, 80..BF */
	U_2,           /* two due, next 80..BF */
	U_2_E0,        /* two due, next A0..BF (no overlong) */
	U_2_ED,        /* two due, next 80..9F (no surrogate) */
	U_3,           /* three due, next 80..BF */
	U_3_F0,        /* three due, next 90..BF (no overlong) */
	U_3_F4,        /* three due, next 80..8F (not past U+10FFFF) */
	U_STATES
};

enum {
	C_ASCII = 0,   /* 00..7F */
	C_80,          /* 80..8F continuation */
	C_90,          /* 90..9F continuation */
	C_A0,          /* A0..BF continuation */
	C_NEVER,       /* C0, C1, F5..FF: never in UTF-8 */
	C_2,           /* C2..DF */
	C_E0,
	C_3,           /* E1..EC, EE, EF */
	C_ED,
	C_F0,
	C_4,           /* F1..F3 */
	C_F4,
	C_CLASSES
};

static const uint8_t utf8_class[256] = {
	[0x80 ... 0x8f] = C_80, [0x90 ... 0x9f] = C_90, [0xa0 ... 0xbf] = C_A0,
	[0xc0 ... 0xc1] = C_NEVER, [0xc2 ... 0xdf] = C_2,
	[0xe0] = C_E0, [0xe1 ... 0xec] = C_3, [0xed] = C_ED, [0xee ... 0xef] = C_3,
	[0xf0] = C_F0, [0xf1 ... 0xf3] = C_4, [0xf4] = C_F4,
	[0xf5 ... 0xff] = C_NEVER,
};

/* Unlisted transitions are 0 = U_OK, so every state lists all its classes. */
static const uint8_t utf8_next[U_STATES][C_CLASSES] = {
	[U_OK] = { U_OK, U_BAD, U_BAD, U_BAD, U_BAD, U_1, U_2_E0, U_2, U_2_ED,
	    U_3_F0, U_3, U_3_F4 },
	[U_BAD] = { U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD, U_BAD },
	[U_1] = { U_BAD, U_OK, U_OK, U_OK, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD },
	[U_2] = { U_BAD, U_1, U_1, U_1, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD },
	[U_2_E0] = { U_BAD, U_BAD, U_BAD, U_1, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD, U_BAD },
	[U_2_ED] = { U_BAD, U_1, U_1, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD, U_BAD },
	[U_3] = { U_BAD, U_2, U_2, U_2, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD },
	[U_3_F0] = { U_BAD, U_BAD, U_2, U_2, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD, U_BAD },
	[U_3_F4] = { U_BAD, U_2, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
	    U_BAD, U_BAD, U_BAD, U_BAD },
};

/* utf8_skip_ascii - first byte at or after p that is not ASCII. */
static const unsigned char *
utf8_skip_ascii(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		if (w & 0x8080808080808080ULL)
			break;
		p += 8;
	}
	while (p < end && *p < 0x80)
		p++;
	return p;
}

int
utf8_feed(struct utf8 *u, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	uint8_t s = u->state;

	while (p < end && s != U_BAD) {
		if (s == U_OK)
			p = utf8_skip_ascii(p, end);
		if (p < end)
			s = utf8_next[s][utf8_class[*p++]];
	}
	u->state = s;
	return s == U_BAD ? -1 : 0;
}

int
utf8_complete(const struct utf8 *u)
{
	return u->state == U_OK;
}

int
utf8_valid(const void *data, size_t len)
{
	struct utf8 u = UTF8_INIT;

	return utf8_feed(&u, data, len) == 0 && utf8_complete(&u);
}
