#!/bin/bash
# t/fault_crashloop.sh - a worker that crashes at every start (fault hook
# worker_start) is respawned with growing delays, the master stays under
# 1% CPU, and the other worker keeps serving.
# Needs a build configured with --enable-fault-injection.
. "$(dirname "$0")/lib.sh"

[ "$JANUSD_FAULTS_BUILT" = yes ] || skip_all "fault injection not built (configure --enable-fault-injection)"
plan 5
JANUSD_FAULT=worker_start:1 janusd_start -w 2 || exit 1
ticks() { awk '{print $14 + $15}' "/proc/$JPID/stat"; }
t0=$(ticks)
sleep 5
t1=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(( (t1 - t0) * 10000 / (hz * 5) ))
diag "master CPU over 5 s: $((cpu / 100)).$(printf '%02d' $((cpu % 100)))%"
[ "$cpu" -lt 100 ]
ok $? "the master stays under 1% CPU while a worker crash-loops"
restarts=$("$JANUSD" -s -p "$JPORT" | sed 's/.*"slot":1,"pid":[0-9]*,"restarts":\([0-9]*\).*/\1/')
diag "slot 1 restarted $restarts times in about 5 s"
[ "$restarts" -ge 2 ] && [ "$restarts" -le 10 ]
ok $? "respawns are throttled, not stopped"
grep -q "worker 1 died [0-9]* times in a row within 2000 ms of starting; next start in" "$T_DIR/janusd.log"
ok $? "the throttling is logged"
exec 3<>"/dev/tcp/127.0.0.1/$JPORT"
IFS= read -r -d $'\1' -t 5 greeting <&3
printf '{"action":"subscribe","data":"x"}\0' >&3
IFS= read -r -d $'\1' -t 5 ack <&3
exec 3>&-
case $greeting in '{"timestamp":['*'"token":"'*) true ;; *) false ;; esac
ok $? "the other worker still greets"
is "$ack" "ACK" "and still serves"
