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
#define CONF_ORIGINS_MAX  1024
#define CONF_CLUSTER_MAX  1024  /* the cluster setting: a list of nats:// URLs */
#define CONF_PREFIX_MAX   256   /* cluster_prefix, with its NUL (proto/subject.h's SUBJECT_PREFIX_MAX) */
#define CONF_NAME_MAX     128   /* cluster_name, with its NUL */

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
	uint32_t http_port;        /* the HTTP and WebSocket listener; 0 = off */
	char cluster[CONF_CLUSTER_MAX];      /* NATS servers to bridge to; empty: no bridge */
	char cluster_prefix[CONF_PREFIX_MAX];
	char cluster_name[CONF_NAME_MAX];    /* empty: janusd@HOST:PORT */

	/* applied live on SIGHUP */
	uint32_t max_frame;
	uint32_t max_topic_len;
	uint32_t max_subs;
	uint32_t max_conns;        /* per worker; 0 = from RLIMIT_NOFILE */
	uint64_t max_backlog;      /* bytes a stalled subscriber may be behind; 0 = ring_size */
	uint32_t stall_timeout_ms; /* a subscriber that took no bytes this long is stalled */
	uint32_t pace_timeout_ms;  /* the longest a publish waits for reading subscribers; 0 = never */
	uint32_t frame_timeout_ms;
	uint32_t heartbeat_ms;
	uint32_t drain_timeout_ms;
	uint32_t tcp_keepalive_s;  /* 0 = off */
	uint32_t slow_policy;
	uint32_t log_level;
	uint32_t max_conns_per_ip;   /* 0 = no limit */
	uint32_t max_topics_per_ip;  /* topics one address may pin; 0 = no limit */
	uint32_t idle_timeout_ms;    /* a connection without subscriptions; 0 = never */
	uint64_t max_frame_memory;   /* bytes of unfinished frames per worker */
	uint32_t http_head_max;      /* bytes of an HTTP request head */
	uint32_t http_timeout_ms;    /* time to finish an HTTP request head */
	uint32_t io_uring;           /* write fan-out batches through io_uring where the kernel offers it */
	struct conf_nets stats_allow;   /* who may read the page, /stats and /metrics */
	struct conf_nets proxy_allow;   /* peers that send a PROXY protocol header first */
	char ws_origins[CONF_ORIGINS_MAX];  /* allowed browser Origins, space-separated; "any" */
	uint32_t cluster_reconnect_ms;  /* the longest wait between attempts to reach NATS */
	uint32_t cluster_linger_ms;     /* a topic's last subscriber left: unsubscribe after this */
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

/* conf_origin_allowed - whether a browser Origin (len bytes) is in ws_origins. */
int conf_origin_allowed(const struct conf *c, const char *origin, size_t len);

/* conf_nets_match - whether addr (4 or 16 bytes by family) is in nets. */
int conf_nets_match(const struct conf_nets *nets, int family,
    const uint8_t *addr);

#endif
