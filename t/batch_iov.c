/*
 * t/batch_iov.c - unit test for worker/batch.c: what a batch's iovecs send.
 *
 * Owns: records laid out in a buffer standing for the ring (adjacent runs
 * and gaps, 1 byte to 9 kB, prefixes of several lengths), built into
 * batches for both transports and both protocol versions, and checked
 * against each record's wire bytes assembled here from their parts: the
 * iovecs joined are exactly those bytes in order, total counts them,
 * batch_copy_rest gives every suffix of every record; short iovecs are
 * copied into few (a WebSocket batch of short records is one or two
 * iovecs, not two per record), long records still go out from the ring
 * bytes, and past BATCH_FLAT's room the rest stays as it was.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/render.h"
#include "t/tap.h"
#include "worker/batch.h"
#include "worker/transport.h"

#define RING_BYTES (4u << 20)

static char ring[RING_BYTES];
static struct ring_rec recs[BATCH_RECS];
static struct batch b;
static char want[RING_BYTES], got[RING_BYTES];

/* lay_out - n records of the sizes len(i), with a gap after every gap_every-th; fills recs. */
static void
lay_out(uint32_t n, uint32_t (*len)(uint32_t), uint32_t gap_every)
{
	uint64_t off = 0;
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		struct ring_rec *r = &recs[i];

		r->seq = 1000 + i;
		r->len = len(i);
		r->pfx = r->len > 12 ? 1 + i % 11 : 0;
		r->off = off;
		r->bytes = ring + off;
		for (k = 0; k + 1 < r->len; k++)
			ring[off + k] = (char)('a' + (i * 7 + k) % 26);
		ring[off + r->len - 1] = '\1';
		off += r->len;
		if (gap_every != 0 && i % gap_every == gap_every - 1)
			off += 64;
		if (off + 10000 > RING_BYTES)
			tap_bail("the test ring is too small");
	}
}

/* wire - record i's bytes as a client of tp (version v2 or not) must get them; their length. */
static size_t
wire(char *dst, const struct transport *tp, int v2, uint32_t i)
{
	const struct ring_rec *r = &recs[i];
	char seq[RENDER_SEQ_MAX];
	size_t seqlen = v2 ? render_seq(seq, r->seq) : 0;
	size_t payload = transport_payload(tp, r->len) + seqlen, n = 0;

	if (tp->head != NULL)
		n = tp->head(dst, payload);
	memcpy(dst + n, r->bytes, r->pfx);
	n += r->pfx;
	memcpy(dst + n, seq, seqlen);
	n += seqlen;
	memcpy(dst + n, r->bytes + r->pfx, transport_payload(tp, r->len) - r->pfx);
	return n + transport_payload(tp, r->len) - r->pfx;
}

/* joined - the batch's iovecs, one after the other, into got; their length. */
static size_t
joined(void)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < b.niov; i++) {
		memcpy(got + n, b.iov[i].iov_base, b.iov[i].iov_len);
		n += b.iov[i].iov_len;
	}
	return n;
}

/* from_ring - iovecs pointing into the ring that are at least min bytes long. */
static unsigned
from_ring(size_t min)
{
	unsigned i, k = 0;

	for (i = 0; i < b.niov; i++)
		if ((char *)b.iov[i].iov_base >= ring && (char *)b.iov[i].iov_base < ring + RING_BYTES &&
		    b.iov[i].iov_len >= min)
			k++;
	return k;
}

/* rests_ok - batch_copy_rest gives each record's bytes from offsets 0, 1, middle and last. */
static int
rests_ok(const struct transport *tp, int v2, uint32_t n)
{
	static char one[16384], rest[16384];
	size_t len, offs[4], k;
	uint32_t i;

	for (i = 0; i < n; i++) {
		len = wire(one, tp, v2, i);
		if (len != batch_rec_len(&b, i))
			return 0;
		offs[0] = 0;
		offs[1] = 1;
		offs[2] = len / 2;
		offs[3] = len - 1;
		for (k = 0; k < 4; k++) {
			batch_copy_rest(&b, i, offs[k], rest);
			if (memcmp(rest, one + offs[k], len - offs[k]) != 0)
				return 0;
		}
	}
	return 1;
}

/* check - build recs[0..n) for tp and v2; the joined iovecs are the wire bytes. */
static void
check(const char *what, const struct transport *tp, int v2, uint32_t n)
{
	size_t w = 0, g;
	uint32_t i;

	for (i = 0; i < n; i++)
		w += wire(want + w, tp, v2, i);
	batch_build(&b, tp, v2, recs, n);
	g = joined();
	tap_ok(g == w && b.total == w && memcmp(got, want, w) == 0 && b.mh.msg_iov == b.iov &&
	    b.mh.msg_iovlen == b.niov && rests_ok(tp, v2, n),
	    "%s, %s v%d: the %u iovecs send the %zu wire bytes of %u records in order; every rest copies right",
	    what, tp->name, v2 ? 2 : 1, b.niov, w, n);
}

static uint32_t
len_short(uint32_t i)
{
	return 20 + i % 90;
}

static uint32_t
len_mixed(uint32_t i)
{
	static const uint32_t sizes[] = { 1, 13, 100, 2047, 2049, 3000, 9000, 40, 600 };

	return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static uint32_t
len_kilo(uint32_t i)
{
	return 1000 + i % 3;
}

int
main(void)
{
	static const struct transport *const tps[] = { &transport_tcp, &transport_ws };
	unsigned t;
	int v2;

	tap_plan(16);
	for (t = 0; t < 2; t++)
		for (v2 = 0; v2 < 2; v2++) {
			lay_out(BATCH_RECS, len_short, 0);
			check("adjacent short records", tps[t], v2, BATCH_RECS);
			lay_out(BATCH_RECS, len_mixed, 5);
			check("1 byte to 9 kB with gaps", tps[t], v2, BATCH_RECS);
		}
	lay_out(BATCH_RECS, len_short, 0);
	batch_build(&b, &transport_tcp, 0, recs, BATCH_RECS);
	tap_ok(b.niov == 1 && b.iov[0].iov_base == ring, "TCP v1, adjacent records: one iovec, the ring's own bytes");
	batch_build(&b, &transport_ws, 0, recs, BATCH_RECS);
	tap_ok(b.niov <= 2 && from_ring(1) == 0,
	    "WebSocket, %u short records: %u iovec(s) of copied bytes, not one per head and payload",
	    BATCH_RECS, b.niov);
	batch_build(&b, &transport_tcp, 1, recs, BATCH_RECS);
	tap_ok(b.niov <= 2, "TCP v2, %u short records: %u iovec(s), not one per seq", BATCH_RECS, b.niov);
	lay_out(BATCH_RECS, len_mixed, 5);
	batch_build(&b, &transport_ws, 1, recs, BATCH_RECS);
	tap_ok(from_ring(BATCH_SHORT + 1) >= 2 * (BATCH_RECS / 9),
	    "records longer than %d bytes still go out from the ring (%u iovecs of them)", BATCH_SHORT,
	    from_ring(BATCH_SHORT + 1));
	lay_out(BATCH_RECS, len_kilo, 1);
	batch_build(&b, &transport_ws, 0, recs, BATCH_RECS);
	tap_ok(b.niov > 2 && from_ring(900) > 0 && (size_t)(BATCH_RECS - from_ring(900)) * 1004 <= BATCH_FLAT + 1004,
	    "past the %d bytes of room, the rest stays as it was (%u iovecs, %u from the ring)",
	    BATCH_FLAT, b.niov, from_ring(900));
	check("a kilobyte each, more than the room", &transport_ws, 0, BATCH_RECS);
	lay_out(3, len_short, 1);
	check("three records with gaps", &transport_tcp, 0, 3);
	lay_out(1, len_mixed, 0);
	check("one record of 1 byte", &transport_ws, 1, 1);
	return tap_done();
}
