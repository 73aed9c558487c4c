/*
 * bots/main.c - janus-bots: the load generator of janusd.
 *
 * Owns: the command line (parsing, defaults, checks against this machine's
 * descriptor limit), choosing the run's nonce, and turning the report into
 * output and an exit status: the text, the JSON line and, with --svg, the
 * picture (of this run, or with --from of earlier runs' JSON lines, one
 * curve each). Must not do any networking: bots/run.c runs it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bots/bots.h"
#include "bots/plot.h"
#include "bots/report.h"
#include "bots/run.h"
#include "bots/series.h"
#include "bots/util.h"

#define OPTS_MAX_CLIENTS 2000000u
#define OPTS_MAX_TOPIC 256
#define OPTS_MAX_RATE_MESSAGES 1000000000.0
#define OPTS_SRC_ADDRS 253u     /* 127.0.0.2 .. 127.0.0.254 */

enum {
	OPT_PERSISTENT = 256,
	OPT_PART1,
	OPT_ACK,
	OPT_PUBLISHERS,
	OPT_FLOOR,
	OPT_FLOOR_URING,
	OPT_WRITERS,
	OPT_INFLIGHT,
	OPT_PER_CHILD,
	OPT_PER_ADDR,
	OPT_TIMEOUT,
	OPT_WAIT,
	OPT_BUCKET,
	OPT_JSON,
	OPT_FLOOD,
	OPT_WINDOW,
	OPT_HOLD,
	OPT_SUB_PORTS,
	OPT_SVG,
	OPT_FROM,
	OPT_TITLE,
	OPT_LABEL,
	OPT_WS,
	OPT_SUB_TOPIC,
	OPT_NOISE
};

static const struct option opts_longopts[] = {
	{ "persistent", no_argument, NULL, OPT_PERSISTENT },
	{ "part1", no_argument, NULL, OPT_PART1 },
	{ "ack", no_argument, NULL, OPT_ACK },
	{ "publishers", required_argument, NULL, OPT_PUBLISHERS },
	{ "floor", no_argument, NULL, OPT_FLOOR },
	{ "floor-uring", no_argument, NULL, OPT_FLOOR_URING },
	{ "writers", required_argument, NULL, OPT_WRITERS },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "per-child", required_argument, NULL, OPT_PER_CHILD },
	{ "per-addr", required_argument, NULL, OPT_PER_ADDR },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "bucket", required_argument, NULL, OPT_BUCKET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "flood", no_argument, NULL, OPT_FLOOD },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "sub-ports", required_argument, NULL, OPT_SUB_PORTS },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "ws", required_argument, NULL, OPT_WS },
	{ "sub-topic", required_argument, NULL, OPT_SUB_TOPIC },
	{ "noise", required_argument, NULL, OPT_NOISE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* What was given on the command line beyond the values themselves. */
struct opts_given {
	int messages, rate, duration, part1, window, sub_ports;
	int run;        /* an option that only a run takes */
};

static void
opts_usage(FILE *f)
{
	fprintf(f,
	    "usage: " BOTS_NAME " [-n CLIENTS] [-H HOST] [-p PORT] [-T TOPIC] [-M MESSAGES]\n"
	    "                  [-G MS] [-s BYTES] [-r RATE -d SECONDS] [--persistent]\n"
	    "                  [--part1] [--ack] [--publishers P] [--floor | --floor-uring]\n"
	    "                  [--writers W]\n"
	    "                  [--inflight K] [--per-child C] [--per-addr A] [--timeout S]\n"
	    "                  [--wait S] [--bucket MS] [--json] [-q] [--flood -d SECONDS]\n"
	    "                  [--window K] [--hold S] [--sub-ports P,... | --ws P,...]\n"
	    "                  [--svg FILE [--title T] [--label L]]\n"
	    "                  [--sub-topic PATTERN] [--noise K]\n"
	    "       " BOTS_NAME " --svg FILE [--title T] --from [LABEL=]REPORT ...\n"
	    "  -n CLIENTS      subscribing clients (20000)\n"
	    "  -H HOST         server address (127.0.0.1)\n"
	    "  -p PORT         server port (8081)\n"
	    "  -T TOPIC        topic to subscribe and publish to (events)\n"
	    "  --sub-topic P   subscribe to P (a wildcard pattern that matches -T) instead\n"
	    "  --noise K       and to K more patterns each, that -T does not match (0)\n"
	    "  -M MESSAGES     messages, each once the previous reached everyone (1)\n"
	    "  -G MS           gap after a message reached everyone (0)\n"
	    "  -s BYTES        pad each published object to BYTES\n"
	    "  -r RATE         publish RATE messages per second instead of -M\n"
	    "  -d SECONDS      for this long (10)\n"
	    "  --flood         publish as fast as every client keeps up, for -d SECONDS\n"
	    "  --window K      --flood: at most K messages ahead of the slowest client (8192)\n"
	    "  --hold S        keep the subscribed clients idle S seconds before publishing\n"
	    "  --sub-ports P,..  subscribers connect to these ports in turn; publishers to -p\n"
	    "  --ws P,...      the same over WebSocket, to the servers' http_port\n"
	    "  --persistent    publish Part 2 frames on kept-open connections (with -r)\n"
	    "  --part1         publish the 2009 way even with -r\n"
	    "  --ack           ask for {\"published\":...} replies (with --persistent)\n"
	    "  --publishers P  persistent publisher connections (1)\n"
	    "  --floor         no server: time our own writers fanning out over loopback\n"
	    "  --floor-uring   the same, the writers sending through io_uring in batches\n"
	    "  --writers W     floor writer processes (2)\n"
	    "  --inflight K    unfinished connection set-ups per child process (256)\n"
	    "  --per-child C   connections per child process (9000)\n"
	    "  --per-addr A    connections per source address 127.0.0.2, .3, ... (8000)\n"
	    "  --timeout S     bound on the whole run (60)\n"
	    "  --wait S        bound on waiting for one message to reach everyone (10)\n"
	    "  --bucket MS     histogram bucket width (automatic)\n"
	    "  --json          add one JSON line with every figure\n"
	    "  -q, --quiet     no progress line, no text report (with --json: only the JSON line)\n"
	    "  --svg FILE      draw the latency distribution (a CDF) into FILE\n"
	    "  --title T       the picture's title\n"
	    "  --label L       the name of this run's curve (server, or floor)\n"
	    "  --from REPORT   run nothing: draw the JSON line of an earlier run's output,\n"
	    "                  one curve per --from, named LABEL\n");
}

/* opts_uint - an unsigned integer option in [MIN, MAX]; -1 if it is not. */
static int
opts_uint(const char *opt, const char *arg, unsigned long min,
    unsigned long max, unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    v < min || v > max) {
		util_err("%s wants a whole number from %lu to %lu, not '%s'", opt,
		    min, max, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* opts_real - a number option in [MIN, MAX]; -1 if it is not. */
static int
opts_real(const char *opt, const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= min && v <= max)) {
		util_err("%s wants a number from %g to %g, not '%s'", opt, min, max,
		    arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* opts_host - resolve -H to one IPv4 address. */
static int
opts_host(struct bots_opts *o)
{
	struct addrinfo hints, *res;
	int rc;

	if (inet_pton(AF_INET, o->host_name, &o->host) == 1)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(o->host_name, NULL, &hints, &res)) != 0) {
		util_err("cannot resolve '%s': %s", o->host_name, gai_strerror(rc));
		return -1;
	}
	o->host = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

/* opts_topic - topics (OPT: which option) go into JSON strings verbatim: keep them plain. */
static int
opts_topic(const char *opt, const char *t)
{
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e || t[i] == '"' || t[i] == '\\')
			break;
	if (n == 0 || n > OPTS_MAX_TOPIC || i < n) {
		util_err("%s wants 1 to %d printable ASCII characters without '\"' "
		    "or '\\'", opt, OPTS_MAX_TOPIC);
		return -1;
	}
	return 0;
}

/* opts_defaults - the values a bare "janus-bots" runs with. */
static void
opts_defaults(struct bots_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->clients = 20000;
	o->host_name = "127.0.0.1";
	o->port = 8081;
	o->topic = "events";
	o->messages = 1;
	o->duration_s = 10.0;
	o->publishers = 1;
	o->writers = 2;
	o->inflight = 256;
	o->per_child = 9000;
	o->per_addr = 8000;
	o->timeout_s = 60.0;
	o->wait_s = 10.0;
	o->window = 8192;
}

/* opts_ports - --sub-ports or --ws (OPT): a comma-separated list of ports; -1 on a bad one. */
static int
opts_ports(struct bots_opts *o, struct opts_given *g, const char *opt, const char *arg)
{
	char buf[BOTS_MAX_WRITERS * 6 + 1], *tok, *save;
	unsigned port;

	if (g->sub_ports++) {
		util_err("--sub-ports and --ws both name the subscribers' ports: "
		    "give one of them, once");
		return -1;
	}
	if (strlen(arg) >= sizeof(buf)) {
		util_err("%s: at most %d ports", opt, BOTS_MAX_WRITERS);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	o->nsub_ports = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (o->nsub_ports == BOTS_MAX_WRITERS) {
			util_err("%s: at most %d ports", opt, BOTS_MAX_WRITERS);
			return -1;
		}
		if (opts_uint(opt, tok, 1, 65535, &port) < 0)
			return -1;
		o->sub_ports[o->nsub_ports++] = (uint16_t)port;
	}
	if (o->nsub_ports == 0) {
		util_err("%s wants one or more ports", opt);
		return -1;
	}
	return 0;
}

/* opts_option - one option; -1 on a bad value. */
static int
opts_option(struct bots_opts *o, struct opts_given *g, int c, const char *arg)
{
	unsigned port;

	switch (c) {
	case 'n':
		return opts_uint("-n", arg, 1, OPTS_MAX_CLIENTS, &o->clients);
	case 'H':
		o->host_name = arg;
		return 0;
	case 'p':
		if (opts_uint("-p", arg, 1, 65535, &port) < 0)
			return -1;
		o->port = (uint16_t)port;
		return 0;
	case 'T':
		o->topic = arg;
		return opts_topic("-T", arg);
	case OPT_SUB_TOPIC:
		o->sub_topic = arg;
		return opts_topic("--sub-topic", arg);
	case OPT_NOISE:
		return opts_uint("--noise", arg, 0, BOTS_MAX_NOISE, &o->noise);
	case 'M':
		g->messages = 1;
		return opts_uint("-M", arg, 1, BOTS_MAX_MESSAGES, &o->messages);
	case 'G':
		return opts_real("-G", arg, 0, 3600e3, &o->gap_ms);
	case 's':
		return opts_uint("-s", arg, 0, BOTS_MAX_SIZE, &o->size);
	case 'r':
		g->rate = 1;
		return opts_real("-r", arg, 1e-3, 1e7, &o->rate);
	case 'd':
		g->duration = 1;
		return opts_real("-d", arg, 1e-3, 86400, &o->duration_s);
	case OPT_PERSISTENT:
		o->persistent = 1;
		return 0;
	case OPT_PART1:
		g->part1 = 1;
		return 0;
	case OPT_ACK:
		o->ack = 1;
		return 0;
	case OPT_PUBLISHERS:
		return opts_uint("--publishers", arg, 1, BOTS_MAX_PUBLISHERS,
		    &o->publishers);
	case OPT_FLOOR:
		o->floor = 1;
		return 0;
	case OPT_FLOOR_URING:
		o->floor = o->floor_uring = 1;
		return 0;
	case OPT_WRITERS:
		return opts_uint("--writers", arg, 1, BOTS_MAX_WRITERS, &o->writers);
	case OPT_INFLIGHT:
		return opts_uint("--inflight", arg, 1, 100000, &o->inflight);
	case OPT_PER_CHILD:
		return opts_uint("--per-child", arg, 1, 1000000, &o->per_child);
	case OPT_PER_ADDR:
		return opts_uint("--per-addr", arg, 1, 60000, &o->per_addr);
	case OPT_TIMEOUT:
		return opts_real("--timeout", arg, 0.1, 86400, &o->timeout_s);
	case OPT_WAIT:
		return opts_real("--wait", arg, 0.01, 86400, &o->wait_s);
	case OPT_BUCKET:
		return opts_real("--bucket", arg, 0.01, 3600e3, &o->bucket_ms);
	case OPT_JSON:
		o->json = 1;
		return 0;
	case OPT_FLOOD:
		o->flood = 1;
		return 0;
	case OPT_WINDOW:
		g->window = 1;
		return opts_uint("--window", arg, 1, 10000000, &o->window);
	case OPT_HOLD:
		return opts_real("--hold", arg, 0, 86400, &o->hold_s);
	case OPT_SUB_PORTS:
		return opts_ports(o, g, "--sub-ports", arg);
	case OPT_WS:
		o->ws = 1;
		return opts_ports(o, g, "--ws", arg);
	case 'q':
		o->quiet = 1;
		return 0;
	case OPT_SVG:
		o->svg = arg;
		return 0;
	case OPT_TITLE:
		o->title = arg;
		return 0;
	case OPT_LABEL:
		o->label = arg;
		return 0;
	case OPT_FROM:
		if (o->nfrom == BOTS_MAX_SERIES) {
			util_err("--from: at most %d reports in one picture",
			    BOTS_MAX_SERIES);
			return -1;
		}
		o->from[o->nfrom++] = arg;
		return 0;
	default:
		return -1;
	}
}

/* opts_modes - options that depend on each other. */
static int
opts_modes(struct bots_opts *o, const struct opts_given *g)
{
	double planned;

	if (g->messages && g->rate) {
		util_err("-M and -r are two different modes: give one");
		return -1;
	}
	if (o->flood && (g->messages || g->rate || o->floor || g->part1)) {
		util_err("--flood publishes on persistent connections for -d seconds: "
		    "drop -M, -r, --floor and --part1");
		return -1;
	}
	if (g->duration && !g->rate && !o->flood) {
		util_err("-d goes with -r or --flood");
		return -1;
	}
	if (g->window && !o->flood) {
		util_err("--window goes with --flood");
		return -1;
	}
	o->lockstep = !g->rate && !o->flood;
	if (o->flood)
		o->persistent = 1;
	if (o->floor && o->nsub_ports > 0) {
		util_err("--floor has no server: drop --sub-ports and --ws");
		return -1;
	}
	if (o->floor && (o->sub_topic != NULL || o->noise > 0)) {
		util_err("--floor has no server to subscribe to: drop --sub-topic and --noise");
		return -1;
	}
	if (o->ws && o->noise > 0) {
		util_err("--noise subscribes over TCP: drop --ws");
		return -1;
	}
	if (o->floor && (o->persistent || o->ack || g->part1)) {
		util_err("--floor has no server to publish to: drop --persistent, "
		    "--ack and --part1");
		return -1;
	}
	/* rate mode publishes over kept-open connections unless told otherwise */
	if (g->rate && !g->part1 && !o->floor)
		o->persistent = 1;
	if (g->part1 && o->persistent) {
		util_err("--part1 and --persistent exclude each other");
		return -1;
	}
	if (o->ack && !o->persistent) {
		util_err("--ack needs --persistent (Part 2 publishing)");
		return -1;
	}
	o->planned = o->messages;
	if (g->rate) {
		planned = floor(o->rate * o->duration_s + 0.5);
		if (planned < 1 || planned > OPTS_MAX_RATE_MESSAGES) {
			util_err("-r times -d must come to 1 to %.0f messages",
			    OPTS_MAX_RATE_MESSAGES);
			return -1;
		}
		o->planned = (unsigned)planned;
	}
	/* the count is known at the end; children hear it then (IPC_LAST) */
	if (o->flood)
		o->planned = BOTS_FLOOD_MAX;
	return 0;
}

/* opts_limits - fit the processes under this machine's descriptor limit. */
static int
opts_limits(struct bots_opts *o)
{
	struct rlimit rl;
	unsigned kids, share;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		util_err("getrlimit() failed: %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	kids = (o->clients + o->per_child - 1) / o->per_child;
	share = (o->clients + kids - 1) / kids;
	if (share + BOTS_FD_RESERVE > rl.rlim_cur) {
		util_err("%u connections per child need more than the %llu "
		    "descriptors a process may have: lower --per-child", share,
		    (unsigned long long)rl.rlim_cur);
		return -1;
	}
	share = (o->clients + o->writers - 1) / o->writers;
	if (o->floor && share + BOTS_FD_RESERVE > rl.rlim_cur) {
		util_err("%u connections per floor writer need more than the %llu "
		    "descriptors a process may have: raise --writers", share,
		    (unsigned long long)rl.rlim_cur);
		return -1;
	}
	o->spread_src = (ntohl(o->host.s_addr) >> 24) == 127;
	if (o->spread_src && (o->clients - 1) / o->per_addr >= OPTS_SRC_ADDRS) {
		util_err("%u clients at %u per source address need more than "
		    "127.0.0.2-254: raise --per-addr", o->clients, o->per_addr);
		return -1;
	}
	return 0;
}

/* opts_picture - --svg and its companions; with --from nothing runs. */
static int
opts_picture(const struct bots_opts *o, const struct opts_given *g)
{
	if ((o->title != NULL || o->label != NULL || o->nfrom > 0) &&
	    o->svg == NULL) {
		util_err("--title, --label and --from go with --svg FILE");
		return -1;
	}
	if (o->nfrom > 0 && (g->run || o->label != NULL)) {
		util_err("--from draws earlier runs and runs nothing: give no run "
		    "options, and name each curve with LABEL=REPORT");
		return -1;
	}
	return 0;
}

/* opts_nonce - names this run in every message_id. */
static uint32_t
opts_nonce(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
}

/* opts_parse - the command line into O; 0, 1 (help/version printed) or -1. */
static int
opts_parse(int argc, char **argv, struct bots_opts *o)
{
	struct opts_given g;
	int c;

	memset(&g, 0, sizeof(g));
	opts_defaults(o);
	while ((c = getopt_long(argc, argv, "n:H:p:T:M:G:s:r:d:qhV",
	    opts_longopts, NULL)) != -1) {
		if (c == 'h') {
			opts_usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf(BOTS_NAME " " PACKAGE_VERSION "\n");
			return 1;
		}
		if (opts_option(o, &g, c, optarg) < 0) {
			opts_usage(stderr);
			return -1;
		}
		if (c != 'q' && c != OPT_SVG && c != OPT_TITLE && c != OPT_FROM &&
		    c != OPT_LABEL)
			g.run = 1;
	}
	if (optind < argc) {
		util_err("unexpected argument '%s'", argv[optind]);
		opts_usage(stderr);
		return -1;
	}
	if (opts_picture(o, &g) < 0)
		return -1;
	o->argc = argc;
	o->argv = argv;
	if (o->quiet)
		o->progress = BOTS_PROGRESS_OFF;
	else
		o->progress = isatty(STDERR_FILENO) ? BOTS_PROGRESS_TTY :
		    BOTS_PROGRESS_LINES;
	if (o->nfrom > 0)
		return 0;
	if (opts_modes(o, &g) < 0 || opts_host(o) < 0 || opts_limits(o) < 0)
		return -1;
	o->nonce = opts_nonce();
	return 0;
}

/* bots_draw_run - --svg after a run: one curve, this run's. */
static int
bots_draw_run(const struct bots_opts *o, const struct report *rep)
{
	struct plot_series s;
	struct plot p;
	int rc;

	if (series_from_report(&s, rep, o->label != NULL ? o->label :
	    o->floor_uring ? "floor (io_uring)" : o->floor ? "floor" : "server") < 0) {
		util_err("out of memory");
		return -1;
	}
	plot_init(&p, o->title, o->started, o->argc, o->argv);
	p.series = &s;
	p.nseries = 1;
	rc = plot_save(&p, o->svg);
	series_free(&s);
	return rc;
}

/* bots_draw_reports - --from: one curve per earlier run's report; exit status. */
static int
bots_draw_reports(const struct bots_opts *o)
{
	struct plot_series s[BOTS_MAX_SERIES];
	struct plot p;
	time_t newest = 0, t;
	unsigned i, n;
	int rc = -1;

	for (n = 0; n < o->nfrom; n++) {
		if (series_read(&s[n], o->from[n], &t) < 0)
			break;
		if (t > newest)
			newest = t;
	}
	if (n == o->nfrom) {
		/* the newest report was written when the last run ended */
		plot_init(&p, o->title, newest, o->argc, o->argv);
		p.series = s;
		p.nseries = n;
		rc = plot_save(&p, o->svg);
	}
	for (i = 0; i < n; i++)
		series_free(&s[i]);
	return rc < 0 ? BOTS_EXIT_SETUP : BOTS_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct bots_opts o;
	struct report rep;
	int rc, status;

	rc = opts_parse(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? BOTS_EXIT_OK : BOTS_EXIT_SETUP;
	if (o.nfrom > 0)
		return bots_draw_reports(&o);
	o.started = time(NULL);
	if (report_init(&rep, &o) < 0) {
		util_err("out of memory");
		return BOTS_EXIT_SETUP;
	}
	run_main(&o, &rep);
	status = report_status(&rep);
	if (!o.quiet && (rep.connected > 0 || rep.published > 0))
		report_text(&rep, stdout);
	if (o.json)
		report_json(&rep, stdout);
	fflush(stdout);
	if (o.svg != NULL && bots_draw_run(&o, &rep) < 0)
		status = BOTS_EXIT_SETUP;
	report_free(&rep);
	return status;
}
