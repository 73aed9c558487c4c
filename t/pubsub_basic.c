/*
 * t/pubsub_basic.c - the Part 1 protocol end to end against janusd -w 2:
 * greeting, ACK alone in its read, the exact delivered bytes of the
 * PROTOCOL.md example.
 */
#include "config.h"

#include <string.h>

#include "t/tap.h"
#include "t/tlib.h"

int
main(void)
{
	static const char *const args[] = { "-w", "2", NULL };
	struct tsrv s;
	struct tc *sub;
	char f[1024];
	long n;

	tap_plan(4);
	if (tsrv_start(&s, args) < 0)
		tap_bail("cannot start janusd");
	sub = tc_open(s.port);
	tap_ok(sub != NULL && tc_greeting(sub) == 0, "greeting");
	tc_send(sub, "<regular-socket/>\0{\"action\":\"subscribe\",\"data\":\"events\"}\0", 58);
	n = tc_raw(sub, f, sizeof(f), 5000);
	tap_is_mem(f, n > 0 ? (size_t)n : 0, "ACK\1", 4, "ACK arrives alone in its read");
	tap_ok(tc_publish1(s.port, "{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}") == 0,
	    "publish the Part 1 way");
	n = tc_frame(sub, f, sizeof(f), 5000);
	if (n > 0)
		tc_strip_ts(f);
	tap_is_str(f, "{\"topic\":\"events\",\"event\":\"test_event\",\"message_id\":\"\",\"data\":\"test\"}",
	    "delivered bytes after the timestamp");
	tc_close(sub);
	tsrv_stop(&s, 0);
	return tap_done();
}
