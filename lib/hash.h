/*
 * lib/hash.h - one seeded hash for every table janusd keeps.
 *
 * Owns: the hash of topic names, client addresses and JSON member
 * names. Where clients choose the keys, callers seed it randomly
 * (per segment, per worker), so a client cannot pick names that all fall
 * into one chain.
 */
#ifndef JANUSD_LIB_HASH_H
#define JANUSD_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* hash_bytes - seeded FNV-1a over len bytes, folded to 32 bits. */
static inline uint32_t
hash_bytes(uint64_t seed, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

#endif
