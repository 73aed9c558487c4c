# t/lib.sh - helpers for the shell tests (sourced, not run).
#
# Owns: TAP output, a scratch directory, starting janusd on a free port and
# stopping every process a test started, by PID, even when the test fails
# (EXIT trap). Tests set JANUSD and JANUS_BOTS in the environment (make check
# does); run alone, they default to the build tree.

: "${JANUSD:=$(cd "$(dirname "$0")/.." && pwd)/janusd}"
: "${JANUS_BOTS:=$(cd "$(dirname "$0")/.." && pwd)/janus-bots}"

T_NUM=0
T_FAILED=0
T_PLANNED=0
T_PIDS=""
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/janusd-test.XXXXXX")
JPORT=""
JPID=""

plan() { T_PLANNED=$1; echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; T_PLANNED=0; exit 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

ok() {
	# ok COND-STATUS DESCRIPTION: pass when the status is 0
	T_NUM=$((T_NUM + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_NUM - $2"
	else
		echo "not ok $T_NUM - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() {
	# is GOT WANT DESCRIPTION
	T_NUM=$((T_NUM + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $T_NUM - $3"
	else
		echo "not ok $T_NUM - $3"
		diag "  got: '$1'" "  expected: '$2'"
		T_FAILED=$((T_FAILED + 1))
	fi
}

skip() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP $*"; }

# track PID: stop it at exit if it still runs.
track() { T_PIDS="$T_PIDS $1"; }

# stop_pid PID [SIGNAL]: signal it (TERM by default), wait up to 10 s, then KILL.
stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

t_cleanup() {
	local rc=$? pid
	# A subshell signalled before bash resets its traps (a watchdog killed
	# right after it started) runs these too: only the test's own shell cleans up.
	[ "$BASHPID" = "$$" ] || exit "$rc"
	for pid in $T_PIDS; do
		stop_pid "$pid" TERM
	done
	[ -n "$JPORT" ] && rm -f "/dev/shm/janusd.$JPORT"
	rm -rf "$T_DIR"
	if [ "$T_PLANNED" -gt 0 ] && [ "$T_NUM" -ne "$T_PLANNED" ]; then
		echo "# planned $T_PLANNED tests but ran $T_NUM"
		exit 1
	fi
	[ "$T_FAILED" -eq 0 ] || exit 1
	exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# random_port: a port in 10000..29999 from the kernel's generator, so
# tests started at the same moment do not agree on it.
random_port() { echo $((10000 + $(od -An -N2 -tu2 /dev/urandom) % 20000)); }

# port_free PORT: nothing listens on 127.0.0.1:PORT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT
wait_port() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		[ -n "$JPID" ] && ! kill -0 "$JPID" 2>/dev/null && return 1
		sleep 0.05
	done
	return 1
}

# janusd_start [janusd options...]: start janusd on 127.0.0.1 and a free port,
# in the foreground, logging to $T_DIR/janusd.log. Sets JPORT and JPID.
# The words of $JANUSD_TEST_ARGS (e.g. -o io_uring=no: the suite on the
# send() path) go before the options given, which win.
# The HTTP/WebSocket listener is off, or with HTTP=1 on a free port: HPORT.
# Retries on other ports when a chosen one turns out to be taken (exit 2).
janusd_start() {
	local try port
	HPORT=0
	for try in 1 2 3 4 5 6 7 8; do
		port=$(random_port)
		port_free "$port" || continue
		if [ "${HTTP:-0}" = 1 ]; then
			HPORT=$(random_port)
			[ "$HPORT" != "$port" ] && port_free "$HPORT" || continue
		fi
		JPORT=$port
		"$JANUSD" -l 127.0.0.1 -p "$port" -o http_port="$HPORT" ${JANUSD_TEST_ARGS:-} "$@" 2>>"$T_DIR/janusd.log" &
		JPID=$!
		track "$JPID"
		# a port that accepts may be another test's janusd: check whose it is
		if wait_port "$port" 10 && "$JANUSD" -s -p "$port" | grep -q "\"master_pid\":$JPID,"; then
			return 0
		fi
		wait "$JPID" 2>/dev/null
		[ $? -eq 2 ] || break
	done
	diag "janusd did not start; its log:"
	sed 's/^/#   /' "$T_DIR/janusd.log"
	return 1
}

# janusd_stop [SIGNAL]: stop the janusd started by janusd_start, by PID.
janusd_stop() {
	[ -n "$JPID" ] && stop_pid "$JPID" "${1:-TERM}"
}

# --- janus-bots reports (the JSON line is the last line of $T_DIR/out) ---

# jnum KEY: a number from the JSON report.
jnum() { sed -n 's/.*"'"$1"'":\([0-9.]*\).*/\1/p' "$T_DIR/out" | tail -n 1; }

# jsum KEY: the sum of the counts of histogram KEY (hist or send_hist).
jsum() {
	sed -n 's/.*"'"$1"'":{[^}]*"counts":\[\([0-9,]*\)\].*/\1/p' "$T_DIR/out" |
		tr ',' '\n' | awk '{ s += $1 } END { print s + 0 }'
}

# bots_clean N M WHAT: the 12 checks of a janus-bots run in $T_DIR/out in
# which every one of N clients got every one of M messages.
bots_clean() {
	local n=$1 m=$2 what=$3
	head -n 1 "$T_DIR/out" | grep -Eq "^setup: [0-9.]+ ms, good: $n, bad: 0, run: [0-9.]+ ms$"
	ok $? "$what: the report starts with the 2009 line, good = clients"
	grep -Eq "^deliveries: good: $((n * m)), bad: 0 \(of $n clients x $m messages\)$" "$T_DIR/out"
	ok $? "$what: the text report gives the per-delivery counts"
	is "$(jnum good)" "$n" "$what: good = clients"
	is "$(jnum bad)" 0 "$what: bad = 0"
	is "$(jnum errors)" 0 "$what: no errors (corrupt, duplicate, unexpected)"
	is "$(jnum deliveries_expected)" $((n * m)) "$what: deliveries expected = clients x messages"
	is "$(jnum deliveries_good)" $((n * m)) "$what: every delivery good"
	is "$(jnum deliveries_bad)" 0 "$what: no bad delivery"
	is "$(jnum published)" "$m" "$what: every message published"
	is "$(jnum connected)" "$n" "$what: every client connected"
	is "$(jsum hist)" $((n * m)) "$what: histogram counts sum to clients x messages"
	is "$(jsum send_hist)" $((n * m)) "$what: send-time histogram sums too"
}
