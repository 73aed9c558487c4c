/*
 * lib/sig.c - catching signals the way both process roles do.
 *
 * Owns: sigaction and sigprocmask calls. Handlers only set flags; the
 * blocking is what makes that safe: a handler runs only inside the one
 * wait call that unblocks it, never half-way through the loop's work.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sig.h"

int
sig_catch(const int *sigs, size_t n, void (*fn)(int), sigset_t *wait)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < n; i++) {
		sigaddset(&block, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			log_error("sigaction(%s) failed: %s", strsignal(sigs[i]), strerror(errno));
			return -1;
		}
	}
	if (sigprocmask(SIG_BLOCK, &block, wait) < 0) {
		log_error("sigprocmask() failed: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++)
		sigdelset(wait, sigs[i]);
	return 0;
}
