/*
 * proto/proxy.c - the PROXY protocol header (haproxy's, versions 1 and 2).
 *
 * Owns: telling a header's beginning from anything else as soon as the
 * bytes allow (so a client that sends no header is refused at once, not
 * after PROXY_HDR_MAX bytes), the v1 line's fields (addresses through
 * inet_pton, the reference for their text), and the v2 block's version,
 * command, family and length; v2 TLVs are skipped unread. Every read is
 * bounded by len; nothing is allocated.
 * Must not know about sockets, connections or which peers may send one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "proto/proxy.h"

#define PROXY_V1_SIG    "PROXY "
#define PROXY_V1_SIGLEN 6
#define PROXY_V2_SIGLEN 12
#define PROXY_V2_HDR    16     /* signature, version/command, family, length */

static const char proxy_v2_sig[PROXY_V2_SIGLEN] = "\r\n\r\n\0\r\nQUIT\n";

/* v2 command (low nibble of byte 12) and family/transport (byte 13) */
enum { PROXY_LOCAL = 0x0, PROXY_PROXY = 0x1 };
enum {
	PROXY_UNSPEC = 0x00,
	PROXY_TCP4 = 0x11,
	PROXY_TCP6 = 0x21,
	PROXY_UNIX_STREAM = 0x31
};

/* proxy_fail - note why and refuse. */
static long
proxy_fail(struct proxy_addr *out, const char *why)
{
	out->why = why;
	return -1;
}

/* proxy_begins - whether buf[0, len) and sig[0, n) agree as far as both go. */
static int
proxy_begins(const char *buf, size_t len, const char *sig, size_t n)
{
	return memcmp(buf, sig, len < n ? len : n) == 0;
}

/* proxy_unmap - an IPv4-mapped IPv6 address becomes IPv4, as accept's are. */
static void
proxy_unmap(struct proxy_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (out->family != 6 || memcmp(out->src, mapped, 12) != 0 ||
	    memcmp(out->dst, mapped, 12) != 0)
		return;
	out->family = 4;
	memmove(out->src, out->src + 12, 4);
	memmove(out->dst, out->dst + 12, 4);
	memset(out->src + 4, 0, 12);
	memset(out->dst + 4, 0, 12);
}

/*
 * proxy_v1_partial - whether an unfinished line from its protocol word on
 * (w, n bytes, no CRLF yet) can still become a valid one: a known word,
 * and for TCP4/TCP6 only the characters of addresses and ports, spaces
 * and a last '\r'. Anything may follow UNKNOWN.
 */
static int
proxy_v1_partial(const char *w, size_t n)
{
	static const char *const words[] = { "TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r" };
	static const char fields[] = "0123456789abcdefABCDEF.: ";
	size_t i, k = sizeof(words) / sizeof(words[0]);

	for (i = 0; i < k; i++)
		if (proxy_begins(w, n, words[i], strlen(words[i])))
			break;
	if (i == k)
		return 0;
	if (n <= 5 || w[0] != 'T')
		return 1;
	for (i = 5; i < n; i++)
		if ((w[i] == '\0' || strchr(fields, w[i]) == NULL) && !(w[i] == '\r' && i == n - 1))
			return 0;
	return 1;
}

/* proxy_v1_addr - one address field, as inet_pton reads it. */
static int
proxy_v1_addr(const char *f, size_t n, int af, uint8_t *dst)
{
	char text[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(text) || memchr(f, '\0', n) != NULL)
		return -1;
	memcpy(text, f, n);
	text[n] = '\0';
	return inet_pton(af, text, dst) == 1 ? 0 : -1;
}

/* proxy_v1_port - one port field: 1 to 5 decimal digits, at most 65535. */
static int
proxy_v1_port(const char *f, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(f[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* proxy_v1_tcp - "SRC DST SPORT DPORT" after TCP4/TCP6: single spaces, nothing more. */
static long
proxy_v1_tcp(const char *p, const char *end, int six, struct proxy_addr *out)
{
	const char *f[4], *sp;
	size_t n[4];
	int i;

	for (i = 0; i < 4; i++) {
		sp = i < 3 ? memchr(p, ' ', (size_t)(end - p)) : end;
		if (sp == NULL)
			return proxy_fail(out, "v1 line has fewer than four fields after the protocol");
		f[i] = p;
		n[i] = (size_t)(sp - p);
		p = sp + 1;
	}
	if (memchr(f[3], ' ', n[3]) != NULL)
		return proxy_fail(out, "v1 line has more than four fields after the protocol");
	out->family = six ? 6 : 4;
	if (proxy_v1_addr(f[0], n[0], six ? AF_INET6 : AF_INET, out->src) < 0)
		return proxy_fail(out, six ? "v1 source is not an IPv6 address" :
		    "v1 source is not an IPv4 address");
	if (proxy_v1_addr(f[1], n[1], six ? AF_INET6 : AF_INET, out->dst) < 0)
		return proxy_fail(out, six ? "v1 destination is not an IPv6 address" :
		    "v1 destination is not an IPv4 address");
	if (proxy_v1_port(f[2], n[2], &out->src_port) < 0)
		return proxy_fail(out, "v1 source port is not a number from 0 to 65535");
	if (proxy_v1_port(f[3], n[3], &out->dst_port) < 0)
		return proxy_fail(out, "v1 destination port is not a number from 0 to 65535");
	proxy_unmap(out);
	return 0;
}

/* proxy_v1_line - a whole line's protocol word and fields, w up to eol. */
static long
proxy_v1_line(const char *w, const char *eol, struct proxy_addr *out)
{
	size_t n = (size_t)(eol - w);

	/* the spec: whatever follows UNKNOWN up to the line's end is ignored */
	if (n >= 7 && memcmp(w, "UNKNOWN", 7) == 0 && (n == 7 || w[7] == ' '))
		return 0;
	if (n >= 4 && (memcmp(w, "TCP4", 4) == 0 || memcmp(w, "TCP6", 4) == 0)) {
		if (n == 4 || w[4] != ' ')
			return proxy_fail(out, "v1 line has fewer than four fields after the protocol");
		return proxy_v1_tcp(w + 5, eol, w[3] == '6', out);
	}
	return proxy_fail(out, "v1 protocol is not TCP4, TCP6 or UNKNOWN");
}

/* proxy_v1 - "PROXY TCP4|TCP6|UNKNOWN ...\r\n", at most PROXY_V1_MAX bytes. */
static long
proxy_v1(const char *buf, size_t len, struct proxy_addr *out)
{
	size_t lim = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	const char *w = buf + PROXY_V1_SIGLEN, *p;

	out->version = 1;
	for (p = buf; p + 1 < buf + lim; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return proxy_v1_line(w, p, out) < 0 ? -1 : p + 2 - buf;
	if (len >= PROXY_V1_MAX)
		return proxy_fail(out, "v1 line is longer than 107 bytes");
	/* refuse what cannot become a header now rather than after 107 bytes */
	if (len > PROXY_V1_SIGLEN && !proxy_v1_partial(w, len - PROXY_V1_SIGLEN))
		return proxy_fail(out, "v1 line is not TCP4, TCP6 or UNKNOWN with addresses and ports");
	return 0;
}

/* proxy_v2_addrs - the address block of a PROXY command; p is at byte 16. */
static void
proxy_v2_addrs(const uint8_t *p, unsigned fam, struct proxy_addr *out)
{
	size_t n = fam == PROXY_TCP4 ? 4 : 16;

	if (fam != PROXY_TCP4 && fam != PROXY_TCP6)
		return;
	out->family = fam == PROXY_TCP4 ? 4 : 6;
	memcpy(out->src, p, n);
	memcpy(out->dst, p + n, n);
	out->src_port = (uint16_t)(p[2 * n] << 8 | p[2 * n + 1]);
	out->dst_port = (uint16_t)(p[2 * n + 2] << 8 | p[2 * n + 3]);
	proxy_unmap(out);
}

/* proxy_v2_need - the bytes of address block a command and family need, or -1. */
static long
proxy_v2_need(unsigned cmd, unsigned fam)
{
	if (cmd == PROXY_LOCAL)
		return 0;  /* the spec: the family of a LOCAL header is ignored */
	switch (fam) {
	case PROXY_UNSPEC: return 0;
	case PROXY_TCP4: return 12;
	case PROXY_TCP6: return 36;
	case PROXY_UNIX_STREAM: return 216;
	default: return -1;
	}
}

/* proxy_v2 - the binary header: 16 bytes, then the block its length gives. */
static long
proxy_v2(const char *buf, size_t len, struct proxy_addr *out)
{
	const uint8_t *p = (const uint8_t *)buf;
	size_t total;
	long need = 0;

	out->version = 2;
	if (len > 12 && p[12] >> 4 != 2)
		return proxy_fail(out, "v2 version is not 2");
	if (len > 12 && (p[12] & 0xf) > PROXY_PROXY)
		return proxy_fail(out, "v2 command is neither LOCAL nor PROXY");
	if (len > 13 && (need = proxy_v2_need(p[12] & 0xf, p[13])) < 0)
		return proxy_fail(out, "v2 family is not one of a stream's (TCP4, TCP6, UNIX, UNSPEC)");
	if (len < PROXY_V2_HDR)
		return 0;
	total = PROXY_V2_HDR + ((size_t)p[14] << 8 | p[15]);
	if (total > PROXY_HDR_MAX)
		return proxy_fail(out, "v2 header is longer than janusd accepts (1024 bytes)");
	if (total < PROXY_V2_HDR + (size_t)need)
		return proxy_fail(out, "v2 length is shorter than its addresses");
	if (len < total)
		return 0;
	if ((p[12] & 0xf) == PROXY_PROXY)
		proxy_v2_addrs(p + PROXY_V2_HDR, p[13], out);
	return (long)total;
}

long
proxy_parse(const char *buf, size_t len, struct proxy_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (proxy_begins(buf, len, PROXY_V1_SIG, PROXY_V1_SIGLEN))
		return proxy_v1(buf, len, out);
	if (proxy_begins(buf, len, proxy_v2_sig, PROXY_V2_SIGLEN))
		return proxy_v2(buf, len, out);
	return proxy_fail(out, "not a PROXY protocol header");
}
