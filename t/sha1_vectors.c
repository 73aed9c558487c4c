/*
 * t/sha1_vectors.c - unit test for proto/sha1.c.
 *
 * Owns: the FIPS 180 / RFC 3174 test vectors (empty, "abc", the 448- and
 * 896-bit messages, RFC 3174's 640-byte repetition, one million 'a'),
 * each also fed at every split point and a byte at a time; messages at
 * the padding boundaries (55, 56, 57, 63, 64, 65, 119, 120, 128 bytes),
 * whose digests were computed with Python's hashlib.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sha1.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* hex - a digest as lowercase hex. */
static void
hex(const unsigned char d[SHA1_LEN], char out[2 * SHA1_LEN + 1])
{
	int i;

	for (i = 0; i < SHA1_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* digest_cuts - the digest of msg fed in pieces ending at each cut. */
static void
digest_cuts(const char *msg, size_t len, const size_t *cuts, size_t ncuts,
    char out[2 * SHA1_LEN + 1])
{
	unsigned char d[SHA1_LEN];
	struct sha1 s;
	size_t i, from = 0, to;

	sha1_init(&s);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		sha1_update(&s, msg + from, to - from);
		from = to;
	}
	sha1_final(&s, d);
	hex(d, out);
}

/* check_vector - msg whole, at every split, and a byte at a time. */
static void
check_vector(const char *what, const char *msg, size_t len, const char *want)
{
	char got[2 * SHA1_LEN + 1];
	size_t cut, *cuts;

	digest_cuts(msg, len, NULL, 0, got);
	tap_is_str(got, want, "%s: whole", what);
	for (cut = 0; cut <= len; cut++) {
		digest_cuts(msg, len, &cut, 1, got);
		if (strcmp(got, want) != 0)
			break;
	}
	tap_is_str(got, want, "%s: split in two at every point", what);
	if ((cuts = malloc((len + 1) * sizeof(*cuts))) == NULL)
		tap_bail("out of memory");
	for (cut = 0; cut < len; cut++)
		cuts[cut] = cut + 1;
	digest_cuts(msg, len, cuts, len, got);
	tap_is_str(got, want, "%s: a byte at a time", what);
	free(cuts);
}

/* test_million - one million 'a' in one piece and in uneven pieces. */
static void
test_million(void)
{
	static const char want[] = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";
	char *a = malloc(1000000), got[2 * SHA1_LEN + 1];
	size_t cuts[20], i;

	if (a == NULL)
		tap_bail("out of memory");
	memset(a, 'a', 1000000);
	digest_cuts(a, 1000000, NULL, 0, got);
	tap_is_str(got, want, "one million 'a': whole");
	for (i = 0; i < NELEM(cuts); i++)
		cuts[i] = (i + 1) * 49999 + i % 3;
	digest_cuts(a, 1000000, cuts, NELEM(cuts), got);
	tap_is_str(got, want, "one million 'a': in 21 uneven pieces");
	free(a);
}

/* test_boundaries - lengths around the 56-byte padding edge and block ends. */
static void
test_boundaries(void)
{
	static const struct { size_t len; const char *want; } v[] = {
		{ 55, "ddf57317ef34bfee3b6df83d359098930eb278bc" },
		{ 56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369" },
		{ 57, "11a02dcf95859677a62e75024067c22b165d890f" },
		{ 63, "c55856749bef509bdfe6bfebfc7bf4e793e82132" },
		{ 64, "bede92be29c3874e1b54ddc77988d606fc857a8e" },
		{ 65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f" },
		{ 119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23" },
		{ 120, "82134b02fb3f702491be9bed581eeab59334acb2" },
		{ 128, "a09133e6730ffe899efb70204cb5646cd5dc24ee" },
	};
	char msg[128], what[64];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)((i * 7 + 3) & 0xff);
	for (i = 0; i < NELEM(v); i++) {
		snprintf(what, sizeof(what), "%zu bytes (i*7+3)", v[i].len);
		check_vector(what, msg, v[i].len, v[i].want);
	}
}

int
main(void)
{
	static const char rep[] =
	    "0123456701234567012345670123456701234567012345670123456701234567";
	char ten[10 * (sizeof(rep) - 1) + 1];
	size_t i;

	tap_plan(6 * 3 + 2 + 9 * 3);
	check_vector("empty", "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_vector("abc", "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_vector("448-bit message",
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_vector("896-bit message",
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	    "a49b2446a02c645bf419f995b67091253a04a259");
	for (i = 0; i < 10; i++)
		memcpy(ten + i * (sizeof(rep) - 1), rep, sizeof(rep) - 1);
	check_vector("RFC 3174 test 4 (640 bytes)", ten, sizeof(ten) - 1,
	    "dea356a2cddd90c7a7ecedc5ebb563934f460452");
	check_vector("one byte 0x80 (hashlib)", "\x80", 1, "c78ebd3c85a39a596d9f5cfd2b8d240bc1b9c125");
	test_million();
	test_boundaries();
	return tap_done();
}
