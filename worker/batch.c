/*
 * worker/batch.c - a run of ring records as iovecs, framed for a transport.
 *
 * Owns: struct batch's contents (worker/batch.h). A record's wire bytes
 * are up to four segments: head, prefix, seq, rest; batch_copy_rest walks
 * the same segments, so the bytes it copies are exactly those the iovecs
 * would have sent.
 * Must not write to sockets or know about connections.
 */
#include "config.h"

#include <string.h>

#include "worker/batch.h"

/* batch_segments - record i's four wire segments; returns their count (always 4). */
static unsigned
batch_segments(const struct batch *b, uint32_t i, const char *seg[4], size_t len[4])
{
	const struct ring_rec *r = &b->recs[i];

	seg[0] = b->head[i];
	len[0] = b->headlen[i];
	seg[1] = r->bytes;
	len[1] = r->pfx;
	seg[2] = b->seq[i];
	len[2] = b->v2 ? b->seqlen[i] : 0;
	seg[3] = r->bytes + r->pfx;
	len[3] = transport_payload(b->tp, r->len) - r->pfx;
	return 4;
}

/* batch_push - append a segment, merged with the last iovec where it continues it. */
static void
batch_push(struct batch *b, const char *p, size_t n, int mergeable)
{
	struct iovec *last = b->niov > 0 ? &b->iov[b->niov - 1] : NULL;

	if (n == 0)
		return;
	if (mergeable && last != NULL && (const char *)last->iov_base + last->iov_len == p) {
		last->iov_len += n;
		return;
	}
	b->iov[b->niov++] = (struct iovec){ (void *)p, n };
}

/*
 * batch_compact - copy the batch's short iovecs into b->flat, each run of
 * them becoming one iovec, while it has room; long ones stay where they
 * are. A batch that is one iovec already is left alone.
 */
static void
batch_compact(struct batch *b)
{
	size_t used = 0, n;
	uint32_t i, out = 0;
	struct iovec *last;
	char *dst;

	for (i = 0; i < b->niov; i++) {
		n = b->iov[i].iov_len;
		if (n > BATCH_SHORT || used + n > BATCH_FLAT) {
			b->iov[out++] = b->iov[i];
			continue;
		}
		dst = b->flat + used;
		memcpy(dst, b->iov[i].iov_base, n);
		used += n;
		last = out > 0 ? &b->iov[out - 1] : NULL;
		if (last != NULL && (char *)last->iov_base + last->iov_len == dst)
			last->iov_len += n;
		else
			b->iov[out++] = (struct iovec){ dst, n };
	}
	b->niov = out;
}

/* batch_add - record i's segments appended, returns its wire length. */
static size_t
batch_add(struct batch *b, uint32_t i)
{
	const struct ring_rec *r = &b->recs[i];
	const char *seg[4];
	size_t len[4], payload = transport_payload(b->tp, r->len);
	unsigned k, nseg;

	if (!b->v2 && b->tp->head == NULL) {
		/* nothing goes between a record's segments: its bytes are one run */
		b->seqlen[i] = b->headlen[i] = 0;
		batch_push(b, r->bytes, payload, 1);
		return payload;
	}
	b->seqlen[i] = b->v2 ? (uint8_t)render_seq(b->seq[i], r->seq) : 0;
	payload += b->seqlen[i];
	b->headlen[i] = b->tp->head != NULL ? (uint8_t)b->tp->head(b->head[i], payload) : 0;
	nseg = batch_segments(b, i, seg, len);
	/* ring bytes merge only with ring bytes right before them: adjacent records */
	for (k = 0; k < nseg; k++)
		batch_push(b, seg[k], len[k], k == 1 || (k == 3 && len[2] == 0));
	return b->headlen[i] + payload;
}

void
batch_build(struct batch *b, const struct transport *tp, int v2,
    const struct ring_rec *recs, uint32_t n)
{
	uint32_t i;

	b->tp = tp;
	b->v2 = v2;
	b->recs = recs;
	b->nrec = n;
	b->niov = 0;
	b->total = 0;
	for (i = 0; i < n; i++)
		b->total += batch_add(b, i);
	if (b->niov > 1)
		batch_compact(b);
	memset(&b->mh, 0, sizeof(b->mh));
	b->mh.msg_iov = b->iov;
	b->mh.msg_iovlen = b->niov;
}

size_t
batch_rec_len(const struct batch *b, uint32_t i)
{
	return b->headlen[i] + transport_payload(b->tp, b->recs[i].len) + b->seqlen[i];
}

void
batch_copy_rest(const struct batch *b, uint32_t i, size_t off, char *dst)
{
	const char *seg[4];
	size_t len[4], take;
	unsigned k, nseg = batch_segments(b, i, seg, len);

	for (k = 0; k < nseg; k++) {
		if (off >= len[k]) {
			off -= len[k];
			continue;
		}
		take = len[k] - off;
		memcpy(dst, seg[k] + off, take);
		dst += take;
		off = 0;
	}
}
