#!/bin/bash
# t/bots_svg.sh - janus-bots --svg: the picture of a floor run, of a run
# against janusd, and of both drawn from their JSON reports (--from) is
# well-formed XML with one curve per report whose points are the reports'
# figures (t/svg_check.py); bad reports and options are refused.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"

N=40
M=3

[ -x "$JANUS_BOTS" ] || skip_all "janus-bots not built"
command -v python3 >/dev/null || skip_all "python3 is not installed (it parses the SVG)"

plan 41

# svg_checks WHAT SVG REPORT...: t/svg_check.py's nine checks as TAP lines.
svg_checks() {
	local what=$1 verdict rest
	shift
	python3 "$srcdir/t/svg_check.py" "$@" > "$T_DIR/checks" 2>&1
	while read -r verdict rest; do
		[ "$verdict" = PASS ]
		ok $? "$what: ${rest}"
	done < "$T_DIR/checks"
}

# bots ARGS...: janus-bots with ARGS; status in RC, stderr in $T_DIR/err.
bots() {
	timeout 120 "$JANUS_BOTS" "$@" > "$T_DIR/out" 2> "$T_DIR/err"
	RC=$?
}

bots --floor -n "$N" -M "$M" --per-child 20 --timeout 60 --wait 5 --json -q \
	--svg "$T_DIR/floor.svg"
cp "$T_DIR/out" "$T_DIR/floor.out"
is "$RC" 0 "a floor run with --svg: exit status 0"
svg_checks "floor run" "$T_DIR/floor.svg" "$T_DIR/floor.out"

janusd_start -w 2
ok $? "janusd starts"
bots -H 127.0.0.1 -p "${JPORT:-1}" -n "$N" -M "$M" --per-child 20 --timeout 60 \
	--wait 5 --json -q --svg "$T_DIR/janusd.svg" --label janusd
cp "$T_DIR/out" "$T_DIR/janusd.out"
is "$RC" 0 "a run against janusd with --svg: exit status 0"
svg_checks "janusd run" "$T_DIR/janusd.svg" "janusd=$T_DIR/janusd.out"
janusd_stop

bots --svg "$T_DIR/both.svg" --title 'janusd & the floor <small>' \
	--from "janusd=$T_DIR/janusd.out" --from "$T_DIR/floor.out"
is "$RC" 0 "--from two reports: exit status 0"
svg_checks "two reports" "$T_DIR/both.svg" "janusd=$T_DIR/janusd.out" "$T_DIR/floor.out"
grep -q '<title>janusd &amp; the floor &lt;small&gt;</title>' "$T_DIR/both.svg"
ok $? "two reports: the title is escaped for XML"

echo "setup: 1.0 ms, good: 1, bad: 0, run: 1.0 ms" > "$T_DIR/text"
bots --svg "$T_DIR/x.svg" --from "$T_DIR/text"
is "$RC" 2 "--from a file without a JSON line: exit status 2"
grep -q "no JSON report line" "$T_DIR/err"
ok $? "--from a file without a JSON line: says so"

head -c 200 "$T_DIR/floor.out" > "$T_DIR/cut"
bots --svg "$T_DIR/x.svg" --from "$T_DIR/cut"
is "$RC" 2 "--from a cut JSON line: exit status 2"
grep -q "malformed JSON" "$T_DIR/err"
ok $? "--from a cut JSON line: says it is malformed"

sed 's/"median":[0-9.]*,//g' "$T_DIR/floor.out" > "$T_DIR/nomedian"
bots --svg "$T_DIR/x.svg" --from "$T_DIR/nomedian"
is "$RC" 2 "--from a report without a median: exit status 2"

bots --svg "$T_DIR/x.svg" --from "$T_DIR/floor.out" -n 10
is "$RC" 2 "--from with a run option: usage error"
bots --from "$T_DIR/floor.out"
is "$RC" 2 "--from without --svg: usage error"

bots --floor -n 5 -M 1 --timeout 30 -q --svg "$T_DIR/no/such/dir/x.svg"
is "$RC" 2 "--svg into a directory that does not exist: exit status 2"
grep -q "cannot write" "$T_DIR/err"
ok $? "--svg into a directory that does not exist: says so"
