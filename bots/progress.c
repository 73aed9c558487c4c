/*
 * bots/progress.c - the parent's progress line on standard error.
 *
 * Owns: the schedule of the line and its two forms: "\rjanus-bots: ...\033[K" on a
 * terminal (a line that rewrites itself, erased before anything else is
 * printed) and "janus-bots: progress: ...\n" elsewhere, so a log gets a
 * line every few seconds rather than a stream of carriage returns.
 * Must not gather counts or write to standard output.
 */
#include "config.h"

#include <stdio.h>

#include "bots/progress.h"

void
progress_init(struct progress *p, enum bots_progress mode, unsigned target,
    int64_t t0)
{
	p->mode = mode;
	p->target = target;
	p->t0 = t0;
	p->next = t0 + (mode == BOTS_PROGRESS_TTY ? PROGRESS_TTY_NS :
	    PROGRESS_LINES_NS);
	p->shown = 0;
}

int64_t
progress_due(const struct progress *p)
{
	return p->mode == BOTS_PROGRESS_OFF ? INT64_MAX : p->next;
}

void
progress_show(struct progress *p, int64_t now, const struct progress_counts *c)
{
	int tty = p->mode == BOTS_PROGRESS_TTY;

	if (p->mode == BOTS_PROGRESS_OFF || now < p->next)
		return;
	p->next = now + (tty ? PROGRESS_TTY_NS : PROGRESS_LINES_NS);
	/* one fprintf, so that the line goes out in one write */
	fprintf(stderr, "%s%llu/%u connected, %llu subscribed, %llu delivered, "
	    "%.1f s%s", tty ? "\r" BOTS_NAME ": " : BOTS_NAME ": progress: ",
	    (unsigned long long)c->connected, p->target,
	    (unsigned long long)c->subscribed, (unsigned long long)c->delivered,
	    (double)(now - p->t0) / 1e9, tty ? "\033[K" : "\n");
	fflush(stderr);
	p->shown = tty;
}

void
progress_clear(struct progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = 0;
}
