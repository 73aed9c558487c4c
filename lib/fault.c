/*
 * lib/fault.c - fault injection for the robustness tests.
 *
 * Owns: matching JANUSD_FAULT against the points the code passes. Only
 * compiled into builds configured with --enable-fault-injection.
 */
#include "config.h"

#ifdef JANUSD_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"
#include "lib/log.h"

static char fault_ctx[256];

/* fault_context - what the next points are about (e.g. the topic published). */
void
fault_context(const char *ctx, unsigned len)
{
	if (len >= sizeof(fault_ctx))
		len = sizeof(fault_ctx) - 1;
	memcpy(fault_ctx, ctx, len);
	fault_ctx[len] = '\0';
}

/* fault_match - whether JANUSD_FAULT names this point (and context). */
static int
fault_match(const char *point, const char *ctx)
{
	const char *spec = getenv("JANUSD_FAULT"), *colon;
	size_t plen;

	if (spec == NULL)
		return 0;
	colon = strchr(spec, ':');
	plen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (strlen(point) != plen || strncmp(spec, point, plen) != 0)
		return 0;
	if (ctx == NULL)
		ctx = fault_ctx;
	return colon == NULL || strcmp(colon + 1, ctx) == 0;
}

/* fault_point - die here, as a crash would. */
void
fault_point(const char *point, const char *ctx)
{
	if (!fault_match(point, ctx))
		return;
	log_warn("fault injection: dying at %s (%s)", point, ctx ? ctx : fault_ctx);
	raise(SIGKILL);
}

/* fault_fail - whether to take the failure path here. */
int
fault_fail(const char *point, const char *ctx)
{
	if (!fault_match(point, ctx))
		return 0;
	log_warn("fault injection: failing at %s (%s)", point, ctx ? ctx : fault_ctx);
	return 1;
}
#endif
