/*
 * master/master.h - the master process: its state and its parts.
 *
 * Owns: struct master, the one state of the master process, with its
 * fixed table of slots: one per worker, and with `cluster` set one more
 * after them (slots[nslots]) for the cluster bridge, supervised the same
 * way. A worker slot keeps its listening socket and its eventfd for the
 * life of the master, so a worker respawned into it inherits the socket
 * and the connections queued on it; the bridge's slot has an eventfd and
 * no socket.
 * Must not be included by worker code: workers get what they need
 * through struct worker.
 */
#ifndef JANUSD_MASTER_MASTER_H
#define JANUSD_MASTER_MASTER_H

#include <stdint.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "lib/conf.h"
#include "shm/segment.h"

#define MASTER_MAX_OVERRIDES 64

enum master_state {
	MASTER_RUNNING = 0,
	MASTER_STOPPING,       /* TERM/INT: workers told to stop now */
	MASTER_DRAINING        /* QUIT: workers finish what they owe */
};

struct slot {
	pid_t pid;             /* 0 while no worker runs in it */
	int lfd;               /* listening socket, SO_REUSEPORT */
	int hfd;               /* the HTTP/WebSocket listener's, or -1 (http_port 0) */
	uint64_t started;      /* ms, monotonic */
	uint64_t respawn_at;   /* ms, monotonic; 0 if no respawn is due */
	unsigned fails;        /* deaths soon after start, in a row */
	int fatal;             /* exited with status 2: never respawned */
};

struct master {
	struct conf conf;
	struct sockaddr_storage addr;  /* the resolved listen address */
	socklen_t addrlen;
	struct sockaddr_storage haddr; /* the same with http_port */
	socklen_t haddrlen;
	const char *conf_path;
	const char *overrides[MASTER_MAX_OVERRIDES];  /* KEY=VALUE from the command line */
	unsigned noverrides;
	char override_buf[MASTER_MAX_OVERRIDES][CONF_PATH_MAX + 32];
	struct shm shm;
	unsigned nslots;       /* worker slots */
	unsigned nchildren;    /* nslots, plus one for the bridge when `cluster` is set */
	struct slot slots[CONF_MAX_WORKERS + 1];
	int efds[CONF_MAX_WORKERS + 1];  /* each slot's eventfd, which publishers signal; -1 if none */
	int pidfile_fd;
	int ready_fd;          /* -d: tells the waiting parent that start-up worked */
	enum master_state state;
	uint64_t kill_at;      /* ms, monotonic: SIGKILL workers still alive then */
	int exit_code;
};

/* master/cycle.c */
int cycle_run(struct master *m);

/* master/config.c */
int config_load(struct master *m, struct conf *c, char *err, size_t errlen);
void config_reload(struct master *m);

/* master/listen.c */
int listen_open(struct master *m, char *err, size_t errlen);
int listen_start(struct master *m, char *err, size_t errlen);
int listen_slot(struct master *m, unsigned slot, char *err, size_t errlen);
void listen_retune(struct master *m);
void listen_slot_close(struct master *m, unsigned slot);
void listen_close(struct master *m);

/* master/spawn.c */
int spawn_all(struct master *m);
void spawn_reap(struct master *m);
void spawn_due(struct master *m);
void spawn_signal_all(struct master *m, int sig);
unsigned spawn_alive(const struct master *m);
int spawn_next_ms(const struct master *m);

/* master/signals.c */
enum master_sig { MSIG_CHLD = 1, MSIG_STOP = 2, MSIG_DRAIN = 4, MSIG_RELOAD = 8, MSIG_STATS = 16 };
int signals_init(sigset_t *wait);
unsigned signals_take(void);

/* master/notify.c */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* master/daemon.c */
int daemon_pidfile_lock(struct master *m, char *err, size_t errlen);
void daemon_pidfile_write(struct master *m);
void daemon_pidfile_remove(struct master *m);
int daemon_detach(struct master *m, char *err, size_t errlen);
void daemon_ready(struct master *m, int ok);

/* master/stats.c */
int stats_print(unsigned port);
void stats_log(struct master *m);

#endif
