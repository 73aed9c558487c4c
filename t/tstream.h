/*
 * t/tstream.h - a numbered message stream for the tests that kill a
 * worker under load (t/kill_worker, t/ws_kill_worker): a persistent
 * publisher sending messages 0, 1, 2, ... at a fixed rate with acks, what
 * each version 2 subscriber received, and the check of that against the
 * acks (every message of its topic exactly once, in order).
 *
 * Owns: the publisher's side of the stream and the receivers' records.
 * Message n goes to topic PREFIX(n % ntopics) as
 * {"action":"publish","topic":T,"n":n,"data":"message n","ack":true}.
 * The transport a subscriber reads with is the test's.
 */
#ifndef JANUSD_T_TSTREAM_H
#define JANUSD_T_TSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "t/tlib.h"

/* The publisher and what its acks said. */
struct tstream {
	struct tc *pub;            /* greeted, on the Janus port */
	const char *prefix;
	unsigned ntopics, total, per_ms;
	uint64_t start;            /* when publishing began (tlib_ms) */
	unsigned sent, acked, errors;
	int dead;                  /* the publisher's connection failed */
	uint64_t *ack_seq;         /* message n's sequence number, for n < acked */
	char note[200];            /* the first reply that was not an ack */
};

/* tstream_init - a stream of total messages over ntopics topics, per_ms a ms from now. 0 or -1. */
int tstream_init(struct tstream *s, struct tc *pub, const char *prefix, unsigned ntopics,
    unsigned total, unsigned per_ms);

/* tstream_publish - send, in one write, what is due by now. */
void tstream_publish(struct tstream *s);

/* tstream_acks - take the publisher's replies that have come. */
void tstream_acks(struct tstream *s);

/* tstream_count - how many of the stream's messages go to topic. */
unsigned tstream_count(const struct tstream *s, unsigned topic);

/* tstream_free - release what init took (not the publisher's connection). */
void tstream_free(struct tstream *s);

/* What one subscriber received, in arrival order. */
struct tstream_recv {
	uint32_t *seq, *num;       /* per message: its seq and its "n" */
	size_t n, cap;
	uint64_t last;             /* the newest seq received (set it from hello before the first) */
};

/*
 * tstream_record - a version 2 message frame (without its end byte) of
 * topic PREFIX(topic): record its seq and "n". 0, or -1 if f is not one.
 */
int tstream_record(const struct tstream *s, struct tstream_recv *r, unsigned topic, const char *f);

/* tstream_recv_free - release a record. */
void tstream_recv_free(struct tstream_recv *r);

/* Totals of what a group of subscribers received, against what was acked. */
struct tstream_tally {
	unsigned clients, lost, dup, disorder, extra, corrupt;
};

/*
 * tstream_check - add one subscriber of topic to t: messages of its topic
 * missing, duplicated, out of order; others (extra), and of those the
 * ones whose seq is not the one acked (corrupt). -1 if out of memory.
 */
int tstream_check(const struct tstream *s, const struct tstream_recv *r, unsigned topic,
    struct tstream_tally *t);

/* tstream_clean - whether t counts no loss, duplicate, disorder or extra, over some clients. */
int tstream_clean(const struct tstream_tally *t);

#endif
