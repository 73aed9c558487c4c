/*
 * t/fuzz/fuzz.h - what the libFuzzer harnesses in t/fuzz/ share.
 *
 * Owns: failing a harness with a message when a result is wrong (libFuzzer
 * then keeps the input as a finding), exactly sized copies of inputs so
 * ASan sees any read past their end, and a small deterministic generator
 * for split points drawn from the input itself.
 */
#ifndef JANUSD_T_FUZZ_H
#define JANUSD_T_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* FUZZ_CHECK - abort, saying what was wrong, unless cond holds. */
#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* fuzz_copy - n bytes of p in a malloc'd block of exactly n bytes (free it). */
char *fuzz_copy(const void *p, size_t n);

/* fuzz_rand - the next number of a generator whose state the caller seeds. */
uint32_t fuzz_rand(uint64_t *state);

#endif
