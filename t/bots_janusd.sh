#!/bin/bash
# t/bots_janusd.sh - janus-bots against a real janusd: a few hundred clients
# get every message intact and the figures add up: good = every client, good
# deliveries and the histogram = clients x messages.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=300
M=2

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 15


janusd_start -w 2
ok $? "janusd starts"

timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "${JPORT:-1}" -n "$N" -M "$M" \
	--per-child 150 --timeout 60 --wait 5 --json > "$T_DIR/out" 2> "$T_DIR/err"
RC=$?
[ "$RC" -eq 0 ] || diag "janus-bots exited $RC:" "$(cat "$T_DIR/err")"
is "$RC" 0 "janus-bots against janusd: exit status 0"
bots_clean "$N" "$M" "against janusd"

[ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null
ok $? "janusd still runs after the load"
janusd_stop
