/*
 * t/tlib.h - what the C end-to-end tests share: a janusd of their own and
 * clients that speak frames.
 *
 * Owns: starting janusd on 127.0.0.1 and a free port, in a scratch
 * directory, and stopping it by pid, also when a test fails or is killed
 * (atexit, signal handlers, and PR_SET_PDEATHSIG in the server). The
 * server's log is shown when a test failed. Clients buffer what they read
 * so frames split or joined by TCP come out one at a time.
 */
#ifndef JANUSD_T_TLIB_H
#define JANUSD_T_TLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tsrv {
	pid_t pid;
	unsigned port;
	unsigned hport;          /* its HTTP/WebSocket port; 0 when off */
	char dir[128];
	char log[192];
};

/*
 * tsrv_start - start janusd ($JANUSD, else ./janusd) with the given extra
 * arguments (NULL-terminated; -l and -p are added, and before the given
 * ones the words of $JANUSD_TEST_ARGS, e.g. "-o io_uring=no" to run the
 * suite on the send() path) and wait until it accepts. Returns 0, or -1
 * (with a diagnostic) if it did not come up.
 */
int tsrv_start(struct tsrv *s, const char *const *args);

/* tsrv_start_http - tsrv_start with the HTTP/WebSocket listener on a free port too (s->hport). */
int tsrv_start_http(struct tsrv *s, const char *const *args);

/* tsrv_stop - signal (TERM, or sig), wait up to 10 s, then KILL. Returns the exit status or -1. */
int tsrv_stop(struct tsrv *s, int sig);

/* tsrv_wait_exit - wait up to ms for the server to exit; its status, or -1 if still running. */
int tsrv_wait_exit(struct tsrv *s, int ms);

/* tsrv_stat - a counter of worker slot from `janusd -s`, or -1. */
long long tsrv_stat(const struct tsrv *s, unsigned slot, const char *name);

/* tsrv_stat_in - the same from `janusd -s` output already read (tsrv_stats), or -1. */
long long tsrv_stat_in(const char *stats, unsigned slot, const char *name);
/* tsrv_bridge_stat - a number of the "bridge" object of `janusd -s` (pid, msgs_in, ...), or -1. */
long long tsrv_bridge_stat(const struct tsrv *s, const char *name);

/* tsrv_bridge_up - whether `janusd -s` says the bridge's link is up. */
int tsrv_bridge_up(const struct tsrv *s);

/* tsrv_bridge_wait - wait up to ms for the bridge's counter name to reach at least want; its last value. */
long long tsrv_bridge_wait(const struct tsrv *s, const char *name, long long want, int ms);

/* tsrv_stat2 - a counter of worker slots 0 and 1 (of a janusd -w 2) into v; 0 or -1. */
int tsrv_stat2(const struct tsrv *s, const char *name, long long v[2]);

/* tsrv_total - a counter of the "totals" member of `janusd -s` (all workers), or -1. */
long long tsrv_total(const struct tsrv *s, const char *name);

/* tsrv_stats - the whole `janusd -s` output into buf; 0 or -1. */
int tsrv_stats(const struct tsrv *s, char *buf, size_t cap);

/* tsrv_log_wait - wait up to ms for needle to appear in the server's log. */
int tsrv_log_wait(const struct tsrv *s, const char *needle, int ms);

/* tsrv_log_alerts - warning and error lines in the log not containing expected (may be NULL), shown as diagnostics. */
unsigned tsrv_log_alerts(const struct tsrv *s, const char *expected);

/* tsrv_log_show - the server's log as TAP diagnostics. */
void tsrv_log_show(const struct tsrv *s);

/* tsrv_log_has - whether the server's log contains needle. */
int tsrv_log_has(const struct tsrv *s, const char *needle);

/* tsrv_log_count - lines of the server's log containing every string of needles (NULL-terminated). */
unsigned tsrv_log_count(const struct tsrv *s, const char *const *needles);

/* A client connection with its read buffer. */
struct tc {
	int fd;
	size_t len;
	char buf[256 << 10];
};

/* tc_open - connect to 127.0.0.1:port (blocking connect, then non-blocking). NULL on failure. */
struct tc *tc_open(unsigned port);

/*
 * tc_open_small - the same with a small receive buffer and maximum segment
 * size set before connecting (0: the default), for clients that should
 * fill up quickly: over loopback the server's send buffer otherwise grows
 * to megabytes before it ever sees a full socket.
 */
struct tc *tc_open_small(unsigned port, int rcvbuf, int mss);
void tc_close(struct tc *c);

/* tc_open_from - tc_open from the local address src (e.g. "127.0.0.2"). NULL on failure. */
struct tc *tc_open_from(unsigned port, const char *src);

/*
 * tc_open_spread - n (at least 2) greeted connections from src into c,
 * held by both workers of s's two (the kernel picks a connection's
 * worker: ones that would leave a worker out are closed and tried
 * again). 0 or -1.
 */
int tc_open_spread(const struct tsrv *s, const char *src, unsigned n, struct tc **c);

/* tc_connect - what tc_open_small does, as a bare descriptor; -1 on failure. */
int tc_connect(unsigned port, int rcvbuf, int mss);

/* tc_connect_from - tc_connect bound first to the local address src (NULL: the kernel's choice). */
int tc_connect_from(unsigned port, const char *src, int rcvbuf, int mss);

/* tc_listen - a listener on 127.0.0.1 and a port the kernel picks (into *port); -1 on failure. */
int tc_listen(unsigned *port);

/*
 * tc_pair - a connected loopback TCP pair through listener lfd on port,
 * for tests with no server: fds[0] the accepted end, with SO_SNDBUF
 * sndbuf, fds[1] the connecting end, with SO_RCVBUF rcvbuf set before it
 * connects (0: the defaults). Both non-blocking, TCP_NODELAY. 0 or -1.
 */
int tc_pair(int lfd, unsigned port, int fds[2], int sndbuf, int rcvbuf);

/* tc_send - write all of p (waits for room up to 5 s). 0 or -1. */
int tc_send(struct tc *c, const void *p, size_t n);
int tc_sends(struct tc *c, const char *s);   /* a C string, without its NUL */

/*
 * tc_until - the next run of bytes up to delim, without it, NUL-terminated
 * in out (cut to cap - 1). Returns its length, -1 on timeout, -2 on end of
 * stream or error.
 */
long tc_until(struct tc *c, char delim, char *out, size_t cap, int timeout_ms);

/*
 * tc_frame - the next \1-terminated frame, without its \1, NUL-terminated
 * in out. Returns its length, -1 on timeout, -2 on end of stream or error.
 */
long tc_frame(struct tc *c, char *out, size_t cap, int timeout_ms);

/* tc_fill - read more into c's buffer: bytes read (0 if none yet), -1 timeout, -2 EOF, error or full. */
long tc_fill(struct tc *c, int timeout_ms);

/* tc_raw - one read(2) straight from the socket (nothing buffered first). Returns bytes, -1 timeout, -2 EOF. */
long tc_raw(struct tc *c, char *out, size_t cap, int timeout_ms);

/* tc_eof - whether the server closes the connection within timeout_ms (frames before it are dropped). */
int tc_eof(struct tc *c, int timeout_ms);

/* tc_greeting - read and check the greeting; 0 or -1. */
int tc_greeting(struct tc *c);

/* tc_subscribe - send a Part 1 subscribe for topic and wait for ACK. 0 or -1. */
int tc_subscribe(struct tc *c, const char *topic);

/*
 * tc_subscribe_each - subscribe to topics "PREFIX<first>" .. "PREFIX<first+n-1>"
 * in one write, then read the n replies: ACKs and limit errors are
 * counted (either may be NULL); any other reply, a timeout or a closed
 * connection returns -1, else 0.
 */
int tc_subscribe_each(struct tc *c, const char *prefix, unsigned first, unsigned n,
    unsigned *acks, unsigned *limits);

/* tc_publish1 - publish the Part 1 way on a new connection: PUBLISH, object, close. 0 or -1. */
int tc_publish1(unsigned port, const char *object);

/* tc_strip_ts - remove the leading "timestamp":[..], member in place; -1 if absent. */
int tc_strip_ts(char *frame);

/* tc_strip_seq - after tc_strip_ts, remove a version 2 message's "seq":N, member; N, or -1. */
long long tc_strip_seq(char *frame);

/* tc_num_after - the number right after the first key in frame (e.g. "\"n\":"), or -1 if key is absent. */
long long tc_num_after(const char *frame, const char *key);

/* tlib_ms - a monotonic clock in ms; tlib_sleep_ms - sleep that long. */
uint64_t tlib_ms(void);
void tlib_sleep_ms(int ms);

/* tc_sendz - send a frame: the C string and its terminating \0. */
int tc_sendz(struct tc *c, const char *s);

/* tc_open_greeted - a connection whose greeting was read; bails out if that fails. */
struct tc *tc_open_greeted(unsigned port);

/* tc_is_error - whether frame is {"error":"CODE","message":"..."} with this code. */
int tc_is_error(const char *frame, const char *code);

/* tc_quiet - TAP check that no frame arrives on c within ms (c NULL fails). */
int tc_quiet(struct tc *c, int ms, const char *name);

#endif
