/*
 * t/fuzz/proxy.c - libFuzzer harness for proto/proxy.c, the PROXY header.
 *
 * Owns: checking that the parser never claims more bytes than it was
 * given (nor more than PROXY_HDR_MAX), asks for more only while it may,
 * gives a reason for every refusal and well-formed addresses for every
 * header (family 0, 4 or 6; unused bytes zero; IPv4-mapped pairs given
 * as IPv4); that the input split in two, as a reader gets it, gives the
 * same result once the second piece is there (the first piece alone may
 * only need more, or already give that same result); and that a header
 * rebuilt from what was parsed, in either version, parses the same.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proxy.h"
#include "t/fuzz/fuzz.h"

/* parse - proxy_parse on an exact copy of data[0, n). */
static long
parse(const uint8_t *data, size_t n, struct proxy_addr *a)
{
	char *c = fuzz_copy(data, n);
	long r = proxy_parse(c, n, a);

	free(c);
	return r;
}

/* same - two results are the same result. */
static int
same(long r1, const struct proxy_addr *a, long r2, const struct proxy_addr *b)
{
	if (r1 != r2)
		return 0;
	if (r1 < 0)
		return 1;
	return a->version == b->version && a->family == b->family &&
	    a->src_port == b->src_port && a->dst_port == b->dst_port &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* check_form - what a result may look like at all. */
static void
check_form(long r, size_t n, const struct proxy_addr *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	FUZZ_CHECK(r >= -1 && (r < 0 || (size_t)r <= n), "returned %ld for %zu bytes", r, n);
	FUZZ_CHECK(r != 0 || n < PROXY_HDR_MAX, "asked for more after %zu bytes", n);
	FUZZ_CHECK(r <= PROXY_HDR_MAX, "a header of %ld bytes", r);
	FUZZ_CHECK((r == -1) == (a->why != NULL), "a reason %s for result %ld",
	    a->why ? a->why : "missing", r);
	if (r <= 0)
		return;
	FUZZ_CHECK(a->version == 1 || a->version == 2, "version %u", a->version);
	FUZZ_CHECK(r >= (a->version == 1 ? 15 : 16), "a v%u header of %ld bytes", a->version, r);
	FUZZ_CHECK(a->version != 1 || r <= PROXY_V1_MAX, "a v1 header of %ld bytes", r);
	switch (a->family) {
	case 0:
		FUZZ_CHECK(a->src_port == 0 && a->dst_port == 0 && memcmp(a->src, zero, 16) == 0 &&
		    memcmp(a->dst, zero, 16) == 0, "family 0 with an address");
		break;
	case 4:
		FUZZ_CHECK(memcmp(a->src + 4, zero, 12) == 0 && memcmp(a->dst + 4, zero, 12) == 0,
		    "IPv4 addresses with bytes past their 4");
		break;
	case 6:
		FUZZ_CHECK(memcmp(a->src, mapped, 12) != 0 || memcmp(a->dst, mapped, 12) != 0,
		    "an IPv4-mapped pair left as IPv6");
		break;
	default:
		FUZZ_CHECK(0, "family %u", a->family);
	}
}

/* check_split - the first k bytes, then all n: the pieces agree with the whole. */
static void
check_split(const uint8_t *data, size_t k, long r, const struct proxy_addr *a)
{
	struct proxy_addr b;
	long rk = parse(data, k, &b);

	check_form(rk, k, &b);
	FUZZ_CHECK(rk == 0 || same(rk, &b, r, a),
	    "the first %zu bytes give %ld, all of them %ld", k, rk, r);
}

/* rebuild - a header of either version saying what a says; its length. */
static size_t
rebuild(const struct proxy_addr *a, int version, uint8_t *out)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = a->family == 4 ? AF_INET : AF_INET6;
	size_t n = a->family == 4 ? 4 : 16;

	if (version == 1) {
		if (inet_ntop(af, a->src, s, sizeof(s)) == NULL ||
		    inet_ntop(af, a->dst, d, sizeof(d)) == NULL)
			FUZZ_CHECK(0, "inet_ntop failed on a parsed address");
		return (size_t)snprintf((char *)out, PROXY_V1_MAX + 1, "PROXY TCP%c %s %s %u %u\r\n",
		    a->family == 4 ? '4' : '6', s, d, a->src_port, a->dst_port);
	}
	memcpy(out, "\r\n\r\n\0\r\nQUIT\n\x21", 13);
	out[13] = a->family == 4 ? 0x11 : 0x21;
	out[14] = 0;
	out[15] = n == 4 ? 12 : 36;
	memcpy(out + 16, a->src, n);
	memcpy(out + 16 + n, a->dst, n);
	out[16 + 2 * n] = (uint8_t)(a->src_port >> 8);
	out[17 + 2 * n] = (uint8_t)a->src_port;
	out[18 + 2 * n] = (uint8_t)(a->dst_port >> 8);
	out[19 + 2 * n] = (uint8_t)a->dst_port;
	return 20 + 2 * n;
}

/* check_rebuild - what was parsed, written out again in v1 and in v2, parses the same. */
static void
check_rebuild(const struct proxy_addr *a)
{
	uint8_t h[PROXY_V1_MAX + 1 + 64];
	struct proxy_addr b, want = *a;
	size_t n;
	long r;
	int v;

	if (a->family == 0)
		return;
	for (v = 1; v <= 2; v++) {
		n = rebuild(a, v, h);
		want.version = (uint8_t)v;
		r = parse(h, n, &b);
		FUZZ_CHECK(same(r, &b, (long)n, &want), "v%d rebuilt: %ld of %zu bytes (%s)", v, r, n,
		    b.why ? b.why : "the addresses differ");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_addr a;
	size_t k, step;
	long r;

	r = parse(data, size, &a);
	check_form(r, size, &a);
	/* every split of a short input; a spread of splits of a long one */
	step = size <= 256 ? 1 : size / 64;
	for (k = 0; k < size; k += step)
		check_split(data, k, r, &a);
	if (r > 0) {
		check_split(data, (size_t)r, r, &a);
		check_rebuild(&a);
	}
	return 0;
}
