/*
 * bots/plot.c - the latency distribution of one or more runs as an SVG.
 *
 * Owns: the picture: the scale, the axes in ms and percent, one polyline
 * per series (its CDF) with a marker on each quantile of the report, the
 * legend, and the caption (the run's date, this machine's cores and kernel,
 * the command line); and escaping text for XML.
 * Must not measure or read reports: the series come filled in.
 *
 * The picture carries its data so that a check can compare it with the
 * JSON report (t/svg_check.py): the plot group gives its scale (data-x-max-ms
 * and the pixel box), each curve lists the points it draws as data-ms and
 * data-q, and each quantile marker has data-key, data-q and data-ms, in ms
 * printed as the report prints them. A curve goes through the histogram's
 * row ends and the quantiles, in order of latency; between them it is
 * straight, as if latencies were spread evenly within a row.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bots/bots.h"
#include "bots/plot.h"
#include "bots/util.h"

#define PLOT_W 800
#define PLOT_LEFT 72
#define PLOT_RIGHT 736
#define PLOT_TOP 48
#define PLOT_BOTTOM 348
#define PLOT_LINE 16           /* legend and caption line height */
#define PLOT_WRAP 110          /* caption characters per line */
#define PLOT_TICKS 8           /* at most this many steps on the x axis */
#define PLOT_TITLE "janus-bots: latency from the bots' publish to receipt"

static const struct {
	const char *color;
	const char *dash;
} plot_styles[] = {
	{ "#1f5fa8", "none" },
	{ "#d9660b", "7 3" },
	{ "#2a8a3a", "2 2" },
	{ "#b3202a", "9 3 2 3" },
	{ "#6b4aa0", "4 4" },
	{ "#7a5a2a", "1 3" },
};
#define PLOT_NSTYLES (sizeof(plot_styles) / sizeof(plot_styles[0]))

struct plot_point {
	double ms, q;
};

/* The pixel box and scale every coordinate goes through. */
struct plot_scale {
	double xmax_ms;            /* the right edge; the left is 0 ms */
	double step_ms;            /* between x ticks */
};

void
plot_init(struct plot *p, const char *title, time_t when, int argc,
    char *const *argv)
{
	memset(p, 0, sizeof(*p));
	p->title = title != NULL ? title : PLOT_TITLE;
	p->when = when;
	p->argc = argc;
	p->argv = argv;
}

/*
 * plot_char - C as XML character data or attribute text. Only printable
 * ASCII passes: anything else becomes '?', so the file is well-formed
 * whatever a command line held.
 */
static void
plot_char(FILE *f, char c)
{
	if (c == '&')
		fputs("&amp;", f);
	else if (c == '<')
		fputs("&lt;", f);
	else if (c == '>')
		fputs("&gt;", f);
	else if (c == '"')
		fputs("&quot;", f);
	else if (c == '\'')
		fputs("&apos;", f);
	else
		fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
}

static void
plot_text(FILE *f, const char *s)
{
	while (*s != '\0')
		plot_char(f, *s++);
}

static double
plot_x(const struct plot_scale *sc, double ms)
{
	return PLOT_LEFT + ms / sc->xmax_ms * (PLOT_RIGHT - PLOT_LEFT);
}

static double
plot_y(double q)
{
	return PLOT_BOTTOM - q * (PLOT_BOTTOM - PLOT_TOP);
}

/* plot_scale - 0 to a round number above every series' largest latency. */
static void
plot_scale(const struct plot *p, struct plot_scale *sc)
{
	static const double mult[] = { 2.0, 2.5, 2.0 };
	double max = 0.0, step = 0.001;
	unsigned i, k = 0;

	for (i = 0; i < p->nseries; i++)
		if (p->series[i].n > 0 && p->series[i].qms[p->series[i].nq - 1] > max)
			max = p->series[i].qms[p->series[i].nq - 1];
	/* 1, 2, 5, 10, 20, ... microseconds until a few steps cover MAX */
	while (max / step > PLOT_TICKS)
		step *= mult[k++ % 3];
	sc->step_ms = step;
	sc->xmax_ms = ceil(max / step - 1e-9) * step;
	if (sc->xmax_ms < step)
		sc->xmax_ms = step;
}

static int
plot_point_cmp(const void *a, const void *b)
{
	const struct plot_point *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	return x->q < y->q ? -1 : x->q > y->q;
}

/*
 * plot_points - the curve of S: (min, 0), the row ends between min and
 * max, and every quantile, sorted; the number of points, or -1 (memory).
 */
static long
plot_points(const struct plot_series *s, struct plot_point **out)
{
	struct plot_point *pt;
	double min = s->qms[0], max = s->qms[s->nq - 1], end, top = 0.0;
	uint64_t cum = 0;
	unsigned i;
	long n = 0;

	if ((pt = calloc((size_t)s->nrows + s->nq + 1, sizeof(*pt))) == NULL)
		return -1;
	for (i = 0; i < s->nrows; i++) {
		cum += s->counts[i];
		end = s->start_ms + (i + 1) * s->bucket_ms;
		if (end > min && end < max) {
			pt[n].ms = end;
			pt[n++].q = (double)cum / (double)s->n;
		}
	}
	for (i = 0; i < s->nq; i++) {
		pt[n].ms = s->qms[i];
		pt[n++].q = s->q[i];
	}
	qsort(pt, (size_t)n, sizeof(*pt), plot_point_cmp);
	/* a CDF never falls; rounding in a report must not make it */
	for (i = 0; i < (unsigned)n; i++) {
		if (pt[i].q < top)
			pt[i].q = top;
		top = pt[i].q;
	}
	*out = pt;
	return n;
}

/* plot_axes - frame, grid, ticks and the two axis labels. */
static void
plot_axes(FILE *f, const struct plot_scale *sc)
{
	double v, x, y;
	int k;

	fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", PLOT_LEFT,
	    PLOT_TOP, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP);
	for (k = 0; (v = k * sc->step_ms) <= sc->xmax_ms * (1 + 1e-9); k++) {
		x = plot_x(sc, v);
		fprintf(f, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" "
		    "stroke=\"#ddd\"/>\n<text x=\"%.2f\" y=\"%d\" "
		    "text-anchor=\"middle\">%g</text>\n", x, PLOT_TOP, x,
		    PLOT_BOTTOM, x, PLOT_BOTTOM + 16, v);
	}
	for (k = 0; k <= 10; k++) {
		y = plot_y(k / 10.0);
		fprintf(f, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" "
		    "stroke=\"#ddd\"/>\n", PLOT_LEFT, y, PLOT_RIGHT, y);
		if (k % 2 == 0)
			fprintf(f, "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">"
			    "%d%%</text>\n", PLOT_LEFT - 6, y + 4, k * 10);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency from "
	    "the publishing write to receipt (ms)</text>\n",
	    (PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 36);
	fprintf(f, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
	    "transform=\"rotate(-90 18 %d)\">deliveries received (%%)</text>\n",
	    (PLOT_TOP + PLOT_BOTTOM) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
}

/* plot_curve - series I: its polyline and quantile markers; -1 (memory). */
static int
plot_curve(FILE *f, const struct plot_scale *sc, const struct plot_series *s,
    unsigned i)
{
	const char *color = plot_styles[i % PLOT_NSTYLES].color;
	struct plot_point *pt;
	long n, k;

	fprintf(f, "<g class=\"series\" data-label=\"");
	plot_text(f, s->label);
	fprintf(f, "\" data-n=\"%llu\">\n", (unsigned long long)s->n);
	if (s->n == 0) {
		fprintf(f, "</g>\n");
		return 0;
	}
	if ((n = plot_points(s, &pt)) < 0)
		return -1;
	fprintf(f, "<polyline class=\"cdf\" fill=\"none\" stroke=\"%s\" "
	    "stroke-width=\"2\" stroke-dasharray=\"%s\" data-ms=\"", color,
	    plot_styles[i % PLOT_NSTYLES].dash);
	for (k = 0; k < n; k++)
		fprintf(f, "%s%.3f", k == 0 ? "" : " ", pt[k].ms);
	fprintf(f, "\" data-q=\"");
	for (k = 0; k < n; k++)
		fprintf(f, "%s%.6f", k == 0 ? "" : " ", pt[k].q);
	fprintf(f, "\" points=\"");
	for (k = 0; k < n; k++)
		fprintf(f, "%s%.2f,%.2f", k == 0 ? "" : " ", plot_x(sc, pt[k].ms),
		    plot_y(pt[k].q));
	fprintf(f, "\"/>\n");
	free(pt);
	for (k = 0; k < (long)s->nq; k++)
		fprintf(f, "<circle class=\"quantile\" data-key=\"%s\" "
		    "data-q=\"%g\" data-ms=\"%.3f\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" "
		    "fill=\"%s\"/>\n", s->qkey[k], s->q[k], s->qms[k],
		    plot_x(sc, s->qms[k]), plot_y(s->q[k]), color);
	fprintf(f, "</g>\n");
	return 0;
}

/* plot_about - what ran, from the report: "floor, 2 writers; lockstep: ...". */
static void
plot_about(FILE *f, const struct plot_series *s)
{
	if (s->floor)
		fprintf(f, "floor, %u writer%s; ", s->writers, s->writers == 1 ? "" : "s");
	if (strcmp(s->mode, "rate") == 0)
		fprintf(f, "rate %g/s for %g s", s->rate, s->duration_s);
	else if (strcmp(s->mode, "flood") == 0)
		fprintf(f, "flood for %g s", s->duration_s);
	else
		plot_text(f, s->mode);
	fprintf(f, ": %u clients x %u messages", s->clients, s->messages);
}

/* plot_legend - per series a sample of its line, its name, what ran, its quantiles. */
static void
plot_legend(FILE *f, const struct plot *p, int y)
{
	const struct plot_series *s;
	unsigned i, k;

	fprintf(f, "<g class=\"legend\">\n");
	for (i = 0; i < p->nseries; i++, y += 2 * PLOT_LINE) {
		s = &p->series[i];
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\"/>\n",
		    PLOT_LEFT, y - 4, PLOT_LEFT + 28, y - 4,
		    plot_styles[i % PLOT_NSTYLES].color,
		    plot_styles[i % PLOT_NSTYLES].dash);
		fprintf(f, "<text x=\"%d\" y=\"%d\"><tspan font-weight=\"bold\">",
		    PLOT_LEFT + 36, y);
		plot_text(f, s->label);
		fprintf(f, "</tspan>: %llu deliveries; ", (unsigned long long)s->n);
		plot_about(f, s);
		fprintf(f, "</text>\n<text x=\"%d\" y=\"%d\" fill=\"#555\" "
		    "font-size=\"11\">", PLOT_LEFT + 36, y + PLOT_LINE - 2);
		for (k = 0; s->n > 0 && k < s->nq; k++)
			fprintf(f, "%s%s %.3f", k == 0 ? "" : ", ", s->qkey[k],
			    s->qms[k]);
		fprintf(f, "%s</text>\n", s->n > 0 ? " ms" : "nothing was delivered");
	}
	fprintf(f, "</g>\n");
}

/* plot_breaks - whether word A starts a new caption line at column *COL. */
static int
plot_breaks(const char *a, size_t *col)
{
	size_t len = strlen(a) + 3;    /* a space, and quotes perhaps */
	int brk = *col > 0 && *col + len > PLOT_WRAP;

	if (brk)
		*col = 0;
	*col += len;
	return brk;
}

/* plot_lines - caption lines the command line takes. */
static int
plot_lines(const struct plot *p)
{
	size_t col = 0;
	int i, lines = 1;

	for (i = 0; i < p->argc; i++)
		lines += plot_breaks(p->argv[i], &col);
	return lines;
}

/* plot_command - the command line, shell-quoted where needed, on caption lines. */
static void
plot_command(FILE *f, const struct plot *p, int y)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%";
	const char *a;
	size_t col = 0;
	int i;

	fprintf(f, "<text class=\"command\" x=\"12\" y=\"%d\">command:", y);
	for (i = 0; i < p->argc; i++) {
		a = p->argv[i];
		if (plot_breaks(a, &col)) {
			y += PLOT_LINE;
			fprintf(f, "</text>\n<text class=\"command\" x=\"24\" "
			    "y=\"%d\">", y);
		} else {
			fputc(' ', f);
		}
		if (a[0] != '\0' && strspn(a, plain) == strlen(a)) {
			plot_text(f, a);
			continue;
		}
		plot_char(f, '\'');
		for (; *a != '\0'; a++) {
			if (*a == '\'')
				plot_text(f, "'\\''");
			else
				plot_char(f, *a);
		}
		plot_char(f, '\'');
	}
	fprintf(f, "</text>\n");
}

/* plot_caption - the run's date, this machine, and the command line. */
static void
plot_caption(FILE *f, const struct plot *p, int y)
{
	struct utsname u;
	struct tm tm;
	char when[64] = "unknown";
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (p->when > 0 && gmtime_r(&p->when, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	fprintf(f, "<g class=\"caption\" fill=\"#333\" font-size=\"11\">\n"
	    "<text class=\"machine\" x=\"12\" y=\"%d\">run: %s; machine: %ld "
	    "cores, ", y, when, cores);
	plot_text(f, u.sysname);
	fputc(' ', f);
	plot_text(f, u.release);
	fputc(' ', f);
	plot_text(f, u.machine);
	fprintf(f, "; drawn by " BOTS_NAME " " PACKAGE_VERSION "</text>\n");
	plot_command(f, p, y + PLOT_LINE);
	fprintf(f, "</g>\n");
}

/* plot_svg - the whole picture; -1 if memory ran out. */
static int
plot_svg(FILE *f, const struct plot *p)
{
	struct plot_scale sc;
	int legend_y = PLOT_BOTTOM + 66;
	int caption_y = legend_y + 2 * PLOT_LINE * (int)p->nseries + 8;
	int h = caption_y + PLOT_LINE * (plot_lines(p) + 1);
	unsigned i;

	plot_scale(p, &sc);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" "
	    "font-size=\"12\">\n<title>", PLOT_W, h, PLOT_W, h);
	plot_text(f, p->title);
	fprintf(f, "</title>\n<desc>The share of deliveries received within a "
	    "latency (a CDF), one curve per run, drawn by " BOTS_NAME
	    ".</desc>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" "
	    "font-weight=\"bold\">", PLOT_W, h, (PLOT_LEFT + PLOT_RIGHT) / 2);
	plot_text(f, p->title);
	fprintf(f, "</text>\n<g class=\"plot\" data-x-max-ms=\"%.3f\" "
	    "data-left=\"%d\" data-right=\"%d\" data-top=\"%d\" "
	    "data-bottom=\"%d\">\n", sc.xmax_ms, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP,
	    PLOT_BOTTOM);
	plot_axes(f, &sc);
	for (i = 0; i < p->nseries; i++)
		if (plot_curve(f, &sc, &p->series[i], i) < 0)
			return -1;
	fprintf(f, "</g>\n");
	plot_legend(f, p, legend_y);
	plot_caption(f, p, caption_y);
	fprintf(f, "</svg>\n");
	return 0;
}

int
plot_save(const struct plot *p, const char *path)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "w")) == NULL) {
		util_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	rc = plot_svg(f, p);
	if (rc < 0)
		util_err("out of memory drawing %s", path);
	if (ferror(f) || fclose(f) != 0) {
		util_err("writing %s failed: %s", path, strerror(errno));
		return -1;
	}
	return rc;
}
