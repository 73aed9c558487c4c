#!/bin/bash
# bots/bench_cluster.sh - make bench-cluster: three janusd nodes joined
# through a three-server NATS cluster on this machine (issue 13's figures).
#
#   1. latency: janus-bots lockstep, publishing on node 0, with its
#      subscribers on node 0 (same node) and then on node 1 (across the
#      bridges and NATS); the added p50 and p99 (from the bots' publish to
#      receipt), goal p50 <= 1 ms.
#   2. rate: janus-bots --flood publishing on node 0 to subscribers on node 1
#      only, so everything crosses; the rate node 0's bridge forwards out and
#      node 1's takes in (their msgs_out and msgs_in, sampled every second:
#      the mean over the full seconds while it flowed, and the best second),
#      goal a mean of 300,000 msg/s each; and each bridge's CPU time per
#      message.
#   3. scale: -n clients (150,000) spread over the three nodes in turn
#      (janus-bots --sub-ports, several client processes and source
#      addresses), -M messages published on node 0; every client must get
#      every one (good = n, bad = 0).
#
# The nats-server cluster is t/nats_lib.sh's; every process is stopped by
# PID on any exit (t/lib.sh's trap) and the segments removed. The bots,
# janusd, the bridges and NATS share the machine's cores, so every figure
# includes all of them.
#
# Usage: bots/bench_cluster.sh [-n 150000] [-M 5] [-w WORKERS] [-d 5] [-t 300] [-R "latency rate scale"]
#   -n CLIENTS  clients of the scale run (150000)
#   -M COUNT    messages of the scale run (5)
#   -w WORKERS  janusd workers per node (scale run: enough for the fd limit; others: 1)
#   -d SECONDS  length of the rate run (5)
#   -t SECONDS  janus-bots --timeout per run (300)
#   -R RUNS     which runs, in quotes (latency rate scale)
# Environment: JANUSD (./janusd), JANUS_BOTS (./janus-bots).
# Exit status: 0 if every run got every message, 1 if not, 2 if something
# could not start. A figure short of its goal is printed as "short".

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/t/lib.sh"
. "$SRC/t/nats_lib.sh"

CLIENTS=150000
MESSAGES=5
WORKERS=""
DURATION=5
TIMEOUT=300
RUNS="latency rate scale"
# An ACK says a subscription is in place on its own node; NATS carries the
# node's new interest to the other servers asynchronously, so a publisher on
# another node that starts within milliseconds may publish before it arrives
# (those messages reach no one there: NATS core semantics). Runs whose
# subscribers all subscribe just before publishing hold this long first.
SETTLE=0.5
# The rate run's subscribers: few, so that checking their deliveries does
# not take the cores the bridges and NATS share with them (with 10, the
# bots check 3 million deliveries a second and the publisher slows).
RATE_SUBS=4

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Exit status/p' "$0" >&2; exit 2; }

while getopts "n:M:w:d:t:R:h" opt; do
	case $opt in
	n) CLIENTS=$OPTARG ;;
	M) MESSAGES=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	R) RUNS=$OPTARG ;;
	*) usage ;;
	esac
done

nats_have || { echo "bench-cluster: nats-server is not installed" >&2; exit 2; }

NPORT=()
NPID=()
RESULTS=()
STATUS=0

# node_start I WORKERS: janusd node I on a free port, on NATS server I and then the others.
node_start() {
	local i=$1 try port cluster
	cluster="nats://127.0.0.1:$(nats_get "$i" PORT),nats://127.0.0.1:$(nats_get $(((i + 1) % 3)) PORT),nats://127.0.0.1:$(nats_get $(((i + 2) % 3)) PORT)"
	for try in 1 2 3 4 5 6 7 8; do
		port=$(random_port)
		port_free "$port" || continue
		"$JANUSD" -l 127.0.0.1 -p "$port" -w "$2" -o "cluster=$cluster" -o "cluster_name=node$i" \
			-o max_conns_per_ip=0 -o http_port=0 2>>"$T_DIR/node$i.log" &
		NPID[$i]=$!
		track "${NPID[$i]}"
		if wait_port "$port" 10 && "$JANUSD" -s -p "$port" | grep -q "\"master_pid\":${NPID[$i]},"; then
			NPORT[$i]=$port
			return 0
		fi
		stop_pid "${NPID[$i]}"
	done
	echo "bench-cluster: node $i did not start; its log:" >&2
	cat "$T_DIR/node$i.log" >&2
	exit 2
}

# nodes_stop: stop the three nodes by PID and remove their segments.
nodes_stop() {
	local i
	for i in 0 1 2; do
		[ -n "${NPID[$i]:-}" ] && stop_pid "${NPID[$i]}"
		[ -n "${NPORT[$i]:-}" ] && rm -f "/dev/shm/janusd.${NPORT[$i]}"
		NPID[$i]=""
	done
}

# nodes_start WORKERS: three nodes, each bridge up on its own NATS server.
nodes_start() {
	local i t
	for i in 0 1 2; do
		node_start "$i" "$1"
	done
	for i in 0 1 2; do
		for t in $(seq 1 100); do
			"$JANUSD" -s -p "${NPORT[$i]}" | grep -q '"link":"up"' && break
			sleep 0.1
		done
	done
}

# bridge NODE KEY: a counter of node NODE's bridge.
bridge() { "$JANUSD" -s -p "${NPORT[$1]}" | sed -n 's/.*"bridge":{.*"'"$2"'":\([0-9]*\).*/\1/p'; }

# ticks PID: CPU time used so far by a process, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# sample FILE: every second, the time and the msgs_out of node 0's and msgs_in of node 1's bridge.
sample() {
	while :; do
		echo "$(date +%s.%N) $(bridge 0 msgs_out) $(bridge 1 msgs_in)" >>"$1"
		sleep 1
	done
}

# bots OUT ARGS...: one janus-bots run, its output in OUT; 0 if every client got every message.
bots() {
	local out=$1
	shift
	timeout $((TIMEOUT + 30)) "$JANUS_BOTS" --json -q --timeout "$TIMEOUT" "$@" >"$out" 2>&1
}

# jget FILE KEY [OBJECT]: a number from the JSON line of a janus-bots run (in OBJECT, e.g. send_latency_ms).
jget() {
	if [ -n "${3:-}" ]; then
		sed -n 's/.*"'"$3"'":{\([^}]*\)}.*/\1/p' "$1" | tail -n 1 | sed -n 's/.*"'"$2"'":\([0-9.]*\).*/\1/p'
	else
		sed -n 's/.*"'"$2"'":\([0-9.]*\).*/\1/p' "$1" | tail -n 1
	fi
}

# clean FILE N: the run's report says every one of N clients got everything.
clean() { [ "$(jget "$1" good)" = "$2" ] && [ "$(jget "$1" bad)" = 0 ] && [ "$(jget "$1" errors)" = 0 ]; }

# result LINE: keep a line of the final table.
result() { RESULTS+=("$1"); echo "$1"; }

run_latency() {
	local same cross n=100 m=1000 s50 s99 c50 c99
	nodes_start "${WORKERS:-1}"
	same="$T_DIR/lat-same"
	cross="$T_DIR/lat-cross"
	bots "$same" -n "$n" -M "$m" -p "${NPORT[0]}" -T lat.same || STATUS=1
	bots "$cross" -n "$n" -M "$m" -p "${NPORT[0]}" --sub-ports "${NPORT[1]}" --hold "$SETTLE" -T lat.cross || STATUS=1
	clean "$same" "$n" && clean "$cross" "$n" || { STATUS=1; tail -n 3 "$same" "$cross"; }
	s50=$(jget "$same" median send_latency_ms)
	s99=$(jget "$same" q99 send_latency_ms)
	c50=$(jget "$cross" median send_latency_ms)
	c99=$(jget "$cross" q99 send_latency_ms)
	result "latency, $n subscribers x $m messages (lockstep), publish to receipt:"
	result "  same node (0 -> 0):   p50 $s50 ms, p99 $s99 ms"
	result "  across (0 -> 1):      p50 $c50 ms, p99 $c99 ms"
	result "$(awk -v a="$s50" -v b="$c50" -v c="$s99" -v d="$c99" 'BEGIN {
		printf "  added by the cluster: p50 %.3f ms, p99 %.3f ms (goal p50 <= 1 ms: %s)", b - a, d - c,
		    b - a <= 1 ? "met" : "short" }')"
	nodes_stop
}

run_rate() {
	local out="$T_DIR/rate" o0 o1 i0 i1 t0 t1 secs b0 b1 c0 c1 hz sampler
	nodes_start "${WORKERS:-1}"
	hz=$(getconf CLK_TCK)
	b0=$(bridge 0 pid)
	b1=$(bridge 1 pid)
	c0=$(ticks "$b0")
	c1=$(ticks "$b1")
	o0=$(bridge 0 msgs_out)
	i0=$(bridge 1 msgs_in)
	t0=$(date +%s.%N)
	sample "$T_DIR/samples" &
	sampler=$!
	track "$sampler"
	bots "$out" -n "$RATE_SUBS" --flood -d "$DURATION" --window 65536 -p "${NPORT[0]}" \
		--sub-ports "${NPORT[1]}" --hold "$SETTLE" -T rate || STATUS=1
	stop_pid "$sampler"
	t1=$(date +%s.%N)
	o1=$(bridge 0 msgs_out)
	i1=$(bridge 1 msgs_in)
	clean "$out" "$RATE_SUBS" || { STATUS=1; tail -n 3 "$out"; }
	secs=$(jget "$out" run_ms)
	result "rate, --flood for ${DURATION} s, published on node 0, $RATE_SUBS subscribers on node 1:"
	result "  published $(jget "$out" published) ($(jget "$out" published_per_s)/s), delivered $(jget "$out" delivered_per_s)/s"
	result "  node 0's bridge forwarded $((o1 - o0)) out, node 1's took $((i1 - i0)) in, of $(jget "$out" published) published; the run took ${secs} ms"
	# the first and the last second that moved were partly idle: the mean is over the full ones between
	result "$(awk 'NR > 1 { d = ($1 - t) > 0 ? ($1 - t) : 1; o = ($2 - po) / d; i = ($3 - pi) / d
		if (o > bo) bo = o; if (i > bi) bi = i; if (o > 0 || i > 0) { out[n] = o; in_[n] = i; n++ } }
		{ t = $1; po = $2; pi = $3 }
		END { for (k = 1; k < n - 1; k++) { so += out[k]; si += in_[k] }; m = n > 2 ? n - 2 : 1
		    printf "  per second while it flowed: out %.0f msg/s mean of %d full seconds (best %.0f), in %.0f (best %.0f) (%s)",
		    so / m, (n > 2 ? n - 2 : 0), bo, si / m, bi, (so / m >= 300000 && si / m >= 300000 ? "met" : "short") }' "$T_DIR/samples")"
	result "  node 0 dropped_out $(bridge 0 dropped_out), node 1 dropped_in $(bridge 1 dropped_in) (over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s of wall time)"
	result "$(awk -v o=$((o1 - o0)) -v i=$((i1 - i0)) -v a=$(($(ticks "$b0") - c0)) -v b=$(($(ticks "$b1") - c1)) -v hz="$hz" 'BEGIN {
		printf "  CPU per message: bridge out %.2f us (%.0f msg/s per core), bridge in %.2f us (%.0f msg/s per core)",
		    a * 1e6 / hz / o, o * hz / (a > 0 ? a : 1), b * 1e6 / hz / i, i * hz / (b > 0 ? b : 1) }')"
	nodes_stop
}

run_scale() {
	local out="$T_DIR/scale" w=${WORKERS:-$(((CLIENTS / 3 + 16999) / 17000))}
	nodes_start "$w"
	bots "$out" -n "$CLIENTS" -M "$MESSAGES" -p "${NPORT[0]}" \
		--sub-ports "${NPORT[0]},${NPORT[1]},${NPORT[2]}" --wait 60 -T scale || STATUS=1
	result "scale: $CLIENTS clients on 3 nodes (janusd -w $w each), $MESSAGES messages published on node 0:"
	result "  connected $(jget "$out" connected), good $(jget "$out" good), bad $(jget "$out" bad); deliveries good $(jget "$out" deliveries_good) of $(jget "$out" deliveries_expected), errors $(jget "$out" errors)"
	result "  set-up $(jget "$out" setup_ms) ms; slowest spread (publish to the last client) $(jget "$out" spread_ms) ms; bridges of nodes 1, 2 took in $(bridge 1 msgs_in), $(bridge 2 msgs_in)"
	clean "$out" "$CLIENTS" || STATUS=1
	nodes_stop
}

if ! nats_cluster_start 3; then
	echo "bench-cluster: the nats-server cluster did not come up" >&2
	exit 2
fi
for run in $RUNS; do
	"run_$run"
done
echo
echo "== bench-cluster ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)"
printf '%s\n' "${RESULTS[@]}"
exit "$STATUS"
