#!/bin/bash
# t/bots_janusd.sh - janus-bots against a real janusd: a few hundred clients
# get every message intact and the figures add up: good = every client, good
# deliveries and the histogram = clients x messages.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=300
M=2

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 15

jnum() { sed -n 's/.*"'"$1"'":\([0-9.]*\).*/\1/p' "$T_DIR/out" | tail -n 1; }
jsum() {
	sed -n 's/.*"'"$1"'":{[^}]*"counts":\[\([0-9,]*\)\].*/\1/p' "$T_DIR/out" |
		tr ',' '\n' | awk '{ s += $1 } END { print s + 0 }'
}

janusd_start -w 2
ok $? "janusd starts"

timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "${JPORT:-1}" -n "$N" -M "$M" \
	--per-child 150 --timeout 60 --wait 5 --json > "$T_DIR/out" 2> "$T_DIR/err"
RC=$?
[ "$RC" -eq 0 ] || diag "janus-bots exited $RC:" "$(cat "$T_DIR/err")"
is "$RC" 0 "janus-bots against janusd: exit status 0"
head -n 1 "$T_DIR/out" | grep -Eq "^setup: [0-9.]+ ms, good: $N, bad: 0, run: [0-9.]+ ms$"
ok $? "the report starts with the 2009 line, good = clients"
grep -Eq "^deliveries: good: $((N * M)), bad: 0 \(of $N clients x $M messages\)$" "$T_DIR/out"
ok $? "the text report gives the per-delivery counts"
is "$(jnum good)" "$N" "good = clients"
is "$(jnum bad)" 0 "bad = 0"
is "$(jnum deliveries_expected)" $((N * M)) "deliveries expected = clients x messages"
is "$(jnum deliveries_good)" $((N * M)) "every delivery good"
is "$(jnum deliveries_bad)" 0 "no bad delivery"
is "$(jnum errors)" 0 "no errors (corrupt, duplicate, unexpected)"
is "$(jnum published)" "$M" "every message published"
is "$(jnum connected)" "$N" "every client connected"
is "$(jsum hist)" $((N * M)) "histogram counts sum to clients x messages"
is "$(jsum send_hist)" $((N * M)) "send-time histogram sums too"

[ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null
ok $? "janusd still runs after the load"
janusd_stop
