/*
 * master/notify.c - telling systemd how the service is (sd_notify).
 *
 * Owns: the datagram to $NOTIFY_SOCKET: READY=1 once the workers run,
 * RELOADING=1 around a reload, STOPPING=1, STATUS=... It is one
 * sendto(2) on an AF_UNIX socket (a leading '@' means the abstract
 * namespace), so janusd needs no libsystemd. Without $NOTIFY_SOCKET it
 * does nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "master/master.h"

void
notify_send(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	char msg[512];
	size_t plen;
	va_list ap;
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET '%s' is not a socket path", path);
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)strlen(msg);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket(AF_UNIX) for systemd notification failed: %s", strerror(errno));
		return;
	}
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen)) < 0)
		log_warn("sendto(%s) for systemd notification failed: %s", path, strerror(errno));
	close(fd);
}
