/*
 * proto/utf8.h - incremental UTF-8 validation (RFC 3629).
 *
 * Owns: a one-byte state that carries a partly seen code point from one
 * call to the next, so text split anywhere (across reads, WebSocket
 * fragments) validates exactly as if it came in one piece. A sequence
 * fails at its first byte that no valid sequence could have: an
 * overlong form, a surrogate (U+D800..DFFF), anything above U+10FFFF,
 * a missing or stray continuation byte. Failure is sticky. Whether the
 * text ended on a code point boundary is a separate question
 * (utf8_complete), asked once at the end of a message.
 */
#ifndef JANUSD_PROTO_UTF8_H
#define JANUSD_PROTO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Zeroed (or UTF8_INIT) is the state before any byte. */
struct utf8 {
	uint8_t state;
};

#define UTF8_INIT { 0 }

/* utf8_feed - take len more bytes; 0 if all seen so far may be valid, -1 once not. */
int utf8_feed(struct utf8 *u, const void *data, size_t len);

/* utf8_complete - 1 if all bytes seen are valid and end on a code point boundary. */
int utf8_complete(const struct utf8 *u);

/* utf8_valid - 1 if len bytes are valid UTF-8 on their own. */
int utf8_valid(const void *data, size_t len);

#endif
