/*
 * lib/log.c - the log: one line per event on stderr, with level and pid.
 *
 * Owns: the per-process log state. Under systemd (JOURNAL_STREAM set) a
 * line starts with the <N> syslog priority the journal understands and
 * leaves time stamps to the journal; elsewhere it starts with the local
 * time. Must not allocate: it runs on error paths.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static const char *const log_names[] = { "error", "warn", "notice", "info", "debug" };
static const int log_syslog_prio[] = { 3, 4, 5, 6, 7 };

static struct {
	enum log_level level;
	char role[32];
	int journal;
} log_state = { LOG_LVL_NOTICE, "janusd", 0 };

/* log_init - set role and level; detect whether stderr is the journal. */
void
log_init(const char *role, enum log_level level)
{
	log_set_role(role);
	log_state.level = level;
	log_state.journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_state.level = level;
}

void
log_set_role(const char *role)
{
	snprintf(log_state.role, sizeof(log_state.role), "%s", role);
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i]) == 0)
			return (int)i;
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level <= log_state.level;
}

/* log_prefix - the start of a line: priority or time, pid, role, level. */
static int
log_prefix(char *buf, size_t cap, enum log_level level)
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	if (log_state.journal)
		return snprintf(buf, cap, "<%d>janusd[%ld]: %s: %s: ",
		    log_syslog_prio[level], (long)getpid(), log_state.role,
		    log_names[level]);
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(buf, cap, "%s.%03ld janusd[%ld]: %s: %s: ", stamp,
	    (long)(tv.tv_usec / 1000), (long)getpid(), log_state.role,
	    log_names[level]);
}

/* log_msg - format and write one line; errno is preserved for the caller. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved = errno, n, m;

	if (!log_enabled(level))
		return;
	n = log_prefix(line, sizeof(line), level);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report a failing log */
	}
	errno = saved;
}
