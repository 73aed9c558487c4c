#!/bin/bash
# t/options_cli.sh - janusd's command line, exit statuses, stopping and
# reloading, as janusd(8) and janusd.conf(5) describe them.
#   -V, -h, bad options (1), -t with good and bad files (1, a one-line
#   error naming file and line), a port in use (2), -s, -d with -P;
#   TERM removes /dev/shm/janusd.PORT; HUP applies a changed file to new
#   publishes without dropping subscribers, logs a restart-only key as
#   kept, and ignores a bad file.
# Every janusd run here either exits by itself within a bound (timeout)
# or is started by janusd_start / tracked, and stopped by PID.

. "$(dirname "$0")/lib.sh"

plan 57

LOG="$T_DIR/janusd.log"

# bounded CMD...: run with a 10 s limit; 137 means it had to be killed.
bounded() { timeout -s KILL 10 "$@"; }

# free_port: a port nothing listens on.
free_port() {
	local p
	while :; do
		p=$(random_port)
		port_free "$p" && { echo "$p"; return; }
	done
}

# status_of CMD...: the exit status, output discarded.
status_of() { bounded "$@" >/dev/null 2>&1; echo $?; }

# frame FD [SECONDS]: read one \1-terminated frame into FRAME; 0, or 1 on timeout/EOF.
frame() {
	FRAME=""
	IFS= read -r -d $'\1' -t "${2:-5}" FRAME <&"$1"
}

# strip_ts: a delivered message without its leading "timestamp":[..], member.
strip_ts() { printf '%s' "$1" | sed 's/^{"timestamp":\[[0-9,]*\],/{/'; }

# wait_log TEXT COUNT: until the log has COUNT lines with TEXT (5 s).
wait_log() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c -- "$1" "$LOG")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# publish1 TOPIC DATA: publish the Part 1 way; prints the server's reply to it, if any.
publish1() {
	local reply=""
	exec 6<>"/dev/tcp/127.0.0.1/$JPORT" || return 1
	frame 6
	printf '<regular-socket/>\0PUBLISH\0{"topic":"%s","data":%s}\0' "$1" "$2" >&6
	frame 6 2 && reply=$FRAME
	exec 6<&- 6>&-
	printf '%s' "$reply"
}

# is_mine: the janusd answering on $JPORT is $JPID (its segment's master_pid).
is_mine() {
	local out _
	for _ in $(seq 1 100); do
		out=$("$JANUSD" -s -p "$JPORT" 2>/dev/null) && break
		kill -0 "$JPID" 2>/dev/null || break
		sleep 0.02
	done
	case $out in *"\"master_pid\":$JPID,"*) return 0 ;; esac
	return 1
}

# start_mine ARGS...: janusd_start, again on another port if the janusd that
# answers is not the one started (a test started at the same moment may
# have picked the same port; lib.sh's wait_port cannot tell).
start_mine() {
	local _
	for _ in 1 2 3 4 5; do
		janusd_start "$@" || return 1
		is_mine && return 0
		diag "port $JPORT is served by another janusd; trying another"
		stop_pid "$JPID" KILL
	done
	return 1
}

# ---- options that exit at once ----
out=$(bounded "$JANUSD" -V); rc=$?
is "$rc" 0 "-V exits 0"
ok "$(printf '%s' "$out" | grep -cE '^janusd [0-9]+\.[0-9]+' | grep -qx 1; echo $?)" "-V prints 'janusd VERSION' ($out)"
out=$(bounded "$JANUSD" -h 2>/dev/null); rc=$?
is "$rc" 0 "-h exits 0"
ok "$(printf '%s' "$out" | grep -q '^usage: janusd'; echo $?)" "-h prints the usage on standard output"

P=$(free_port)
is "$(status_of "$JANUSD" -Z)" 1 "an unknown option exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" extra)" 1 "an extra argument exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -o no_such_key=1)" 1 "-o with an unknown key exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -o max_frame=12x)" 1 "-o with a bad size exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -o heartbeat)" 1 "-o without =VALUE exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -w 0)" 1 "-w 0 exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -w 33)" 1 "-w 33 exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p 70000)" 1 "-p 70000 exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -o slow_policy=sometimes)" 1 "-o slow_policy=sometimes exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -o publish_allow=10.0.0.0/33)" 1 "-o publish_allow with a bad prefix exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -d)" 1 "-d without a pid file exits 1"
is "$(status_of "$JANUSD" -l 127.0.0.1 -p "$P" -P relative.pid)" 1 "-P with a relative path exits 1"
ok "$(port_free "$P"; echo $?)" "none of them started serving"

# ---- -t ----
GOOD="$T_DIR/good.conf"
cat >"$GOOD" <<'EOF'
# a good file
workers 2
max_frame = 16k
heartbeat 500ms   # a comment after a value
publish_allow 127.0.0.0/8, ::1

slow_policy disconnect
EOF
out=$(bounded "$JANUSD" -t -c "$GOOD" 2>&1); rc=$?
is "$rc" 0 "-t with a good file exits 0"
is "$out" "janusd: configuration ok" "-t with a good file says so"

# check_bad NAME LINE TEXT: -t on $BAD exits 1 with one line naming file:LINE and TEXT.
check_bad() {
	local err rc
	err=$(bounded "$JANUSD" -t -c "$BAD" 2>&1 >/dev/null); rc=$?
	is "$rc" 1 "-t, $1: exits 1"
	is "$(printf '%s\n' "$err" | wc -l)" 1 "-t, $1: a one-line error"
	ok "$(printf '%s' "$err" | grep -qF -- "$BAD:$2:" && printf '%s' "$err" | grep -qF -- "$3"; echo $?)" \
	    "-t, $1: names $BAD:$2 and $3 ($err)"
}
BAD="$T_DIR/unknown.conf"
printf 'workers 2\n# comment\nno_such_key 1\n' >"$BAD"
check_bad "unknown key" 3 "no_such_key"
BAD="$T_DIR/value.conf"
printf 'workers 2\nmax_frame 12x\n' >"$BAD"
check_bad "bad value" 2 "max_frame"
BAD="$T_DIR/novalue.conf"
printf '\n\nheartbeat\n' >"$BAD"
check_bad "key without a value" 3 "heartbeat"
err=$(bounded "$JANUSD" -t -c "$T_DIR/missing.conf" 2>&1 >/dev/null); rc=$?
ok "$([ "$rc" -eq 1 ] && printf '%s' "$err" | grep -qF "$T_DIR/missing.conf"; echo $?)" \
    "-t with a missing file exits 1 naming it ($err)"
is "$(status_of "$JANUSD" -t -c "$GOOD" -o max_subs=0)" 1 "-t checks the command line too: -o max_subs=0 exits 1"
is "$(status_of "$JANUSD" -t -o ring_size=1M -o max_frame=1M)" 1 "-t: a ring smaller than 4 frames exits 1"

# ---- a port in use, -s ----
start_mine -w 1 || exit 1
ok "$([ -e "/dev/shm/janusd.$JPORT" ]; echo $?)" "running: /dev/shm/janusd.$JPORT exists"
bounded "$JANUSD" -o http_port=0 -l 127.0.0.1 -p "$JPORT" -w 1 2>"$T_DIR/second.err"; rc=$?
is "$rc" 2 "a second janusd on the same port exits 2"
ok "$(grep -qi "port" "$T_DIR/second.err"; echo $?)" "... saying the port is in use ($(head -c 200 "$T_DIR/second.err"))"
ok "$(wait_port "$JPORT" 2 && [ -e "/dev/shm/janusd.$JPORT" ]; echo $?)" "the first one still serves, its segment untouched"
out=$(bounded "$JANUSD" -s -p "$JPORT"); rc=$?
ok "$([ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q "\"port\":$JPORT,.*\"workers\":\[{\"slot\":0,"; echo $?)" \
    "-s prints the counters as JSON"
is "$(status_of "$JANUSD" -s -p "$(free_port)")" 2 "-s with no janusd on the port exits 2"

# ---- TERM ----
kill -TERM "$JPID"
( sleep 15; kill -KILL "$JPID" 2>/dev/null ) & WD=$!
wait "$JPID"; rc=$?
kill "$WD" 2>/dev/null; wait "$WD" 2>/dev/null
is "$rc" 0 "TERM: exit status 0"
ok "$([ ! -e "/dev/shm/janusd.$JPORT" ]; echo $?)" "TERM: /dev/shm/janusd.$JPORT is gone"
ok "$(port_free "$JPORT"; echo $?)" "TERM: the port is free"

# ---- -d and -P ----
P=$(free_port)
PIDF="$T_DIR/janusd.pid"
bounded "$JANUSD" -o http_port=0 -d -P "$PIDF" -l 127.0.0.1 -p "$P" -w 1 2>>"$LOG"; rc=$?
DPID=$(cat "$PIDF" 2>/dev/null)
[ -n "$DPID" ] && track "$DPID"
is "$rc" 0 "-d -P: the starting process exits 0 once the server serves"
ok "$([ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null && ! port_free "$P"; echo $?)" \
    "-d -P: the pid file names the running master, which serves"
is "$(status_of "$JANUSD" -d -P "$PIDF" -l 127.0.0.1 -p "$(free_port)" -w 1)" 2 \
    "-d with a pid file held by a live janusd exits 2"
[ -n "$DPID" ] && stop_pid "$DPID" TERM
ok "$([ ! -e "$PIDF" ] && [ ! -e "/dev/shm/janusd.$P" ]; echo $?)" "-d -P: after TERM the pid file and the segment are gone"

# ---- HUP ----
# port and listen come from the file here, so a changed port in it is a change
CONF="$T_DIR/reload.conf"
: >"$LOG"
for try in 1 2 3 4 5; do
	JPORT=$(free_port)
	printf 'listen 127.0.0.1\nport %s\nhttp_port 0\nworkers 2\npublish_allow 127.0.0.0/8\n' "$JPORT" >"$CONF"
	"$JANUSD" -c "$CONF" 2>>"$LOG" &
	JPID=$!
	track "$JPID"
	wait_port "$JPORT" 10 && is_mine && break
	stop_pid "$JPID" KILL
	[ "$try" -eq 5 ] && { diag "janusd did not start:"; sed 's/^/#   /' "$LOG"; exit 1; }
done
exec 5<>"/dev/tcp/127.0.0.1/$JPORT"
frame 5
printf '{"action":"subscribe","data":"hup"}\0' >&5
frame 5
is "$FRAME" "ACK" "HUP: a subscriber is subscribed"
reply=$(publish1 hup 1)
frame 5
is "$(strip_ts "$FRAME")" '{"topic":"hup","data":1}' "HUP: before the reload, loopback publishes"

NEWPORT=$(free_port)
printf 'listen 127.0.0.1\nport %s\nworkers 1\npublish_allow none\n' "$NEWPORT" >"$CONF"
kill -HUP "$JPID"
ok "$(wait_log "reloaded the configuration" 1; echo $?)" "HUP: the configuration is reloaded"
ok "$(grep -q "'port' changed.*restart" "$LOG"; echo $?)" "HUP: a changed port is logged as needing a restart"
ok "$(grep -q "'workers' changed.*restart" "$LOG"; echo $?)" "HUP: a changed workers is logged as needing a restart"
ok "$(wait_port "$JPORT" 2 && port_free "$NEWPORT"; echo $?)" "HUP: still serving on the old port, not on the new one"
reply=$(publish1 hup 2)
ok "$(printf '%s' "$reply" | grep -q '^{"error":"not_allowed"'; echo $?)" "HUP: publish_allow none now refuses a publish ($reply)"
frame 5 1
is "$FRAME" "" "HUP: nothing refused reached the subscriber"
out=$(bounded "$JANUSD" -s -p "$JPORT")
ok "$(printf '%s' "$out" | grep -q '"slot":1,'; echo $?)" "HUP: both workers still run (workers was kept)"

printf 'listen 127.0.0.1\nport %s\npublish_allow 127.0.0.0/8\nno_such_key 1\n' "$JPORT" >"$CONF"
kill -HUP "$JPID"
ok "$(wait_log "reload failed" 1; echo $?)" "HUP with a bad file: logged as failed"
reply=$(publish1 hup 3)
ok "$(printf '%s' "$reply" | grep -q '^{"error":"not_allowed"'; echo $?)" "HUP with a bad file: the running settings stay"

printf 'listen 127.0.0.1\nport %s\nhttp_port 0\nworkers 2\npublish_allow 127.0.0.0/8\n' "$JPORT" >"$CONF"
kill -HUP "$JPID"
wait_log "reloaded the configuration" 2
reply=$(publish1 hup 4)
frame 5
is "$(strip_ts "$FRAME")" '{"topic":"hup","data":4}' "HUP: allowed again, and the subscriber connected before the reloads still receives"
is "$(grep ': error: ' "$LOG" | grep -vc 'reload failed')" 0 "HUP: no error-level line in the log but the failed reload"
exec 5<&- 5>&-
janusd_stop
