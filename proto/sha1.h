/*
 * proto/sha1.h - SHA-1 (FIPS 180-4), for the WebSocket handshake only.
 *
 * Owns: one running digest in a caller-held struct. sha1_update takes
 * bytes in any split, so a digest over pieces equals the digest over
 * their concatenation; sha1_final pads, writes the 20-byte digest and
 * leaves the struct needing sha1_init before reuse. Nothing is
 * allocated. SHA-1 is broken for collisions; RFC 6455 uses it only to
 * prove that a server read the handshake, which is all it is for here.
 */
#ifndef JANUSD_PROTO_SHA1_H
#define JANUSD_PROTO_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;            /* message length so far */
	unsigned char block[64];   /* the unfinished block: bytes % 64 of it */
};

/* sha1_init - start a digest. */
void sha1_init(struct sha1 *s);

/* sha1_update - add len bytes to the message. */
void sha1_update(struct sha1 *s, const void *data, size_t len);

/* sha1_final - the digest of everything added, big-endian. */
void sha1_final(struct sha1 *s, unsigned char out[SHA1_LEN]);

#endif
