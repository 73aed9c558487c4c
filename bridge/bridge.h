/*
 * bridge/bridge.h - the cluster bridge process, as the master starts it.
 *
 * Owns: the entry point and the check of the cluster settings. The
 * master fills in a struct bridge (bridge/state.h: the segment, the
 * workers' eventfds and the bridge's own) in the new process and calls
 * bridge_main, whose return value is the process's exit status: 0 for a
 * normal stop, 2 for "cannot run, do not respawn".
 * Must not be included by the bridge's own files: they use state.h.
 */
#ifndef JANUSD_BRIDGE_BRIDGE_H
#define JANUSD_BRIDGE_BRIDGE_H

#include <stddef.h>

#include "bridge/state.h"
#include "lib/conf.h"

/* bridge_conf_check - cluster and cluster_prefix are usable (when cluster is set). 0, or -1 with err. */
int bridge_conf_check(const struct conf *c, char *err, size_t errlen);

int bridge_main(struct bridge *b);

#endif
