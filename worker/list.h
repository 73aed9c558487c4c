/*
 * worker/list.h - intrusive doubly linked lists of connections.
 *
 * Owns: the link operations. A connection sits on at most one list per
 * link field; lists are kept in insertion order, which for the timer
 * lists is deadline order because every deadline is now + a constant.
 */
#ifndef JANUSD_WORKER_LIST_H
#define JANUSD_WORKER_LIST_H

#include <stddef.h>

struct link {
	struct link *prev, *next;
};

/* A list head is a link whose prev/next point at itself when empty. */
static inline void
list_init(struct link *h)
{
	h->prev = h->next = h;
}

static inline int
list_empty(const struct link *h)
{
	return h->next == h;
}

static inline int
list_linked(const struct link *l)
{
	return l->next != NULL;
}

static inline void
list_append(struct link *h, struct link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static inline void
list_remove(struct link *l)
{
	if (l->next == NULL)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

#define list_entry(l, type, field) \
	((type *)(void *)((char *)(l) - offsetof(type, field)))

#endif
