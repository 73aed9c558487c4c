/*
 * shm/lock.c - the segment's writer lock: a process-shared robust mutex.
 *
 * Owns: the pthread calls. A robust mutex is what lets a publisher that
 * is killed mid-write (kill -9, a crash) not wedge every other worker:
 * the next locker gets EOWNERDEAD instead of waiting forever.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "shm/lock.h"

int
lock_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0 ||
	    (rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(m, &a)) != 0) {
		log_error("pthread_mutex_init() of the shared lock failed: %s", strerror(rc));
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	return 0;
}

enum lock_result
lock_take(pthread_mutex_t *m)
{
	int rc = pthread_mutex_lock(m);

	if (rc == 0)
		return LOCK_TAKEN;
	if (rc == EOWNERDEAD)
		return LOCK_OWNER_DIED;
	log_error("pthread_mutex_lock() of the shared lock failed: %s", strerror(rc));
	return LOCK_FAILED;
}

void
lock_mark_consistent(pthread_mutex_t *m)
{
	int rc = pthread_mutex_consistent(m);

	if (rc != 0)
		log_error("pthread_mutex_consistent() failed: %s", strerror(rc));
}

void
lock_release(pthread_mutex_t *m)
{
	int rc = pthread_mutex_unlock(m);

	if (rc != 0)
		log_error("pthread_mutex_unlock() of the shared lock failed: %s", strerror(rc));
}
