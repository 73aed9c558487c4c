/*
 * t/http_rows.c - the HTTP listener end to end: each row of PROTOCOL.md
 * Part 3's table, and the connection rules around it.
 *
 * janusd -w 2 -o http_timeout=300ms -o stats_allow=127.0.0.1/32: GET of
 * /, /stats, /metrics and /healthz (status, Content-Type, a body of
 * Content-Length bytes), HEAD of each (the same head, no body: the next
 * answer on the connection starts right after it), 404, 405 with Allow,
 * 400 and 431 each followed by the end of the connection, a head left
 * unfinished closed after http_timeout, /ws without an upgrade 426,
 * keep-alive, pipelining, HTTP/1.0 with and without keep-alive, and
 * Content-Length on every answer; from 127.0.0.2 (outside stats_allow)
 * 403 for the page, /stats and /metrics while /healthz and /ws serve.
 * Then, with fault injection built, janusd -w 2 whose worker 1 cannot
 * start: /healthz is 503. The bodies of /, /stats and /metrics are not
 * looked at here (t/stats_render and the browser test do).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"
#include "t/tweb.h"

#define WAIT_MS 5000
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct tsrv srv;
static struct tw_resp resp, resp2;
static unsigned answers, unlengthed;   /* answers read, and those without Content-Length */

/* answer - read one answer from c into r, counting those without Content-Length; its status or -1. */
static int
answer(struct tc *c, struct tw_resp *r, int head_only)
{
	if (c == NULL || tw_response(c, r, head_only, WAIT_MS) < 0)
		return -1;
	answers++;
	if (r->length < 0 && r->status != 101) {
		unlengthed++;
		tap_diag("  an answer without Content-Length: %s", r->head);
	}
	return r->status;
}

/* ask - one request (extra header lines may be "") on c; its answer in r, its status or -1. */
static int
ask(struct tc *c, const char *method, const char *path, const char *extra, struct tw_resp *r)
{
	if (c == NULL || tw_request(c, method, path, extra) < 0)
		return -1;
	return answer(c, r, strcmp(method, "HEAD") == 0);
}

/* field_is - whether r has field name with exactly value (any case). */
static int
field_is(const struct tw_resp *r, const char *name, const char *value)
{
	char v[256];

	return tw_header(r, name, v, sizeof(v)) && strcasecmp(v, value) == 0;
}

/* field_starts - whether r has field name starting with prefix (any case). */
static int
field_starts(const struct tw_resp *r, const char *name, const char *prefix)
{
	char v[256];

	return tw_header(r, name, v, sizeof(v)) && strncasecmp(v, prefix, strlen(prefix)) == 0;
}

/* closes - TAP check that the server ends c with nothing more after the answer read. */
static int
closes(struct tc *c, const char *name)
{
	size_t left = c != NULL ? c->len : 0;

	return tap_ok(c != NULL && left == 0 && tc_eof(c, WAIT_MS),
	    "%s, then the connection is closed (%zu bytes after the answer)", name, left);
}

/* test_gets - GET and HEAD of each route on one keep-alive connection. */
static void
test_gets(void)
{
	static const struct { const char *path, *type; } row[] = {
		{ "/", "text/html" },
		{ "/stats", "application/json" },
		{ "/metrics", "text/plain; version=0.0.4" },
		{ "/healthz", "text/plain" },
	};
	struct tc *c = tc_open(srv.hport);
	size_t i;
	int st, live;

	for (i = 0; i < NELEM(row); i++) {
		st = ask(c, "GET", row[i].path, "", &resp);
		tap_ok(st == 200 && field_starts(&resp, "Content-Type", row[i].type) &&
		    resp.length > 0 && resp.body_len == (size_t)resp.length,
		    "GET %s: 200 (%d), %s, a body of Content-Length (%ld) bytes", row[i].path, st,
		    row[i].type, resp.length);
		st = ask(c, "HEAD", row[i].path, "", &resp2);
		/* the counters behind /stats and /metrics move between two requests */
		live = strcmp(row[i].path, "/stats") == 0 || strcmp(row[i].path, "/metrics") == 0;
		tap_ok(st == 200 && field_starts(&resp2, "Content-Type", row[i].type) &&
		    (live ? resp2.length > 0 : resp2.length == resp.length) && resp2.body_len == 0,
		    "HEAD %s: the same head (%d, Content-Length %ld), no body", row[i].path, st,
		    resp2.length);
	}
	st = ask(c, "GET", "/healthz", "", &resp);
	tap_ok(st == 200 && strcmp(resp.body, "ok\n") == 0 && field_is(&resp, "Connection", "keep-alive"),
	    "the body of /healthz is 'ok', and after all these the connection is still kept alive "
	    "(so no HEAD sent a body)");
	tc_close(c);
}

/* test_errors - 404, 405, 426 keep the connection; 400 and 431 end it. */
static void
test_errors(void)
{
	struct tc *c = tc_open(srv.hport);
	char big[12 << 10];
	size_t n;
	int st;

	tap_is_int(ask(c, "GET", "/nowhere", "", &resp), 404, "GET /nowhere: 404");
	st = ask(c, "HEAD", "/nowhere", "", &resp);
	tap_ok(st == 404 && resp.length > 0 && resp.body_len == 0, "HEAD /nowhere: 404 (%d), no body", st);
	st = ask(c, "POST", "/stats", "", &resp);
	tap_ok(st == 405 && field_is(&resp, "Allow", "GET, HEAD"),
	    "POST /stats: 405 (%d) with Allow: GET, HEAD", st);
	st = ask(c, "DELETE", "/healthz", "", &resp);
	tap_ok(st == 405 && field_is(&resp, "Allow", "GET, HEAD"),
	    "DELETE /healthz: 405 (%d) with Allow: GET, HEAD", st);
	st = ask(c, "GET", "/ws", "", &resp);
	tap_ok(st == 426 && field_is(&resp, "Upgrade", "websocket"),
	    "GET /ws without an upgrade: 426 (%d), Upgrade: websocket", st);
	tap_is_int(ask(c, "GET", "/healthz", "", &resp), 200,
	    "the connection survives those: /healthz is 200");
	tc_close(c);

	c = tc_open(srv.hport);
	st = c != NULL && tc_sends(c, "GARBAGE\r\n\r\n") == 0 ? answer(c, &resp, 0) : -1;
	tap_is_int(st, 400, "a malformed request line: 400");
	closes(c, "after the 400");
	tc_close(c);
	c = tc_open(srv.hport);
	st = c != NULL && tc_sends(c, "GET /healthz HTTP/1.1\nHost: x\n\n") == 0 ?
	    answer(c, &resp, 0) : -1;
	tap_is_int(st, 400, "lines ending in a bare LF: 400");
	closes(c, "after that 400");
	tc_close(c);

	c = tc_open(srv.hport);
	n = (size_t)snprintf(big, sizeof(big), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'b', sizeof(big) - n);
	st = c != NULL && tc_send(c, big, sizeof(big)) == 0 ? answer(c, &resp, 0) : -1;
	tap_is_int(st, 431, "a head growing past http_head_max (8 KiB), unfinished: 431");
	closes(c, "after the 431");
	tc_close(c);
}

/* test_connections - keep-alive, pipelining, HTTP/1.0, the head deadline. */
static void
test_connections(void)
{
	struct tc *c = tc_open(srv.hport);
	int st, st2;

	st = ask(c, "GET", "/healthz", "", &resp);
	st2 = field_is(&resp, "Connection", "keep-alive") ? ask(c, "GET", "/healthz", "", &resp) : -1;
	tap_ok(st == 200 && st2 == 200, "keep-alive: two requests on one HTTP/1.1 connection, two "
	    "answers (%d, %d)", st, st2);
	st = st2 = -1;
	if (c != NULL && tc_sends(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n") == 0) {
		st = answer(c, &resp, 0);
		st2 = answer(c, &resp2, 0);
	}
	tap_ok(st == 200 && st2 == 404, "pipelining: two requests in one write, answered in order "
	    "(%d, %d)", st, st2);
	st = ask(c, "GET", "/healthz", "Connection: close\r\n", &resp);
	tap_ok(st == 200 && field_is(&resp, "Connection", "close"),
	    "Connection: close is answered (%d) with Connection: close", st);
	closes(c, "and honoured");
	tc_close(c);

	c = tc_open(srv.hport);
	st = c != NULL && tc_sends(c, "GET /healthz HTTP/1.0\r\n\r\n") == 0 ? answer(c, &resp, 0) : -1;
	tap_ok(st == 200 && field_is(&resp, "Connection", "close"),
	    "HTTP/1.0 without keep-alive: 200 (%d) with Connection: close", st);
	closes(c, "HTTP/1.0");
	tc_close(c);
	c = tc_open(srv.hport);
	st = st2 = -1;
	if (c != NULL && tc_sends(c, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 0)
		st = answer(c, &resp, 0);
	if (st == 200 && field_is(&resp, "Connection", "keep-alive") &&
	    tc_sends(c, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 0)
		st2 = answer(c, &resp, 0);
	tap_ok(st == 200 && st2 == 200, "HTTP/1.0 with Connection: keep-alive: kept, a second request "
	    "answered (%d, %d)", st, st2);
	tc_close(c);

	c = tc_open(srv.hport);
	tap_ok(c != NULL && tc_sends(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") == 0 &&
	    tc_eof(c, 10000), "a head left unfinished is closed (http_timeout=300ms)");
	tc_close(c);
}

/* test_stats_allow - from 127.0.0.2: 403 for the page, /stats, /metrics; /healthz and /ws serve. */
static void
test_stats_allow(void)
{
	static const char *const closed[] = { "/", "/stats", "/metrics" };
	struct tc *c = tc_open_from(srv.hport, "127.0.0.2");
	size_t i;
	int st;

	if (c == NULL)
		tap_bail("cannot connect from 127.0.0.2");
	for (i = 0; i < NELEM(closed); i++) {
		tap_is_int(ask(c, "GET", closed[i], "", &resp), 403,
		    "from 127.0.0.2, outside stats_allow=127.0.0.1/32: GET %s is 403", closed[i]);
		st = ask(c, "HEAD", closed[i], "", &resp);
		tap_ok(st == 403 && resp.body_len == 0, "and HEAD %s too (%d)", closed[i], st);
	}
	tap_is_int(ask(c, "GET", "/healthz", "", &resp), 200, "from there /healthz is 200");
	tc_close(c);
	c = tc_open_from(srv.hport, "127.0.0.2");
	st = c != NULL ? tw_ws_upgrade(c, "", &resp) : -1;
	tap_ok(st == 1, "and /ws upgrades (101, got %d)", resp.status);
	tc_close(c);
	st = tw_fetch(srv.hport, "127.0.0.1", "GET", "/stats", &resp) == 0 ? resp.status : -1;
	tap_is_int(st, 200, "from 127.0.0.1 (inside) /stats is 200");
}

/* test_unhealthy - a worker slot that cannot run: /healthz is 503 and says which. */
static void
test_unhealthy(void)
{
	static const char *const args[] = { "-w", "2", "-o", "log_level=info", NULL };
	const char *built = getenv("JANUSD_FAULTS_BUILT");
	struct tsrv s;
	int ok;

	if (built == NULL || strcmp(built, "yes") != 0) {
		tap_skip(2, "fault injection not built (configure --enable-fault-injection)");
		return;
	}
	setenv("JANUSD_FAULT", "worker_setup:1", 1);
	ok = tsrv_start_http(&s, args) == 0;
	unsetenv("JANUSD_FAULT");
	if (!ok)
		tap_bail("cannot start janusd with JANUSD_FAULT=worker_setup:1");
	tap_ok(tsrv_log_wait(&s, "worker 1 cannot run", 10000),
	    "JANUSD_FAULT=worker_setup:1: worker 1 cannot run, and is not respawned");
	ok = tw_fetch(s.hport, NULL, "GET", "/healthz", &resp) == 0 ? resp.status : -1;
	resp.body[strcspn(resp.body, "\n")] = '\0';
	tap_ok(ok == 503 && strstr(resp.body, "worker 1") != NULL,
	    "/healthz (served by worker 0): 503 (%d) '%s'", ok, resp.body);
	tsrv_stop(&s, 0);
}

int
main(void)
{
	static const char *const args[] = { "-w", "2", "-o", "http_timeout=300ms", "-o",
		"stats_allow=127.0.0.1/32", NULL };

	alarm(120);
	tap_plan(42);
	if (tsrv_start_http(&srv, args) < 0)
		tap_bail("cannot start janusd");
	test_gets();
	test_errors();
	test_connections();
	test_stats_allow();
	tap_ok(answers > 30 && unlengthed == 0, "every answer but the 101s had Content-Length "
	    "(%u answers, %u without)", answers, unlengthed);
	tap_is_int(tsrv_log_alerts(&srv, NULL), 0, "no warning or error in the server's log");
	tsrv_stop(&srv, 0);
	test_unhealthy();
	return tap_done();
}
