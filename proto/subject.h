/*
 * proto/subject.h - janusd topics and subscription patterns as NATS
 * subjects, and subjects back to topics.
 *
 * Owns: the one mapping between a topic and the subject it travels under
 * in a NATS cluster, the mapping of Part 4 patterns to NATS wildcard
 * subjects, and the check of cluster_prefix. Pure functions on caller
 * memory; nothing is allocated. Must not know about connections, the
 * topic table or the NATS wire format (proto/nats.c).
 *
 * The scheme
 *
 *   subject = cluster_prefix + enc(t1) "." enc(t2) "." ... "." enc(tn)
 *
 * where t1 ... tn are the topic split at every "." (a topic without dots
 * is one token; "a..b" has an empty middle token, "" is one empty token).
 * Let a safe byte be printable ASCII, 0x21 to 0x7e, other than ".", "*"
 * and ">". A token is left as it is when it is not empty, all its bytes
 * are safe and it does not begin with "~". Any other token is written as
 * "~" followed by its bytes, each byte that is safe and not "~" as
 * itself, every other byte as "~" and two uppercase hex digits:
 *
 *   orders     -> orders        a b   -> ~a~20b      (empty) -> ~
 *   ~x         -> ~~7Ex         *     -> ~~2A        a*      -> ~a~2A
 *   caf\xc3\xa9 -> ~caf~C3~A9   x~y   -> x~y
 *
 * Every encoded token is a non-empty run of safe bytes, so it is a
 * literal NATS token and never a wildcard; only tokens that begin with
 * "~" were escaped, so no two topics share a subject and every topic
 * comes back byte for byte. Because tokens are encoded one by one, dots
 * stay where they were: the subject has as many tokens as the topic.
 *
 * A pattern (Part 4) maps the same way, except that a token that is
 * exactly "*" or ">" becomes the NATS wildcard of the same meaning ("*"
 * one token, ">" one or more, last only). The wildcard subject then
 * matches exactly the subjects of the topics the pattern matches.
 * Whether a topic may be published (Part 4 refuses empty tokens and "*"
 * or ">" tokens) is proto/request.c's business: every byte string has a
 * subject here.
 *
 * Decoding accepts exactly the subjects encoding makes: the prefix, then
 * tokens that are either left-as-is tokens or escaped ones in the one
 * spelling above (uppercase hex, only for bytes that need it, only on
 * tokens that need it). Anything else (another application's subject, a
 * lowercase or needless escape) is refused, so a subject names at most
 * one topic.
 *
 * cluster_prefix is one or more tokens of safe bytes, each followed by
 * ".", e.g. "janus." or "prod.janus."; it may not be empty (a topic would
 * then be the subject's first token, and NATS reserves subjects that
 * begin with "$" for its system and JetStream APIs) and its first token
 * may not begin with "$".
 *
 * Limits: a subject is at most SUBJECT_MAX bytes. A token grows at most
 * to 1 + 3 x its length, so with a prefix of at most SUBJECT_PREFIX_MAX
 * bytes every topic up to CONF_TOPIC_MAX bytes fits (checked at compile
 * time in subject.c); a longer one gets SUBJECT_E_LONG and the caller
 * keeps it local. SUBJECT_MAX stays well under the server's default
 * max_control_line (4096), which bounds a PUB's subject and size
 * together; a server whose max_control_line is set below 1040 bytes
 * refuses the longest subjects with -ERR. A server option max_sub_tokens, when an operator
 * sets it, limits how many tokens a subscription may have.
 */
#ifndef JANUSD_PROTO_SUBJECT_H
#define JANUSD_PROTO_SUBJECT_H

#include <stddef.h>

#define SUBJECT_MAX        1024
#define SUBJECT_PREFIX_MAX 256
#define SUBJECT_ESCAPE     '~'

enum subject_err {
	SUBJECT_OK = 0,
	SUBJECT_E_PREFIX,   /* cluster_prefix is not tokens each ending in "." */
	SUBJECT_E_LONG,     /* the result would pass SUBJECT_MAX or the room given */
	SUBJECT_E_PATTERN,  /* ">" before the last token of a pattern */
	SUBJECT_E_FOREIGN,  /* a subject that does not begin with the prefix */
	SUBJECT_E_ENCODING  /* a subject that no topic encodes to */
};

/* The checked cluster_prefix every mapping starts from. */
struct subject_map {
	char prefix[SUBJECT_PREFIX_MAX];
	size_t len;
};

/* subject_map_init - check prefix (len bytes) and keep it; SUBJECT_OK or SUBJECT_E_PREFIX. */
enum subject_err subject_map_init(struct subject_map *m, const char *prefix,
    size_t len);

/*
 * subject_encode - the subject of topic (len bytes, any bytes) into dst,
 * which has room for cap bytes (no NUL is added); *out gets its length.
 * SUBJECT_OK, or SUBJECT_E_LONG when it would not fit in cap or
 * SUBJECT_MAX bytes.
 */
enum subject_err subject_encode(const struct subject_map *m,
    const char *topic, size_t len, char *dst, size_t cap, size_t *out);

/*
 * subject_encode_pattern - the same for a subscription pattern: "*" and
 * ">" tokens become NATS wildcards. Also SUBJECT_E_PATTERN when ">" is
 * not the last token.
 */
enum subject_err subject_encode_pattern(const struct subject_map *m,
    const char *pattern, size_t len, char *dst, size_t cap, size_t *out);

/*
 * subject_decode - the topic whose subject is subject (len bytes) into
 * dst (room for cap bytes, no NUL added); *out gets its length.
 * SUBJECT_OK; SUBJECT_E_FOREIGN without the prefix; SUBJECT_E_ENCODING
 * for a subject encoding does not produce; SUBJECT_E_LONG when the topic
 * would not fit in cap bytes or the subject is over SUBJECT_MAX.
 */
enum subject_err subject_decode(const struct subject_map *m,
    const char *subject, size_t len, char *dst, size_t cap, size_t *out);

/* subject_strerror - a short lowercase English phrase for an error. */
const char *subject_strerror(enum subject_err err);

#endif
