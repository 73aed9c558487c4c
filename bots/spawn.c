/*
 * bots/spawn.c - creating, stopping and reaping janus-bots' child processes.
 *
 * Owns: fork, the child's first steps (die with the parent, ignore the
 * terminal's ^C which the parent handles, drop inherited descriptors), and
 * reaping by PID with a bounded wait. Must not read records.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bots/spawn.h"
#include "bots/util.h"

/* Room for a burst of floor frames without the parent blocking. */
#define CHILD_PIPE_SIZE (1024 * 1024)

/* child_enter - runs in the new process; never returns. */
static void
child_enter(struct child *ps, unsigned i, child_body body, void *arg,
    const int *close_in_child, unsigned nclose, pid_t parent, int in_fd,
    int out_fd)
{
	sigset_t none;
	unsigned k;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(2);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (k = 0; k < i; k++)
		child_close(&ps[k]);
	for (k = 0; k < nclose; k++)
		if (close_in_child[k] >= 0)
			close(close_in_child[k]);
	close(ps[i].to_fd);
	close(ps[i].from_fd);
	_exit(body(arg, in_fd, out_fd));
}

int
child_spawn(struct child *ps, unsigned i, child_body body, void *arg,
    const int *close_in_child, unsigned nclose)
{
	struct child *p = &ps[i];
	int down[2], up[2];
	pid_t parent = getpid();

	memset(p, 0, sizeof(*p));
	p->to_fd = p->from_fd = -1;
	if (pipe2(down, O_CLOEXEC) < 0) {
		util_err("pipe2() failed: %s", strerror(errno));
		return -1;
	}
	if (pipe2(up, O_CLOEXEC) < 0) {
		util_err("pipe2() failed: %s", strerror(errno));
		close(down[0]);
		close(down[1]);
		return -1;
	}
	/* best effort: a small pipe only makes the parent wait a little */
	fcntl(down[1], F_SETPIPE_SZ, CHILD_PIPE_SIZE);
	if (fcntl(down[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(up[0], F_SETFL, O_NONBLOCK) < 0)
		util_err("fcntl(O_NONBLOCK) failed: %s", strerror(errno));
	p->to_fd = down[1];
	p->from_fd = up[0];
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0) {
		util_err("fork() failed: %s", strerror(errno));
		p->pid = 0;
		close(down[0]);
		close(up[1]);
		child_close(p);
		return -1;
	}
	if (p->pid == 0)
		child_enter(ps, i, body, arg, close_in_child, nclose, parent,
		    down[0], up[1]);
	close(down[0]);
	close(up[1]);
	return 0;
}

/* child_reaped - record how PID ended in the table. */
static void
child_reaped(struct child *ps, unsigned n, pid_t pid, int status)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		if (ps[k].pid == pid) {
			ps[k].pid = 0;
			ps[k].status = status;
		}
	}
}

/* child_running - how many children have not been reaped. */
static unsigned
child_running(const struct child *ps, unsigned n)
{
	unsigned k, left = 0;

	for (k = 0; k < n; k++)
		left += ps[k].pid > 0;
	return left;
}

void
child_reap_all(struct child *ps, unsigned n, long long deadline_ns)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned k;
	pid_t pid;
	int status;

	while (child_running(ps, n) > 0 && util_mono_ns() < deadline_ns) {
		for (k = 0; k < n; k++) {
			if (ps[k].pid <= 0)
				continue;
			pid = waitpid(ps[k].pid, &status, WNOHANG);
			if (pid > 0 || (pid < 0 && errno == ECHILD))
				child_reaped(ps, n, ps[k].pid, pid > 0 ? status : 0);
		}
		if (child_running(ps, n) > 0)
			nanosleep(&tick, NULL);
	}
	child_kill_all(ps, n);
}

void
child_kill_all(struct child *ps, unsigned n)
{
	unsigned k;
	int status;

	for (k = 0; k < n; k++)
		if (ps[k].pid > 0 && kill(ps[k].pid, SIGKILL) < 0 && errno != ESRCH)
			util_err("kill(%ld) failed: %s", (long)ps[k].pid, strerror(errno));
	for (k = 0; k < n; k++) {
		if (ps[k].pid <= 0)
			continue;
		/* SIGKILL cannot be caught: this wait is short */
		while (waitpid(ps[k].pid, &status, 0) < 0 && errno == EINTR)
			;
		child_reaped(ps, n, ps[k].pid, status);
	}
}

void
child_describe(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(out, len, "ended with wait status %d", status);
}

void
child_close(struct child *p)
{
	if (p->to_fd >= 0)
		close(p->to_fd);
	if (p->from_fd >= 0)
		close(p->from_fd);
	p->to_fd = p->from_fd = -1;
}
