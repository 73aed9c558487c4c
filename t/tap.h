/*
 * t/tap.h - Test Anything Protocol output for the C tests.
 *
 * Owns: the plan, numbering, ok/not ok lines and diagnostics on stdout.
 * A failing check prints what it expected and what it got.
 */
#ifndef JANUSD_T_TAP_H
#define JANUSD_T_TAP_H

#include <stddef.h>

void tap_plan(int n);
void tap_skip_all(const char *why);
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tap_is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tap_is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tap_is_mem(const void *got, size_t got_len, const void *want,
    size_t want_len, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void tap_skip(int n, const char *why);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* tap_failed - whether any test failed so far. */
int tap_failed(void);
/* tap_done - exit status: 0 if every planned test ran and passed. */
int tap_done(void);

#endif
