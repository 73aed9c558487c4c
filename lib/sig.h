/*
 * lib/sig.h - catching signals the way both process roles do.
 *
 * Owns: installing a flag-setting handler for a set of signals and
 * blocking them, so that they are only delivered where the caller
 * unblocks them on purpose (ppoll or epoll_pwait with the returned mask).
 */
#ifndef JANUSD_LIB_SIG_H
#define JANUSD_LIB_SIG_H

#include <signal.h>
#include <stddef.h>

/*
 * sig_catch - run fn for each of the n signals in sigs, block them, and
 * put in *wait the mask to wait with (the old mask without them).
 * Returns 0, or -1 after logging the failing call.
 */
int sig_catch(const int *sigs, size_t n, void (*fn)(int), sigset_t *wait);

#endif
