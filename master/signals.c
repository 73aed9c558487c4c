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
	struct sigaction sa;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		log_error("sigaction(SIGPIPE) failed: %s", strerror(errno));
		return -1;
	}
	sa.sa_handler = signals_on;
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			log_error("sigaction(%d) failed: %s", sigs[i], strerror(errno));
			return -1;
		}
	}
	if (sigprocmask(SIG_BLOCK, &block, wait) < 0) {
		log_error("sigprocmask() failed: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(wait, sigs[i]);
	return 0;
}

/* signals_take - the signals seen since the last call; clears them first. */
unsigned
signals_take(void)
{
	unsigned seen = (unsigned)signals_seen;

	signals_seen = 0;
	return seen;
}
