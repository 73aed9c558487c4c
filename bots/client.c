/*
 * bots/client.c - a child process that runs a share of the subscribing clients.
 *
 * Owns: one epoll loop over up to --per-child client sockets, each a small
 * struct conn; the Part 1 client side of the protocol; the per-child
 * counters and latency histograms sent to the parent in one RESULT record.
 * Must not publish, print a report, or outlive its parent (PR_SET_PDEATHSIG
 * is set by bots/spawn.c, and a hard deadline ends the loop regardless).
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
/* after the parent's own deadline, how long a child waits for STOP */
#define CLIENT_GRACE_NS (30 * 1000000000LL)

enum conn_state {
	CS_IDLE = 0,
	CS_CONNECTING,    /* connect() started; the greeting will say it is done */
	CS_SUBSCRIBING,   /* PING and subscribe sent, waiting for ACK */
	CS_READY,
	CS_DEAD
};

/* struct conn flags */
#define CONN_ACKED 1u     /* it got its ACK: it took part in the run */
#define CONN_WRONG 2u     /* it got a frame that counts as an error */

/* 64 bytes per client: a run holds tens of thousands. */
struct conn {
	int fd;
	uint32_t plen;    /* bytes of a split frame held in part */
	char *part;
	struct seen seen; /* which messages have settled */
	uint8_t state;
	uint8_t flags;    /* CONN_ACKED, CONN_WRONG */
	uint32_t good;    /* its good deliveries */
};

struct client {
	const struct bots_opts *o;
	const struct bots_target *t;
	unsigned id, first, count;
	int ep, in_fd, out_fd;
	struct conn *c;
	unsigned started, inflight, settled;
	uint32_t stride;          /* how messages map to publishing streams */
	uint32_t *snext;          /* stride > 1: per client and stream, the next message */
	uint32_t planned;         /* messages every client expects (--flood: IPC_LAST) */
	int64_t setup_start_ns;   /* the first connect */
	int64_t done_at_ns;       /* --flood: when DONE was last worked out */
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
	char *sub;
	size_t sub_len;
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
 * conn_low - every message below this has settled for C. With several
 * persistent publishers each stream is in order by itself, so a client
 * keeps the next message of each stream instead of a window (streams may
 * drift apart by thousands of messages under --flood).
 */
static uint32_t
conn_low(const struct client *cl, const struct conn *c)
{
	const uint32_t *n;
	uint32_t low, i;

	if (cl->stride <= 1)
		return c->seen.next;
	n = cl->snext + (size_t)(c - cl->c) * cl->stride;
	for (low = n[0], i = 1; i < cl->stride; i++)
		if (n[i] < low)
			low = n[i];
	return low;
}

/* conn_count - messages from OLD up to the window's start have settled. */
static void
conn_count(struct client *cl, struct conn *c, uint32_t old)
{
	uint32_t k, low = conn_low(cl, c);

	if (cl->reached != NULL)
		for (k = old; k < low; k++)
			cl->reached[k]++;
	if (old < cl->planned && low >= cl->planned)
		cl->settled++;
}

/* conn_take - message SEQ arrived at C: 1 if it is a good delivery. */
static int
conn_take(struct client *cl, struct conn *c, uint32_t seq)
{
	uint32_t old, *n;

	if (cl->stride > 1) {
		n = cl->snext + (size_t)(c - cl->c) * cl->stride + seq % cl->stride;
		/* earlier ones of its stream that have not come never will */
		if (seq < *n)
			return 0;
		*n = seq + cl->stride;
		if (seq + cl->stride >= cl->planned && conn_low(cl, c) >= cl->planned)
			cl->settled++;
		return 1;
	}
	old = c->seen.next;
	if (seq < old || !seen_take(&c->seen, seq, cl->stride))
		return 0;
	conn_count(cl, c, old);
	return 1;
}

/* conn_kill - close C for good; what it never got counts as bad. */
static void
conn_kill(struct client *cl, struct conn *c)
{
	uint32_t old, i;

	if (c->state == CS_DEAD)
		return;
	if (c->state >= CS_CONNECTING && c->state <= CS_SUBSCRIBING)
		cl->inflight--;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->part);
	c->part = NULL;
	c->plen = 0;
	c->state = CS_DEAD;
	old = conn_low(cl, c);
	seen_close(&c->seen, cl->planned);
	for (i = 0; cl->stride > 1 && i < cl->stride; i++)
		if (cl->snext[(size_t)(c - cl->c) * cl->stride + i] < cl->planned)
			cl->snext[(size_t)(c - cl->c) * cl->stride + i] = cl->planned;
	conn_count(cl, c, old);
}

/* conn_fail - set-up of C failed (never got its ACK). */
static void
conn_fail(struct client *cl, struct conn *c, const char *what, int err)
{
	client_note(cl, what, err);
	cl->res.failed++;
	conn_kill(cl, c);
}

/* conn_lost - a subscribed C was closed or reset by the server. */
static void
conn_lost(struct client *cl, struct conn *c, const char *what, int err)
{
	client_note(cl, what, err);
	cl->res.closed++;
	conn_kill(cl, c);
}

/* conn_send - a small write that must go out whole; 0 or an errno. */
static int
conn_send(struct conn *c, const char *p, size_t len)
{
	ssize_t n;

	do
		n = send(c->fd, p, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EAGAIN;
}

/* conn_source - bind to 127.0.0.2+ so that one address never runs out of ports. */
static int
conn_source(struct client *cl, int fd, unsigned g)
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

/* conn_start - begin connecting client I; -1 (parent told) if this child cannot go on. */
static int
conn_start(struct client *cl, unsigned i)
{
	struct conn *c = &cl->c[i];
	unsigned g = cl->first + i;
	struct sockaddr_in dst;
	struct epoll_event ev;
	int one = 1, err;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		client_fatal(cl, "socket() failed", errno);
		return -1;
	}
	c->state = CS_CONNECTING;
	cl->inflight++;
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		conn_fail(cl, c, "setsockopt(TCP_NODELAY) failed", errno);
		return 0;
	}
	if ((err = conn_source(cl, c->fd, g)) != 0) {
		conn_fail(cl, c, "bind() to a source address failed", err);
		return 0;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr = cl->t->addr;
	dst.sin_port = htons(cl->t->ports[g % cl->t->nports]);
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(cl, c, "connect() failed", errno);
		return 0;
	}
	/*
	 * No wait for EPOLLOUT: the server's greeting, or the error, is the
	 * first thing to read, and then PING and subscribe go out in one write.
	 * That saves a getsockopt(), an epoll_ctl() and a send() per client.
	 */
	ev.events = EPOLLIN;
	ev.data.u32 = i;
	if (epoll_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		client_fatal(cl, "epoll_ctl() failed", errno);
		return -1;
	}
	return 0;
}

/* conn_deliver - a good message frame; count it and time it both ways. */
static void
conn_deliver(struct client *cl, struct conn *c, const struct msg_seen *m)
{
	int64_t wall = cl->now_us - m->stamp_us;
	int64_t mono = cl->now_ns - m->send_ns;

	if (m->seq >= cl->planned) {
		cl->res.unexpected++;
		c->flags |= CONN_WRONG;
		return;
	}
	if (!conn_take(cl, c, m->seq)) {
		cl->res.dup++;
		c->flags |= CONN_WRONG;
		return;
	}
	c->good++;
	cl->res.deliveries++;
	hist_add(&cl->wall, wall > 0 ? (uint64_t)wall : 0);
	hist_add(&cl->mono, mono > 0 ? (uint64_t)mono / 1000 : 0);
	if (cl->spread != NULL && mono > cl->spread[m->seq])
		cl->spread[m->seq] = mono;
	if (cl->now_ns > cl->res.last_recv_ns)
		cl->res.last_recv_ns = cl->now_ns;
}

/* conn_subscribed - the ACK came: this client takes part in the run. */
static void
conn_subscribed(struct client *cl, struct conn *c)
{
	c->state = CS_READY;
	c->flags |= CONN_ACKED;
	cl->inflight--;
	cl->res.connected++;
}

/* conn_frame - one frame from the server, without its \1. */
static void
conn_frame(struct client *cl, struct conn *c, const char *f, size_t len)
{
	struct msg_seen m;
	int is_ack = len == 3 && memcmp(f, CLIENT_ACK, 3) == 0;
	int is_ping = len == 4 && memcmp(f, CLIENT_PING, 4) == 0;
	int err;

	switch (c->state) {
	case CS_CONNECTING:
		if (!msg_is_greeting(f, len)) {
			client_note_frame(cl, "the first frame is not a greeting", f, len);
			conn_fail(cl, c, NULL, 0);
			return;
		}
		/* the original bots' PING, then their subscribe, in one write */
		if ((err = conn_send(c, cl->sub, cl->sub_len)) != 0) {
			conn_fail(cl, c, "send() of subscribe failed", err);
			return;
		}
		c->state = CS_SUBSCRIBING;
		return;
	case CS_SUBSCRIBING:
		if (is_ack)
			conn_subscribed(cl, c);
		else if (!is_ping) {
			client_note_frame(cl, "a frame other than ACK after subscribe",
			    f, len);
			conn_fail(cl, c, NULL, 0);
		}
		return;
	case CS_READY:
		if (is_ping) {
			/* answering is optional; a failure shows up on the next read */
			conn_send(c, CLIENT_PONG, sizeof(CLIENT_PONG) - 1);
		} else if (msg_check(&cl->spec, &cl->cache, f, len, &m) == 0) {
			conn_deliver(cl, c, &m);
		} else if (msg_is_stamped(f, len)) {
			cl->res.corrupt++;
			c->flags |= CONN_WRONG;
			client_note_frame(cl, "a delivered object differs from the "
			    "published one", f, len);
		} else {
			cl->res.unexpected++;
			c->flags |= CONN_WRONG;
			client_note_frame(cl, "an unexpected frame", f, len);
		}
		return;
	default:
		return;
	}
}

/* conn_keep - hold the start of a frame that the next read completes. */
static int
conn_keep(struct client *cl, struct conn *c, const char *p, size_t n)
{
	char *np;

	if (c->plen + n > cl->frame_max) {
		cl->res.unexpected++;
		c->flags |= CONN_WRONG;
		client_note(cl, "a frame longer than any the bots expect", 0);
		return -1;
	}
	np = realloc(c->part, c->plen + n);
	if (np == NULL)
		return -1;
	memcpy(np + c->plen, p, n);
	c->part = np;
	c->plen += (uint32_t)n;
	return 0;
}

/* conn_feed - split bytes just read into frames; frames may span reads. */
static void
conn_feed(struct client *cl, struct conn *c, const char *p, size_t n)
{
	const char *e;
	size_t flen;

	while (n > 0 && c->state != CS_DEAD) {
		e = memchr(p, '\1', n);
		if (e == NULL) {
			if (conn_keep(cl, c, p, n) < 0)
				conn_lost(cl, c, "a frame too long", 0);
			return;
		}
		flen = (size_t)(e - p);
		if (c->part != NULL) {
			if (conn_keep(cl, c, p, flen) < 0) {
				conn_lost(cl, c, "a frame too long", 0);
				return;
			}
			conn_frame(cl, c, c->part, c->plen);
			free(c->part);
			c->part = NULL;
			c->plen = 0;
		} else {
			conn_frame(cl, c, p, flen);
		}
		p = e + 1;
		n -= flen + 1;
	}
}

/* conn_readable - read what client I has; a few reads at most, to be fair. */
static void
conn_readable(struct client *cl, unsigned i)
{
	struct conn *c = &cl->c[i];
	ssize_t n;
	int round;

	for (round = 0; round < 8 && c->state != CS_DEAD; round++) {
		n = read(c->fd, cl->rbuf, CLIENT_RBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (c->state == CS_READY)
				conn_lost(cl, c, "the server closed a subscribed client",
				    n < 0 ? errno : 0);
			else
				conn_fail(cl, c, "the server closed during set-up",
				    n < 0 ? errno : 0);
			return;
		}
		cl->now_ns = util_mono_ns();
		cl->now_us = util_wall_us();
		conn_feed(cl, c, cl->rbuf, (size_t)n);
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
		if (cl->c[i].state == CS_DEAD || conn_low(cl, &cl->c[i]) >= last)
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
		if (cl->c[i].state == CS_READY && conn_low(cl, &cl->c[i]) < low)
			low = conn_low(cl, &cl->c[i]);
	return low;
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
	return 0;
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
		good += cl->c[i].flags == CONN_ACKED &&
		    cl->c[i].good == cl->planned;
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
		if (cl->c[i].state >= CS_CONNECTING &&
		    cl->c[i].state <= CS_SUBSCRIBING)
			conn_fail(cl, &cl->c[i], "set-up not finished before the timeout", 0);
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

/* client_init - allocate everything up front; -1 with errno on failure. */
static int
client_init(struct client *cl)
{
	struct epoll_event ev;
	size_t tl = strlen(cl->o->topic);
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
	cl->c = calloc(cl->count, sizeof(*cl->c));
	cl->rbuf = malloc(CLIENT_RBUF);
	cl->sub = malloc(tl + 64 + CLIENT_HELLO_LEN);
	if (cl->c == NULL || cl->rbuf == NULL || cl->sub == NULL ||
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
		cl->c[i].fd = -1;
	/* the original bots' exact bytes: PING, marker, \0, subscribe JSON, \0 */
	memcpy(cl->sub, CLIENT_HELLO, CLIENT_HELLO_LEN);
	cl->sub_len = CLIENT_HELLO_LEN + (size_t)sprintf(cl->sub + CLIENT_HELLO_LEN,
	    "<regular-socket/>%c{\"action\":\"subscribe\",\"data\":\"%s\"}%c",
	    0, cl->o->topic, 0);
	if ((cl->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.u32 = CLIENT_CTL;
	return epoll_ctl(cl->ep, EPOLL_CTL_ADD, cl->in_fd, &ev);
}

/* client_event - one epoll event for client I. */
static void
client_event(struct client *cl, uint32_t i, uint32_t events)
{
	struct conn *c = &cl->c[i];
	socklen_t len = sizeof(int);
	int err = 0;

	/* a refused or failed connect() comes as an error before any byte */
	if (c->state == CS_CONNECTING && (events & EPOLLERR) &&
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
		conn_fail(cl, c, "connect() failed", err);
		return;
	}
	if (c->state != CS_DEAD && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_readable(cl, i);
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
			if (conn_start(cl, cl->started++) < 0)
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
