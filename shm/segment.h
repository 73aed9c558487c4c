/*
 * shm/segment.h - the POSIX shared-memory segment janusd's processes share.
 *
 * Owns: naming, creating, sizing, checking, mapping and removing the
 * segment; the lock over it with repair after a dead owner; handing the
 * live settings from the master to the workers. Must not know about
 * sockets or connections.
 */
#ifndef JANUSD_SHM_SEGMENT_H
#define JANUSD_SHM_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/conf.h"
#include "shm/addrs.h"
#include "shm/layout.h"
#include "shm/ring.h"
#include "shm/topics.h"

struct shm {
	struct shm_header *hdr;
	size_t size;
	int fd;            /* the creator's descriptor, holding the lock; -1 if attached */
	uid_t uid;         /* the segment file's owner */
	char name[64];
	struct ring ring;
	struct topics topics;
	struct addrs addrs;
};

enum shm_result {
	SHM_OK = 0,
	SHM_ERROR = -1,    /* a system call failed */
	SHM_IN_USE = -2,   /* a live janusd owns the segment */
	SHM_UNSAFE = -3    /* the name is taken by a file janusd did not make for this user */
};

/* shm_name - "/janusd.PORT": instances on different ports never collide. */
void shm_name(char *buf, size_t cap, unsigned port);

/*
 * shm_create - create the segment for conf exclusively (mode 0600), format
 * it and hold its lock. A segment of this user left by a janusd that is
 * gone is replaced; one whose lock a live janusd holds is not (SHM_IN_USE);
 * anything else at the name is refused and left alone (SHM_UNSAFE).
 */
enum shm_result shm_create(struct shm *s, const struct conf *c, char *err,
    size_t errlen);

/*
 * shm_attach - map a running instance's segment read-only (janusd -s):
 * only one that is the caller's (any user's for root), mode 0600.
 */
enum shm_result shm_attach(struct shm *s, unsigned port, char *err,
    size_t errlen);

void shm_detach(struct shm *s);

/* shm_remove - unlink the segment's name if it still belongs to master_pid. */
void shm_remove(struct shm *s, int master_pid);

/*
 * shm_lock - take the writer lock, repairing ring and topics after a dead
 * owner. Returns 0, or -1 if the lock cannot be taken at all (it is not
 * recoverable: nothing can be published or subscribed any more).
 */
int shm_lock(struct shm *s);

/* The status a process ends with when the lock is broken: for a worker, "do not respawn". */
#define SHM_LOCK_BROKEN_STATUS 2

/*
 * shm_lock_or_exit - shm_lock for the workers' one policy: a lock that
 * cannot be taken ends the process with SHM_LOCK_BROKEN_STATUS (logged),
 * so no request is half-done against a segment nobody can change, and
 * the master decides what the instance does without that worker.
 */
void shm_lock_or_exit(struct shm *s);
void shm_unlock(struct shm *s);

/* shm_conf_store - the master hands new live settings to the workers. */
void shm_conf_store(struct shm *s, const struct conf *c);

/* shm_conf_gen - the settings' generation; shm_conf_load copies them out. */
uint64_t shm_conf_gen(const struct shm *s);
uint64_t shm_conf_load(const struct shm *s, struct conf *c);

static inline struct shm_worker *
shm_worker(struct shm *s, unsigned slot)
{
	return &s->hdr->workers[slot];
}

#endif
