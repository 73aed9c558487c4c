/*
 * t/fuzz/fuzz.c - what the libFuzzer harnesses in t/fuzz/ share.
 *
 * Owns: the failure report, exact copies and the split generator of
 * t/fuzz/fuzz.h. Linked into every harness; no libFuzzer API is used
 * here, so the harnesses stay plain C.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/fuzz/fuzz.h"

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: check failed: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *
fuzz_copy(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL) {
		fputs("fuzz_copy: out of memory\n", stderr);
		abort();
	}
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/* fuzz_rand - splitmix64: any seed, even 0, gives a good sequence. */
uint32_t
fuzz_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}
