# t/nats_lib.sh - a cluster of nats-server processes for the shell tests
# (sourced after t/lib.sh).
#
# Owns: starting N nats-server on 127.0.0.1 with client, route and HTTP
# monitoring ports the kernel picks (read back from each server's ports
# file, so tests started together never race for a port), joining them in
# one cluster seeded by server 0, waiting until every server has a route
# to every other (monitoring /routez), and stopping them by PID: each is
# tracked, so lib.sh's EXIT trap stops it however the test ends. A server
# restarted with nats_start I reuses its ports and routes to all others.
# nats_cluster_run runs a test program against three of them.
# Logs: $T_DIR/nats.I.log. Must not know about janusd.

: "${NATS_SERVER:=$(command -v nats-server || echo /usr/sbin/nats-server)}"
NATS_N=0

# nats_have: nats-server is installed (tests skip_all without it).
nats_have() { [ -x "$NATS_SERVER" ]; }

# nats_get I NAME: a per-server variable (NATS_PID_I, NATS_PORT_I, ...).
nats_get() { eval "echo \"\${NATS_$2_$1:-}\""; }
nats_set() { eval "NATS_$2_$1=\$3"; }

# nats_url I: the client URL of server I.
nats_url() { echo "nats://127.0.0.1:$(nats_get "$1" PORT)"; }

# nats_http I PATH: the body of GET PATH on server I's monitoring port.
nats_http() {
	local port
	port=$(nats_get "$1" MPORT)
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
		sed '1,/^\r*$/d' <&3
	) 2>/dev/null
}

# nats_json_num I PATH KEY: a number from a monitoring endpoint's JSON.
nats_json_num() {
	nats_http "$1" "$2" | sed -n 's/^ *"'"$3"'": *\([0-9]*\).*/\1/p' | head -n 1
}

# nats_routes_to I: the --routes argument for server I (the seed, or all others on a restart).
nats_routes_to() {
	local i routes=""
	for i in $(seq 0 $((NATS_N - 1))); do
		[ "$i" -eq "$1" ] && continue
		[ -n "$(nats_get "$i" CPORT)" ] || continue
		routes="$routes${routes:+,}nats://127.0.0.1:$(nats_get "$i" CPORT)"
	done
	echo "$routes"
}

# nats_start I: start server I (ports from the kernel the first time,
# its own ports again after a stop); wait for its ports file. 0 or 1.
nats_start() {
	local i=$1 dir="$T_DIR/nats.$1" port cport mport routes pid t f
	port=$(nats_get "$i" PORT)
	cport=$(nats_get "$i" CPORT)
	mport=$(nats_get "$i" MPORT)
	routes=$(nats_routes_to "$i")
	rm -rf "$dir"
	mkdir -p "$dir"
	"$NATS_SERVER" -a 127.0.0.1 -p "${port:--1}" -m "${mport:--1}" \
		--cluster "nats://127.0.0.1:${cport:--1}" --cluster_name janus-test \
		-n "nats$i" --ports_file_dir "$dir" ${routes:+--routes "$routes"} \
		>>"$T_DIR/nats.$i.log" 2>&1 &
	pid=$!
	track "$pid"
	nats_set "$i" PID "$pid"
	f="$dir/$(basename "$NATS_SERVER")_$pid.ports"
	for t in $(seq 1 200); do
		[ -s "$f" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! [ -s "$f" ]; then
		diag "nats-server $i did not start; its log:"
		sed 's/^/#   /' "$T_DIR/nats.$i.log"
		return 1
	fi
	# {"nats":["nats://127.0.0.1:P"],"monitoring":["http://127.0.0.1:M"],"cluster":["nats://127.0.0.1:C"]}
	nats_set "$i" PORT "$(sed -n 's/.*"nats":\["nats:\/\/[^"]*:\([0-9]*\)".*/\1/p' "$f")"
	nats_set "$i" MPORT "$(sed -n 's/.*"monitoring":\["http:\/\/[^"]*:\([0-9]*\)".*/\1/p' "$f")"
	nats_set "$i" CPORT "$(sed -n 's/.*"cluster":\["nats:\/\/[^"]*:\([0-9]*\)".*/\1/p' "$f")"
	[ -n "$(nats_get "$i" PORT)" ] && [ -n "$(nats_get "$i" CPORT)" ] &&
		[ -n "$(nats_get "$i" MPORT)" ]
}

# nats_stop I [SIGNAL]: stop server I by PID (TERM by default; KILL to crash it).
nats_stop() {
	local pid
	pid=$(nats_get "$1" PID)
	[ -n "$pid" ] && stop_pid "$pid" "${2:-TERM}"
	nats_set "$1" PID ""
}

# nats_wait_routes SECONDS: until every running server has a route to every
# other running one.
nats_wait_routes() {
	local t i want up
	up=0
	for i in $(seq 0 $((NATS_N - 1))); do
		[ -n "$(nats_get "$i" PID)" ] && up=$((up + 1))
	done
	want=$((up - 1))
	for t in $(seq 1 $(($1 * 10))); do
		for i in $(seq 0 $((NATS_N - 1))); do
			[ -n "$(nats_get "$i" PID)" ] || continue
			[ "$(nats_json_num "$i" /routez num_routes)" = "$want" ] || break
			[ "$i" -eq $((NATS_N - 1)) ] && return 0
		done
		sleep 0.1
	done
	diag "routes did not come up: want $want per server"
	for i in $(seq 0 $((NATS_N - 1))); do
		diag "server $i: $(nats_json_num "$i" /routez num_routes) routes"
	done
	return 1
}

# nats_cluster_start N: N servers in one cluster, routes all up. 0 or 1.
nats_cluster_start() {
	local i
	NATS_N=$1
	for i in $(seq 0 $(($1 - 1))); do
		nats_start "$i" || return 1
	done
	nats_wait_routes 20
}

# nats_cluster_run SECONDS CMD [ARGS...]: start three servers in one
# cluster, then run CMD (its TAP output is the test's) within SECONDS,
# showing each server's log if it fails. Its status; bails out if the
# cluster does not come up.
nats_cluster_run() {
	local secs=$1 rc i
	shift
	if ! nats_cluster_start 3; then
		echo "Bail out! the nats-server cluster did not come up"
		exit 1
	fi
	timeout "$secs" "$@" "$(nats_get 0 PORT)" "$(nats_get 1 PORT)" "$(nats_get 2 PORT)" \
		"$(nats_get 0 PID)" "$(nats_get 1 PID)" "$(nats_get 2 PID)"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		for i in 0 1 2; do
			diag "nats-server $i log:"
			sed 's/^/#   /' "$T_DIR/nats.$i.log" | tail -n 20
		done
	fi
	return "$rc"
}
