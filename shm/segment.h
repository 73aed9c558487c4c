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

#include "lib/conf.h"
#include "shm/layout.h"
#include "shm/ring.h"
#include "shm/topics.h"

struct shm {
	struct shm_header *hdr;
	size_t size;
	int fd;            /* the creator's descriptor, holding the lock; -1 if attached */
	char name[64];
	struct ring ring;
	struct topics topics;
};

enum shm_result {
	SHM_OK = 0,
	SHM_ERROR = -1,    /* a system call failed */
	SHM_IN_USE = -2    /* a live janusd owns the segment */
};

/* shm_name - "/janusd.PORT": instances on different ports never collide. */
void shm_name(char *buf, size_t cap, unsigned port);

/*
 * shm_create - create and format the segment for conf, and hold its lock.
 * A segment left by a janusd that is gone is reused; one whose lock a live
 * janusd holds is not (SHM_IN_USE).
 */
enum shm_result shm_create(struct shm *s, const struct conf *c, char *err,
    size_t errlen);

/* shm_attach - map a running instance's segment read-only (janusd -s). */
enum shm_result shm_attach(struct shm *s, unsigned port, char *err,
    size_t errlen);

void shm_detach(struct shm *s);

/* shm_remove - unlink the segment's name if it still belongs to master_pid. */
void shm_remove(struct shm *s, int master_pid);

/* shm_lock - take the writer lock, repairing ring and topics after a dead owner. */
int shm_lock(struct shm *s);
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
