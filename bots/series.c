/*
 * bots/series.c - the curves a picture draws, from a run or its report.
 *
 * Owns: turning this run's figures into a struct plot_series exactly as
 * the JSON line prints them, and reading that line back from a file: the
 * last line that starts with '{', checked by proto/json.c, then the few
 * members a curve needs. Every read is bounded (file size, rows) and every
 * malformed case says what is wrong.
 * Must not draw or write reports.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bots/series.h"
#include "bots/util.h"
#include "proto/json.h"

#define SERIES_FILE_MAX (64u << 20)
#define SERIES_ROWS_MAX 1000000u
#define SERIES_MS_MAX 1e9       /* a latency beyond 11 days is no latency */
#define SERIES_READ 65536

/* series_blank - S named LABEL, with the report's quantiles and no data. */
static void
series_blank(struct plot_series *s, const char *label)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", label);
	for (i = 0; i < PLOT_MAX_Q &&
	    (s->qkey[i] = report_quantile(i, &s->q[i])) != NULL; i++)
		;
	s->nq = i;
}

int
series_from_report(struct plot_series *s, const struct report *r,
    const char *label)
{
	const struct bots_opts *o = r->o;
	struct hist_rows rows;
	unsigned i;

	series_blank(s, label);
	snprintf(s->mode, sizeof(s->mode), "%s", report_mode(o));
	s->floor = o->floor;
	s->writers = o->writers;
	s->clients = o->clients;
	s->messages = r->messages;
	s->rate = o->rate;
	s->duration_s = o->duration_s;
	s->n = r->mono.n;
	for (i = 0; i < s->nq; i++)
		s->qms[i] = (double)hist_quantile(&r->mono, s->q[i]) / 1000.0;
	if (report_rows(r, &r->mono, &rows) < 0)
		return -1;
	s->bucket_ms = (double)rows.width_us / 1000.0;
	s->start_ms = (double)rows.start_us / 1000.0;
	s->nrows = rows.nrows;
	s->counts = rows.count;
	return 0;
}

void
series_free(struct plot_series *s)
{
	free(s->counts);
	s->counts = NULL;
	s->nrows = 0;
}

/* series_slurp - all of PATH, NUL-terminated, at most SERIES_FILE_MAX bytes. */
static char *
series_slurp(const char *path, size_t *len, time_t *mtime)
{
	struct stat st;
	size_t cap = 0, n;
	char *buf = NULL, *nb;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		util_err("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	*mtime = fstat(fileno(f), &st) == 0 ? st.st_mtime : 0;
	*len = 0;
	for (;;) {
		if (cap - *len < SERIES_READ + 1) {
			if (cap > SERIES_FILE_MAX ||
			    (nb = realloc(buf, cap * 2 + SERIES_READ + 1)) == NULL) {
				util_err("%s: %s", path, cap > SERIES_FILE_MAX ?
				    "too large for a janus-bots report" : "out of memory");
				break;
			}
			buf = nb;
			cap = cap * 2 + SERIES_READ + 1;
		}
		n = fread(buf + *len, 1, SERIES_READ, f);
		*len += n;
		if (n == 0) {
			if (ferror(f))
				util_err("reading %s failed: %s", path, strerror(errno));
			else {
				fclose(f);
				buf[*len] = '\0';
				return buf;
			}
			break;
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

/* series_last_json - the last line of BUF that starts with '{'; NULL if none. */
static const char *
series_last_json(const char *buf, size_t len, size_t *line_len)
{
	const char *line = NULL, *p = buf, *end = buf + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (*p == '{') {
			line = p;
			*line_len = (size_t)(nl - p);
		}
		p = nl + 1;
	}
	return line;
}

/* series_num - a JSON number as a double in [0, SERIES_MS_MAX]; -1 if it is not. */
static int
series_num(const struct json_span *v, double *out)
{
	char text[64], *end;

	if (v->type != JSON_NUMBER || v->len >= sizeof(text))
		return -1;
	memcpy(text, v->p, v->len);
	text[v->len] = '\0';
	*out = strtod(text, &end);
	return *end == '\0' && *out >= 0 && *out <= SERIES_MS_MAX ? 0 : -1;
}

/* series_uint - a JSON whole number that fits an unsigned; -1 if it is not. */
static int
series_uint(const struct json_span *v, unsigned *out)
{
	uint64_t u;

	if (v->type != JSON_NUMBER || json_uint(v, &u) < 0 || u > UINT_MAX)
		return -1;
	*out = (unsigned)u;
	return 0;
}

/* series_counts - the histogram's counts array: whole numbers only. */
static int
series_counts(struct plot_series *s, const char *path, const struct json_span *v)
{
	const char *p = v->p + 1, *end = v->p + v->len - 1;
	size_t cap = 1;
	uint64_t c;

	for (; p < end; p++)
		cap += *p == ',';
	if (cap > SERIES_ROWS_MAX) {
		util_err("%s: more than %u histogram rows", path, SERIES_ROWS_MAX);
		return -1;
	}
	free(s->counts);
	if ((s->counts = calloc(cap, sizeof(*s->counts))) == NULL) {
		util_err("%s: out of memory", path);
		return -1;
	}
	s->nrows = 0;
	s->n = 0;
	for (p = v->p + 1; p < end; p++) {
		p += strspn(p, " \t\r\n");
		if (p == end && s->nrows == 0)
			break;
		for (c = 0; p < end && *p >= '0' && *p <= '9'; p++) {
			if (c > (UINT64_MAX - 9) / 10)
				break;
			c = c * 10 + (uint64_t)(*p - '0');
		}
		p += strspn(p, " \t\r\n");
		if ((p < end && *p != ',') || s->n + c < s->n) {
			util_err("%s: histogram counts must be whole numbers", path);
			return -1;
		}
		s->counts[s->nrows++] = c;
		s->n += c;
	}
	return 0;
}

/* series_hist - {"bucket_ms":..,"start_ms":..,"counts":[..]}. */
static int
series_hist(struct plot_series *s, const char *path, const struct json_span *v)
{
	struct json_iter it;
	struct json_span k, m;
	int r, have = 0;

	json_object_begin(&it, v->p, v->len);
	while ((r = json_object_next(&it, &k, &m)) == 1) {
		if (json_str_eq(&k, "bucket_ms"))
			have |= series_num(&m, &s->bucket_ms) == 0 &&
			    s->bucket_ms > 0 ? 1 : 8;
		else if (json_str_eq(&k, "start_ms"))
			have |= series_num(&m, &s->start_ms) == 0 ? 2 : 8;
		else if (json_str_eq(&k, "counts") && m.type == JSON_ARRAY) {
			if (series_counts(s, path, &m) < 0)
				return -1;
			have |= 4;
		}
	}
	if (have != 7) {
		util_err("%s: " REPORT_KEY_SEND_HIST " wants a positive bucket_ms, "
		    "start_ms and counts", path);
		return -1;
	}
	return 0;
}

/* series_quantiles - {"min":..,"median":..,...}: every quantile, in order. */
static int
series_quantiles(struct plot_series *s, const char *path,
    const struct json_span *v)
{
	struct json_iter it;
	struct json_span k, m;
	unsigned i, have = 0;

	json_object_begin(&it, v->p, v->len);
	while (json_object_next(&it, &k, &m) == 1)
		for (i = 0; i < s->nq; i++)
			if (json_str_eq(&k, s->qkey[i]) &&
			    series_num(&m, &s->qms[i]) == 0)
				have |= 1u << i;
	for (i = 0; i < s->nq; i++) {
		if (!(have & 1u << i)) {
			util_err("%s: " REPORT_KEY_SEND_LATENCY " has no %s in ms",
			    path, s->qkey[i]);
			return -1;
		}
		if (i > 0 && s->qms[i] < s->qms[i - 1]) {
			util_err("%s: " REPORT_KEY_SEND_LATENCY "'s %s is below its %s",
			    path, s->qkey[i], s->qkey[i - 1]);
			return -1;
		}
	}
	return 0;
}

/* series_member - one top-level member of the report; -1 if it is malformed. */
static int
series_member(struct plot_series *s, const char *path,
    const struct json_span *k, const struct json_span *v, int *have_q)
{
	long n;

	if (json_str_eq(k, "mode")) {
		n = v->type == JSON_STRING ?
		    json_str_decode(v, s->mode, sizeof(s->mode) - 1) : -1;
		if (n < 0)
			return -1;
		s->mode[n] = '\0';
		return 0;
	}
	if (json_str_eq(k, "floor")) {
		s->floor = v->type == JSON_TRUE;
		return v->type == JSON_TRUE || v->type == JSON_FALSE ? 0 : -1;
	}
	if (json_str_eq(k, "writers"))
		return series_uint(v, &s->writers);
	if (json_str_eq(k, "n"))
		return series_uint(v, &s->clients);
	if (json_str_eq(k, "messages"))
		return series_uint(v, &s->messages);
	if (json_str_eq(k, "rate"))
		return series_num(v, &s->rate);
	if (json_str_eq(k, "duration_s"))
		return series_num(v, &s->duration_s);
	if (json_str_eq(k, REPORT_KEY_SEND_LATENCY) && v->type == JSON_OBJECT) {
		*have_q = 1;
		return series_quantiles(s, path, v) < 0 ? -2 : 0;
	}
	if (json_str_eq(k, REPORT_KEY_SEND_HIST))
		return v->type == JSON_OBJECT && series_hist(s, path, v) < 0 ? -2 : 0;
	return 0;
}

/* series_parse - the members a curve needs from the report line. */
static int
series_parse(struct plot_series *s, const char *path, const char *line,
    size_t len)
{
	struct json_iter it;
	struct json_span k, v;
	char key[32];
	int r, rc, have_q = 0;
	long kl;

	if (json_object_begin(&it, line, len) < 0) {
		util_err("%s: the report line is not a JSON object", path);
		return -1;
	}
	while ((r = json_object_next(&it, &k, &v)) == 1) {
		if ((rc = series_member(s, path, &k, &v, &have_q)) == -2)
			return -1;
		if (rc < 0) {
			kl = json_str_decode(&k, key, sizeof(key) - 1);
			key[kl > 0 ? kl : 0] = '\0';
			util_err("%s: the report's %s has the wrong type or range",
			    path, key);
			return -1;
		}
	}
	if (r < 0) {
		util_err("%s: the report line is malformed JSON at byte %zu: %s",
		    path, it.err_off, json_strerror(it.err));
		return -1;
	}
	if (s->counts == NULL) {
		util_err("%s: the report has no " REPORT_KEY_SEND_HIST, path);
		return -1;
	}
	if (s->n > 0 && !have_q) {
		util_err("%s: the report has deliveries but no "
		    REPORT_KEY_SEND_LATENCY, path);
		return -1;
	}
	return 0;
}

int
series_read(struct plot_series *s, const char *spec, time_t *mtime)
{
	const char *eq = strchr(spec, '='), *path = eq != NULL ? eq + 1 : spec;
	const char *line;
	char label[PLOT_LABEL];
	size_t len, llen = 0;
	char *buf;
	int rc = -1;

	snprintf(label, sizeof(label), "%.*s", eq != NULL ? (int)(eq - spec) : 0,
	    spec);
	series_blank(s, label);
	if ((buf = series_slurp(path, &len, mtime)) == NULL)
		return -1;
	if ((line = series_last_json(buf, len, &llen)) == NULL)
		util_err("%s: no JSON report line (janus-bots --json writes one)",
		    path);
	else
		rc = series_parse(s, path, line, llen);
	free(buf);
	if (rc < 0) {
		series_free(s);
		return -1;
	}
	if (s->label[0] == '\0')
		snprintf(s->label, sizeof(s->label), "%s", s->floor ? "floor" :
		    "server");
	return 0;
}
