/*
 * shm/publish.c - one message into the ring, and waking those who read it.
 *
 * Owns: what shm/publish.h says. The record is written once, in place:
 * the prefix (rendered now, under the lock, so timestamps follow ring
 * order on this node, or copied as another node rendered it), the rest,
 * the final \1. The lock is held for copies, not for parsing.
 * Must not deliver anything or decide who may publish.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "proto/render.h"
#include "shm/publish.h"

/* shm_would_drop_locked - whether placing maxlen bytes gives up a record a live worker still needs. */
static int
shm_would_drop_locked(const struct shm *s, uint32_t maxlen)
{
	uint64_t tail = ring_tail_after_locked(&s->ring, maxlen);
	unsigned i;

	if (tail <= ring_tail(&s->ring))
		return 0;
	for (i = 0; i < s->hdr->nworkers; i++)
		if (atomic_load_explicit(&s->hdr->workers[i].need, memory_order_acquire) < tail)
			return 1;
	return 0;
}

enum shm_pub_result
shm_publish_locked(struct shm *s, const struct shm_msg *m, uint64_t *seq, uint32_t *workers)
{
	uint32_t maxlen = (uint32_t)((m->prefix != NULL ? m->pfx : RENDER_PREFIX_MAX) + m->rest_len + 1);
	struct ring_meta meta;
	size_t n;
	long id;
	char *dst;

	if (m->rest_len > s->ring.size || maxlen > s->ring.size / 4)
		return SHM_PUB_TOO_LARGE;
	if (m->may_wait && shm_would_drop_locked(s, maxlen))
		return SHM_PUB_WAIT;
	id = topics_intern_locked(&s->topics, m->topic, m->topic_len);
	if (id < 0)
		return SHM_PUB_TABLE_FULL;
	dst = ring_reserve_locked(&s->ring, maxlen);
	if (m->prefix != NULL) {
		memcpy(dst, m->prefix, m->pfx);
		n = meta.pfx = m->pfx;
	} else {
		n = render_prefix(dst, clock_wall_usec());
		meta.pfx = (uint32_t)n;
	}
	memcpy(dst + n, m->rest, m->rest_len);
	n += m->rest_len;
	dst[n++] = '\1';
	meta.topic = (uint32_t)id;
	meta.flags = m->flags;
	meta.gen = topics_gen(&s->topics, (uint32_t)id);
	meta.prev = topics_published_locked(&s->topics, (uint32_t)id, ring_head(&s->ring) + 1);
	*seq = ring_commit_locked(&s->ring, (uint32_t)n, &meta);
	*workers = topics_wake_locked(&s->topics, (uint32_t)id);
	return SHM_PUB_OK;
}

void
shm_wake(struct shm *s, const int *efds, unsigned nworkers, uint64_t mask, unsigned self)
{
	static const uint64_t one = 1;
	_Atomic uint32_t *flag;
	unsigned i;

	if (mask == 0)
		return;
	/*
	 * Pairs with the fence of a reader clearing its flag: our committed
	 * records are seen by a reader that clears its flag, or we see the
	 * flag still set.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i <= nworkers && mask != 0; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		mask &= ~(UINT64_C(1) << i);
		flag = i < nworkers ? &s->hdr->workers[i].wake : &s->hdr->bridge.wake;
		if (i == self || efds[i] < 0 || atomic_exchange(flag, 1) != 0)
			continue;
		if (write(efds[i], &one, sizeof(one)) < 0 && errno != EAGAIN) {
			if (i < nworkers)
				log_error("write() to worker %u's eventfd failed: %s", i, strerror(errno));
			else
				log_error("write() to the bridge's eventfd failed: %s", strerror(errno));
		}
	}
}
