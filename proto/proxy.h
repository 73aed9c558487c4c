/*
 * proto/proxy.h - the PROXY protocol header (haproxy's, versions 1 and 2)
 * that a TLS terminator sends ahead of a client's bytes.
 *
 * Owns: recognising and parsing one header at the start of a connection's
 * input: the v1 text line and the v2 binary block, arriving in any split.
 * It is pure (no allocation, no state between calls, nothing but the
 * caller's bytes read), so a caller simply calls it again on the longer
 * input after each read. Must not know about sockets, connections or
 * policy: which peers may send a header (proxy_allow) is the caller's.
 */
#ifndef JANUSD_PROTO_PROXY_H
#define JANUSD_PROTO_PROXY_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX  107    /* the longest v1 line, "\r\n" included (the spec's bound) */
/*
 * The longest header accepted, v2 with its TLVs; longer ones are refused
 * as oversize. haproxy's and stunnel's headers, TLVs and all, are far
 * shorter. proxy_parse never asks for more once it has this many bytes.
 */
#define PROXY_HDR_MAX 1024

/* What a header says about the connection it came on. */
struct proxy_addr {
	uint8_t version;       /* 1 or 2 */
	/*
	 * 4 or 6; 0 when the header gives no address (v1 UNKNOWN, v2 LOCAL,
	 * AF_UNSPEC or AF_UNIX): the caller keeps the socket's own. An IPv6
	 * address that maps an IPv4 one (::ffff:a.b.c.d) is given as 4, as
	 * struct conn holds accepted addresses.
	 */
	uint8_t family;
	uint16_t src_port;     /* host order */
	uint16_t dst_port;
	uint8_t src[16];       /* network order; 4 or 16 bytes used, the rest 0 */
	uint8_t dst[16];
	const char *why;       /* after -1: what is wrong, a static phrase */
};

/*
 * proxy_parse - parse the header at the start of buf[0, len). Returns the
 * header's length in bytes (the client's own bytes start there) with out
 * filled in; 0 when buf is a proper beginning of a header and more bytes
 * are needed (never once len >= PROXY_HDR_MAX); -1 when buf does not
 * start with a valid header, with out->why set. A result for some bytes
 * stays the same for any bytes appended to them.
 */
long proxy_parse(const char *buf, size_t len, struct proxy_addr *out);

#endif
