#!/bin/bash
# t/bots_janusd.sh - janus-bots against a real janusd: a few hundred clients
# get every message intact and the figures add up: good = every client, good
# deliveries and the histogram = clients x messages. Then the same through a
# wildcard subscription (--sub-topic) beside --noise patterns that match
# nothing, which janusd counts as subscriptions while the clients hold.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=300
M=2
NP=20      # clients of the pattern run
NOISE=300  # and their patterns besides

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 29


janusd_start -w 2
ok $? "janusd starts"

timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "${JPORT:-1}" -n "$N" -M "$M" \
	--per-child 150 --timeout 60 --wait 5 --json > "$T_DIR/out" 2> "$T_DIR/err"
RC=$?
[ "$RC" -eq 0 ] || diag "janus-bots exited $RC:" "$(cat "$T_DIR/err")"
is "$RC" 0 "janus-bots against janusd: exit status 0"
bots_clean "$N" "$M" "against janusd"

timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "${JPORT:-1}" -n "$NP" -M "$M" -T bench.x \
	--sub-topic 'bench.*' --noise "$NOISE" --hold 1 --timeout 60 --wait 5 --json \
	> "$T_DIR/out" 2> "$T_DIR/err" &
BPID=$!
track "$BPID"
for i in $(seq 1 300); do
	grep -q '^holding:' "$T_DIR/out" 2>/dev/null && break
	sleep 0.1
done
SUBS=$("$JANUSD" -s -p "${JPORT:-1}" | sed -n 's/.*"totals":{[^}]*"subs":\([0-9]*\).*/\1/p')
is "$SUBS" $((NP * (NOISE + 1))) "while holding: janusd counts every client's pattern and noise patterns"
wait "$BPID"
RC=$?
[ "$RC" -eq 0 ] || diag "janus-bots exited $RC:" "$(cat "$T_DIR/err")"
is "$RC" 0 "janus-bots --sub-topic 'bench.*' --noise $NOISE: exit status 0"
sed -i '/^holding:/d' "$T_DIR/out"
bots_clean "$NP" "$M" "through a pattern beside $NOISE others"

[ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null
ok $? "janusd still runs after the load"
janusd_stop
