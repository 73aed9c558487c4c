/*
 * bots/client.c - a child process that runs a share of the subscribing clients.
 *
 * Owns: one epoll loop over up to --per-child client sockets, each a small
 * struct bot; the Part 1 client side of the protocol; the per-child
 * counters and latency histograms sent to the parent in one RESULT record.
 * Must not publish, print a report, or outlive its parent (PR_SET_PDEATHSIG
 * is set by bots/spawn.c, and a hard deadline ends the loop regardless).
 *
 * With --ws the clients speak WebSocket (PROTOCOL.md Part 3; the wire is
 * bots/ws.h): the upgrade request first, then each text message is a
 * frame without its \1 and goes through the same checks; Pings are
 * answered with Pongs, a Close ends the client.
 *
 * Counting: each (client, message) pair is one delivery. A delivery is good
 * when the client gets the published object byte for byte (after the
 * server's timestamp), once, and in the order of its publishing connection
 * (bots/seen.h; with several persistent publishers, the next message of
 * each stream per client in one compact array). A frame that is not a good
 * delivery, an ACK or a PING counts as an error (corrupt, duplicate or out
 * of order, unexpected) and marks its client. A client is good when it got
 * its ACK, every planned message was a good delivery and it is not marked:
 * each connection counts its good deliveries, and the RESULT says how many
 * clients are good; the parent derives bad = clients - good.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bots/client.h"
#include "bots/hist.h"
#include "bots/ipc.h"
#include "bots/msg.h"
#include "bots/seen.h"
#include "bots/util.h"
#include "bots/ws.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define CLIENT_HELLO "<regular-socket/>\0PING\0"
#define CLIENT_HELLO_LEN (sizeof(CLIENT_HELLO) - 1)
#define CLIENT_PONG "PONG\0"
#define CLIENT_ACK "ACK"
#define CLIENT_PING "PING"
#define CLIENT_EVENTS 512
#define CLIENT_RBUF (256 * 1024)
#define CLIENT_CTL UINT32_MAX
/* the verified-frame cache: at most this much memory, this many messages */
#define CLIENT_CACHE_BYTES (32u << 20)
#define CLIENT_CACHE_MAX 16384u
/* --flood: how often a child works out and reports its slowest client */
#define CLIENT_DONE_NS 500000LL
/* how often a child tells the parent its counts for the progress line */
#define CLIENT_PROGRESS_NS 200000000LL
/* --noise subscribes go out in batches of at most this many bytes, each once the last is answered */
#define CLIENT_NOISE_BYTES 8192
/* after the parent's own deadline, how long a child waits for STOP */
#define CLIENT_GRACE_NS (30 * 1000000000LL)

enum bot_state {
	BS_IDLE = 0,
	BS_UPGRADING,     /* --ws: connect() started, the request out or due, no 101 yet */
	BS_CONNECTING,    /* connect() started; the greeting will say it is done */
	BS_SUBSCRIBING,   /* PING and subscribe sent, waiting for ACK (and --noise's) */
	BS_READY,
	BS_DEAD
};

/* struct bot flags */
#define BOT_ACKED 1u      /* it got its ACK: it took part in the run */
#define BOT_WRONG 2u      /* it got a frame that counts as an error */

struct client;
struct bot;

/*
 * How a client's bytes look on the wire, chosen once per child: the 2009
 * stream or, with --ws, WebSocket. The rest of the client is the same.
 */
struct bot_wire {
	uint8_t first;       /* the state after connect(): BS_CONNECTING or BS_UPGRADING */
	uint8_t word_ping;   /* the server's heartbeat is the frame PING */
	/* feed - bytes just read, split into frames for bot_frame */
	void (*feed)(struct client *cl, struct bot *b, const char *p, size_t n);
	/* subscribe - what a greeted client sends; 0 or an errno */
	int (*subscribe)(struct client *cl, struct bot *b);
};

/* 64 bytes per client: a run holds tens of thousands. */
struct bot {
	int fd;
	uint32_t plen;    /* bytes of a split frame held in part */
	char *part;
	struct seen seen; /* which messages have settled */
	uint8_t state;
	uint8_t flags;    /* BOT_ACKED, BOT_WRONG */
	uint32_t good;    /* its good deliveries; while subscribing, its ACKs */
};

struct client {
	const struct bots_opts *o;
	const struct bots_target *t;
	unsigned id, first, count;
	int ep, in_fd, out_fd;
	struct bot *bots;         /* the clients of this child, one bot each */
	unsigned started, inflight, settled;
	uint32_t stride;          /* how messages map to publishing streams */
	uint32_t *snext;          /* stride > 1: per client and stream, the next message */
	uint32_t planned;         /* messages every client expects (--flood: IPC_LAST) */
	int64_t setup_start_ns;   /* the first connect */
	int64_t done_at_ns;       /* --flood: when DONE was last worked out */
	uint64_t greeted;         /* clients the server greeted */
	struct ipc_progress told; /* the counts last sent for the progress line */
	int64_t told_at_ns;
	struct ipc_result res;
	struct hist wall, mono;
	uint32_t *reached;        /* lockstep: clients settled past message k */
	int64_t *spread;          /* lockstep: slowest good delivery of k, ns */
	uint32_t done_sent;
	int ready_sent, finished_sent, stop;
	struct msg_spec spec;
	struct msg_cache cache;
	char *rbuf;
	size_t frame_max;
	const struct bot_wire *wire;
	char *sub;                /* what a greeted client sends (--ws: framed per client) */
	size_t sub_len;
	char *req;                /* --ws: an upgrade request being built */
	char *wout;               /* --ws: one client frame being built */
	uint32_t mask;            /* --ws: where the masking keys come from */
	char *noise;              /* --noise: its subscribe frames, back to back */
	size_t *noise_off;        /*   where frame k starts (k = noise: the end) */
	unsigned noise_batch;     /*   frames per batch */
	struct ipc_in ctl;
	int64_t now_ns, now_us;   /* when the bytes being handled were read */
};

/* client_note - keep the first error text of this child (WHAT NULL: noted already). */
static void
client_note(struct client *cl, const char *what, int err)
{
	if (what == NULL || cl->res.first_err[0] != '\0')
		return;
	if (err != 0)
		snprintf(cl->res.first_err, sizeof(cl->res.first_err), "%s: %s",
		    what, strerror(err));
	else
		snprintf(cl->res.first_err, sizeof(cl->res.first_err), "%s", what);
}

/* client_note_frame - the first error, with the start of the frame that caused it. */
static void
client_note_frame(struct client *cl, const char *what, const char *f, size_t len)
{
	char shown[141];
	size_t i;

	if (cl->res.first_err[0] != '\0')
		return;
	for (i = 0; i < len && i < sizeof(shown) - 1; i++)
		shown[i] = f[i] >= 0x20 && f[i] < 0x7f ? f[i] : '.';
	shown[i] = '\0';
	snprintf(cl->res.first_err, sizeof(cl->res.first_err), "%s: '%s%s'",
	    what, shown, len > i ? "..." : "");
}

/* client_fatal - a local failure the run cannot survive: tell the parent. */
static int
client_fatal(struct client *cl, const char *what, int err)
{
	char text[IPC_ERRLEN];

	snprintf(text, sizeof(text), "client child %u: %s: %s", cl->id, what,
	    strerror(err));
	ipc_send(cl->out_fd, IPC_ERROR, text, strlen(text) + 1);
	return BOTS_EXIT_SETUP;
}

/*
 * bot_low - every message below this has settled for B. With several
 * persistent publishers each stream is in order by itself, so a client
 * keeps the next message of each stream instead of a window (streams may
 * drift apart by thousands of messages under --flood).
 */
static uint32_t
bot_low(const struct client *cl, const struct bot *b)
{
	const uint32_t *n;
	uint32_t low, i;

	if (cl->stride <= 1)
		return b->seen.next;
	n = cl->snext + (size_t)(b - cl->bots) * cl->stride;
	for (low = n[0], i = 1; i < cl->stride; i++)
		if (n[i] < low)
			low = n[i];
	return low;
}

/* bot_count - messages from OLD up to the window's start have settled. */
static void
bot_count(struct client *cl, struct bot *b, uint32_t old)
{
	uint32_t k, low = bot_low(cl, b);

	if (cl->reached != NULL)
		for (k = old; k < low; k++)
			cl->reached[k]++;
	if (old < cl->planned && low >= cl->planned)
		cl->settled++;
}

/* bot_take - message SEQ arrived at B: 1 if it is a good delivery. */
static int
bot_take(struct client *cl, struct bot *b, uint32_t seq)
{
	uint32_t old, *n;

	if (cl->stride > 1) {
		n = cl->snext + (size_t)(b - cl->bots) * cl->stride + seq % cl->stride;
		/* earlier ones of its stream that have not come never will */
		if (seq < *n)
			return 0;
		*n = seq + cl->stride;
		if (seq + cl->stride >= cl->planned && bot_low(cl, b) >= cl->planned)
			cl->settled++;
		return 1;
	}
	old = b->seen.next;
	if (seq < old || !seen_take(&b->seen, seq, cl->stride))
		return 0;
	bot_count(cl, b, old);
	return 1;
}

/* bot_kill - close B for good; what it never got counts as bad. */
static void
bot_kill(struct client *cl, struct bot *b)
{
	uint32_t old, i;

	if (b->state == BS_DEAD)
		return;
	if (b->state >= BS_UPGRADING && b->state <= BS_SUBSCRIBING)
		cl->inflight--;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->part);
	b->part = NULL;
	b->plen = 0;
	b->state = BS_DEAD;
	old = bot_low(cl, b);
	seen_close(&b->seen, cl->planned);
	for (i = 0; cl->stride > 1 && i < cl->stride; i++)
		if (cl->snext[(size_t)(b - cl->bots) * cl->stride + i] < cl->planned)
			cl->snext[(size_t)(b - cl->bots) * cl->stride + i] = cl->planned;
	bot_count(cl, b, old);
}

/* bot_fail - set-up of B failed (never got its ACK). */
static void
bot_fail(struct client *cl, struct bot *b, const char *what, int err)
{
	client_note(cl, what, err);
	cl->res.failed++;
	bot_kill(cl, b);
}

/* bot_lost - a subscribed B was closed or reset by the server. */
static void
bot_lost(struct client *cl, struct bot *b, const char *what, int err)
{
	client_note(cl, what, err);
	cl->res.closed++;
	bot_kill(cl, b);
}

/* bot_send - a small write that must go out whole; 0 or an errno. */
static int
bot_send(struct bot *b, const char *p, size_t len)
{
	ssize_t n;

	do
		n = send(b->fd, p, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EAGAIN;
}

/* bot_upgrade - --ws: send B its upgrade request (its port, its own key); 0 or an errno. */
static int
bot_upgrade(struct client *cl, struct bot *b)
{
	uint32_t g = cl->first + (uint32_t)(b - cl->bots);
	size_t off, n = wsc_request(cl->req, cl->o->host_name, cl->t->ports[g % cl->t->nports],
	    &off);

	wsc_key(cl->o->nonce, g, cl->req + off);
	return bot_send(b, cl->req, n);
}

/* bot_ws_send - --ws: one masked client frame; 0 or an errno. */
static int
bot_ws_send(struct client *cl, struct bot *b, enum ws_op op, const char *p, size_t len)
{
	return bot_send(b, cl->wout, wsc_frame(cl->wout, op, p, len, wsc_mask(&cl->mask)));
}

/* bot_subscribe - the original bots' PING, then their subscribe, in one write. */
static int
bot_subscribe(struct client *cl, struct bot *b)
{
	return bot_send(b, cl->sub, cl->sub_len);
}

/* bot_ws_subscribe - --ws: the subscribe as one text message. */
static int
bot_ws_subscribe(struct client *cl, struct bot *b)
{
	return bot_ws_send(cl, b, WS_OP_TEXT, cl->sub, cl->sub_len);
}

/* bot_source - bind to 127.0.0.2+ so that one address never runs out of ports. */
static int
bot_source(struct client *cl, int fd, unsigned g)
{
	struct sockaddr_in src;
	int one = 1;

	if (!cl->o->spread_src)
		return 0;
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) < 0)
		return errno;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000000u | (2 + g / cl->o->per_addr));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return errno;
	return 0;
}

/* bot_start - begin connecting client I; -1 (parent told) if this child cannot go on. */
static int
bot_start(struct client *cl, unsigned i)
{
	struct bot *b = &cl->bots[i];
	unsigned g = cl->first + i;
	struct sockaddr_in dst;
	struct epoll_event ev;
	int one = 1, err;

	b->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0) {
		client_fatal(cl, "socket() failed", errno);
		return -1;
	}
	b->state = cl->wire->first;
	cl->inflight++;
	if (setsockopt(b->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		bot_fail(cl, b, "setsockopt(TCP_NODELAY) failed", errno);
		return 0;
	}
	if ((err = bot_source(cl, b->fd, g)) != 0) {
		bot_fail(cl, b, "bind() to a source address failed", err);
		return 0;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr = cl->t->addr;
	dst.sin_port = htons(cl->t->ports[g % cl->t->nports]);
	if (connect(b->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS) {
		bot_fail(cl, b, "connect() failed", errno);
		return 0;
	}
	/*
	 * No wait for EPOLLOUT: the server's greeting, or the error, is the
	 * first thing to read, and then PING and subscribe go out in one write.
	 * That saves a getsockopt(), an epoll_ctl() and a send() per client.
	 * A WebSocket client speaks first: on loopback the connection is up
	 * by now and the request goes at once; if not, on EPOLLOUT.
	 */
	ev.events = EPOLLIN;
	if (b->state == BS_UPGRADING && (err = bot_upgrade(cl, b)) != 0) {
		if (err != EAGAIN) {
			bot_fail(cl, b, "sending the upgrade request failed", err);
			return 0;
		}
		ev.events = EPOLLOUT;
	}
	ev.data.u32 = i;
	if (epoll_ctl(cl->ep, EPOLL_CTL_ADD, b->fd, &ev) < 0) {
		client_fatal(cl, "epoll_ctl() failed", errno);
		return -1;
	}
	return 0;
}

/* bot_deliver - a good message frame; count it and time it both ways. */
static void
bot_deliver(struct client *cl, struct bot *b, const struct msg_seen *m)
{
	int64_t wall = cl->now_us - m->stamp_us;
	int64_t mono = cl->now_ns - m->send_ns;

	if (m->seq >= cl->planned) {
		cl->res.unexpected++;
		b->flags |= BOT_WRONG;
		return;
	}
	if (!bot_take(cl, b, m->seq)) {
		cl->res.dup++;
		b->flags |= BOT_WRONG;
		return;
	}
	b->good++;
	cl->res.deliveries++;
	hist_add(&cl->wall, wall > 0 ? (uint64_t)wall : 0);
	hist_add(&cl->mono, mono > 0 ? (uint64_t)mono / 1000 : 0);
	if (cl->spread != NULL && mono > cl->spread[m->seq])
		cl->spread[m->seq] = mono;
	if (cl->now_ns > cl->res.last_recv_ns)
		cl->res.last_recv_ns = cl->now_ns;
}

/* bot_subscribed - the ACK came: this client takes part in the run. */
static void
bot_subscribed(struct client *cl, struct bot *b)
{
	b->state = BS_READY;
	b->flags |= BOT_ACKED;
	cl->inflight--;
	cl->res.connected++;
}

/*
 * bot_acked - an ACK while subscribing: the first answers the subscribe,
 * the others --noise's, which go out a batch at a time, each once the
 * one before is answered (so a send never meets a full socket).
 */
static void
bot_acked(struct client *cl, struct bot *b)
{
	unsigned k = b->good++, hi;      /* --noise frames answered */
	int err;

	if (k == cl->o->noise) {
		b->good = 0;
		bot_subscribed(cl, b);
		return;
	}
	if (k % cl->noise_batch != 0)
		return;
	hi = k + cl->noise_batch < cl->o->noise ? k + cl->noise_batch : cl->o->noise;
	if ((err = bot_send(b, cl->noise + cl->noise_off[k],
	    cl->noise_off[hi] - cl->noise_off[k])) != 0)
		bot_fail(cl, b, "send() of --noise subscribes failed", err);
}

/* bot_frame - one frame from the server, without its \1. */
static void
bot_frame(struct client *cl, struct bot *b, const char *f, size_t len)
{
	struct msg_seen m;
	int is_ack = len == 3 && memcmp(f, CLIENT_ACK, 3) == 0;
	int is_ping = cl->wire->word_ping && len == 4 && memcmp(f, CLIENT_PING, 4) == 0;
	int err;

	switch (b->state) {
	case BS_CONNECTING:
		if (!msg_is_greeting(f, len)) {
			client_note_frame(cl, "the first frame is not a greeting", f, len);
			bot_fail(cl, b, NULL, 0);
			return;
		}
		if ((err = cl->wire->subscribe(cl, b)) != 0) {
			bot_fail(cl, b, "send() of subscribe failed", err);
			return;
		}
		b->state = BS_SUBSCRIBING;
		cl->greeted++;
		return;
	case BS_SUBSCRIBING:
		if (is_ack)
			bot_acked(cl, b);
		else if (!is_ping) {
			client_note_frame(cl, "a frame other than ACK after subscribe",
			    f, len);
			bot_fail(cl, b, NULL, 0);
		}
		return;
	case BS_READY:
		if (is_ping) {
			/* answering is optional; a failure shows up on the next read */
			bot_send(b, CLIENT_PONG, sizeof(CLIENT_PONG) - 1);
		} else if (msg_check(&cl->spec, &cl->cache, f, len, &m) == 0) {
			bot_deliver(cl, b, &m);
		} else if (msg_is_stamped(f, len)) {
			cl->res.corrupt++;
			b->flags |= BOT_WRONG;
			client_note_frame(cl, "a delivered object differs from the "
			    "published one", f, len);
		} else {
			cl->res.unexpected++;
			b->flags |= BOT_WRONG;
			client_note_frame(cl, "an unexpected frame", f, len);
		}
		return;
	default:
		return;
	}
}

/* bot_keep - hold the start of a frame that the next read completes. */
static int
bot_keep(struct client *cl, struct bot *b, const char *p, size_t n)
{
	char *np;

	if (b->plen + n > cl->frame_max) {
		cl->res.unexpected++;
		b->flags |= BOT_WRONG;
		client_note(cl, "a frame longer than any the bots expect", 0);
		return -1;
	}
	np = realloc(b->part, b->plen + n);
	if (np == NULL)
		return -1;
	memcpy(np + b->plen, p, n);
	b->part = np;
	b->plen += (uint32_t)n;
	return 0;
}

/* bot_feed - split bytes just read into frames; frames may span reads. */
static void
bot_feed(struct client *cl, struct bot *b, const char *p, size_t n)
{
	const char *e;
	size_t flen;

	while (n > 0 && b->state != BS_DEAD) {
		e = memchr(p, '\1', n);
		if (e == NULL) {
			if (bot_keep(cl, b, p, n) < 0)
				bot_lost(cl, b, "a frame too long", 0);
			return;
		}
		flen = (size_t)(e - p);
		if (b->part != NULL) {
			if (bot_keep(cl, b, p, flen) < 0) {
				bot_lost(cl, b, "a frame too long", 0);
				return;
			}
			bot_frame(cl, b, b->part, b->plen);
			free(b->part);
			b->part = NULL;
			b->plen = 0;
		} else {
			bot_frame(cl, b, p, flen);
		}
		p = e + 1;
		n -= flen + 1;
	}
}

/* What a WebSocket message handler needs. */
struct bot_call {
	struct client *cl;
	struct bot *b;
};

/* bot_gone - B's connection ends: a subscribed client is lost, one in set-up failed. */
static void
bot_gone(struct client *cl, struct bot *b, const char *what)
{
	if (b->state == BS_READY)
		bot_lost(cl, b, what, 0);
	else
		bot_fail(cl, b, what, 0);
}

/* bot_ws_message - one message or control frame from the server; -1 once B is dead. */
static int
bot_ws_message(void *ctx, const struct ws_msg *m)
{
	struct bot_call *x = ctx;
	char what[96], code[2];

	switch (m->op) {
	case WS_OP_TEXT:
		bot_frame(x->cl, x->b, m->data, m->len);
		break;
	case WS_OP_PING:
		/* answering is due; a failure shows up on the next read */
		bot_ws_send(x->cl, x->b, WS_OP_PONG, m->data, m->len);
		break;
	case WS_OP_CLOSE:
		code[0] = (char)(m->code >> 8);
		code[1] = (char)m->code;
		bot_ws_send(x->cl, x->b, WS_OP_CLOSE, code,
		    m->code == WS_CLOSE_NO_STATUS ? 0 : 2);
		snprintf(what, sizeof(what), "the server sent a WebSocket Close %u", m->code);
		bot_gone(x->cl, x->b, what);
		break;
	default:
		break;
	}
	return x->b->state == BS_DEAD ? -1 : 0;
}

/* bot_ws_broken - the server broke RFC 6455 (WHY): Close 1002, and B counts bad. */
static void
bot_ws_broken(struct client *cl, struct bot *b, const char *why)
{
	char code[2] = { (char)(WS_CLOSE_PROTOCOL >> 8), (char)(WS_CLOSE_PROTOCOL & 0xff) };

	bot_ws_send(cl, b, WS_OP_CLOSE, code, sizeof(code));
	if (b->state == BS_READY) {
		cl->res.unexpected++;
		b->flags |= BOT_WRONG;
	}
	bot_gone(cl, b, why);
}

/* bot_feed_ws - --ws: the 101 head, then frames; each text message is one Janus frame. */
static void
bot_feed_ws(struct client *cl, struct bot *b, const char *p, size_t n)
{
	struct bot_call x = { cl, b };
	char key[WSC_KEY_LEN];
	const char *why = "";
	size_t used;
	int r;

	if (b->state == BS_UPGRADING) {
		wsc_key(cl->o->nonce, cl->first + (uint32_t)(b - cl->bots), key);
		if ((r = wsc_upgrade(&b->part, &b->plen, p, n, key, &used, &why)) <= 0) {
			if (r < 0)
				bot_fail(cl, b, why, 0);
			return;
		}
		b->state = BS_CONNECTING;
		p += used;
		n -= used;
	}
	if (n > 0 && wsc_feed(&b->part, &b->plen, p, n, cl->frame_max, bot_ws_message,
	    &x, &why) == WSC_FAIL)
		bot_ws_broken(cl, b, why);
}

static const struct bot_wire bot_wire_tcp = { BS_CONNECTING, 1, bot_feed, bot_subscribe };
/* over WebSocket the heartbeat is a Ping control frame, never the word */
static const struct bot_wire bot_wire_ws = { BS_UPGRADING, 0, bot_feed_ws, bot_ws_subscribe };

/* bot_readable - read what client I has; a few reads at most, to be fair. */
static void
bot_readable(struct client *cl, unsigned i)
{
	struct bot *b = &cl->bots[i];
	ssize_t n;
	int round;

	for (round = 0; round < 8 && b->state != BS_DEAD; round++) {
		n = read(b->fd, cl->rbuf, CLIENT_RBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (b->state == BS_READY)
				bot_lost(cl, b, "the server closed a subscribed client",
				    n < 0 ? errno : 0);
			else
				bot_fail(cl, b, "the server closed during set-up",
				    n < 0 ? errno : 0);
			return;
		}
		cl->now_ns = util_mono_ns();
		cl->now_us = util_wall_us();
		cl->wire->feed(cl, b, cl->rbuf, (size_t)n);
		if (n < CLIENT_RBUF)
			return;
	}
}

/* client_last - --flood is over: LAST messages went out; who has them all. */
static void
client_last(struct client *cl, uint32_t last)
{
	unsigned i;

	cl->planned = last;
	cl->settled = 0;
	for (i = 0; i < cl->count; i++)
		if (cl->bots[i].state == BS_DEAD || bot_low(cl, &cl->bots[i]) >= last)
			cl->settled++;
}

/* client_ctl - records from the parent: STOP, and LAST after --flood. */
static void
client_ctl(struct client *cl)
{
	const char *p;
	uint32_t type, last;
	size_t len;
	long n;

	n = ipc_fill(cl->in_fd, &cl->ctl);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		/* the parent is gone: nobody to report to */
		cl->stop = 2;
		return;
	}
	while (ipc_next(&cl->ctl, &type, &p, &len)) {
		if (type == IPC_STOP)
			cl->stop = 1;
		else if (type == IPC_LAST && len == sizeof(uint32_t) &&
		    cl->planned == BOTS_FLOOD_MAX) {
			memcpy(&last, p, sizeof(last));
			client_last(cl, last);
		}
	}
}

/*
 * client_low - --flood: the lowest message any live client still waits for
 * (all below it settled everywhere), worked out at most every
 * CLIENT_DONE_NS so that the publisher's window moves without a scan of
 * every client per event.
 */
static uint32_t
client_low(struct client *cl)
{
	int64_t now = util_mono_ns();
	uint32_t low = cl->planned;
	unsigned i;

	if (now - cl->done_at_ns < CLIENT_DONE_NS)
		return cl->done_sent;
	cl->done_at_ns = now;
	for (i = 0; i < cl->count; i++)
		if (cl->bots[i].state == BS_READY && bot_low(cl, &cl->bots[i]) < low)
			low = bot_low(cl, &cl->bots[i]);
	return low;
}

/* client_tell - the counts for the parent's progress line, when they changed. */
static int
client_tell(struct client *cl)
{
	struct ipc_progress now;
	int64_t t = util_mono_ns();

	if (cl->o->progress == BOTS_PROGRESS_OFF ||
	    t - cl->told_at_ns < CLIENT_PROGRESS_NS)
		return 0;
	memset(&now, 0, sizeof(now));
	now.connected = cl->greeted;
	now.subscribed = cl->res.connected;
	now.delivered = cl->res.deliveries;
	if (memcmp(&now, &cl->told, sizeof(now)) == 0)
		return 0;
	cl->told = now;
	cl->told_at_ns = t;
	return ipc_send(cl->out_fd, IPC_PROGRESS, &now, sizeof(now));
}

/* client_progress - tell the parent about set-up and delivery milestones. */
static int
client_progress(struct client *cl)
{
	struct ipc_ready r;
	uint32_t k = cl->done_sent;

	if (!cl->ready_sent && cl->res.connected + cl->res.failed == cl->count) {
		cl->res.setup_end_ns = util_mono_ns();
		memset(&r, 0, sizeof(r));
		r.setup_start_ns = cl->setup_start_ns;
		r.setup_end_ns = cl->res.setup_end_ns;
		r.connected = cl->res.connected;
		r.failed = cl->res.failed;
		memcpy(r.first_err, cl->res.first_err, sizeof(r.first_err));
		if (ipc_send(cl->out_fd, IPC_READY, &r, sizeof(r)) < 0)
			return -1;
		cl->ready_sent = 1;
	}
	while (cl->reached != NULL && k < cl->planned &&
	    cl->reached[k] == cl->count)
		k++;
	if (cl->o->flood && cl->ready_sent)
		k = client_low(cl);
	if (k != cl->done_sent) {
		cl->done_sent = k;
		if (ipc_send(cl->out_fd, IPC_DONE, &k, sizeof(k)) < 0)
			return -1;
	}
	if (cl->ready_sent && !cl->finished_sent && cl->settled == cl->count) {
		if (ipc_send(cl->out_fd, IPC_FINISHED, NULL, 0) < 0)
			return -1;
		cl->finished_sent = 1;
	}
	return client_tell(cl);
}

/*
 * client_good - clients that got their ACK and every planned message as a
 * good delivery, and no frame that counts as an error.
 */
static uint64_t
client_good(const struct client *cl)
{
	uint64_t good = 0;
	unsigned i;

	for (i = 0; i < cl->count; i++)
		good += cl->bots[i].flags == BOT_ACKED &&
		    cl->bots[i].good == cl->planned;
	return good;
}

/* client_result - send counters, spreads and both histograms in one record. */
static int
client_result(struct client *cl)
{
	size_t nspread = cl->spread != NULL ? cl->planned : 0, len, off;
	struct rusage ru;
	char *buf;
	unsigned i;
	int rc;

	for (i = 0; i < cl->count; i++)
		if (cl->bots[i].state >= BS_UPGRADING &&
		    cl->bots[i].state <= BS_SUBSCRIBING)
			bot_fail(cl, &cl->bots[i], "set-up not finished before the timeout", 0);
	cl->res.failed += cl->count - cl->started;
	if (cl->res.setup_end_ns == 0)
		cl->res.setup_end_ns = util_mono_ns();
	cl->res.clients = cl->count;
	cl->res.good = client_good(cl);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		cl->res.cpu_user_ns = (int64_t)ru.ru_utime.tv_sec * 1000000000 +
		    (int64_t)ru.ru_utime.tv_usec * 1000;
		cl->res.cpu_sys_ns = (int64_t)ru.ru_stime.tv_sec * 1000000000 +
		    (int64_t)ru.ru_stime.tv_usec * 1000;
	}
	cl->res.nspread = (uint32_t)nspread;
	len = sizeof(cl->res) + nspread * sizeof(int64_t) +
	    hist_pack_size(&cl->wall) + hist_pack_size(&cl->mono);
	if ((buf = malloc(len)) == NULL)
		return -1;
	memcpy(buf, &cl->res, sizeof(cl->res));
	off = sizeof(cl->res);
	if (nspread > 0)
		memcpy(buf + off, cl->spread, nspread * sizeof(int64_t));
	off += nspread * sizeof(int64_t);
	off += hist_pack(&cl->wall, buf + off);
	off += hist_pack(&cl->mono, buf + off);
	rc = ipc_send(cl->out_fd, IPC_RESULT, buf, off);
	free(buf);
	return rc;
}

/*
 * client_slots - how many recent messages the check keeps: clients of one
 * child may be this many messages apart before copies are parsed again.
 */
static unsigned
client_slots(const struct msg_spec *s)
{
	size_t n = CLIENT_CACHE_BYTES / (msg_cap(s) + 64);

	if (n > CLIENT_CACHE_MAX)
		n = CLIENT_CACHE_MAX;
	return n < 64 ? 64 : (unsigned)n;
}

/*
 * client_init_ws - --ws: room for an upgrade request and a client frame,
 * and the subscribe as the JSON alone (PROTOCOL.md Part 3); -1 if no memory.
 */
static int
client_init_ws(struct client *cl, const char *sub)
{
	cl->wire = &bot_wire_ws;
	cl->req = malloc(strlen(cl->o->host_name) + 192);
	cl->wout = malloc(strlen(sub) + 64 + WS_CONTROL_MAX + WSC_FRAME_OVER);
	if (cl->req == NULL || cl->wout == NULL)
		return -1;
	/* xorshift: any state but 0 */
	cl->mask = (cl->o->nonce ^ (cl->id + 1) * 2654435761u) | 1;
	cl->sub_len = (size_t)sprintf(cl->sub, "{\"action\":\"subscribe\",\"data\":\"%s\"}", sub);
	return 0;
}

/*
 * client_noise - --noise's subscribe frames: patterns "T.nK.*", one token
 * longer than -T and without ">", so none matches it. -1 if out of memory.
 */
static int
client_noise(struct client *cl)
{
	size_t frame = strlen(cl->o->topic) + 64, len = 0;
	unsigned k;

	if (cl->o->noise == 0)
		return 0;
	cl->noise = malloc(cl->o->noise * frame);
	cl->noise_off = malloc((cl->o->noise + 1) * sizeof(*cl->noise_off));
	if (cl->noise == NULL || cl->noise_off == NULL)
		return -1;
	for (k = 0; k < cl->o->noise; k++) {
		cl->noise_off[k] = len;
		len += (size_t)sprintf(cl->noise + len,
		    "{\"action\":\"subscribe\",\"data\":\"%s.n%u.*\"}%c", cl->o->topic, k, 0);
	}
	cl->noise_off[k] = len;
	cl->noise_batch = CLIENT_NOISE_BYTES / frame > 0 ? CLIENT_NOISE_BYTES / frame : 1;
	return 0;
}

/* client_init - allocate everything up front; -1 with errno on failure. */
static int
client_init(struct client *cl)
{
	struct epoll_event ev;
	const char *sub = cl->o->sub_topic != NULL ? cl->o->sub_topic : cl->o->topic;
	size_t tl = strlen(sub);
	unsigned i;

	msg_spec_init(&cl->spec, cl->o);
	/* lockstep and the floor write one ordered stream; see bots/seen.h */
	cl->planned = cl->o->planned;
	if (!cl->o->lockstep && cl->o->persistent)
		cl->stride = cl->o->publishers;
	else if (!cl->o->lockstep && !cl->o->floor)
		cl->stride = 0;
	else
		cl->stride = 1;
	cl->frame_max = msg_cap(&cl->spec) + 65536;
	cl->bots = calloc(cl->count, sizeof(*cl->bots));
	cl->rbuf = malloc(CLIENT_RBUF);
	cl->sub = malloc(tl + 64 + CLIENT_HELLO_LEN);
	cl->wire = &bot_wire_tcp;
	if (cl->bots == NULL || cl->rbuf == NULL || cl->sub == NULL || client_noise(cl) < 0 ||
	    msg_cache_init(&cl->cache, &cl->spec, client_slots(&cl->spec)) < 0 ||
	    hist_init(&cl->wall) < 0 || hist_init(&cl->mono) < 0)
		return -1;
	if (cl->o->lockstep) {
		cl->reached = calloc(cl->o->planned, sizeof(*cl->reached));
		cl->spread = calloc(cl->o->planned, sizeof(*cl->spread));
		if (cl->reached == NULL || cl->spread == NULL)
			return -1;
	}
	if (cl->stride > 1) {
		cl->snext = calloc((size_t)cl->count * cl->stride, sizeof(*cl->snext));
		if (cl->snext == NULL)
			return -1;
		/* stream k carries messages k, k + stride, ... */
		for (i = 0; i < cl->count * cl->stride; i++)
			cl->snext[i] = i % cl->stride;
	}
	for (i = 0; i < cl->count; i++)
		cl->bots[i].fd = -1;
	/* the original bots' exact bytes: PING, marker, \0, subscribe JSON, \0 */
	memcpy(cl->sub, CLIENT_HELLO, CLIENT_HELLO_LEN);
	cl->sub_len = CLIENT_HELLO_LEN + (size_t)sprintf(cl->sub + CLIENT_HELLO_LEN,
	    "<regular-socket/>%c{\"action\":\"subscribe\",\"data\":\"%s\"}%c",
	    0, sub, 0);
	if (cl->o->ws && client_init_ws(cl, sub) < 0)
		return -1;
	if ((cl->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.u32 = CLIENT_CTL;
	return epoll_ctl(cl->ep, EPOLL_CTL_ADD, cl->in_fd, &ev);
}

/* bot_writable - --ws: the connection is up at last; the request goes now. */
static void
bot_writable(struct client *cl, uint32_t i)
{
	struct bot *b = &cl->bots[i];
	struct epoll_event ev;
	int err;

	if ((err = bot_upgrade(cl, b)) != 0) {
		bot_fail(cl, b, "sending the upgrade request failed", err);
		return;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = i;
	if (epoll_ctl(cl->ep, EPOLL_CTL_MOD, b->fd, &ev) < 0)
		bot_fail(cl, b, "epoll_ctl() failed", errno);
}

/* client_event - one epoll event for client I. */
static void
client_event(struct client *cl, uint32_t i, uint32_t events)
{
	struct bot *b = &cl->bots[i];
	socklen_t len = sizeof(int);
	int err = 0;

	/* a refused or failed connect() comes as an error before any byte */
	if ((b->state == BS_CONNECTING || b->state == BS_UPGRADING) &&
	    (events & EPOLLERR) &&
	    getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
		bot_fail(cl, b, "connect() failed", err);
		return;
	}
	if (b->state == BS_UPGRADING && (events & EPOLLOUT)) {
		bot_writable(cl, i);
		return;
	}
	if (b->state != BS_DEAD && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		bot_readable(cl, i);
}

/* client_loop - start connections as slots free up, handle events, report. */
static int
client_loop(struct client *cl, int64_t hard_deadline)
{
	struct epoll_event ev[CLIENT_EVENTS];
	int n, k;

	while (!cl->stop) {
		if (cl->started == 0)
			cl->setup_start_ns = util_mono_ns();
		while (cl->started < cl->count && cl->inflight < cl->o->inflight)
			if (bot_start(cl, cl->started++) < 0)
				return BOTS_EXIT_SETUP;
		if (client_progress(cl) < 0)
			return BOTS_EXIT_SETUP;
		if (util_mono_ns() > hard_deadline)
			break;
		/* --flood: a DONE held back by CLIENT_DONE_NS must not wait long */
		n = epoll_wait(cl->ep, ev, CLIENT_EVENTS,
		    cl->o->flood && cl->ready_sent ? 1 : 100);
		if (n < 0 && errno != EINTR)
			return client_fatal(cl, "epoll_wait() failed", errno);
		for (k = 0; k < n; k++) {
			if (ev[k].data.u32 == CLIENT_CTL)
				client_ctl(cl);
			else
				client_event(cl, ev[k].data.u32, ev[k].events);
		}
	}
	if (cl->stop == 2)
		return BOTS_EXIT_SETUP;
	return client_result(cl) < 0 ? BOTS_EXIT_SETUP : BOTS_EXIT_OK;
}

int
client_main(const struct bots_opts *o, const struct bots_target *t,
    const struct client_plan *plan, int in_fd, int out_fd)
{
	struct client cl;
	int64_t hard_deadline;

	memset(&cl, 0, sizeof(cl));
	cl.o = o;
	cl.t = t;
	cl.id = plan->id;
	cl.first = plan->first;
	cl.count = plan->count;
	cl.in_fd = in_fd;
	cl.out_fd = out_fd;
	hard_deadline = util_mono_ns() + (int64_t)(o->timeout_s * 1e9) +
	    CLIENT_GRACE_NS;
	if (client_init(&cl) < 0)
		return client_fatal(&cl, "setting up a client child failed", errno);
	/* the process exits next; the kernel closes the sockets and frees memory */
	return client_loop(&cl, hard_deadline);
}
