/*
 * bots/util.h - clocks, diagnostics and small helpers for janus-bots.
 *
 * Owns: the two clocks every latency is measured with, the "janus-bots: "
 * error line format, and the small hashing and hex helpers.
 * Must not know about clients, messages or processes.
 */
#ifndef JANUS_BOTS_UTIL_H
#define JANUS_BOTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* util_mono_ns - CLOCK_MONOTONIC in ns; the same clock in every process. */
int64_t util_mono_ns(void);
/* util_wall_us - wall clock in microseconds since the epoch. */
int64_t util_wall_us(void);
/* util_ms_until - milliseconds from now to DEADLINE_NS for epoll_wait, 0..CAP. */
int util_ms_until(int64_t deadline_ns, int cap);

void util_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* util_hex32 - format V as 8 lowercase hex digits (no terminator). */
void util_hex32(char *out, uint32_t v);
/* util_u64 - format V in decimal (no terminator); the digits written. */
size_t util_u64(char *out, uint64_t v);
/* util_hash - FNV-1a over LEN bytes, seeded with H. */
uint32_t util_hash(uint32_t h, const void *p, size_t len);

#endif
