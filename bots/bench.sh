#!/bin/bash
# bots/bench.sh - make bench: janusd against the machine's floor.
#
# Starts janusd -w WORKERS on 127.0.0.1 and a free port, runs janus-bots
# against it and janus-bots --floor (with as many writers as janusd has
# workers) at each size, prints every report and then one line per size:
# spread (publish until the last client got it), max latency, and the ratio
# of janusd's spread to the floor's. janusd is stopped by PID on any exit,
# and /dev/shm/janusd.PORT is removed if it was left behind.
#
# Usage: bots/bench.sh [-n "1000 20000"] [-M 5] [-w 2] [-t 120]
#   -n SIZES    client counts to run, in quotes (1000 20000)
#   -M COUNT    messages per run (5)
#   -w WORKERS  janusd workers and floor writers (2)
#   -t SECONDS  janus-bots --timeout per run (120)
# Environment: JANUSD (./janusd), JANUS_BOTS (./janus-bots).
# Exit status: 0 if every run got every message, 1 if some run did not,
# 2 if janusd or janus-bots could not be started.

JANUSD=${JANUSD:-./janusd}
JANUS_BOTS=${JANUS_BOTS:-./janus-bots}
SIZES="1000 20000"
MESSAGES=5
WORKERS=2
TIMEOUT=120

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Exit status/p' "$0" >&2; exit 2; }

while getopts "n:M:w:t:h" opt; do
	case $opt in
	n) SIZES=$OPTARG ;;
	M) MESSAGES=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	*) usage ;;
	esac
done

for f in "$JANUSD" "$JANUS_BOTS"; do
	if [ ! -x "$f" ]; then
		echo "bench.sh: $f is not an executable (set JANUSD / JANUS_BOTS)" >&2
		exit 2
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/janus-bench.XXXXXX")
JPID=""
JPORT=""

# stop_janusd: TERM by PID, up to 10 s, then KILL; remove its segment.
stop_janusd() {
	local i
	if [ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null; then
		kill -TERM "$JPID" 2>/dev/null
		for i in $(seq 1 100); do
			kill -0 "$JPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$JPID" 2>/dev/null
		wait "$JPID" 2>/dev/null
	fi
	JPID=""
	[ -n "$JPORT" ] && rm -f "/dev/shm/janusd.$JPORT"
}

cleanup() {
	local rc=$?
	stop_janusd
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_janusd: on a random free port; another port if janusd says 2 (taken).
start_janusd() {
	local try i port rc
	for try in 1 2 3 4 5 6 7 8; do
		port=$((10000 + RANDOM % 20000))
		port_free "$port" || continue
		JPORT=$port
		"$JANUSD" -w "$WORKERS" -l 127.0.0.1 -p "$port" 2>>"$TMP/janusd.log" &
		JPID=$!
		for i in $(seq 1 200); do
			kill -0 "$JPID" 2>/dev/null || break
			port_free "$port" || return 0
			sleep 0.05
		done
		if kill -0 "$JPID" 2>/dev/null; then
			echo "bench.sh: janusd did not accept within 10 s" >&2
			stop_janusd
			return 1
		fi
		wait "$JPID"
		rc=$?
		JPID=""
		[ "$rc" -eq 2 ] || break
	done
	echo "bench.sh: janusd did not start; its log:" >&2
	sed 's/^/  /' "$TMP/janusd.log" >&2
	return 1
}

# bots NAME ARGS...: one janus-bots run, report shown and kept in $TMP/NAME.
bots() {
	local name=$1 rc
	shift
	timeout $((TIMEOUT + 60)) "$JANUS_BOTS" -M "$MESSAGES" --timeout "$TIMEOUT" \
		--json "$@" > "$TMP/$name"
	rc=$?
	cat "$TMP/$name"
	return "$rc"
}

# field FILE KEY: a top-level number from the JSON line of FILE.
field() { sed -n 's/.*"'"$2"'":\([0-9.]*\).*/\1/p' "$1" | tail -n 1; }
# maxlat FILE: the largest latency from the server's timestamp.
maxlat() { sed -n 's/.*"latency_ms":{[^}]*"max":\([0-9.]*\)}.*/\1/p' "$1" | tail -n 1; }

start_janusd || exit 2
echo "janusd -w $WORKERS on 127.0.0.1 port $JPORT (pid $JPID)"
status=0
for n in $SIZES; do
	echo
	echo "== janusd: $n clients, $MESSAGES messages"
	bots "server.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" || status=1
	echo
	echo "== floor: $n clients, $MESSAGES messages, $WORKERS writers"
	bots "floor.$n" --floor -n "$n" --writers "$WORKERS" || status=1
	if ! kill -0 "$JPID" 2>/dev/null; then
		echo "bench.sh: janusd died; its log:" >&2
		sed 's/^/  /' "$TMP/janusd.log" >&2
		JPID=""
		exit 1
	fi
done

echo
echo "== summary (spread: publish until the last client got it; max latency: from the server's timestamp)"
for n in $SIZES; do
	s_spread=$(field "$TMP/server.$n" spread_ms)
	f_spread=$(field "$TMP/floor.$n" spread_ms)
	s_max=$(maxlat "$TMP/server.$n")
	f_max=$(maxlat "$TMP/floor.$n")
	ratio=$(awk -v s="${s_spread:-0}" -v f="${f_spread:-0}" \
		'BEGIN { if (f > 0 && s > 0) printf "%.2f", s / f; else print "n/a" }')
	printf '%6s clients: janusd spread %s ms, max latency %s ms; floor spread %s ms, max latency %s ms; janusd/floor %sx\n' \
		"$n" "${s_spread:-n/a}" "${s_max:-n/a}" "${f_spread:-n/a}" "${f_max:-n/a}" "$ratio"
done
exit "$status"
