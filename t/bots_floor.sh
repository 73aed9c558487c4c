#!/bin/bash
# t/bots_floor.sh - janus-bots --floor: no server, the bots' own writers fan
# out over loopback; the run must work and its figures add up: good = every
# client, good deliveries and the histogram = clients x messages. The same
# for --floor-uring (the writers send through io_uring), where the kernel
# offers io_uring.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=300
M=2

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 40

# bots ARGS...: a floor run; output in $T_DIR/out, status in RC.
bots() {
	timeout 120 "$JANUS_BOTS" "${FLOOR:---floor}" -n "$N" --timeout 60 --wait 5 --json "$@" \
		> "$T_DIR/out" 2> "$T_DIR/err"
	RC=$?
	[ -s "$T_DIR/err" ] && diag "janus-bots ${FLOOR:---floor} $* exited $RC:" "$(cat "$T_DIR/err")"
}


# three client children and three writers, so merging is exercised
bots -M "$M" --per-child 100 --writers 3
is "$RC" 0 "floor: exit status 0"
bots_clean "$N" "$M" "floor"
is "$(jnum writers)" 3 "floor: three writers"
grep -q '"spreads_ms":\[[0-9.]*,[0-9.]*\]' "$T_DIR/out"
ok $? "floor: one spread per message"

bots -r 20 -d 1 -s 2000
is "$RC" 0 "floor rate mode: exit status 0"
is "$(jnum good)" "$N" "floor rate mode: good = clients"
is "$(jnum bad)" 0 "floor rate mode: bad = 0"
is "$(jnum deliveries_good)" $((N * 20)) "floor rate mode: good deliveries = clients x rate x duration"
is "$(jsum hist)" $((N * 20)) "floor rate mode: histogram counts sum"

"$JANUS_BOTS" --floor -n 100 --writers 0 > /dev/null 2>&1
is $? 2 "floor: --writers 0 is a usage error"
"$JANUS_BOTS" --floor -n 100 --ack > /dev/null 2>&1
is $? 2 "floor: --ack is a usage error"

FLOOR=--floor-uring
bots -M 1 -n 2
if [ "$RC" = 2 ] && grep -q io_uring "$T_DIR/err"; then
	why=$(head -n 1 "$T_DIR/err")
	for i in $(seq 18); do skip "no io_uring here: $why"; done
else
	bots -M "$M" --per-child 100 --writers 3
	is "$RC" 0 "floor-uring: exit status 0"
	bots_clean "$N" "$M" "floor-uring"
	is "$(jnum writers)" 3 "floor-uring: three writers"
	grep -q '"floor_uring":true' "$T_DIR/out"
	ok $? "floor-uring: the report says io_uring"
	bots -r 20 -d 1 -s 2000
	is "$RC" 0 "floor-uring rate mode: exit status 0"
	is "$(jnum good)" "$N" "floor-uring rate mode: good = clients"
	is "$(jnum deliveries_good)" $((N * 20)) "floor-uring rate mode: good deliveries = clients x rate x duration"
fi
