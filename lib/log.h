/*
 * lib/log.h - the log: one line per event on stderr, with level and pid.
 *
 * Owns: the log level, the role name ("master", "worker 2") and the line
 * format. Lines go out in one write(2) each, so lines of the master and
 * of the workers never interleave mid-line.
 */
#ifndef JANUSD_LIB_LOG_H
#define JANUSD_LIB_LOG_H

enum log_level {
	LOG_LVL_ERROR = 0,  /* a person must act: a worker died, a syscall failed */
	LOG_LVL_WARN,       /* something is wrong but janusd copes */
	LOG_LVL_NOTICE,     /* normal but significant: start, stop, respawn */
	LOG_LVL_INFO,       /* per-client events: closed for an error */
	LOG_LVL_DEBUG
};

void log_init(const char *role, enum log_level level);
void log_set_level(enum log_level level);
void log_set_role(const char *role);
/* log_level_parse - "error".."debug" to a level; -1 if unknown. */
int log_level_parse(const char *name);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)  do { if (log_enabled(LOG_LVL_DEBUG)) \
	log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
