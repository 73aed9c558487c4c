/*
 * master/daemon.c - the pid file and, with -d, leaving the foreground.
 *
 * Owns: the pid file, held under an flock(2) for the master's life, so a
 * second janusd with the same pid file refuses to start while the first
 * lives, and a file left by a crash is simply taken over. It is never
 * opened through a symbolic link, nor written if it is not a regular file
 * with one name, so a planted link cannot make root truncate another
 * file. With -d the master forks; the parent waits until the child says
 * start-up worked (or died trying) and exits with the matching status, as
 * SysV init scripts expect.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "master/master.h"

/* daemon_pidfile_own - the pid file is a plain file with no other name, which truncating cannot harm. 0 or -1. */
static int
daemon_pidfile_own(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fstat(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "pid file %s is not a regular file", path);
		return -1;
	}
	if (st.st_nlink != 1) {
		snprintf(err, errlen, "pid file %s has %lu names (a hard link to another file?); not writing it",
		    path, (unsigned long)st.st_nlink);
		return -1;
	}
	return 0;
}

int
daemon_pidfile_lock(struct master *m, char *err, size_t errlen)
{
	const char *path = m->conf.pid_file;
	char buf[32] = "";
	ssize_t n;
	int fd;

	m->pidfile_fd = -1;
	if (path[0] == '\0')
		return 0;
	/* truncated and written by root: never through a link; a FIFO planted there must not block the start */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen, "pid file %s is a symbolic link; not following it", path);
		else
			snprintf(err, errlen, "open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if (daemon_pidfile_own(fd, path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "flock(%s) failed: %s", path, strerror(errno));
		} else {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(err, errlen, "janusd is already running (pid %s, pid file %s)", buf, path);
		}
		close(fd);
		return -1;
	}
	m->pidfile_fd = fd;
	return 0;
}

void
daemon_pidfile_write(struct master *m)
{
	char buf[32];
	int n;

	if (m->pidfile_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(m->pidfile_fd, 0) < 0 || pwrite(m->pidfile_fd, buf, (size_t)n, 0) != n)
		log_error("writing pid file %s failed: %s", m->conf.pid_file, strerror(errno));
}

void
daemon_pidfile_remove(struct master *m)
{
	if (m->pidfile_fd < 0)
		return;
	if (unlink(m->conf.pid_file) < 0)
		log_warn("unlink(%s) failed: %s", m->conf.pid_file, strerror(errno));
	close(m->pidfile_fd);
	m->pidfile_fd = -1;
}

/* daemon_wait - the parent: exit with the child's start-up result. */
static void __attribute__((noreturn))
daemon_wait(pid_t child, int fd)
{
	char ok;
	int status;

	if (read(fd, &ok, 1) == 1)
		_exit(ok == 0 ? 0 : 2);
	if (waitpid(child, &status, 0) == child && WIFEXITED(status))
		_exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 2);
	_exit(2);
}

int
daemon_detach(struct master *m, char *err, size_t errlen)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe2() failed: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork() failed: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		daemon_wait(pid, p[0]);
	}
	close(p[0]);
	m->ready_fd = p[1];
	if (setsid() < 0)
		log_warn("setsid() failed: %s", strerror(errno));
	if (chdir("/") < 0)
		log_warn("chdir(/) failed: %s", strerror(errno));
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0) {
		snprintf(err, errlen, "redirecting to /dev/null failed: %s", strerror(errno));
		return -1;
	}
	if (null > STDERR_FILENO)
		close(null);
	return 0;
}

/* daemon_ready - tell a waiting -d parent how start-up went. */
void
daemon_ready(struct master *m, int ok)
{
	char c = ok ? 0 : 1;

	if (m->ready_fd < 0)
		return;
	if (write(m->ready_fd, &c, 1) < 0)
		log_warn("write() to the waiting parent failed: %s", strerror(errno));
	close(m->ready_fd);
	m->ready_fd = -1;
}
