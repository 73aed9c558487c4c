/*
 * t/ws_kill_worker.c - kill -9 a worker with WebSocket subscribers on it,
 * in the middle of a message stream.
 *
 * janusd -w 2 with 40 version 2 WebSocket clients (hello, then subscribe)
 * spread over both workers and two topics, and a persistent TCP
 * publisher sending 3,000 numbered messages with acks over about 3 s
 * (so the resumes meet a live stream). After a third of
 * them the worker the publisher is not on is killed with SIGKILL.
 * Checks: the slot gets a new worker; the clients of the other worker
 * keep their connections and get every message of their topic once, in
 * order; the clients of the killed worker (exactly those) reconnect after
 * a random jitter, say hello, see the same epoch, resume with since and
 * epoch, and end up with every message of their topic exactly once, in
 * order, with no gap frame (the 64 MiB ring holds the whole stream).
 * One poll loop in this process; every wait is bounded, and an alarm
 * ends a hung run.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/ws.h"
#include "t/tap.h"
#include "t/tlib.h"
#include "t/tstream.h"
#include "t/tweb.h"

#define WK_CLIENTS   40
#define WK_TOPICS    2
#define WK_MESSAGES  3000
#define WK_PER_MS    1           /* publish rate, so the resumes meet a live stream */
#define WK_KILL_AT   1000        /* messages published before the kill */
#define WK_JITTER_MS 200         /* longest wait before a dropped client reconnects */
#define WK_WAIT_MS   10000

/* A WebSocket subscriber. */
struct wk_peer {
	struct tc *c;                /* NULL while dropped */
	unsigned topic;
	int live;                    /* its ACK came */
	unsigned drops, resumes, gaps, errors, epoch_changed, refused;
	uint64_t reconnect_at;
	unsigned resumed_at;         /* messages published when its resume was acknowledged */
	char epoch[64];
	struct tstream_recv rx;      /* rx.last: newest seq received, or the first hello's seq */
	char note[200];              /* the first unexpected frame */
};

static struct {
	struct tsrv srv;
	struct wk_peer peers[WK_CLIENTS];
	struct tc *pub;
	struct tstream st;
	int killed;
	unsigned pub_slot, victim;
	long long victim_pid, victim_conns;
} wk;

/* wk_note - keep the first unexpected frame of a peer for the diagnostics. */
static void
wk_note(struct wk_peer *p, const char *what, const char *f)
{
	p->errors++;
	if (p->note[0] == '\0')
		snprintf(p->note, sizeof(p->note), "%s: %.150s", what, f);
}

/*
 * wk_join - open a WebSocket session and say hello; then subscribe, the
 * first time from now, after a drop with since and the first epoch.
 * 0, or -1 if the server would not have it.
 */
static int
wk_join(struct wk_peer *p)
{
	char m[512], sub[256], epoch[64];
	const char *e;
	long long seq;

	p->c = tw_ws_open(wk.srv.hport, NULL, "", NULL, 0);
	if (p->c == NULL || tw_ws_text(p->c, "{\"action\":\"hello\",\"version\":2}") < 0 ||
	    tw_ws_msg(p->c, m, sizeof(m), WK_WAIT_MS) <= 0)
		return -1;
	e = strstr(m, "\"epoch\":\"");
	seq = tc_num_after(m, "\"seq\":");
	if (strncmp(m, "{\"hello\":{\"version\":2,", 22) != 0 || e == NULL || seq < 0) {
		wk_note(p, "not a hello reply", m);
		return -1;
	}
	snprintf(epoch, sizeof(epoch), "%.*s", (int)strcspn(e + 9, "\""), e + 9);
	if (p->epoch[0] == '\0') {
		snprintf(p->epoch, sizeof(p->epoch), "%s", epoch);
		p->rx.last = (uint64_t)seq;
		snprintf(sub, sizeof(sub), "{\"action\":\"subscribe\",\"data\":\"wk%u\"}", p->topic);
	} else {
		p->epoch_changed += strcmp(epoch, p->epoch) != 0;
		snprintf(sub, sizeof(sub),
		    "{\"action\":\"subscribe\",\"data\":\"wk%u\",\"since\":%llu,\"epoch\":\"%s\"}",
		    p->topic, (unsigned long long)p->rx.last, p->epoch);
	}
	p->live = 0;
	return tw_ws_text(p->c, sub);
}

/* wk_drop - the connection is gone: reconnect after a jitter; a frame cut short is resent by the resume. */
static void
wk_drop(struct wk_peer *p)
{
	tc_close(p->c);
	p->c = NULL;
	p->live = 0;
	p->drops++;
	p->reconnect_at = tlib_ms() + (uint64_t)(rand() % (WK_JITTER_MS + 1));
}

/* wk_retry - a reconnect that did not take: try again soon (not a lost connection). */
static void
wk_retry(struct wk_peer *p)
{
	tc_close(p->c);
	p->c = NULL;
	p->refused++;
	p->reconnect_at = tlib_ms() + 20;
}

/* wk_text - one text message from the server. */
static void
wk_text(struct wk_peer *p, const char *f)
{
	if (!p->live) {
		if (strcmp(f, "ACK") == 0) {
			p->live = 1;
			p->resumes += p->drops > 0;
			p->resumed_at = wk.st.sent;
		} else {
			wk_note(p, "expected ACK", f);
		}
	} else if (strncmp(f, "{\"gap\":", 7) == 0) {
		p->gaps++;
		wk_note(p, "gap frame", f);
	} else if (tstream_record(&wk.st, &p->rx, p->topic, f) < 0) {
		wk_note(p, "unexpected frame", f);
	}
}

/* wk_readable - read what came and act on each whole frame; drop the peer at the end of its stream. */
static void
wk_readable(struct wk_peer *p)
{
	static char m[TW_BODY_MAX + 1];
	struct tw_frame f;
	long whole, rc = tc_fill(p->c, 0);
	size_t at = 0;

	while ((whole = tw_ws_parse(p->c->buf + at, p->c->len - at, &f)) > 0) {
		memcpy(m, f.data, f.len);
		m[f.len] = '\0';
		if (f.b0 == (TW_FIN | WS_OP_TEXT))
			wk_text(p, m);
		else if (f.b0 == (TW_FIN | WS_OP_PING))
			tw_ws_send(p->c, TW_FIN | WS_OP_PONG, m, f.len);
		else
			wk_note(p, "unexpected control frame", m);
		at += (size_t)whole;
	}
	memmove(p->c->buf, p->c->buf + at, p->c->len - at);
	p->c->len -= at;
	if (whole < 0) {
		wk_note(p, "malformed frame", "");
		wk_drop(p);
	} else if (rc == -2) {
		wk_drop(p);
	}
}

/* wk_tick - one pass: what came in, due reconnects, the publisher, the kill. */
static void
wk_tick(int publishing)
{
	struct pollfd pfd[WK_CLIENTS];
	unsigned i;

	for (i = 0; i < WK_CLIENTS; i++) {
		pfd[i].fd = wk.peers[i].c != NULL ? wk.peers[i].c->fd : -1;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, WK_CLIENTS, 2) < 0 && errno != EINTR)
		tap_bail("poll() failed: %s", strerror(errno));
	for (i = 0; i < WK_CLIENTS; i++) {
		struct wk_peer *p = &wk.peers[i];

		if (p->c != NULL && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			wk_readable(p);
		else if (p->c == NULL && tlib_ms() >= p->reconnect_at && wk_join(p) < 0)
			wk_retry(p);
	}
	if (!publishing)
		return;
	tstream_publish(&wk.st);
	tstream_acks(&wk.st);
	if (!wk.killed && wk.st.sent >= WK_KILL_AT) {
		if (kill((pid_t)wk.victim_pid, SIGKILL) < 0)
			tap_bail("kill(%lld) failed: %s", wk.victim_pid, strerror(errno));
		wk.killed = 1;
	}
}

/* wk_finished - everything acknowledged, every client live with all of its topic. */
static int
wk_finished(void)
{
	unsigned i;

	if (wk.st.acked < WK_MESSAGES)
		return 0;
	for (i = 0; i < WK_CLIENTS; i++)
		if (!wk.peers[i].live || wk.peers[i].rx.n < tstream_count(&wk.st, wk.peers[i].topic))
			return 0;
	return 1;
}

/* wk_setup - the publisher (its worker found by the "published" counters), the subscribers, the victim. */
static int
wk_setup(void)
{
	char f[256];
	unsigned i, found = 0, live = 0;
	long long conns[2];
	uint64_t end;

	wk.pub = tc_open(wk.srv.port);
	if (wk.pub == NULL || tc_greeting(wk.pub) < 0 ||
	    tc_sendz(wk.pub, "{\"action\":\"publish\",\"topic\":\"wk.probe\",\"ack\":true}") < 0 ||
	    tc_frame(wk.pub, f, sizeof(f), WK_WAIT_MS) <= 0)
		return tap_ok(0, "publisher connected and its worker found");
	for (i = 0; i < 2; i++)
		if (tsrv_stat(&wk.srv, i, "published") == 1) {
			wk.pub_slot = i;
			found++;
		}
	tap_ok(found == 1, "a TCP publisher; it is on worker %u", wk.pub_slot);
	for (i = 0; i < WK_CLIENTS; i++) {
		wk.peers[i].topic = i % WK_TOPICS;
		if (wk_join(&wk.peers[i]) < 0)
			tap_bail("WebSocket client %u could not join", i);
	}
	end = tlib_ms() + WK_WAIT_MS;
	while (live < WK_CLIENTS && tlib_ms() < end) {
		wk_tick(0);
		for (live = 0, i = 0; i < WK_CLIENTS; i++)
			live += wk.peers[i].live;
	}
	tap_is_int(live, WK_CLIENTS, "%d version 2 WebSocket clients said hello and subscribed",
	    WK_CLIENTS);
	wk.victim = 1 - wk.pub_slot;
	conns[0] = tsrv_stat(&wk.srv, 0, "conns");
	conns[1] = tsrv_stat(&wk.srv, 1, "conns");
	wk.victim_pid = tsrv_stat(&wk.srv, wk.victim, "pid");
	wk.victim_conns = conns[wk.victim];
	tap_ok(conns[wk.victim] > 0 && conns[wk.pub_slot] > 1 && wk.victim_pid > 0,
	    "both workers have WebSocket clients (%lld and %lld connections); worker %u (pid %lld) "
	    "will be killed", conns[0], conns[1], wk.victim, wk.victim_pid);
	return found == 1 && live == WK_CLIENTS && conns[wk.victim] > 0 && conns[wk.pub_slot] > 1;
}

/* wk_verdict - the delivery checks, for clients that stayed and clients that resumed. */
static void
wk_verdict(void)
{
	struct tstream_tally stay = { 0 }, moved = { 0 };
	unsigned i, gaps = 0, errs = 0, epochs = 0, twice = 0, resumed = 0, refused = 0;
	unsigned first = WK_MESSAGES, last = 0;
	const char *note = NULL;

	for (i = 0; i < WK_CLIENTS; i++) {
		const struct wk_peer *p = &wk.peers[i];

		if (tstream_check(&wk.st, &p->rx, p->topic, p->drops ? &moved : &stay) < 0)
			tap_bail("out of memory");
		gaps += p->gaps;
		errs += p->errors;
		epochs += p->epoch_changed;
		twice += p->drops > 1;
		refused += p->refused;
		if (p->drops > 0) {
			first = p->resumed_at < first ? p->resumed_at : first;
			last = p->resumed_at > last ? p->resumed_at : last;
		}
		resumed += p->drops > 0 && p->resumes == p->drops && p->live;
		if (note == NULL && p->note[0] != '\0')
			note = p->note;
	}
	tap_diag("resumes acknowledged with %u to %u of %d messages published (killed at %d); "
	    "reconnects that did not take at once: %u", first, last, WK_MESSAGES, WK_KILL_AT, refused);
	tap_ok(moved.clients == wk.victim_conns && twice == 0,
	    "exactly the killed worker's clients lost their connection, once (%u of %lld)",
	    moved.clients, wk.victim_conns);
	tap_ok(moved.clients > 0 && resumed == moved.clients && epochs == 0,
	    "each reconnected, said hello, saw the same epoch and resumed with since (%u of %u)",
	    resumed, moved.clients);
	tap_ok(tstream_clean(&stay), "the other worker's %u clients kept their connections and got "
	    "every message of their topic once, in order (lost %u, duplicated %u, out of order %u, "
	    "foreign %u)", stay.clients, stay.lost, stay.dup, stay.disorder, stay.extra);
	tap_ok(tstream_clean(&moved), "the resumed clients got every message of their topic exactly "
	    "once, in order (lost %u, duplicated %u, out of order %u, foreign %u)", moved.lost,
	    moved.dup, moved.disorder, moved.extra);
	if (note != NULL)
		tap_diag("first unexpected frame: %s", note);
	tap_ok(gaps == 0 && errs == 0, "no gap frame and no unexpected frame (gaps %u, others %u)",
	    gaps, errs - gaps);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	char killed[128];
	uint64_t end;
	long long pid;
	unsigned i;

	alarm(90);
	tap_plan(12);
	srand((unsigned)getpid());
	if (tsrv_start_http(&wk.srv, args) < 0)
		tap_bail("cannot start janusd");
	if (!wk_setup()) {
		tsrv_stop(&wk.srv, 0);
		tap_bail("could not set the stage");
	}
	if (tstream_init(&wk.st, wk.pub, "wk", WK_TOPICS, WK_MESSAGES, WK_PER_MS) < 0)
		tap_bail("out of memory");
	end = wk.st.start + 60000;
	while (!wk_finished() && !wk.st.dead && tlib_ms() < end)
		wk_tick(1);
	/* a little longer, so duplicates after the last expected message show */
	end = tlib_ms() + 300;
	while (tlib_ms() < end)
		wk_tick(1);
	tap_ok(wk.st.acked == WK_MESSAGES && wk.st.errors == 0 && !wk.st.dead,
	    "all %d publishes acknowledged (%u acks, %u other replies%s%s)", WK_MESSAGES,
	    wk.st.acked, wk.st.errors, wk.st.note[0] ? ": " : "", wk.st.note);
	snprintf(killed, sizeof(killed), "worker %u (pid %lld) killed by signal 9", wk.victim,
	    wk.victim_pid);
	tap_ok(tsrv_log_has(&wk.srv, killed), "the master logged '%s'", killed);
	pid = tsrv_stat(&wk.srv, wk.victim, "pid");
	tap_ok(pid > 0 && pid != wk.victim_pid, "slot %u has a new worker (pid %lld)", wk.victim, pid);
	wk_verdict();
	tap_is_int(tsrv_log_alerts(&wk.srv, killed), 0, "the log has no other warning or error");
	for (i = 0; i < WK_CLIENTS; i++) {
		tc_close(wk.peers[i].c);
		tstream_recv_free(&wk.peers[i].rx);
	}
	tstream_free(&wk.st);
	tc_close(wk.pub);
	tsrv_stop(&wk.srv, 0);
	return tap_done();
}
