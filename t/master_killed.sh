#!/bin/bash
# t/master_killed.sh - if the master is killed, its workers notice and exit,
# and no shared memory segment is left behind; a stale segment from a
# crashed run does not stop the next start.
. "$(dirname "$0")/lib.sh"

plan 5
janusd_start -w 2 || exit 1
workers=$(pgrep -P "$JPID" -x janusd | tr '\n' ' ')
kill -KILL "$JPID"
for i in $(seq 1 100); do
	alive=0
	for w in $workers; do kill -0 "$w" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && break
	sleep 0.05
done
is "$alive" "0" "workers exit when the master is killed"
for i in $(seq 1 40); do [ -e "/dev/shm/janusd.$JPORT" ] || break; sleep 0.05; done
[ ! -e "/dev/shm/janusd.$JPORT" ]
ok $? "the shared memory segment is removed"

# a segment left by a crash (mode 0600, as janusd makes it): nobody holds its lock
(umask 077; head -c 65536 /dev/urandom > "/dev/shm/janusd.$JPORT")
"$JANUSD" -o http_port=0 -w 1 -l 127.0.0.1 -p "$JPORT" 2>>"$T_DIR/janusd.log" &
JPID=$!
track "$JPID"
wait_port "$JPORT" 10
ok $? "starts over a stale segment"
grep -q "replacing stale shared memory /dev/shm/janusd.$JPORT" "$T_DIR/janusd.log"
ok $? "and says it replaced it"
janusd_stop
[ ! -e "/dev/shm/janusd.$JPORT" ]
ok $? "no segment left after a clean stop"
