/*
 * proto/http.h - HTTP/1.1 request heads (RFC 9110, RFC 9112) for the
 * stats and WebSocket listener (PROTOCOL.md Part 3), and the heads of
 * its answers.
 *
 * Owns: parsing one request head, deciding which of Part 3's answers it
 * gets, and rendering that answer's status line and headers. Must not
 * know about sockets, timers, counters or configuration: the caller
 * accumulates bytes, serves the routes, and applies stats_allow,
 * ws_origins and the head deadline (http_answer_error turns an answer
 * into a 403 or 503).
 *
 * Parsing (http_parse) is incremental: the caller keeps the head's bytes
 * in one buffer (it may move between calls; the parser keeps offsets)
 * and calls again with the longer buffer after each read. Each byte is
 * searched once for its line's end and each line parsed once, so a head
 * costs O(its length) however it was split. HTTP_DONE gives head_len:
 * bytes after it belong to the next request (pipelining) and are never
 * looked at; to parse that one, zero a new struct and pass buf + head_len.
 * Spans are offsets into the buffer.
 *
 * Decisions, strict where RFC 9112 allows a choice:
 * - Lines end with CRLF. A bare LF or CR anywhere is 400 (RFC 9112 2.2
 *   allows tolerating a bare LF; refusing it leaves no two readings of
 *   one head). Empty lines before the request line are skipped (2.2).
 * - Request line: exactly `METHOD SP TARGET SP HTTP/D.D`. HTTP/1.0 and
 *   1.1 are served, 1.2..1.9 as 1.1 (RFC 9110 2.5), any other major
 *   version is 505. Targets: origin-form, or absolute-form (http/https;
 *   its Host header is then not used for anything). Other forms
 *   (`OPTIONS *`, CONNECT's authority) pass only for methods other than
 *   GET and HEAD and then name no path: 404.
 * - Fields: a token name right before ':', values without control bytes
 *   but HTAB; obs-fold (a line starting with SP or HTAB) is 400 (5.2).
 *   HTTP/1.1 needs exactly one Host (3.2); a second Host, Origin or
 *   Content-Length, a bad Content-Length, or Content-Length with
 *   Transfer-Encoding is 400.
 * - Bodies: no request here has one, and this server never reads one.
 *   Skipping bodies would be code for no client, while an unread body
 *   would be taken for the next request. So a head announcing a body
 *   (Content-Length > 0, or any Transfer-Encoding) is answered and the
 *   connection closed: 400 for GET and HEAD, else what the path gets
 *   (404 or 405).
 * - A head of more than max bytes (leading empty lines included) is 431.
 *   400, 431 and 505 close the connection.
 * - Keep-alive: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
 *   `Connection: keep-alive` (and no close). Every answer says which.
 */
#ifndef JANUSD_PROTO_HTTP_H
#define JANUSD_PROTO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ws.h"

#define HTTP_TEXT "text/plain; charset=utf-8"
#define HTTP_WS_PATH "/ws"
#define HTTP_WS_PROTOCOL "janus"

enum http_method { HTTP_M_OTHER = 0, HTTP_M_GET, HTTP_M_HEAD };

enum http_result {
	HTTP_MORE = 0,   /* the head is not complete yet */
	HTTP_DONE,       /* head_len bytes are a request head */
	HTTP_ERROR       /* status (400, 431, 505) and why */
};

/* Bytes buf[off .. off+len) of the buffer given to http_parse. */
struct http_span {
	uint32_t off;
	uint32_t len;
};

/* What the headers said (struct http_req.flags). */
#define HTTP_F_CONN_CLOSE     0x0001  /* Connection: close */
#define HTTP_F_CONN_KEEPALIVE 0x0002  /* Connection: keep-alive */
#define HTTP_F_CONN_UPGRADE   0x0004  /* Connection: Upgrade */
#define HTTP_F_UPGRADE_WS     0x0008  /* Upgrade: websocket */
#define HTTP_F_WS_VERSION     0x0010  /* one Sec-WebSocket-Version, 13 */
#define HTTP_F_WS_KEY         0x0020  /* one Sec-WebSocket-Key of 16 bytes: key */
#define HTTP_F_WS_JANUS       0x0040  /* Sec-WebSocket-Protocol offers janus */
#define HTTP_F_ORIGIN         0x0080  /* Origin given: origin */
#define HTTP_F_BODY           0x0100  /* a body follows the head */

/* One request head. Zeroed is ready; the fields after why are private. */
struct http_req {
	uint16_t status;          /* HTTP_ERROR: 400, 431 or 505 */
	uint8_t method;           /* enum http_method */
	uint8_t minor;            /* HTTP/1.minor, 0 or 1 */
	uint32_t flags;           /* HTTP_F_* */
	uint32_t head_len;        /* HTTP_DONE: bytes of the head */
	struct http_span path;    /* the target's path, no query; empty = "/" */
	struct http_span key;     /* Sec-WebSocket-Key */
	struct http_span origin;  /* Origin */
	const char *why;          /* HTTP_ERROR: what was wrong, for the log */
	uint32_t line;            /* where the unfinished line starts */
	uint32_t scan;            /* how far it was searched for its LF */
	uint8_t state;
	uint8_t seen;             /* fields seen, for those that must not repeat */
};

/*
 * http_parse - parse the len bytes at buf (the head so far, from its
 * first byte; the same bytes as before plus more). max: the head limit.
 */
enum http_result http_parse(struct http_req *r, const char *buf, size_t len,
    size_t max);

enum http_route {
	HTTP_R_ERROR = 0,   /* status with body, a short text (HTTP_TEXT) */
	HTTP_R_UPGRADE,     /* 101 and WebSocket from then on */
	HTTP_R_PAGE,        /* GET / */
	HTTP_R_STATS,       /* GET /stats */
	HTTP_R_METRICS,     /* GET /metrics */
	HTTP_R_HEALTHZ      /* GET /healthz */
};

/* How to answer a request. */
struct http_answer {
	enum http_route route;
	uint16_t status;          /* 101, 200 for the routes the caller serves, or an error */
	uint8_t keep_alive;       /* the connection stays open after the answer */
	uint8_t head_only;        /* HEAD: send GET's head, no body */
	uint8_t janus;            /* 101: echo subprotocol janus */
	const char *extra;        /* more header lines, each ending CRLF, or "" */
	const char *body;         /* HTTP_R_ERROR: the body */
	char accept[WS_ACCEPT_LEN + 1];  /* 101: Sec-WebSocket-Accept */
};

/*
 * http_decide - the answer of Part 3's table for a parsed request (the
 * result of http_parse, HTTP_DONE or HTTP_ERROR; buf is its buffer):
 * HTTP_ERROR gets its status; an unknown path 404; another method than
 * GET and HEAD 405 with Allow; a body with GET or HEAD 400; /ws with a
 * valid upgrade (GET, HTTP/1.1, Upgrade: websocket, Connection: Upgrade,
 * Sec-WebSocket-Version: 13) and key 101, with the upgrade but a missing
 * or bad key 400, otherwise 426 (HEAD too: it never upgrades); the other
 * paths their route with 200.
 */
void http_decide(const struct http_req *r, const char *buf, struct http_answer *a);

/* http_answer_error - make a an error answer with status (e.g. 403, 503). */
void http_answer_error(struct http_answer *a, uint16_t status);

/* http_reason - the reason phrase of a status this server sends. */
const char *http_reason(unsigned status);

/*
 * http_render - the answer's head into dst: status line, then for 101
 * the upgrade fields, for the rest Content-Type (if type is not NULL),
 * Content-Length (length: of GET's body for HEAD too), Cache-Control:
 * no-store, Connection, and extra; then the empty line. A 101 has no
 * Content-Length (RFC 9110 8.6 forbids one). Returns its length, or -1
 * if it does not fit in cap.
 */
long http_render(char *dst, size_t cap, const struct http_answer *a,
    const char *type, size_t length);

#endif
