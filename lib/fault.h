/*
 * lib/fault.h - fault injection for the robustness tests.
 *
 * Owns: the JANUSD_FAULT hooks. They exist only in a build configured
 * with --enable-fault-injection; in any other build fault_point() and
 * fault_context() compile to nothing and the environment is never read.
 *
 * JANUSD_FAULT=POINT[:CONTEXT] makes the process that reaches POINT
 * (with CONTEXT, if given, equal to the current context) kill itself
 * with SIGKILL there, as a crash would (fault_point), or take the failure
 * path there (fault_fail).
 */
#ifndef JANUSD_LIB_FAULT_H
#define JANUSD_LIB_FAULT_H

#ifdef JANUSD_FAULTS
void fault_point(const char *point, const char *ctx);
int fault_fail(const char *point, const char *ctx);
void fault_context(const char *ctx, unsigned len);
#else
#define fault_point(point, ctx) ((void)0)
#define fault_fail(point, ctx) 0
#define fault_context(ctx, len) ((void)0)
#endif

#endif
