/*
 * t/cluster_nodes.c - three janusd nodes joined through a real NATS
 * cluster; run by t/cluster_nats.sh, which starts three routed
 * nats-server processes (t/nats_lib.sh) and passes their client ports
 * and pids.
 *
 * Owns: the nodes (each a janusd of its own, attached to a different
 * NATS server, with the other two as failover), their subscribers and
 * publishers, and the checks of PROTOCOL.md Part 5:
 * - subscribers on every node, publishers on every node: every
 *   subscriber gets every message exactly once, in each publisher's
 *   order, with the same bytes (timestamp included) on every node;
 * - interest: a node without subscribers for a topic receives none of its
 *   traffic (its bridge's msgs_in does not move);
 * - the bridge of a node killed with SIGKILL: respawned, its subjects
 *   subscribed again, its clients still connected, no worker restarted;
 * - the NATS server of a node killed: its bridge moves to the next in its
 *   list, and what is published after that reaches everyone again.
 * Before each round the test waits until interest has spread through the
 * NATS routes: probe messages go out from every node until every
 * subscriber has seen one from each (probes are not counted).
 * Waits are bounded by generous timeouts; nothing is timed.
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define NODES     3
#define PER_NODE  4                    /* subscribers of the room on each node */
#define NSUBS     (NODES * PER_NODE)
#define MSGS      200                  /* per publisher per round */
#define ROUNDS    3
#define WAIT_MS   20000

/* One subscriber: what it received this round. */
struct rx {
	struct tc *c;
	int node;
	int lost;                          /* its connection ended */
	int got[NODES];                    /* messages of this round from each publisher */
	int next[NODES];                   /* the index it expects next from each */
	int bad_order, dup;
	int probed[NODES];                 /* saw a probe from each node */
};

static struct tsrv node[NODES];
static struct rx rx[NSUBS + PER_NODE];  /* the room's, then the lonely topic's */
static struct tc *pub[NODES];
static char *first[NODES][MSGS];       /* this round's bytes of each message, as first received */
static int mismatch;
static int nrx;
static unsigned nats_port[NODES];
static unsigned long long probes;

/* node_start - node i on NATS server i, the others after it as failover. */
static void
node_start(int i)
{
	const unsigned *port = nats_port;
	char cluster[256], name[32];
	const char *args[] = { "-w", "2", "-o", cluster, "-o", name, "-o", "cluster_linger=300ms",
	    "-o", "cluster_reconnect=500ms", NULL };

	snprintf(cluster, sizeof(cluster), "cluster=nats://127.0.0.1:%u,nats://127.0.0.1:%u,nats://127.0.0.1:%u",
	    port[i], port[(i + 1) % NODES], port[(i + 2) % NODES]);
	snprintf(name, sizeof(name), "cluster_name=node%d", i);
	if (tsrv_start(&node[i], args) < 0)
		tap_bail("node %d did not start", i);
}

/* wait_up - until node i's bridge is up, on NATS port want if want is not 0. */
static int
wait_up(int i, unsigned want)
{
	uint64_t end = tlib_ms() + WAIT_MS;
	char buf[16384], on[64];

	snprintf(on, sizeof(on), "\"server\":\"127.0.0.1:%u\"", want);
	while (tlib_ms() < end) {
		if (tsrv_bridge_up(&node[i]) && (want == 0 ||
		    (tsrv_stats(&node[i], buf, sizeof(buf)) == 0 && strstr(buf, on) != NULL)))
			return 1;
		tlib_sleep_ms(50);
	}
	return 0;
}

/* subscribe_all - PER_NODE Part 1 subscribers to topic on each node in mask. */
static void
subscribe_all(const char *topic, unsigned mask)
{
	int i, k;

	for (i = 0; i < NODES; i++) {
		if (!(mask & (1u << i)))
			continue;
		for (k = 0; k < PER_NODE; k++) {
			rx[nrx].c = tc_open_greeted(node[i].port);
			rx[nrx].node = i;
			if (tc_subscribe(rx[nrx].c, topic) < 0)
				tap_bail("subscribe on node %d failed", i);
			nrx++;
		}
	}
}

/* publish - a Part 2 publish on node i's kept-open publisher. */
static void
publish(int i, const char *topic, const char *event, const char *id)
{
	char f[256];

	snprintf(f, sizeof(f), "{\"action\":\"publish\",\"topic\":\"%s\",\"event\":\"%s\",\"message_id\":\"%s\","
	    "\"data\":{\"n\":[1,2,3]}}", topic, event, id);
	if (tc_sendz(pub[i], f) < 0)
		tap_bail("publishing on node %d failed", i);
}

/* take - one frame of subscriber r: a probe, or this round's message (checked). */
static void
take(struct rx *r, const char *f, size_t len, int round)
{
	const char *id = strstr(f, "\"message_id\":\"");
	int rr, o, k;

	if (id == NULL)
		return;
	id += 14;
	if (sscanf(id, "probe-%d", &o) == 1) {
		if (o >= 0 && o < NODES)
			r->probed[o] = 1;
		return;
	}
	if (sscanf(id, "r%d-n%d-%d", &rr, &o, &k) != 3 || rr != round || o < 0 || o >= NODES ||
	    k < 0 || k >= MSGS)
		return;
	r->got[o]++;
	if (k < r->next[o])
		r->dup++;
	else if (k > r->next[o])
		r->bad_order++;
	r->next[o] = k + 1;
	if (first[o][k] == NULL)
		first[o][k] = strndup(f, len);
	else if (strcmp(first[o][k], f) != 0 && mismatch++ == 0)
		tap_diag("  different bytes: '%s' and '%s'", first[o][k], f);
}

/* drain - read what every subscriber has, for up to ms. */
static void
drain(int ms, int round)
{
	struct pollfd pfd[NSUBS + PER_NODE];
	char f[1024];
	long n;
	int i;

	for (i = 0; i < nrx; i++) {
		pfd[i].fd = rx[i].lost ? -1 : rx[i].c->fd;
		pfd[i].events = POLLIN;
	}
	if (poll(pfd, (nfds_t)nrx, ms) <= 0)
		return;
	for (i = 0; i < nrx; i++) {
		if (pfd[i].revents == 0 && rx[i].c->len == 0)
			continue;
		while ((n = tc_frame(rx[i].c, f, sizeof(f), 0)) >= 0)
			take(&rx[i], f, (size_t)n, round);
		if (n == -2)
			rx[i].lost = 1;
	}
}

/* probed - whether every subscriber of the subscribers from..to saw a probe from every node in mask. */
static int
probed(int from, int to, unsigned mask)
{
	int i, o;

	for (i = from; i < to; i++)
		for (o = 0; o < NODES; o++)
			if ((mask & (1u << o)) && !rx[i].probed[o])
				return 0;
	return 1;
}

/*
 * spread - probe topic from the nodes in mask until subscribers from..to
 * have seen a probe from each: then interest has spread through the
 * routes. Every probe gets a new message_id.
 */
static int
spread(const char *topic, unsigned mask, int from, int to)
{
	uint64_t end = tlib_ms() + WAIT_MS;
	char id[32];
	int i, o;

	for (i = from; i < to; i++)
		memset(rx[i].probed, 0, sizeof(rx[i].probed));
	while (!probed(from, to, mask) && tlib_ms() < end) {
		for (o = 0; o < NODES; o++) {
			if (!(mask & (1u << o)))
				continue;
			snprintf(id, sizeof(id), "probe-%d-%llu", o, probes++);
			publish(o, topic, "probe", id);
		}
		drain(100, -1);
	}
	drain(300, -1);
	return probed(from, to, mask);
}

/* round_run - every node publishes MSGS messages to the room, interleaved; every subscriber takes them. */
static void
round_run(int round, const char *what)
{
	uint64_t end;
	char id[32];
	int i, o, k, want = NODES * MSGS, ok_count = 0, dup = 0, order = 0, lost = 0, done;

	for (i = 0; i < nrx; i++) {
		memset(rx[i].got, 0, sizeof(rx[i].got));
		memset(rx[i].next, 0, sizeof(rx[i].next));
		rx[i].dup = rx[i].bad_order = 0;
	}
	mismatch = 0;
	for (k = 0; k < MSGS; k++)
		for (o = 0; o < NODES; o++) {
			snprintf(id, sizeof(id), "r%d-n%d-%d", round, o, k);
			publish(o, "room", "m", id);
		}
	for (end = tlib_ms() + WAIT_MS; tlib_ms() < end;) {
		drain(100, round);
		for (i = 0, done = 1; i < nrx && done; i++)
			done = rx[i].got[0] + rx[i].got[1] + rx[i].got[2] >= want || rx[i].lost;
		if (done)
			break;
	}
	drain(300, round);
	for (i = 0; i < nrx; i++) {
		ok_count += rx[i].got[0] == MSGS && rx[i].got[1] == MSGS && rx[i].got[2] == MSGS;
		dup += rx[i].dup;
		order += rx[i].bad_order;
		lost += rx[i].lost;
		if (rx[i].got[0] != MSGS || rx[i].got[1] != MSGS || rx[i].got[2] != MSGS)
			tap_diag("  subscriber %d on node %d got %d, %d, %d", i, rx[i].node, rx[i].got[0],
			    rx[i].got[1], rx[i].got[2]);
	}
	tap_is_int(lost, 0, "%s: every subscriber still connected", what);
	tap_is_int(ok_count, NSUBS, "%s: each of %d subscribers on 3 nodes got all %d messages of each node",
	    what, NSUBS, MSGS);
	tap_is_int(dup, 0, "%s: none twice", what);
	tap_is_int(order, 0, "%s: each publisher's order kept", what);
	tap_is_int(mismatch, 0, "%s: the same bytes, timestamp included, on every node", what);
	for (o = 0; o < NODES; o++)
		for (k = 0; k < MSGS; k++) {
			free(first[o][k]);
			first[o][k] = NULL;
		}
}

/* interest_round - a topic with subscribers on node 1 only: node 2 receives none of its traffic. */
static void
interest_round(void)
{
	long long in1, in2;
	int from = nrx, k, got = 0, i;
	char id[32], f[1024];

	subscribe_all("lonely", 1u << 1);
	tap_ok(spread("lonely", 1u << 0, from, nrx), "interest: node 1's subscribers are reached from node 0");
	in1 = tsrv_bridge_stat(&node[1], "msgs_in");
	in2 = tsrv_bridge_stat(&node[2], "msgs_in");
	for (k = 0; k < MSGS; k++) {
		snprintf(id, sizeof(id), "lonely-%d", k);
		publish(0, "lonely", "m", id);
	}
	for (i = from; i < nrx; i++)
		for (k = 0; k < MSGS && tc_frame(rx[i].c, f, sizeof(f), 5000) > 0;)
			if (strstr(f, "\"lonely-") != NULL) {
				got++;
				k++;
			}
	tap_is_int(got, PER_NODE * MSGS, "interest: node 1's subscribers get the topic's messages");
	tap_is_int(tsrv_bridge_wait(&node[1], "msgs_in", in1 + MSGS, 5000) - in1, MSGS,
	    "interest: node 1's bridge took each once");
	tap_is_int(tsrv_bridge_stat(&node[2], "msgs_in") - in2, 0,
	    "interest: node 2, with no subscriber for it, received none of it");
	for (i = from; i < nrx; i++)
		tc_close(rx[i].c);
	nrx = from;
}

/* kill_bridge_round - SIGKILL node 0's bridge; everything works again, its clients untouched. */
static void
kill_bridge_round(void)
{
	long long pid = tsrv_bridge_stat(&node[0], "pid"), again;
	uint64_t end = tlib_ms() + WAIT_MS;

	tap_ok(pid > 0 && kill((pid_t)pid, SIGKILL) == 0, "node 0's bridge is killed with SIGKILL");
	while (((again = tsrv_bridge_stat(&node[0], "pid")) == pid || again <= 0) && tlib_ms() < end)
		tlib_sleep_ms(50);
	tap_ok(again > 0 && again != pid && wait_up(0, nats_port[0]),
	    "the master respawned it and it is up again, on its own NATS server");
	tap_ok(spread("room", 7, 0, NSUBS), "its subscriptions are back: every node reaches every node");
	round_run(2, "after the bridge was killed");
	tap_is_int(tsrv_stat(&node[0], 0, "restarts") + tsrv_stat(&node[0], 1, "restarts"), 0,
	    "no worker of node 0 restarted");
}

/* kill_nats_round - node 1's NATS server is killed: its bridge moves on down its list. */
static void
kill_nats_round(pid_t nats1)
{
	tap_ok(kill(nats1, SIGKILL) == 0, "node 1's NATS server is killed");
	tap_ok(wait_up(1, nats_port[2]), "node 1's bridge is up again on the next server of its list");
	tap_ok(spread("room", 7, 0, NSUBS), "interest spread again: every node reaches every node");
	round_run(3, "after node 1 moved to another NATS server");
	tap_ok(tsrv_bridge_stat(&node[1], "reconnects") >= 1, "node 1's bridge counted the reconnect");
}

int
main(int argc, char **argv)
{
	long long bad = 0;
	int i;

	if (argc != 7)
		tap_bail("usage: cluster_nodes PORT0 PORT1 PORT2 PID0 PID1 PID2");
	tap_plan(32);
	for (i = 0; i < NODES; i++)
		nats_port[i] = (unsigned)atoi(argv[1 + i]);
	for (i = 0; i < NODES; i++)
		node_start(i);
	for (i = 0; i < NODES; i++)
		tap_ok(wait_up(i, nats_port[i]), "node %d's bridge is up on its own NATS server", i);
	for (i = 0; i < NODES; i++)
		if ((pub[i] = tc_open_greeted(node[i].port)) == NULL)
			tap_bail("no publisher on node %d", i);
	subscribe_all("room", 7);
	tap_ok(spread("room", 7, 0, NSUBS), "interest spread: every node reaches every node");
	round_run(1, "three nodes");
	interest_round();
	kill_bridge_round();
	kill_nats_round((pid_t)atoi(argv[5]));
	for (i = 0; i < NODES; i++)
		bad += tsrv_bridge_stat(&node[i], "malformed");
	tap_is_int(bad, 0, "no node saw a malformed message");
	for (i = 0; i < NODES; i++)
		tc_close(pub[i]);
	for (i = 0; i < NSUBS; i++)
		tc_close(rx[i].c);
	for (i = 0; i < NODES; i++)
		tsrv_stop(&node[i], 0);
	return tap_done();
}
