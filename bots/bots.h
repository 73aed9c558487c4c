/*
 * bots/bots.h - the run configuration every janus-bots process reads.
 *
 * Owns: struct bots_opts (filled once by bots/main.c, read-only after) and
 * struct bots_target (where the clients connect), plus the limits and exit
 * codes the subsystems share. Children get both by fork(), never by copying
 * them over a pipe.
 * Must not hold run-time state: each process role keeps its own struct.
 */
#ifndef JANUS_BOTS_BOTS_H
#define JANUS_BOTS_BOTS_H

#include <netinet/in.h>
#include <stdint.h>

#define BOTS_NAME "janus-bots"
#define BOTS_VERSION "0.1.0"

/* Exit status: every client good / some bad / usage or setup error. */
#define BOTS_EXIT_OK 0
#define BOTS_EXIT_BAD 1
#define BOTS_EXIT_SETUP 2

#define BOTS_MAX_WRITERS 64
#define BOTS_MAX_PUBLISHERS 64
#define BOTS_MAX_SIZE (1u << 20)
/* Lockstep keeps per-message counters in every child; bound them. */
#define BOTS_MAX_MESSAGES 10000000u
/* --flood: the most messages one run may publish. */
#define BOTS_FLOOD_MAX 2000000000u
/* Descriptors a process needs besides its connections (pipes, epoll, stdio). */
#define BOTS_FD_RESERVE 64

struct bots_opts {
	unsigned clients;          /* -n */
	const char *host_name;     /* -H as given */
	struct in_addr host;       /* -H resolved */
	uint16_t port;             /* -p */
	const char *topic;         /* -T */
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
	unsigned writers;          /* --writers */
	unsigned inflight;         /* --inflight: unfinished handshakes per child */
	unsigned per_child;        /* --per-child: connections per child process */
	unsigned per_addr;         /* --per-addr: connections per source address */
	int spread_src;            /* bind clients to 127.0.0.2, .3, ... */
	double timeout_s;          /* --timeout: the whole run */
	double wait_s;             /* --wait: for one message to reach everyone */
	double bucket_ms;          /* --bucket; 0 = automatic */
	int json;                  /* --json */
	int quiet;                 /* -q: no text report */
	uint32_t nonce;            /* names this run inside every message_id */
	unsigned planned;          /* messages each client expects (--flood: a bound) */
};

/* Where client I connects: host and, in floor mode, writer I % nports. */
struct bots_target {
	struct in_addr addr;
	uint16_t ports[BOTS_MAX_WRITERS];
	unsigned nports;
};

#endif
