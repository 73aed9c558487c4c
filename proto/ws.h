/*
 * proto/ws.h - WebSocket (RFC 6455), the server's side of the wire.
 *
 * Owns: the handshake's accept value; one connection's client-frame
 * parser; the bytes of server frames. Must not know about topics,
 * requests or sockets: the caller gives each text message its meaning
 * and writes the frames built here.
 *
 * Parser (ws_feed): bytes arrive in any split, several frames per read.
 * Every rule of PROTOCOL.md Part 3 is checked as soon as the bytes that
 * break it are in: the frame header's rules at the header (so a frame
 * too large for the limit is refused before its payload arrives), text
 * UTF-8 as each payload byte arrives, across fragments, a Close frame's
 * code and reason when it is whole. The first broken rule fails the
 * parser for good: ws_feed returns WS_FAIL and ws_fail_code gives the
 * code the server's Close frame must carry (1002, 1003, 1007, 1009, or
 * 1011 when memory ran out).
 * The handler gets whole text messages, Pings and Pongs (payload) and
 * the Close (code, reason). The caller's bytes are unmasked in place
 * (so the buffer must be writable, and is clobbered); a frame wholly
 * inside one read is handed out from that buffer with no copy. Only an
 * unfinished header (inline), an unfinished control payload (at most
 * 125 bytes) and an unfinished or fragmented message are kept, grown
 * as their bytes arrive (never ahead of them), and freed as soon as
 * they complete: between messages a connection holds no buffer.
 * After a Close is handed out the parser takes nothing more (RFC 6455
 * 1.4: nothing follows a Close); ws_feed returns WS_CLOSED.
 *
 * Server frames are never masked and never fragmented by this code:
 * ws_header gives the 2, 4 or 10 bytes before a payload, so one header
 * built per record can front bytes shared by every subscriber.
 */
#ifndef JANUSD_PROTO_WS_H
#define JANUSD_PROTO_WS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/utf8.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */
#define WS_HEADER_MAX 10        /* a server frame's header */
#define WS_CONTROL_MAX 125      /* a control frame's payload */
#define WS_CONTROL_FRAME_MAX (2 + WS_CONTROL_MAX)

enum ws_op {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa
};

/* Close codes (RFC 6455 7.4.1) this code sends or reports. */
#define WS_CLOSE_NORMAL      1000
#define WS_CLOSE_GOING_AWAY  1001
#define WS_CLOSE_PROTOCOL    1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS   1005   /* a Close without a code; never sent */
#define WS_CLOSE_BAD_DATA    1007
#define WS_CLOSE_POLICY      1008
#define WS_CLOSE_TOO_BIG     1009
#define WS_CLOSE_INTERNAL    1011

/* Why a parser failed; ws_err_code maps each to its close code. */
enum ws_err {
	WS_E_NONE = 0,
	WS_E_UNMASKED,          /* 1002: a client frame without a mask */
	WS_E_RSV,               /* 1002: RSV1..3 set (no extension is negotiated) */
	WS_E_OPCODE,            /* 1002: opcode 3..7 or 0xB..0xF */
	WS_E_CONTROL_FRAGMENTED,/* 1002: a control frame without FIN */
	WS_E_CONTROL_LONG,      /* 1002: a control payload over 125 bytes */
	WS_E_NO_MESSAGE,        /* 1002: a continuation with no message started */
	WS_E_IN_MESSAGE,        /* 1002: a new data frame inside a fragmented message */
	WS_E_LENGTH,            /* 1002: a length not in its shortest form, or 2^63 and up */
	WS_E_CLOSE_SHORT,       /* 1002: a Close payload of one byte */
	WS_E_CLOSE_CODE,        /* 1002: a Close code no endpoint may send */
	WS_E_BINARY,            /* 1003: a binary message */
	WS_E_UTF8,              /* 1007: text that is not UTF-8 */
	WS_E_CLOSE_UTF8,        /* 1007: a Close reason that is not UTF-8 */
	WS_E_TOO_BIG,           /* 1009: a message over the size limit */
	WS_E_NO_MEMORY          /* 1011 */
};

enum ws_result {
	WS_MORE = 0,    /* all bytes taken; maybe an unfinished frame kept */
	WS_STOP,        /* the handler asked to stop */
	WS_CLOSED,      /* a Close was handed out; later bytes are ignored */
	WS_FAIL         /* a broken rule: ws_fail_code, ws_fail_text */
};

/* What the handler gets. data/len are valid only during the call. */
struct ws_msg {
	enum ws_op op;          /* TEXT (a whole message), PING, PONG or CLOSE */
	uint16_t code;          /* CLOSE: the code, WS_CLOSE_NO_STATUS if none */
	const char *data;       /* TEXT: the message; PING/PONG: payload; CLOSE: reason */
	size_t len;
};

/* ws_fn - called per message or control frame; 0 to go on, -1 to stop. */
typedef int (*ws_fn)(void *ctx, const struct ws_msg *m);

/* One connection's parser. Zeroed is ready; fields are private. */
struct ws_parser {
	char *msg;              /* the message so far, unmasked, or NULL */
	char *ctl;              /* an unfinished control payload, or NULL */
	uint64_t left;          /* payload bytes of this frame still to come */
	uint32_t len;           /* bytes at msg */
	uint32_t cap;           /* bytes allocated at msg */
	uint8_t hdr[14];        /* an unfinished frame header */
	uint8_t hlen;           /* bytes in hdr */
	uint8_t mask[4];
	uint8_t mpos;           /* mask byte for the next payload byte */
	uint8_t state;
	uint8_t op;             /* this frame's opcode */
	uint8_t fin;
	uint8_t in_msg;         /* a fragmented message is open */
	uint8_t ctl_len;        /* bytes at ctl */
	uint8_t err;            /* enum ws_err once failed */
	struct utf8 utf8;       /* the open text message so far */
};

/*
 * ws_feed - parse len client bytes at data (unmasked in place), calling
 * fn per message or control frame. max: the largest message (bytes of
 * payload, all fragments together); up to 2^32 - 1.
 */
enum ws_result ws_feed(struct ws_parser *p, char *data, size_t len,
    size_t max, ws_fn fn, void *ctx);

/* ws_pending - bytes held for an unfinished frame or message. */
size_t ws_pending(const struct ws_parser *p);

/* ws_fail_code - the close code for a failed parser (0 if it has not failed). */
uint16_t ws_fail_code(const struct ws_parser *p);

/* ws_fail_text - why it failed, a short phrase (for logs and the close reason). */
const char *ws_fail_text(const struct ws_parser *p);

/* ws_err_code - the close code for a failure. */
uint16_t ws_err_code(enum ws_err err);

/* ws_free - drop what the parser holds; it is zeroed, ready again. */
void ws_free(struct ws_parser *p);

/* ws_close_code_ok - whether a peer may send this code in a Close frame. */
int ws_close_code_ok(unsigned code);

/*
 * ws_accept - the Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
 * base64(SHA-1(key + WS_GUID)), WS_ACCEPT_LEN characters and a NUL.
 */
void ws_accept(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

/* ws_header - a server frame's header for len payload bytes into dst; 2, 4 or 10. */
size_t ws_header(char *dst, enum ws_op op, int fin, uint64_t len);

/*
 * ws_control_frame - a whole Ping or Pong frame with len bytes of payload
 * (cut to WS_CONTROL_MAX) into dst (WS_CONTROL_FRAME_MAX bytes); returns its size.
 */
size_t ws_control_frame(char *dst, enum ws_op op, const void *payload, size_t len);

/*
 * ws_close_frame - a whole Close frame into dst (WS_CONTROL_FRAME_MAX
 * bytes): code, then reason cut to fit (123 bytes, at a code point
 * boundary). WS_CLOSE_NO_STATUS gives an empty Close (the echo of one
 * that had no code). Returns its size.
 */
size_t ws_close_frame(char *dst, uint16_t code, const char *reason, size_t rlen);

#endif
