/*
 * t/proxy_parse.c - unit test for proto/proxy.c, the PROXY protocol header.
 *
 * Owns: the spec's v1 examples and v2 headers built here (TCP4, TCP6 with
 * TLVs, LOCAL, UNSPEC, UNIX, IPv4-mapped), each followed by a client's
 * first bytes and parsed at every split point; malformed, oversize and
 * non-header inputs with the reason given, refused as early as their
 * bytes allow; and that a refusal or a result never changes when bytes
 * are added. Every input is parsed from an exactly sized malloc'd copy
 * so ASan catches a read past it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proxy.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so embedded NULs survive. */
#define S(lit) lit, sizeof(lit) - 1
#define CLIENT "{\"action\":\"subscribe\",\"data\":\"t\"}"
#define BUF_MAX 2048

/* parse - proxy_parse on an exactly sized copy of buf[0, len). */
static long
parse(const char *buf, size_t len, struct proxy_addr *out)
{
	char *copy = malloc(len ? len : 1);
	long r;

	if (copy == NULL)
		tap_bail("out of memory");
	memcpy(copy, buf, len);
	r = proxy_parse(copy, len, out);
	free(copy);
	return r;
}

/* What a valid header should give. */
struct want {
	const char *name;
	int family;
	const char *src, *dst;   /* text, for inet_pton; NULL when family is 0 */
	unsigned sport, dport;
};

/* addr_is - the parsed addresses and ports are those in w. */
static int
addr_is(const struct proxy_addr *a, const struct want *w, int version)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	int af = w->family == 6 ? AF_INET6 : AF_INET;

	if (a->version != version || a->family != w->family)
		return 0;
	if (w->family == 0)
		return a->src_port == 0 && a->dst_port == 0 &&
		    memcmp(a->src, src, 16) == 0 && memcmp(a->dst, dst, 16) == 0;
	if (inet_pton(af, w->src, src) != 1 || inet_pton(af, w->dst, dst) != 1)
		tap_bail("bad address in the test table: %s %s", w->src, w->dst);
	return memcmp(a->src, src, 16) == 0 && memcmp(a->dst, dst, 16) == 0 &&
	    a->src_port == w->sport && a->dst_port == w->dport;
}

/*
 * check_valid - buf[0, hlen) is a header, client bytes follow: every
 * proper prefix needs more, and every longer one gives hlen and w.
 */
static void
check_valid(const char *buf, size_t hlen, size_t len, const struct want *w, int version)
{
	struct proxy_addr a;
	size_t k, bad = SIZE_MAX;
	long r;

	r = parse(buf, len, &a);
	tap_is_int(r, (long)hlen, "%s: consumes the header only (%zu of %zu bytes)", w->name,
	    hlen, len);
	tap_ok(r > 0 && addr_is(&a, w, version), "%s: version %d, family %d, addresses and ports",
	    w->name, version, w->family);
	for (k = 0; k < len && bad == SIZE_MAX; k++) {
		r = parse(buf, k, &a);
		if (k < hlen ? r != 0 : r != (long)hlen || !addr_is(&a, w, version))
			bad = k;
	}
	tap_ok(bad == SIZE_MAX, "%s: every split: need more before byte %zu, the same result after%s",
	    w->name, hlen, bad == SIZE_MAX ? "" : " (not so at a split)");
	if (bad != SIZE_MAX)
		tap_diag("split at %zu: got %ld (%s)", bad, parse(buf, bad, &a), a.why ? a.why : "");
}

/* with_client - header then the client's first frame, into out; returns the total. */
static size_t
with_client(char *out, const char *hdr, size_t hlen)
{
	memmove(out, hdr, hlen);
	memcpy(out + hlen, CLIENT, sizeof(CLIENT));  /* with its \0 */
	return hlen + sizeof(CLIENT);
}

struct v1case {
	const char *line;
	struct want w;
};

static const struct v1case v1cases[] = {
	{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    { "v1 spec: TCP4 at its longest", 4, "255.255.255.255", "255.255.255.255", 65535, 65535 } },
	{ "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
	    { "v1 spec: TCP6 at its longest", 6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535 } },
	{ "PROXY UNKNOWN\r\n", { "v1 spec: UNKNOWN, the shortest", 0, NULL, NULL, 0, 0 } },
	{ "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
	    { "v1 spec: UNKNOWN with addresses, 107 bytes", 0, NULL, NULL, 0, 0 } },
	{ "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
	    { "v1 spec: TCP4 example", 4, "192.168.0.1", "192.168.0.11", 56324, 443 } },
	{ "PROXY TCP4 0.0.0.0 127.0.0.1 0 8081\r\n",
	    { "v1: port 0 and address 0.0.0.0", 4, "0.0.0.0", "127.0.0.1", 0, 8081 } },
	{ "PROXY TCP6 2001:db8::1 ::1 40000 8081\r\n",
	    { "v1: TCP6, compressed", 6, "2001:db8::1", "::1", 40000, 8081 } },
	{ "PROXY TCP6 ::ffff:10.1.2.3 ::ffff:127.0.0.1 1234 8081\r\n",
	    { "v1: TCP6 mapping IPv4 is given as IPv4", 4, "10.1.2.3", "127.0.0.1", 1234, 8081 } },
};

/* v2 - a v2 header: signature, ver/cmd, fam, length, then body. */
static size_t
v2(char *out, unsigned vercmd, unsigned fam, const void *body, size_t blen)
{
	memcpy(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	out[12] = (char)vercmd;
	out[13] = (char)fam;
	out[14] = (char)(blen >> 8);
	out[15] = (char)(blen & 0xff);
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

static void
test_v2_valid(void)
{
	static const unsigned char tcp4[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0x16, 0x2e, 0x01, 0xbb };
	/* TCP6 2001:db8::7 -> 2001:db8::8, then ALPN "h2" and a NOOP TLV */
	static const unsigned char tcp6[] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8,
		0x9c, 0x40, 0x1f, 0x91,
		0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x03, 0, 0, 0,
	};
	static const unsigned char mapped[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1,
		0x04, 0xd2, 0x1f, 0x91,
	};
	static const struct want w[] = {
		{ "v2: PROXY TCP4", 4, "1.2.3.4", "5.6.7.8", 5678, 443 },
		{ "v2: PROXY TCP6 with TLVs skipped", 6, "2001:db8::7", "2001:db8::8", 40000, 8081 },
		{ "v2: PROXY TCP6 mapping IPv4 is given as IPv4", 4, "10.0.0.9", "127.0.0.1", 1234, 8081 },
		{ "v2: LOCAL (health check): no address", 0, NULL, NULL, 0, 0 },
		{ "v2: LOCAL ignores its family and block", 0, NULL, NULL, 0, 0 },
		{ "v2: PROXY UNSPEC: no address", 0, NULL, NULL, 0, 0 },
		{ "v2: PROXY UNIX stream: no address", 0, NULL, NULL, 0, 0 },
	};
	char hdr[BUF_MAX], buf[BUF_MAX], unix_block[216];
	size_t n[NELEM(w)], i;
	char (*h)[BUF_MAX] = malloc(NELEM(w) * BUF_MAX);

	if (h == NULL)
		tap_bail("out of memory");
	memset(unix_block, 'u', sizeof(unix_block));
	n[0] = v2(h[0], 0x21, 0x11, tcp4, sizeof(tcp4));
	n[1] = v2(h[1], 0x21, 0x21, tcp6, sizeof(tcp6));
	n[2] = v2(h[2], 0x21, 0x21, mapped, sizeof(mapped));
	n[3] = v2(h[3], 0x20, 0x00, "", 0);
	n[4] = v2(h[4], 0x20, 0x7f, tcp4, 5);
	n[5] = v2(h[5], 0x21, 0x00, "", 0);
	n[6] = v2(h[6], 0x21, 0x31, unix_block, sizeof(unix_block));
	for (i = 0; i < NELEM(w); i++) {
		memcpy(hdr, h[i], n[i]);
		check_valid(buf, n[i], with_client(buf, hdr, n[i]), &w[i], 2);
	}
	free(h);
}

/* A malformed input: the reason's words, and the bytes by which it is refused. */
struct badcase {
	const char *name;
	const char *in;
	size_t len;
	const char *why;
	size_t early;   /* refused from this many bytes on (and needs more before) */
};

static const struct badcase v1bad[] = {
	{ "an HTTP request", S("GET / HTTP/1.1\r\n\r\n"), "not a PROXY", 1 },
	{ "a Janus frame", S("<regular-socket/>\0"), "not a PROXY", 1 },
	{ "a JSON frame", S("{\"action\":\"hello\"}\0"), "not a PROXY", 1 },
	{ "lower case", S("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not a PROXY", 1 },
	{ "no space after PROXY", S("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not a PROXY", 6 },
	{ "protocol TCP5", S("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), "not TCP4, TCP6 or UNKNOWN", 10 },
	{ "protocol UDP4", S("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not TCP4, TCP6 or UNKNOWN", 8 },
	{ "two spaces", S("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not TCP4, TCP6 or UNKNOWN", 7 },
	{ "UNKNOWNX", S("PROXY UNKNOWNX\r\n"), "not TCP4, TCP6 or UNKNOWN", 14 },
	{ "TCP4 alone", S("PROXY TCP4\r\n"), "fewer than four fields", 11 },
	{ "three fields", S("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "fewer than four fields", 30 },
	{ "five fields", S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "more than four fields", 34 },
	{ "an empty field", S("PROXY TCP4 1.2.3.4  1 2\r\n"), "destination is not an IPv4", 25 },
	{ "octet 256", S("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"), "source is not an IPv4", 34 },
	{ "three octets", S("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), "source is not an IPv4", 30 },
	{ "IPv6 after TCP4", S("PROXY TCP4 ::1 ::1 1 2\r\n"), "source is not an IPv4", 24 },
	{ "IPv4 after TCP6", S("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), "source is not an IPv6", 32 },
	{ "two ::", S("PROXY TCP6 1::2::3 ::1 1 2\r\n"), "source is not an IPv6", 28 },
	{ "a name for an address", S("PROXY TCP4 localhost 5.6.7.8 1 2\r\n"), "source is not an IPv4", 12 },
	{ "port 65536", S("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), "source port", 36 },
	{ "port with six digits", S("PROXY TCP4 1.2.3.4 5.6.7.8 1 000001\r\n"), "destination port", 37 },
	{ "a negative port", S("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), "source port", 28 },
	{ "a NUL in a field", S("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"), "source is not an IPv4", 19 },
	{ "LF without CR", S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" CLIENT), "not TCP4, TCP6", 31 },
	{ "CR without LF", S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "not TCP4, TCP6", 32 },
	{ "a line of 108 bytes", S("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n"), "longer than 107", 107 },
	{ "a line with no end", S("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), "longer than 107", 107 },
};

/*
 * check_bad - refused with a reason containing c->why once early bytes
 * are there, needing more before, and still refused with every byte more.
 */
static void
check_bad(const struct badcase *c)
{
	struct proxy_addr a;
	size_t k, bad = SIZE_MAX;
	long r;

	r = parse(c->in, c->len, &a);
	tap_ok(r == -1 && a.why != NULL && strstr(a.why, c->why) != NULL,
	    "%s: refused, \"%s\" (got %ld: %s)", c->name, c->why, r, a.why ? a.why : "no reason");
	for (k = 0; k <= c->len && bad == SIZE_MAX; k++) {
		r = parse(c->in, k, &a);
		if (r != (k < c->early ? 0 : -1))
			bad = k;
	}
	tap_ok(bad == SIZE_MAX, "%s: needs more up to byte %zu, refused from there on", c->name,
	    c->early);
	if (bad != SIZE_MAX)
		tap_diag("at %zu bytes: got %ld (%s)", bad, parse(c->in, bad, &a), a.why ? a.why : "");
}

static void
test_v2_bad(void)
{
	static const unsigned char tcp4[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	static char big[PROXY_HDR_MAX];
	struct badcase c[9];
	char (*h)[BUF_MAX] = malloc(NELEM(c) * BUF_MAX);
	size_t i;

	if (h == NULL)
		tap_bail("out of memory");
	memset(h, 0, NELEM(c) * BUF_MAX);
	c[0] = (struct badcase){ "v2: version 1", h[0], v2(h[0], 0x11, 0x11, tcp4, 12), "version", 13 };
	c[1] = (struct badcase){ "v2: version 3", h[1], v2(h[1], 0x31, 0x11, tcp4, 12), "version", 13 };
	c[2] = (struct badcase){ "v2: command 2", h[2], v2(h[2], 0x22, 0x11, tcp4, 12), "command", 13 };
	c[3] = (struct badcase){ "v2: UDP over IPv4", h[3], v2(h[3], 0x21, 0x12, tcp4, 12), "family", 14 };
	c[4] = (struct badcase){ "v2: family 4", h[4], v2(h[4], 0x21, 0x41, tcp4, 12), "family", 14 };
	c[5] = (struct badcase){ "v2: TCP4 in 11 bytes", h[5], v2(h[5], 0x21, 0x11, tcp4, 11), "shorter", 16 };
	c[6] = (struct badcase){ "v2: TCP6 in 12 bytes", h[6], v2(h[6], 0x21, 0x21, tcp4, 12), "shorter", 16 };
	c[7] = (struct badcase){ "v2: oversize (1025 bytes)", h[7],
	    v2(h[7], 0x21, 0x11, big, PROXY_HDR_MAX + 1 - 16), "longer than janusd accepts", 16 };
	memcpy(h[8], "\r\n\r\n\0\r\nQUIX\n", 12);
	c[8] = (struct badcase){ "v2: a wrong signature byte", h[8], 28, "not a PROXY", 11 };
	for (i = 0; i < NELEM(c); i++)
		check_bad(&c[i]);
	free(h);
}

/* test_longest - a v2 header of exactly PROXY_HDR_MAX bytes is taken. */
static void
test_longest(void)
{
	static const struct want w = { "v2: TCP4 with TLVs, PROXY_HDR_MAX bytes", 4, "1.2.3.4",
		"5.6.7.8", 1, 2 };
	static unsigned char body[PROXY_HDR_MAX - 16];
	static char hdr[PROXY_HDR_MAX + sizeof(CLIENT)];
	static const unsigned char tcp4[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	size_t n;

	memcpy(body, tcp4, sizeof(tcp4));
	n = v2(hdr, 0x21, 0x11, body, sizeof(body));
	check_valid(hdr, n, with_client(hdr, hdr, n), &w, 2);
}

int
main(void)
{
	char buf[BUF_MAX];
	size_t i, n;

	tap_plan((int)(3 * NELEM(v1cases) + 3 * 7 + 2 * NELEM(v1bad) + 2 * 9 + 3));
	for (i = 0; i < NELEM(v1cases); i++) {
		n = strlen(v1cases[i].line);
		check_valid(buf, n, with_client(buf, v1cases[i].line, n), &v1cases[i].w, 1);
	}
	test_v2_valid();
	for (i = 0; i < NELEM(v1bad); i++)
		check_bad(&v1bad[i]);
	test_v2_bad();
	test_longest();
	return tap_done();
}
