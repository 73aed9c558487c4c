/*
 * t/nats_client.c - proto/nats.c and proto/subject.c against real
 * nats-server processes; run by t/nats_wire.sh, which starts a cluster of
 * three (t/nats_lib.sh) and passes their client ports A B C.
 *
 * Owns: a few test connections (blocking sockets, reads of a chosen size
 * so the parser sees the server's bytes in many splits) and the TAP
 * checks: INFO, CONNECT and PING/PONG, a message with every kind of byte
 * from one connection to another, empty and 512 KiB payloads, a hundred
 * messages in one write, UNSUB, -ERR for a bad subject, encoded topics
 * and wildcard patterns as the server routes them, and a message
 * published on server A delivered on server C. Waits are bounded by
 * generous timeouts; nothing is timed.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/nats.h"
#include "proto/subject.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1
#define WAIT_MS 10000

/* One operation received, copied out of the parser's callback. */
struct got {
	enum nats_op_type type;
	char subject[SUBJECT_MAX + 1];
	size_t slen;
	uint64_t sid;
	int has_reply;
	char *data;
	size_t len;
};

/* A connection: its socket, parser, read size and the ops not yet looked at. */
struct nc {
	int fd;
	size_t chunk;
	struct nats_parser p;
	struct nats_info first;   /* the INFO that opened the connection */
	int infos;
	struct got *q;
	size_t qhead, qlen, qcap;
};

static struct subject_map map;

/* nc_push - the parser's callback: copy the op into the queue. */
static int
nc_push(void *ctx, const struct nats_op *op)
{
	struct nc *c = ctx;
	struct got *g;

	if (op->type == NATS_OP_INFO) {
		if (c->infos++ == 0)
			c->first = *op->info;
		return 0;
	}
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 64;
		c->q = realloc(c->q, c->qcap * sizeof(*c->q));
		if (c->q == NULL)
			tap_bail("out of memory");
	}
	g = &c->q[c->qlen++];
	memset(g, 0, sizeof(*g));
	g->type = op->type;
	if (op->type == NATS_OP_MSG) {
		g->slen = op->subject_len < SUBJECT_MAX ? op->subject_len : SUBJECT_MAX;
		memcpy(g->subject, op->subject, g->slen);
		g->sid = op->sid;
		g->has_reply = op->reply != NULL;
	}
	g->len = op->len;
	g->data = malloc(op->len + 1);
	if (g->data == NULL)
		tap_bail("out of memory");
	if (op->len > 0)
		memcpy(g->data, op->data, op->len);
	g->data[op->len] = '\0';
	return 0;
}

/* nc_open - connect to 127.0.0.1:port, reading chunk bytes at a time. */
static struct nc *
nc_open(unsigned port, size_t chunk)
{
	struct sockaddr_in a;
	struct nc *c = calloc(1, sizeof(*c));

	if (c == NULL)
		tap_bail("out of memory");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		tap_bail("connect to 127.0.0.1:%u: %s", port, strerror(errno));
	c->chunk = chunk;
	nats_parser_init(&c->p, 0);
	return c;
}

static void
nc_close(struct nc *c)
{
	while (c->qhead < c->qlen)
		free(c->q[c->qhead++].data);
	free(c->q);
	nats_parser_free(&c->p);
	close(c->fd);
	free(c);
}

/* nc_send - write all n bytes. */
static void
nc_send(struct nc *c, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t k;

	while (n > 0) {
		k = write(c->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			tap_bail("write: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
}

/* nc_send_line - an encoder's result, bailing out if it refused. */
static void
nc_send_line(struct nc *c, const char *buf, long n)
{
	if (n < 0)
		tap_bail("an encoder refused its input");
	nc_send(c, buf, (size_t)n);
}

/* nc_fill - one read of up to chunk bytes through the parser; 0, or -1 on timeout or EOF. */
static int
nc_fill(struct nc *c, int ms)
{
	static char buf[1 << 16];
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	size_t want = c->chunk < sizeof(buf) ? c->chunk : sizeof(buf);
	enum nats_result r;
	ssize_t k;

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	k = read(c->fd, buf, want);
	if (k <= 0)
		return -1;
	r = nats_parse(&c->p, buf, (size_t)k, nc_push, c);
	if (r != NATS_MORE)
		tap_bail("parser: %s", nats_parse_error(&c->p));
	return 0;
}

/*
 * nc_next - the next op other than INFO, answering the server's PINGs;
 * 0 and *g (free g->data), or -1 after ms without one.
 */
static int
nc_next(struct nc *c, struct got *g, int ms)
{
	for (;;) {
		while (c->qhead < c->qlen) {
			*g = c->q[c->qhead++];
			if (g->type != NATS_OP_PING)
				return 0;
			free(g->data);
			nc_send(c, S(NATS_PONG));
		}
		c->qhead = c->qlen = 0;
		if (nc_fill(c, ms) < 0)
			return -1;
	}
}

/* nc_expect - the next op is of this type; its text (for -ERR) into text. */
static int
nc_expect(struct nc *c, enum nats_op_type type, char *text, size_t cap)
{
	struct got g;
	int ok;

	if (nc_next(c, &g, WAIT_MS) < 0) {
		tap_diag("no operation within %d ms", WAIT_MS);
		return 0;
	}
	ok = g.type == type;
	if (!ok)
		tap_diag("got op %d (%.*s), expected %d", (int)g.type, (int)g.slen,
		    g.subject, (int)type);
	if (text != NULL)
		snprintf(text, cap, "%s", g.data);
	free(g.data);
	return ok;
}

/* nc_sync - PING and wait for PONG: the server has read all we sent before. */
static int
nc_sync(struct nc *c)
{
	nc_send(c, S(NATS_PING));
	return nc_expect(c, NATS_OP_PONG, NULL, 0);
}

/* nc_connect - wait for INFO, send CONNECT and sync. */
static int
nc_connect(struct nc *c, const char *name)
{
	char buf[512];

	while (c->infos == 0)
		if (nc_fill(c, WAIT_MS) < 0)
			return 0;
	nc_send_line(c, buf, nats_put_connect(buf, sizeof(buf), name, "test"));
	return nc_sync(c);
}

/* nc_sub - SUB subject sid, then sync. */
static int
nc_sub(struct nc *c, const char *subject, size_t len, uint64_t sid)
{
	char buf[SUBJECT_MAX + 64];

	nc_send_line(c, buf, nats_put_sub(buf, sizeof(buf), subject, len, sid));
	return nc_sync(c);
}

/* nc_pub - PUB through the iovec pieces, as the bridge will send it. */
static void
nc_pub(struct nc *c, const char *subject, size_t len, const void *payload,
    size_t plen)
{
	char head[SUBJECT_MAX + 64];
	struct iovec iov[3];
	long n = nats_put_pub(head, sizeof(head), subject, len, plen);
	int i;

	if (n < 0)
		tap_bail("nats_put_pub refused '%.*s'", (int)len, subject);
	nats_pub_iov(iov, head, (size_t)n, payload, plen);
	for (i = 0; i < 3; i++)
		nc_send(c, iov[i].iov_base, iov[i].iov_len);
}

/* nc_msg - the next op is MSG on subject/sid with exactly this payload. */
static int
nc_msg(struct nc *c, const char *subject, uint64_t sid, const void *payload,
    size_t plen, const char *what)
{
	struct got g;
	int ok;

	if (nc_next(c, &g, WAIT_MS) < 0)
		return tap_ok(0, "%s (nothing arrived)", what);
	ok = tap_ok(g.type == NATS_OP_MSG && g.slen == strlen(subject) &&
	    memcmp(g.subject, subject, g.slen) == 0 && g.sid == sid && !g.has_reply,
	    "%s: MSG %s sid %llu", what, subject, (unsigned long long)sid);
	if (!ok)
		tap_diag("got op %d '%.*s' sid %llu", (int)g.type, (int)g.slen,
		    g.subject, (unsigned long long)g.sid);
	ok = tap_is_mem(g.data, g.len, payload, plen, "%s: exact payload", what) && ok;
	free(g.data);
	return ok;
}

/* test_handshake - INFO's fields, CONNECT accepted, PING answered. */
static void
test_handshake(struct nc *s, struct nc *p)
{
	tap_ok(nc_connect(s, "janusd test sub") && nc_connect(p, "janusd test pub"),
	    "CONNECT then PING: PONG, no -ERR, no +OK");
	tap_ok(strlen(s->first.server_id) == 56, "INFO: a server_id (%s)", s->first.server_id);
	tap_is_int((long long)s->first.max_payload, NATS_PAYLOAD_DEFAULT,
	    "INFO: max_payload is the default 1 MiB");
	tap_ok(s->first.proto >= 1 && s->first.headers == 1 && s->first.tls_required == 0 &&
	    s->first.auth_required == 0 && s->first.ldm == 0,
	    "INFO: proto %llu, headers, no TLS or auth, not lame duck",
	    (unsigned long long)s->first.proto);
	tap_is_str(s->first.server_name, "nats0", "INFO: the server's name");
}

/* test_messages - bytes of every kind, empty, 512 KiB, a hundred in one write, UNSUB. */
static void
test_messages(struct nc *s, struct nc *p)
{
	static const char odd[] = "a\r\nMSG x 1 3\r\n\0\xff\xfe\r\n-ERR '\tPING\r\n";
	size_t big_len = 512 << 10, i, k, n;
	char *big = malloc(big_len), *burst = malloc(100 * 64), want[16];
	struct got g;

	if (big == NULL || burst == NULL)
		tap_bail("out of memory");
	tap_ok(nc_sub(s, S("janus.orders"), 1), "SUB janus.orders 1");
	nc_pub(p, S("janus.orders"), S(odd));
	nc_msg(s, "janus.orders", 1, S(odd), "CR LF, NUL, 0xff, protocol words in a payload");
	nc_pub(p, S("janus.orders"), "", 0);
	nc_msg(s, "janus.orders", 1, "", 0, "an empty payload");
	for (i = 0; i < big_len; i++)
		big[i] = (char)(i * 7 + i / 251);
	nc_pub(p, S("janus.orders"), big, big_len);
	nc_msg(s, "janus.orders", 1, big, big_len, "a 512 KiB payload in 7-byte reads");
	for (i = 0, n = 0; i < 100; i++) {
		k = (size_t)snprintf(want, sizeof(want), "m%zu", i);
		n += (size_t)nats_put_pub(burst + n, 64, S("janus.orders"), k);
		memcpy(burst + n, want, k);
		memcpy(burst + n + k, NATS_CRLF, 2);
		n += k + 2;
	}
	nc_send(p, burst, n);
	for (i = 0, k = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "m%zu", i);
		if (nc_next(s, &g, WAIT_MS) < 0)
			break;
		k += g.type == NATS_OP_MSG && strcmp(g.data, want) == 0;
		free(g.data);
	}
	tap_is_int((long long)k, 100, "a hundred PUBs in one write: a hundred MSGs in order");
	nc_send_line(s, want, nats_put_unsub(want, sizeof(want), 1, 0));
	tap_ok(nc_sync(s), "UNSUB 1");
	nc_pub(p, S("janus.orders"), S("after"));
	tap_ok(nc_sync(p) && nc_sync(s), "after UNSUB nothing arrives before the next PONG");
	free(big);
	free(burst);
}

/* test_err - a subject the server refuses: -ERR, and the connection goes on. */
static void
test_err(struct nc *s)
{
	char buf[64], text[128] = "";

	nc_send_line(s, buf, nats_put_sub(buf, sizeof(buf), S("janus..x"), 9));
	tap_ok(nc_expect(s, NATS_OP_ERR, text, sizeof(text)), "SUB janus..x: -ERR");
	tap_is_str(text, "Invalid Subject", "its text, without the quotes");
	tap_ok(nc_sync(s), "the connection still answers PING");
}

/* Topics published in test_encoded, and which pattern (sid) must get each. */
static const struct {
	const char *topic;
	size_t len;
	uint64_t sid;   /* 2: orders.*.created, 3: prices.>, 0: none */
} routed[] = {
	{ S("orders.eu.created"), 2 },
	{ S("orders.a b.created"), 2 },
	{ S("orders.~.created"), 2 },
	{ S("orders..created"), 2 },
	{ S("orders.eu.x.created"), 0 },
	{ S("orders.created"), 0 },
	{ S("prices"), 0 },
	{ S("prices.x"), 3 },
	{ S("prices.a.b\xff.\0"), 3 },
	{ S("pricesx.a"), 0 },
	{ S("caf\xc3\xa9"), 0 },
	{ S("~orders.eu.created"), 0 },
};

/* encode_or_bail - a topic's or pattern's subject. */
static size_t
encode_or_bail(const char *t, size_t len, int pattern, char *dst)
{
	size_t n;
	enum subject_err err = pattern ?
	    subject_encode_pattern(&map, t, len, dst, SUBJECT_MAX, &n) :
	    subject_encode(&map, t, len, dst, SUBJECT_MAX, &n);

	if (err != SUBJECT_OK)
		tap_bail("encode '%.*s': %s", (int)len, t, subject_strerror(err));
	dst[n] = '\0';
	return n;
}

/* check_decodes - the next MSG has sid and decodes to topic. */
static int
check_decodes(struct nc *s, uint64_t sid, const char *topic, size_t len)
{
	char back[SUBJECT_MAX];
	size_t blen;
	struct got g;
	int ok;

	if (nc_next(s, &g, WAIT_MS) < 0)
		return 0;
	ok = g.type == NATS_OP_MSG && g.sid == sid &&
	    subject_decode(&map, g.subject, g.slen, back, sizeof(back), &blen) == SUBJECT_OK &&
	    blen == len && memcmp(back, topic, len) == 0;
	if (!ok)
		tap_diag("got op %d '%.*s' sid %llu, expected topic '%.*s' sid %llu",
		    (int)g.type, (int)g.slen, g.subject, (unsigned long long)g.sid,
		    (int)len, topic, (unsigned long long)sid);
	free(g.data);
	return ok;
}

/* test_encoded - the server routes encoded topics to encoded patterns as janusd would. */
static void
test_encoded(struct nc *s, struct nc *p)
{
	char subj[SUBJECT_MAX + 1], topic[8];
	size_t i, n, k = 0, want = 0;
	int b;

	n = encode_or_bail(S("orders.*.created"), 1, subj);
	tap_ok(nc_sub(s, subj, n, 2), "SUB %s 2", subj);
	n = encode_or_bail(S("prices.>"), 1, subj);
	tap_ok(nc_sub(s, subj, n, 3), "SUB %s 3", subj);
	for (i = 0; i < NELEM(routed); i++) {
		n = encode_or_bail(routed[i].topic, routed[i].len, 0, subj);
		nc_pub(p, subj, n, "x", 1);
	}
	nc_pub(p, S("janus.prices.end"), "x", 1);
	for (i = 0; i < NELEM(routed); i++) {
		if (routed[i].sid == 0)
			continue;
		want++;
		k += check_decodes(s, routed[i].sid, routed[i].topic, routed[i].len);
	}
	k += check_decodes(s, 3, S("prices.end"));
	tap_is_int((long long)k, (long long)want + 1,
	    "each pattern got exactly the topics it matches, in order, and they decode");

	n = encode_or_bail(S("bytes.*"), 1, subj);
	tap_ok(nc_sub(s, subj, n, 4), "SUB %s 4", subj);
	for (b = 0; b < 256; b++) {
		if (b == '.')
			continue;
		memcpy(topic, "bytes.", 6);
		topic[6] = (char)b;
		n = encode_or_bail(topic, 7, 0, subj);
		nc_pub(p, subj, n, topic + 6, 1);
	}
	for (b = 0, k = 0; b < 256; b++) {
		if (b == '.')
			continue;
		topic[6] = (char)b;
		k += check_decodes(s, 4, topic, 7);
	}
	tap_is_int((long long)k, 255,
	    "the server takes the subject of every byte value and routes it to bytes.*");
}

/* test_cluster - published on server A, delivered to a subscriber on server C. */
static void
test_cluster(unsigned port_a, unsigned port_c)
{
	static const char payload[] = "{\"timestamp\":[1,2,3],\"topic\":\"x\",\"data\":\"\xc3\xa9\"}";
	struct nc *a = nc_open(port_a, 1 << 16), *c = nc_open(port_c, 5);
	struct got g;
	int probes, seen = 0, ok;

	tap_ok(nc_connect(a, "janusd test A") && nc_connect(c, "janusd test C"),
	    "connected to servers A and C");
	tap_ok(strcmp(a->first.server_id, c->first.server_id) != 0 &&
	    strcmp(c->first.server_name, "nats2") == 0, "A and C are different servers");
	tap_ok(nc_sub(c, S("janus.cluster"), 1), "SUB janus.cluster 1 on C");
	/* C's interest reaches A through the route a moment later: probe until it has */
	for (probes = 0; probes < 200 && !seen; probes++) {
		nc_pub(a, S("janus.cluster"), S("probe"));
		if (!nc_sync(a))
			break;
		while (!seen && nc_next(c, &g, probes < 20 ? 20 : 100) == 0) {
			seen = g.type == NATS_OP_MSG && strcmp(g.data, "probe") == 0;
			free(g.data);
		}
	}
	tap_ok(seen, "a probe from A reached C (after %d)", probes);
	nc_pub(a, S("janus.cluster"), S(payload));
	/* probes still in flight come first: the route keeps A's order */
	do {
		ok = nc_next(c, &g, WAIT_MS) == 0;
		seen = ok && g.type == NATS_OP_MSG && strcmp(g.data, "probe") == 0;
		if (ok && !seen) {
			tap_ok(g.type == NATS_OP_MSG && g.sid == 1 && g.slen == 13 &&
			    memcmp(g.subject, "janus.cluster", 13) == 0,
			    "MSG janus.cluster 1 on C");
			tap_is_mem(g.data, g.len, S(payload), "with A's exact bytes");
		}
		if (ok)
			free(g.data);
	} while (seen);
	if (!ok)
		tap_ok(0, "nothing after the probes reached C");
	nc_close(a);
	nc_close(c);
}

int
main(int argc, char **argv)
{
	unsigned port_a, port_c;
	struct nc *s, *p;

	/* t/nats_lib.sh's nats_cluster_run passes the servers' pids after their ports */
	if (argc < 4)
		tap_bail("usage: nats_client PORT_A PORT_B PORT_C [PIDS...]");
	port_a = (unsigned)atoi(argv[1]);
	port_c = (unsigned)atoi(argv[3]);
	if (subject_map_init(&map, S("janus.")) != SUBJECT_OK)
		tap_bail("prefix janus. refused");
	tap_plan(29);
	/* the subscriber reads 7 bytes at a time: every op arrives split */
	s = nc_open(port_a, 7);
	p = nc_open(port_a, 1 << 16);
	test_handshake(s, p);
	test_messages(s, p);
	test_err(s);
	test_encoded(s, p);
	nc_close(s);
	nc_close(p);
	test_cluster(port_a, port_c);
	return tap_done();
}
