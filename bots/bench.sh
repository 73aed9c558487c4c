#!/bin/bash
# bots/bench.sh - make bench and make bench-scale: janusd against the
# machine's floor and the goals of issue #5, side by side in one run.
#
# make bench (janusd -w 2, started fresh for each scenario):
#   1. fan-out spread (publish until the last client has it, median of
#      -M messages) at 1,000, 10,000, 19,000 (issue 5's size) and 20,000
#      clients (issue 3's: its report must say good = 20000, bad = 0),
#      beside janus-bots --floor with 2 writers at the same size (goal
#      <= 0.85x, issue 12) and beside --floor-uring, the same writers
#      sending through io_uring in batches (goal <= 1.0x).
#   3. throughput: --flood (persistent, pipelined publishing, kept within
#      --window of the slowest client) for -d seconds to 1,000 and to 100
#      subscribers; delivered messages per second, goals 7.5M and 15M;
#      each also with -o io_uring=no, the send() path, side by side.
#   4. set-up: connect + greeting + subscribe + ACK for 19,000 clients,
#      first connect to last ACK; goal 32,000 per second.
#   5. memory: RssAnon of the master and every worker with no client and
#      with 19,000 idle subscribed clients (janus-bots --hold); the
#      difference per connection, goal <= 1,024 bytes.
#   6. latency: p99 from the bots' publish to receipt for a 1,000-client
#      topic (100 msg/s) while 50,000 msg/s flow to a 100-client topic,
#      both published on persistent connections; goal < 5 ms.
#   7. WebSocket (issue 9; janusd with an http_port, janus-bots --ws):
#      the fan-out spread of 19,000 WebSocket subscribers beside the mean
#      of TCP runs of the same size just before and just after it (each
#      run leaves the machine a little worse for the next: sockets in
#      TIME_WAIT), goal <= 1.05x; upgrades +
#      subscribes per second for 19,000 (connect, 101, greeting,
#      subscribe, ACK), goal 20,000; RssAnon per idle WebSocket
#      subscriber as in 5., goal <= 1,024 bytes.
#   8. patterns (issue 14; only with -R patterns: its set-up takes minutes
#      and janusd some 4 GB): --flood for -d seconds to 1,000 subscribers
#      of bench.x, once through the exact topic, once through bench.*
#      beside 10,000 patterns each that match nothing (janus-bots
#      --noise); delivered messages per second, goal >= 0.9x exact. Then
#      publish cost: --flood to 10 subscribers, publishes per second with
#      and without 100,000 patterns of 10 other, idle, clients on the node
#      (goal >= 0.9x without). Beside each rate, janusd's CPU per delivery
#      or per publish inside the flood (goal <= 1.11x), which other work
#      on a shared machine disturbs far less than the rates.
#   9. pacing (issue 11): a pipelined publisher with no window
#      (--flood --window 10000000) for -d seconds to 100 and to 1,000
#      subscribers that all read, janusd at its default settings: every
#      message must reach every subscriber (the publisher is paced, not
#      the readers cut); delivered messages per second beside the same run
#      with ring_size=1G max_backlog=64M (goal >= 1.0x), the publisher's
#      rate, and the publishes paced and the time they waited (janusd -s).
#      Only the default run must lose nothing: with max_backlog=64M readers
#      that fall that far behind are cut, as every reader was before.
# make bench-scale (-S): target 2, 100,000 clients over several client
#   processes and source addresses 127.0.0.2.., janusd -w 6, beside the
#   floor with as many writers; goal <= 1.1x; plus set-up time and memory.
#
# Every figure is printed beside its floor or goal in a final table, and
# written to DIR/report.html: the table of ratios and, per row, the latency
# CDF of the runs behind it (janus-bots --svg --from, also saved as
# DIR/ROW.svg) and their command lines; self-contained, no script. A row
# is one call of row() naming its runs, so a new row brings its picture.
# janusd is stopped by PID on any exit and /dev/shm/janusd.PORT removed;
# every janus-bots run is bounded by --timeout and by timeout(1).
#
# Usage: bots/bench.sh [-S] [-n "1000 10000 19000 20000"] [-M 5] [-w 2] [-d 5] [-t 120]
#                      [-W 19000] [-R "fanout throughput setup memory latency ws pace"]
#                      [-o DIR] [-D DIR]
#   -S          the scale run (target 2) instead of targets 1, 3-9
#   -n SIZES    fan-out client counts, in quotes (1000 10000 19000 20000;
#               -S: 100000)
#   -M COUNT    messages per fan-out run (5)
#   -w WORKERS  janusd workers and floor writers (2; -S: 6)
#   -d SECONDS  length of the throughput runs (5)
#   -t SECONDS  janus-bots --timeout per run (120; -S: 600)
#   -W CLIENTS  WebSocket clients of target 7 (19000)
#   -R TARGETS  which of targets 1, 3-9 to run, in quotes (all but patterns)
#   -o DIR      where report.html and the pictures go (./bench)
#   -D DIR      copy them there too (make bench: doc/bench in the sources)
# Environment: JANUSD (./janusd), JANUS_BOTS (./janus-bots).
# Exit status: 0 if every run got every message, 1 if some run did not or
# a figure could not be measured, 2 if janusd or janus-bots could not start.
# A figure short of its goal is printed as "short", not an exit status:
# these are measurements, not tests.

ARGS="$*"
JANUSD=${JANUSD:-./janusd}
JANUS_BOTS=${JANUS_BOTS:-./janus-bots}
SCALE=0
SIZES=""
MESSAGES=5
WORKERS=""
DURATION=5
TIMEOUT=""
TARGETS="fanout throughput setup memory latency ws pace"   # patterns only when -R names it
WS_CLIENTS=19000
OUT=bench
DOC=""

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Exit status/p' "$0" >&2; exit 2; }

while getopts "Sn:M:w:d:t:W:R:o:D:h" opt; do
	case $opt in
	S) SCALE=1 ;;
	n) SIZES=$OPTARG ;;
	M) MESSAGES=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	W) WS_CLIENTS=$OPTARG ;;
	R) TARGETS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	D) DOC=$OPTARG ;;
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

for t in $TARGETS; do
	case $t in
	fanout|throughput|setup|memory|latency|ws|patterns|pace) ;;
	*) echo "bench.sh: -R: no target '$t'" >&2; usage ;;
	esac
done

for f in "$JANUSD" "$JANUS_BOTS"; do
	if [ ! -x "$f" ]; then
		echo "bench.sh: $f is not an executable (set JANUSD / JANUS_BOTS)" >&2
		exit 2
	fi
done
# absolute, since the pictures are drawn from inside the scratch directory
JANUSD=$(realpath "$JANUSD")
JANUS_BOTS=$(realpath "$JANUS_BOTS")

if ! mkdir -p "$OUT" || ! OUT=$(cd "$OUT" && pwd); then
	echo "bench.sh: cannot make the report directory $OUT" >&2
	exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/janus-bench.XXXXXX")
JPID=""
JPORT=""
HPORT=0
BGPIDS=""
STATUS=0
ROWS=()
# per row of the table, for the report: its picture's name, its cells, and
# its runs as "LABEL=RUN|LABEL=RUN"; per run, its command line
ROW_SLUG=()
ROW_CELLS=()
ROW_RUNS=()
declare -A CMDS

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

# start_janusd W [http] [OPTIONS...]: janusd -w W on a random free port
# (another if it says 2), with OPTIONS; with http, its HTTP/WebSocket
# listener on another: HPORT.
start_janusd() {
	local try i port rc w=$1 http=0
	shift
	[ "$1" = http ] && { http=1; shift; }
	for try in 1 2 3 4 5 6 7 8; do
		port=$((10000 + RANDOM % 20000))
		port_free "$port" || continue
		HPORT=0
		if [ "$http" = 1 ]; then
			HPORT=$((10000 + RANDOM % 20000))
			[ "$HPORT" != "$port" ] && port_free "$HPORT" || continue
		fi
		JPORT=$port
		"$JANUSD" -o http_port="$HPORT" -w "$w" -l 127.0.0.1 -p "$port" "$@" 2>>"$TMP/janusd.log" &
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
	CMDS[$name]="janus-bots --timeout $TIMEOUT --json $*"
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
	CMDS[$name]="janus-bots --timeout $TIMEOUT --json $*"
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
# janusd_cpu: user + system CPU of the workers so far, in clock ticks.
janusd_cpu() {
	local p
	for p in $(ps -o pid= --ppid "$JPID" 2>/dev/null); do
		awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
# janusd_count KEY: a counter of janusd -s, the workers' total.
janusd_count() {
	"$JANUSD" -s -p "$JPORT" 2>/dev/null | sed -n 's/.*"totals":{[^}]*"'"$1"'":\([0-9]*\).*/\1/p'
}
# meminfo_used: MemTotal - MemAvailable in kB.
meminfo_used() {
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t - a }' /proc/meminfo
}

# row SLUG TARGET FIGURE UNIT GOAL KIND GOOD [LABEL=RUN...]: one line of
# the final table, and in the report the CDF of RUNs (the names given to
# bots), one curve each, in SLUG.svg.
# KIND: "max R" (figure/goal must be <= R), "min [R]" (figure/goal >= R,
# 1 if not given), "below" (figure < goal). GOOD: 1 if the run delivered
# everything.
row() {
	local slug=$1
	shift
	local target=$1 fig=$2 unit=$3 goal=$4 kind=$5 good=$6 verdict ratio runs
	shift 6
	runs=$(IFS='|'; echo "$*")
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
			else if (a[1] == "min") ok = f >= g * (a[2] == "" ? 1 : a[2]);
			else ok = f < g;
			print ok ? "pass" : "short" }')
	fi
	[ "$good" = 1 ] || verdict="$verdict (lost messages)"
	ROW_SLUG+=("$slug")
	ROW_CELLS+=("$target|${fig:-n/a}|$unit|$goal|$ratio|$verdict")
	ROW_RUNS+=("$runs")
	ROWS+=("$(printf '%-44s %14s %-9s %14s %7s  %s' "$target" "${fig:-n/a}" "$unit" \
		"$goal" "$ratio" "$verdict")")
}

# flood_cpu NAME ARGS...: a --flood run of -d seconds (>= 4) that holds a second first;
# from 1 s into the flood to 1 s before its end, janusd's workers' CPU per
# message delivered and per message published, in ns, into CPU_DELIVERED
# and CPU_PUBLISHED: a figure other processes on the machine disturb far
# less than the rates.
flood_cpu() {
	local name=$1 c0 c1 d0 d1 p0 p1 tick
	shift
	CPU_DELIVERED=""
	CPU_PUBLISHED=""
	tick=$(getconf CLK_TCK)
	bots_bg "$name" "$@" --flood -d "$DURATION" --hold 1
	if held "$name" "$BG"; then
		sleep 2
		c0=$(janusd_cpu); d0=$(janusd_count delivered); p0=$(janusd_count published)
		sleep $((DURATION - 2))
		c1=$(janusd_cpu); d1=$(janusd_count delivered); p1=$(janusd_count published)
	fi
	bots_wait "$name" "$BG"
	[ -n "$c1" ] && [ "$d1" -gt "$d0" ] && [ "$p1" -gt "$p0" ] || return 1
	CPU_DELIVERED=$(( (c1 - c0) * 1000000000 / tick / (d1 - d0) ))
	CPU_PUBLISHED=$(( (c1 - c0) * 1000000000 / tick / (p1 - p0) ))
	echo "janusd in $((DURATION - 2)) s of the flood: $(( (c1 - c0) * 100 / tick / (DURATION - 2) ))% CPU," \
		"$((d1 - d0)) delivered, $((p1 - p0)) published: $CPU_DELIVERED ns per delivery, $CPU_PUBLISHED ns per publish"
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
	if [ "$URING" = 1 ]; then
		echo "io_uring: the kernel offers it (janus-bots --floor-uring runs)"
	else
		echo "io_uring: not here, so no io_uring floor: $URING_WHY"
	fi
}

# uring_check: whether the io_uring floor can run here (URING, URING_WHY).
uring_check() {
	URING=1
	URING_WHY=$("$JANUS_BOTS" --floor-uring -n 1 -M 1 --timeout 10 -q 2>&1 >/dev/null) && return 0
	URING=0
	URING_WHY=$(echo "$URING_WHY" | head -n 1)
}

# --- targets 1, 3-7 ---

# write_paths: what janusd's last run wrote through, per worker, from its log.
write_paths() {
	sed -n 's/.*\(worker [0-9]*\): notice: write path: \(.*\)/\1: \2/p' "$TMP/janusd.log" | tail -n "$WORKERS"
}

bench_fanout() {
	local n s f u good
	for n in $SIZES; do
		echo
		echo "== 1. fan-out: janusd -w $WORKERS, $n clients, $MESSAGES messages"
		start_janusd "$WORKERS"
		write_paths
		bots "fan.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" -M "$MESSAGES" --per-child 5000
		check_janusd
		stop_janusd
		echo "== 1. floor: $n clients, $MESSAGES messages, $WORKERS writers"
		bots "floor.$n" --floor -n "$n" -M "$MESSAGES" --writers "$WORKERS" --per-child 5000
		s=$(median_spread "$TMP/fan.$n")
		f=$(median_spread "$TMP/floor.$n")
		echo "median spread: janusd $s ms (max $(field "$TMP/fan.$n" spread_ms)), floor $f ms (max $(field "$TMP/floor.$n" spread_ms))"
		all_good "$TMP/fan.$n" && all_good "$TMP/floor.$n"
		good=$(( $? == 0 ))
		if [ "$URING" = 1 ]; then
			echo "== 1. io_uring floor: $n clients, $MESSAGES messages, $WORKERS writers"
			bots "ufloor.$n" --floor-uring -n "$n" -M "$MESSAGES" --writers "$WORKERS" --per-child 5000
			u=$(median_spread "$TMP/ufloor.$n")
			echo "median spread: io_uring floor $u ms (max $(field "$TMP/ufloor.$n" spread_ms))"
		fi
		row "fanout-$n" "1. fan-out spread, $n clients (floor: ${WORKERS}w)" "$s" ms \
			"$f" "max 0.85" "$good" "janusd -w $WORKERS=fan.$n" "floor=floor.$n"
		[ "$URING" = 1 ] || continue
		all_good "$TMP/fan.$n" && all_good "$TMP/ufloor.$n"
		good=$(( $? == 0 ))
		row "fanout-uring-$n" "1. fan-out spread, $n (io_uring floor ${WORKERS}w)" "$s" ms \
			"$u" "max 1.0" "$good" "janusd -w $WORKERS=fan.$n" "io_uring floor=ufloor.$n"
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
		write_paths
		bots "flood.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" --flood -d "$DURATION" \
			--per-child "$per"
		check_janusd
		stop_janusd
		echo "== 3. the same with janusd -o io_uring=no"
		start_janusd "$WORKERS" -o io_uring=no
		write_paths
		bots "sflood.$n" -H 127.0.0.1 -p "$JPORT" -n "$n" --flood -d "$DURATION" \
			--per-child "$per"
		check_janusd
		stop_janusd
		all_good "$TMP/flood.$n"
		good=$(( $? == 0 ))
		row "throughput-$n" "3. throughput, $n subscribers" \
			"$(field "$TMP/flood.$n" delivered_per_s)" msg/s "$goal" min "$good" \
			"janusd -w $WORKERS, --flood=flood.$n" "janusd -o io_uring=no=sflood.$n"
		all_good "$TMP/sflood.$n"
		good=$(( $? == 0 ))
		row "throughput-send-$n" "3. throughput, $n subscribers, io_uring=no" \
			"$(field "$TMP/sflood.$n" delivered_per_s)" msg/s "$goal" min "$good" \
			"janusd -w $WORKERS -o io_uring=no, --flood=sflood.$n"
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
	good=$(( $? == 0 ))
	row setup "4. set-up, 19000 clients" "$(field "$TMP/setup" connects_per_s)" conn/s \
		32000 min "$good" "janusd -w $WORKERS, after set-up=setup"
}

# idle_memory NAME N [ws]: janusd's memory with no client and with N idle
# subscribed clients (with ws: WebSocket ones, against a janusd with an
# http_port); sets PER, the RssAnon bytes per client.
idle_memory() {
	local name=$1 n=$2 a0 v0 s0 a1 v1 s1 via=()
	PER=""
	if [ "$3" = ws ]; then
		start_janusd "$WORKERS" http
		via=(--ws "$HPORT")
	else
		start_janusd "$WORKERS"
	fi
	sleep 1
	a0=$(janusd_mem RssAnon); v0=$(janusd_mem VmRSS); s0=$(janusd_mem RssShmem)
	bots_bg "$name" -H 127.0.0.1 -p "$JPORT" "${via[@]}" -n "$n" -M 1 --hold 6 \
		--per-child $(( (n + 3) / 4 ))
	if held "$name" "$BG"; then
		sleep 2
		a1=$(janusd_mem RssAnon); v1=$(janusd_mem VmRSS); s1=$(janusd_mem RssShmem)
	fi
	bots_wait "$name" "$BG"
	check_janusd
	echo "janusd ($(janusd_procs) processes), kB: RssAnon $a0 -> ${a1:-n/a}, VmRSS $v0 -> ${v1:-n/a}, RssShmem $s0 -> ${s1:-n/a}"
	stop_janusd
	[ -n "$a1" ] && PER=$(( (a1 - a0) * 1024 / n ))
	[ -n "$a1" ] && echo "per idle subscribed connection: $PER bytes of RssAnon ($(( (v1 - v0) * 1024 / n )) of VmRSS)"
}

bench_memory() {
	echo
	echo "== 5. memory: janusd with 0 and with 19000 idle subscribed clients"
	idle_memory mem 19000
	all_good "$TMP/mem"
	good=$(( $? == 0 ))
	row memory "5. memory per idle connection (RssAnon)" "$PER" bytes 1024 "max 1.0" \
		"$good" "janusd -w $WORKERS, after --hold=mem"
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
	good=$(( $? == 0 ))
	row latency "6. p99 latency, 1000 clients under 50k msg/s" "$q99" ms 5 below \
		"$good" "probe, 1000 clients at 100/s=probe" "load, 100 clients at 50000/s=load"
}

# bench_ws: target 7, each WebSocket figure beside its TCP run or goal.
# fan_tcp NAME N PER: a TCP fan-out run of N clients against a fresh janusd.
fan_tcp() {
	start_janusd "$WORKERS"
	bots "$1" -H 127.0.0.1 -p "$JPORT" -n "$2" -M "$MESSAGES" --per-child "$3"
	check_janusd
	stop_janusd
}

bench_ws() {
	local n=$WS_CLIENTS per=$(( (WS_CLIENTS + 3) / 4 )) s t1 t2 t
	echo
	echo "== 7. WebSocket fan-out: janusd -w $WORKERS, $n clients, $MESSAGES messages, over TCP, WebSocket, TCP"
	fan_tcp "wstcp.$n" "$n" "$per"
	start_janusd "$WORKERS" http
	bots "wsfan.$n" -H 127.0.0.1 -p "$JPORT" --ws "$HPORT" -n "$n" -M "$MESSAGES" \
		--per-child "$per"
	check_janusd
	stop_janusd
	fan_tcp "wstcp2.$n" "$n" "$per"
	s=$(median_spread "$TMP/wsfan.$n")
	t1=$(median_spread "$TMP/wstcp.$n")
	t2=$(median_spread "$TMP/wstcp2.$n")
	t=$(awk -v a="$t1" -v b="$t2" 'BEGIN { if (a != "" && b != "") printf "%.3f", (a + b) / 2 }')
	echo "median spread: WebSocket $s ms (max $(field "$TMP/wsfan.$n" spread_ms)), TCP $t1 ms before and $t2 ms after, mean $t ms"
	all_good "$TMP/wsfan.$n" && all_good "$TMP/wstcp.$n" && all_good "$TMP/wstcp2.$n"
	good=$(( $? == 0 ))
	row "ws-fanout-$n" "7. WebSocket fan-out spread, $n clients (vs TCP)" "$s" ms "$t" \
		"max 1.05" "$good" "WebSocket=wsfan.$n" "TCP before=wstcp.$n" \
		"TCP after=wstcp2.$n"

	echo
	echo "== 7. WebSocket set-up: $n clients, connect + upgrade + greeting + subscribe + ACK"
	start_janusd "$WORKERS" http
	bots wssetup -H 127.0.0.1 -p "$JPORT" --ws "$HPORT" -n "$n" -M 1 --per-child "$per"
	check_janusd
	stop_janusd
	all_good "$TMP/wssetup"
	good=$(( $? == 0 ))
	row ws-setup "7. WebSocket upgrades + subscribes, $n clients" \
		"$(field "$TMP/wssetup" connects_per_s)" upg/s 20000 min "$good" \
		"janusd -w $WORKERS, WebSocket, after set-up=wssetup"

	echo
	echo "== 7. WebSocket memory: janusd with 0 and with $n idle subscribed WebSocket clients"
	idle_memory wsmem "$n" ws
	all_good "$TMP/wsmem"
	good=$(( $? == 0 ))
	row ws-memory "7. memory per idle WebSocket subscriber (RssAnon)" "$PER" bytes 1024 \
		"max 1.0" "$good" "janusd -w $WORKERS, WebSocket, after --hold=wsmem"
}

bench_patterns() {
	local noise=10000 i p ok good idle="" cpu0 cpu1
	echo
	echo "== 8. patterns: --flood for $DURATION s to 1000 subscribers of bench.x, exact"
	start_janusd "$WORKERS"
	flood_cpu pat.exact -H 127.0.0.1 -p "$JPORT" -n 1000 -T bench.x --per-child 500
	cpu0=$CPU_DELIVERED
	check_janusd
	stop_janusd
	echo "== 8. patterns: the same through bench.*, beside $noise patterns each that match nothing"
	start_janusd "$WORKERS" -o max_subs=$((noise + 1))
	flood_cpu pat.wild -H 127.0.0.1 -p "$JPORT" -n 1000 -T bench.x --sub-topic 'bench.*' \
		--noise "$noise" --per-child 500 --timeout $((TIMEOUT * 8))
	cpu1=$CPU_DELIVERED
	echo "janusd with $((1000 * (noise + 1))) subscriptions, kB: RssAnon $(janusd_mem RssAnon)"
	check_janusd
	stop_janusd
	all_good "$TMP/pat.exact" && all_good "$TMP/pat.wild"
	good=$(( $? == 0 ))
	row patterns-fanout "8. throughput, 1000 subscribers of 1 pattern among $((noise + 1))" \
		"$(field "$TMP/pat.wild" delivered_per_s)" msg/s "$(field "$TMP/pat.exact" delivered_per_s)" \
		"min 0.9" "$good" "exact=pat.exact" "patterns=pat.wild"
	row patterns-fanout-cpu "8. janusd CPU per delivery, the same (exact: goal)" "$cpu1" ns \
		"$cpu0" "max 1.11" "$good" "exact=pat.exact" "patterns=pat.wild"
	echo
	echo "== 8. publish cost: --flood for $DURATION s to 10 subscribers of bench.x"
	start_janusd "$WORKERS"
	flood_cpu pat.pub0 -H 127.0.0.1 -p "$JPORT" -n 10 -T bench.x
	cpu0=$CPU_PUBLISHED
	check_janusd
	stop_janusd
	echo "== 8. publish cost: the same while 10 idle clients hold $noise patterns each (bench.gI.x.nK.*)"
	# the idle clients share one source address, which max_topics_per_ip would hold to its quota
	start_janusd "$WORKERS" -o max_subs=$((noise + 1)) -o max_topics_per_ip=0
	for i in 0 1 2 3 4 5 6 7 8 9; do
		bots_bg "pat.idle$i" -H 127.0.0.1 -p "$JPORT" -n 1 -T "bench.g$i.x" --noise "$noise" \
			-M 1 --hold $((DURATION + 15))
		idle="$idle $BG"
	done
	ok=1
	i=0
	for p in $idle; do
		held "pat.idle$i" "$p" || ok=0
		i=$((i + 1))
	done
	cpu1=""
	if [ "$ok" = 1 ]; then
		flood_cpu pat.pub1 -H 127.0.0.1 -p "$JPORT" -n 10 -T bench.x
		cpu1=$CPU_PUBLISHED
	fi
	i=0
	for p in $idle; do
		bots_wait "pat.idle$i" "$p" > "$TMP/pat.idle$i.shown"
		echo "idle client $i: $(grep -m 1 -e '^setup:' -e 'janus-bots:' "$TMP/pat.idle$i.shown")"
		i=$((i + 1))
	done
	check_janusd
	stop_janusd
	all_good "$TMP/pat.pub0" && all_good "$TMP/pat.pub1"
	good=$(( $? == 0 && ok == 1 ))
	row patterns-publish "8. publishes/s, 10 subscribers, $((10 * noise)) idle patterns" \
		"$(field "$TMP/pat.pub1" published_per_s)" pub/s "$(field "$TMP/pat.pub0" published_per_s)" \
		"min 0.9" "$good" "no patterns=pat.pub0" "$((10 * noise)) patterns=pat.pub1"
	row patterns-publish-cpu "8. janusd CPU per publish, the same (none: goal)" "$cpu1" ns \
		"$cpu0" "max 1.11" "$good" "no patterns=pat.pub0" "$((10 * noise)) patterns=pat.pub1"
}

# pace_run NAME N [OPTIONS...]: the unwindowed pipelined flood to N subscribers
# against a fresh janusd with OPTIONS; PACED and PACED_MS from its counters.
pace_run() {
	local name=$1 n=$2
	shift 2
	start_janusd "$WORKERS" "$@"
	# readers may be up to a ring behind when the publisher stops: give them time to catch up
	bots "$name" -H 127.0.0.1 -p "$JPORT" -n "$n" --flood --window 10000000 -d "$DURATION" \
		--per-child $(( (n + 1) / 2 )) --wait 90
	PACED=$(janusd_count paced)
	PACED_MS=$(janusd_count paced_ms)
	echo "janusd: $PACED publishes paced, $PACED_MS ms paced in all, $(janusd_count slow) slow consumers, $(janusd_count stall_cut) stalled cut"
	check_janusd
	stop_janusd
}

# bench_pace: target 9, the pipelined publisher at default settings beside a 1 GB ring.
bench_pace() {
	local n good pd
	for n in 100 1000; do
		echo
		echo "== 9. pacing: a pipelined publisher, no window, for $DURATION s to $n subscribers, default settings"
		pace_run "pace.$n" "$n"
		pd="$PACED publishes paced, $PACED_MS ms"
		echo "== 9. the same with janusd -o ring_size=1G -o max_backlog=64M"
		pace_run "bigring.$n" "$n" -o ring_size=1G -o max_backlog=64M
		echo "publisher: $(field "$TMP/pace.$n" published_per_s) msg/s at the defaults ($pd)," \
			"$(field "$TMP/bigring.$n" published_per_s) msg/s with the 1 GB ring"
		all_good "$TMP/bigring.$n" ||
			echo "with the 1 GB ring, readers more than max_backlog behind were cut: messages lost"
		# the target is nothing lost at the defaults; the other run is the yardstick
		all_good "$TMP/pace.$n"
		good=$(( $? == 0 ))
		row "pace-$n" "9. pipelined, no window, $n subs (vs 1 GB ring)" \
			"$(field "$TMP/pace.$n" delivered_per_s)" msg/s "$(field "$TMP/bigring.$n" delivered_per_s)" \
			min "$good" "defaults=pace.$n" "ring_size=1G max_backlog=64M=bigring.$n"
		row "pace-pub-$n" "9. its publisher, $n subs ($pd)" \
			"$(field "$TMP/pace.$n" published_per_s)" pub/s "$(field "$TMP/bigring.$n" published_per_s)" \
			"min 0.9" "$good" "defaults=pace.$n" "ring_size=1G max_backlog=64M=bigring.$n"
	done
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
		good=$(( $? == 0 ))
		row "scale-$n" "2. fan-out spread, $n clients (floor: ${WORKERS}w)" "$s" ms "$f" \
			"max 1.1" "$good" "janusd -w $WORKERS=scale.$n" "floor=sfloor.$n"
	done
}

# --- the report page ---

# html TEXT: TEXT escaped for HTML.
html() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

# draw I: row I's picture, OUT/SLUG.svg, from the reports of its runs.
draw() {
	local spec args=() IFS='|'
	for spec in ${ROW_RUNS[$1]}; do
		[ -s "$TMP/${spec##*=}" ] && args+=(--from "$spec")
	done
	[ ${#args[@]} -gt 0 ] || { echo "no run of this row left a report" > "$TMP/draw.err"; return 1; }
	(cd "$TMP" && "$JANUS_BOTS" --svg "$OUT/${ROW_SLUG[$1]}.svg" \
		--title "${ROW_CELLS[$1]%%|*}" "${args[@]}") 2> "$TMP/draw.err"
}

# report_row I: the table line of row I.
report_row() {
	local target fig unit goal ratio verdict width cls
	IFS='|' read -r target fig unit goal ratio verdict <<< "${ROW_CELLS[$1]}"
	case $verdict in pass*) cls=pass ;; *) cls=short ;; esac
	# the bar is 0 to 2 times the floor or goal; the mark in its middle is 1
	width=$(awk -v r="$ratio" 'BEGIN { r += 0; if (r > 2) r = 2; if (r < 0) r = 0; printf "%.1f", r * 50 }')
	printf '<tr><td><a href="#%s">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>' \
		"${ROW_SLUG[$1]}" "$(html "$target")" "$(html "$fig")" "$(html "$unit")" \
		"$(html "$goal")" "$(html "$ratio")"
	printf '<td><div class="bar"><span class="%s" style="width: %s%%"></span></div></td><td class="%s">%s</td></tr>\n' \
		"$cls" "$width" "$cls" "$(html "$verdict")"
}

# report_section I: row I's picture and the command lines of its runs.
report_section() {
	local target fig unit goal ratio verdict spec IFS_OLD
	IFS='|' read -r target fig unit goal ratio verdict <<< "${ROW_CELLS[$1]}"
	printf '<section id="%s">\n<h2>%s</h2>\n<p>%s %s against %s: ratio %s, %s</p>\n' \
		"${ROW_SLUG[$1]}" "$(html "$target")" "$(html "$fig")" "$(html "$unit")" \
		"$(html "$goal")" "$(html "$ratio")" "$(html "$verdict")"
	if draw "$1"; then
		sed 1d "$OUT/${ROW_SLUG[$1]}.svg"
	else
		printf '<p class="short">no picture: %s</p>\n' "$(html "$(cat "$TMP/draw.err")")"
	fi
	printf '<details><summary>the runs</summary><pre>'
	IFS_OLD=$IFS
	IFS='|'
	for spec in ${ROW_RUNS[$1]}; do
		html "${spec%=*}: ${CMDS[${spec##*=}]:-not run}"
		echo
	done
	IFS=$IFS_OLD
	printf '</pre></details>\n</section>\n'
}

# report_html: OUT/report.html, and a copy in DOC when -D was given.
report_html() {
	local i
	{
		cat <<-EOF
		<!DOCTYPE html>
		<html lang="en">
		<head>
		<meta charset="utf-8">
		<title>janusd make bench, $(html "$DATE")</title>
		<style>
		body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #222; margin: 1.5em auto; max-width: 62em; padding: 0 1em; }
		table { border-collapse: collapse; font-size: 0.9em; }
		th, td { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }
		th:first-child, td:first-child { text-align: left; }
		pre { background: #f5f5f5; padding: 0.5em; overflow-x: auto; font-size: 0.8em; }
		.pass { color: #2a7a2a; } .short { color: #b3202a; }
		.bar { position: relative; width: 10em; height: 0.7em; background: #eee; }
		.bar span { position: absolute; left: 0; top: 0; bottom: 0; }
		.bar span.pass { background: #7fbf7f; } .bar span.short { background: #e08a8a; }
		.bar::after { content: ""; position: absolute; left: 50%; top: -0.2em; bottom: -0.2em; border-left: 1px solid #444; }
		section svg { max-width: 100%; height: auto; }
		</style>
		</head>
		<body>
		<h1>janusd: make bench</h1>
		<p>$(html "$DATE"), bots/bench.sh $(html "$ARGS"), $(( $(date +%s) - T0 )) s.
		Every figure comes from one run on the machine below, which other processes may share:
		what they took makes every figure worse (see "CPU busy").</p>
		<pre>$(html "$(cat "$TMP/machine")")</pre>
		<h2>Summary</h2>
		<p>ratio = figure / (floor or goal); the bar runs from 0 to 2 and its mark is 1.
		Fan-out, memory and latency want a small ratio, throughput and set-up a large one.</p>
		<table>
		<tr><th>target</th><th>figure</th><th>unit</th><th>floor or goal</th><th>ratio</th><th></th><th>result</th></tr>
		EOF
		for i in "${!ROW_SLUG[@]}"; do
			report_row "$i"
		done
		echo "</table>"
		for i in "${!ROW_SLUG[@]}"; do
			report_section "$i"
		done
		echo "</body>"
		echo "</html>"
	} > "$OUT/report.html"
	echo "report: $OUT/report.html"
	[ -n "$DOC" ] || return 0
	mkdir -p "$DOC" && rm -f "$DOC"/*.svg && cp "$OUT/report.html" "$OUT"/*.svg "$DOC"/ &&
		echo "copied to $DOC"
}

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
uring_check
machine | tee "$TMP/machine"
T0=$(date +%s)
if [ "$SCALE" = 1 ]; then
	bench_scale
else
	for t in $TARGETS; do
		"bench_$t"
	done
fi

echo
echo "== summary: janusd -w $WORKERS, $(( $(date +%s) - T0 )) s; ratio = figure / (floor or goal)"
printf '%-44s %14s %-9s %14s %7s  %s\n' target figure unit "floor/goal" ratio result
for r in "${ROWS[@]}"; do
	echo "$r"
done
report_html
exit "$STATUS"
