#!/bin/bash
# t/bots_ws.sh - janus-bots --ws against a real janusd's WebSocket listener:
# a few hundred WebSocket subscribers get every message intact (lockstep,
# rate over two persistent publishers, flood), janusd counts one upgrade
# per client, the clients answer the server's Pings (a heartbeat of 1 s
# closes a client silent for 2 s), and the JSON report has exactly
# the keys of a TCP run; --ws at the Janus port, which greets where a 101
# should come, fails the set-up and says why.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=200
M=2

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 34

# bots ARGS...: janus-bots against janusd; output in $T_DIR/out, status in RC.
bots() {
	timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "${JPORT:-1}" -n "$N" --per-child 100 \
		--timeout 60 --wait 5 --json "$@" > "$T_DIR/out" 2> "$T_DIR/err"
	RC=$?
	[ "$RC" -eq 0 ] || diag "janus-bots $* exited $RC:" "$(cat "$T_DIR/err")"
}

# json_keys: every key of the JSON line, in order, nested ones included.
json_keys() { grep '^{' "$T_DIR/out" | tail -n 1 | grep -o '"[A-Za-z0-9_.]*":' | tr -d '":' | tr '\n' ' '; }

HTTP=1 janusd_start -w 2 -o heartbeat=1s
ok $? "janusd starts with an HTTP port"

bots --ws "$HPORT" -M "$M"
is "$RC" 0 "--ws: exit status 0"
bots_clean "$N" "$M" "--ws"
grep -q '"transport":"websocket"' "$T_DIR/out"
ok $? "--ws: the JSON line says the transport"
grep -q "^server: $N WebSocket clients, " "$T_DIR/out"
ok $? "--ws: so does the text report"
WS_KEYS=$(json_keys)
UPGRADES=$("$JANUSD" -p "$JPORT" -s 2>/dev/null | sed -n 's/.*"totals":{[^}]*"upgrades":\([0-9]*\).*/\1/p')
is "$UPGRADES" "$N" "--ws: janusd counted one WebSocket upgrade per client"

bots -M "$M"
is "$RC" 0 "the same run over TCP: exit status 0"
is "$(json_keys)" "$WS_KEYS" "the JSON line has the same keys over WebSocket and TCP"
grep -q '"transport":"tcp"' "$T_DIR/out"
ok $? "over TCP it says tcp"

bots --ws "$HPORT" -M 1 --hold 4
is "$RC" 0 "--ws, idle for 4 heartbeat intervals: exit status 0"
is "$(jnum good)" "$N" "every client answered the Pings and stayed: good = clients"
is "$(jnum closed)" 0 "none was closed"

# a list of ports, as --sub-ports takes: here the same one twice
bots --ws "$HPORT,$HPORT" -r 100 -d 1 --publishers 2
is "$RC" 0 "--ws P,P, rate mode over two persistent publishers: exit status 0"
is "$(jnum good)" "$N" "rate mode: good = clients"
is "$(jnum deliveries_good)" $((N * 100)) "rate mode: good deliveries = clients x rate x duration"

bots --ws "$HPORT" --flood -d 0.5 --window 256
is "$RC" 0 "--ws, flood: exit status 0"
P=$(jnum published)
is "$(jnum good)" "$N" "flood: good = clients"
is "$(jnum deliveries_good)" $((N * ${P:-0})) "flood: good deliveries = clients x published ($P)"

bots --ws "$JPORT" -M 1
is "$RC" 2 "--ws at the Janus port: exit status 2 (no client set up)"
grep -q "the answer to the upgrade is not 101" "$T_DIR/err"
ok $? "it says the answer was not a 101"

"$JANUS_BOTS" --floor --ws 8080 > /dev/null 2>&1
is $? 2 "--ws with --floor: usage error"
"$JANUS_BOTS" --ws 8080 --sub-ports 8081 > /dev/null 2>&1
is $? 2 "--ws with --sub-ports: usage error"

[ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null
ok $? "janusd still runs after the load"
janusd_stop
