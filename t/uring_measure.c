/*
 * t/uring_measure.c - what a send costs through send(2)/sendmsg(2) and
 * through worker/uring.c, side by side in one run (issue 12). Not a test:
 * built on demand with `make t/uring_measure`, run by hand.
 *
 * Owns: N loopback TCP pairs and one pass per mode and repetition that
 * sends SIZE bytes to each of them once, timed; the far sides are drained
 * between passes, untimed, so no socket ever fills (with -w, their
 * delayed ACKs are left to arrive too before the next pass starts). Modes run in a
 * rotating order so none always goes first. Prints the microseconds per
 * send of every pass, and per mode the median, the spread and the ratio
 * to send(2) in the same repetition (median and spread over repetitions).
 *
 *   t/uring_measure [-m modes] [-n sockets] [-r repetitions] [-s size] [-w ms between passes]
 *
 * -m 4,7 runs send() (mode 0) and modes 4 and 7 only; the modes are
 * numbered as listed in modes[] below.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "t/tlib.h"
#include "worker/uring.h"

#define MAX_REPS 64
#define HDR 30                    /* SENDMSG: a header piece and the rest, as a worker sends */

enum kind { K_SEND, K_SENDMSG, K_URING_SEND, K_URING_SENDMSG };

struct mode {
	const char *name;
	enum kind kind;
	unsigned batch;
	unsigned flags;
};

static const struct mode modes[] = {
	{ "send()", K_SEND, 0, 0 },
	{ "sendmsg() 2 iov", K_SENDMSG, 0, 0 },
	{ "SEND b256", K_URING_SEND, 256, URING_FLAGS },
	{ "SEND b1024", K_URING_SEND, 1024, URING_FLAGS },
	{ "SEND b2048", K_URING_SEND, 2048, URING_FLAGS },
	{ "SEND b4096", K_URING_SEND, 4096, URING_FLAGS },
	{ "SENDMSG b2048 2 iov", K_URING_SENDMSG, 2048, URING_FLAGS },
	{ "SEND b2048 no flags", K_URING_SEND, 2048, 0 },
	{ "SEND b2048 SUBMIT_ALL", K_URING_SEND, 2048, IORING_SETUP_SUBMIT_ALL },
	{ "SEND b2048 COOP_TASKRUN", K_URING_SEND, 2048, IORING_SETUP_COOP_TASKRUN },
	{ "SEND b2048 COOP+TASKRUN_FLAG", K_URING_SEND, 2048,
	    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG },
	{ "SEND b2048 SINGLE_ISSUER", K_URING_SEND, 2048, IORING_SETUP_SINGLE_ISSUER },
	{ "SEND b2048 SINGLE+DEFER_TASKRUN", K_URING_SEND, 2048,
	    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static struct uring rings[NMODES];
static double us[NMODES][MAX_REPS];     /* wall clock per send, of each pass */
static double cpu[NMODES][MAX_REPS];    /* the process's CPU time (user + system) per send */

static int (*pairs)[2];
static unsigned npairs = 9000, reps = 5;
static size_t size = 100;
static unsigned settle_ms;              /* -w: pause after each pass */
static int chosen[NMODES];              /* -m: the modes to run; all without it */
static char payload[4096];
static struct iovec iov2[2];            /* the message as a header and the rest */
static struct msghdr mh2 = { .msg_iov = iov2, .msg_iovlen = 2 };
static unsigned long failed;

/* now_us - a monotonic clock in microseconds. */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* cpu_us - the CPU time this process used so far, in microseconds. */
static double
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* on_done - count every completion that did not write the whole message. */
static void
on_done(void *ctx, void *data, int res)
{
	if (res != (int)size)
		failed++;
}

/* pass_syscall - one send(2) or sendmsg(2) per socket. */
static void
pass_syscall(const struct mode *m)
{
	unsigned i;
	ssize_t n;

	for (i = 0; i < npairs; i++) {
		if (m->kind == K_SEND)
			n = send(pairs[i][0], payload, size, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = sendmsg(pairs[i][0], &mh2, MSG_DONTWAIT | MSG_NOSIGNAL);
		failed += n != (ssize_t)size;
	}
}

/* pass_uring - one entry per socket, submitted every batch entries and reaped after each submit. */
static void
pass_uring(const struct mode *m, struct uring *u)
{
	unsigned i;
	int r;

	for (i = 0; i < npairs; i++) {
		if (m->kind == K_URING_SEND)
			r = uring_prep_send(u, pairs[i][0], payload, size, NULL);
		else
			r = uring_prep_sendmsg(u, pairs[i][0], &mh2, NULL);
		failed += r != 0;
		if (uring_queued(u) == m->batch || i + 1 == npairs) {
			failed += uring_submit(u) < 0;
			uring_reap(u, on_done, NULL);
		}
	}
}

/* drain - read what every far side got, so the next pass finds room everywhere. */
static void
drain(void)
{
	char buf[65536];
	unsigned i;

	for (i = 0; i < npairs; i++)
		while (read(pairs[i][1], buf, sizeof(buf)) > 0)
			;
}

/* cmp_double - for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* median - of the n values in v (sorted in a copy). */
static double
median(const double *v, unsigned n, double *lo, double *hi)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* choose - -m 0,4,...: run only these modes (send() always, as the reference). */
static void
choose(const char *list)
{
	char *end;
	unsigned long i;

	chosen[0] = 1;
	while (*list != '\0') {
		i = strtoul(list, &end, 10);
		if (end == list || i >= NMODES) {
			fprintf(stderr, "-m: mode numbers 0 to %zu, comma-separated\n", NMODES - 1);
			exit(1);
		}
		chosen[i] = 1;
		list = *end == ',' ? end + 1 : end;
	}
}

/* setup - the pairs and the rings; exits on failure. */
static void
setup(void)
{
	struct rlimit rl = { 2 * npairs + 64, 2 * npairs + 64 };
	char why[256];
	unsigned i, port;
	int lfd;

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 2 * npairs + 64)) {
		fprintf(stderr, "needs %u descriptors: %s\n", 2 * npairs + 64, strerror(errno));
		exit(1);
	}
	pairs = calloc(npairs, sizeof(*pairs));
	if (pairs == NULL || (lfd = tc_listen(&port)) < 0)
		exit(1);
	for (i = 0; i < npairs; i++)
		if (tc_pair(lfd, port, pairs[i], 0, 0) < 0) {
			fprintf(stderr, "pair %u failed\n", i);
			exit(1);
		}
	close(lfd);
	for (i = 0; i < NMODES; i++) {
		if (modes[i].batch == 0 || !chosen[i])
			continue;
		if (uring_open_flags(&rings[i], modes[i].batch, modes[i].flags, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: %s\n", modes[i].name, why);
			exit(1);
		}
		if (rings[i].flags != modes[i].flags)
			fprintf(stderr, "%s: the kernel refused flags %#x\n", modes[i].name, modes[i].flags);
	}
}

/* report - per mode the median and spread of v, and its ratio to send() in the same repetition. */
static void
report(const char *what, double (*v)[MAX_REPS])
{
	double med, lo, hi, ratio[MAX_REPS], rmed, rlo, rhi;
	unsigned i, r;

	printf("\n%-34s %8s %17s %7s %15s\n", what, "median", "min-max", "ratio", "ratio min-max");
	for (i = 0; i < NMODES; i++) {
		if (!chosen[i])
			continue;
		med = median(v[i], reps, &lo, &hi);
		for (r = 0; r < reps; r++)
			ratio[r] = v[i][r] / v[0][r];
		rmed = median(ratio, reps, &rlo, &rhi);
		printf("%-34s %8.2f %8.2f-%-8.2f %7.3f %7.3f-%-7.3f\n", modes[i].name, med, lo, hi, rmed, rlo, rhi);
	}
}

/* pass - one timed pass of mode i, then the untimed drain. */
static void
pass(unsigned i, unsigned r)
{
	double t0 = now_us(), c0 = cpu_us();

	if (modes[i].batch == 0)
		pass_syscall(&modes[i]);
	else
		pass_uring(&modes[i], &rings[i]);
	us[i][r] = (now_us() - t0) / npairs;
	cpu[i][r] = (cpu_us() - c0) / npairs;
	drain();
	/*
	 * -w: the far sides' delayed ACKs (40 ms and more) would otherwise be
	 * processed during the next pass and charged to whichever mode it is.
	 */
	if (settle_ms > 0)
		usleep(settle_ms * 1000);
}

int
main(int argc, char **argv)
{
	unsigned r, k, i, run[NMODES], nrun = 0;
	int c, some = 0;

	while ((c = getopt(argc, argv, "m:n:r:s:w:")) != -1) {
		if (c == 'n')
			npairs = (unsigned)atoi(optarg);
		else if (c == 'r')
			reps = (unsigned)atoi(optarg);
		else if (c == 's')
			size = (size_t)atoi(optarg);
		else if (c == 'w')
			settle_ms = (unsigned)atoi(optarg);
		else if (c == 'm')
			some = 1, choose(optarg);
		else
			return 1;
	}
	if (reps < 1 || reps > MAX_REPS || size <= HDR || size > sizeof(payload) || npairs < 1)
		return 1;
	for (i = 0; i < NMODES; i++)
		if (chosen[i] || !some)
			run[nrun++] = i;
	for (i = 0; i < nrun; i++)
		chosen[run[i]] = 1;
	memset(payload, 'x', sizeof(payload));
	iov2[0] = (struct iovec){ payload, HDR };
	iov2[1] = (struct iovec){ payload + HDR, size - HDR };
	setup();
	printf("%u loopback TCP sockets, %zu bytes each, %u repetitions after one to warm up, %u ms between passes\n",
	    npairs, size, reps, settle_ms);
	for (i = 0; i < nrun; i++)
		pass(run[i], 0);
	for (r = 0; r < reps; r++) {
		printf("rep %u:", r);
		for (k = 0; k < nrun; k++)
			pass(run[(k + r) % nrun], r);
		for (i = 0; i < nrun; i++)
			printf(" %.2f", us[run[i]][r]);
		printf("\n");
	}
	report("wall clock, us per send", us);
	report("CPU time, us per send", cpu);
	printf("(ratio: to send() in the same repetition, median over repetitions)\nfailed sends: %lu\n", failed);
	for (i = 0; i < nrun; i++)
		if (modes[run[i]].batch != 0)
			uring_close(&rings[run[i]]);
	return 0;
}
