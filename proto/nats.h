/*
 * proto/nats.h - the NATS client protocol: reading what a server sends,
 * writing what a client sends.
 *
 * Owns: one connection's parser state (the server's latest INFO and an
 * unfinished operation) and the exact bytes of CONNECT, SUB, UNSUB, PUB,
 * PING and PONG. Bytes arrive in any split; an operation that is all in
 * the caller's buffer is handed out from it, and only an unfinished one is
 * copied aside (and freed once it completes). Must not touch sockets,
 * decide when anything is sent, or know what subjects mean
 * (proto/subject.c maps them to topics).
 *
 * What the parser accepts (as nats-server and the Go client do): the
 * operation names INFO, MSG, PING, PONG, +OK and -ERR in any case;
 * arguments separated by runs of spaces and tabs; a line ended by "\n"
 * with an optional "\r" before it. It is stricter where being lenient
 * would go out of step with the stream: MSG must have a subject, a
 * decimal sid, an optional reply-to and a decimal size, and its payload
 * must be followed by exactly "\r\n"; PING, PONG and +OK take no
 * arguments; INFO must carry a JSON object. HMSG is refused (CONNECT
 * asks for no headers, so a server never sends it).
 */
#ifndef JANUSD_PROTO_NATS_H
#define JANUSD_PROTO_NATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* What a client may send as one line's arguments: the server's default max_control_line. */
#define NATS_ARGS_MAX 4096
/* A received control line without its line end: a MSG line adds its op, the sid and spaces. */
#define NATS_LINE_MAX (NATS_ARGS_MAX + 64)
/* An INFO line: it carries the cluster's URL lists, which grow with the cluster. */
#define NATS_INFO_MAX 65536
/* max_payload until the server's INFO says otherwise (the server's default). */
#define NATS_PAYLOAD_DEFAULT (1024 * 1024)
/* The largest payload limit a parser takes (nats-server's max_payload is an int32). */
#define NATS_PAYLOAD_CEIL 0x7fffffffu

#define NATS_PING "PING\r\n"
#define NATS_PONG "PONG\r\n"
#define NATS_CRLF "\r\n"

enum nats_op_type {
	NATS_OP_INFO = 1,
	NATS_OP_MSG,
	NATS_OP_PING,
	NATS_OP_PONG,
	NATS_OP_OK,
	NATS_OP_ERR
};

/* What the bridge needs from a server's INFO. */
struct nats_info {
	char server_id[64];
	char server_name[128];
	char version[32];
	uint64_t max_payload;   /* the largest PUB payload the server takes */
	uint64_t client_id;
	uint64_t proto;         /* 1 or more: CONNECT may ask for "echo":false */
	int headers;            /* the server supports HPUB/HMSG */
	int auth_required;      /* CONNECT would need credentials */
	int tls_required;       /* the server only talks TLS */
	int ldm;                /* lame duck mode: the server is about to go */
};

/*
 * One operation from the server. Pointers point into the caller's buffer
 * or the parser's copy and are valid only during the callback.
 */
struct nats_op {
	enum nats_op_type type;
	const char *subject;    /* MSG */
	size_t subject_len;
	const char *reply;      /* MSG with a reply-to, else NULL */
	size_t reply_len;
	uint64_t sid;           /* MSG */
	const char *data;       /* MSG: payload; -ERR: text without quotes; INFO: JSON */
	size_t len;
	const struct nats_info *info;  /* INFO: parsed (also kept in the parser) */
};

enum nats_result {
	NATS_MORE = 0,       /* all bytes taken; maybe an unfinished operation kept */
	NATS_STOP,           /* the callback asked to stop; the rest was not read */
	NATS_E_SYNTAX,       /* an unknown operation or malformed arguments */
	NATS_E_LINE,         /* a control line over NATS_LINE_MAX (INFO: NATS_INFO_MAX) */
	NATS_E_PAYLOAD,      /* a MSG payload over the limit */
	NATS_E_TERMINATOR,   /* a MSG payload not followed by \r\n */
	NATS_E_INFO,         /* INFO that is not a usable JSON object */
	NATS_E_NO_MEMORY
};

/* One connection's parser. Fields are private but for info and seen_info. */
struct nats_parser {
	char *part;             /* the unfinished operation so far, or NULL */
	size_t len;
	size_t cap;
	size_t need;            /* its whole length once its line is in, else 0 */
	uint64_t max_payload;   /* the caller's limit; 0: the server's */
	struct nats_info info;  /* the latest INFO */
	int seen_info;
	enum nats_result err;   /* sticky once an error is returned */
	char why[200];
};

/*
 * nats_op_fn - called for each whole operation. Returns 0 to go on, -1 to
 * stop (its connection is gone).
 */
typedef int (*nats_op_fn)(void *ctx, const struct nats_op *op);

/*
 * nats_parser_init - a parser for a new connection. max_payload limits a
 * MSG's payload; 0 takes the server's max_payload from its latest INFO
 * (NATS_PAYLOAD_DEFAULT before one came), but servers of one cluster may
 * differ, so a caller with a limit of its own should pass it. Values
 * over NATS_PAYLOAD_CEIL are taken as NATS_PAYLOAD_CEIL.
 */
void nats_parser_init(struct nats_parser *p, uint64_t max_payload);

/*
 * nats_parse - parse data, calling fn for each whole operation in order;
 * keep an unfinished one. NATS_MORE, NATS_STOP, or an error: then the
 * connection is out of step and must be closed; nats_parse_error says
 * why, and every later call returns the same error.
 */
enum nats_result nats_parse(struct nats_parser *p, const char *data,
    size_t len, nats_op_fn fn, void *ctx);

/* nats_parse_error - the last error in words, with the bytes at fault (printable), for the log. */
const char *nats_parse_error(const struct nats_parser *p);

/* nats_parser_pending - bytes of an unfinished operation held. */
static inline size_t
nats_parser_pending(const struct nats_parser *p)
{
	return p->len;
}

/* nats_parser_free - drop the unfinished operation (before a reconnect, or at the end). */
void nats_parser_free(struct nats_parser *p);

/*
 * The encoders write one operation into dst (room for cap bytes, no NUL
 * added) and return its length, or -1 when it does not fit in cap, its
 * arguments would pass NATS_ARGS_MAX, or a subject is empty or holds a
 * space, tab, \r or \n. Subjects are written as given; proto/subject.c
 * makes them.
 */

/*
 * nats_put_connect - CONNECT {"verbose":false,"pedantic":false,
 * "tls_required":false,"name":NAME,"lang":"c","version":VERSION,
 * "protocol":1,"echo":false,"headers":false}\r\n: no +OK per operation,
 * no subject checks, no messages of our own back, asynchronous INFO
 * updates, no HMSG. name and version are JSON-escaped.
 */
long nats_put_connect(char *dst, size_t cap, const char *name,
    const char *version);

/* nats_put_sub - SUB <subject> <sid>\r\n */
long nats_put_sub(char *dst, size_t cap, const char *subject, size_t len,
    uint64_t sid);

/* nats_put_unsub - UNSUB <sid>\r\n, or UNSUB <sid> <max>\r\n when max > 0 (after max more messages). */
long nats_put_unsub(char *dst, size_t cap, uint64_t sid, uint64_t max);

/*
 * nats_put_pub - the head of a publish, PUB <subject> <#bytes>\r\n; the
 * payload and NATS_CRLF follow it. The caller keeps payload_len within
 * the server's max_payload (a server closes the connection otherwise).
 */
long nats_put_pub(char *dst, size_t cap, const char *subject, size_t len,
    size_t payload_len);

/*
 * nats_pub_iov - the three pieces of a publish for writev/sendmsg: the
 * head from nats_put_pub, the payload where it lies (e.g. the shared
 * ring, not copied), the trailing \r\n.
 */
void nats_pub_iov(struct iovec iov[3], const char *head, size_t head_len,
    const void *payload, size_t payload_len);

#endif
