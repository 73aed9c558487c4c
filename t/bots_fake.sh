#!/bin/bash
# t/bots_fake.sh - janus-bots against t/bots_fake, a server that can be told
# to misbehave: the bots must pass a faithful server (exit 0, good = every
# client, per-delivery figures that add up), catch each broken mode (the
# clients it wronged count bad, exit 1), and tell an allowed reordering
# (across publishing connections) from a wrong one.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

FAKE=$(dirname "$JANUS_BOTS")/t/bots_fake
N=300
M=2

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"
[ -x "$FAKE" ] || skip_all "t/bots_fake not built"

plan 82

# fake_start MODE: start the fake on a port the kernel picks; sets FPORT, FPID.
fake_start() {
	local i
	: > "$T_DIR/fake.port"
	"$FAKE" -l 127.0.0.1 -p 0 --lifetime 120 "$@" > "$T_DIR/fake.port" \
		2>> "$T_DIR/fake.log" &
	FPID=$!
	track "$FPID"
	for i in $(seq 1 100); do
		[ -s "$T_DIR/fake.port" ] && break
		sleep 0.05
	done
	FPORT=$(head -n 1 "$T_DIR/fake.port")
	[ -n "$FPORT" ]
}

# bots ARGS...: janus-bots against the fake; output in $T_DIR/out, status in RC.
bots() {
	timeout 120 "$JANUS_BOTS" -H 127.0.0.1 -p "$FPORT" -n "$N" --per-child 100 \
		--timeout 60 --wait 2 --json "$@" > "$T_DIR/out" 2> "$T_DIR/err"
	RC=$?
	[ -s "$T_DIR/err" ] && diag "janus-bots $* exited $RC:" "$(cat "$T_DIR/err")"
}


fake_start --faithful
ok $? "faithful fake server starts"
bots -M "$M"
is "$RC" 0 "faithful: exit status 0"
bots_clean "$N" "$M" "faithful"
grep -q '^  q99.99:' "$T_DIR/out"
ok $? "faithful: the percentile table is printed"

bots -r 20 -d 1 --ack --publishers 2 -s 600
is "$RC" 0 "persistent publishers with acks: exit status 0"
is "$(jnum good)" "$N" "persistent: good = clients"
is "$(jnum deliveries_good)" $((N * 20)) "persistent: good deliveries = clients x rate x duration"
is "$(jnum acks)" 20 "persistent: every publish acknowledged"
is "$(jsum hist)" $((N * 20)) "persistent: histogram counts sum"

bots -r 20 -d 1 --part1
is "$RC" 0 "rate mode with the 2009 publish: exit status 0"
is "$(jnum good)" "$N" "rate mode, 2009 publish: good = clients"
is "$(jnum deliveries_good)" $((N * 20)) "rate mode, 2009 publish: good deliveries add up"

# --flood: a small window, since the fake writes every delivery on its own
bots --flood -d 0.5 --window 4
is "$RC" 0 "flood: exit status 0"
P=$(jnum published)
[ "${P:-0}" -gt 4 ]
ok $? "flood: more messages than one window went out ($P)"
is "$(jnum messages)" "${P:-0}" "flood: every client expects every message published"
is "$(jnum good)" "$N" "flood: good = clients"
is "$(jnum deliveries_expected)" $((N * ${P:-0})) "flood: deliveries expected = clients x published"
is "$(jnum deliveries_good)" $((N * ${P:-0})) "flood: good deliveries = clients x published"
is "$(jsum hist)" $((N * ${P:-0})) "flood: histogram counts sum"
grep -q '"mode":"flood"' "$T_DIR/out"
ok $? "flood: the JSON line names the mode"
bots --flood -d 0.5 --window 4 --publishers 2 --ack
is "$RC" 0 "flood, two publishers with acks: exit status 0"
is "$(jnum acks)" "$(jnum published)" "flood with acks: every publish acknowledged"
is "$(jnum good)" "$N" "flood with acks: good = clients"
bots -M 1 --hold 0.3
is "$RC" 0 "--hold: exit status 0"
grep -q "^holding: $N clients subscribed" "$T_DIR/out"
ok $? "--hold: says when every client is subscribed"
stop_pid "$FPID"

fake_start --drop-one
ok $? "dropping fake server starts"
bots -M "$M"
is "$RC" 1 "drop-one: exit status 1"
head -n 1 "$T_DIR/out" | grep -Eq "^setup: [0-9.]+ ms, good: $((N - 1)), bad: 1, run: [0-9.]+ ms$"
ok $? "drop-one: the 2009 line counts the client that got nothing bad"
is "$(jnum bad)" 1 "drop-one: bad = 1"
is "$(jnum good)" $((N - 1)) "drop-one: everyone else is good"
is "$(jnum deliveries_bad)" "$M" "drop-one: a bad delivery for each message"
is "$(jnum deliveries_good)" $((N * M - M)) "drop-one: every other delivery good"
is "$(jsum hist)" $((N * M - M)) "drop-one: histogram holds only good deliveries"
# the fake misbehaves towards its first subscriber ever: a fresh one
stop_pid "$FPID"
fake_start --drop-one
bots --flood -d 0.5 --window 4
is "$RC" 1 "drop-one, flood: exit status 1"
is "$(jnum bad)" 1 "drop-one, flood: the client that got nothing counts bad"
is "$(jnum deliveries_bad)" "$(jnum published)" "drop-one, flood: it missed every message published"
stop_pid "$FPID"

fake_start --corrupt
ok $? "corrupting fake server starts"
bots -M "$M"
is "$RC" 1 "corrupt: exit status 1"
is "$(jnum corrupt)" "$M" "corrupt: each wrong object is caught"
is "$(jnum bad)" 1 "corrupt: its client counts bad"
is "$(jnum deliveries_bad)" "$M" "corrupt: and each wrong object a bad delivery"
# the fake misbehaves towards its first subscriber ever: a fresh one
stop_pid "$FPID"
fake_start --corrupt
bots --flood -d 0.5 --window 4
is "$RC" 1 "corrupt, flood: exit status 1"
is "$(jnum corrupt)" "$(jnum published)" "corrupt, flood: each wrong object is caught"
is "$(jnum bad)" 1 "corrupt, flood: its client counts bad"
stop_pid "$FPID"

fake_start --duplicate
ok $? "duplicating fake server starts"
bots -M "$M"
is "$RC" 1 "duplicate: exit status 1"
is "$(jnum duplicate)" "$M" "duplicate: each second copy is caught"
is "$(jnum deliveries_good)" $((N * M)) "duplicate: the first copies are good deliveries"
is "$(jnum bad)" 1 "duplicate: but the client that got copies twice counts bad"
# the fake misbehaves towards its first subscriber ever: a fresh one
stop_pid "$FPID"
fake_start --duplicate
bots --flood -d 0.5 --window 4
is "$RC" 1 "duplicate, flood: exit status 1"
is "$(jnum duplicate)" "$(jnum published)" "duplicate, flood: each second copy is caught"
is "$(jnum bad)" 1 "duplicate, flood: its client counts bad"
stop_pid "$FPID"

fake_start --swap
ok $? "swapping fake server starts"
bots -r 20 -d 1 --part1
is "$RC" 0 "swap, 2009 publish: separate connections may be reordered"
is "$(jnum good)" "$N" "swap, 2009 publish: every client good"
is "$(jnum deliveries_good)" $((N * 20)) "swap, 2009 publish: every delivery good"
bots -r 20 -d 1 --publishers 2
is "$RC" 0 "swap, two persistent publishers: each pair spans both, exit 0"
bots -r 20 -d 1
is "$RC" 1 "swap, one persistent publisher: out of order, exit status 1"
is "$(jnum bad)" "$N" "swap, one publisher: every client got some message out of order"
is "$(jnum deliveries_bad)" $((N * 10)) "swap, one publisher: each overtaken message is a bad delivery"
bots --flood -d 0.5 --window 4
is "$RC" 1 "swap, flood with one publisher: exit status 1"
is "$(jnum bad)" "$N" "swap, flood with one publisher: every client counts bad"
stop_pid "$FPID"

# nothing listens on the port the fake had any more
bots -M 1
is "$RC" 2 "no server: exit status 2"
grep -q "could not connect" "$T_DIR/err"
ok $? "no server: says it could not connect"
bots --flood -d 0.5
is "$RC" 2 "no server, flood: exit status 2"
is "$(jnum messages)/$(jnum deliveries_expected)" "0/0" "no server, flood: reports the 0 messages it published"

"$JANUS_BOTS" -n 0 > /dev/null 2>&1
is $? 2 "usage error: exit status 2"
"$JANUS_BOTS" -M 2 -r 10 > /dev/null 2>&1
is $? 2 "-M with -r: exit status 2"
"$JANUS_BOTS" --floor --persistent > /dev/null 2>&1
is $? 2 "--floor with --persistent: exit status 2"
"$JANUS_BOTS" --flood -M 3 > /dev/null 2>&1
is $? 2 "--flood with -M: exit status 2"
is "$("$JANUS_BOTS" -V)" "janus-bots $("$JANUSD" -V | sed 's/^janusd //')" \
	"-V prints the package's version (AC_INIT), as janusd -V does"
