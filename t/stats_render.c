/*
 * t/stats_render.c - unit test for shm/stats.c on a real shared segment.
 *
 * Owns: setting every worker counter of a test segment (t/tseg.h) to a
 * known value, publishing a few records and noting fan-out delays, then
 * checking what the snapshot renders: the JSON of /stats and janusd -s
 * is valid (proto/json.c), carries each number set, sums the workers in
 * its totals and keeps the members the older tests read; the /metrics
 * text passes a line-by-line reading of the exposition format 0.0.4
 * (HELP and TYPE before samples, names, labels, _total counters,
 * cumulative histograms ending in le="+Inf" equal to _count), which
 * prometheus_client's parser reads the same way when python3 has it, and
 * has the numbers; the cluster bridge's counters show only with a
 * cluster; a buffer too small gives -1 and nothing written past it; the
 * STATS_*_MAX bounds hold with every value at its widest.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "proto/json.h"
#include "shm/stats.h"
#include "t/tap.h"
#include "t/tseg.h"

/* Every counter's JSON key, as janusd(8) documents them; shm_stats fields but the _tcp ones. */
static const char *const keys[STATS_NCOUNTERS] = {
	"conns", "conns_tcp", "conns_ws", "conns_http", "accepted", "accepted_tcp",
	"accepted_http", "upgrades", "http_requests", "subs", "published", "delivered",
	"bytes_in", "bytes_out", "errors", "slow", "refused", "refused_addr", "quota",
	"table_full", "auth_failed", "auth_delayed", "idle_closed", "frame_memory",
	"bad_members", "paced", "paced_ms", "pace_forced", "stall_cut", "stall_skip", "wakeups",
};

#define REC_LEN 100
#define NRECS   3
#define BIG     (1u << 20)

static char out[BIG];

/* --- the segment's values --- */

/* value - what the test sets counter key of worker w to (the _tcp ones follow). */
static uint64_t
value(unsigned w, const char *key)
{
	if (strcmp(key, "conns") == 0)
		return 10 + w;
	if (strcmp(key, "conns_ws") == 0)
		return 3;
	if (strcmp(key, "conns_http") == 0)
		return 2;
	if (strcmp(key, "accepted") == 0)
		return 40 + w;
	if (strcmp(key, "accepted_http") == 0)
		return 15;
	if (strcmp(key, "conns_tcp") == 0)
		return 5 + w;
	if (strcmp(key, "accepted_tcp") == 0)
		return 25 + w;
	/* distinct per key and worker, one above 2^32 */
	return (w + 1) * 1000 + (uint64_t)strlen(key) * 7 + (strcmp(key, "bytes_out") == 0) * (UINT64_C(1) << 40);
}

/* stats_field - worker w's shm_stats counter key (no _tcp: those are derived). */
static _Atomic uint64_t *
stats_field(struct shm_stats *st, const char *key)
{
#define FIELD(name) if (strcmp(key, #name) == 0) return &st->name
	FIELD(conns); FIELD(conns_ws); FIELD(conns_http); FIELD(accepted); FIELD(accepted_http);
	FIELD(upgrades); FIELD(http_requests); FIELD(subs); FIELD(published); FIELD(delivered);
	FIELD(bytes_in); FIELD(bytes_out); FIELD(errors); FIELD(slow); FIELD(refused);
	FIELD(refused_addr); FIELD(quota); FIELD(table_full); FIELD(auth_failed);
	FIELD(auth_delayed); FIELD(idle_closed); FIELD(frame_memory); FIELD(bad_members);
	FIELD(paced); FIELD(paced_ms); FIELD(pace_forced); FIELD(stall_cut); FIELD(stall_skip);
	FIELD(wakeups);
#undef FIELD
	return NULL;
}

/* Fan-out delays noted on worker 0: two at 5 µs or less, one in (5,10], one in (10 ms, 25 ms], one above 10 s. */
static const uint64_t delays[] = { 3, 5, 6, 20000, 20000000 };

static void
seg_fill(void)
{
	struct ring_meta meta = { .topic = 1 };
	unsigned w, i;

	for (w = 0; w < 2; w++) {
		struct shm_worker *sw = shm_worker(&seg, w);

		atomic_store(&sw->pid, 1000 + (int)w);
		atomic_store(&sw->restarts, 7 * w);
		atomic_store(&sw->started_ms, seg.hdr->started_ms + 5);
		atomic_store(&sw->write_path, w == 0 ? SHM_WPATH_SEND : SHM_WPATH_URING);
		for (i = 0; i < STATS_NCOUNTERS; i++)
			if (stats_field(&sw->stats, keys[i]) != NULL)
				atomic_store(stats_field(&sw->stats, keys[i]), value(w, keys[i]));
	}
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		stats_delay_note(&shm_worker(&seg, 0)->stats, delays[i]);
	if (shm_lock(&seg) < 0)
		tap_bail("shm_lock failed");
	for (i = 0; i < NRECS; i++) {
		seg_record_fill(ring_reserve_locked(&seg.ring, REC_LEN), i + 1, REC_LEN);
		ring_commit_locked(&seg.ring, REC_LEN, &meta);
	}
	shm_unlock(&seg);
}

/* --- reading the JSON back --- */

/* obj_end - the '}' closing the object at p (no braces in our strings: checked valid first). */
static const char *
obj_end(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++)
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	return NULL;
}

/* member - the value of top-level member key of the object [p, end], or 0 length. */
static struct json_span
member(const char *p, const char *end, const char *key)
{
	struct json_span k, v = { NULL, 0, JSON_NONE, 0 };
	struct json_iter it;

	if (json_object_begin(&it, p, (size_t)(end - p + 1)) < 0)
		return v;
	while (json_object_next(&it, &k, &v) == 1)
		if (json_str_eq(&k, key))
			return v;
	v.len = 0;
	return v;
}

/* num - member key of object p as a number, or -1 (tests use no value near 2^63). */
static long long
num(const char *p, const char *key)
{
	struct json_span v;
	uint64_t n;

	if (p == NULL)
		return -1;
	v = member(p, obj_end(p), key);
	return v.len > 0 && json_uint(&v, &n) == 0 ? (long long)n : -1;
}

/* sub - the object that is member key of p. */
static const char *
sub(const char *p, const char *key)
{
	struct json_span v;

	if (p == NULL)
		return NULL;
	v = member(p, obj_end(p), key);
	return v.len > 0 && v.type == JSON_OBJECT ? v.p : NULL;
}

/* worker - the element of "workers" for slot (elements start with their slot). */
static const char *
worker(const char *json, unsigned slot)
{
	char key[32];

	snprintf(key, sizeof(key), "{\"slot\":%u,", slot);
	return strstr(json, key);
}

static void
test_json(const struct stats_snap *sn)
{
	const char *w[2], *tot, *ring, *p;
	char want[256];
	long n = stats_json(sn, out, sizeof(out));
	size_t err_off = 0;
	unsigned i, k, bad;

	tap_ok(n > 0 && (size_t)n == strlen(out) && out[n - 1] == '\n', "JSON: rendered (%ld bytes), one line", n);
	tap_ok(json_validate(out, (size_t)n, &err_off) == JSON_OK && out[0] == '{',
	    "JSON: one valid object (proto/json.c: %s at %zu)",
	    json_strerror(json_validate(out, (size_t)n, NULL)), err_off);
	snprintf(want, sizeof(want), "{\"port\":%u,\"uid\":%u,\"master_pid\":%d,\"epoch\":\"%s\","
	    "\"ring\":{\"head\":%d,\"tail\":1,\"size\":%llu,", seg.hdr->port, (unsigned)seg.uid,
	    (int)atomic_load(&seg.hdr->master_pid), seg.hdr->epoch, NRECS,
	    (unsigned long long)seg.hdr->data_size);
	tap_ok(strncmp(out, want, strlen(want)) == 0, "JSON: starts as janusd -s always did: %s", want);
	ring = sub(out, "ring");
	tap_ok(num(ring, "used") == NRECS * REC_LEN && num(ring, "records") == NRECS &&
	    num(ring, "slots") == seg.hdr->nslots, "JSON: ring used %lld bytes, %lld records, %lld slots",
	    num(ring, "used"), num(ring, "records"), num(ring, "slots"));
	tap_ok(num(out, "nworkers") == 2 && num(out, "workers_up") == 2 &&
	    num(out, "started_ms") == (long long)seg.hdr->started_ms &&
	    num(out, "now_ms") == (long long)sn->now_ms && num(out, "uptime_s") == 3,
	    "JSON: workers, start, now and uptime");
	tap_ok(num(sub(out, "topic_table"), "max") == 16 && num(sub(out, "addresses"), "max") > 0,
	    "JSON: the topic and address tables");
	w[0] = worker(out, 0);
	w[1] = worker(out, 1);
	tap_ok(w[0] != NULL && w[1] != NULL && num(w[0], "pid") == 1000 && num(w[1], "pid") == 1001 &&
	    num(w[1], "restarts") == 7 && strncmp(w[1], "{\"slot\":1,\"pid\":1001,\"restarts\":7,", 34) == 0,
	    "JSON: each worker starts with slot, pid, restarts");
	for (bad = 0, k = 0; k < 2; k++)
		for (i = 0; i < STATS_NCOUNTERS; i++)
			if (num(w[k], keys[i]) != (long long)value(k, keys[i])) {
				if (bad++ == 0)
					tap_diag("worker %u %s: got %lld, want %llu", k, keys[i],
					    num(w[k], keys[i]), (unsigned long long)value(k, keys[i]));
			}
	tap_is_int(bad, 0, "JSON: every counter of both workers has the value set (conns_tcp, accepted_tcp derived)");
	tot = sub(out, "totals");
	for (bad = 0, i = 0; i < STATS_NCOUNTERS; i++)
		bad += num(tot, keys[i]) != num(w[0], keys[i]) + num(w[1], keys[i]);
	tap_ok(bad == 0 && num(tot, "restarts") == 7, "JSON: totals are the sums of the workers");
	p = strstr(w[0], "\"delivered\":");
	tap_ok(p != NULL && memchr(w[0], '}', (size_t)(p - w[0])) == NULL && p < w[1],
	    "JSON: no nested object inside a worker before its counters (t/fanout_10k.sh's sed)");
	p = sub(out, "fanout_delay");
	tap_ok(num(p, "count") == 5 && num(p, "sum_us") == 20020014, "JSON: fan-out delay count and sum (%lld, %lld)",
	    num(p, "count"), num(p, "sum_us"));
	tap_ok(strstr(out, "\"counts\":[2,1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1]") != NULL &&
	    strstr(out, "\"le_us\":[5,10,25,50,100,250,500,1000,2500,5000,10000,25000,50000,100000,"
	    "250000,500000,1000000,2500000,5000000,10000000]") != NULL,
	    "JSON: fan-out delay buckets");
}

/* --- reading the exposition format back, line by line --- */

struct family {
	char name[96];
	char type[16];
	int by_worker;               /* -1 until its first sample: whether samples have a worker label */
};

struct expo {
	struct family fam[128];
	unsigned nfam;
	const char *err;             /* the first problem */
	const char *at;              /* its line */
	unsigned line;
	unsigned samples;
	/* the histogram series being read */
	char hworker[16];
	double hle;
	unsigned long long hcum;
	int hinf;
};

static int
is_name(const char *p, size_t n, int colon)
{
	size_t i;

	if (n == 0 || !(isalpha((unsigned char)p[0]) || p[0] == '_' || (colon && p[0] == ':')))
		return 0;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '_' || (colon && p[i] == ':')))
			return 0;
	return 1;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* expo_comment - a HELP or TYPE line; TYPE starts a family, right after its HELP. */
static const char *
expo_comment(struct expo *e, const char *line, const char *prev)
{
	char kind[8], name[96], rest[512];
	unsigned i;

	if (sscanf(line, "# %7s %95s %511[^\n]", kind, name, rest) != 3)
		return "a comment that is not '# HELP name text' or '# TYPE name type'";
	if (!is_name(name, strlen(name), 1))
		return "a bad metric name";
	if (strcmp(kind, "HELP") == 0)
		return NULL;
	if (strcmp(kind, "TYPE") != 0)
		return "a comment other than HELP and TYPE";
	if (prev == NULL || strncmp(prev, "# HELP ", 7) != 0 || strncmp(prev + 7, name, strlen(name)) != 0 ||
	    prev[7 + strlen(name)] != ' ')
		return "a TYPE not right after its family's HELP";
	for (i = 0; i < e->nfam; i++)
		if (strcmp(e->fam[i].name, name) == 0)
			return "a family given twice";
	if (strcmp(rest, "counter") != 0 && strcmp(rest, "gauge") != 0 && strcmp(rest, "histogram") != 0)
		return "a type this server does not use";
	if ((strcmp(rest, "counter") == 0) != ends_with(name, "_total"))
		return "a counter not ending in _total, or a _total that is not a counter";
	if (e->nfam == sizeof(e->fam) / sizeof(e->fam[0]))
		return "too many families";
	snprintf(e->fam[e->nfam].name, sizeof(e->fam[0].name), "%s", name);
	snprintf(e->fam[e->nfam].type, sizeof(e->fam[0].type), "%.15s", rest);
	e->fam[e->nfam].by_worker = -1;
	e->nfam++;
	e->hworker[0] = '\0';
	return NULL;
}

/* expo_labels - {name="value",...}; the worker and le values are kept. */
static const char *
expo_labels(const char **pp, char *worker_v, size_t wcap, char *le, size_t lecap)
{
	const char *p = *pp + 1, *n;
	size_t len;
	char *dst;
	size_t cap;

	worker_v[0] = le[0] = '\0';
	for (;;) {
		for (n = p; *n != '=' && *n != '\0' && *n != '\n'; n++)
			;
		if (*n != '=' || !is_name(p, (size_t)(n - p), 0) || n[1] != '"')
			return "a label that is not name=\"value\"";
		dst = (size_t)(n - p) == 6 && strncmp(p, "worker", 6) == 0 ? worker_v :
		    (size_t)(n - p) == 2 && strncmp(p, "le", 2) == 0 ? le : NULL;
		cap = dst == worker_v ? wcap : lecap;
		for (p = n + 2, len = 0; *p != '"'; p++) {
			if (*p == '\n' || *p == '\0')
				return "an unterminated label value";
			if (*p == '\\' && (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
				return "a bad escape in a label value";
			p += *p == '\\';
			if (dst != NULL && len + 1 < cap)
				dst[len++] = *p;
		}
		if (dst != NULL)
			dst[len] = '\0';
		p++;
		if (*p == '}')
			break;
		if (*p != ',')
			return "labels not separated by commas";
		p++;
	}
	*pp = p + 1;
	return NULL;
}

/* expo_histogram - one sample of a histogram family: buckets rising and cumulative, then _sum, _count. */
static const char *
expo_histogram(struct expo *e, const char *suffix, const char *w, const char *le, double v)
{
	if (strcmp(suffix, "_bucket") == 0) {
		double bound = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL);

		if (le[0] == '\0')
			return "a bucket without le";
		if (strcmp(e->hworker, w) != 0) {
			snprintf(e->hworker, sizeof(e->hworker), "%s", w);
			e->hle = -INFINITY;
			e->hcum = 0;
			e->hinf = 0;
		}
		if (e->hinf || !(bound > e->hle) || v < (double)e->hcum)
			return "buckets not rising in le, or not cumulative, or after +Inf";
		e->hle = bound;
		e->hcum = (unsigned long long)v;
		e->hinf = isinf(bound);
		return NULL;
	}
	if (strcmp(e->hworker, w) != 0 || !e->hinf)
		return "a _sum or _count before the series' buckets ended with le=\"+Inf\"";
	if (strcmp(suffix, "_count") == 0 && (unsigned long long)v != e->hcum)
		return "a _count other than its +Inf bucket";
	return NULL;
}

/* expo_sample - name{labels} value, of the family opened last. */
static const char *
expo_sample(struct expo *e, const char *line)
{
	struct family *f = e->nfam ? &e->fam[e->nfam - 1] : NULL;
	char name[128], w[16], le[32];
	const char *p = line, *suffix;
	size_t n;
	double v;
	char *end;

	while (*p != '{' && *p != ' ' && *p != '\n' && *p != '\0')
		p++;
	n = (size_t)(p - line);
	if (!is_name(line, n, 1) || n >= sizeof(name))
		return "a sample with a bad metric name";
	memcpy(name, line, n);
	name[n] = '\0';
	if (f == NULL || strncmp(name, f->name, strlen(f->name)) != 0)
		return "a sample outside its family (or before its TYPE)";
	suffix = name + strlen(f->name);
	if (strcmp(f->type, "histogram") == 0 ? strcmp(suffix, "_bucket") != 0 &&
	    strcmp(suffix, "_sum") != 0 && strcmp(suffix, "_count") != 0 : *suffix != '\0')
		return "a sample name its family's type does not allow";
	w[0] = le[0] = '\0';
	if (*p == '{') {
		const char *why = expo_labels(&p, w, sizeof(w), le, sizeof(le));

		if (why != NULL)
			return why;
	}
	if (*p != ' ')
		return "no space before the value";
	v = strtod(p + 1, &end);
	if (end == p + 1 || *end != '\n' || !(v >= 0))
		return "a value that is not one non-negative number ending the line";
	if (f->by_worker < 0)
		f->by_worker = w[0] != '\0';
	if (f->by_worker != (w[0] != '\0'))
		return "a family with some samples by worker and some not";
	e->samples++;
	return strcmp(f->type, "histogram") == 0 ? expo_histogram(e, suffix, w, le, v) : NULL;
}

/* expo_read - the whole text; 0, or -1 with e->err and e->line. */
static int
expo_read(struct expo *e, const char *text)
{
	const char *line = text, *prev = NULL, *nl;

	memset(e, 0, sizeof(*e));
	for (e->line = 1; *line != '\0'; e->line++, prev = line, line = nl + 1) {
		e->at = line;
		if ((nl = strchr(line, '\n')) == NULL)
			e->err = "the last line does not end with \\n";
		else if (nl == line)
			e->err = "an empty line";
		else if (line[0] == '#')
			e->err = expo_comment(e, line, prev);
		else
			e->err = expo_sample(e, line);
		if (e->err != NULL)
			return -1;
	}
	return 0;
}

/* has_line - the text has exactly this line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	if (strncmp(text, line, n) == 0 && text[n] == '\n')
		return 1;
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		if (strncmp(p + 1, line, n) == 0 && p[n + 1] == '\n')
			return 1;
	return 0;
}

/*
 * reference - how prometheus_client's own parser (Debian
 * python3-prometheus-client) reads the text: "FAMILIES SAMPLES" in got.
 * Returns the exit status: 0, 77 if no python3 has it, else an error
 * (its message in got).
 */
static int
reference(const char *text, char *got, size_t cap)
{
	static const char prog[] =
	    "import sys\n"
	    "from prometheus_client.parser import text_string_to_metric_families as read\n"
	    "try:\n"
	    "    fams = list(read(open(sys.argv[1]).read()))\n"
	    "except ValueError as e:\n"
	    "    sys.exit(print('error:', e))\n"
	    "print(len(fams), sum(len(f.samples) for f in fams))\n";
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	char path[512], cmd[1024];
	size_t n = strlen(text);
	int fd, status;
	FILE *p;

	got[0] = '\0';
	snprintf(path, sizeof(path), "%s/stats_render.XXXXXX", tmp);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) < 0 ||
	    setenv("STATS_RENDER_PY", prog, 1) < 0)
		tap_bail("cannot write %s", path);
	snprintf(cmd, sizeof(cmd), "for py in python3 /usr/bin/python3; do"
	    " \"$py\" -c 'import prometheus_client' 2>/dev/null &&"
	    " exec \"$py\" -c \"$STATS_RENDER_PY\" '%s' 2>&1; done; exit 77", path);
	p = popen(cmd, "r");
	if (p == NULL)
		tap_bail("popen failed");
	if (fgets(got, (int)cap, p) != NULL)
		got[strcspn(got, "\n")] = '\0';
	status = pclose(p);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_metrics(const struct stats_snap *sn)
{
	static const char *const want[] = {
		"janusd_workers 2",
		"janusd_ring_records 3",
		"janusd_ring_used_bytes 300",
		"janusd_ring_newest_seq 3",
		"janusd_ring_oldest_seq 1",
		"janusd_topics_max 16",
		"janusd_uptime_seconds 3.004",
		"janusd_worker_up{worker=\"1\"} 1",
		"janusd_worker_restarts_total{worker=\"1\"} 7",
		"janusd_worker_write_path{worker=\"0\",path=\"send\"} 1",
		"janusd_worker_write_path{worker=\"1\",path=\"io_uring\"} 1",
		"janusd_connections{worker=\"0\",transport=\"tcp\"} 5",
		"janusd_connections{worker=\"1\",transport=\"tcp\"} 6",
		"janusd_connections{worker=\"1\",transport=\"ws\"} 3",
		"janusd_connections{worker=\"1\",transport=\"http\"} 2",
		"janusd_connections_accepted_total{worker=\"1\",listener=\"janus\"} 26",
		"janusd_connections_accepted_total{worker=\"1\",listener=\"http\"} 15",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"0.000005\"} 2",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"0.00001\"} 3",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"0.01\"} 3",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"0.025\"} 4",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"10\"} 4",
		"janusd_fanout_delay_seconds_bucket{worker=\"0\",le=\"+Inf\"} 5",
		"janusd_fanout_delay_seconds_sum{worker=\"0\"} 20.020014",
		"janusd_fanout_delay_seconds_count{worker=\"0\"} 5",
		"janusd_fanout_delay_seconds_count{worker=\"1\"} 0",
	};
	static const struct {
		const char *key, *sample;
	} series[] = {
		{ "upgrades", "janusd_websocket_upgrades_total{worker=\"1\"}" },
		{ "http_requests", "janusd_http_requests_total{worker=\"1\"}" },
		{ "subs", "janusd_subscriptions{worker=\"1\"}" },
		{ "published", "janusd_messages_published_total{worker=\"1\"}" },
		{ "delivered", "janusd_messages_delivered_total{worker=\"1\"}" },
		{ "bytes_in", "janusd_received_bytes_total{worker=\"1\"}" },
		{ "bytes_out", "janusd_sent_bytes_total{worker=\"1\"}" },
		{ "errors", "janusd_error_frames_total{worker=\"1\"}" },
		{ "slow", "janusd_slow_consumers_total{worker=\"1\"}" },
		{ "refused", "janusd_connections_refused_total{worker=\"1\",reason=\"max_conns\"}" },
		{ "refused_addr", "janusd_connections_refused_total{worker=\"1\",reason=\"max_conns_per_ip\"}" },
		{ "quota", "janusd_subscriptions_refused_total{worker=\"1\",reason=\"max_topics_per_ip\"}" },
		{ "table_full", "janusd_topic_table_full_total{worker=\"1\"}" },
		{ "auth_failed", "janusd_auth_failures_total{worker=\"1\"}" },
		{ "auth_delayed", "janusd_auth_delayed_total{worker=\"1\"}" },
		{ "idle_closed", "janusd_idle_closed_total{worker=\"1\"}" },
		{ "frame_memory", "janusd_frame_memory_closed_total{worker=\"1\"}" },
		{ "bad_members", "janusd_bad_members_total{worker=\"1\"}" },
	};
	char line[200], ref[512];
	struct expo e;
	long n = stats_metrics(sn, out, sizeof(out));
	unsigned i, missing = 0;

	tap_ok(n > 0 && (size_t)n == strlen(out), "metrics: rendered (%ld bytes)", n);
	if (expo_read(&e, out) < 0)
		tap_diag("line %u: %.*s", e.line, (int)strcspn(e.at, "\n"), e.at);
	tap_ok(e.err == NULL, "metrics: every line reads as the exposition format 0.0.4 (%u families, %u samples)%s%s",
	    e.nfam, e.samples, e.err ? ": " : "", e.err ? e.err : "");
	snprintf(line, sizeof(line), "%u %u", e.nfam, e.samples);
	if (reference(out, ref, sizeof(ref)) == 77)
		tap_skip(1, "no python3 with prometheus_client (Debian: python3-prometheus-client)");
	else
		tap_is_str(ref, line, "metrics: prometheus_client's parser reads as many families and samples");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(out, want[i]) && missing++ == 0)
			tap_diag("missing: %s", want[i]);
	tap_is_int(missing, 0, "metrics: the values set, by worker and label");
	for (missing = 0, i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		snprintf(line, sizeof(line), "%s %llu", series[i].sample,
		    (unsigned long long)value(1, series[i].key));
		if (!has_line(out, line) && missing++ == 0)
			tap_diag("missing: %s", line);
	}
	tap_is_int(missing, 0, "metrics: every other counter of worker 1 under its name in janusd(8)");
}

/* --- bounds --- */

/* test_cap - every cap below the length gives -1 and leaves what follows cap untouched. */
static void
test_cap(const char *what, long (*render)(const struct stats_snap *, char *, size_t),
    const struct stats_snap *sn)
{
	static char buf[BIG + 64];
	long full = render(sn, out, sizeof(out)), got;
	size_t caps[6], i, j;
	unsigned bad = 0;

	caps[0] = 0;
	caps[1] = 1;
	caps[2] = (size_t)full / 2;
	caps[3] = (size_t)full - 1;
	caps[4] = (size_t)full;
	caps[5] = (size_t)full + 1;
	for (i = 0; i < 6; i++) {
		memset(buf, 0xa5, sizeof(buf));
		got = render(sn, buf, caps[i]);
		for (j = caps[i]; j < sizeof(buf); j++)
			bad += (unsigned char)buf[j] != 0xa5;
		if (i < 5)
			bad += got != -1;
		else
			bad += got != full || memcmp(buf, out, (size_t)full + 1) != 0;
	}
	tap_is_int(bad, 0, "%s: caps 0, 1, half, len-1, len give -1 and write nothing past cap; len+1 the whole", what);
}

/* widest - a snapshot of CONF_MAX_WORKERS slots with every value at its widest. */
static void
widest(struct stats_snap *sn, const struct stats_snap *from)
{
	unsigned i, k;

	*sn = *from;
	sn->port = 65535;
	sn->uid = UINT32_MAX;
	sn->master_pid = INT32_MIN;
	sn->now_ms = UINT64_MAX;
	sn->started_ms = 0;
	sn->head = sn->ring_size = sn->ring_used = sn->topics_evicted = UINT64_MAX;
	sn->tail = 1;
	sn->topics_refused = sn->addrs_untracked = UINT64_MAX;
	sn->ring_slots = sn->topics = sn->topics_max = sn->addrs = sn->addrs_max = UINT32_MAX;
	sn->nworkers = CONF_MAX_WORKERS;
	for (k = 0; k < CONF_MAX_WORKERS; k++) {
		sn->w[k].pid = INT32_MIN;
		sn->w[k].restarts = UINT32_MAX;
		sn->w[k].started_ms = UINT64_MAX;
		sn->w[k].write_path = SHM_WPATH_URING;
		for (i = 0; i < STATS_NCOUNTERS; i++)
			sn->w[k].v[i] = UINT64_MAX;
		for (i = 0; i < SHM_DELAY_BUCKETS; i++)
			sn->w[k].delay[i] = UINT64_MAX / SHM_DELAY_BUCKETS;
		sn->w[k].delay_sum_us = UINT64_MAX;
	}
	sn->bridge.on = 1;
	sn->bridge.pid = INT32_MIN;
	sn->bridge.restarts = UINT32_MAX;
	sn->bridge.link = SHM_LINK_CONNECTING;
	memset(sn->bridge.server, 'a', STATS_SERVER_MAX - 1);
	sn->bridge.server[STATS_SERVER_MAX - 1] = '\0';
	sn->bridge.done = UINT64_MAX;
	for (i = 0; i < STATS_BR_NCOUNTERS; i++)
		sn->bridge.v[i] = UINT64_MAX;
}

static void
test_bounds(const struct stats_snap *real)
{
	static struct stats_snap sn;
	static char buf[BIG];
	long j, m, l;
	size_t err_off;

	widest(&sn, real);
	j = stats_json(&sn, buf, STATS_JSON_MAX(CONF_MAX_WORKERS));
	tap_ok(j > 0 && json_validate(buf, (size_t)j, &err_off) == JSON_OK,
	    "JSON at its widest for %d workers: %ld bytes, within STATS_JSON_MAX (%zu), valid",
	    CONF_MAX_WORKERS, j, STATS_JSON_MAX(CONF_MAX_WORKERS));
	m = stats_metrics(&sn, buf, STATS_METRICS_MAX(CONF_MAX_WORKERS));
	tap_ok(m > 0, "metrics at their widest for %d workers: %ld bytes, within STATS_METRICS_MAX (%zu)",
	    CONF_MAX_WORKERS, m, STATS_METRICS_MAX(CONF_MAX_WORKERS));
	l = stats_log_line(&sn, CONF_MAX_WORKERS - 1, buf, STATS_LOG_MAX);
	tap_ok(l > 0, "log line at its widest: %ld bytes, within STATS_LOG_MAX (%d)", l, STATS_LOG_MAX);
	l = stats_log_bridge(&sn, buf, STATS_LOG_MAX);
	tap_ok(l > 0, "bridge log line at its widest: %ld bytes, within STATS_LOG_MAX (%d)", l, STATS_LOG_MAX);
	sn.nworkers = 1;
	j = stats_json(&sn, buf, STATS_JSON_MAX(1));
	m = stats_metrics(&sn, buf, STATS_METRICS_MAX(1));
	tap_ok(j > 0 && m > 0, "and for one worker: JSON %ld bytes (max %zu), metrics %ld (max %zu)",
	    j, STATS_JSON_MAX(1), m, STATS_METRICS_MAX(1));
}

/*
 * test_bridge - with `cluster` set, the bridge's counters: a "bridge"
 * member naming the server it is on, its families in /metrics, a log
 * line; without it, none of them.
 */
static void
test_bridge(void)
{
	static const char *const line[] = {
		"janusd_bridge_up 1",
		"janusd_bridge_restarts_total 3",
		"janusd_bridge_messages_total{direction=\"out\"} 11",
		"janusd_bridge_messages_total{direction=\"in\"} 12",
		"janusd_bridge_payload_bytes_total{direction=\"in\"} 14",
		"janusd_bridge_dropped_total{direction=\"out\"} 15",
		"janusd_bridge_malformed_total 17",
		"janusd_bridge_subjects 19",
	};
	static struct stats_snap sn;
	struct shm_bridge *br = &seg.hdr->bridge;
	struct expo e;
	char log[STATS_LOG_MAX];
	const char *b;
	size_t err_off, i;
	long n;
	int ok;

	stats_snap_take(&sn, &seg, seg.hdr->started_ms);
	n = stats_json(&sn, out, sizeof(out));
	ok = n > 0 && strstr(out, "\"bridge\"") == NULL && stats_log_bridge(&sn, log, sizeof(log)) == -1;
	stats_metrics(&sn, out, sizeof(out));
	tap_ok(ok && strstr(out, "janusd_bridge_") == NULL, "bridge: none shown without a cluster");
	snprintf(seg.hdr->conf.cluster, sizeof(seg.hdr->conf.cluster), "nats://127.0.0.1:4222, nats://[::1]:4223\"x nats://example.org");
	atomic_store(&br->pid, 4321);
	atomic_store(&br->restarts, 3);
	atomic_store(&br->done, 99);
	atomic_store(&br->stats.link, SHM_LINK_UP);
	atomic_store(&br->stats.server, 1);
	atomic_store(&br->stats.msgs_out, 11);
	atomic_store(&br->stats.msgs_in, 12);
	atomic_store(&br->stats.bytes_out, 13);
	atomic_store(&br->stats.bytes_in, 14);
	atomic_store(&br->stats.dropped_out, 15);
	atomic_store(&br->stats.dropped_in, 16);
	atomic_store(&br->stats.malformed, 17);
	atomic_store(&br->stats.reconnects, 18);
	atomic_store(&br->stats.subjects, 19);
	stats_snap_take(&sn, &seg, seg.hdr->started_ms);
	n = stats_json(&sn, out, sizeof(out));
	b = sub(out, "bridge");
	tap_ok(n > 0 && json_validate(out, (size_t)n, &err_off) == JSON_OK && b != NULL &&
	    num(b, "pid") == 4321 && num(b, "restarts") == 3 && num(b, "done") == 99 &&
	    num(b, "msgs_out") == 11 && num(b, "bytes_in") == 14 && num(b, "dropped_in") == 16 &&
	    num(b, "reconnects") == 18 && num(b, "subjects") == 19 &&
	    strstr(b, "\"link\":\"up\",\"server\":\"[::1]:4223\"") != NULL,
	    "bridge: JSON has its counters, link and server (the name ends at a character no URL has)");
	n = stats_metrics(&sn, out, sizeof(out));
	ok = n > 0 && expo_read(&e, out) == 0;
	for (i = 0; ok && i < sizeof(line) / sizeof(line[0]); i++)
		ok = has_line(out, line[i]);
	tap_ok(ok, "bridge: /metrics has its families, valid (%s)", i ? line[i - 1] : "");
	tap_ok(stats_log_bridge(&sn, log, sizeof(log)) > 0 &&
	    strncmp(log, "link up to [::1]:4223, done 99, msgs_out 11,", 44) == 0,
	    "bridge: log line (%.60s...)", log);
	atomic_store(&br->stats.server, 2);
	stats_snap_take(&sn, &seg, seg.hdr->started_ms);
	n = stats_json(&sn, out, sizeof(out));
	tap_ok(n > 0 && strstr(out, "\"server\":\"example.org:4222\"") != NULL,
	    "bridge: a server without a port shows NATS's own");
	seg.hdr->conf.cluster[0] = '\0';
}

/* test_delay_buckets - each bound belongs to its own bucket, one more µs to the next. */
static void
test_delay_buckets(void)
{
	static struct shm_stats st;
	unsigned i, bad = 0;
	uint64_t b;

	for (i = 0; i < STATS_DELAY_BOUNDS; i++) {
		b = stats_delay_bound(i);
		bad += i > 0 && b <= stats_delay_bound(i - 1);
		memset(&st, 0, sizeof(st));
		stats_delay_note(&st, b);
		bad += atomic_load(&st.delay_us[i]) != 1;
		stats_delay_note(&st, b + 1);
		bad += atomic_load(&st.delay_us[i + 1]) != 1 || atomic_load(&st.delay_sum_us) != 2 * b + 1;
	}
	memset(&st, 0, sizeof(st));
	stats_delay_note(&st, 0);
	stats_delay_note(&st, UINT64_MAX / 2);
	bad += atomic_load(&st.delay_us[0]) != 1 || atomic_load(&st.delay_us[SHM_DELAY_BUCKETS - 1]) != 1;
	tap_is_int(bad, 0, "stats_delay_note: %d rising bounds, each inclusive, 0 in the first bucket, the rest in the last",
	    STATS_DELAY_BOUNDS);
}

int
main(void)
{
	static struct stats_snap sn;
	struct ring_rec rec;
	static const char log_start[] = "conns 11, conns_tcp 6, conns_ws 3, conns_http 2, accepted 41,";
	char log[STATS_LOG_MAX];
	uint64_t before;

	tap_plan(36);
	seg_create();
	before = clock_mono_usec();
	seg_fill();
	tap_ok(ring_get(&seg.ring, NRECS, &rec) == 0 && rec.commit_us >= before &&
	    rec.commit_us <= clock_mono_usec(), "ring: a record carries its commit time (CLOCK_MONOTONIC)");
	test_delay_buckets();
	stats_snap_take(&sn, &seg, seg.hdr->started_ms + 3004);
	tap_ok(sn.nworkers == 2 && sn.w[0].v[STATS_CONNS_TCP] == 5 && sn.w[1].v[STATS_ACCEPTED_TCP] == 26,
	    "snapshot: the TCP connections are the rest of conns");
	test_json(&sn);
	test_metrics(&sn);
	tap_ok(stats_log_line(&sn, 1, log, sizeof(log)) > 0 &&
	    strncmp(log, log_start, strlen(log_start)) == 0 &&
	    strstr(log, ", bad_members ") != NULL, "log line: name value pairs (%.70s...)", log);
	tap_ok(stats_log_line(&sn, 2, log, sizeof(log)) == -1, "log line: no slot 2");
	test_cap("JSON", stats_json, &sn);
	test_cap("metrics", stats_metrics, &sn);
	atomic_store(&shm_worker(&seg, 1)->stats.conns_ws, 8);
	atomic_store(&shm_worker(&seg, 1)->stats.conns_http, 7);
	atomic_store(&shm_worker(&seg, 1)->pid, 0);
	stats_snap_take(&sn, &seg, seg.hdr->started_ms);
	tap_ok(sn.w[1].v[STATS_CONNS] == 15 && sn.w[1].v[STATS_CONNS_TCP] == 0,
	    "snapshot: parts read above their whole raise the whole (conns %llu), never a negative TCP",
	    (unsigned long long)sn.w[1].v[STATS_CONNS]);
	stats_json(&sn, out, sizeof(out));
	tap_ok(num(out, "workers_up") == 1 && num(worker(out, 1), "pid") == 0 && num(out, "uptime_s") == 0,
	    "JSON: a slot without a worker shows pid 0 and is not up");
	test_bridge();
	test_bounds(&sn);
	return tap_done();
}
