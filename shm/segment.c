/*
 * shm/segment.c - the POSIX shared-memory segment janusd's processes share.
 *
 * Owns: the segment's life. The master creates it before forking, so
 * workers inherit the mapping and never open it themselves. The segment
 * is also the instance lock for its port (flock on it, inherited by the
 * workers). Whoever can open the segment can rewrite the live settings,
 * so janusd only ever formats a file it created itself with O_EXCL, mode
 * 0600: a name that exists is removed only if it is a stale segment of
 * ours (our euid, no group or other bits, one link, lock free), and
 * anything else at the name is refused, never opened for writing. No
 * other user can open a 0600 file, so none can hold its lock either.
 * Must not know about sockets or connections.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "shm/lock.h"
#include "shm/segment.h"

#define SHM_PAGE 4096
#define SHM_MIN_ADDRS 1024
#define SHM_MAX_ADDRS (1u << 20)
#define SHM_DIR  "/dev/shm"  /* where glibc keeps shm_open's names; for messages */
#define SHM_MODE 0600
#define SHM_TRIES 8          /* claims lost to a racing janusd before giving up */

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

/* shm_region - place n bytes at *off (page aligned); returns where. */
static uint64_t
shm_region(uint64_t *off, uint64_t n)
{
	uint64_t at = *off;

	*off = shm_align(at + n);
	return at;
}

/*
 * shm_layout - offsets and sizes of every region, from the settings.
 * There are as many address entries as the workers can hold connections
 * (each has this process's descriptor limit), within SHM_MIN_ADDRS and
 * SHM_MAX_ADDRS; addresses beyond them are not tracked (addrs_get_locked).
 */
static void
shm_layout(struct shm_header *h, const struct conf *c)
{
	uint64_t off = shm_align(sizeof(*h)), slots = c->ring_size / 128;
	struct rlimit rl;
	uint64_t addrs = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)c->workers * rl.rlim_cur : 0;

	h->nslots = shm_pow2(slots < 1024 ? 1024 : slots);
	h->slots_off = shm_region(&off, (uint64_t)h->nslots * sizeof(struct shm_ring_slot));
	h->data_size = c->ring_size;
	h->data_off = shm_region(&off, c->ring_size);
	h->nbuckets = shm_pow2(c->max_topics);
	h->buckets_off = shm_region(&off, (uint64_t)h->nbuckets * sizeof(uint32_t));
	h->max_topics = c->max_topics;
	h->topics_off = shm_region(&off, (uint64_t)c->max_topics * sizeof(struct shm_topic));
	h->name_units = (uint32_t)((uint64_t)c->max_topics * SHM_NAME_BYTES / SHM_NAME_UNIT);
	h->names_off = shm_region(&off, (uint64_t)h->name_units * SHM_NAME_UNIT);
	h->max_addrs = (uint32_t)(addrs < SHM_MIN_ADDRS ? SHM_MIN_ADDRS :
	    addrs > SHM_MAX_ADDRS ? SHM_MAX_ADDRS : addrs);
	h->naddr_buckets = shm_pow2(h->max_addrs);
	h->abuckets_off = shm_region(&off, (uint64_t)h->naddr_buckets * sizeof(uint32_t));
	h->addrs_off = shm_region(&off, (uint64_t)h->max_addrs * sizeof(struct shm_addr));
	h->size = off;
}

/* shm_bind - point the process-local views at a mapped segment. */
static void
shm_bind(struct shm *s, struct shm_header *h, size_t size)
{
	s->hdr = h;
	s->size = size;
	ring_bind(&s->ring, h);
	addrs_bind(&s->addrs, h);
	topics_bind(&s->topics, h, &s->addrs);
}

/* shm_fd_master - the master pid recorded in an opened segment, or 0. */
static int
shm_fd_master(int fd, const struct stat *st)
{
	struct shm_header *h;
	int pid = 0;

	if ((size_t)st->st_size < sizeof(*h))
		return 0;
	h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return 0;
	if (h->magic == SHM_MAGIC)
		pid = atomic_load(&h->master_pid);
	munmap(h, sizeof(*h));
	return pid;
}

/*
 * shm_open_ro - open whatever is at the name for a look, never for
 * writing: O_NONBLOCK so that a FIFO planted there cannot hang us
 * (shm_open adds O_NOFOLLOW, so a symbolic link fails with ELOOP).
 */
static int
shm_open_ro(const char *name)
{
	return shm_open(name, O_RDONLY | O_NONBLOCK, 0);
}

/* shm_names - whether the name still refers to the file open at fd. */
static int
shm_names(const char *name, int fd)
{
	struct stat a, b;
	int nfd = shm_open_ro(name), same;

	if (nfd < 0)
		return 0;
	same = fstat(nfd, &a) == 0 && fstat(fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(nfd);
	return same;
}

/* shm_unsafe - why the file st describes is not a segment of ours, or NULL. */
static const char *
shm_unsafe(const struct stat *st, uid_t uid)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_uid != uid)
		return "belongs to another user";
	if ((st->st_mode & 077) != 0)
		return "is open to other users";
	if (st->st_nlink != 1)
		return "has another name (a hard link)";
	return NULL;
}

/* shm_user - a user's name for messages, "?" if it has none. */
static void
shm_user(char *buf, size_t cap, uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, cap, "%s", pw != NULL ? pw->pw_name : "?");
}

/* shm_refuse - the error for a file at the name that janusd will not use. */
static int
shm_refuse(const char *name, const struct stat *st, const char *why,
    const char *what, char *err, size_t errlen)
{
	char owner[64], me[64];

	shm_user(owner, sizeof(owner), st->st_uid);
	shm_user(me, sizeof(me), geteuid());
	snprintf(err, errlen, "%s%s %s (owner %s, uid %u, mode %04o); janusd creates "
	    "its segment itself, owned by the user it runs as (%s, uid %u) with mode "
	    "0600. %s", SHM_DIR, name, why, owner, (unsigned)st->st_uid,
	    (unsigned)(st->st_mode & 07777), me, (unsigned)geteuid(), what);
	return SHM_UNSAFE;
}

/* shm_refuse_path - shm_refuse for a name that cannot even be opened. */
static int
shm_refuse_path(const char *name, int errnum, const char *what, char *err,
    size_t errlen)
{
	const char *why;
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", SHM_DIR, name);
	if (lstat(path, &st) < 0) {
		snprintf(err, errlen, "shm_open(%s) failed: %s", name, strerror(errnum));
		return SHM_ERROR;
	}
	why = shm_unsafe(&st, geteuid());
	return shm_refuse(name, &st, why != NULL ? why : "cannot be opened", what, err, errlen);
}

/* What to do about a name janusd refuses at start-up. */
#define SHM_ADVICE "Not using it. If no janusd of its owner serves this port, " \
	"remove the file (as root: rm " SHM_DIR "%s) and start again, or use another port."

/*
 * shm_clear_stale - remove the name if it is a segment of ours that no
 * live janusd holds. Returns 1 when the name should be created afresh
 * (removed, or gone meanwhile), or a negative enum shm_result.
 */
static int
shm_clear_stale(const char *name, char *err, size_t errlen)
{
	char what[256];
	const char *why;
	struct stat st;
	int fd, busy;

	snprintf(what, sizeof(what), SHM_ADVICE, name);
	fd = shm_open_ro(name);
	if (fd < 0)
		return errno == ENOENT ? 1 : shm_refuse_path(name, errno, what, err, errlen);
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fstat(%s) failed: %s", name, strerror(errno));
		close(fd);
		return SHM_ERROR;
	}
	if ((why = shm_unsafe(&st, geteuid())) != NULL) {
		close(fd);
		return shm_refuse(name, &st, why, what, err, errlen);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		busy = errno == EWOULDBLOCK;
		if (busy)
			snprintf(err, errlen, "shared memory %s is in use by janusd pid %d "
			    "(another janusd uses the port)", name, shm_fd_master(fd, &st));
		else
			snprintf(err, errlen, "flock(%s) failed: %s", name, strerror(errno));
		close(fd);
		return busy ? SHM_IN_USE : SHM_ERROR;
	}
	/* holding its lock, nobody but a person can change what the name is */
	if (shm_names(name, fd)) {
		log_warn("replacing stale shared memory %s%s (its master, pid %d, is gone)",
		    SHM_DIR, name, shm_fd_master(fd, &st));
		if (shm_unlink(name) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "shm_unlink(%s) failed: %s", name, strerror(errno));
			close(fd);
			return SHM_ERROR;
		}
	}
	close(fd);
	return 1;
}

/*
 * shm_lock_new - take the lock of a file just created with O_EXCL.
 * Returns 0, 1 if a racing janusd took the name from under us (try
 * again), or a negative enum shm_result.
 */
static int
shm_lock_new(const char *name, int fd, char *err, size_t errlen)
{
	/* the mode is exactly 0600 whatever the umask */
	if (fchmod(fd, SHM_MODE) < 0) {
		snprintf(err, errlen, "fchmod(%s) failed: %s", name, strerror(errno));
		return SHM_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 1;
		snprintf(err, errlen, "flock(%s) failed: %s", name, strerror(errno));
		return SHM_ERROR;
	}
	return shm_names(name, fd) ? 0 : 1;
}

/*
 * shm_open_locked - create the name exclusively and take its lock. The
 * lock is what says a janusd owns the port: it is held as long as the
 * master or any of its workers lives, and released by the kernel however
 * they die, so a segment of ours nobody holds is stale and replaced. A
 * janusd only goes on holding the lock of the file the name refers to,
 * so two starting at once cannot both win. Returns the descriptor, or a
 * negative enum shm_result.
 */
static int
shm_open_locked(const char *name, char *err, size_t errlen)
{
	int fd, rc, i;

	for (i = 0; i < SHM_TRIES; i++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, SHM_MODE);
		if (fd >= 0) {
			rc = shm_lock_new(name, fd, err, errlen);
			if (rc == 0)
				return fd;
			close(fd);
		} else if (errno == EEXIST) {
			rc = shm_clear_stale(name, err, errlen);
		} else {
			snprintf(err, errlen, "shm_open(%s) failed: %s", name, strerror(errno));
			return SHM_ERROR;
		}
		if (rc < 0)
			return rc;
	}
	snprintf(err, errlen, "shared memory %s: lost the race for it %d times "
	    "(other janusd processes starting on the port?)", name, SHM_TRIES);
	return SHM_IN_USE;
}

/* shm_verify - the file we map is still ours alone, of the size we gave it. */
static int
shm_verify(const char *name, int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fstat(%s) failed: %s", name, strerror(errno));
		return -1;
	}
	if (shm_unsafe(&st, geteuid()) == NULL && (st.st_mode & 07777) == SHM_MODE &&
	    (uint64_t)st.st_size == size)
		return 0;
	snprintf(err, errlen, "shared memory %s changed under us: uid %u, mode %04o, "
	    "%u links, %lld bytes (expected uid %u, mode 0600, 1 link, %llu bytes)", name,
	    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)st.st_nlink,
	    (long long)st.st_size, (unsigned)geteuid(), (unsigned long long)size);
	return -1;
}

/* shm_format - an empty segment: header, lock, ring and topics. */
static int
shm_format(struct shm *s, const struct conf *c)
{
	struct shm_header *h = s->hdr;
	uint64_t rnd[3];
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
	h->started_ms = clock_wall_usec() / 1000;
	for (i = 0; i < CONF_MAX_WORKERS; i++) {
		atomic_store(&h->workers[i].pid, 0);
		atomic_store(&h->workers[i].need, UINT64_MAX);
	}
	if (lock_init(&h->lock) < 0)
		return -1;
	ring_format(&s->ring);
	topics_format(&s->topics, rnd[1]);
	pinlog_format(&h->pinlog);
	addrs_format(&s->addrs, rnd[2]);
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
	if (ftruncate(fd, (off_t)layout.size) < 0) {
		snprintf(err, errlen, "ftruncate(%s, %llu) failed: %s", s->name,
		    (unsigned long long)layout.size, strerror(errno));
		goto fail;
	}
	if (shm_verify(s->name, fd, layout.size, err, errlen) < 0)
		goto fail;
	p = mmap(NULL, layout.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap(%s) failed: %s", s->name, strerror(errno));
		goto fail;
	}
	s->fd = fd;
	s->uid = geteuid();
	memcpy(p, &layout, sizeof(layout));
	shm_bind(s, p, layout.size);
	if (shm_format(s, c) < 0) {
		snprintf(err, errlen, "cannot initialise shared memory %s", s->name);
		shm_unlink(s->name);
		shm_detach(s);
		return SHM_ERROR;
	}
	return SHM_OK;
fail:
	/* the name is ours: we created it and hold its lock */
	shm_unlink(s->name);
	close(fd);
	return SHM_ERROR;
}

/*
 * shm_attach_check - janusd -s reads a segment only if a janusd of this
 * user could have made it: a regular file, mode without group or other
 * bits, owned by the caller. Root may read any user's (a janusd under
 * systemd's DynamicUser runs as a user of its own); s->uid names the owner.
 */
static int
shm_attach_check(const char *name, const struct stat *st, char *err, size_t errlen)
{
	const char *why = shm_unsafe(st, geteuid() == 0 ? st->st_uid : geteuid());

	if (why == NULL)
		return 0;
	shm_refuse(name, st, why, "Not reading it: the counters in it are not a janusd's of yours.",
	    err, errlen);
	return -1;
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
	fd = shm_open_ro(s->name);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "no janusd on port %u (shm_open(%s): %s)", port,
			    s->name, strerror(errno));
		else
			shm_refuse_path(s->name, errno, "Not reading it.", err, errlen);
		return SHM_ERROR;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fstat(%s) failed: %s", s->name, strerror(errno));
		close(fd);
		return SHM_ERROR;
	}
	if (shm_attach_check(s->name, &st, err, errlen) < 0) {
		close(fd);
		return SHM_ERROR;
	}
	if ((size_t)st.st_size < sizeof(*h)) {
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
	s->uid = st.st_uid;
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

/* shm_remove - only the creator's processes, and only while the name is still theirs. */
void
shm_remove(struct shm *s, int master_pid)
{
	if (s->hdr == NULL || s->fd < 0 || atomic_load(&s->hdr->master_pid) != master_pid ||
	    !shm_names(s->name, s->fd))
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
shm_lock_or_exit(struct shm *s)
{
	if (shm_lock(s) == 0)
		return;
	log_error("the shared lock of %s cannot be taken; exiting with status %d",
	    s->name, SHM_LOCK_BROKEN_STATUS);
	_exit(SHM_LOCK_BROKEN_STATUS);
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
