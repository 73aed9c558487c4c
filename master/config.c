/*
 * master/config.c - where the master's settings come from, and reloading.
 *
 * Owns: the order of sources (defaults, then the -c file, then the
 * command line, which always wins) and SIGHUP: re-read, check, keep what
 * cannot change without a restart (saying so), hand the rest to the
 * workers through the segment. A bad file on reload changes nothing.
 * Must not parse values itself: lib/conf.c does.
 */
#include "config.h"

#include <stdio.h>

#include "bridge/bridge.h"
#include "lib/log.h"
#include "master/master.h"

int
config_load(struct master *m, struct conf *c, char *err, size_t errlen)
{
	unsigned i;

	conf_defaults(c);
	if (m->conf_path != NULL && conf_load(c, m->conf_path, err, errlen) < 0)
		return -1;
	for (i = 0; i < m->noverrides; i++)
		if (conf_set_arg(c, m->overrides[i], err, errlen) < 0)
			return -1;
	return conf_check(c, err, errlen) < 0 ? -1 : bridge_conf_check(c, err, errlen);
}

/* config_reload - SIGHUP: apply the live settings of the re-read configuration. */
void
config_reload(struct master *m)
{
	struct conf next;
	char err[512];
	const char *name;
	size_t pos = 0;

	notify_send("RELOADING=1");
	if (config_load(m, &next, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the current settings: %s", err);
		notify_send("READY=1\nSTATUS=reload failed: %s", err);
		return;
	}
	while ((name = conf_restart_diff(&m->conf, &next, &pos)) != NULL)
		log_warn("reload: '%s' changed, but only a restart applies it; keeping the current value", name);
	conf_keep_restart(&next, &m->conf);
	/* check again: new live values must fit the settings kept (max_frame and the ring) */
	if (conf_check(&next, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the current settings: %s", err);
		notify_send("READY=1\nSTATUS=reload failed: %s", err);
		return;
	}
	m->conf = next;
	log_set_level((enum log_level)m->conf.log_level);
	shm_conf_store(&m->shm, &m->conf);
	listen_retune(m);
	spawn_signal_all(m, SIGHUP);
	log_notice("reloaded the configuration");
	notify_send("READY=1\nSTATUS=serving on port %u with %u workers", m->conf.port, m->nslots);
}
