/*
 * master/signals.c - the master's signals.
 *
 * Owns: the handlers, which only record which signals arrived (handler
 * code runs at unpredictable moments, so it touches nothing else), and
 * the mask: signals are blocked except while the master waits in ppoll,
 * so the loop sees them at one well-defined point.
 *   TERM, INT  stop now        QUIT  drain, then stop
 *   HUP        reload          CHLD  reap      USR1  log counters
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sig.h"
#include "master/master.h"

static volatile sig_atomic_t signals_seen;

static void
signals_on(int sig)
{
	switch (sig) {
	case SIGCHLD:
		signals_seen |= MSIG_CHLD;
		break;
	case SIGTERM:
	case SIGINT:
		signals_seen |= MSIG_STOP;
		break;
	case SIGQUIT:
		signals_seen |= MSIG_DRAIN;
		break;
	case SIGHUP:
		signals_seen |= MSIG_RELOAD;
		break;
	case SIGUSR1:
		signals_seen |= MSIG_STATS;
		break;
	}
}

int
signals_init(sigset_t *wait)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 };

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_error("signal(SIGPIPE) failed: %s", strerror(errno));
		return -1;
	}
	return sig_catch(sigs, sizeof(sigs) / sizeof(sigs[0]), signals_on, wait);
}

/* signals_take - the signals seen since the last call; clears them first. */
unsigned
signals_take(void)
{
	unsigned seen = (unsigned)signals_seen;

	signals_seen = 0;
	return seen;
}
