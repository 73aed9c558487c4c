/*
 * proto/base64.c - base64 (RFC 4648 section 4).
 *
 * Owns: the alphabet and the 3-bytes-to-4-characters grouping.
 */
#include "config.h"

#include <stdint.h>

#include "proto/base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode(char *dst, const void *src, size_t len)
{
	const unsigned char *p = src;
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		dst[o++] = base64_alphabet[v >> 18];
		dst[o++] = base64_alphabet[v >> 12 & 63];
		dst[o++] = base64_alphabet[v >> 6 & 63];
		dst[o++] = base64_alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		dst[o++] = base64_alphabet[v >> 18];
		dst[o++] = base64_alphabet[v >> 12 & 63];
		dst[o++] = i + 1 < len ? base64_alphabet[v >> 6 & 63] : '=';
		dst[o++] = '=';
	}
	return o;
}

/* base64_value - a character's 6 bits, or -1 if it is not in the alphabet. */
static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
base64_decode(void *dst, size_t cap, const char *src, size_t len)
{
	unsigned char *out = dst;
	size_t i, o = 0, pad = 0, n;
	uint32_t v;
	int j, d;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && src[len - 1] == '=')
		pad = src[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -1;
	for (i = 0; i < len; i += 4) {
		v = 0;
		n = i + 4 == len ? 4 - pad : 4;
		for (j = 0; j < 4; j++) {
			d = (size_t)j < n ? base64_value(src[i + j]) : 0;
			if (d < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		/* Bits that padding cuts off must be zero (canonical form). */
		if ((pad == 1 && n == 3 && (v & 0xff) != 0) ||
		    (pad == 2 && n == 2 && (v & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (n > 2)
			out[o++] = (unsigned char)(v >> 8);
		if (n > 3)
			out[o++] = (unsigned char)v;
	}
	return (long)o;
}
