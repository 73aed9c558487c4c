#!/bin/bash
# t/init_daemon.sh - SysV-style: -d detaches once serving and -P keeps a
# locked pid file; a second janusd with the same pid file refuses to start;
# TERM removes the pid file and the shared memory; a pid file that is a
# symbolic or hard link to another file is refused, the file untouched.
. "$(dirname "$0")/lib.sh"

plan 13
pidfile="$T_DIR/janusd.pid"
port=$(random_port)
while ! port_free "$port"; do port=$(random_port); done
JPORT=$port

"$JANUSD" -o http_port=0 -d -P "$pidfile" -l 127.0.0.1 -p "$port" -w 1 2>"$T_DIR/janusd.log"
is "$?" "0" "-d returns 0 once the server serves"
pid=$(cat "$pidfile" 2>/dev/null)
[ -n "$pid" ] && track "$pid"
[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = janusd ]
ok $? "the pid file names the running master"
wait_port "$port" 5
ok $? "it accepts connections"
[ "$(awk '{print $6}' "/proc/$pid/stat")" = "$pid" ]
ok $? "it leads its own session"

port2=$((port + 1))
"$JANUSD" -o http_port=0 -P "$pidfile" -l 127.0.0.1 -p "$port2" -w 1 2>"$T_DIR/second.log"
is "$?" "2" "a second janusd with the same pid file exits 2"
grep -q "already running (pid $pid" "$T_DIR/second.log"
ok $? "and says which pid holds it"

stop_pid "$pid" TERM
[ ! -e "$pidfile" ] && [ ! -e "/dev/shm/janusd.$port" ]
ok $? "TERM removes the pid file and the shared memory"

# pid_refused WHAT NEEDLE: janusd -P "$T_DIR/link.pid" exits 2 saying NEEDLE, and victim is untouched
pid_refused() {
	local p
	p=$(random_port)
	timeout 10 "$JANUSD" -o http_port=0 -P "$T_DIR/link.pid" -l 127.0.0.1 -p "$p" -w 1 2>"$T_DIR/link.log"
	is "$?" "2" "a pid file that is $1 is refused (exit 2)"
	grep -q "$2" "$T_DIR/link.log" && [ "$(cat "$T_DIR/victim")" = "keep me" ]
	ok $? "saying so, and the file it names is untouched"
	[ ! -e "/dev/shm/janusd.$p" ]
	ok $? "and leaving no shared memory behind"
	rm -f "$T_DIR/link.pid"
}

echo "keep me" >"$T_DIR/victim"
ln -s "$T_DIR/victim" "$T_DIR/link.pid"
pid_refused "a symbolic link" "pid file $T_DIR/link.pid is a symbolic link; not following it"
ln "$T_DIR/victim" "$T_DIR/link.pid"
pid_refused "a hard link" "pid file $T_DIR/link.pid has 2 names"
