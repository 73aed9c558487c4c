/*
 * t/base64_vectors.c - unit test for proto/base64.c.
 *
 * Owns: RFC 4648 section 10's vectors both ways, RFC 6455's sample key,
 * every byte value and every length up to 64 round-tripped, and the
 * texts strict decoding refuses: wrong length, stray or misplaced '=',
 * non-zero bits under padding, other alphabets, whitespace, too little
 * room. Outputs go to exactly sized malloc'd buffers so ASan catches
 * writes past them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1

/* xmalloc - malloc that bails; at least one byte. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		tap_bail("out of memory");
	return p;
}

/* test_rfc4648 - the section 10 vectors, encoded and decoded. */
static void
test_rfc4648(void)
{
	static const struct { const char *raw, *b64; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	size_t i, rl, bl;
	char *enc, *dec;
	long n;

	for (i = 0; i < NELEM(v); i++) {
		rl = strlen(v[i].raw);
		bl = strlen(v[i].b64);
		enc = xmalloc(BASE64_LEN(rl));
		tap_is_int((long long)base64_encode(enc, v[i].raw, rl), (long long)bl,
		    "encode '%s': length", v[i].raw);
		tap_is_mem(enc, bl, v[i].b64, bl, "encode '%s'", v[i].raw);
		dec = xmalloc(rl);
		n = base64_decode(dec, rl, v[i].b64, bl);
		tap_is_mem(dec, n < 0 ? 0 : (size_t)n, v[i].raw, rl, "decode '%s'", v[i].b64);
		free(enc);
		free(dec);
	}
}

/* test_ws_key - RFC 6455 1.3's key is 16 bytes of "the sample nonce". */
static void
test_ws_key(void)
{
	char *dec = xmalloc(16);
	long n = base64_decode(dec, 16, "dGhlIHNhbXBsZSBub25jZQ==", 24);

	tap_is_mem(dec, n < 0 ? 0 : (size_t)n, "the sample nonce", 16,
	    "RFC 6455 sample key decodes to 16 bytes");
	tap_is_int(base64_decode(dec, 15, "dGhlIHNhbXBsZSBub25jZQ==", 24), -1,
	    "and does not fit in 15");
	free(dec);
}

/* test_round_trip - every byte value, and every length from 0 to 64. */
static void
test_round_trip(void)
{
	unsigned char all[256], back[256];
	char enc[BASE64_LEN(256)];
	size_t i, len, bad = 0;
	long n;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	for (len = 0; len <= 64; len++) {
		n = base64_decode(back, len, enc, base64_encode(enc, all + 7, len));
		if (n != (long)len || memcmp(back, all + 7, len) != 0)
			bad++;
	}
	tap_is_int((long long)bad, 0, "lengths 0..64 round-trip");
	n = base64_decode(back, sizeof(back), enc, base64_encode(enc, all, sizeof(all)));
	tap_is_mem(back, n < 0 ? 0 : (size_t)n, all, sizeof(all), "all 256 byte values round-trip");
}

/* test_refused - non-canonical or foreign texts decode to -1. */
static void
test_refused(void)
{
	static const struct { const char *s; size_t len; const char *why; } bad[] = {
		{ S("Zg="), "length not a multiple of 4" },
		{ S("Zg"), "padding left out" },
		{ S("Z"), "one character" },
		{ S("Zm9vY"), "five characters" },
		{ S("Zg=a"), "'=' before the end" },
		{ S("Z==="), "three '='" },
		{ S("===="), "all '='" },
		{ S("=Zg="), "leading '='" },
		{ S("Zm8=Zm8="), "padding inside" },
		{ S("Zh=="), "non-zero bits under '=='" },
		{ S("Zm9="), "non-zero bits under '='" },
		{ S("Zm-_"), "the URL alphabet" },
		{ S("Zm9 "), "trailing space" },
		{ S(" Zm9"), "leading space" },
		{ S("Zm9v\r\n"), "trailing CRLF" },
		{ S("Zm\0v"), "a NUL byte" },
		{ S("Zm9v\x80" "AAA"), "a byte over 0x7f" },
	};
	char dst[16];
	size_t i;

	for (i = 0; i < NELEM(bad); i++)
		tap_is_int(base64_decode(dst, sizeof(dst), bad[i].s, bad[i].len), -1,
		    "refused: %s", bad[i].why);
	tap_is_int(base64_decode(dst, sizeof(dst), "Zm+/", 4), 3, "'+' and '/' are the alphabet");
	tap_is_int(base64_decode(dst, 2, "Zm9v", 4), -1, "3 bytes do not fit in 2");
	tap_is_int(base64_decode(dst, 1, "Zm8=", 4), -1, "2 bytes do not fit in 1");
}

int
main(void)
{
	tap_plan(7 * 3 + 2 + 2 + 17 + 3);
	test_rfc4648();
	test_ws_key();
	test_round_trip();
	test_refused();
	return tap_done();
}
