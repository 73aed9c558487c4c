/*
 * worker/conn.c - a connection's identity, rights and end.
 *
 * Owns: conn_name, conn_acl and the deferred close (worker/conn.h says
 * why it is deferred). Must not call other worker files.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "worker/conn.h"

const char *
conn_name(const struct conn *c, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, c->family == 4 ? "%s:%u" : "[%s]:%u", a, c->port);
	return buf;
}

void
conn_acl(const struct worker *w, struct conn *c)
{
	c->flags &= ~(uint32_t)(CONN_NET_PUB | CONN_NET_SUB);
	if (conf_nets_match(&w->conf.publish_allow, c->family, c->addr))
		c->flags |= CONN_NET_PUB;
	if (conf_nets_match(&w->conf.subscribe_allow, c->family, c->addr))
		c->flags |= CONN_NET_SUB;
}

void
conn_close(struct worker *w, struct conn *c, const char *why)
{
	char name[64];

	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	log_info("client %s closed: %s", conn_name(c, name, sizeof(name)), why);
	if (close(c->fd) < 0)
		log_warn("close() failed: %s", strerror(errno));
	w->byfd[c->fd] = NULL;
	list_remove(&c->readable);
	list_append(&w->dead, &c->dead);
}

static const struct {
	const char *what;
	size_t counter;
} conn_refusals[REFUSE_KINDS] = {
	[REFUSE_CONNS_ADDR] = { "connection limit per address", offsetof(struct shm_stats, refused_addr) },
	[REFUSE_QUOTA] = { "topic quota per address", offsetof(struct shm_stats, quota) },
	[REFUSE_TABLE_FULL] = { "topic table full", offsetof(struct shm_stats, table_full) },
	[REFUSE_BAD_KEY] = { "wrong publish key", offsetof(struct shm_stats, auth_failed) },
	[REFUSE_KEY_DELAY] = { "key refused while waiting", offsetof(struct shm_stats, auth_delayed) },
	[REFUSE_FRAME_MEMORY] = { "frame memory", offsetof(struct shm_stats, frame_memory) },
	[REFUSE_MEMBERS] = { "bad message members", offsetof(struct shm_stats, bad_members) },
};

void
conn_refused(struct worker *w, const struct conn *c, enum refusal why, const char *text)
{
	uint8_t key[17];
	uint32_t k;
	struct refusal_log *l;
	char name[64];

	stat_add((_Atomic uint64_t *)(void *)((char *)w->stats + conn_refusals[why].counter), 1);
	key[0] = (uint8_t)why;
	memcpy(key + 1, c->addr, 16);
	k = hash_bytes(0, key, sizeof(key)) | 1;
	l = &w->refusals[k % WORKER_REFUSAL_LOG];
	if (l->key == k && w->now - l->at < CONN_LOG_EVERY_MS) {
		l->quiet++;
		return;
	}
	conn_name(c, name, sizeof(name));
	if (l->key == k && l->quiet > 0)
		log_notice("client %s refused (%s): %s; %u more refusals of it in the last %llu s not logged",
		    name, conn_refusals[why].what, text, l->quiet,
		    (unsigned long long)(w->now - l->at) / 1000);
	else
		log_notice("client %s refused (%s): %s", name, conn_refusals[why].what, text);
	*l = (struct refusal_log){ .key = k, .quiet = 0, .at = w->now };
}
