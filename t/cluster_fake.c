/*
 * t/cluster_fake.c - the cluster bridge against a NATS server this test
 * plays itself, so every byte on the link is seen and chosen here.
 *
 * Owns: a fake server (a loopback listener, INFO out, the bridge's lines
 * in, its end of the link a buffered struct tc like a client's) and the
 * checks: the handshake (CONNECT with echo false, verbose
 * false and the name, then PING), SUB only for topics with subscribers
 * here (an encoded one too), a local publish going out as PUB with
 * exactly the subscriber's bytes, a MSG in reaching a Part 1 subscriber
 * byte for byte and a version 2 one with its seq, never going out again;
 * payloads no node renders (not JSON, no timestamp, a seq member, a
 * foreign subject) counted as malformed with the link kept, a MSG through
 * a sid the bridge no longer holds not taken; server PING
 * answered; UNSUB after cluster_linger; a malformed MSG line, a payload
 * over max_payload and -ERR each closing the link, which comes back with
 * CONNECT and its SUBs again, while a Permissions Violation does not;
 * what was published while the link was down forwarded, in order, once
 * it is back; a burst of 20 MB published while the server reads nothing
 * forwarded whole and in order once it reads again; the bridge killed
 * with SIGKILL respawned with its subscriptions, and through all of it
 * the subscribers' connections untouched and no worker restarted. With
 * the fault hooks: a bridge that cannot start is not respawned and janusd
 * goes on serving.
 * Waits are bounded by generous timeouts; nothing is timed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define WAIT_MS 5000
#define BURST_MSGS 20000         /* 20 MB: several times what the sockets between bridge and fake hold */
#define BURST_DATA 1000
#define BURST_WAIT_MS 20000      /* a generous bound: draining takes well under a second */
#define INFO "INFO {\"server_id\":\"FAKE\",\"server_name\":\"fake\",\"version\":\"2.9.10\"," \
	"\"proto\":1,\"max_payload\":65536,\"headers\":true}\r\n"
#define REMOTE_MSG(id) "{\"timestamp\":[1700,123456,7],\"topic\":\"news\",\"event\":\"e\"," \
	"\"message_id\":\"" id "\",\"data\":[1,\"two\"]}"

static struct tsrv srv;
static int lfd;
static unsigned nats_port;

/* peer_line - the next line from the bridge without its \r\n into out; its length, -1 timeout, -2 end. */
static long
peer_line(struct tc *p, char *out, size_t cap, int ms)
{
	long n = tc_until(p, '\n', out, cap, ms);

	if (n > 0 && (size_t)n < cap && out[n - 1] == '\r')
		out[--n] = '\0';
	return n;
}

/* peer_send - write a string to the bridge. */
static void
peer_send(struct tc *p, const char *s)
{
	size_t n = strlen(s);

	if (write(p->fd, s, n) != (ssize_t)n)
		tap_diag("write to the bridge: %s", strerror(errno));
}

/* peer_accept - the bridge's next connection, with INFO sent; NULL on timeout. */
static struct tc *
peer_accept(int ms)
{
	struct pollfd pfd = { lfd, POLLIN, 0 };
	struct tc *p;

	if (poll(&pfd, 1, ms) <= 0 || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->fd = accept(lfd, NULL, NULL)) < 0) {
		free(p);
		return NULL;
	}
	peer_send(p, INFO);
	return p;
}

/* peer_handshake - CONNECT then PING, answered with PONG; the CONNECT line into connect. 0 or -1. */
static int
peer_handshake(struct tc *p, char *connect, size_t cap)
{
	char line[512];

	if (peer_line(p, connect, cap, WAIT_MS) < 0 || strncmp(connect, "CONNECT {", 9) != 0 ||
	    peer_line(p, line, sizeof(line), WAIT_MS) < 0 || strcmp(line, "PING") != 0) {
		tap_diag("handshake: got '%s'", connect);
		return -1;
	}
	peer_send(p, "PONG\r\n");
	return 0;
}

/* peer_expect - the next line is want. */
static int
peer_expect(struct tc *p, const char *want, const char *name)
{
	char line[512];
	long n = peer_line(p, line, sizeof(line), WAIT_MS);

	return tap_is_str(n >= 0 ? line : n == -1 ? "(timeout)" : "(closed)", want, "%s", name);
}

/* peer_pub - the next PUB: its subject into subject and payload into out; the payload length, or -1. */
static long
peer_pub(struct tc *p, char *subject, size_t scap, char *out, size_t cap, int ms)
{
	char line[1200];
	unsigned long n;
	int k;

	if (peer_line(p, line, sizeof(line), ms) < 0)
		return -1;
	if (sscanf(line, "PUB %1000s %lu%n", subject, &n, &k) != 2 || line[k] != '\0' || n + 1 > cap ||
	    strlen(subject) >= scap) {
		tap_diag("not a PUB: '%s'", line);
		return -1;
	}
	/* a node's payload is compact JSON: no raw newline in it, so it is a line too */
	if (peer_line(p, out, cap, ms) != (long)n)
		return -1;
	return (long)n;
}

/* peer_quiet - nothing comes from the bridge for ms (the link stays open). */
static int
peer_quiet(struct tc *p, int ms, const char *name)
{
	char line[512];
	long n = peer_line(p, line, sizeof(line), ms);

	if (n >= 0)
		tap_diag("  unexpected: '%s'", line);
	return tap_ok(n == -1, "%s", name);
}

/* peer_closed - the bridge closes the link within WAIT_MS (what it sent before is skipped). */
static int
peer_closed(struct tc *p)
{
	char line[512];
	long n;

	while ((n = peer_line(p, line, sizeof(line), WAIT_MS)) >= 0)
		;
	return n == -2;
}

/* sub - a Part 1 subscriber to topic (bails out if it gets no ACK). */
static struct tc *
sub(const char *topic)
{
	struct tc *c = tc_open_greeted(srv.port);

	if (tc_subscribe(c, topic) < 0)
		tap_bail("subscribe to '%s' failed", topic);
	return c;
}

/* publish - a Part 1 publish to this node; the payload is what a subscriber gets before its \1. */
static void
publish(const char *id)
{
	char obj[256];

	snprintf(obj, sizeof(obj), "{\"topic\":\"news\",\"event\":\"e\",\"message_id\":\"%s\",\"data\":1}", id);
	if (tc_publish1(srv.port, obj) < 0)
		tap_bail("publish failed");
}

/* reconnected - after the bridge dropped p: its next link, handshake and the SUB of news again. */
static struct tc *
reconnected(struct tc *p, const char *why)
{
	char connect[1024];
	struct tc *q;

	tap_ok(peer_closed(p), "%s: the bridge closes the link", why);
	tc_close(p);
	q = peer_accept(WAIT_MS);
	if (q == NULL)
		tap_bail("%s: the bridge did not connect again", why);
	tap_ok(peer_handshake(q, connect, sizeof(connect)) == 0, "%s: CONNECT and PING again", why);
	peer_expect(q, "SUB janus.news 1", "its subscription is sent again");
	return q;
}

/* remote_in - a MSG on news reaches subscriber a byte for byte. */
static void
remote_in(struct tc *p, struct tc *a, const char *id, const char *what)
{
	char msg[512], f[512];
	const char *payload;
	long n;

	snprintf(f, sizeof(f), REMOTE_MSG("%s"), id);
	payload = strdup(f);
	snprintf(msg, sizeof(msg), "MSG janus.news 1 %zu\r\n%s\r\n", strlen(payload), payload);
	peer_send(p, msg);
	n = tc_frame(a, f, sizeof(f), WAIT_MS);
	tap_is_str(n >= 0 ? f : "(nothing)", payload, "%s: the subscriber gets the message as it came", what);
	free((void *)payload);
}

/* handshake_checks - the first link: CONNECT's options and name. */
static struct tc *
handshake_checks(void)
{
	char connect[1024];
	struct tc *p = peer_accept(WAIT_MS);

	if (p == NULL)
		tap_bail("the bridge did not connect");
	tap_ok(peer_handshake(p, connect, sizeof(connect)) == 0, "the bridge sends CONNECT, then PING");
	tap_ok(strstr(connect, "\"echo\":false") != NULL, "CONNECT asks for no echo of its own messages");
	tap_ok(strstr(connect, "\"verbose\":false") != NULL, "CONNECT asks for no +OK");
	tap_ok(strstr(connect, "\"name\":\"fake-node\"") != NULL, "CONNECT carries cluster_name");
	return p;
}

/* traffic_checks - SUB for what is subscribed here, PUB out, MSG in, nothing echoed. */
static void
traffic_checks(struct tc *p, struct tc *a)
{
	char subject[1100], payload[1024], f[1024];
	struct tc *b;
	long n, m;

	peer_expect(p, "SUB janus.news 1", "a first subscriber to news: SUB janus.news");
	b = sub("a b");
	peer_expect(p, "SUB janus.~a~20b 2", "a topic that is not a subject token is subscribed encoded");
	publish("local-1");
	n = peer_pub(p, subject, sizeof(subject), payload, sizeof(payload), WAIT_MS);
	m = tc_frame(a, f, sizeof(f), WAIT_MS);
	tap_is_str(n >= 0 ? subject : "(no PUB)", "janus.news", "a local publish goes out on janus.news");
	tap_is_mem(payload, n > 0 ? (size_t)n : 0, f, m > 0 ? (size_t)m : 0,
	    "its payload is exactly what the subscriber got before its \\1");
	tap_ok(strncmp(payload, "{\"timestamp\":[", 14) == 0, "timestamp included");
	remote_in(p, a, "remote-1", "MSG in");
	tc_quiet(b, 300, "the other topic's subscriber gets nothing");
	peer_quiet(p, 300, "a message from NATS is never published back");
	tap_is_int(tsrv_bridge_stat(&srv, "msgs_out"), 1, "msgs_out counts the local message");
	tap_is_int(tsrv_bridge_stat(&srv, "msgs_in"), 1, "msgs_in counts the remote one");
	tc_sendz(b, "{\"action\":\"unsubscribe\",\"data\":\"a b\"}");
	peer_expect(p, "UNSUB 2", "its last subscriber gone, the subject is unsubscribed after cluster_linger");
	tc_close(b);
}

/* v2_checks - a version 2 subscriber gets the remote message with this node's seq, a Part 1 one without. */
static void
v2_checks(struct tc *p, struct tc *a)
{
	struct tc *c = tc_open_greeted(srv.port);
	char f[1024], want[1024], msg[512];
	const char *payload = REMOTE_MSG("remote-v2"), *last;
	long n;

	tc_sendz(c, "{\"action\":\"hello\",\"version\":2}");
	n = tc_frame(c, f, sizeof(f), WAIT_MS);
	last = n > 0 ? strstr(f, "\"seq\":") : NULL;
	snprintf(want, sizeof(want), "{\"timestamp\":[1700,123456,7],\"seq\":%lld,%s",
	    last != NULL ? strtoll(last + 6, NULL, 10) + 1 : -1,
	    payload + strlen("{\"timestamp\":[1700,123456,7],"));
	tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"news\"}");
	n = tc_frame(c, f, sizeof(f), WAIT_MS);
	tap_is_str(n >= 0 ? f : "(nothing)", "ACK", "a version 2 session subscribes");
	snprintf(msg, sizeof(msg), "MSG janus.news 1 %zu\r\n%s\r\n", strlen(payload), payload);
	peer_send(p, msg);
	n = tc_frame(c, f, sizeof(f), WAIT_MS);
	tap_is_str(n >= 0 ? f : "(nothing)", want,
	    "version 2: the remote message with this node's next seq after its timestamp");
	n = tc_frame(a, f, sizeof(f), WAIT_MS);
	tap_is_str(n >= 0 ? f : "(nothing)", payload, "Part 1: the same message as it came");
	tc_close(c);
}

/* malformed_checks - what no node renders is dropped and counted; the link stays. */
static void
malformed_checks(struct tc *p, struct tc *a)
{
	static const char *const bad[][2] = {
		{ "janus.news", "not json" },
		{ "janus.news", "{\"topic\":\"x\"}" },
		{ "janus.news", "{\"timestamp\":[1,2,3],\"seq\":7,\"topic\":\"news\",\"x\":1}" },
		{ "janus.news", "{\"timestamp\":[1,2,3],\"a\":1]}" },
		{ "janus.news", "{\"timestamp\":[01,2,3],\"a\":1}" },
		{ "janus.news", "" },
		{ "other.news", "{\"timestamp\":[1,2,3],\"a\":1}" },
		{ "janus.~news", "{\"timestamp\":[1,2,3],\"a\":1}" },
	};
	size_t i, n = sizeof(bad) / sizeof(bad[0]);
	const char *good = REMOTE_MSG("through-sid-2");
	char msg[512];

	/* sid 2 was janus.~a~20b's: a copy through a subscription the bridge does not hold is not taken */
	snprintf(msg, sizeof(msg), "MSG janus.news 2 %zu\r\n%s\r\n", strlen(good), good);
	peer_send(p, msg);
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "MSG %s 1 %zu\r\n%s\r\n", bad[i][0], strlen(bad[i][1]), bad[i][1]);
		peer_send(p, msg);
	}
	tap_is_int(tsrv_bridge_wait(&srv, "malformed", (long long)n, WAIT_MS), (long long)n,
	    "not JSON, no timestamp, a seq member, bad JSON, a padded number, empty, "
	    "a foreign subject, a needless escape: each counted as malformed");
	tc_quiet(a, 200, "the subscriber gets none of them, nor a message through a dropped sid");
	peer_send(p, "PING\r\n");
	peer_expect(p, "PONG", "the server's PING is answered: the link is still there");
	tap_is_int(tsrv_bridge_stat(&srv, "reconnects"), 0, "no reconnect for a bad payload");
	remote_in(p, a, "remote-2", "after the bad payloads");
}

/* down_checks - published while the link is down: forwarded in order once it is back. */
static struct tc *
down_checks(struct tc *p, struct tc *a)
{
	char subject[1100], payload[1024], connect[1024], want[32], f[512];
	struct tc *q;
	int i, good = 0, local = 0;
	long n;

	tc_close(p);
	for (i = 0; i < WAIT_MS && tsrv_bridge_up(&srv); i += 20)
		tlib_sleep_ms(20);
	for (i = 1; i <= 3; i++) {
		snprintf(want, sizeof(want), "down-%d", i);
		publish(want);
		local += tc_frame(a, f, sizeof(f), WAIT_MS) > 0 && strstr(f, want) != NULL;
	}
	tap_is_int(local, 3, "link down: local delivery goes on");
	if ((q = peer_accept(WAIT_MS)) == NULL)
		tap_bail("the bridge did not connect again");
	tap_ok(peer_handshake(q, connect, sizeof(connect)) == 0, "link down: the bridge connects again");
	peer_expect(q, "SUB janus.news 1", "link down: its subscription is sent again");
	for (i = 1; i <= 3; i++) {
		n = peer_pub(q, subject, sizeof(subject), payload, sizeof(payload), WAIT_MS);
		snprintf(want, sizeof(want), "\"down-%d\"", i);
		good += n > 0 && strstr(payload, want) != NULL;
	}
	tap_is_int(good, 3, "what was published while the link was down goes out after, in order");
	return q;
}

/* burst_parse - the complete PUB records of buf from *pos on: counted in *got, checked for topic and order. */
static void
burst_parse(const char *buf, size_t len, size_t *pos, int *got, int *order)
{
	char subject[64], id[32], head[128];
	const char *line, *eol;
	unsigned long n;
	int k;

	while ((eol = memchr(buf + *pos, '\n', len - *pos)) != NULL) {
		line = buf + *pos;
		if (strncmp(line, "PUB ", 4) != 0) {      /* PING, SUB, ...: the link's own lines */
			*pos = (size_t)(eol + 1 - buf);
			continue;
		}
		/* sscanf reads to a NUL: give it the line alone, not the megabytes after it */
		snprintf(head, sizeof(head), "%.*s", (int)(eol - line), line);
		if (sscanf(head, "PUB %63s %lu%n", subject, &n, &k) != 2 || head[k] != '\r' || head[k + 1] != '\0') {
			*order = 0;
			*pos = (size_t)(eol + 1 - buf);
			continue;
		}
		if ((size_t)(eol + 1 - buf) + n + 2 > len)
			return;
		snprintf(id, sizeof(id), "\"message_id\":\"%d\"", *got);
		*order &= strcmp(subject, "janus.burst") == 0 && memmem(eol + 1, n, id, strlen(id)) != NULL;
		*got += 1;
		*pos = (size_t)(eol + 1 - buf) + n + 2;
	}
}

/* burst_read - read the bridge's output as fast as a real server would, until want PUBs or the deadline. */
static int
burst_read(struct tc *p, int want, int *order)
{
	size_t cap = (size_t)want * (BURST_DATA + 200), len = p->len, pos = 0;
	char *buf = malloc(cap);
	uint64_t until = tlib_ms() + BURST_WAIT_MS;
	struct pollfd pfd = { p->fd, POLLIN, 0 };
	int got = 0;
	ssize_t k;

	if (buf == NULL)
		tap_bail("out of memory");
	memcpy(buf, p->buf, len);
	p->len = 0;
	burst_parse(buf, len, &pos, &got, order);
	while (got < want && len < cap && tlib_ms() < until) {
		if (poll(&pfd, 1, (int)(until - tlib_ms())) <= 0)
			break;
		if ((k = read(p->fd, buf + len, cap - len)) <= 0 && !(k < 0 && errno == EAGAIN))
			break;
		len += k > 0 ? (size_t)k : 0;
		burst_parse(buf, len, &pos, &got, order);
	}
	free(buf);
	return got;
}

/*
 * burst_checks - a burst far larger than the socket buffers, published
 * while the fake server reads nothing: once it reads again, every record
 * goes out, in order, and none is dropped.
 */
static void
burst_checks(struct tc *p)
{
	char data[BURST_DATA + 1], obj[BURST_DATA + 128], f[512];
	struct tc *c = tc_open_greeted(srv.port);
	long long out0 = tsrv_bridge_stat(&srv, "msgs_out");
	int i, sent = 0, got, order = 1;
	long n;

	memset(data, 'x', BURST_DATA);
	data[BURST_DATA] = '\0';
	sent += tc_sendz(c, "{\"action\":\"hello\",\"version\":2}") == 0;
	for (i = 0; i < BURST_MSGS; i++) {
		snprintf(obj, sizeof(obj), "{\"action\":\"publish\",\"topic\":\"burst\",\"message_id\":\"%d\","
		    "\"data\":\"%s\"%s}", i, data, i == BURST_MSGS - 1 ? ",\"ack\":true" : "");
		sent += tc_sendz(c, obj) == 0;
	}
	tap_is_int(sent, BURST_MSGS + 1, "a burst of %d publishes of %d bytes while NATS reads nothing",
	    BURST_MSGS, BURST_DATA);
	/* the greeting of hello v2, then the ack of the last publish */
	n = tc_frame(c, f, sizeof(f), WAIT_MS);
	n = n > 0 ? tc_frame(c, f, sizeof(f), BURST_WAIT_MS) : n;
	tap_ok(n > 0 && strstr(f, "\"published\"") != NULL, "janusd takes the whole burst");
	tc_close(c);
	got = burst_read(p, BURST_MSGS, &order);
	tap_is_int(got, BURST_MSGS, "NATS reading again: every record of the burst goes out");
	tap_ok(order, "on janus.burst, in publish order");
	tap_is_int(tsrv_bridge_stat(&srv, "msgs_out") - out0, BURST_MSGS, "msgs_out counts each");
	tap_is_int(tsrv_bridge_stat(&srv, "dropped_out"), 0, "none dropped");
}

/* bad_link_checks - a bad MSG line, an oversized payload and -ERR close the link; permissions do not. */
static struct tc *
bad_link_checks(struct tc *p, struct tc *a)
{
	p = (peer_send(p, "MSG janus.news x 5\r\nhello\r\n"), reconnected(p, "a MSG with a bad sid"));
	tap_ok(tsrv_log_wait(&srv, "protocol error: MSG with a bad sid", WAIT_MS), "logged as a protocol error");
	p = (peer_send(p, "MSG janus.news 1 70000\r\n"), reconnected(p, "a payload over max_payload"));
	tap_ok(tsrv_log_wait(&srv, "over the limit of 65536", WAIT_MS), "logged as over the limit");
	p = (peer_send(p, "-ERR 'Unknown Protocol Operation'\r\n"), reconnected(p, "-ERR"));
	tap_ok(tsrv_log_wait(&srv, "-ERR 'Unknown Protocol Operation'", WAIT_MS), "-ERR logged");
	peer_send(p, "-ERR 'Permissions Violation for Subscription to \"janus.news\"'\r\n");
	peer_send(p, "PING\r\n");
	peer_expect(p, "PONG", "a Permissions Violation keeps the link");
	tap_is_int(tsrv_bridge_wait(&srv, "reconnects", 3, WAIT_MS), 3, "reconnects counts each new link");
	remote_in(p, a, "remote-3", "after the bad links");
	return p;
}

/* kill_checks - SIGKILL the bridge: respawned, subscriptions restored, clients untouched. */
static struct tc *
kill_checks(struct tc *p, struct tc *a)
{
	long long pid = tsrv_bridge_stat(&srv, "pid");

	tap_ok(pid > 0 && kill((pid_t)pid, SIGKILL) == 0, "the bridge is killed with SIGKILL");
	p = reconnected(p, "respawned bridge");
	tap_ok(tsrv_bridge_stat(&srv, "restarts") == 1 && tsrv_bridge_stat(&srv, "pid") != pid,
	    "the master respawned it (restarts 1, a new pid)");
	remote_in(p, a, "remote-4", "through the respawned bridge");
	return p;
}

/* fatal_checks - with the fault hooks: a bridge that cannot start is not respawned; janusd serves on. */
static void
fatal_checks(void)
{
	static const char *const args[] = { "-w", "1", "-o", "cluster=nats://127.0.0.1:9", NULL };
	struct tsrv s2;
	struct tc *c;
	char f[512];

	if (getenv("JANUSD_FAULTS_BUILT") == NULL || strcmp(getenv("JANUSD_FAULTS_BUILT"), "yes") != 0) {
		tap_skip(3, "janusd built without --enable-fault-injection");
		return;
	}
	setenv("JANUSD_FAULT", "bridge_setup", 1);
	if (tsrv_start(&s2, args) < 0)
		tap_bail("janusd with a bridge that cannot start did not start");
	unsetenv("JANUSD_FAULT");
	tap_ok(tsrv_log_wait(&s2, "bridge cannot run (exit status 2); not respawning it", WAIT_MS),
	    "a bridge that cannot start is not respawned");
	c = tc_open_greeted(s2.port);
	tap_ok(tc_subscribe(c, "t") == 0, "janusd goes on serving without it");
	tc_publish1(s2.port, "{\"topic\":\"t\",\"data\":1}");
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) > 0, "and delivering");
	tc_close(c);
	tsrv_stop(&s2, 0);
}

int
main(void)
{
	char cluster[64];
	const char *args[] = { "-w", "2", "-o", cluster, "-o", "cluster_linger=200ms",
	    "-o", "cluster_reconnect=200ms", "-o", "cluster_name=fake-node", "-o", "log_level=info", NULL };
	struct tc *p;
	struct tc *a;

	tap_plan(63);
	if ((lfd = tc_listen(&nats_port)) < 0)
		tap_bail("no listener for the fake NATS server");
	snprintf(cluster, sizeof(cluster), "cluster=nats://127.0.0.1:%u", nats_port);
	if (tsrv_start(&srv, args) < 0)
		tap_bail("janusd did not start");
	p = handshake_checks();
	tap_ok(tsrv_bridge_wait(&srv, "pid", 1, WAIT_MS) > 0, "janusd -s shows the bridge");
	peer_quiet(p, 300, "no subscriber here: nothing subscribed");
	a = sub("news");
	traffic_checks(p, a);
	v2_checks(p, a);
	malformed_checks(p, a);
	p = bad_link_checks(p, a);
	p = kill_checks(p, a);
	p = down_checks(p, a);
	burst_checks(p);
	remote_in(p, a, "remote-5", "at the end, the first subscriber");
	tap_is_int(tsrv_stat(&srv, 0, "restarts") + tsrv_stat(&srv, 1, "restarts"), 0, "no worker restarted");
	tap_ok(!tsrv_log_has(&srv, "worker 0 (pid") && !tsrv_log_has(&srv, "worker 1 (pid"),
	    "no worker ended");
	tc_close(a);
	tc_close(p);
	tap_is_int(tsrv_stop(&srv, 0), 0, "janusd stops with status 0");
	fatal_checks();
	close(lfd);
	return tap_done();
}
