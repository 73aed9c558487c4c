/*
 * bots/report.c - what a run measured, and printing it.
 *
 * Owns: the text report and the JSON line, and the exit status the figures
 * call for. Must not measure anything.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bots/report.h"

/* Rows beyond this many are printed only when they hold something. */
#define REPORT_DENSE_ROWS 200

enum report_kind { STAT_Q, STAT_SD, STAT_AVG };

static const struct {
	const char *text;   /* wsperf analyzer's label */
	const char *json;
	enum report_kind kind;
	double q;
} report_stats[] = {
	{ "     Min:", "min", STAT_Q, 0.0 },
	{ "      SD:", "sd", STAT_SD, 0.0 },
	{ "     Avg:", "avg", STAT_AVG, 0.0 },
	{ "  Median:", "median", STAT_Q, 0.5 },
	{ "  q90   :", "q90", STAT_Q, 0.9 },
	{ "  q95   :", "q95", STAT_Q, 0.95 },
	{ "  q99   :", "q99", STAT_Q, 0.99 },
	{ "  q99.9 :", "q99.9", STAT_Q, 0.999 },
	{ "  q99.99:", "q99.99", STAT_Q, 0.9999 },
	{ "     Max:", "max", STAT_Q, 1.0 },
};

#define REPORT_NSTATS (sizeof(report_stats) / sizeof(report_stats[0]))

int
report_init(struct report *r, const struct bots_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	if (hist_init(&r->wall) < 0 || hist_init(&r->mono) < 0)
		return -1;
	return 0;
}

void
report_free(struct report *r)
{
	hist_free(&r->wall);
	hist_free(&r->mono);
	free(r->spreads);
	r->spreads = NULL;
}

/* report_errors - frames that were neither a good delivery nor allowed. */
static uint64_t
report_errors(const struct report *r)
{
	return r->corrupt + r->dup + r->unexpected;
}

/* report_deliveries_bad - expected deliveries that were not good ones. */
static uint64_t
report_deliveries_bad(const struct report *r)
{
	return r->deliveries_expected > r->deliveries_good ?
	    r->deliveries_expected - r->deliveries_good : 0;
}

int
report_status(const struct report *r)
{
	if (r->setup_error)
		return BOTS_EXIT_SETUP;
	if (r->good != r->o->clients || r->bad != 0 ||
	    report_deliveries_bad(r) != 0 ||
	    report_errors(r) != 0 || r->pub_failed != 0 || r->refused != 0)
		return BOTS_EXIT_BAD;
	if (r->o->persistent && r->o->ack && r->acks != r->published)
		return BOTS_EXIT_BAD;
	return BOTS_EXIT_OK;
}

const char *
report_quantile(unsigned i, double *q)
{
	unsigned k;

	for (k = 0; k < REPORT_NSTATS; k++) {
		if (report_stats[k].kind != STAT_Q || i-- > 0)
			continue;
		*q = report_stats[k].q;
		return report_stats[k].json;
	}
	return NULL;
}

const char *
report_mode(const struct bots_opts *o)
{
	return o->flood ? "flood" : o->rate > 0 ? "rate" : "lockstep";
}

int
report_rows(const struct report *r, const struct hist *h, struct hist_rows *rows)
{
	return hist_rows(h, (uint64_t)(r->o->bucket_ms * 1000.0 + 0.5), rows);
}

/* report_stat - statistic I of H in milliseconds. */
static double
report_stat(const struct hist *h, unsigned i)
{
	if (report_stats[i].kind == STAT_SD)
		return hist_sd(h) / 1000.0;
	if (report_stats[i].kind == STAT_AVG)
		return hist_mean(h) / 1000.0;
	return (double)hist_quantile(h, report_stats[i].q) / 1000.0;
}

static double
report_ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* report_rate - COUNT per second over NS; 0 if no time passed. */
static double
report_rate(uint64_t count, int64_t ns)
{
	return ns > 0 ? (double)count / ((double)ns / 1e9) : 0.0;
}

/* report_checked - frames the client children checked per CPU-second. */
static double
report_checked(const struct report *r)
{
	return report_rate(r->deliveries_good + report_errors(r),
	    r->cpu_user_ns + r->cpu_sys_ns);
}

/* report_connects - connections set up per second. */
static double
report_connects(const struct report *r)
{
	return r->setup_ns > 0 ? (double)r->connected / ((double)r->setup_ns / 1e9)
	    : 0.0;
}

/* report_histogram - the 2009 layout: "VALUE ms | min", rows, "VALUE ms | max". */
static void
report_histogram(const struct report *r, FILE *f)
{
	const struct hist *h = &r->wall;
	struct hist_rows rows;
	unsigned i;

	if (h->n == 0) {
		fprintf(f, "no message was delivered\n");
		return;
	}
	if (report_rows(r, h, &rows) < 0) {
		fprintf(f, "(out of memory for the histogram)\n");
		return;
	}
	fprintf(f, "%12.3f ms | min\n", (double)h->min / 1000.0);
	for (i = 0; i < rows.nrows; i++) {
		if (rows.count[i] == 0 && rows.nrows > REPORT_DENSE_ROWS)
			continue;
		fprintf(f, "%12.3f ms | %llu - %.2f%%\n",
		    (double)(rows.start_us + (i + 1) * rows.width_us) / 1000.0,
		    (unsigned long long)rows.count[i],
		    100.0 * (double)rows.count[i] / (double)h->n);
	}
	fprintf(f, "%12.3f ms | max\n", (double)h->max / 1000.0);
	hist_rows_free(&rows);
}

/* report_deliveries - the per-delivery counts behind the per-client line. */
static void
report_deliveries(const struct report *r, FILE *f)
{
	fprintf(f, "deliveries: good: %llu, bad: %llu (of %u clients x %u "
	    "messages)\n", (unsigned long long)r->deliveries_good,
	    (unsigned long long)report_deliveries_bad(r), r->o->clients,
	    r->messages);
}

/* report_percentiles - wsperf analyzer's table, one column per clock. */
static void
report_percentiles(const struct report *r, FILE *f)
{
	unsigned i;

	if (r->wall.n == 0)
		return;
	fprintf(f, "latency   from server timestamp   from bots' send\n");
	for (i = 0; i < REPORT_NSTATS; i++)
		fprintf(f, "%s %15.3f ms %17.3f ms\n", report_stats[i].text,
		    report_stat(&r->wall, i), report_stat(&r->mono, i));
}

/* report_summary - the figures the 2009 line has no room for. */
static void
report_summary(const struct report *r, FILE *f)
{
	const struct bots_opts *o = r->o;

	fprintf(f, "%s: %u %sclients, ", o->floor ? "floor" : "server", o->clients,
	    o->ws ? "WebSocket " : "");
	if (o->flood)
		fprintf(f, "%u messages flooded for %g s, ", r->messages,
		    o->duration_s);
	else if (o->rate > 0)
		fprintf(f, "%u messages at %g/s, ", r->messages, o->rate);
	else
		fprintf(f, "%u messages, ", r->messages);
	fprintf(f, "published %llu, connects/s %.0f, spread %.3f ms",
	    (unsigned long long)r->published, report_connects(r),
	    report_ms(r->spread_ns));
	if (o->floor)
		fprintf(f, ", %u writers%s", o->writers, o->floor_uring ? " (io_uring)" : "");
	fprintf(f, "\n");
	if (report_errors(r) != 0 || r->failed != 0 || r->closed != 0)
		fprintf(f, "errors: corrupt %llu, duplicate or out of order %llu, "
		    "unexpected %llu; clients failed set-up %llu, closed %llu\n",
		    (unsigned long long)r->corrupt, (unsigned long long)r->dup,
		    (unsigned long long)r->unexpected,
		    (unsigned long long)r->failed, (unsigned long long)r->closed);
	if (o->persistent && !o->floor)
		fprintf(f, "publishers: %u persistent, acks %llu, refused %llu\n",
		    o->publishers, (unsigned long long)r->acks,
		    (unsigned long long)r->refused);
	fprintf(f, "throughput: %.0f delivered/s, %.0f published/s",
	    report_rate(r->deliveries_good, r->run_ns),
	    report_rate(r->published, r->publish_ns));
	if (o->rate > 0)
		fprintf(f, ", publishing at most %.3f ms late", report_ms(r->late_ns));
	fprintf(f, "\nclient children: %.3f s CPU (%.3f user), %.0f frames "
	    "checked per CPU-second\n", report_ms(r->cpu_user_ns + r->cpu_sys_ns) / 1e3,
	    report_ms(r->cpu_user_ns) / 1e3, report_checked(r));
	if (r->pub_failed != 0)
		fprintf(f, "publish failed: %llu\n", (unsigned long long)r->pub_failed);
	if (r->first_err[0] != '\0')
		fprintf(f, "first client error: %s\n", r->first_err);
	if (r->pub_err[0] != '\0')
		fprintf(f, "first publish error: %s\n", r->pub_err);
}

void
report_text(const struct report *r, FILE *f)
{
	fprintf(f, "setup: %.1f ms, good: %llu, bad: %llu, run: %.1f ms\n",
	    report_ms(r->setup_ns), (unsigned long long)r->good,
	    (unsigned long long)r->bad, report_ms(r->run_ns));
	report_histogram(r, f);
	report_deliveries(r, f);
	report_percentiles(r, f);
	report_summary(r, f);
}

/* report_json_stats - {"min":..,...} for H, or null when empty. */
static void
report_json_stats(const struct hist *h, FILE *f)
{
	unsigned i;

	if (h->n == 0) {
		fprintf(f, "null");
		return;
	}
	for (i = 0; i < REPORT_NSTATS; i++)
		fprintf(f, "%s\"%s\":%.3f", i == 0 ? "{" : ",", report_stats[i].json,
		    report_stat(h, i));
	fprintf(f, "}");
}

/* report_json_hist - {"bucket_ms":..,"start_ms":..,"counts":[..]}. */
static void
report_json_hist(const struct report *r, const struct hist *h, FILE *f)
{
	struct hist_rows rows;
	unsigned i;

	if (report_rows(r, h, &rows) < 0) {
		fprintf(f, "null");
		return;
	}
	fprintf(f, "{\"bucket_ms\":%.3f,\"start_ms\":%.3f,\"counts\":[",
	    (double)rows.width_us / 1000.0, (double)rows.start_us / 1000.0);
	for (i = 0; i < rows.nrows; i++)
		fprintf(f, "%s%llu", i == 0 ? "" : ",",
		    (unsigned long long)rows.count[i]);
	fprintf(f, "]}");
	hist_rows_free(&rows);
}

/* report_json_spreads - per-message spreads; null for a message nobody got. */
static void
report_json_spreads(const struct report *r, FILE *f)
{
	unsigned i;

	fprintf(f, "[");
	for (i = 0; i < r->nspreads; i++) {
		if (r->spreads[i] < 0)
			fprintf(f, "%snull", i == 0 ? "" : ",");
		else
			fprintf(f, "%s%.3f", i == 0 ? "" : ",",
			    report_ms(r->spreads[i]));
	}
	fprintf(f, "]");
}

void
report_json(const struct report *r, FILE *f)
{
	const struct bots_opts *o = r->o;

	fprintf(f, "{\"mode\":\"%s\",\"transport\":\"%s\",\"floor\":%s,"
	    "\"persistent\":%s,\"n\":%u,"
	    "\"messages\":%u,\"published\":%llu,\"good\":%llu,\"bad\":%llu,"
	    "\"deliveries_expected\":%llu,\"deliveries_good\":%llu,"
	    "\"deliveries_bad\":%llu,\"errors\":%llu,\"corrupt\":%llu,"
	    "\"duplicate\":%llu,\"unexpected\":%llu,\"connected\":%llu,"
	    "\"failed\":%llu,\"closed\":%llu,\"publish_failed\":%llu,"
	    "\"acks\":%llu,\"refused\":%llu,",
	    report_mode(o), o->ws ? "websocket" : "tcp",
	    o->floor ? "true" : "false",
	    o->persistent && !o->floor ? "true" : "false", o->clients,
	    r->messages, (unsigned long long)r->published,
	    (unsigned long long)r->good, (unsigned long long)r->bad,
	    (unsigned long long)r->deliveries_expected,
	    (unsigned long long)r->deliveries_good,
	    (unsigned long long)report_deliveries_bad(r),
	    (unsigned long long)report_errors(r),
	    (unsigned long long)r->corrupt, (unsigned long long)r->dup,
	    (unsigned long long)r->unexpected, (unsigned long long)r->connected,
	    (unsigned long long)r->failed, (unsigned long long)r->closed,
	    (unsigned long long)r->pub_failed, (unsigned long long)r->acks,
	    (unsigned long long)r->refused);
	if (o->floor)
		fprintf(f, "\"writers\":%u,\"floor_uring\":%s,", o->writers,
		    o->floor_uring ? "true" : "false");
	if (o->rate > 0)
		fprintf(f, "\"rate\":%g,\"duration_s\":%g,\"late_ms\":%.3f,", o->rate,
		    o->duration_s, report_ms(r->late_ns));
	if (o->flood)
		fprintf(f, "\"duration_s\":%g,\"window\":%u,", o->duration_s,
		    o->window);
	fprintf(f, "\"delivered_per_s\":%.0f,\"published_per_s\":%.0f,"
	    "\"client_cpu_s\":%.3f,\"client_user_s\":%.3f,"
	    "\"checked_per_cpu_s\":%.0f,",
	    report_rate(r->deliveries_good, r->run_ns),
	    report_rate(r->published, r->publish_ns),
	    report_ms(r->cpu_user_ns + r->cpu_sys_ns) / 1e3,
	    report_ms(r->cpu_user_ns) / 1e3, report_checked(r));
	fprintf(f, "\"setup_ms\":%.3f,\"run_ms\":%.3f,\"connects_per_s\":%.1f,"
	    "\"spread_ms\":%.3f,\"spreads_ms\":", report_ms(r->setup_ns),
	    report_ms(r->run_ns), report_connects(r), report_ms(r->spread_ns));
	report_json_spreads(r, f);
	fprintf(f, ",\"latency_ms\":");
	report_json_stats(&r->wall, f);
	fprintf(f, ",\"" REPORT_KEY_SEND_LATENCY "\":");
	report_json_stats(&r->mono, f);
	fprintf(f, ",\"hist\":");
	report_json_hist(r, &r->wall, f);
	fprintf(f, ",\"" REPORT_KEY_SEND_HIST "\":");
	report_json_hist(r, &r->mono, f);
	fprintf(f, "}\n");
}
