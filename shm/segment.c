/*
 * shm/segment.c - the POSIX shared-memory segment janusd's processes share.
 *
 * Owns: the segment's life. The master creates it before forking, so
 * workers inherit the mapping and never open it themselves. The segment
 * is also the instance lock for its port (flock on it, inherited by the
 * workers); a segment nobody holds, left by a crashed run, is reused.
 * Must not know about sockets or connections.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "shm/lock.h"
#include "shm/segment.h"

#define SHM_PAGE 4096

void
shm_name(char *buf, size_t cap, unsigned port)
{
	snprintf(buf, cap, "/janusd.%u", port);
}

static uint64_t
shm_align(uint64_t n)
{
	return (n + SHM_PAGE - 1) & ~(uint64_t)(SHM_PAGE - 1);
}

static uint32_t
shm_pow2(uint64_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* shm_layout - offsets and sizes of every region, from the settings. */
static void
shm_layout(struct shm_header *h, const struct conf *c)
{
	uint64_t off = shm_align(sizeof(*h)), slots = c->ring_size / 128;

	h->nslots = shm_pow2(slots < 1024 ? 1024 : slots);
	h->slots_off = off;
	off = shm_align(off + (uint64_t)h->nslots * sizeof(struct shm_ring_slot));
	h->data_off = off;
	h->data_size = c->ring_size;
	off = shm_align(off + c->ring_size);
	h->index_size = shm_pow2((uint64_t)c->max_topics * 2);
	h->index_off = off;
	off = shm_align(off + (uint64_t)h->index_size * sizeof(uint32_t));
	h->max_topics = c->max_topics;
	h->topics_off = off;
	h->size = shm_align(off + (uint64_t)c->max_topics * sizeof(struct shm_topic));
}

/* shm_bind - point the process-local views at a mapped segment. */
static void
shm_bind(struct shm *s, struct shm_header *h, size_t size)
{
	s->hdr = h;
	s->size = size;
	ring_bind(&s->ring, h);
	topics_bind(&s->topics, h);
}

/* shm_owner - the master pid recorded in an existing segment, or 0. */
static int
shm_owner(const char *name)
{
	struct shm_header *h;
	struct stat st;
	int fd, pid = 0;

	fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(*h)) {
		h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
		if (h != MAP_FAILED) {
			if (h->magic == SHM_MAGIC)
				pid = atomic_load(&h->master_pid);
			munmap(h, sizeof(*h));
		}
	}
	close(fd);
	return pid;
}

/*
 * shm_open_locked - open (or create) the name and take its lock. The lock
 * is what says a janusd owns the port: it is held as long as the master or
 * any of its workers lives, and released by the kernel however they die,
 * so a segment nobody holds is stale and simply reused. Returns the
 * descriptor, or a negative enum shm_result.
 */
static int
shm_open_locked(const char *name, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "shm_open(%s) failed: %s", name, strerror(errno));
		return SHM_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "shared memory %s is in use by janusd pid %d "
			    "(another janusd uses the port)", name, shm_owner(name));
		else
			snprintf(err, errlen, "flock(%s) failed: %s", name, strerror(errno));
		close(fd);
		return errno == EWOULDBLOCK ? SHM_IN_USE : SHM_ERROR;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		log_warn("reusing stale shared memory %s (its master, pid %d, is gone)",
		    name, shm_owner(name));
	return fd;
}

/* shm_format - an empty segment: header, lock, ring and topics. */
static int
shm_format(struct shm *s, const struct conf *c)
{
	struct shm_header *h = s->hdr;
	uint64_t rnd[2];
	unsigned i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		log_error("getrandom() failed: %s", strerror(errno));
		return -1;
	}
	h->version = SHM_VERSION;
	h->header_size = sizeof(*h);
	h->nworkers = c->workers;
	h->port = c->port;
	snprintf(h->epoch, sizeof(h->epoch), "%016llx", (unsigned long long)rnd[0]);
	memcpy(&h->conf, c, sizeof(*c));
	atomic_store(&h->conf_gen, 2);
	atomic_store(&h->master_pid, getpid());
	for (i = 0; i < CONF_MAX_WORKERS; i++)
		atomic_store(&h->workers[i].pid, 0);
	if (lock_init(&h->lock) < 0)
		return -1;
	ring_format(&s->ring);
	topics_format(&s->topics, rnd[1]);
	atomic_thread_fence(memory_order_seq_cst);
	h->magic = SHM_MAGIC;
	return 0;
}

enum shm_result
shm_create(struct shm *s, const struct conf *c, char *err, size_t errlen)
{
	struct shm_header layout;
	void *p;
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	memset(&layout, 0, sizeof(layout));
	shm_layout(&layout, c);
	shm_name(s->name, sizeof(s->name), c->port);
	fd = shm_open_locked(s->name, err, errlen);
	if (fd < 0)
		return (enum shm_result)fd;
	/* truncating to 0 first zeroes whatever a stale segment held */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)layout.size) < 0) {
		snprintf(err, errlen, "ftruncate(%s, %llu) failed: %s", s->name,
		    (unsigned long long)layout.size, strerror(errno));
		goto fail;
	}
	p = mmap(NULL, layout.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap(%s) failed: %s", s->name, strerror(errno));
		goto fail;
	}
	s->fd = fd;
	memcpy(p, &layout, sizeof(layout));
	shm_bind(s, p, layout.size);
	if (shm_format(s, c) < 0) {
		snprintf(err, errlen, "cannot initialise shared memory %s", s->name);
		shm_remove(s, getpid());
		shm_detach(s);
		return SHM_ERROR;
	}
	return SHM_OK;
fail:
	shm_unlink(s->name);
	close(fd);
	return SHM_ERROR;
}

enum shm_result
shm_attach(struct shm *s, unsigned port, char *err, size_t errlen)
{
	struct shm_header *h;
	struct stat st;
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	shm_name(s->name, sizeof(s->name), port);
	fd = shm_open(s->name, O_RDONLY, 0);
	if (fd < 0) {
		snprintf(err, errlen, "no janusd on port %u (shm_open(%s): %s)", port,
		    s->name, strerror(errno));
		return SHM_ERROR;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*h)) {
		snprintf(err, errlen, "%s: not a janusd segment", s->name);
		close(fd);
		return SHM_ERROR;
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		snprintf(err, errlen, "mmap(%s) failed: %s", s->name, strerror(errno));
		return SHM_ERROR;
	}
	if (h->magic != SHM_MAGIC || h->version != SHM_VERSION ||
	    h->header_size != sizeof(*h) || h->size != (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: not a janusd segment of this version", s->name);
		munmap(h, (size_t)st.st_size);
		return SHM_ERROR;
	}
	shm_bind(s, h, (size_t)st.st_size);
	return SHM_OK;
}

void
shm_detach(struct shm *s)
{
	if (s->hdr != NULL && munmap(s->hdr, s->size) < 0)
		log_error("munmap(%s) failed: %s", s->name, strerror(errno));
	s->hdr = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void
shm_remove(struct shm *s, int master_pid)
{
	if (s->name[0] == '\0' || shm_owner(s->name) != master_pid)
		return;
	if (shm_unlink(s->name) < 0 && errno != ENOENT)
		log_error("shm_unlink(%s) failed: %s", s->name, strerror(errno));
}

int
shm_lock(struct shm *s)
{
	unsigned freed;
	int rolled;

	switch (lock_take(&s->hdr->lock)) {
	case LOCK_TAKEN:
		return 0;
	case LOCK_OWNER_DIED:
		rolled = ring_repair_locked(&s->ring);
		freed = topics_repair_locked(&s->topics);
		lock_mark_consistent(&s->hdr->lock);
		log_warn("shared lock: its holder died; %s, %u half-made topic%s given back",
		    rolled ? "its last record was whole and is kept" :
		    "a record it left unfinished, if any, is discarded",
		    freed, freed == 1 ? "" : "s");
		return 0;
	default:
		return -1;
	}
}

void
shm_unlock(struct shm *s)
{
	lock_release(&s->hdr->lock);
}

void
shm_conf_store(struct shm *s, const struct conf *c)
{
	uint64_t gen = atomic_load_explicit(&s->hdr->conf_gen, memory_order_relaxed);

	atomic_store_explicit(&s->hdr->conf_gen, gen + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&s->hdr->conf, c, sizeof(*c));
	atomic_store_explicit(&s->hdr->conf_gen, gen + 2, memory_order_release);
}

uint64_t
shm_conf_gen(const struct shm *s)
{
	return atomic_load_explicit(&s->hdr->conf_gen, memory_order_acquire);
}

uint64_t
shm_conf_load(const struct shm *s, struct conf *c)
{
	uint64_t g1, g2;

	do {
		g1 = atomic_load_explicit(&s->hdr->conf_gen, memory_order_acquire);
		memcpy(c, &s->hdr->conf, sizeof(*c));
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(&s->hdr->conf_gen, memory_order_relaxed);
	} while ((g1 & 1) != 0 || g1 != g2);
	return g1;
}
