/*
 * t/tstream.c - a numbered message stream for the worker-kill tests.
 *
 * Owns: the publisher's rate and acks, the receivers' records, and the
 * exactly-once-in-order check (t/tstream.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "t/tstream.h"

int
tstream_init(struct tstream *s, struct tc *pub, const char *prefix, unsigned ntopics,
    unsigned total, unsigned per_ms)
{
	memset(s, 0, sizeof(*s));
	s->pub = pub;
	s->prefix = prefix;
	s->ntopics = ntopics;
	s->total = total;
	s->per_ms = per_ms;
	s->start = tlib_ms();
	s->ack_seq = calloc(total, sizeof(*s->ack_seq));
	return s->ack_seq != NULL ? 0 : -1;
}

void
tstream_free(struct tstream *s)
{
	free(s->ack_seq);
	s->ack_seq = NULL;
}

void
tstream_publish(struct tstream *s)
{
	uint64_t due = (tlib_ms() - s->start) * s->per_ms;
	char buf[32768];
	size_t len = 0;

	while (s->sent < due && s->sent < s->total && len + 128 < sizeof(buf)) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "{\"action\":\"publish\",\"topic\":\"%s%u\",\"n\":%u,\"data\":\"message %u\",\"ack\":true}",
		    s->prefix, s->sent % s->ntopics, s->sent, s->sent) + 1;
		s->sent++;
	}
	if (len > 0 && tc_send(s->pub, buf, len) < 0)
		s->dead = 1;
}

void
tstream_acks(struct tstream *s)
{
	char f[512];
	long n;
	long long seq;

	while (!s->dead && (n = tc_frame(s->pub, f, sizeof(f), 0)) != -1) {
		if (n == -2) {
			s->dead = 1;
			break;
		}
		seq = tc_num_after(f, "{\"published\":{\"seq\":");
		if (seq > 0 && s->acked < s->total && strncmp(f, "{\"published\"", 12) == 0) {
			s->ack_seq[s->acked++] = (uint64_t)seq;
		} else if (strcmp(f, "PING") != 0) {
			s->errors++;
			if (s->note[0] == '\0')
				snprintf(s->note, sizeof(s->note), "%.150s", f);
		}
	}
}

unsigned
tstream_count(const struct tstream *s, unsigned topic)
{
	return s->total / s->ntopics + (topic < s->total % s->ntopics);
}

int
tstream_record(const struct tstream *s, struct tstream_recv *r, unsigned topic, const char *f)
{
	long long seq = tc_num_after(f, "],\"seq\":"), num = tc_num_after(f, "\"n\":");
	char want[64];

	snprintf(want, sizeof(want), "\"topic\":\"%s%u\"", s->prefix, topic);
	if (seq <= 0 || num < 0 || strstr(f, want) == NULL)
		return -1;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->seq = realloc(r->seq, r->cap * sizeof(*r->seq));
		r->num = realloc(r->num, r->cap * sizeof(*r->num));
		if (r->seq == NULL || r->num == NULL)
			tap_bail("out of memory");
	}
	r->seq[r->n] = (uint32_t)seq;
	r->num[r->n++] = (uint32_t)num;
	r->last = (uint64_t)seq;
	return 0;
}

void
tstream_recv_free(struct tstream_recv *r)
{
	free(r->seq);
	free(r->num);
	memset(r, 0, sizeof(*r));
}

int
tstream_check(const struct tstream *s, const struct tstream_recv *r, unsigned topic,
    struct tstream_tally *t)
{
	uint64_t prev = 0, maxseq = s->acked ? s->ack_seq[s->acked - 1] : 0;
	uint16_t *count = calloc(maxseq + 1, sizeof(*count));
	size_t i;

	if (count == NULL)
		return -1;
	t->clients++;
	for (i = 0; i < r->n; i++) {
		uint32_t seq = r->seq[i], n = r->num[i];
		int acked = n < s->acked && s->ack_seq[n] == seq;

		t->disorder += seq <= prev;
		prev = seq;
		if (!acked || n % s->ntopics != topic) {
			t->corrupt += !acked;
			t->extra++;
			continue;
		}
		count[seq]++;
	}
	for (i = topic; i < s->acked; i += s->ntopics) {
		uint16_t c = count[s->ack_seq[i]];

		t->lost += c == 0;
		t->dup += c > 1 ? c - 1u : 0;
	}
	free(count);
	return 0;
}

int
tstream_clean(const struct tstream_tally *t)
{
	return t->clients > 0 && t->lost + t->dup + t->disorder + t->extra == 0;
}
