/*
 * bots/util.c - clocks, diagnostics and small helpers for janus-bots.
 *
 * Owns: reading the clocks, the error line format, hashing and hex.
 * Must not know about clients, messages or processes.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "bots/bots.h"
#include "bots/util.h"

int64_t
util_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
util_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
util_ms_until(int64_t deadline_ns, int cap)
{
	int64_t left = deadline_ns - util_mono_ns();

	if (left <= 0)
		return 0;
	/* round up so that a wake-up is never a moment too early */
	left = (left + 999999) / 1000000;
	return left > cap ? cap : (int)left;
}

void
util_err(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/*
	 * One fprintf so that lines from several processes do not interleave;
	 * on a terminal the parent's progress line may be showing: erase it.
	 */
	fprintf(stderr, "%s" BOTS_NAME ": %s\n",
	    isatty(STDERR_FILENO) ? "\r\033[K" : "", line);
}

void
util_hex32(char *out, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = hex[v & 0xf];
		v >>= 4;
	}
}

size_t
util_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

uint32_t
util_hash(uint32_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	while (len-- > 0) {
		h ^= *s++;
		h *= 16777619u;
	}
	return h;
}
