/*
 * lib/conf.c - janusd's settings: defaults, the key table and its parsers.
 *
 * Owns: turning text ("64M", "30s", "127.0.0.0/8 ::1") into struct conf
 * fields, with one-line errors that name the key and the bad value.
 * Must not log or exit: callers decide what an error means (refuse to
 * start, or keep the old settings on reload).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/log.h"

enum conf_type { CT_UINT, CT_SIZE, CT_MS, CT_STR, CT_NETS, CT_LEVEL, CT_POLICY, CT_BOOL };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;       /* field size: 4 or 8 for numbers, capacity for strings */
	uint64_t min, max; /* for numbers, in the field's unit */
	int restart;       /* fixed until the master restarts */
};

#define F(field) offsetof(struct conf, field), sizeof(((struct conf *)0)->field)

static const struct conf_key conf_keys[] = {
	{ "workers",          CT_UINT,   F(workers), 1, CONF_MAX_WORKERS, 1 },
	{ "port",             CT_UINT,   F(port), 1, 65535, 1 },
	{ "listen",           CT_STR,    F(listen), 0, 0, 1 },
	{ "listen_backlog",   CT_UINT,   F(listen_backlog), 1, 1 << 20, 1 },
	{ "ring_size",        CT_SIZE,   F(ring_size), 1 << 20, (uint64_t)1 << 36, 1 },
	{ "max_topics",       CT_UINT,   F(max_topics), 16, 1 << 24, 1 },
	{ "daemon",           CT_BOOL,   F(daemonize), 0, 1, 1 },
	{ "pid_file",         CT_STR,    F(pid_file), 0, 0, 1 },
	{ "http_port",        CT_UINT,   F(http_port), 0, 65535, 1 },
	{ "cluster",          CT_STR,    F(cluster), 0, 0, 1 },
	{ "cluster_prefix",   CT_STR,    F(cluster_prefix), 0, 0, 1 },
	{ "cluster_name",     CT_STR,    F(cluster_name), 0, 0, 1 },
	{ "max_frame",        CT_SIZE,   F(max_frame), 256, 16 << 20, 0 },
	{ "max_topic_len",    CT_UINT,   F(max_topic_len), 1, CONF_TOPIC_MAX, 0 },
	{ "max_subs",         CT_UINT,   F(max_subs), 1, 1 << 20, 0 },
	{ "max_conns",        CT_UINT,   F(max_conns), 0, 1 << 24, 0 },
	{ "max_backlog",      CT_SIZE,   F(max_backlog), 0, (uint64_t)1 << 36, 0 },
	{ "stall_timeout",    CT_MS,     F(stall_timeout_ms), 10, 3600000, 0 },
	{ "pace_timeout",     CT_MS,     F(pace_timeout_ms), 0, 3600000, 0 },
	{ "frame_timeout",    CT_MS,     F(frame_timeout_ms), 10, 3600000, 0 },
	{ "heartbeat",        CT_MS,     F(heartbeat_ms), 10, 86400000, 0 },
	{ "drain_timeout",    CT_MS,     F(drain_timeout_ms), 0, 3600000, 0 },
	{ "tcp_keepalive",    CT_UINT,   F(tcp_keepalive_s), 0, 86400, 0 },
	{ "slow_policy",      CT_POLICY, F(slow_policy), 0, 0, 0 },
	{ "max_conns_per_ip", CT_UINT,   F(max_conns_per_ip), 0, 1 << 24, 0 },
	{ "max_topics_per_ip", CT_UINT,  F(max_topics_per_ip), 0, 1 << 24, 0 },
	{ "idle_timeout",     CT_MS,     F(idle_timeout_ms), 0, 86400000, 0 },
	{ "max_frame_memory", CT_SIZE,   F(max_frame_memory), 64 << 10, (uint64_t)1 << 36, 0 },
	{ "cluster_reconnect", CT_MS,    F(cluster_reconnect_ms), 10, 3600000, 0 },
	{ "cluster_linger",   CT_MS,     F(cluster_linger_ms), 0, 3600000, 0 },
	{ "log_level",        CT_LEVEL,  F(log_level), 0, 0, 0 },
	{ "publish_allow",    CT_NETS,   F(publish_allow), 0, 0, 0 },
	{ "subscribe_allow",  CT_NETS,   F(subscribe_allow), 0, 0, 0 },
	{ "publish_key",      CT_STR,    F(publish_key), 0, 0, 0 },
	{ "http_head_max",    CT_SIZE,   F(http_head_max), 1024, 1 << 20, 0 },
	{ "http_timeout",     CT_MS,     F(http_timeout_ms), 10, 3600000, 0 },
	{ "stats_allow",      CT_NETS,   F(stats_allow), 0, 0, 0 },
	{ "proxy_allow",      CT_NETS,   F(proxy_allow), 0, 0, 0 },
	{ "ws_origins",       CT_STR,    F(ws_origins), 0, 0, 0 },
	{ "io_uring",         CT_BOOL,   F(io_uring), 0, 1, 0 },
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* conf_fail - format an error for the caller; always returns -1. */
static int __attribute__((format(printf, 3, 4)))
conf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* conf_nets_parse_one - "10.0.0.0/8", "::1" or "any"-less single network. */
static int
conf_nets_parse_one(struct conf_net *n, const char *text)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	char *end;
	int max;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, addr, n->addr) == 1) {
		n->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, n->addr) == 1) {
		n->family = 6;
		max = 128;
	} else {
		return -1;
	}
	bits = (unsigned long)max;
	if (slash != NULL) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || bits > (unsigned long)max)
			return -1;
	}
	n->bits = (uint8_t)bits;
	return 0;
}

/* conf_nets_parse - a space- or comma-separated list; "none" is empty. */
static int
conf_nets_parse(struct conf_nets *nets, const char *val)
{
	char buf[1024], *tok, *save;

	if (strlen(val) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", val);
	nets->n = 0;
	if (strcmp(val, "none") == 0)
		return 0;
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,\t", &save)) {
		if (strcmp(tok, "any") == 0) {
			if (nets->n + 2 > CONF_MAX_NETS)
				return -1;
			conf_nets_parse_one(&nets->net[nets->n++], "0.0.0.0/0");
			conf_nets_parse_one(&nets->net[nets->n++], "::/0");
			continue;
		}
		if (nets->n == CONF_MAX_NETS ||
		    conf_nets_parse_one(&nets->net[nets->n], tok) < 0)
			return -1;
		nets->n++;
	}
	return nets->n > 0 ? 0 : -1;
}

/* conf_number - digits with an optional unit suffix scaled by the table. */
static int
conf_number(const char *val, const char *const *units, const uint64_t *scale,
    uint64_t *out)
{
	char *end;
	uint64_t v;
	size_t i;

	if (!isdigit((unsigned char)val[0]))
		return -1;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno != 0)
		return -1;
	for (i = 0; units[i] != NULL; i++) {
		if (strcmp(end, units[i]) != 0)
			continue;
		if (scale[i] != 0 && v > UINT64_MAX / scale[i])
			return -1;
		*out = v * scale[i];
		return 0;
	}
	return -1;
}

static int
conf_parse_size(const char *val, uint64_t *out)
{
	static const char *const units[] = { "", "k", "K", "m", "M", "g", "G", NULL };
	static const uint64_t scale[] = { 1, 1 << 10, 1 << 10, 1 << 20, 1 << 20,
	    1 << 30, 1 << 30 };

	return conf_number(val, units, scale, out);
}

/* conf_parse_ms - a duration; a bare number is seconds. */
static int
conf_parse_ms(const char *val, uint64_t *out)
{
	static const char *const units[] = { "", "s", "ms", "m", "h", NULL };
	static const uint64_t scale[] = { 1000, 1000, 1, 60000, 3600000 };

	return conf_number(val, units, scale, out);
}

/* conf_store_number - range-check v and store it in a 4- or 8-byte field. */
static int
conf_store_number(struct conf *c, const struct conf_key *k, uint64_t v,
    const char *val, char *err, size_t errlen)
{
	char *field = (char *)c + k->off;

	if (v < k->min || v > k->max)
		return conf_fail(err, errlen, "%s: '%s' is out of range (%" PRIu64
		    "..%" PRIu64 "%s)", k->name, val, k->min, k->max,
		    k->type == CT_MS ? " ms" : "");
	if (k->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;
		memcpy(field, &v32, sizeof(v32));
	} else {
		memcpy(field, &v, sizeof(v));
	}
	return 0;
}

static const struct conf_key *
conf_key_find(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return &conf_keys[i];
	return NULL;
}

/* conf_set_enum - the keys whose values are words. */
static int
conf_set_enum(struct conf *c, const struct conf_key *k, const char *val,
    char *err, size_t errlen)
{
	int v = -1;

	if (k->type == CT_LEVEL)
		v = log_level_parse(val);
	else if (k->type == CT_POLICY)
		v = strcmp(val, "skip") == 0 ? SLOW_SKIP :
		    strcmp(val, "disconnect") == 0 ? SLOW_DISCONNECT : -1;
	else if (k->type == CT_BOOL)
		v = strcmp(val, "yes") == 0 || strcmp(val, "on") == 0 ? 1 :
		    strcmp(val, "no") == 0 || strcmp(val, "off") == 0 ? 0 : -1;
	if (v < 0)
		return conf_fail(err, errlen, "%s: '%s' is not one of %s", k->name, val,
		    k->type == CT_LEVEL ? "error, warn, notice, info, debug" :
		    k->type == CT_POLICY ? "skip, disconnect" : "yes, no");
	memcpy((char *)c + k->off, &(uint32_t){ (uint32_t)v }, sizeof(uint32_t));
	return 0;
}

int
conf_set(struct conf *c, const char *key, const char *val, char *err,
    size_t errlen)
{
	const struct conf_key *k = conf_key_find(key);
	uint64_t v;

	if (k == NULL)
		return conf_fail(err, errlen, "unknown setting '%s'", key);
	switch (k->type) {
	case CT_UINT:
		if (conf_number(val, (const char *const[]){ "", NULL },
		    (const uint64_t[]){ 1 }, &v) < 0)
			return conf_fail(err, errlen, "%s: '%s' is not a number", key, val);
		return conf_store_number(c, k, v, val, err, errlen);
	case CT_SIZE:
		if (conf_parse_size(val, &v) < 0)
			return conf_fail(err, errlen, "%s: '%s' is not a size (e.g. 65536, 64k, 64M)", key, val);
		return conf_store_number(c, k, v, val, err, errlen);
	case CT_MS:
		if (conf_parse_ms(val, &v) < 0)
			return conf_fail(err, errlen, "%s: '%s' is not a duration (e.g. 30, 30s, 500ms, 2m)", key, val);
		return conf_store_number(c, k, v, val, err, errlen);
	case CT_STR:
		if (strlen(val) >= k->size)
			return conf_fail(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
		snprintf((char *)c + k->off, k->size, "%s", val);
		return 0;
	case CT_NETS:
		if (conf_nets_parse((struct conf_nets *)((char *)c + k->off), val) < 0)
			return conf_fail(err, errlen, "%s: '%s' is not a list of networks (e.g. 127.0.0.0/8 ::1, any, none; at most %d)",
			    key, val, CONF_MAX_NETS);
		return 0;
	default:
		return conf_set_enum(c, k, val, err, errlen);
	}
}

int
conf_set_arg(struct conf *c, const char *arg, char *err, size_t errlen)
{
	char key[64];
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key))
		return conf_fail(err, errlen, "'%s' is not KEY=VALUE", arg);
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	return conf_set(c, key, eq + 1, err, errlen);
}

/* conf_trim - strip surrounding blanks in place. */
static char *
conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* conf_line - apply one line of a config file; blank and comment lines pass. */
static int
conf_line(struct conf *c, char *line, char *err, size_t errlen)
{
	char *hash = strchr(line, '#'), *key, *val;

	if (hash != NULL)
		*hash = '\0';
	key = conf_trim(line);
	if (*key == '\0')
		return 0;
	val = key + strcspn(key, " \t=");
	if (*val == '\0')
		return conf_fail(err, errlen, "'%s' has no value", key);
	*val++ = '\0';
	val = conf_trim(val);
	if (*val == '=')
		val = conf_trim(val + 1);
	return conf_set(c, key, val, err, errlen);
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char line[2048], why[512];
	FILE *f;
	int lineno = 0, rc = 0;

	f = fopen(path, "r");
	if (f == NULL)
		return conf_fail(err, errlen, "%s: %s", path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f))
			rc = conf_fail(err, errlen, "%s:%d: line too long", path, lineno);
		else if (conf_line(c, line, why, sizeof(why)) < 0)
			rc = conf_fail(err, errlen, "%s:%d: %s", path, lineno, why);
	}
	if (rc == 0 && ferror(f))
		rc = conf_fail(err, errlen, "%s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

int
conf_check(const struct conf *c, char *err, size_t errlen)
{
	if (c->daemonize && c->pid_file[0] == '\0')
		return conf_fail(err, errlen, "daemon: needs a pid_file (-P FILE)");
	if (c->pid_file[0] != '\0' && c->pid_file[0] != '/')
		return conf_fail(err, errlen, "pid_file: '%s' is not an absolute path", c->pid_file);
	if (c->ring_size < (uint64_t)c->max_frame * 4)
		return conf_fail(err, errlen, "ring_size: must hold at least 4 frames of max_frame (%u bytes)",
		    c->max_frame);
	return 0;
}

const char *
conf_restart_diff(const struct conf *a, const struct conf *b, size_t *pos)
{
	const struct conf_key *k;

	for (; *pos < CONF_NKEYS; (*pos)++) {
		k = &conf_keys[*pos];
		if (k->restart && memcmp((const char *)a + k->off,
		    (const char *)b + k->off, k->size) != 0) {
			(*pos)++;
			return k->name;
		}
	}
	return NULL;
}

void
conf_keep_restart(struct conf *dst, const struct conf *src)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].restart)
			memcpy((char *)dst + conf_keys[i].off,
			    (const char *)src + conf_keys[i].off, conf_keys[i].size);
}

void
conf_defaults(struct conf *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char err[128];

	memset(c, 0, sizeof(*c));
	c->workers = ncpu < 1 ? 1 : ncpu > CONF_MAX_WORKERS ? CONF_MAX_WORKERS : (uint32_t)ncpu;
	c->port = 8081;
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0");
	c->listen_backlog = 4096;
	c->ring_size = 64 << 20;
	c->max_topics = 1000000;
	c->max_topics_per_ip = 100000;
	c->max_conns_per_ip = 10000;
	c->idle_timeout_ms = 60000;
	c->max_frame_memory = 32 << 20;
	c->max_frame = 64 << 10;
	c->max_topic_len = 255;
	c->max_subs = 1024;
	c->max_backlog = 0;
	c->stall_timeout_ms = 5000;
	c->pace_timeout_ms = 10000;
	c->frame_timeout_ms = 10000;
	c->heartbeat_ms = 30000;
	c->drain_timeout_ms = 10000;
	c->tcp_keepalive_s = 60;
	c->slow_policy = SLOW_SKIP;
	c->log_level = LOG_LVL_NOTICE;
	c->http_port = 8080;
	c->http_head_max = 8 << 10;
	c->http_timeout_ms = 10000;
	c->io_uring = 1;
	snprintf(c->ws_origins, sizeof(c->ws_origins), "any");
	snprintf(c->cluster_prefix, sizeof(c->cluster_prefix), "janus.");
	c->cluster_reconnect_ms = 2000;
	c->cluster_linger_ms = 2000;
	conf_set(c, "publish_allow", "127.0.0.0/8 ::1", err, sizeof(err));
	conf_set(c, "subscribe_allow", "any", err, sizeof(err));
	conf_set(c, "stats_allow", "127.0.0.0/8 ::1", err, sizeof(err));
}

/* conf_net_match - compare the first bits of two addresses. */
static int
conf_net_match(const struct conf_net *n, const uint8_t *addr)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;
	uint8_t mask;

	if (memcmp(n->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (addr[full] & mask);
}

int
conf_origin_allowed(const struct conf *c, const char *origin, size_t len)
{
	const char *p = c->ws_origins, *end;
	size_t n;

	while (*p != '\0') {
		p += strspn(p, " ,\t");
		end = p + strcspn(p, " ,\t");
		n = (size_t)(end - p);
		if ((n == 3 && memcmp(p, "any", 3) == 0) || (n == len && n > 0 && memcmp(p, origin, n) == 0))
			return 1;
		p = end;
	}
	return 0;
}

int
conf_nets_match(const struct conf_nets *nets, int family, const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < nets->n; i++)
		if (nets->net[i].family == family && conf_net_match(&nets->net[i], addr))
			return 1;
	return 0;
}
