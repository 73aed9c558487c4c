/*
 * t/proxy_conns.c - the PROXY protocol on both listeners (issue 10,
 * finding 9): janusd -o proxy_allow=127.0.0.1/32, as behind haproxy or
 * stunnel on the same host.
 *   a v1 header naming 10.1.2.3: that address is the client's (publishing
 *     refused by publish_allow, subscribing fine, the log names it);
 *   one naming 127.0.0.9: publishing allowed; a v2 header alike;
 *   UNKNOWN keeps the proxy's own address; a malformed header closes;
 *   per-address limits count the named address, not the proxy's;
 *   from a peer outside proxy_allow a PROXY line is not a header;
 *   an unfinished header is closed after frame_timeout;
 *   on the HTTP listener stats_allow sees the named address.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"
#include "t/tweb.h"

#define WAIT_MS 5000

/* open_proxied - a connection from 127.0.0.1 that sends hdr (len bytes) first; its greeting read. */
static struct tc *
open_proxied(unsigned port, const char *hdr, size_t len)
{
	struct tc *c = tc_open(port);

	if (c == NULL || tc_send(c, hdr, len) < 0 || tc_greeting(c) < 0)
		tap_bail("a proxied connection failed");
	return c;
}

/* v1 - a PROXY v1 line naming src (IPv4). */
static size_t
v1(char *dst, size_t cap, const char *src)
{
	return (size_t)snprintf(dst, cap, "PROXY TCP4 %s 127.0.0.1 40000 8081\r\n", src);
}

/* v2 - a PROXY v2 header (TCP over IPv4) naming a.b.c.d:port. */
static size_t
v2(char *dst, const unsigned char src[4], unsigned port)
{
	static const char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	size_t n = 0;

	memcpy(dst, sig, 12);
	n = 12;
	dst[n++] = 0x21;           /* version 2, PROXY */
	dst[n++] = 0x11;           /* AF_INET, STREAM */
	dst[n++] = 0;
	dst[n++] = 12;             /* addresses: 4 + 4 + 2 + 2 */
	memcpy(dst + n, src, 4);
	n += 4;
	memcpy(dst + n, "\x7f\x00\x00\x01", 4);
	n += 4;
	dst[n++] = (char)(port >> 8);
	dst[n++] = (char)port;
	dst[n++] = 0x1f;
	dst[n++] = (char)0x91;
	return n;
}

/* publish_answer - send a publish action asking for an ack; the reply frame into f. */
static long
publish_answer(struct tc *c, char *f, size_t cap)
{
	tc_sendz(c, "{\"action\":\"publish\",\"topic\":\"px\",\"data\":1,\"ack\":true}");
	return tc_frame(c, f, cap, WAIT_MS);
}

static void
test_janus_port(void)
{
	static const char *const args[] = { "-w", "2", "-o", "proxy_allow=127.0.0.1/32",
	    "-o", "max_conns_per_ip=2", "-o", "frame_timeout=300ms", "-o", "log_level=info", NULL };
	static const unsigned char far[4] = { 10, 1, 2, 4 }, near[4] = { 127, 0, 0, 9 };
	char hdr[128], f[512];
	struct tc *c, *d, *e;
	struct tsrv s;
	size_t n;

	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	n = v1(hdr, sizeof(hdr), "10.1.2.3");
	c = open_proxied(s.port, hdr, n);
	publish_answer(c, f, sizeof(f));
	tap_ok(tc_is_error(f, "not_allowed"), "v1 header naming 10.1.2.3: publish_allow judges that address (%s)", f);
	tap_ok(tc_subscribe(c, "px") == 0, "... and it may subscribe");
	tc_close(c);
	tap_ok(tsrv_log_wait(&s, "client 10.1.2.3:40000", WAIT_MS), "the log names the client, not the proxy");
	n = v1(hdr, sizeof(hdr), "127.0.0.9");
	c = open_proxied(s.port, hdr, n);
	tap_ok(publish_answer(c, f, sizeof(f)) > 0 && strncmp(f, "{\"published\":", 13) == 0,
	    "v1 header naming 127.0.0.9: it may publish (%s)", f);
	tc_close(c);
	n = v2(hdr, far, 40001);
	c = open_proxied(s.port, hdr, n);
	publish_answer(c, f, sizeof(f));
	tap_ok(tc_is_error(f, "not_allowed"), "v2 header naming 10.1.2.4: refused the same way");
	tc_close(c);
	n = v2(hdr, near, 40002);
	c = open_proxied(s.port, hdr, n);
	tap_ok(publish_answer(c, f, sizeof(f)) > 0 && strncmp(f, "{\"published\":", 13) == 0,
	    "v2 header naming 127.0.0.9: allowed");
	tc_close(c);
	c = open_proxied(s.port, "PROXY UNKNOWN\r\n", 15);
	tap_ok(publish_answer(c, f, sizeof(f)) > 0 && strncmp(f, "{\"published\":", 13) == 0,
	    "UNKNOWN: the proxy's own address (loopback) stands: allowed");
	tc_close(c);
	c = open_proxied(s.port, "PROXY TCP4 nonsense\r\n", 21);
	tap_ok(tc_eof(c, WAIT_MS), "a malformed header from a proxy_allow peer: closed");
	tc_close(c);

	n = v1(hdr, sizeof(hdr), "10.7.7.7");
	c = open_proxied(s.port, hdr, n);
	d = open_proxied(s.port, hdr, n);
	/* the greeting comes before the header is read: an ACK says each was counted, in its worker */
	if (tc_subscribe(c, "px") != 0 || tc_subscribe(d, "px") != 0)
		tap_bail("the first two connections for 10.7.7.7 cannot subscribe");
	e = open_proxied(s.port, hdr, n);
	tap_ok(tc_frame(e, f, sizeof(f), WAIT_MS) > 0 && tc_is_error(f, "limit") && tc_eof(e, WAIT_MS),
	    "max_conns_per_ip 2: a third connection for 10.7.7.7, through the proxy, gets limit and is closed");
	tc_close(e);
	n = v1(hdr, sizeof(hdr), "10.7.7.8");
	e = open_proxied(s.port, hdr, n);
	tap_ok(tc_subscribe(e, "px") == 0, "... while 10.7.7.8 through the same proxy is fine");
	tc_close(c);
	tc_close(d);
	tc_close(e);

	c = tc_open_from(s.port, "127.0.0.2");
	if (c == NULL || tc_greeting(c) < 0)
		tap_bail("cannot connect from 127.0.0.2");
	n = v1(hdr, sizeof(hdr), "127.0.0.9");
	tc_send(c, hdr, n);
	tc_sendz(c, "{\"action\":\"subscribe\",\"data\":\"px\"}");
	tap_ok(tc_frame(c, f, sizeof(f), WAIT_MS) > 0 && tc_is_error(f, "bad_frame"),
	    "from a peer outside proxy_allow a PROXY line is no header: its bytes are a bad frame");
	tc_close(c);
	c = open_proxied(s.port, "PROXY TCP4 10.1", 15);
	tap_ok(tc_eof(c, WAIT_MS), "a header not finished within frame_timeout: closed");
	tc_close(c);
	tsrv_stop(&s, 0);
}

static void
test_http_port(void)
{
	static const char *const args[] = { "-w", "1", "-o", "proxy_allow=127.0.0.1/32", NULL };
	struct tw_resp r;
	char req[256];
	struct tc *c;
	struct tsrv s;
	size_t n;

	if (tsrv_start_http(&s, args) < 0)
		tap_bail("cannot start janusd");
	c = tc_open(s.hport);
	n = v1(req, sizeof(req), "10.1.2.3");
	n += (size_t)snprintf(req + n, sizeof(req) - n, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
	tap_ok(c != NULL && tc_send(c, req, n) == 0 && tw_response(c, &r, 0, WAIT_MS) == 0 && r.status == 403,
	    "HTTP listener: /stats for a client the header names outside stats_allow: 403 (%d)", r.status);
	tc_close(c);
	c = tc_open(s.hport);
	n = v1(req, sizeof(req), "127.0.0.5");
	n += (size_t)snprintf(req + n, sizeof(req) - n, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
	tap_ok(c != NULL && tc_send(c, req, n) == 0 && tw_response(c, &r, 0, WAIT_MS) == 0 && r.status == 200,
	    "... and for one inside (127.0.0.5): 200 (%d)", r.status);
	tc_close(c);
	tsrv_stop(&s, 0);
}

int
main(void)
{
	tap_plan(12 + 2);
	test_janus_port();
	test_http_port();
	return tap_done();
}
