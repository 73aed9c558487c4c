#!/bin/bash
# t/fault_fatal.sh - a worker that cannot set itself up exits 2 and is not
# respawned, while the others serve; when no worker can run, the master
# stops with exit status 2 (fault hook worker_setup).
# Needs a build configured with --enable-fault-injection.
. "$(dirname "$0")/lib.sh"

[ "$JANUSD_FAULTS_BUILT" = yes ] || skip_all "fault injection not built (configure --enable-fault-injection)"
plan 6
JANUSD_FAULT=worker_setup:1 janusd_start -w 2 -o log_level=info || exit 1
for i in $(seq 1 100); do grep -q "not respawning it" "$T_DIR/janusd.log" && break; sleep 0.05; done
grep -q "worker 1 cannot run (exit status 2); not respawning it" "$T_DIR/janusd.log"
ok $? "the master logs that worker 1 cannot run and will not respawn it"
sleep 1
is "$(grep -c "worker 1 started" "$T_DIR/janusd.log")" "1" "worker 1 was started once, not again"
exec 3<>"/dev/tcp/127.0.0.1/$JPORT"
printf '{"action":"subscribe","data":"x"}\0' >&3
IFS= read -r -d $'\1' -t 5 greeting <&3
IFS= read -r -d $'\1' -t 5 ack <&3
exec 3>&-
is "$ack" "ACK" "worker 0 serves (worker 1's socket is closed, so nothing queues there)"
kill -0 "$JPID" 2>/dev/null
ok $? "the master keeps running with one worker"
janusd_stop

log="$T_DIR/all.log"
JANUSD_FAULT=worker_setup "$JANUSD" -o http_port=0 -w 2 -l 127.0.0.1 -p "$JPORT" 2>"$log" &
pid=$!
track "$pid"
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid"
is "$?" "2" "no worker can run: the master exits 2"
grep -q "no worker can run; stopping" "$log"
ok $? "and says so"
