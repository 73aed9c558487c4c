/*
 * t/tseg.c - a real shared segment for the shm unit tests, always removed.
 *
 * Owns: creating a small segment (1 MiB ring, 16 topics) under a name no
 * running janusd uses, and removing it however the test ends: atexit,
 * fatal signals, a sanitizer's death callback. Forked children that die
 * on purpose never remove it; only its creator does.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "t/tap.h"
#include "t/tseg.h"

struct shm seg;
static pid_t seg_owner;
static volatile sig_atomic_t seg_live;

/* Provided by the sanitizer runtimes; NULL in a build without them. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

/* seg_cleanup - remove and unmap the segment; only its creator does. */
static void
seg_cleanup(void)
{
	if (!seg_live || getpid() != seg_owner)
		return;
	seg_live = 0;
	shm_remove(&seg, seg_owner);
	shm_detach(&seg);
}

/* seg_on_signal - remove the segment's name, then die of the signal. */
static void
seg_on_signal(int sig)
{
	static const char timeout[] = "Bail out! timed out\n";

	if (sig == SIGALRM && write(STDOUT_FILENO, timeout, sizeof(timeout) - 1) < 0)
		sig = SIGALRM;  /* nothing more to do if stdout is gone */
	if (seg_live && getpid() == seg_owner)
		shm_unlink(seg.name);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* seg_guard - arrange for the segment to go on exit, signal or sanitizer death. */
static void
seg_guard(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGALRM, SIGABRT, SIGPIPE };
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	size_t i;

	seg_owner = getpid();
	atexit(seg_cleanup);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], seg_on_signal);
	/* a sanitizer reports faults itself, then calls this on its way out */
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(seg_cleanup);
	else
		for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
			signal(faults[i], seg_on_signal);
}

/* seg_free_port - a port in 40000-60000 with no segment named after it. */
static unsigned
seg_free_port(void)
{
	char name[64], path[96];
	unsigned port;
	int i;

	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (i = 0; i < 200; i++) {
		port = 40000 + (unsigned)rand() % 20001;
		shm_name(name, sizeof(name), port);
		snprintf(path, sizeof(path), "/dev/shm%s", name);
		if (access(path, F_OK) < 0)
			return port;
	}
	tap_bail("no free port for a test segment");
}

/* seg_create - a small segment: the smallest ring, 16 topics. */
void
seg_create(void)
{
	static const char *const settings[] = {
		"ring_size=1M", "max_frame=256", "max_topics=16", "workers=2",
	};
	struct conf c;
	char err[256];
	size_t i;

	conf_defaults(&c);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (conf_set_arg(&c, settings[i], err, sizeof(err)) < 0)
			tap_bail("%s", err);
	c.port = seg_free_port();
	seg_guard();
	if (shm_create(&seg, &c, err, sizeof(err)) != SHM_OK)
		tap_bail("shm_create: %s", err);
	seg_live = 1;
	alarm(30);
}

void
seg_record_fill(char *dst, uint64_t seq, uint32_t len)
{
	char head[24];
	uint32_t i, n = (uint32_t)snprintf(head, sizeof(head), "#%llu:", (unsigned long long)seq);

	for (i = 0; i + 1 < len; i++)
		dst[i] = i < n ? head[i] : (char)('!' + (seq * 131 + i * 7) % 90);
	dst[len - 1] = '\1';
}

void
seg_lock(void)
{
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
}

long
seg_intern(const char *name, uint32_t len)
{
	long id;

	seg_lock();
	id = topics_intern_locked(&seg.topics, name, len);
	shm_unlock(&seg);
	return id;
}

int
seg_pin(long id, unsigned worker, uint32_t owner, uint32_t quota)
{
	int rc;

	seg_lock();
	rc = topics_pin_locked(&seg.topics, (uint32_t)id, worker, owner, quota);
	shm_unlock(&seg);
	return rc;
}

void
seg_unpin(long id, unsigned worker)
{
	seg_lock();
	topics_unpin_locked(&seg.topics, (uint32_t)id, worker);
	shm_unlock(&seg);
}
