/*
 * t/lock_recovery.c - unit test for shm_lock's repair after a dead owner.
 *
 * Owns: real robust-mutex recoveries: a forked child takes shm_lock()
 * and is killed (SIGKILL) while holding it: with a record reserved and
 * half-written, with a record whose slot is whole but head not moved,
 * right after a complete commit, and half-way through interning a
 * topic; the last two also once the slot index has wrapped. The parent
 * then takes the lock (the EOWNERDEAD path), checks the warning logged,
 * the ring's head and records, the topic table, and that publishing
 * goes on. The segment is always removed: atexit, fatal signals, and a
 * sanitizer's death callback.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "shm/segment.h"
#include "t/tap.h"
#include "t/tseg.h"

/* --- records the parent publishes, and what it expects to read back --- */

#define MAX_RECORDS 16384
#define MAX_LEN     256

static uint32_t rec_len[MAX_RECORDS + 1];
static uint64_t rec_off[MAX_RECORDS + 1];

/* record_ok - record seq reads back as published: place, length, bytes. */
static int
record_ok(uint64_t seq)
{
	struct ring_rec rec;
	char want[MAX_LEN];

	if (seq == 0 || seq > MAX_RECORDS || rec_len[seq] == 0 ||
	    ring_get(&seg.ring, seq, &rec) < 0)
		return 0;
	seg_record_fill(want, seq, rec_len[seq]);
	return rec.off == rec_off[seq] && rec.len == rec_len[seq] &&
	    memcmp(rec.bytes, want, rec.len) == 0;
}

/* note_record - remember where committed record seq is. */
static void
note_record(uint64_t seq)
{
	struct ring_rec rec;

	if (seq == 0 || seq > MAX_RECORDS || ring_get(&seg.ring, seq, &rec) < 0)
		tap_bail("record %llu not readable right after its commit", (unsigned long long)seq);
	rec_off[seq] = rec.off;
	rec_len[seq] = rec.len;
}

/* commit_locked - render record head+1 of len bytes and commit it; the lock is held. */
static uint64_t
commit_locked(uint32_t len)
{
	uint64_t seq = ring_head(&seg.ring) + 1;
	struct ring_meta meta = { .topic = (uint32_t)(seq % 16) };

	seg_record_fill(ring_reserve_locked(&seg.ring, len), seq, len);
	return ring_commit_locked(&seg.ring, len, &meta);
}

/* publish - one record, the whole lock/reserve/commit/unlock round. */
static uint64_t
publish(uint32_t len)
{
	uint64_t seq;

	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	seq = commit_locked(len);
	shm_unlock(&seg);
	note_record(seq);
	return seq;
}

/* find_first_bad - the first record from tail to head that does not read back, or 0. */
static uint64_t
find_first_bad(void)
{
	uint64_t s, head = ring_head(&seg.ring);

	for (s = ring_tail(&seg.ring); s <= head; s++)
		if (!record_ok(s))
			return s;
	return 0;
}

/* expect_whole_ring - every record the ring says it holds reads back. */
static void
expect_whole_ring(const char *what)
{
	uint64_t bad = find_first_bad();

	if (!tap_is_int((long long)bad, 0, "%s: every record from tail to head reads back", what))
		tap_diag("  record %llu is unreadable or wrong; tail %llu, head %llu",
		    (unsigned long long)bad, (unsigned long long)ring_tail(&seg.ring),
		    (unsigned long long)ring_head(&seg.ring));
}

/* --- dying with the lock held, and taking it afterwards --- */

/* die_holding - run fn in a child that takes the lock and is killed in fn. */
static void
die_holding(void (*fn)(void), const char *what)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tap_bail("fork() failed: %s", strerror(errno));
	if (pid == 0) {
		if (shm_lock(&seg) == 0)
			fn();
		_exit(3);  /* fn kills the child; getting here is a failure */
	}
	if (waitpid(pid, &status, 0) != pid)
		tap_bail("waitpid() failed: %s", strerror(errno));
	if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "%s: the child was killed holding the lock", what))
		tap_diag("  wait status 0x%x", status);
}

/* lock_capturing_log - shm_lock with stderr captured into log. */
static int
lock_capturing_log(char *log, size_t cap)
{
	char path[] = "/tmp/janusd-lock-recovery.XXXXXX";
	int fd = mkstemp(path), saved, rc;
	ssize_t n;

	if (fd < 0 || unlink(path) < 0 || (saved = dup(STDERR_FILENO)) < 0)
		tap_bail("cannot capture stderr: %s", strerror(errno));
	dup2(fd, STDERR_FILENO);
	rc = shm_lock(&seg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, log, cap - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

/* expect_log - the captured log line says what; shows the line if not. */
static void
expect_log(const char *log, const char *want, const char *what)
{
	if (!tap_ok(strstr(log, want) != NULL, "%s: log says '%s'", what, want))
		tap_diag("  log: '%s'", log);
}

/* child_half_record - reserve and half-write a record, then die. */
static void
child_half_record(void)
{
	memset(ring_reserve_locked(&seg.ring, 100), 'X', 50);
	raise(SIGKILL);
}

/* child_whole_slot - write a record and its slot, die before head moves. */
static void
child_whole_slot(void)
{
	uint64_t seq = ring_head(&seg.ring) + 1;
	struct shm_ring_slot *s = &seg.ring.slots[seq & seg.ring.mask];

	seg_record_fill(ring_reserve_locked(&seg.ring, 60), seq, 60);
	/* ring_commit_locked's stores up to its slot's seq, the last one first */
	atomic_store(&s->seq, 0);
	atomic_store(&s->off, seg.ring.reserved);
	atomic_store(&s->len, 60);
	atomic_store(&s->topic, (uint32_t)(seq % 16));
	atomic_store(&s->pfx, 0);
	atomic_store(&s->seq, seq);
	raise(SIGKILL);
}

/* child_committed - commit a whole record, then die before unlocking. */
static void
child_committed(void)
{
	commit_locked(70);
	raise(SIGKILL);
}

/* The topic child_half_topic starts to intern; a new one each time. */
static char half_name[32];

/* child_half_topic - start interning half_name by hand, as far as half its name, and die. */
static void
child_half_topic(void)
{
	struct shm_topic *e = &seg.topics.tab[seg.topics.ctl->used++];

	atomic_store(&e->state, TOPIC_WRITING);
	e->len = (uint8_t)strlen(half_name);
	e->units = 1;
	e->name = seg.topics.ctl->name_bump++;
	memcpy(seg.topics.names + (size_t)e->name * SHM_NAME_UNIT, half_name, e->len / 2);
	raise(SIGKILL);
}

/* test_half_record - a record reserved and half-written is dropped. */
static void
test_half_record(void)
{
	uint64_t head = ring_head(&seg.ring), tail = ring_tail(&seg.ring), seq;
	char log[1024];

	die_holding(child_half_record, "half-written record");
	tap_is_int(lock_capturing_log(log, sizeof(log)), 0, "shm_lock after the owner died succeeds");
	expect_log(log, "holder died", "owner died");
	expect_log(log, "a record it left unfinished, if any, is discarded", "half-written record");
	tap_ok(ring_head(&seg.ring) == head && ring_tail(&seg.ring) == tail,
	    "head (%llu) and tail (%llu) unchanged", (unsigned long long)ring_head(&seg.ring),
	    (unsigned long long)ring_tail(&seg.ring));
	tap_ok(!record_ok(head + 1) && ring_get(&seg.ring, head + 1, &(struct ring_rec){ 0 }) < 0,
	    "no record beyond head");
	expect_whole_ring("after a half-written record");
	seq = commit_locked(80);
	shm_unlock(&seg);
	note_record(seq);
	tap_ok(seq == head + 1 && record_ok(seq) && rec_off[seq] == rec_off[head] + rec_len[head],
	    "the next commit is record %llu, byte-exact, right after the last whole one",
	    (unsigned long long)seq);
	tap_ok(lock_capturing_log(log, sizeof(log)) == 0 && log[0] == '\0',
	    "the next shm_lock is a plain one: nothing logged");
	shm_unlock(&seg);
}

/* test_whole_slot - a record whose slot was written whole is kept. */
static void
test_whole_slot(void)
{
	uint64_t head = ring_head(&seg.ring), seq;
	char log[1024];

	die_holding(child_whole_slot, "record written, head not moved");
	tap_is_int(lock_capturing_log(log, sizeof(log)), 0, "shm_lock succeeds");
	expect_log(log, "its last record was whole and is kept", "whole slot");
	shm_unlock(&seg);
	tap_is_int((long long)ring_head(&seg.ring), (long long)(head + 1),
	    "head moved forward to the whole record");
	note_record(head + 1);
	tap_ok(record_ok(head + 1) && rec_off[head + 1] == rec_off[head] + rec_len[head] &&
	    rec_len[head + 1] == 60, "it reads back byte-exact, right after the one before");
	seq = publish(30);
	tap_ok(seq == head + 2 && rec_off[seq] == rec_off[head + 1] + 60,
	    "the next record goes right after it");
}

/* test_committed - a record committed before the death is all there. */
static void
test_committed(const char *what)
{
	uint64_t head = ring_head(&seg.ring);
	char log[1024];

	die_holding(child_committed, what);
	tap_is_int(lock_capturing_log(log, sizeof(log)), 0, "shm_lock succeeds");
	shm_unlock(&seg);
	tap_is_int((long long)ring_head(&seg.ring), (long long)(head + 1),
	    "head is the child's record");
	note_record(head + 1);
	tap_ok(rec_len[head + 1] == 70 && record_ok(head + 1), "it reads back byte-exact");
	expect_whole_ring(what);
}

/* test_half_topic - a half-interned topic is given back, the ring untouched. */
static void
test_half_topic(const char *what)
{
	static unsigned runs;
	uint64_t head, tail;
	uint32_t id, len;
	long before, again;
	char log[1024];

	len = (uint32_t)snprintf(half_name, sizeof(half_name), "half-made-%u", ++runs);
	publish(20);
	head = ring_head(&seg.ring);
	tail = ring_tail(&seg.ring);
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	before = topics_intern_locked(&seg.topics, "before", 6);
	shm_unlock(&seg);
	id = seg.topics.ctl->used;
	die_holding(child_half_topic, what);
	tap_is_int(lock_capturing_log(log, sizeof(log)), 0, "shm_lock succeeds");
	expect_log(log, "1 half-made topic given back", what);
	tap_ok(atomic_load(&seg.topics.tab[id].state) == TOPIC_FREE &&
	    topics_find_locked(&seg.topics, half_name, len) == -1 &&
	    topics_find_locked(&seg.topics, "before", 6) == before,
	    "the half-made entry is free; the topic before it still found");
	again = topics_intern_locked(&seg.topics, half_name, len);
	shm_unlock(&seg);
	tap_is_int(again, id, "interning the name now reuses the id");
	tap_ok(ring_head(&seg.ring) == head && ring_tail(&seg.ring) == tail,
	    "ring head and tail unchanged");
	expect_whole_ring(what);
}

/* fill_slots - more tiny records than slots: tail is now bounded by the slot index. */
static void
fill_slots(void)
{
	uint64_t i, n = seg.ring.mask + 1 + 10;

	for (i = 0; i < n; i++)
		publish(8);
	tap_is_int((long long)ring_tail(&seg.ring),
	    (long long)(ring_head(&seg.ring) - seg.ring.mask), "slot index wrapped: tail is head - slots + 1");
}

int
main(void)
{
	int i;

	tap_plan(9 + 6 + 5 + 7 + 1 + 5 + 7);
	seg_create();
	tap_diag("segment %s", seg.name);
	for (i = 0; i < 5; i++)
		publish((uint32_t)(40 + 10 * i));
	test_half_record();
	test_whole_slot();
	test_committed("whole record committed");
	test_half_topic("half-made topic");
	fill_slots();
	test_committed("whole record committed, slot index wrapped");
	test_half_topic("half-made topic, slot index wrapped");
	return tap_done();
}
