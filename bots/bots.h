/*
 * bots/bots.h - the run configuration every janus-bots process reads.
 *
 * Owns: struct bots_opts (filled once by bots/main.c, read-only after) and
 * struct bots_target (where the clients connect), plus the limits and exit
 * codes the subsystems share. Children get both by fork(), never by copying
 * them over a pipe.
 * Must not hold run-time state: each process role keeps its own struct.
 *
 * Names in bots/ never repeat the server's (worker/, master/), so that a
 * reader or a tag file tells them apart: a client connection is a struct
 * bot (bot_*), a child process a struct child (child_*), the publisher's
 * functions are pub_* and the command line's opts_*.
 */
#ifndef JANUS_BOTS_BOTS_H
#define JANUS_BOTS_BOTS_H

#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#define BOTS_NAME "janus-bots"

/* Exit status: every client good / some bad / usage or setup error. */
#define BOTS_EXIT_OK 0
#define BOTS_EXIT_BAD 1
#define BOTS_EXIT_SETUP 2

#define BOTS_MAX_WRITERS 64
#define BOTS_MAX_PUBLISHERS 64
#define BOTS_MAX_SIZE (1u << 20)
/* Lockstep keeps per-message counters in every child; bound them. */
#define BOTS_MAX_MESSAGES 10000000u
/* --noise: the most extra patterns per client (janusd's max_subs allows 1 << 20). */
#define BOTS_MAX_NOISE 1000000u
/* --flood: the most messages one run may publish. */
#define BOTS_FLOOD_MAX 2000000000u
/* Descriptors a process needs besides its connections (pipes, epoll, stdio). */
#define BOTS_FD_RESERVE 64
/* --from: the most reports one picture draws. */
#define BOTS_MAX_SERIES 16

/* How the parent shows a run's progress on standard error. */
enum bots_progress {
	BOTS_PROGRESS_OFF = 0,     /* -q */
	BOTS_PROGRESS_TTY,         /* one line, rewritten a few times a second */
	BOTS_PROGRESS_LINES        /* not a terminal: a line every few seconds */
};

struct bots_opts {
	unsigned clients;          /* -n */
	const char *host_name;     /* -H as given */
	struct in_addr host;       /* -H resolved */
	uint16_t port;             /* -p */
	uint16_t sub_ports[BOTS_MAX_WRITERS];  /* --sub-ports: subscribers' ports in turn; none: -p */
	unsigned nsub_ports;
	int ws;                    /* --ws: subscribers speak WebSocket, to its ports (sub_ports) */
	const char *topic;         /* -T */
	const char *sub_topic;     /* --sub-topic: what clients subscribe to (NULL: -T) */
	unsigned noise;            /* --noise: patterns per client besides, that -T never matches */
	unsigned messages;         /* -M (lockstep) */
	double gap_ms;             /* -G */
	unsigned size;             /* -s: published object size, 0 = minimal */
	double rate;               /* -r msg/s; 0 = lockstep mode */
	double duration_s;         /* -d */
	int flood;                 /* --flood: publish as fast as delivery keeps up, -d s */
	unsigned window;           /* --window: messages ahead of the slowest client */
	int lockstep;              /* neither -r nor --flood: -M messages one by one */
	double hold_s;             /* --hold: idle time between set-up and publishing */
	int persistent;            /* publish with Part 2 frames on kept-open connections */
	int ack;                   /* --ack: ask for {"published":...} replies */
	unsigned publishers;       /* --publishers: persistent connections */
	int floor;                 /* --floor: no server, our own writers */
	int floor_uring;           /* --floor-uring: the writers send through io_uring */
	unsigned writers;          /* --writers */
	unsigned inflight;         /* --inflight: unfinished handshakes per child */
	unsigned per_child;        /* --per-child: connections per child process */
	unsigned per_addr;         /* --per-addr: connections per source address */
	int spread_src;            /* bind clients to 127.0.0.2, .3, ... */
	double timeout_s;          /* --timeout: the whole run */
	double wait_s;             /* --wait: for one message to reach everyone */
	double bucket_ms;          /* --bucket; 0 = automatic */
	int json;                  /* --json */
	int quiet;                 /* -q: no text report, no progress */
	enum bots_progress progress;
	const char *svg;           /* --svg: draw the latency CDF into this file */
	const char *title;         /* --title: the picture's */
	const char *label;         /* --label: this run's curve */
	const char *from[BOTS_MAX_SERIES];  /* --from: draw these reports, run nothing */
	unsigned nfrom;
	int argc;                  /* the command line, for the picture's caption */
	char *const *argv;
	time_t started;            /* wall clock when the run began */
	uint32_t nonce;            /* names this run inside every message_id */
	unsigned planned;          /* messages each client expects (--flood: a bound) */
};

/* Where client I connects: host and port I % nports (the floor's writers, or --sub-ports). */
struct bots_target {
	struct in_addr addr;
	uint16_t ports[BOTS_MAX_WRITERS];
	unsigned nports;
};

#endif
