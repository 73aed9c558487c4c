/*
 * master/main.c - janusd's entry point: the command line.
 *
 * Owns: options and what they mean; -w, -p, -l, -P, -d and -o become
 * settings that override the config file, now and on every reload.
 * Exit status: 0 done, 1 bad options or configuration, 2 cannot start.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "master/master.h"

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: janusd [-dhstV] [-c file] [-l address] [-o key=value] [-P pidfile]\n"
	    "              [-p port] [-w workers]\n"
	    "  -c file     read settings from file\n"
	    "  -d          detach from the terminal (needs -P)\n"
	    "  -h          show this help\n"
	    "  -l address  listen address (default 0.0.0.0)\n"
	    "  -o key=val  set any config file setting\n"
	    "  -P pidfile  write the master's pid to pidfile, and lock it\n"
	    "  -p port     TCP port (default 8081)\n"
	    "  -s          print the counters of the janusd running on the port, as JSON\n"
	    "  -t          check the configuration and exit\n"
	    "  -V          print the version\n"
	    "  -w workers  worker processes (default: one per CPU)\n"
	    "See janusd(8).\n");
}

/* main_override - remember a command-line setting, applied after the file. */
static int
main_override(struct master *m, const char *key, const char *val)
{
	char *slot;

	if (m->noverrides == MASTER_MAX_OVERRIDES) {
		fprintf(stderr, "janusd: too many settings on the command line\n");
		return -1;
	}
	slot = m->override_buf[m->noverrides];
	if (key == NULL)
		snprintf(slot, sizeof(m->override_buf[0]), "%s", val);
	else
		snprintf(slot, sizeof(m->override_buf[0]), "%s=%s", key, val);
	m->overrides[m->noverrides++] = slot;
	return 0;
}

enum main_mode { MODE_RUN, MODE_CHECK, MODE_STATS, MODE_DONE, MODE_BAD };

static enum main_mode
main_options(struct master *m, int argc, char **argv)
{
	enum main_mode mode = MODE_RUN;
	int ch, rc = 0;

	while ((ch = getopt(argc, argv, "c:dhl:o:P:p:stVw:")) != -1) {
		switch (ch) {
		case 'c': m->conf_path = optarg; break;
		case 'd': rc = main_override(m, "daemon", "yes"); break;
		case 'h': main_usage(stdout); return MODE_DONE;
		case 'l': rc = main_override(m, "listen", optarg); break;
		case 'o': rc = main_override(m, NULL, optarg); break;
		case 'P': rc = main_override(m, "pid_file", optarg); break;
		case 'p': rc = main_override(m, "port", optarg); break;
		case 's': mode = MODE_STATS; break;
		case 't': mode = MODE_CHECK; break;
		case 'V': printf("janusd %s\n", PACKAGE_VERSION); return MODE_DONE;
		case 'w': rc = main_override(m, "workers", optarg); break;
		default: main_usage(stderr); return MODE_BAD;
		}
		if (rc < 0)
			return MODE_BAD;
	}
	if (optind < argc) {
		fprintf(stderr, "janusd: unexpected argument '%s'\n", argv[optind]);
		main_usage(stderr);
		return MODE_BAD;
	}
	return mode;
}

int
main(int argc, char **argv)
{
	static struct master m;
	char err[512];
	unsigned i;

	log_init("master", LOG_LVL_NOTICE);
	m.pidfile_fd = m.ready_fd = -1;
	for (i = 0; i <= CONF_MAX_WORKERS; i++)
		m.slots[i].lfd = m.slots[i].hfd = m.efds[i] = -1;
	switch (main_options(&m, argc, argv)) {
	case MODE_DONE: return 0;
	case MODE_BAD: return 1;
	case MODE_CHECK:
		if (config_load(&m, &m.conf, err, sizeof(err)) < 0)
			break;
		printf("janusd: configuration ok\n");
		return 0;
	case MODE_STATS:
		if (config_load(&m, &m.conf, err, sizeof(err)) < 0)
			break;
		return stats_print(m.conf.port);
	case MODE_RUN:
		if (config_load(&m, &m.conf, err, sizeof(err)) < 0)
			break;
		log_set_level((enum log_level)m.conf.log_level);
		m.nslots = m.conf.workers;
		m.nchildren = m.nslots + (m.conf.cluster[0] != '\0');
		return cycle_run(&m);
	}
	fprintf(stderr, "janusd: %s\n", err);
	return 1;
}
