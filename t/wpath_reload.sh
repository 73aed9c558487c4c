#!/bin/bash
# t/wpath_reload.sh - which write path each worker uses, and why: the log
# says it at start, janusd -s shows it per worker, a reload that changes
# io_uring switches every worker (no restart), deliveries go on whole on
# the new path, and a worker whose io_uring_setup fails (the fault hook
# uring_setup, as a seccomp filter would) says why and uses send().
. "$(dirname "$0")/lib.sh"

# this test sets io_uring itself: the suite's -o io_uring=no would win over the file
unset JANUSD_TEST_ARGS

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 22

# paths: the workers' write_path members from janusd -s, in slot order.
paths() { "$JANUSD" -s -p "$JPORT" | grep -o '"write_path":"[a-z_]*"' | cut -d'"' -f4 | tr '\n' ' '; }

# log_count TEXT N: wait up to 5 s for N lines with TEXT in the log.
log_count() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -cF -- "$1" "$T_DIR/janusd.log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

conf="$T_DIR/janusd.conf"
printf 'io_uring no\n' > "$conf"
janusd_start -w 2 -c "$conf" || exit 1
log_count "write path: send() (io_uring no)" 2
ok $? "io_uring no: each worker logs that it writes with send() and why"
is "$(paths)" "send send " "io_uring no: janusd -s shows write_path send for both workers"

printf 'io_uring yes\n' > "$conf"
kill -HUP "$JPID"
if log_count "write path: send() (io_uring_setup" 2; then
	why=$(grep -m1 -F "write path: send() (io_uring_setup" "$T_DIR/janusd.log" | sed 's/.*write path: //')
	skip "the kernel refuses io_uring: $why"
	skip "the kernel refuses io_uring: $why"
else
	log_count "write path: io_uring (" 2
	ok $? "reload to io_uring yes: each worker logs the switch"
	is "$(paths)" "io_uring io_uring " "... and janusd -s shows write_path io_uring for both"
fi
timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "$JPORT" -n 40 -M 3 --per-child 20 --timeout 60 --json \
	> "$T_DIR/out" 2> "$T_DIR/err"
is $? 0 "after the switch: janus-bots exits 0"
bots_clean 40 3 "after the switch"
janusd_stop
grep -Eq "(warn|error):" "$T_DIR/janusd.log"
is $? 1 "no warning or error in the log"

if [ "$JANUSD_FAULTS_BUILT" != yes ]; then
	for i in 1 2 3 4; do skip "fault injection not built (--enable-fault-injection)"; done
	exit 0
fi
: > "$T_DIR/janusd.log"
export JANUSD_FAULT=uring_setup
janusd_start -w 1
unset JANUSD_FAULT
grep -q "write path: send() (io_uring_setup(2048 entries) failed: Operation not permitted (" "$T_DIR/janusd.log"
ok $? "io_uring_setup refused: the log says send() and why"
is "$(paths)" "send " "... and janusd -s shows write_path send"
timeout 60 "$JANUS_BOTS" -H 127.0.0.1 -p "$JPORT" -n 10 -M 2 --timeout 30 --json > "$T_DIR/out" 2> "$T_DIR/err"
is $? 0 "... and delivers: janus-bots exits 0"
is "$(jnum deliveries_good)" 20 "... every delivery good"
janusd_stop
