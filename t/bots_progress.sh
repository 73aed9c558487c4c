#!/bin/bash
# t/bots_progress.sh - janus-bots' progress line on standard error: off a
# terminal a line every 5 s, on one (script(1) gives it a pty) a line that
# rewrites itself and is erased at the end; --quiet and -q turn it off; the
# report on standard output is the same either way.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=30

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"

plan 11

LINE="^janus-bots: progress: $N/$N connected, $N subscribed, [0-9]+ delivered, [0-9]+\.[0-9] s$"

# keys FILE: the JSON line's keys in order, without their values.
keys() { tail -n 1 "$1" | grep -o '"[a-z_.0-9]*":' | tr -d '\n'; }

# a --hold longer than 5 s makes one line due off a terminal
timeout 60 "$JANUS_BOTS" --floor -n "$N" -M 1 --hold 5.5 --timeout 30 --json \
	> "$T_DIR/on.out" 2> "$T_DIR/on.err"
is $? 0 "off a terminal: exit status 0"
grep -Eq "$LINE" "$T_DIR/on.err"
ok $? "off a terminal: a progress line after 5 s"
[ -z "$(grep -Ev "$LINE" "$T_DIR/on.err")" ]
ok $? "off a terminal: nothing but progress lines on standard error"
! grep -q progress "$T_DIR/on.out"
ok $? "off a terminal: none on standard output"

timeout 60 "$JANUS_BOTS" --floor -n "$N" -M 1 --hold 5.5 --timeout 30 --json --quiet \
	> "$T_DIR/quiet.out" 2> "$T_DIR/quiet.err"
[ ! -s "$T_DIR/quiet.err" ]
ok $? "--quiet: no progress line"
is "$(grep -vc "^holding:" "$T_DIR/quiet.out")" 1 "--quiet --json: only the JSON line (after --hold's)"
is "$(keys "$T_DIR/quiet.out")" "$(keys "$T_DIR/on.out")" "the JSON line is the same with and without progress"

if ! command -v script >/dev/null; then
	skip "script(1) is not installed (util-linux): no terminal to test on"
	skip "script(1) is not installed"
	skip "script(1) is not installed"
	skip "script(1) is not installed"
	exit 0
fi
# on a terminal: stderr is the pty, the report goes to a file
script -qec "timeout 60 '$JANUS_BOTS' --floor -n $N -M 1 --hold 1.5 --timeout 30 > '$T_DIR/tty.out'" \
	"$T_DIR/tty.ts" > /dev/null 2>&1
grep -q "^setup: .*good: $N, bad: 0" "$T_DIR/tty.out"
ok $? "on a terminal: the report is whole"
tr '\r' '\n' < "$T_DIR/tty.ts" | grep -Eq "^janus-bots: $N/$N connected, $N subscribed, [0-9]+ delivered, [0-9.]+ s"$'\033\\[K$'
ok $? "on a terminal: a line that starts with a carriage return and clears the rest"
tr '\r' '\n' < "$T_DIR/tty.ts" | grep -qx $'\033\\[K'
ok $? "on a terminal: the line is erased at the end"
script -qec "timeout 60 '$JANUS_BOTS' --floor -n $N -M 1 --hold 1.5 --timeout 30 -q > /dev/null" \
	"$T_DIR/q.ts" > /dev/null 2>&1
! grep -q connected "$T_DIR/q.ts"
ok $? "-q on a terminal: no progress line"
