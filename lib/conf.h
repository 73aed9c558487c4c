/*
 * lib/conf.h - janusd's settings: their defaults, names, parsing and limits.
 *
 * Owns: struct conf, a plain value (no pointers) so the master can copy it
 * into the shared segment for the workers, and the table of keys that the
 * config file, -o KEY=VALUE and the man page share. Must not read the
 * environment or touch sockets: the master decides when to load what.
 */
#ifndef JANUSD_LIB_CONF_H
#define JANUSD_LIB_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_WORKERS  32
#define CONF_MAX_NETS     32
#define CONF_TOPIC_MAX    255   /* hard cap on max_topic_len: shm entries are sized for it */
#define CONF_KEY_MAX      128
#define CONF_PATH_MAX     256

enum slow_policy {
	SLOW_SKIP = 0,     /* version 2 sessions: gap frame, move on */
	SLOW_DISCONNECT    /* close with slow_consumer */
};

struct conf_net {
	uint8_t family;    /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16];
};

struct conf_nets {
	uint32_t n;
	struct conf_net net[CONF_MAX_NETS];
};

struct conf {
	/* fixed for the life of the master: a change needs a restart */
	uint32_t workers;
	uint32_t port;
	char listen[64];
	uint32_t listen_backlog;
	uint64_t ring_size;
	uint32_t max_topics;
	uint32_t daemonize;
	char pid_file[CONF_PATH_MAX];

	/* applied live on SIGHUP */
	uint32_t max_frame;
	uint32_t max_topic_len;
	uint32_t max_subs;
	uint32_t max_conns;        /* per worker; 0 = from RLIMIT_NOFILE */
	uint64_t max_backlog;      /* bytes a subscriber may fall behind */
	uint32_t frame_timeout_ms;
	uint32_t heartbeat_ms;
	uint32_t drain_timeout_ms;
	uint32_t tcp_keepalive_s;  /* 0 = off */
	uint32_t slow_policy;
	uint32_t log_level;
	struct conf_nets publish_allow;
	struct conf_nets subscribe_allow;
	char publish_key[CONF_KEY_MAX];
};

void conf_defaults(struct conf *c);

/*
 * conf_set - apply one setting. Returns 0, or -1 with a one-line reason in
 * err (e.g. "max_frame: '12x' is not a size").
 */
int conf_set(struct conf *c, const char *key, const char *val, char *err,
    size_t errlen);

/* conf_set_arg - apply "KEY=VALUE" (the -o option). */
int conf_set_arg(struct conf *c, const char *arg, char *err, size_t errlen);

/*
 * conf_load - apply every "key value" line of a file ('#' starts a comment).
 * Returns 0, or -1 with "FILE:LINE: reason" in err.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* conf_check - cross-setting checks, after all sources are applied. */
int conf_check(const struct conf *c, char *err, size_t errlen);

/*
 * conf_restart_diff - the name of the first restart-only setting that
 * differs between a and b (NULL if none), starting after key index *pos;
 * call repeatedly to list them all.
 */
const char *conf_restart_diff(const struct conf *a, const struct conf *b,
    size_t *pos);

/* conf_keep_restart - copy the restart-only settings of src into dst. */
void conf_keep_restart(struct conf *dst, const struct conf *src);

/* conf_nets_match - whether addr (4 or 16 bytes by family) is in nets. */
int conf_nets_match(const struct conf_nets *nets, int family,
    const uint8_t *addr);

#endif
