#!/bin/bash
# t/init_pid1.sh - janusd as PID 1 of its own PID namespace (as in a
# container): it serves, reaps and respawns a killed worker, and stops
# cleanly on TERM with no process left behind.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for unshare --pid"
unshare -fp --mount-proc true 2>/dev/null || skip_all "unshare --pid is not permitted here"
plan 7

port=$(random_port)
while ! port_free "$port"; do port=$(random_port); done
JPORT=$port
unshare -fp --mount-proc --kill-child "$JANUSD" -o http_port=0 -w 2 -l 127.0.0.1 -p "$port" 2>"$T_DIR/janusd.log" &
upid=$!
track "$upid"
wait_port "$port" 10
ok $? "janusd serves as PID 1"

jpid=$(pgrep -P "$upid" -x janusd)
inner=$(awk '/^NSpid:/ {print $3}' "/proc/$jpid/status")
is "$inner" "1" "the master is PID 1 inside the namespace"

workers=$(pgrep -P "$jpid" -x janusd | wc -l)
is "$workers" "2" "two workers run"

victim=$(pgrep -P "$jpid" -x janusd | head -n 1)
kill -KILL "$victim"
for i in $(seq 1 100); do
	[ "$(pgrep -P "$jpid" -x janusd | grep -vcx "$victim")" -eq 2 ] && break
	sleep 0.05
done
is "$(pgrep -P "$jpid" -x janusd | grep -vcx "$victim")" "2" "a killed worker is reaped and respawned"
[ -z "$(ps -o stat= --ppid "$jpid" | grep Z)" ]
ok $? "no zombie children"

kill -TERM "$jpid"
wait "$upid"
is "$?" "0" "TERM stops it with status 0"
sleep 0.2
[ -z "$(pgrep -f "janusd -w 2 -l 127.0.0.1 -p $port")" ] && [ ! -e "/dev/shm/janusd.$port" ]
ok $? "no process and no shared memory left behind"
