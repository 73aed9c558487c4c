#!/bin/bash
# t/fanout_10k.sh - 10,000 clients, spread over several bot processes and
# source addresses, subscribed to one topic on janusd -w 2: each receives
# every one of 5 published messages exactly once, byte for byte, in order.
. "$(dirname "$0")/lib.sh"

plan 6
janusd_start -w 2 || exit 1
"$JANUS_BOTS" -p "$JPORT" -n 10000 -M 5 --per-child 4000 --timeout 120 --json -q \
	>"$T_DIR/bots.json" 2>"$T_DIR/bots.err"
is "$?" "0" "janus-bots exits 0 (every client got every message)"
json=$(cat "$T_DIR/bots.json")
num() { printf '%s' "$json" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
is "$(num good)" "10000" "good clients: all 10000 got every message"
is "$(num bad)" "0" "no bad client"
is "$(num deliveries_good)" "50000" "good deliveries: 10000 clients x 5 messages"
is "$(num connected)" "10000" "all 10000 clients connected"
diag "spread (publish until the last client had it) $(num spread_ms) ms"
[ -s "$T_DIR/bots.err" ] && diag "$(cat "$T_DIR/bots.err")"
d0=$("$JANUSD" -s -p "$JPORT" | sed 's/.*"slot":0,[^}]*"delivered":\([0-9]*\).*/\1/')
d1=$("$JANUSD" -s -p "$JPORT" | sed 's/.*"slot":1,[^}]*"delivered":\([0-9]*\).*/\1/')
[ "$d0" -gt 0 ] && [ "$d1" -gt 0 ] && [ $((d0 + d1)) -eq 50000 ]
ok $? "both workers delivered, 50000 in all ($d0 + $d1)"
