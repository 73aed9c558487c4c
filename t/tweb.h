/*
 * t/tweb.h - clients of janusd's HTTP and WebSocket listener (PROTOCOL.md
 * Part 3) for the end-to-end tests.
 *
 * Owns: reading HTTP answers by their Content-Length, building masked
 * client frames (and broken ones, on purpose), parsing server frames.
 * Written apart from the server's proto/http.c and proto/ws.c so that a
 * bug there is not mirrored here; only the expected Sec-WebSocket-Accept
 * comes from proto/ws.h (ws_accept, which t/ws_frames checks against
 * RFC 6455's example). Works on the caller's struct tc (t/tlib.h), whose
 * buffer keeps what was read and not yet taken.
 */
#ifndef JANUSD_T_TWEB_H
#define JANUSD_T_TWEB_H

#include <stddef.h>

#include "t/tlib.h"

#define TW_HEAD_MAX 8192
#define TW_BODY_MAX (256 << 10)
#define TW_FIN 0x80            /* of a frame's first byte */
#define TW_FRAME_EXTRA 14      /* the most bytes a client frame has beyond its payload */

/* One HTTP answer. */
struct tw_resp {
	int status;
	char head[TW_HEAD_MAX];     /* status line and fields, CRLFs kept, NUL-terminated */
	long length;                /* Content-Length, -1 if none */
	size_t body_len;
	char body[TW_BODY_MAX + 1]; /* NUL-terminated */
};

/*
 * tw_response - read one answer from c; head_only: the answer to a HEAD
 * (no body, whatever Content-Length says). 0, -1 timeout, -2 end of
 * stream or a malformed answer.
 */
int tw_response(struct tc *c, struct tw_resp *r, int head_only, int timeout_ms);

/* tw_header - the first value of field name (any case), trimmed, into out; 1, or 0 if absent. */
int tw_header(const struct tw_resp *r, const char *name, char *out, size_t cap);

/* tw_request - "METHOD PATH HTTP/1.1", Host, the extra lines (each ending CRLF; may be ""), the empty line. 0 or -1. */
int tw_request(struct tc *c, const char *method, const char *path, const char *extra);

/* tw_fetch - one request with Connection: close on a new connection from src (NULL: any); its answer. 0 or -1. */
int tw_fetch(unsigned port, const char *src, const char *method, const char *path,
    struct tw_resp *r);

/* tw_ws_key - a fresh Sec-WebSocket-Key (base64 of 16 random bytes) and its NUL. */
void tw_ws_key(char key[25]);

/*
 * tw_ws_upgrade - GET /ws with a valid upgrade, a fresh key and the extra
 * header lines (each ending CRLF); the answer in r. 1 if it is 101 with
 * the Sec-WebSocket-Accept of that key, 0 if another answer, -1 if none.
 */
int tw_ws_upgrade(struct tc *c, const char *extra, struct tw_resp *r);

/* tw_greeting_ok - whether f is {"timestamp":[MEGA,SEC,MICRO],"token":"32 hex"} exactly. */
int tw_greeting_ok(const char *f);

/*
 * tw_ws_open - connect from src (NULL: any), upgrade with extra header
 * lines, read the greeting (into greet, cap bytes, unless NULL). The
 * connection, or NULL after a diagnostic.
 */
struct tc *tw_ws_open(unsigned port, const char *src, const char *extra, char *greet, size_t cap);

/*
 * tw_ws_build - a client frame into dst (n + TW_FRAME_EXTRA bytes): first
 * byte b0 (FIN, RSV bits, opcode, as given), the length in its shortest
 * form, masked with a random key when mask. Returns its size.
 */
size_t tw_ws_build(char *dst, unsigned b0, int mask, const void *p, size_t n);

/* tw_ws_send - build and send one masked frame. 0 or -1. */
int tw_ws_send(struct tc *c, unsigned b0, const void *p, size_t n);

/* tw_ws_text - one masked final text frame holding the C string s. 0 or -1. */
int tw_ws_text(struct tc *c, const char *s);

/* tw_ws_close - a masked Close frame with code and no reason. 0 or -1. */
int tw_ws_close(struct tc *c, unsigned code);

/* A server frame. */
struct tw_frame {
	unsigned b0;                /* FIN, RSV bits, opcode */
	int masked;                 /* the mask bit (servers must not set it) */
	size_t len;                 /* payload bytes */
	const char *data;           /* the payload, inside the bytes parsed */
};

/*
 * tw_ws_parse - the server frame at the start of the len bytes at buf:
 * its whole size (header and payload), 0 if not all of it is there, -1 if
 * its header is malformed (masked, or a length not in its shortest form).
 */
long tw_ws_parse(const char *buf, size_t len, struct tw_frame *f);

/*
 * tw_ws_next - the next frame from c; its payload copied to out
 * (NUL-terminated, cut to cap - 1; f->data points there). Returns the
 * payload's length, -1 on timeout, -2 at end of stream, -3 if malformed.
 */
long tw_ws_next(struct tc *c, struct tw_frame *f, char *out, size_t cap, int timeout_ms);

/*
 * tw_ws_msg - the next text message within timeout_ms: Pings on the way
 * are answered with Pongs (as browsers do). Its length; -1 timeout, -2
 * end of stream, -3 another frame (a Close, a binary or fragmented one,
 * or malformed).
 */
long tw_ws_msg(struct tc *c, char *out, size_t cap, int timeout_ms);

/*
 * tw_ws_closed - wait for the server's Close: its code (1005 if it had
 * none), -1 if the stream ended or timed out first, -2 if a frame other
 * than a Close came (diagnosed).
 */
int tw_ws_closed(struct tc *c, int timeout_ms);

#endif
