/*
 * bots/ipc.c - records on the pipes between the parent and its children.
 *
 * Owns: writing a record in one go and reassembling records on the reading
 * side. Must not interpret payloads.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bots/ipc.h"

#define IPC_HEAD 8
#define IPC_READ 65536

int
ipc_send(int fd, uint32_t type, const void *p, size_t len)
{
	uint32_t head[2] = { type, (uint32_t)len };
	struct iovec iov[2];
	size_t total = IPC_HEAD + len, done = 0, skip;
	ssize_t n;

	while (done < total) {
		/* restart the two-piece write after a short one */
		if (done < IPC_HEAD) {
			iov[0].iov_base = (char *)head + done;
			iov[0].iov_len = IPC_HEAD - done;
			iov[1].iov_base = (void *)(uintptr_t)p;
			iov[1].iov_len = len;
			n = writev(fd, iov, len > 0 ? 2 : 1);
		} else {
			skip = done - IPC_HEAD;
			n = write(fd, (const char *)p + skip, len - skip);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

long
ipc_fill(int fd, struct ipc_in *in)
{
	ssize_t n;
	char *nb;

	if (in->off > 0 && in->off == in->len) {
		in->off = 0;
		in->len = 0;
	}
	if (in->cap - in->len < IPC_READ) {
		if (in->off > 0) {
			memmove(in->buf, in->buf + in->off, in->len - in->off);
			in->len -= in->off;
			in->off = 0;
		}
		if (in->cap - in->len < IPC_READ) {
			nb = realloc(in->buf, in->cap * 2 + IPC_READ);
			if (nb == NULL)
				return -1;
			in->buf = nb;
			in->cap = in->cap * 2 + IPC_READ;
		}
	}
	do
		n = read(fd, in->buf + in->len, in->cap - in->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		in->len += (size_t)n;
	return (long)n;
}

int
ipc_next(struct ipc_in *in, uint32_t *type, const char **p, size_t *len)
{
	uint32_t head[2];

	if (in->len - in->off < IPC_HEAD)
		return 0;
	memcpy(head, in->buf + in->off, IPC_HEAD);
	if (in->len - in->off - IPC_HEAD < head[1])
		return 0;
	*type = head[0];
	*len = head[1];
	/* records are read in place; copy out what must outlive the next fill */
	*p = in->buf + in->off + IPC_HEAD;
	in->off += IPC_HEAD + head[1];
	return 1;
}

void
ipc_free(struct ipc_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}
