/*
 * t/http_parse.c - unit test for proto/http.c.
 *
 * Owns: a table of request heads, one or more per row of PROTOCOL.md
 * Part 3's answer table and per rule of the head grammar (request line,
 * versions, targets, fields and their case, Host, line endings, obs-fold,
 * bodies, keep-alive of 1.0 and 1.1, the WebSocket upgrade and its
 * fields, the head limit), each with the answer it must get, parsed
 * whole, growing a byte at a time, and split at every point; heads not
 * yet complete, pipelined heads, lines not read twice, spans; and the
 * exact bytes of rendered answer heads. Every buffer the parser and
 * renderer see is an exactly sized malloc'd copy so ASan catches reads
 * and writes past it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"
#include "t/tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1
#define MAX 1024

/* Pieces of heads. */
#define H "Host: janus.test\r\n"
#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define UPG "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
#define WS "GET /ws HTTP/1.1\r\n" H UPG KEY

struct hcase {
	const char *what;
	const char *head;
	size_t len;
	size_t max;          /* 0: MAX */
	const char *want;    /* as describe() writes the answer */
};

static const struct hcase cases[] = {
	/* Part 3's routes */
	{ "GET /", S("GET / HTTP/1.1\r\n" H "\r\n"), 0, "200 page keep" },
	{ "GET /stats", S("GET /stats HTTP/1.1\r\n" H "\r\n"), 0, "200 stats keep" },
	{ "GET /metrics", S("GET /metrics HTTP/1.1\r\n" H "\r\n"), 0, "200 metrics keep" },
	{ "GET /healthz", S("GET /healthz HTTP/1.1\r\n" H "\r\n"), 0, "200 healthz keep" },
	{ "a query is not part of the path", S("GET /stats?pretty=1 HTTP/1.1\r\n" H "\r\n"), 0,
	    "200 stats keep" },
	{ "GET /?x", S("GET /?x HTTP/1.1\r\n" H "\r\n"), 0, "200 page keep" },
	{ "HEAD /", S("HEAD / HTTP/1.1\r\n" H "\r\n"), 0, "200 page keep head" },
	{ "HEAD /stats", S("HEAD /stats HTTP/1.1\r\n" H "\r\n"), 0, "200 stats keep head" },
	{ "HEAD /metrics", S("HEAD /metrics HTTP/1.1\r\n" H "\r\n"), 0, "200 metrics keep head" },
	{ "HEAD /healthz", S("HEAD /healthz HTTP/1.1\r\n" H "\r\n"), 0, "200 healthz keep head" },
	{ "another path", S("GET /nope HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep" },
	{ "paths are case-sensitive", S("GET /Stats HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep" },
	{ "a trailing slash is another path", S("GET /stats/ HTTP/1.1\r\n" H "\r\n"), 0,
	    "404 error keep" },
	{ "no percent-decoding", S("GET /%73tats HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep" },
	{ "HEAD of another path", S("HEAD /x HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep head" },
	{ "POST /stats", S("POST /stats HTTP/1.1\r\n" H "\r\n"), 0, "405 error keep" },
	{ "PUT /", S("PUT / HTTP/1.1\r\n" H "\r\n"), 0, "405 error keep" },
	{ "DELETE /ws", S("DELETE /ws HTTP/1.1\r\n" H UPG KEY "\r\n"), 0, "405 error keep" },
	{ "methods are case-sensitive", S("get / HTTP/1.1\r\n" H "\r\n"), 0, "405 error keep" },
	{ "another method, another path", S("POST /x HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep" },
	{ "OPTIONS *", S("OPTIONS * HTTP/1.1\r\n" H "\r\n"), 0, "404 error keep" },
	{ "CONNECT authority-form", S("CONNECT janus.test:443 HTTP/1.1\r\n" H "\r\n"), 0,
	    "404 error keep" },
	{ "GET *", S("GET * HTTP/1.1\r\n" H "\r\n"), 0, "400 error close (bad request target)" },

	/* absolute-form targets */
	{ "absolute-form", S("GET http://janus.test/stats HTTP/1.1\r\n" H "\r\n"), 0,
	    "200 stats keep" },
	{ "absolute-form, no path", S("GET http://janus.test HTTP/1.1\r\n" H "\r\n"), 0,
	    "200 page keep" },
	{ "absolute-form, scheme in capitals, query", S("GET HTTPS://j:1?q HTTP/1.1\r\n" H "\r\n"),
	    0, "200 page keep" },
	{ "absolute-form, empty authority", S("GET http:///stats HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "absolute-form /ws upgrade", S("GET http://janus.test/ws HTTP/1.1\r\n" H UPG KEY "\r\n"),
	    0, "101 upgrade keep" },
	{ "another scheme", S("GET ftp://janus.test/ HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },

	/* the upgrade */
	{ "GET /ws with a valid upgrade", S(WS "\r\n"), 0, "101 upgrade keep" },
	{ "upgrade offering janus", S(WS "Sec-WebSocket-Protocol: chat, janus\r\n\r\n"), 0,
	    "101 upgrade keep janus" },
	{ "janus offered in a second field", S(WS "Sec-WebSocket-Protocol: chat\r\n"
	    "Sec-WebSocket-Protocol:janus \r\n\r\n"), 0, "101 upgrade keep janus" },
	{ "subprotocols are case-sensitive", S(WS "Sec-WebSocket-Protocol: Janus, janus2\r\n\r\n"),
	    0, "101 upgrade keep" },
	{ "extensions are ignored", S(WS "Sec-WebSocket-Extensions: permessage-deflate; "
	    "client_max_window_bits\r\n\r\n"), 0, "101 upgrade keep" },
	{ "field names and tokens in any case", S("GET /ws HTTP/1.1\r\nhOsT: x\r\n"
	    "UPGRADE: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"
	    "SEC-WEBSOCKET-VERSION: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
	    0, "101 upgrade keep" },
	{ "Upgrade among other protocols", S("GET /ws HTTP/1.1\r\n" H "Upgrade: h2c, websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" KEY "\r\n"), 0,
	    "101 upgrade keep" },
	{ "GET /ws without upgrade fields", S("GET /ws HTTP/1.1\r\n" H "\r\n"), 0,
	    "426 error keep" },
	{ "another Upgrade protocol", S("GET /ws HTTP/1.1\r\n" H "Upgrade: h2c\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" KEY "\r\n"), 0,
	    "426 error keep" },
	{ "no Connection: Upgrade", S("GET /ws HTTP/1.1\r\n" H "Upgrade: websocket\r\n"
	    "Connection: keep-alive\r\nSec-WebSocket-Version: 13\r\n" KEY "\r\n"), 0,
	    "426 error keep" },
	{ "version 8", S("GET /ws HTTP/1.1\r\n" H "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 8\r\n" KEY "\r\n"), 0, "426 error keep" },
	{ "no version", S("GET /ws HTTP/1.1\r\n" H "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    KEY "\r\n"), 0, "426 error keep" },
	{ "two versions", S(WS "Sec-WebSocket-Version: 13\r\n\r\n"), 0, "426 error keep" },
	{ "upgrade over HTTP/1.0", S("GET /ws HTTP/1.0\r\n" H UPG KEY "\r\n"), 0,
	    "426 error close" },
	{ "HEAD /ws never upgrades", S("HEAD /ws HTTP/1.1\r\n" H UPG KEY "\r\n"), 0,
	    "426 error keep head" },
	{ "upgrade without a key", S("GET /ws HTTP/1.1\r\n" H UPG "\r\n"), 0, "400 error close" },
	{ "key of 15 bytes", S("GET /ws HTTP/1.1\r\n" H UPG
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n\r\n"), 0, "400 error close" },
	{ "key of 17 bytes", S("GET /ws HTTP/1.1\r\n" H UPG
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"), 0, "400 error close" },
	{ "key not base64", S("GET /ws HTTP/1.1\r\n" H UPG
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n\r\n"), 0, "400 error close" },
	{ "two keys", S(WS KEY "\r\n"), 0, "400 error close" },
	{ "POST /ws", S("POST /ws HTTP/1.1\r\n" H UPG KEY "\r\n"), 0, "405 error keep" },

	/* keep-alive */
	{ "1.1 Connection: close", S("GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0,
	    "200 page close" },
	{ "1.1 close among tokens", S("GET / HTTP/1.1\r\n" H "Connection: keep-alive,  close\r\n\r\n"),
	    0, "200 page close" },
	{ "1.1 close in a second field", S("GET / HTTP/1.1\r\n" H "Connection: foo\r\n"
	    "Connection: CLOSE\r\n\r\n"), 0, "200 page close" },
	{ "1.0 closes by default", S("GET / HTTP/1.0\r\n\r\n"), 0, "200 page close" },
	{ "1.0 keep-alive", S("GET /stats HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0,
	    "200 stats keep" },
	{ "1.0 keep-alive and close", S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
	    0, "200 page close" },
	{ "1.0 404 keep-alive", S("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0,
	    "404 error keep" },
	{ "HTTP/1.2 is served as 1.1", S("GET / HTTP/1.2\r\n" H "\r\n"), 0, "200 page keep" },
	{ "HTTP/1.9 needs a Host too", S("GET / HTTP/1.9\r\n\r\n"), 0, "400 error close (no Host)" },

	/* bodies */
	{ "GET with a body", S("GET / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n"), 0,
	    "400 error close" },
	{ "GET with Content-Length: 0", S("GET / HTTP/1.1\r\n" H "Content-Length: 000\r\n\r\n"), 0,
	    "200 page keep" },
	{ "GET chunked", S("GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"), 0,
	    "400 error close" },
	{ "HEAD with a body", S("HEAD /stats HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\n"), 0,
	    "400 error close head" },
	{ "upgrade with a body", S(WS "Content-Length: 3\r\n\r\n"), 0, "400 error close" },
	{ "POST with a body", S("POST /stats HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n"), 0,
	    "405 error close" },
	{ "POST chunked, 1.0", S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: keep-alive\r\n\r\n"), 0, "405 error close" },
	{ "POST with a body to another path", S("POST /x HTTP/1.1\r\n" H "Content-Length: 2\r\n\r\n"),
	    0, "404 error close" },
	{ "Content-Length and Transfer-Encoding", S("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0,
	    "400 error close (Content-Length with Transfer-Encoding)" },
	{ "two Content-Lengths", S("GET / HTTP/1.1\r\n" H "Content-Length: 0\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, "400 error close (more than one Content-Length)" },
	{ "Content-Length list", S("GET / HTTP/1.1\r\n" H "Content-Length: 0, 0\r\n\r\n"), 0,
	    "400 error close (bad Content-Length)" },
	{ "Content-Length not a number", S("GET / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n"), 0,
	    "400 error close (bad Content-Length)" },
	{ "Content-Length empty", S("GET / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n"), 0,
	    "400 error close (bad Content-Length)" },
	{ "Content-Length of 19 digits", S("GET / HTTP/1.1\r\n" H
	    "Content-Length: 1000000000000000000\r\n\r\n"), 0, "400 error close (bad Content-Length)" },

	/* versions */
	{ "HTTP/2.0", S("GET / HTTP/2.0\r\n" H "\r\n"), 0,
	    "505 error close (http version not supported)" },
	{ "HTTP/0.9", S("GET / HTTP/0.9\r\n\r\n"), 0, "505 error close (http version not supported)" },
	{ "HTTP/3.1", S("GET / HTTP/3.1\r\n" H "\r\n"), 0,
	    "505 error close (http version not supported)" },
	{ "HTTP/1.10", S("GET / HTTP/1.10\r\n" H "\r\n"), 0, "400 error close (bad http version)" },
	{ "http/1.1", S("GET / http/1.1\r\n" H "\r\n"), 0, "400 error close (bad http version)" },
	{ "HTTP/1", S("GET / HTTP/1\r\n" H "\r\n"), 0, "400 error close (bad http version)" },
	{ "HTTP/1.x", S("GET / HTTP/1.x\r\n" H "\r\n"), 0, "400 error close (bad http version)" },
	{ "HTTP/11.1", S("GET / HTTP/11.1\r\n" H "\r\n"), 0, "400 error close (bad http version)" },

	/* request lines */
	{ "two spaces after the method", S("GET  / HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "a space after the version", S("GET / HTTP/1.1 \r\n" H "\r\n"), 0,
	    "400 error close (bad http version)" },
	{ "no version", S("GET /\r\n" H "\r\n"), 0, "400 error close (bad request target)" },
	{ "method only", S("GET\r\n" H "\r\n"), 0, "400 error close (bad method)" },
	{ "leading space", S(" GET / HTTP/1.1\r\n" H "\r\n"), 0, "400 error close (bad method)" },
	{ "tab as separator", S("GET\t/ HTTP/1.1\r\n" H "\r\n"), 0, "400 error close (bad method)" },
	{ "a method with a bad character", S("G(T / HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad method)" },
	{ "a target without a slash", S("GET ws HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "DEL in the target", S("GET /a\x7f" "b HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "non-ASCII in the target", S("GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "NUL in the target", S("GET /\0 HTTP/1.1\r\n" H "\r\n"), 0,
	    "400 error close (bad request target)" },
	{ "empty lines before the request line", S("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"), 0,
	    "200 page keep" },

	/* fields */
	{ "no Host in 1.1", S("GET / HTTP/1.1\r\n\r\n"), 0, "400 error close (no Host)" },
	{ "two Hosts", S("GET / HTTP/1.1\r\n" H "host: other\r\n\r\n"), 0,
	    "400 error close (more than one Host)" },
	{ "two Hosts in 1.0", S("GET / HTTP/1.0\r\n" H H "\r\n"), 0,
	    "400 error close (more than one Host)" },
	{ "a Host with a space", S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 0,
	    "400 error close (bad Host)" },
	{ "a Host with a slash", S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 0,
	    "400 error close (bad Host)" },
	{ "an empty Host", S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, "200 page keep" },
	{ "an IPv6 Host with a port", S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0,
	    "200 page keep" },
	{ "two Origins", S("GET / HTTP/1.1\r\n" H "Origin: a\r\nOrigin: b\r\n\r\n"), 0,
	    "400 error close (more than one Origin)" },
	{ "space before the colon", S("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 0,
	    "400 error close (bad field name)" },
	{ "no field name", S("GET / HTTP/1.1\r\n" H ": x\r\n\r\n"), 0,
	    "400 error close (bad field name)" },
	{ "no colon", S("GET / HTTP/1.1\r\n" H "X-Thing\r\n\r\n"), 0,
	    "400 error close (bad field name)" },
	{ "a bad character in a name", S("GET / HTTP/1.1\r\n" H "X(y): 1\r\n\r\n"), 0,
	    "400 error close (bad field name)" },
	{ "obs-fold", S("GET / HTTP/1.1\r\n" H "X-Long: a\r\n b\r\n\r\n"), 0,
	    "400 error close (obs-fold)" },
	{ "obs-fold with a tab", S("GET / HTTP/1.1\r\n" H "X-Long: a\r\n\tb\r\n\r\n"), 0,
	    "400 error close (obs-fold)" },
	{ "whitespace before the first field", S("GET / HTTP/1.1\r\n " H "\r\n"), 0,
	    "400 error close (obs-fold)" },
	{ "NUL in a value", S("GET / HTTP/1.1\r\n" H "X: a\0b\r\n\r\n"), 0,
	    "400 error close (bad field value)" },
	{ "DEL in a value", S("GET / HTTP/1.1\r\n" H "X: a\x7f\r\n\r\n"), 0,
	    "400 error close (bad field value)" },
	{ "a control byte in the Host", S("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n"), 0,
	    "400 error close (bad field value)" },
	{ "tabs and obs-text in a value", S("GET / HTTP/1.1\r\n" H "X:\ta \xff\xc3\xa9\t\r\n\r\n"), 0,
	    "200 page keep" },
	{ "unknown fields are ignored", S("GET /healthz HTTP/1.1\r\n" H "Accept: */*\r\n"
	    "User-Agent: curl/8\r\nX-Empty:\r\n\r\n"), 0, "200 healthz keep" },

	/* line endings */
	{ "bare LF after the request line", S("GET / HTTP/1.1\n" H "\r\n"), 0,
	    "400 error close (bare LF)" },
	{ "bare LF after a field", S("GET / HTTP/1.1\r\nHost: x\n\r\n"), 0,
	    "400 error close (bare LF)" },
	{ "bare LF as the empty line", S("GET / HTTP/1.1\r\n" H "\n"), 0,
	    "400 error close (bare LF)" },
	{ "a leading bare LF", S("\nGET / HTTP/1.1\r\n" H "\r\n"), 0, "400 error close (bare LF)" },
	{ "bare CR in a value", S("GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n"), 0,
	    "400 error close (bare CR)" },
	{ "CR CR LF", S("GET / HTTP/1.1\r\r\n" H "\r\n"), 0, "400 error close (bare CR)" },
	{ "CR CR LF as the empty line", S("GET / HTTP/1.1\r\n" H "\r\r\n"), 0,
	    "400 error close (bare CR)" },

	/* the head limit */
	{ "a head of exactly the limit", S("GET / HTTP/1.1\r\n" H "\r\n"), 36, "200 page keep" },
	{ "one byte over the limit", S("GET / HTTP/1.1\r\n" H "\r\n"), 35,
	    "431 error close (request head too large)" },
	{ "the limit reached with the head unfinished", S("GET / HTTP/1.1\r\n" H "\r"), 35,
	    "431 error close (request head too large)" },
	{ "a request line over the limit", S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 32,
	    "431 error close (request head too large)" },
	{ "leading empty lines count", S("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"), 38,
	    "431 error close (request head too large)" },
	{ "a bad line before the limit is 400", S("GET / HTTP/1.1\nHost: xxxxxxxxxxxxxxxx"), 20,
	    "400 error close (bare LF)" },
};

/* describe - an answer as `STATUS ROUTE keep|close[ head][ janus][ (why)]`. */
static void
describe(const struct http_req *r, enum http_result res, const struct http_answer *a,
    char *out, size_t cap)
{
	static const char *const routes[] = { "error", "upgrade", "page", "stats",
		"metrics", "healthz" };

	snprintf(out, cap, "%u %s %s%s%s%s%s%s", a->status, routes[a->route],
	    a->keep_alive ? "keep" : "close", a->head_only ? " head" : "",
	    a->janus ? " janus" : "", res == HTTP_ERROR ? " (" : "",
	    res == HTTP_ERROR ? r->why : "", res == HTTP_ERROR ? ")" : "");
}

/* parse_copy - http_parse over an exactly sized heap copy of n bytes. */
static enum http_result
parse_copy(struct http_req *r, const char *head, size_t n, size_t max, char **copy)
{
	free(*copy);
	if ((*copy = malloc(n > 0 ? n : 1)) == NULL)
		tap_bail("out of memory");
	memcpy(*copy, head, n);
	return http_parse(r, *copy, n, max);
}

/*
 * run_growing - parse the head as a caller would, with the buffer growing
 * to each cut in turn, then to all of it; stop when done. The answer
 * and head length as a line.
 */
static void
run_growing(const struct hcase *c, const size_t *cuts, size_t ncuts, char *out, size_t cap)
{
	struct http_req r;
	struct http_answer a;
	enum http_result res = HTTP_MORE;
	char *copy = NULL, line[200];
	size_t i, max = c->max ? c->max : MAX;

	memset(&r, 0, sizeof(r));
	for (i = 0; i <= ncuts && res == HTTP_MORE; i++)
		res = parse_copy(&r, c->head, i < ncuts ? cuts[i] : c->len, max, &copy);
	if (res == HTTP_MORE) {
		snprintf(out, cap, "MORE");
	} else {
		http_decide(&r, copy, &a);
		describe(&r, res, &a, line, sizeof(line));
		snprintf(out, cap, "%s len %u", line, res == HTTP_DONE ? (unsigned)r.head_len : 0);
	}
	free(copy);
}

/* check_case - one head: whole, growing a byte at a time, split at every point. */
static void
check_case(const struct hcase *c)
{
	char want[240], got[240];
	size_t *cuts = malloc((c->len + 1) * sizeof(*cuts)), i;

	if (cuts == NULL)
		tap_bail("out of memory");
	/* A head the parser refused has no length; any other is all the bytes. */
	snprintf(want, sizeof(want), "%s len %zu", c->want, strchr(c->want, '(') ? 0 : c->len);
	run_growing(c, NULL, 0, got, sizeof(got));
	tap_is_str(got, want, "%s", c->what);
	for (i = 0; i < c->len; i++)
		cuts[i] = i + 1;
	run_growing(c, cuts, c->len, got, sizeof(got));
	for (i = 0; i <= c->len && strcmp(got, want) == 0; i++)
		run_growing(c, &i, 1, got, sizeof(got));
	if (!tap_ok(strcmp(got, want) == 0, "%s: the same a byte at a time and split at every point",
	    c->what))
		tap_diag("a byte at a time, or split at %zu: got '%s'", i - 1, got);
	free(cuts);
}

/* test_more - a head not yet whole is HTTP_MORE, then HTTP_DONE. */
static void
test_more(void)
{
	static const char head[] = "GET / HTTP/1.1\r\n" H "\r\n";
	struct http_req r;
	char *copy = NULL;
	size_t n, bad = 0;

	for (n = 0; n < sizeof(head) - 1; n++) {
		memset(&r, 0, sizeof(r));
		if (parse_copy(&r, head, n, MAX, &copy) != HTTP_MORE)
			bad++;
	}
	tap_is_int((long long)bad, 0, "every proper prefix of a head: HTTP_MORE");
	memset(&r, 0, sizeof(r));
	parse_copy(&r, head, 20, MAX, &copy);
	tap_ok(r.scan == 20 && r.line == 16, "the parser resumes where it stopped (scan %u, line %u)",
	    (unsigned)r.scan, (unsigned)r.line);
	tap_is_int(parse_copy(&r, head, sizeof(head) - 1, MAX, &copy), HTTP_DONE, "then HTTP_DONE");
	tap_is_int(parse_copy(&r, head, sizeof(head) - 1, MAX, &copy), HTTP_DONE,
	    "and HTTP_DONE again if asked again");
	free(copy);
}

/* test_no_reread - lines already parsed are not read again (O(n) however split). */
static void
test_no_reread(void)
{
	static const char part1[] = "GET / HTTP/1.1\r\nHost: x\r\n";
	static const char part2[] = "XXXXXXXXXXXXXXXXXXXXXXXXX" "\r\n";
	struct http_req r;
	char *copy = NULL;

	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, part1, sizeof(part1) - 1, MAX, &copy), HTTP_MORE,
	    "request line and Host parsed");
	tap_is_int(parse_copy(&r, part2, sizeof(part2) - 1, MAX, &copy), HTTP_DONE,
	    "the same bytes overwritten with junk, then the empty line: still HTTP_DONE");
	free(copy);
}

/* test_pipelined - three heads in one read, the last unfinished. */
static void
test_pipelined(void)
{
	static const char buf[] = "GET /stats HTTP/1.1\r\n" H "\r\n"
	    "HEAD /metrics HTTP/1.1\r\n" H "\r\n" "GET /healthz HTT";
	const size_t l1 = 21 + 18 + 2, l2 = 24 + 18 + 2;
	struct http_req r;
	struct http_answer a;
	char *copy = NULL, line[200];
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, buf, sizeof(buf) - 1, MAX, &copy), HTTP_DONE, "first head");
	tap_is_int(r.head_len, (long long)l1, "its length");
	http_decide(&r, copy, &a);
	describe(&r, HTTP_DONE, &a, line, sizeof(line));
	tap_is_str(line, "200 stats keep", "its answer");
	off += r.head_len;
	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, buf + off, sizeof(buf) - 1 - off, MAX, &copy), HTTP_DONE,
	    "second head, from the first one's end");
	tap_is_int(r.head_len, (long long)l2, "its length");
	http_decide(&r, copy, &a);
	describe(&r, HTTP_DONE, &a, line, sizeof(line));
	tap_is_str(line, "200 metrics keep head", "its answer");
	off += r.head_len;
	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, buf + off, sizeof(buf) - 1 - off, MAX, &copy), HTTP_MORE,
	    "third: not finished");
	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, buf, sizeof(buf) - 1, 50, &copy), HTTP_DONE,
	    "limit 50 with %zu bytes read: the first head fits, so HTTP_DONE", sizeof(buf) - 1);
	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, "GET / HTTP/1.1\r\n" H "\r\n\n\0\r", 39, MAX, &copy), HTTP_DONE,
	    "bytes after a head are not looked at");
	free(copy);
}

/* span_is - a span's bytes. */
static int
span_is(const char *buf, struct http_span sp, const char *want, const char *what)
{
	return tap_is_mem(buf + sp.off, sp.len, want, strlen(want), "%s", what);
}

/* test_spans - path, key and origin point at their bytes, without whitespace. */
static void
test_spans(void)
{
	static const char head[] = "GET /ws?x=1 HTTP/1.1\r\n" H UPG
	    "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ== \t\r\n"
	    "Origin:  https://page.test:8443 \r\n\r\n";
	struct http_req r;
	struct http_answer a;
	char *copy = NULL;

	memset(&r, 0, sizeof(r));
	tap_is_int(parse_copy(&r, head, sizeof(head) - 1, MAX, &copy), HTTP_DONE, "upgrade head");
	span_is(copy, r.path, "/ws", "path without the query");
	span_is(copy, r.key, "dGhlIHNhbXBsZSBub25jZQ==", "key without surrounding whitespace");
	tap_ok(r.flags & HTTP_F_ORIGIN, "Origin noted");
	span_is(copy, r.origin, "https://page.test:8443", "origin without surrounding whitespace");
	http_decide(&r, copy, &a);
	tap_is_str(a.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "the 101's accept from RFC 6455's key");
	memset(&r, 0, sizeof(r));
	parse_copy(&r, S("GET / HTTP/1.1\r\n" H "\r\n"), MAX, &copy);
	tap_ok(!(r.flags & HTTP_F_ORIGIN), "no Origin, none noted");
	free(copy);
}

/* render_is - render into an exactly sized buffer and compare. */
static void
render_is(const struct http_answer *a, const char *type, size_t length, const char *want,
    const char *what)
{
	size_t n = strlen(want);
	char *dst = malloc(n + 1);
	long got;

	if (dst == NULL)
		tap_bail("out of memory");
	got = http_render(dst, n + 1, a, type, length);
	tap_is_mem(dst, got < 0 ? 0 : (size_t)got, want, n, "%s", what);
	tap_is_int(http_render(dst, n, a, type, length), -1, "%s: one byte less room: -1", what);
	free(dst);
}

/* answer_of - the answer to a head. */
static void
answer_of(const char *head, struct http_answer *a)
{
	struct http_req r;
	char *copy = NULL;

	memset(&r, 0, sizeof(r));
	parse_copy(&r, head, strlen(head), MAX, &copy);
	http_decide(&r, copy, a);
	free(copy);
}

/* test_render - the exact bytes of each kind of answer head. */
static void
test_render(void)
{
	struct http_answer a;

	answer_of("GET / HTTP/1.1\r\n" H "\r\n", &a);
	render_is(&a, "text/html; charset=utf-8", 1234, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\n"
	    "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\n", "200 keep-alive");
	answer_of("HEAD /metrics HTTP/1.0\r\n\r\n", &a);
	render_is(&a, "text/plain; version=0.0.4", 99, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4\r\nContent-Length: 99\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n", "HEAD over 1.0: GET's length, close");
	answer_of("GET /x HTTP/1.1\r\n" H "\r\n", &a);
	tap_is_str(a.body, "Not Found", "404 body");
	render_is(&a, HTTP_TEXT, strlen(a.body), "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n"
	    "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\n", "404");
	answer_of("PUT /stats HTTP/1.1\r\n" H "\r\n", &a);
	render_is(&a, HTTP_TEXT, strlen(a.body), "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 18\r\n"
	    "Cache-Control: no-store\r\nConnection: keep-alive\r\nAllow: GET, HEAD\r\n\r\n",
	    "405 with Allow");
	answer_of("GET /ws HTTP/1.1\r\n" H "\r\n", &a);
	render_is(&a, HTTP_TEXT, strlen(a.body), "HTTP/1.1 426 Upgrade Required\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n"
	    "Cache-Control: no-store\r\nConnection: Upgrade, keep-alive\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    "426 with Upgrade and the version");
	answer_of("GET / HTTP/1.1\r\n\r\n", &a);
	render_is(&a, HTTP_TEXT, strlen(a.body), "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n", "400 closes");
	answer_of(WS "\r\n", &a);
	render_is(&a, NULL, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	    "101, no Content-Length");
	answer_of(WS "Sec-WebSocket-Protocol: janus\r\n\r\n", &a);
	render_is(&a, NULL, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	    "Sec-WebSocket-Protocol: janus\r\n\r\n", "101 with subprotocol janus");
	answer_of("GET /stats HTTP/1.1\r\n" H "\r\n", &a);
	http_answer_error(&a, 403);
	tap_ok(a.route == HTTP_R_ERROR && a.keep_alive && strcmp(a.body, "Forbidden") == 0,
	    "http_answer_error 403: an error answer, still keep-alive");
	render_is(&a, HTTP_TEXT, strlen(a.body), "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n"
	    "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\n", "403");
	answer_of("HEAD /healthz HTTP/1.1\r\n" H "\r\n", &a);
	http_answer_error(&a, 503);
	tap_ok(a.head_only && a.status == 503 && strcmp(a.body, "Service Unavailable") == 0,
	    "http_answer_error 503 on a HEAD: still head only");
}

/* test_reasons - a phrase for every status this server sends. */
static void
test_reasons(void)
{
	static const unsigned st[] = { 101, 200, 400, 403, 404, 405, 426, 431, 503, 505 };
	size_t i, bad = 0;

	for (i = 0; i < NELEM(st); i++)
		bad += strcmp(http_reason(st[i]), "Internal Server Error") == 0;
	tap_is_int((long long)bad, 0, "a reason phrase for each of %zu statuses", NELEM(st));
	tap_is_str(http_reason(431), "Request Header Fields Too Large", "431's phrase");
}

int
main(void)
{
	size_t i;

	tap_plan((int)(2 * NELEM(cases)) + 4 + 2 + 9 + 7 + 21 + 2);
	for (i = 0; i < NELEM(cases); i++)
		check_case(&cases[i]);
	test_more();
	test_no_reread();
	test_pipelined();
	test_spans();
	test_render();
	test_reasons();
	return tap_done();
}
