#!/bin/bash
# bots/bench.sh - make bench and make bench-scale: janusd against the
# machine's floor and the goals of issue #5, side by side in one run.
#
# make bench (janusd -w 2, started fresh for each scenario):
#   1. fan-out spread (publish until the last client has it, median of
#      -M messages) at 1,000, 10,000, 19,000 (issue 5's size) and 20,000
#      clients (issue 3's: its report must say good = 20000, bad = 0),
#      beside janus-bots --floor with 2 writers at the same size; goal
#      <= 1.0x.
#   3. throughput: --flood (persistent, pipelined publishing, kept within
#      --window of the slowest client) for -d seconds to 1,000 and to 100
#      subscribers; delivered messages per second, goals 7.5M and 15M.
#   4. set-up: connect + greeting + subscribe + ACK for 19,000 clients,
#      first connect to last ACK; goal 32,000 per second.
#   5. memory: RssAnon of the master and every worker with no client and
#      with 19,000 idle subscribed clients (janus-bots --hold); the
#      difference per connection, goal <= 1,024 bytes.
#   6. latency: p99 from the bots' publish to receipt for a 1,000-client
#      topic (100 msg/s) while 50,000 msg/s flow to a 100-client topic,
#      both published on persistent connections; goal < 5 ms.
# make bench-scale (-S): target 2, 100,000 clients over several client
#   processes and source addresses 127.0.0.2.., janusd -w 6, beside the
#   floor with as many writers; goal <= 1.1x; plus set-up time and memory.
#
# Every figure is printed beside its floor or goal in a final table.
# janusd is stopped by PID on any exit and /dev/shm/janusd.PORT removed;
# every janus-bots run is bounded by --timeout and by timeout(1).
#
# Usage: bots/bench.sh [-S] [-n "1000 10000 19000 20000"] [-M 5] [-w 2] [-d 5] [-t 120]
#   -S          the scale run (target 2) instead of targets 1, 3-6
#   -n SIZES    fan-out client counts, in quotes (1000 10000 19000 20000;
#               -S: 100000)
#   -M COUNT    messages per fan-out run (5)
#   -w WORKERS  janusd workers and floor writers (2; -S: 6)
#   -d SECONDS  length of the throughput runs (5)
#   -t SECONDS  janus-bots --timeout per run (120; -S: 600)
# Environment: JANUSD (./janusd), JANUS_BOTS (./janus-bots).
# Exit status: 0 if every run got every message, 1 if some run did not or
# a figure could not be measured, 2 if janusd or janus-bots could not start.
# A figure short of its goal is printed as "short", not an exit status:
# these are measurements, not tests.

JANUSD=${JANUSD:-./janusd}
JANUS_BOTS=${JANUS_BOTS:-./janus-bots}
SCALE=0
SIZES=""
MESSAGES=5
WORKERS=""
DURATION=5
TIMEOUT=""

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Exit status/p' "$0" >&2; exit 2; }

while getopts "Sn:M:w:d:t:h" opt; do
	case $opt in
	S) SCALE=1 ;;
	n) SIZES=$OPTARG ;;
	M) MESSAGES=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	*) usage ;;
	esac
done
if [ "$SCALE" = 1 ]; then
	SIZES=${SIZES:-100000}
	WORKERS=${WORKERS:-6}
	TIMEOUT=${TIMEOUT:-600}
else
	SIZES=${SIZES:-"1000 10000 19000 20000"}
	WORKERS=${WORKERS:-2}
	TIMEOUT=${TIMEOUT:-120}
fi

for f in "$JANUSD" "$JANUS_BOTS"; do
	if [ ! -x "$f" ]; then
		echo "bench.sh: $f is not an executable (set JANUSD / JANUS_BOTS)" >&2
		exit 2
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/janus-bench.XXXXXX")
JPID=""
JPORT=""
BGPIDS=""
STATUS=0
ROWS=()

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
	fi
	[ -n "$JPID" ] && wait "$JPID" 2>/dev/null
	JPID=""
	[ -n "$JPORT" ] && rm -f "/dev/shm/janusd.$JPORT"
	JPORT=""
}

cleanup() {
	local rc=$? p
	for p in $BGPIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	stop_janusd
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_janusd W: janusd -w W on a random free port (another if it says 2).
start_janusd() {
	local try i port rc
	for try in 1 2 3 4 5 6 7 8; do
		port=$((10000 + RANDOM % 20000))
		port_free "$port" || continue
		JPORT=$port
		"$JANUSD" -w "$1" -l 127.0.0.1 -p "$port" 2>>"$TMP/janusd.log" &
		JPID=$!
		for i in $(seq 1 200); do
			kill -0 "$JPID" 2>/dev/null || break
			port_free "$port" || { sleep 0.2; return 0; }
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
	exit 2
}

# check_janusd: still running? If not, show its log and give up.
check_janusd() {
	kill -0 "$JPID" 2>/dev/null && return 0
	echo "bench.sh: janusd died; its log:" >&2
	sed 's/^/  /' "$TMP/janusd.log" >&2
	JPID=""
	exit 1
}

# bots NAME ARGS...: one janus-bots run; its report kept in $TMP/NAME and
# shown without the histogram rows; a run that lost messages sets STATUS.
bots() {
	local name=$1 rc
	shift
	timeout $((TIMEOUT + 90)) "$JANUS_BOTS" --timeout "$TIMEOUT" --json "$@" \
		> "$TMP/$name" 2> "$TMP/$name.err"
	rc=$?
	grep -v -e '^ *[0-9.]* ms |' -e '^{' "$TMP/$name"
	sed 's/^/  /' "$TMP/$name.err"
	[ "$rc" -eq 0 ] || { STATUS=1; echo "  (janus-bots exited $rc)"; }
	return "$rc"
}

# bots_bg NAME ARGS...: the same in the background; sets BG to its PID.
bots_bg() {
	local name=$1
	shift
	timeout $((TIMEOUT + 90)) "$JANUS_BOTS" --timeout "$TIMEOUT" --json "$@" \
		> "$TMP/$name" 2> "$TMP/$name.err" &
	BG=$!
	BGPIDS="$BGPIDS $BG"
}

# bots_wait NAME PID: the end of a background run, shown like bots().
bots_wait() {
	local rc
	wait "$2"
	rc=$?
	grep -v -e '^ *[0-9.]* ms |' -e '^{' "$TMP/$1"
	sed 's/^/  /' "$TMP/$1.err"
	[ "$rc" -eq 0 ] || { STATUS=1; echo "  (janus-bots exited $rc)"; }
}

# held NAME PID: wait until a --hold run says every client is subscribed.
held() {
	local i
	for i in $(seq 1 $((TIMEOUT * 10))); do
		grep -q '^holding:' "$TMP/$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# field FILE KEY: a top-level number from the JSON line of FILE.
field() { sed -n 's/^{.*"'"$2"'":\([0-9.]*\).*/\1/p' "$1" | tail -n 1; }
# jstat FILE OBJ KEY: KEY of the JSON object OBJ (latency_ms, send_latency_ms).
jstat() { sed -n 's/^{.*"'"$2"'":{[^}]*"'"$3"'":\([0-9.]*\).*/\1/p' "$1" | tail -n 1; }
# median_spread FILE: the median of the per-message spreads, ms.
median_spread() {
	sed -n 's/^{.*"spreads_ms":\[\([^]]*\)\].*/\1/p' "$1" | tail -n 1 |
		tr ',' '\n' | grep -v null | sort -g |
		awk '{ v[NR] = $1 } END { if (NR > 0) print v[int((NR + 1) / 2)] }'
}
# all_good FILE: every client got every message intact (good = n, bad 0,
# every expected delivery good, errors 0).
all_good() {
	[ -n "$(field "$1" n)" ] && [ "$(field "$1" good)" = "$(field "$1" n)" ] &&
		[ "$(field "$1" bad)" = 0 ] && [ "$(field "$1" errors)" = 0 ] &&
		[ "$(field "$1" deliveries_bad)" = 0 ] &&
		[ "$(field "$1" deliveries_good)" = "$(field "$1" deliveries_expected)" ]
}

# janusd_mem KEY: KEY (RssAnon, VmRSS, RssShmem) in kB, summed over the
# master and its workers.
janusd_mem() {
	local p pids
	pids="$JPID $(ps -o pid= --ppid "$JPID" 2>/dev/null)"
	for p in $pids; do
		awk -v k="$1:" '$1 == k { print $2 }' "/proc/$p/status" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
janusd_procs() { echo $(( $(ps -o pid= --ppid "$JPID" 2>/dev/null | wc -l) + 1 )); }
# meminfo_used: MemTotal - MemAvailable in kB.
meminfo_used() {
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t - a }' /proc/meminfo
}

# row TARGET FIGURE UNIT GOAL KIND GOOD: one line of the final table.
# KIND: "max R" (figure/goal must be <= R), "min" (figure >= goal),
# "below" (figure < goal). GOOD: 1 if the run delivered everything.
row() {
	local target=$1 fig=$2 unit=$3 goal=$4 kind=$5 good=$6 verdict ratio
	ratio=$(awk -v f="$fig" -v g="$goal" 'BEGIN {
		if (f == "" || g == "" || g + 0 == 0) print "n/a";
		else printf "%.2f", f / g }')
	if [ "$ratio" = "n/a" ]; then
		verdict="no figure"
		STATUS=1
	else
		verdict=$(awk -v f="$fig" -v g="$goal" -v k="$kind" 'BEGIN {
			split(k, a, " ");
			if (a[1] == "max") ok = f <= g * a[2];
			else if (a[1] == "min") ok = f >= g;
			else ok = f < g;
			print ok ? "pass" : "short" }')
	fi
	[ "$good" = 1 ] || verdict="$verdict (lost messages)"
	ROWS+=("$(printf '%-44s %14s %-9s %14s %7s  %s' "$target" "${fig:-n/a}" "$unit" \
		"$goal" "$ratio" "$verdict")")
}

# cpu_busy: percent of all CPUs not idle over one second.
cpu_busy() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ d = ($3 - $1) + ($4 - $2); printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}

machine() {
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
	echo "memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "descriptors per process: $(ulimit -n); ephemeral ports $(tr '\t' '-' < /proc/sys/net/ipv4/ip_local_port_range); somaxconn $(cat /proc/sys/net/core/somaxconn)"
	# other busy processes make every figure worse: say so
	echo "CPU busy before the run (1 s sample): $(cpu_busy)%"
	ps -eo pcpu=,pid=,comm= --sort=-pcpu 2>/dev/null | awk -v me=$$ '
		$1 >= 10 && $2 != me && $3 != "ps" { busy = busy sprintf(" %s(pid %s, %s%%)", $3, $2, $1) }
		END { if (busy != "") print "warning: busy processes, figures will suffer:" busy }'
	echo "janusd: $JANUSD; janus-bots: $JANUS_BOTS"
}

# --- targets 1, 3-6 ---

bench_fanout() {
	local n s f
	for n in $SIZES; do
		echo
		echo "== 1. fan-out: janusd -w $WORKERS, $n clients, $MESSAGES messages"
		start_janusd "$WORKERS"
		bots "fan.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" -M "$MESSAGES" --per-child 5000
		check_janusd
		stop_janusd
		echo "== 1. floor: $n clients, $MESSAGES messages, $WORKERS writers"
		bots "floor.$n" --floor -n "$n" -M "$MESSAGES" --writers "$WORKERS" --per-child 5000
		s=$(median_spread "$TMP/fan.$n")
		f=$(median_spread "$TMP/floor.$n")
		echo "median spread: janusd $s ms (max $(field "$TMP/fan.$n" spread_ms)), floor $f ms (max $(field "$TMP/floor.$n" spread_ms))"
		all_good "$TMP/fan.$n" && all_good "$TMP/floor.$n"
		row "1. fan-out spread, $n clients (floor: ${WORKERS}w)" "$s" ms "$f" "max 1.0" \
			$(( $? == 0 ))
	done
}

bench_throughput() {
	local n goal per
	for n in 1000 100; do
		[ "$n" = 1000 ] && goal=7500000 || goal=15000000
		per=$((n / 2))
		echo
		echo "== 3. throughput: --flood for $DURATION s, $n subscribers of one topic"
		start_janusd "$WORKERS"
		bots "flood.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" --flood -d "$DURATION" \
			--per-child "$per"
		check_janusd
		stop_janusd
		all_good "$TMP/flood.$n"
		row "3. throughput, $n subscribers" "$(field "$TMP/flood.$n" delivered_per_s)" \
			msg/s "$goal" min $(( $? == 0 ))
	done
}

bench_setup() {
	echo
	echo "== 4. set-up: 19000 clients, connect + greeting + subscribe + ACK"
	start_janusd "$WORKERS"
	bots setup -H 127.0.0.1 -p "$JPORT" -n 19000 -M 1 --per-child 4750
	check_janusd
	stop_janusd
	all_good "$TMP/setup"
	row "4. set-up, 19000 clients" "$(field "$TMP/setup" connects_per_s)" conn/s \
		32000 min $(( $? == 0 ))
}

bench_memory() {
	local a0 v0 s0 a1 v1 s1 per
	echo
	echo "== 5. memory: janusd with 0 and with 19000 idle subscribed clients"
	start_janusd "$WORKERS"
	sleep 1
	a0=$(janusd_mem RssAnon); v0=$(janusd_mem VmRSS); s0=$(janusd_mem RssShmem)
	bots_bg mem -H 127.0.0.1 -p "$JPORT" -n 19000 -M 1 --hold 6 --per-child 4750
	if held mem "$BG"; then
		sleep 2
		a1=$(janusd_mem RssAnon); v1=$(janusd_mem VmRSS); s1=$(janusd_mem RssShmem)
	fi
	bots_wait mem "$BG"
	check_janusd
	echo "janusd ($(janusd_procs) processes), kB: RssAnon $a0 -> ${a1:-n/a}, VmRSS $v0 -> ${v1:-n/a}, RssShmem $s0 -> ${s1:-n/a}"
	stop_janusd
	[ -n "$a1" ] && per=$(( (a1 - a0) * 1024 / 19000 ))
	[ -n "$a1" ] && echo "per idle subscribed connection: $per bytes of RssAnon ($(( (v1 - v0) * 1024 / 19000 )) of VmRSS)"
	all_good "$TMP/mem"
	row "5. memory per idle connection (RssAnon)" "$per" bytes 1024 "max 1.0" $(( $? == 0 ))
}

bench_latency() {
	local load probe q99
	echo
	echo "== 6. latency: 1000 clients of topic probe at 100 msg/s while 50000 msg/s go to 100 clients of topic load"
	start_janusd "$WORKERS"
	bots_bg load -H 127.0.0.1 -p "$JPORT" -T load -n 100 -r 50000 -d 12 --hold 1
	load=$BG
	if held load "$load"; then
		sleep 2
		echo "-- probe (load running):"
		bots probe -H 127.0.0.1 -p "$JPORT" -T probe -n 1000 -r 100 -d 8 --per-child 500
	fi
	echo "-- load:"
	bots_wait load "$load"
	check_janusd
	stop_janusd
	q99=$(jstat "$TMP/probe" send_latency_ms q99)
	echo "probe p99: $q99 ms from the bots' publish, $(jstat "$TMP/probe" latency_ms q99) ms from the server's timestamp; load delivered $(field "$TMP/load" delivered_per_s)/s, publishing at most $(field "$TMP/load" late_ms) ms late"
	all_good "$TMP/probe" && all_good "$TMP/load"
	row "6. p99 latency, 1000 clients under 50k msg/s" "$q99" ms 5 below $(( $? == 0 ))
}

# --- target 2 ---

# scale_check: the settings 100,000 clients need; hints, never changes.
scale_check() {
	local n=$1 lo hi nofile need
	read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
	nofile=$(ulimit -n)
	echo "settings: ephemeral ports $lo-$hi ($((hi - lo + 1)) per source address and destination)," \
		"somaxconn $(cat /proc/sys/net/core/somaxconn), fs.file-max $(cat /proc/sys/fs/file-max)," \
		"fs.nr_open $(cat /proc/sys/fs/nr_open), descriptors per process $nofile"
	need=$(( n * 2 + 10000 ))
	[ "$(cat /proc/sys/fs/file-max)" -ge "$need" ] ||
		echo "hint: fs.file-max should be at least $need: sysctl -w fs.file-max=$need"
	[ $(( n / WORKERS + 100 )) -le "$nofile" ] ||
		echo "hint: $n clients over $WORKERS workers need $(( n / WORKERS + 100 )) descriptors per process: raise -w or ulimit -n"
	[ $((hi - lo + 1)) -ge 8000 ] ||
		echo "hint: janus-bots puts 8000 clients on each source address: widen net.ipv4.ip_local_port_range"
	echo "no system setting is changed by this script"
}

bench_scale() {
	local n a0 v0 a1 v1 s1 m0 m1 s f per
	for n in $SIZES; do
		per=$(( (n + 7) / 8 ))
		[ "$per" -gt 12500 ] || per=12500
		scale_check "$n"
		echo
		echo "== 2. scale: janusd -w $WORKERS, $n clients, $MESSAGES messages, $(( (n + per - 1) / per )) client processes, source addresses 127.0.0.2-$(( 2 + (n - 1) / 8000 ))"
		m0=$(meminfo_used)
		start_janusd "$WORKERS"
		sleep 1
		a0=$(janusd_mem RssAnon); v0=$(janusd_mem VmRSS)
		bots_bg "scale.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" -M "$MESSAGES" --per-child "$per" \
			--per-addr 8000 --hold 3 --wait 30
		if held "scale.$n" "$BG"; then
			sleep 1
			a1=$(janusd_mem RssAnon); v1=$(janusd_mem VmRSS); s1=$(janusd_mem RssShmem)
			m1=$(meminfo_used)
		fi
		bots_wait "scale.$n" "$BG"
		check_janusd
		stop_janusd
		echo "== 2. floor: $n clients, $MESSAGES messages, $WORKERS writers"
		bots "sfloor.$n" --floor -n "$n" -M "$MESSAGES" --writers "$WORKERS" --per-child "$per" \
			--per-addr 8000 --wait 30
		s=$(median_spread "$TMP/scale.$n")
		f=$(median_spread "$TMP/sfloor.$n")
		echo
		echo "median spread: janusd $s ms (max $(field "$TMP/scale.$n" spread_ms)), floor $f ms (max $(field "$TMP/sfloor.$n" spread_ms))"
		echo "set-up: $(field "$TMP/scale.$n" setup_ms) ms, $(field "$TMP/scale.$n" connects_per_s) connections/s"
		echo "janusd memory, kB: RssAnon $a0 -> ${a1:-n/a}, VmRSS $v0 -> ${v1:-n/a}, RssShmem ${s1:-n/a}"
		[ -n "$a1" ] && echo "janusd RssAnon per connection: $(( (a1 - a0) * 1024 / n )) bytes"
		echo "system memory in use (MemTotal - MemAvailable), kB: $m0 before, ${m1:-n/a} with $n clients (bots, janusd and kernel sockets)"
		all_good "$TMP/scale.$n" && all_good "$TMP/sfloor.$n"
		row "2. fan-out spread, $n clients (floor: ${WORKERS}w)" "$s" ms "$f" "max 1.1" \
			$(( $? == 0 ))
	done
}

machine
T0=$(date +%s)
if [ "$SCALE" = 1 ]; then
	bench_scale
else
	bench_fanout
	bench_throughput
	bench_setup
	bench_memory
	bench_latency
fi

echo
echo "== summary: janusd -w $WORKERS, $(( $(date +%s) - T0 )) s; ratio = figure / (floor or goal)"
printf '%-44s %14s %-9s %14s %7s  %s\n' target figure unit "floor/goal" ratio result
for r in "${ROWS[@]}"; do
	echo "$r"
done
exit "$STATUS"
