/*
 * t/tap.c - Test Anything Protocol output for the C tests.
 *
 * Owns: the test counter and the ok/not ok lines. Everything goes to
 * stdout, which the TAP driver reads; diagnostics start with "# ".
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static struct {
	int planned;
	int run;
	int failed;
} tap;

void
tap_plan(int n)
{
	tap.planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void
tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

static int __attribute__((format(printf, 2, 0)))
tap_report(int cond, const char *fmt, va_list ap)
{
	tap.run++;
	if (!cond)
		tap.failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap.run);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_report(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
tap_is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	tap_report(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  got: %lld\n  expected: %lld", got, want);
	return cond;
}

int
tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	cond = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;
	va_start(ap, fmt);
	tap_report(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  got: '%s'\n  expected: '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return cond;
}

/* tap_dump - print bytes readably: control bytes as \xNN. */
static void
tap_dump(const char *label, const unsigned char *p, size_t len)
{
	size_t i, shown = len > 400 ? 400 : len;

	printf("#   %s (%zu bytes): '", label, len);
	for (i = 0; i < shown; i++) {
		if (isprint(p[i]) && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	printf("'%s\n", shown < len ? "..." : "");
}

int
tap_is_mem(const void *got, size_t got_len, const void *want, size_t want_len,
    const char *fmt, ...)
{
	va_list ap;
	int cond = got_len == want_len && (want_len == 0 ||
	    (got != NULL && memcmp(got, want, want_len) == 0));

	va_start(ap, fmt);
	tap_report(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		tap_dump("got", got ? got : "", got ? got_len : 0);
		tap_dump("expected", want, want_len);
		fflush(stdout);
	}
	return cond;
}

void
tap_skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap.run, why);
	fflush(stdout);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;
	char line[4096];
	char *s, *nl;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (s = line; s != NULL; s = nl) {
		nl = strchr(s, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		printf("# %s\n", s);
	}
	fflush(stdout);
}

void
tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

int
tap_failed(void)
{
	return tap.failed;
}

int
tap_done(void)
{
	if (tap.run != tap.planned)
		tap_diag("planned %d tests but ran %d", tap.planned, tap.run);
	return tap.failed == 0 && tap.run == tap.planned ? 0 : 1;
}
