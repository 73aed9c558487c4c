/*
 * shm/lock.h - the segment's writer lock: a process-shared robust mutex.
 *
 * Owns: creating the mutex and taking it, reporting when its previous
 * owner died while holding it. Must not repair anything: the segment
 * (shm_lock) knows what the lock guards.
 */
#ifndef JANUSD_SHM_LOCK_H
#define JANUSD_SHM_LOCK_H

#include <pthread.h>

enum lock_result {
	LOCK_TAKEN = 0,
	LOCK_OWNER_DIED,   /* taken; the guarded data may be half-written */
	LOCK_FAILED        /* not taken (unrecoverable mutex) */
};

int lock_init(pthread_mutex_t *m);
enum lock_result lock_take(pthread_mutex_t *m);
/* lock_mark_consistent - after repairing, so later owners get LOCK_TAKEN again. */
void lock_mark_consistent(pthread_mutex_t *m);
void lock_release(pthread_mutex_t *m);

#endif
