/*
 * t/resume_lost.c - a resume the ring overtakes reports what it lost
 * (PROTOCOL.md Part 2: a gap frame, not silence), for a topic and for a
 * pattern, end to end with one worker and an 8 MiB ring.
 *   A version 2 connection with a small receive buffer resumes a topic
 *   holding 6 MB of records (more than the kernel buffers for a socket)
 *   and reads nothing, so its replay stops on a full socket. Once it is
 *   stalled (it paces nobody then), 16 MB published on another topic
 *   overwrite the ring.
 *   When it reads again, every record of the resumed topic is either
 *   received, in order, or inside a gap frame of that topic (or of the
 *   pattern) sent before anything newer than the loss.
 * Waits are bounded by generous timeouts; nothing is timed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS  5000
#define NREC     6000          /* records of the resumed topic: 6 MB, more than a socket buffers */
#define NBURST   16000         /* records of another topic after it: twice the ring */
#define DATA     1000
#define STALL_MS 200

static struct tsrv s;

/* publish_n - n publishes of DATA bytes on topic from one version 2 connection; the last one's seq, or -1. */
static long long
publish_n(const char *topic, int n)
{
	char data[DATA + 1], obj[DATA + 160], f[512];
	struct tc *p = tc_open_greeted(s.port);
	int i, bad = 0;

	memset(data, 'x', DATA);
	data[DATA] = '\0';
	bad |= tc_sendz(p, "{\"action\":\"hello\",\"version\":2}") < 0 || tc_frame(p, f, sizeof(f), WAIT_MS) < 0;
	for (i = 0; i < n && !bad; i++) {
		snprintf(obj, sizeof(obj), "{\"action\":\"publish\",\"topic\":\"%s\",\"message_id\":\"%d\","
		    "\"data\":\"%s\"%s}", topic, i, data, i == n - 1 ? ",\"ack\":true" : "");
		bad |= tc_sendz(p, obj) < 0;
	}
	bad |= tc_frame(p, f, sizeof(f), 4 * WAIT_MS) < 0 || strstr(f, "\"published\"") == NULL;
	tc_close(p);
	return bad ? -1 : tc_num_after(f, "\"seq\":");
}

/* struct seen - what the resuming connection got of the resumed topic. */
struct seen {
	char got[NREC + 1];        /* by message_id: received */
	long long seq[NREC];       /* the sequence number of each message_id, as published */
	long long gap_from[8], gap_to[8];
	int ngap, order, gap_late;
	long long last_seq;
};

/* seen_frame - one frame of the resuming connection, which resumed name for records of topic. */
static void
seen_frame(struct seen *v, char *f, const char *name, const char *topic)
{
	char want[64];
	const char *id;
	long long seq, from, to;
	int k;

	snprintf(want, sizeof(want), "{\"gap\":{\"topic\":\"%s\",", name);
	if (strncmp(f, want, strlen(want)) == 0) {
		from = tc_num_after(f, "\"from\":");
		to = tc_num_after(f, "\"to\":");
		if (v->ngap < 8) {
			v->gap_from[v->ngap] = from;
			v->gap_to[v->ngap++] = to;
		}
		/* nothing newer than the loss came before it */
		v->gap_late |= v->last_seq >= from && v->last_seq <= to;
		return;
	}
	snprintf(want, sizeof(want), "\"topic\":\"%s\"", topic);
	if (strstr(f, want) == NULL || (id = strstr(f, "\"message_id\":\"")) == NULL)
		return;
	seq = tc_num_after(f, "\"seq\":");
	k = atoi(id + 14);
	if (k < 0 || k >= NREC)
		return;
	v->order &= seq > v->last_seq;
	v->last_seq = seq;
	v->got[k] = 1;
	v->seq[k] = seq;
}

/* seen_missing - records of the topic neither received nor inside a gap. */
static int
seen_missing(const struct seen *v, long long first_seq)
{
	int k, g, missing = 0, covered;

	for (k = 0; k < NREC; k++) {
		long long seq = first_seq + k;   /* one publisher, nothing else: consecutive */

		if (v->got[k])
			continue;
		for (covered = 0, g = 0; g < v->ngap; g++)
			covered |= seq >= v->gap_from[g] && seq <= v->gap_to[g];
		missing += !covered;
	}
	return missing;
}

/* resume_case - resume data (topic, or a pattern matching it) on a stalled connection, overwrite the ring, read. */
static void
resume_case(const char *data, const char *topic, const char *what)
{
	struct tc *c = tc_open_small(s.port, 4096, 0);
	struct seen *v = calloc(1, sizeof(*v));
	char f[4096], req[256];
	long long last;
	int acked = 0, frames = 0;

	if (c == NULL || v == NULL || tc_greeting(c) < 0)
		tap_bail("%s: no connection", what);
	if ((last = publish_n(topic, NREC)) < 0)
		tap_bail("%s: publishing the topic failed", what);
	v->order = 1;
	tc_sendz(c, "{\"action\":\"hello\",\"version\":2}");
	snprintf(req, sizeof(req), "{\"action\":\"subscribe\",\"data\":\"%s\",\"since\":%lld}", data,
	    last - NREC);
	tc_sendz(c, req);
	tlib_sleep_ms(4 * STALL_MS);   /* its socket is full: it stalls and paces nobody */
	tap_ok(publish_n("other", NBURST) > 0, "%s: 16 MB on another topic go through the 8 MiB ring", what);
	while (tc_frame(c, f, sizeof(f), 1000) >= 0) {
		frames++;
		acked |= strcmp(f, "ACK") == 0;
		seen_frame(v, f, data, topic);
	}
	tap_ok(acked && frames > 2, "%s: the stalled connection gets its ACK and replay once it reads", what);
	tap_ok(v->ngap > 0, "%s: it is sent a gap for \"%s\" (%d)", what, data, v->ngap);
	tap_is_int(seen_missing(v, last - NREC + 1), 0,
	    "%s: every record of the topic was received or is inside a gap", what);
	tap_ok(v->order && !v->gap_late, "%s: received in order, each gap before anything newer than it", what);
	tc_close(c);
	free(v);
}

int
main(void)
{
	static const char *const args[] = { "-w", "1", "-o", "ring_size=8M", "-o", "stall_timeout=200ms",
	    "-o", "log_level=info", NULL };

	tap_plan(11);
	if (tsrv_start(&s, args) < 0)
		tap_bail("janusd did not start");
	resume_case("r.a", "r.a", "topic");
	resume_case("r.*", "r.b", "pattern");
	tap_is_int(tsrv_stat(&s, 0, "restarts"), 0, "the worker did not restart");
	tsrv_stop(&s, 0);
	return tap_done();
}
