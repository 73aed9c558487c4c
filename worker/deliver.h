/*
 * worker/deliver.h - everything a worker writes to its clients.
 *
 * Owns: a connection's output state (struct out in worker/state.h) and
 * the order bytes leave in. Nobody else reads or writes struct out.
 *
 * Invariants:
 * - Order on the wire: first the rest of a record a full socket cut short
 *   (out.part: copied aside, the only bytes at risk of being overwritten
 *   in the ring), then queued replies (out.ctl, each in a write of its own,
 *   as the original bots need for ACK), then gap reports, then records.
 * - A connection is either up to date (takes each fan-out batch as it is
 *   sent to everyone) or OUT_BEHIND: then out.cursor is the next ring
 *   record to consider for it and everything before the cursor that it
 *   is owed has been written whole or is in out.part. A cursor only moves
 *   back (deliver_from) or forward as records go out or are skipped.
 * - OUT_BLOCKED: the socket is full; nothing is written until EPOLLOUT
 *   (deliver_flush). OUT_DEAD: writes fail; the input side reads what is
 *   left, then closes. OUT_POSTED: a fan-out batch is with the write path
 *   (out.posted, one at a time): its result is accounted as a write's at
 *   deliver_settle, which a reply to c meanwhile waits for.
 * - After every write of ring bytes the ring is asked whether they were
 *   still whole; a connection that may have received a torn message is
 *   closed. Memory per connection is bounded: a cut record, at most
 *   DELIVER_MAX_CTL replies, no copies of records otherwise.
 * - Progress, not distance (flow control): a connection behind whose
 *   socket took bytes within stall_timeout is reading; otherwise it is
 *   stalled. A reading one is owed what it is behind, and the oldest
 *   record the worker's reading connections and its own fan-out still
 *   need is published for publishers (deliver_pace), which wait rather
 *   than give it up. A stalled one paces nobody.
 * - Slow consumers: one whose cursor points at records the ring has
 *   given up, or a stalled one more than max_backlog bytes behind (by
 *   default what the ring holds), is closed with slow_consumer or
 *   (version 2, slow_policy skip) moved to the newest record with a gap
 *   report.
 * - A resume (deliver_replay) is served after the gap reports and
 *   before the cursor's records, and keeps c behind until it is done, so
 *   nothing newer of its topic overtakes it. What the ring overwrites
 *   before a resume sent it is reported with a gap frame, after the
 *   records older than the loss and before the newer ones.
 * - No connection takes more than DELIVER_BUDGET batches per loop pass;
 *   one that had more is served again next pass, without the loop
 *   waiting (deliver_next_ms is 0).
 * - Heartbeats: out.last_tx is when a message last went out; the
 *   heartbeat list holds connections in last_tx order (PROTOCOL.md's
 *   rules: a Part 1 connection gets PING once per silence, and only after
 *   it has received a message; a version 2 or WebSocket connection
 *   (CONN_HB_EVERY) after every silent interval, and is closed after two
 *   with nothing from it). The probe is the transport's (a WebSocket Ping).
 * Must not read from sockets or change subscriptions.
 */
#ifndef JANUSD_WORKER_DELIVER_H
#define JANUSD_WORKER_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "worker/batch.h"
#include "worker/state.h"

#define DELIVER_MAX_CTL 256          /* replies a client may leave unread */
#define DELIVER_BUDGET  8            /* batches a connection gets per loop pass */
#define DELIVER_SCAN    4096         /* ring records looked at per batch gathered */

enum out_flag {
	OUT_BEHIND = 1 << 0,         /* delivery runs from the cursor, not the fan-out */
	OUT_BLOCKED = 1 << 1,        /* socket full: waiting for EPOLLOUT */
	OUT_DEAD = 1 << 2,           /* writes fail: read what is left, then close */
	OUT_LINGER = 1 << 3,         /* closing: what is queued goes out, nothing more; then close */
	OUT_POSTED = 1 << 4          /* a fan-out batch is with the write path until deliver_settle */
};

/* deliver_init - the worker's scratch for serving cursors; 0 or -1. */
int deliver_init(struct worker *w);

/*
 * deliver_reply - send a Janus frame (ending with \1) in a write of its
 * own, framed by c's transport, or queue it. Returns 0, or -1 if c was
 * closed.
 */
int deliver_reply(struct worker *w, struct conn *c, const char *frame, size_t len);

/* deliver_bytes - wire bytes as they are (an HTTP answer, a control frame), in order with replies. 0 or -1. */
int deliver_bytes(struct worker *w, struct conn *c, const char *p, size_t n);

/* deliver_greet - the greeting, the first frame of every Janus session. 0 or -1. */
int deliver_greet(struct worker *w, struct conn *c);

/*
 * deliver_finish - end c once what is queued for it has gone out (why
 * is logged then): nothing more is sent to it meanwhile, and its input
 * is ignored. At once if nothing is queued.
 */
void deliver_finish(struct worker *w, struct conn *c, const char *why);

/* deliver_finishing - whether c is being ended (deliver_finish). */
int deliver_finishing(const struct conn *c);

/* deliver_error - an error frame ({"error":CODE,"message":TEXT}). 0, or -1 if c was closed. */
int deliver_error(struct worker *w, struct conn *c, const char *code, const char *text);

/* deliver_gap - a gap frame for topic: records from..to may be lost. 0, or -1 if c was closed. */
int deliver_gap(struct worker *w, struct conn *c, const char *topic, size_t tlen,
    uint64_t from, uint64_t to);

/*
 * deliver_offer - the fan-out has a topic's records of this pass for c
 * (first is the first of them; bytes their total; pass_from the pass's
 * first sequence number; after: c's subscription wants records after
 * it; single: this is the only topic of the pass c gets). Returns 1 if c
 * takes them as built for everyone (deliver_batch), 0 if not: then its
 * cursor serves them. Asked once per topic per pass, before the first
 * batch.
 */
int deliver_offer(struct worker *w, struct conn *c, const struct ring_rec *first,
    uint64_t pass_from, uint64_t bytes, uint64_t after, int single);

/*
 * deliver_batch - write a fan-out batch to an up-to-date c in one call;
 * if the socket fills, c goes behind with its cursor at the first record
 * not yet begun. Does nothing if c is behind or cannot be written. The
 * write path may only queue the write (worker/wpath.h): b must stay as
 * it is until deliver_settle.
 */
void deliver_batch(struct worker *w, struct conn *c, const struct batch *b);

/*
 * deliver_settle - every batch deliver_batch handed on has been written
 * and accounted, exactly as if it had been written at once; call it
 * before any of those batches changes.
 */
void deliver_settle(struct worker *w);

/*
 * deliver_ready - whether c takes the next batch of a topic whose
 * earlier batches of this pass it took (it is not behind, closed or dead).
 */
int deliver_ready(const struct conn *c);

/*
 * deliver_from - deliver to c from record seq on: start its cursor there,
 * or move it back there if it is later (never forward: what it is owed
 * before seq stays owed).
 */
void deliver_from(struct worker *w, struct conn *c, uint64_t seq);

/*
 * deliver_replay - before anything newer, send c the records of topic
 * (id, gen) from start to until that the ring still holds, in order.
 * The cost is what it replays: the topic's records are walked through
 * their ring links, a bounded number per loop pass. 0, or -1 if c was
 * closed.
 */
int deliver_replay(struct worker *w, struct conn *c, uint32_t topic, uint32_t gen,
    uint64_t start, uint64_t until);

/*
 * deliver_replay_pattern - the same for a pattern (entry: its topic id):
 * the records from start to until whose topics it matches, the ring
 * scanned a bounded number of records per loop pass.
 *
 * A replay leaves out the records c gets through its other subscriptions
 * (live, or by a resume served before it), so a message matched several
 * ways reaches c once (PROTOCOL.md Part 4) also when c resumes them all.
 */
int deliver_replay_pattern(struct worker *w, struct conn *c, uint32_t entry, const char *pattern,
    size_t len, uint64_t start, uint64_t until);

/* deliver_next - the next ring record c will be considered for. */
uint64_t deliver_next(const struct worker *w, const struct conn *c);

/* deliver_behind - after a fan-out pass: serve every cursor, or check how far behind it is. */
void deliver_behind(struct worker *w);

/*
 * deliver_pace - after a loop pass: publish the oldest record this
 * worker still needs (shm_worker.need), and if it moved on, wake the
 * workers whose publishers wait for that.
 */
void deliver_pace(struct worker *w);

/* deliver_flush - c's socket has room again (EPOLLOUT): write what waited for it. */
void deliver_flush(struct worker *w, struct conn *c);

/* deliver_heartbeat_start - a version 2 session: heartbeats from now on. */
void deliver_heartbeat_start(struct worker *w, struct conn *c);

/* deliver_heartbeats - PING the silent, close the dead (version 2). */
void deliver_heartbeats(struct worker *w);

/* deliver_next_ms - ms until the next heartbeat is due (at most cap). */
int deliver_next_ms(const struct worker *w, int cap);

/* deliver_pending - whether c is still owed anything (a cut record, replies, gaps, records). */
int deliver_pending(const struct conn *c);

/* deliver_dead - whether writing to c has failed. */
int deliver_dead(const struct conn *c);

/* deliver_free - release c's output state (it is being freed). */
void deliver_free(struct conn *c);

#endif
