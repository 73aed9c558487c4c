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
	char dir[128];
	char log[192];
};

/*
 * tsrv_start - start janusd ($JANUSD, else ./janusd) with the given extra
 * arguments (NULL-terminated; -l and -p are added) and wait until it
 * accepts. Returns 0, or -1 (with a diagnostic) if it did not come up.
 */
int tsrv_start(struct tsrv *s, const char *const *args);

/* tsrv_stop - signal (TERM, or sig), wait up to 10 s, then KILL. Returns the exit status or -1. */
int tsrv_stop(struct tsrv *s, int sig);

/* tsrv_wait_exit - wait up to ms for the server to exit; its status, or -1 if still running. */
int tsrv_wait_exit(struct tsrv *s, int ms);

/* tsrv_stat - a counter of worker slot from `janusd -s`, or -1. */
long long tsrv_stat(const struct tsrv *s, unsigned slot, const char *name);

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

/* tc_send - write all of p (waits for room up to 5 s). 0 or -1. */
int tc_send(struct tc *c, const void *p, size_t n);
int tc_sends(struct tc *c, const char *s);   /* a C string, without its NUL */

/*
 * tc_frame - the next \1-terminated frame, without its \1, NUL-terminated
 * in out. Returns its length, -1 on timeout, -2 on end of stream or error.
 */
long tc_frame(struct tc *c, char *out, size_t cap, int timeout_ms);

/* tc_raw - one read(2) straight from the socket (nothing buffered first). Returns bytes, -1 timeout, -2 EOF. */
long tc_raw(struct tc *c, char *out, size_t cap, int timeout_ms);

/* tc_eof - whether the server closes the connection within timeout_ms (frames before it are dropped). */
int tc_eof(struct tc *c, int timeout_ms);

/* tc_greeting - read and check the greeting; 0 or -1. */
int tc_greeting(struct tc *c);

/* tc_subscribe - send a Part 1 subscribe for topic and wait for ACK. 0 or -1. */
int tc_subscribe(struct tc *c, const char *topic);

/* tc_publish1 - publish the Part 1 way on a new connection: PUBLISH, object, close. 0 or -1. */
int tc_publish1(unsigned port, const char *object);

/* tc_strip_ts - remove the leading "timestamp":[..], member in place; -1 if absent. */
int tc_strip_ts(char *frame);

/* tc_strip_seq - after tc_strip_ts, remove a version 2 message's "seq":N, member; N, or -1. */
long long tc_strip_seq(char *frame);

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
