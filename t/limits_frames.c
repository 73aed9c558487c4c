/*
 * t/limits_frames.c - the bytes a worker holds in unfinished frames are
 * bounded, and given back (issue 10, finding 5), end to end.
 *   max_frame_memory 8M, one worker: 200 connections each send 60,000
 *   bytes of a subscribe frame and stop. Those whose frame would take
 *   the worker past 8 MiB get limit and are closed, counted as
 *   frame_memory; the others (their frames within the budget) finish
 *   their frames, get ACK and then a message, and close, while 50
 *   connections opened after the frames stay (their memory lies above
 *   the frames' in the heap, which the allocator alone would therefore
 *   keep). Then 200 more do the same, and this time all close with their
 *   frames unfinished. Each time the worker's anonymous memory (RssAnon),
 *   however far it rose, is back within 2 MiB of what it was before the
 *   first frames (not checked in a sanitizer build: ASan keeps freed
 *   memory in its quarantine).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS   5000
#define NCONN     200
#define FRAME     60000
#define BUDGET    (8 << 20)
#define SLACK_KB  2048
#define NPIN      50

/* Provided by the sanitizer runtimes; NULL in a build without them. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static struct tsrv s;
static struct tc *c[NCONN];
static long long worker_pid;
static long before;

/* rss_anon - RssAnon of pid in kB, or -1. */
static long
rss_anon(long long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "RssAnon:", 8) == 0)
			kb = strtol(line + 8, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * settled - until the worker read every byte sent (bytes_in at least
 * bytes) and closed what it refuses (conns at open - frame_memory), up
 * to WAIT_MS; 0 or -1.
 */
static int
settled(long long bytes, long long open)
{
	uint64_t end = tlib_ms() + WAIT_MS;
	char buf[16384];

	while (tlib_ms() < end) {
		if (tsrv_stats(&s, buf, sizeof(buf)) == 0 && tsrv_stat_in(buf, 0, "bytes_in") >= bytes &&
		    tsrv_stat_in(buf, 0, "conns") == open - tsrv_stat_in(buf, 0, "frame_memory"))
			return 0;
		tlib_sleep_ms(20);
	}
	return -1;
}

/* frames - NCONN connections send FRAME bytes of a frame; how many were refused (limit, closed). */
static unsigned
frames(const char *round)
{
	static char frame[FRAME];
	unsigned i, closed = 0, kept = 0, other = 0;
	long long sent = tsrv_stat(&s, 0, "bytes_in"), refused = tsrv_stat(&s, 0, "frame_memory");
	char f[512];

	for (i = 0; i < NCONN; i++)
		c[i] = tc_open_greeted(s.port);
	if (before == 0)
		before = rss_anon(worker_pid);
	memset(frame, 'x', sizeof(frame));
	memcpy(frame, "{\"action\":\"subscribe\",\"data\":\"fm\",\"pad\":\"", 41);
	for (i = 0; i < NCONN; i++)
		if (tc_send(c[i], frame, sizeof(frame)) < 0)
			tap_bail("cannot send to connection %u", i);
	sent += (long long)NCONN * FRAME;
	if (settled(sent, NCONN) < 0)
		tap_diag("  the worker did not settle: %lld of %lld bytes read, %lld connections",
		    tsrv_stat(&s, 0, "bytes_in"), sent, tsrv_stat(&s, 0, "conns"));
	for (i = 0; i < NCONN; i++) {
		if (tc_frame(c[i], f, sizeof(f), 0) < 0) {
			kept++;
			continue;
		}
		if (tc_is_error(f, "limit") && tc_eof(c[i], WAIT_MS))
			closed++;
		else
			other++;
		tc_close(c[i]);
		c[i] = NULL;
	}
	tap_ok(closed > 0 && other == 0, "%s: connections whose frame passes 8 MiB get limit and are closed (%u)",
	    round, closed);
	tap_ok(kept > 0 && (unsigned long long)kept * FRAME <= BUDGET,
	    "%s: the others' frames fit the budget (%u of %u bytes; RssAnon %ld kB, %ld kB before)", round,
	    kept * FRAME, BUDGET, rss_anon(worker_pid), before);
	tap_is_int(tsrv_stat(&s, 0, "frame_memory") - refused, closed, "%s: each is counted as frame_memory",
	    round);
	return kept;
}

/* closed_all - close every connection of c; RssAnon once the worker holds only the open others. */
static long
closed_all(long long open)
{
	uint64_t end = tlib_ms() + WAIT_MS;
	unsigned i;

	for (i = 0; i < NCONN; i++) {
		tc_close(c[i]);
		c[i] = NULL;
	}
	while (tsrv_stat(&s, 0, "conns") != open && tlib_ms() < end)
		tlib_sleep_ms(20);
	return rss_anon(worker_pid);
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", "-o", "max_frame_memory=8M", NULL };
	struct tc *pin[NPIN];
	unsigned i, kept, acks = 0, msgs = 0;
	char f[512];
	long after;

	tap_plan(11);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	worker_pid = tsrv_stat(&s, 0, "pid");
	kept = frames("finished");
	/* connections that stay, whose memory comes after the frames' in the heap */
	for (i = 0; i < NPIN; i++) {
		pin[i] = tc_open_greeted(s.port);
		snprintf(f, sizeof(f), "pin.%u", i);
		if (tc_subscribe(pin[i], f) < 0)
			tap_bail("cannot subscribe to %s", f);
	}
	for (i = 0; i < NCONN; i++)
		if (c[i] != NULL)
			tc_send(c[i], "\"}", 3);
	for (i = 0; i < NCONN; i++)
		if (c[i] != NULL)
			acks += tc_frame(c[i], f, sizeof(f), WAIT_MS) == 3 && strcmp(f, "ACK") == 0;
	tap_is_int(acks, kept, "the others finish their frames and get ACK");
	tc_publish1(s.port, "{\"topic\":\"fm\",\"data\":\"kept\"}");
	for (i = 0; i < NCONN; i++)
		if (c[i] != NULL)
			msgs += tc_frame(c[i], f, sizeof(f), WAIT_MS) > 0 && tc_strip_ts(f) == 0 &&
			    strcmp(f, "{\"topic\":\"fm\",\"data\":\"kept\"}") == 0;
	tap_is_int(msgs, kept, "... and then the message published to them");
	after = closed_all(NPIN);
	if (__sanitizer_set_death_callback != NULL)
		tap_skip(1, "a sanitizer build: ASan keeps freed memory in its quarantine");
	else
		tap_ok(before > 0 && after >= 0 && after <= before + SLACK_KB,
		    "after they all closed RssAnon is back within %d kB of before: %ld kB", SLACK_KB, after);
	frames("unfinished");
	after = closed_all(NPIN);
	if (__sanitizer_set_death_callback != NULL)
		tap_skip(1, "a sanitizer build: ASan keeps freed memory in its quarantine");
	else
		tap_ok(after >= 0 && after <= before + SLACK_KB,
		    "after 200 more closed, frames unfinished, it is back within %d kB again: %ld kB", SLACK_KB, after);
	tap_ok(tsrv_stat(&s, 0, "restarts") == 0, "the worker did not restart");
	for (i = 0; i < NPIN; i++)
		tc_close(pin[i]);
	tsrv_stop(&s, 0);
	return tap_done();
}
