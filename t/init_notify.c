/*
 * t/init_notify.c - janusd as a systemd Type=notify service: READY=1 once
 * it serves, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on TERM,
 * sent by janusd itself to $NOTIFY_SOCKET.
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

/* notify_listen - a datagram socket for janusd to notify, at path. */
static int
notify_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("cannot bind %s", path);
	return fd;
}

/* notify_next - the next datagram, NUL-terminated; "" on timeout. */
static const char *
notify_next(int fd, char *buf, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n = 0;

	if (poll(&p, 1, 5000) == 1)
		n = recv(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	char path[108], buf[512];
	struct tsrv s;
	int fd, status;

	tap_plan(6);
	snprintf(path, sizeof(path), "/tmp/janusd-notify.%ld", (long)getpid());
	unlink(path);
	fd = notify_listen(path);
	setenv("NOTIFY_SOCKET", path, 1);
	if (tsrv_start(&s, args) < 0) {
		unlink(path);
		tap_bail("cannot start janusd");
	}
	notify_next(fd, buf, sizeof(buf));
	tap_ok(strncmp(buf, "READY=1\n", 8) == 0 && strstr(buf, "STATUS=serving on port") != NULL,
	    "READY=1 with a status once serving");
	kill(s.pid, SIGHUP);
	tap_is_str(notify_next(fd, buf, sizeof(buf)), "RELOADING=1", "RELOADING=1 on SIGHUP");
	notify_next(fd, buf, sizeof(buf));
	tap_ok(strncmp(buf, "READY=1", 7) == 0, "READY=1 after the reload");
	kill(s.pid, SIGTERM);
	tap_is_str(notify_next(fd, buf, sizeof(buf)), "STOPPING=1", "STOPPING=1 on SIGTERM");
	status = tsrv_wait_exit(&s, 10000);
	tap_is_int(status, 0, "exit status after TERM");
	snprintf(path, sizeof(path), "/dev/shm/janusd.%u", s.port);
	tap_ok(access(path, F_OK) != 0, "shared memory segment removed on exit");
	tsrv_stop(&s, 0);
	close(fd);
	snprintf(path, sizeof(path), "/tmp/janusd-notify.%ld", (long)getpid());
	unlink(path);
	return tap_done();
}
