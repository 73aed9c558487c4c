/*
 * bots/ws.h - the client's side of WebSocket (RFC 6455) for janus-bots --ws.
 *
 * Owns: the upgrade request and its per-client key, the check of the
 * server's 101 answer, masked client frames, and splitting the server's
 * frames into messages: fragments reassembled, Pings, Pongs and the Close
 * handed out as such. The server's side of the wire is proto/ws.h, whose
 * header builder, accept value and message type this code reuses.
 * Must not do I/O or know about bots: bots/client.c reads and sends.
 *
 * Receiving stays as light as the 2009 \1 framing: a frame wholly inside
 * one read is handed out from the caller's buffer with no copy (server
 * frames are unmasked, so the bytes are the message); the checks are the
 * header's bits and lengths. What a connection holds between reads (the
 * start of an unfinished frame or answer head, the fragments of a message
 * so far) lives in one malloc'd buffer the caller keeps as *hold / *hlen,
 * NULL and 0 when nothing is held; the caller frees it with free() when
 * it drops the connection.
 */
#ifndef JANUS_BOTS_WS_H
#define JANUS_BOTS_WS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ws.h"

#define WSC_KEY_LEN 24          /* base64 of 16 bytes */
#define WSC_HEAD_MAX 4096       /* the longest 101 head the bots take */
#define WSC_FRAME_OVER 14       /* a client frame's bytes besides its payload */

enum wsc_result {
	WSC_MORE = 0,   /* all bytes taken */
	WSC_STOP,       /* the handler returned -1 */
	WSC_CLOSED,     /* a Close was handed out; nothing more is read */
	WSC_FAIL        /* a server frame breaks RFC 6455 (why says how) */
};

/*
 * wsc_request - GET /ws with the upgrade fields for HOST:PORT into out
 * (strlen(host) + 192 bytes), its key left as WSC_KEY_LEN spaces at
 * *key_off for wsc_key to fill per client. Returns its length.
 */
size_t wsc_request(char *out, const char *host, uint16_t port, size_t *key_off);

/* wsc_key - client I's Sec-WebSocket-Key in run NONCE: WSC_KEY_LEN characters, no NUL. */
void wsc_key(uint32_t nonce, uint32_t i, char *key);

/*
 * wsc_upgrade - the server's answer to the request with KEY, as its bytes
 * arrive. 1 once its head is a whole 101 with Upgrade, Connection and the
 * Sec-WebSocket-Accept KEY calls for: *used bytes of p were the head's,
 * the rest are frames (and *hold is empty). 0: p is held, more is needed.
 * -1: it is not a valid answer (why).
 */
int wsc_upgrade(char **hold, uint32_t *hlen, const char *p, size_t n,
    const char *key, size_t *used, const char **why);

/*
 * wsc_feed - split server bytes into messages for fn: TEXT (a whole
 * message), PING, PONG (payload) and CLOSE (code, reason), data valid only
 * during the call. max bounds a message (all its fragments) and a frame.
 * If fn returns -1 nothing is touched after it (fn may have freed *hold).
 */
enum wsc_result wsc_feed(char **hold, uint32_t *hlen, const char *p, size_t n,
    size_t max, ws_fn fn, void *ctx, const char **why);

/*
 * wsc_frame - one masked client frame (FIN) of op and len payload bytes
 * into out (len + WSC_FRAME_OVER bytes); its size.
 */
size_t wsc_frame(char *out, enum ws_op op, const void *payload, size_t len,
    uint32_t mask);

/* wsc_mask - the next masking key from a per-process state (never 0 if the state is not). */
uint32_t wsc_mask(uint32_t *state);

#endif
