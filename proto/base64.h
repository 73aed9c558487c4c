/*
 * proto/base64.h - base64 (RFC 4648 section 4, the standard alphabet).
 *
 * Owns: encoding bytes to padded base64 and strictly decoding it back.
 * Both work over caller buffers and never allocate. Decoding accepts
 * only the canonical form: a multiple of 4 characters, '=' padding only
 * at the end, no whitespace, and zero bits in what padding leaves over
 * (RFC 4648 3.5), so every byte string has exactly one accepted text.
 */
#ifndef JANUSD_PROTO_BASE64_H
#define JANUSD_PROTO_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for n bytes. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* base64_encode - write BASE64_LEN(len) characters to dst (no NUL); returns that count. */
size_t base64_encode(char *dst, const void *src, size_t len);

/*
 * base64_decode - decode len characters of src into dst (room for cap
 * bytes). Returns the decoded length, or -1 if src is not canonical
 * base64 or its bytes do not fit in cap.
 */
long base64_decode(void *dst, size_t cap, const char *src, size_t len);

#endif
