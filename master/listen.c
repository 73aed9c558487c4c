/*
 * master/listen.c - the listening sockets, one per worker slot.
 *
 * Owns: resolving the listen address and creating the SO_REUSEPORT
 * sockets, for the Janus port and for the HTTP/WebSocket one, before any
 * worker exists, so each slot's socket (and the
 * connections queued on it) outlives the workers that serve it. A plain
 * bind first proves that no other program, janusd included, holds the
 * port: SO_REUSEPORT alone would happily share it with another instance.
 * Client socket options (no Nagle, keepalive) are set here, on the
 * listening sockets: accepted sockets inherit them, which saves every
 * accept five system calls, and a reload applies new values to every
 * connection accepted after it.
 * A slot whose worker crash-loops gives its socket up while it waits
 * (listen_slot_close): otherwise the kernel would keep routing a share of
 * new connections to a queue nobody serves. It gets a new one when the
 * worker is started again.
 * Must not accept: workers do.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "master/master.h"

/* listen_resolve - the numeric or named listen address, with a port. */
static int
listen_resolve(const struct conf *c, unsigned portno, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", portno);
	rc = getaddrinfo(c->listen, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen address '%s': %s", c->listen, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* listen_socket - a socket bound to ss; reuseport for the slots, not for the probe. */
static int
listen_socket(const struct sockaddr_storage *ss, socklen_t len, int reuseport,
    char *err, size_t errlen)
{
	int fd, one = 1, zero = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket() failed: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)) {
		snprintf(err, errlen, "setsockopt() failed: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		snprintf(err, errlen, "bind() failed: %s%s", strerror(errno),
		    errno == EADDRINUSE ? " (another program, maybe another janusd, uses the port)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * listen_tune - what accepted sockets inherit: TCP_NODELAY (Nagle put a
 * 40 ms floor under the original's latency) and keepalive, which finds
 * dead Part 1 peers.
 */
static int
listen_tune(const struct conf *c, int fd)
{
	int one = 1, zero = 0, idle = (int)c->tcp_keepalive_s, intvl = idle / 4 > 0 ? idle / 4 : 1, cnt = 4;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, idle ? &one : &zero, sizeof(one)) < 0 ||
	    (idle && (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0))) {
		log_error("setsockopt() on a listening socket failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* listen_retune - after a reload: new keepalive settings for new connections. */
void
listen_retune(struct master *m)
{
	unsigned i;

	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].lfd >= 0)
			listen_tune(&m->conf, m->slots[i].lfd);
		if (m->slots[i].hfd >= 0)
			listen_tune(&m->conf, m->slots[i].hfd);
	}
}

/* listen_probe - a plain bind to ss: no other program, janusd included, holds the port. */
static int
listen_probe(const struct sockaddr_storage *ss, socklen_t len, char *err, size_t errlen)
{
	int fd = listen_socket(ss, len, 0, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* listen_pair - a slot's two sockets, bound (and tuned) but not listening. */
static int
listen_pair(struct master *m, unsigned slot, char *err, size_t errlen)
{
	struct slot *s = &m->slots[slot];

	s->lfd = listen_socket(&m->addr, m->addrlen, 1, err, errlen);
	if (s->lfd < 0 || listen_tune(&m->conf, s->lfd) < 0)
		return -1;
	if (m->conf.http_port == 0)
		return 0;
	s->hfd = listen_socket(&m->haddr, m->haddrlen, 1, err, errlen);
	return s->hfd < 0 || listen_tune(&m->conf, s->hfd) < 0 ? -1 : 0;
}

/* listen_listen - start taking connections on a slot's sockets. */
static int
listen_listen(struct master *m, unsigned slot, char *err, size_t errlen)
{
	struct slot *s = &m->slots[slot];

	if (listen(s->lfd, (int)m->conf.listen_backlog) < 0 ||
	    (s->hfd >= 0 && listen(s->hfd, (int)m->conf.listen_backlog) < 0)) {
		snprintf(err, errlen, "listen() failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * listen_open - resolve the addresses, prove the ports free, and bind
 * one SO_REUSEPORT socket per slot and port (the Janus port, and
 * http_port unless it is 0). They do not listen yet (listen_start):
 * until this master owns the port's shared memory, no connection may
 * queue on them.
 */
int
listen_open(struct master *m, char *err, size_t errlen)
{
	unsigned i;

	if (listen_resolve(&m->conf, m->conf.port, &m->addr, &m->addrlen, err, errlen) < 0 ||
	    listen_probe(&m->addr, m->addrlen, err, errlen) < 0)
		return -1;
	if (m->conf.http_port != 0 &&
	    (listen_resolve(&m->conf, m->conf.http_port, &m->haddr, &m->haddrlen, err, errlen) < 0 ||
	    listen_probe(&m->haddr, m->haddrlen, err, errlen) < 0)) {
		snprintf(err + strlen(err), errlen - strlen(err), " (http_port %u)", m->conf.http_port);
		return -1;
	}
	for (i = 0; i < m->nslots; i++) {
		if (listen_pair(m, i, err, errlen) < 0) {
			snprintf(err, errlen, "cannot set up the listening sockets");
			return -1;
		}
	}
	return 0;
}

/* listen_start - start taking connections on every slot's sockets. */
int
listen_start(struct master *m, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < m->nslots; i++)
		if (listen_listen(m, i, err, errlen) < 0)
			return -1;
	return 0;
}

/* listen_slot - new listening sockets for one slot, for a respawn. */
int
listen_slot(struct master *m, unsigned slot, char *err, size_t errlen)
{
	if (listen_pair(m, slot, err, errlen) < 0 || listen_listen(m, slot, err, errlen) < 0) {
		listen_slot_close(m, slot);
		return -1;
	}
	return 0;
}

/* listen_close_fd - close one listening socket and forget it. */
static void
listen_close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd) < 0)
		log_warn("close() of a listening socket failed: %s", strerror(errno));
	*fd = -1;
}

void
listen_slot_close(struct master *m, unsigned slot)
{
	listen_close_fd(&m->slots[slot].lfd);
	listen_close_fd(&m->slots[slot].hfd);
}

void
listen_close(struct master *m)
{
	unsigned i;

	for (i = 0; i < m->nslots; i++)
		listen_slot_close(m, i);
}
