/*
 * proto/nats.c - the NATS client protocol: reading what a server sends,
 * writing what a client sends.
 *
 * Owns: the operation splitter (find a line, read its arguments, wait
 * for a MSG's payload), the copy of an operation that straddles reads,
 * the INFO fields the bridge uses, and the encoders. Every read is
 * bounded by the end of the data and by the line and payload limits, so
 * nothing a server sends can make it read out of bounds or hold more
 * than one operation's bytes.
 * Must not touch sockets or know what subjects mean.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/nats.h"

/* Arguments of a MSG: subject, sid, reply-to and size, and one to spot too many. */
#define NATS_MSG_ARGS 5
/* How much of an offending line an error message shows. */
#define NATS_SNIPPET 48

void
nats_parser_init(struct nats_parser *p, uint64_t max_payload)
{
	memset(p, 0, sizeof(*p));
	p->max_payload = max_payload > NATS_PAYLOAD_CEIL ? NATS_PAYLOAD_CEIL :
	    max_payload;
	p->err = NATS_MORE;
}

void
nats_parser_free(struct nats_parser *p)
{
	free(p->part);
	p->part = NULL;
	p->len = p->cap = p->need = 0;
}

const char *
nats_parse_error(const struct nats_parser *p)
{
	return p->err == NATS_MORE ? "no error" : p->why;
}

/* nats_snippet - up to NATS_SNIPPET bytes of s, quoted, unprintable ones as \xNN. */
static void
nats_snippet(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, k = 0, shown = n < NATS_SNIPPET ? n : NATS_SNIPPET;
	unsigned char ch;

	dst[k++] = '\'';
	for (i = 0; i < shown && k + 8 < cap; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
			dst[k++] = (char)ch;
		else
			k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", ch);
	}
	snprintf(dst + k, cap - k, "'%s", shown < n ? "..." : "");
}

/* nats_fail - record an error (sticky) and its words, with the bytes at fault. */
static enum nats_result __attribute__((format(printf, 5, 6)))
nats_fail(struct nats_parser *p, enum nats_result err, const char *s,
    size_t n, const char *fmt, ...)
{
	char shown[NATS_SNIPPET * 4 + 8];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	if (s != NULL && k >= 0 && (size_t)k < sizeof(p->why)) {
		nats_snippet(shown, sizeof(shown), s, n);
		snprintf(p->why + k, sizeof(p->why) - (size_t)k, ": %s", shown);
	}
	p->err = err;
	return err;
}

/* nats_blank - a space or a tab, the only argument separators. */
static int
nats_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* nats_lower - ASCII letters in lower case, other bytes as they are. */
static char
nats_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* nats_word_is - whether s[0..n) is the operation name op, in any case. */
static int
nats_word_is(const char *s, size_t n, const char *op)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (op[i] == '\0' || nats_lower(s[i]) != nats_lower(op[i]))
			return 0;
	}
	return op[n] == '\0';
}

/* nats_all_blank - whether s[0..n) holds only separators. */
static int
nats_all_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!nats_blank(s[i]))
			return 0;
	return 1;
}

/* nats_number - a decimal number without sign that fits 64 bits; 0 or -1. */
static int
nats_number(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* nats_split - the arguments of s[0..n) at runs of blanks, at most max; their count. */
static size_t
nats_split(const char *s, size_t n, const char **arg, size_t *alen, size_t max)
{
	size_t i = 0, k = 0, start;

	while (k < max) {
		while (i < n && nats_blank(s[i]))
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && !nats_blank(s[i]))
			i++;
		arg[k] = s + start;
		alen[k++] = i - start;
	}
	return k;
}

/* nats_payload_limit - the caller's limit, else the server's latest max_payload. */
static uint64_t
nats_payload_limit(const struct nats_parser *p)
{
	if (p->max_payload > 0)
		return p->max_payload;
	return p->seen_info ? p->info.max_payload : NATS_PAYLOAD_DEFAULT;
}

/* nats_msg_line - MSG <subject> <sid> [reply-to] <#bytes>; *body gets payload + CRLF. */
static enum nats_result
nats_msg_line(struct nats_parser *p, const char *line, size_t n,
    const char *args, size_t alen, struct nats_op *op, size_t *body)
{
	const char *a[NATS_MSG_ARGS];
	size_t l[NATS_MSG_ARGS], k = nats_split(args, alen, a, l, NATS_MSG_ARGS);
	uint64_t size, limit = nats_payload_limit(p);

	if (k != 3 && k != 4)
		return nats_fail(p, NATS_E_SYNTAX, line, n,
		    "MSG with %zu arguments, not 3 or 4", k);
	if (nats_number(a[1], l[1], &op->sid) < 0)
		return nats_fail(p, NATS_E_SYNTAX, line, n, "MSG with a bad sid");
	if (nats_number(a[k - 1], l[k - 1], &size) < 0)
		return nats_fail(p, NATS_E_SYNTAX, line, n, "MSG with a bad size");
	if (size > limit)
		return nats_fail(p, NATS_E_PAYLOAD, line, n,
		    "MSG payload of %llu bytes over the limit of %llu",
		    (unsigned long long)size, (unsigned long long)limit);
	op->type = NATS_OP_MSG;
	op->subject = a[0];
	op->subject_len = l[0];
	if (k == 4) {
		op->reply = a[2];
		op->reply_len = l[2];
	}
	op->len = (size_t)size;
	*body = (size_t)size + 2;
	return NATS_MORE;
}

/* nats_err_text - -ERR's text without the blanks and the quotes around it. */
static void
nats_err_text(const char *s, size_t n, struct nats_op *op)
{
	while (n > 0 && nats_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && nats_blank(s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
		s++;
		n -= 2;
	}
	op->data = s;
	op->len = n;
}

/*
 * nats_line - one control line (without its line end) into op; *body gets
 * the bytes that must follow it (a MSG's payload and CRLF), else 0.
 * INFO's JSON is read only when the operation is handed out.
 */
static enum nats_result
nats_line(struct nats_parser *p, const char *s, size_t n, struct nats_op *op,
    size_t *body)
{
	size_t w = 0;

	memset(op, 0, sizeof(*op));
	*body = 0;
	while (w < n && !nats_blank(s[w]))
		w++;
	if (nats_word_is(s, w, "MSG"))
		return nats_msg_line(p, s, n, s + w, n - w, op, body);
	if (nats_word_is(s, w, "PING"))
		op->type = NATS_OP_PING;
	else if (nats_word_is(s, w, "PONG"))
		op->type = NATS_OP_PONG;
	else if (nats_word_is(s, w, "+OK"))
		op->type = NATS_OP_OK;
	else if (nats_word_is(s, w, "-ERR")) {
		op->type = NATS_OP_ERR;
		nats_err_text(s + w, n - w, op);
		return NATS_MORE;
	} else if (nats_word_is(s, w, "INFO")) {
		if (w == n)
			return nats_fail(p, NATS_E_SYNTAX, s, n, "INFO without its JSON");
		op->type = NATS_OP_INFO;
		op->data = s + w;
		op->len = n - w;
		return NATS_MORE;
	} else if (nats_word_is(s, w, "HMSG")) {
		return nats_fail(p, NATS_E_SYNTAX, s, n,
		    "HMSG, but CONNECT asked for no headers");
	} else {
		return nats_fail(p, NATS_E_SYNTAX, s, n, "unknown operation");
	}
	if (!nats_all_blank(s + w, n - w))
		return nats_fail(p, NATS_E_SYNTAX, s, n, "arguments after %.*s",
		    (int)w, s);
	return NATS_MORE;
}

/* The INFO fields kept, and where they go in struct nats_info. */
enum nats_kind { NATS_F_STR, NATS_F_UINT, NATS_F_BOOL };

struct nats_field {
	const char *name;
	enum nats_kind kind;
	size_t off;
	size_t size;
};

#define NATS_FIELD(name, kind) \
	{ #name, kind, offsetof(struct nats_info, name), \
	  sizeof(((struct nats_info *)NULL)->name) }

static const struct nats_field nats_fields[] = {
	NATS_FIELD(server_id, NATS_F_STR),
	NATS_FIELD(server_name, NATS_F_STR),
	NATS_FIELD(version, NATS_F_STR),
	NATS_FIELD(max_payload, NATS_F_UINT),
	NATS_FIELD(client_id, NATS_F_UINT),
	NATS_FIELD(proto, NATS_F_UINT),
	NATS_FIELD(headers, NATS_F_BOOL),
	NATS_FIELD(auth_required, NATS_F_BOOL),
	NATS_FIELD(tls_required, NATS_F_BOOL),
	NATS_FIELD(ldm, NATS_F_BOOL),
};

/* nats_info_field - store one member's value where f says; 0 or -1 (wrong type, too long). */
static int
nats_info_field(struct nats_info *in, const struct nats_field *f,
    const struct json_span *v)
{
	char *at = (char *)in + f->off;
	uint64_t u;
	long n;
	int b;

	switch (f->kind) {
	case NATS_F_STR:
		if (v->type != JSON_STRING ||
		    (n = json_str_decode(v, at, f->size - 1)) < 0)
			return -1;
		at[n] = '\0';
		return 0;
	case NATS_F_UINT:
		if (json_uint(v, &u) < 0)
			return -1;
		memcpy(at, &u, sizeof(u));
		return 0;
	case NATS_F_BOOL:
		if (v->type != JSON_TRUE && v->type != JSON_FALSE)
			return -1;
		b = v->type == JSON_TRUE;
		memcpy(at, &b, sizeof(b));
		return 0;
	}
	return -1;
}

/* nats_info_member - a member of INFO: kept if it is a field we use. */
static int
nats_info_member(struct nats_info *in, const struct json_span *k,
    const struct json_span *v, const char **bad)
{
	size_t i;

	for (i = 0; i < sizeof(nats_fields) / sizeof(nats_fields[0]); i++) {
		if (!json_str_eq(k, nats_fields[i].name))
			continue;
		if (nats_info_field(in, &nats_fields[i], v) < 0) {
			*bad = nats_fields[i].name;
			return -1;
		}
		return 0;
	}
	return 0;
}

/* nats_info - read INFO's JSON; the parser's info changes only if all of it is good. */
static enum nats_result
nats_info(struct nats_parser *p, const char *s, size_t n)
{
	struct nats_info in;
	struct json_iter it;
	struct json_span k, v;
	const char *bad = NULL;
	int r;

	memset(&in, 0, sizeof(in));
	in.max_payload = NATS_PAYLOAD_DEFAULT;
	if (json_object_begin(&it, s, n) < 0)
		return nats_fail(p, NATS_E_INFO, s, n, "INFO is not a JSON object (%s)",
		    json_strerror(it.err));
	while ((r = json_object_next(&it, &k, &v)) > 0)
		if (nats_info_member(&in, &k, &v, &bad) < 0)
			return nats_fail(p, NATS_E_INFO, v.p, v.len,
			    "INFO with a bad %s", bad);
	if (r < 0)
		return nats_fail(p, NATS_E_INFO, s + it.err_off, n - it.err_off,
		    "INFO is not a JSON object (%s at byte %zu)",
		    json_strerror(it.err), it.err_off);
	if (in.max_payload == 0)
		return nats_fail(p, NATS_E_INFO, s, n, "INFO with max_payload 0");
	if (in.max_payload > NATS_PAYLOAD_CEIL)
		in.max_payload = NATS_PAYLOAD_CEIL;
	p->info = in;
	p->seen_info = 1;
	return NATS_MORE;
}

/* nats_hand_out - check what follows the line, then give the operation to fn. */
static enum nats_result
nats_hand_out(struct nats_parser *p, struct nats_op *op, const char *body,
    nats_op_fn fn, void *ctx)
{
	enum nats_result r;

	if (op->type == NATS_OP_MSG) {
		if (body[op->len] != '\r' || body[op->len + 1] != '\n')
			return nats_fail(p, NATS_E_TERMINATOR, body + op->len, 2,
			    "MSG payload of %zu bytes not followed by \\r\\n",
			    op->len);
		op->data = body;
	} else if (op->type == NATS_OP_INFO) {
		if ((r = nats_info(p, op->data, op->len)) != NATS_MORE)
			return r;
		op->info = &p->info;
	}
	return fn(ctx, op) < 0 ? NATS_STOP : NATS_MORE;
}

/* nats_line_limit - the longest control line an operation may have, from its first byte. */
static size_t
nats_line_limit(char first)
{
	return first == 'I' || first == 'i' ? NATS_INFO_MAX : NATS_LINE_MAX;
}

/*
 * nats_one - hand out the operation at the start of buf (n > 0 bytes) if
 * all of it is there: then *used is its length. Otherwise *used is 0 and
 * *need its whole length if its line is in, else 0.
 */
static enum nats_result
nats_one(struct nats_parser *p, const char *buf, size_t n, nats_op_fn fn,
    void *ctx, size_t *used, size_t *need)
{
	size_t limit = nats_line_limit(buf[0]), line, text, body;
	const char *nl = memchr(buf, '\n', n < limit + 2 ? n : limit + 2);
	struct nats_op op;
	enum nats_result r;

	*used = *need = 0;
	if (nl == NULL)
		return n < limit + 2 ? NATS_MORE : nats_fail(p, NATS_E_LINE, buf,
		    n, "control line longer than %zu bytes", limit);
	line = (size_t)(nl - buf);
	text = line > 0 && buf[line - 1] == '\r' ? line - 1 : line;
	if (text > limit)
		return nats_fail(p, NATS_E_LINE, buf, n,
		    "control line longer than %zu bytes", limit);
	if ((r = nats_line(p, buf, text, &op, &body)) != NATS_MORE)
		return r;
	if (n - line - 1 < body) {
		*need = line + 1 + body;
		return NATS_MORE;
	}
	*used = line + 1 + body;
	return nats_hand_out(p, &op, nl + 1, fn, ctx);
}

/* nats_keep - append n bytes to the unfinished operation. */
static enum nats_result
nats_keep(struct nats_parser *p, const char *s, size_t n)
{
	size_t want = p->len + n, cap;
	char *np;

	if (want > p->cap) {
		/* Once the length is known, one allocation of exactly that. */
		cap = p->need > 0 ? p->need : p->cap > 0 ? p->cap * 2 : 256;
		while (cap < want)
			cap *= 2;
		np = realloc(p->part, cap);
		if (np == NULL)
			return nats_fail(p, NATS_E_NO_MEMORY, NULL, 0,
			    "no memory for an operation of %zu bytes", cap);
		p->part = np;
		p->cap = cap;
	}
	memcpy(p->part + p->len, s, n);
	p->len = want;
	return NATS_MORE;
}

/* nats_finish - hand out the completed copy, then drop it. */
static enum nats_result
nats_finish(struct nats_parser *p, nats_op_fn fn, void *ctx)
{
	size_t used, need;
	enum nats_result r = nats_one(p, p->part, p->len, fn, ctx, &used, &need);

	nats_parser_free(p);
	return r;
}

/*
 * nats_resume - add data to the unfinished operation; hand it out once
 * whole. *taken gets the bytes of data used.
 */
static enum nats_result
nats_resume(struct nats_parser *p, const char *data, size_t n, nats_op_fn fn,
    void *ctx, size_t *taken)
{
	size_t room, take, used, need;
	const char *nl;
	enum nats_result r;

	*taken = 0;
	if (p->need == 0) {
		/* Its line is still open: look only at the new bytes for its end. */
		room = nats_line_limit(p->part[0]) + 2 - p->len;
		nl = memchr(data, '\n', n < room ? n : room);
		if (nl == NULL && n >= room)
			return nats_fail(p, NATS_E_LINE, p->part, p->len,
			    "control line longer than %zu bytes",
			    nats_line_limit(p->part[0]));
		take = nl != NULL ? (size_t)(nl - data) + 1 : n;
		if ((r = nats_keep(p, data, take)) != NATS_MORE)
			return r;
		*taken = take;
		if (nl == NULL)
			return NATS_MORE;
		r = nats_one(p, p->part, p->len, fn, ctx, &used, &need);
		if (r != NATS_MORE || used > 0) {
			nats_parser_free(p);
			return r;
		}
		p->need = need;
		data += take;
		n -= take;
	}
	take = p->need - p->len < n ? p->need - p->len : n;
	if ((r = nats_keep(p, data, take)) != NATS_MORE)
		return r;
	*taken += take;
	return p->len < p->need ? NATS_MORE : nats_finish(p, fn, ctx);
}

enum nats_result
nats_parse(struct nats_parser *p, const char *data, size_t len,
    nats_op_fn fn, void *ctx)
{
	const char *pos = data, *end = data + len;
	size_t used, need;
	enum nats_result r;

	if (p->err != NATS_MORE)
		return p->err;
	if (p->len > 0 && len > 0) {
		if ((r = nats_resume(p, pos, len, fn, ctx, &used)) != NATS_MORE)
			return r;
		pos += used;
	}
	while (pos < end) {
		r = nats_one(p, pos, (size_t)(end - pos), fn, ctx, &used, &need);
		if (r != NATS_MORE)
			return r;
		if (used == 0) {
			p->need = need;
			return nats_keep(p, pos, (size_t)(end - pos));
		}
		pos += used;
	}
	return NATS_MORE;
}

/* --- encoders --- */

/* An output cursor; bad is set once something did not fit. */
struct nats_out {
	char *dst;
	size_t len;
	size_t cap;
	int bad;
};

/* nats_out_put - append n bytes, or mark the output bad. */
static void
nats_out_put(struct nats_out *o, const char *s, size_t n)
{
	if (o->bad || n > o->cap - o->len) {
		o->bad = 1;
		return;
	}
	memcpy(o->dst + o->len, s, n);
	o->len += n;
}

/* nats_out_str - append a C string. */
static void
nats_out_str(struct nats_out *o, const char *s)
{
	nats_out_put(o, s, strlen(s));
}

/* nats_out_uint - append v in decimal. */
static void
nats_out_uint(struct nats_out *o, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	nats_out_put(o, buf + i, sizeof(buf) - i);
}

/* nats_out_json - append s as a JSON string. */
static void
nats_out_json(struct nats_out *o, const char *s)
{
	long n;

	if (o->bad)
		return;
	n = json_escape(s, strlen(s), o->dst + o->len, o->cap - o->len);
	if (n < 0)
		o->bad = 1;
	else
		o->len += (size_t)n;
}

/* nats_out_end - CRLF; the length, or -1 if anything failed or the arguments (after op) are too long. */
static long
nats_out_end(struct nats_out *o, size_t op)
{
	nats_out_put(o, NATS_CRLF, 2);
	if (o->bad || o->len - op - 2 > NATS_ARGS_MAX)
		return -1;
	return (long)o->len;
}

/* nats_subject_ok - a subject the server can read as one argument. */
static int
nats_subject_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			return 0;
	return 1;
}

long
nats_put_connect(char *dst, size_t cap, const char *name, const char *version)
{
	struct nats_out o = { dst, 0, cap, 0 };

	nats_out_str(&o, "CONNECT {\"verbose\":false,\"pedantic\":false,"
	    "\"tls_required\":false,\"name\":");
	nats_out_json(&o, name);
	nats_out_str(&o, ",\"lang\":\"c\",\"version\":");
	nats_out_json(&o, version);
	nats_out_str(&o, ",\"protocol\":1,\"echo\":false,\"headers\":false}");
	return nats_out_end(&o, sizeof("CONNECT ") - 1);
}

/* nats_put_subject_num - `OP <subject> <n>\r\n`, the shape of SUB and PUB. */
static long
nats_put_subject_num(char *dst, size_t cap, const char *op, const char *subject,
    size_t len, uint64_t n)
{
	struct nats_out o = { dst, 0, cap, 0 };

	if (!nats_subject_ok(subject, len))
		return -1;
	nats_out_str(&o, op);
	nats_out_put(&o, subject, len);
	nats_out_put(&o, " ", 1);
	nats_out_uint(&o, n);
	return nats_out_end(&o, strlen(op));
}

long
nats_put_sub(char *dst, size_t cap, const char *subject, size_t len,
    uint64_t sid)
{
	return nats_put_subject_num(dst, cap, "SUB ", subject, len, sid);
}

long
nats_put_unsub(char *dst, size_t cap, uint64_t sid, uint64_t max)
{
	struct nats_out o = { dst, 0, cap, 0 };

	nats_out_str(&o, "UNSUB ");
	nats_out_uint(&o, sid);
	if (max > 0) {
		nats_out_put(&o, " ", 1);
		nats_out_uint(&o, max);
	}
	return nats_out_end(&o, sizeof("UNSUB ") - 1);
}

long
nats_put_pub(char *dst, size_t cap, const char *subject, size_t len,
    size_t payload_len)
{
	return nats_put_subject_num(dst, cap, "PUB ", subject, len, payload_len);
}

void
nats_pub_iov(struct iovec iov[3], const char *head, size_t head_len,
    const void *payload, size_t payload_len)
{
	iov[0].iov_base = (void *)(uintptr_t)head;
	iov[0].iov_len = head_len;
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = payload_len;
	iov[2].iov_base = (void *)(uintptr_t)NATS_CRLF;
	iov[2].iov_len = 2;
}
