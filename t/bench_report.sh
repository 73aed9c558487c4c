#!/bin/bash
# t/bench_report.sh - bots/bench.sh writes its report page: a small fan-out
# bench (two client counts) gives report.html with the table of ratios and
# one picture per row, each with janusd's and the floor's curve (and where
# the kernel offers io_uring, a second row per count against the io_uring
# floor, with janusd's and that floor's curve); the page
# opens in headless Chromium without a console error, and its screenshot
# is kept in the build tree (t/bench_report/report.png).
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$srcdir/t/browser/browser.sh"

[ -x "$JANUS_BOTS" ] && [ -x "$JANUSD" ] || skip_all "janusd or janus-bots not built"

plan 10

OUT="$(cd "$(dirname "$JANUS_BOTS")" && pwd)/t/bench_report"
rm -rf "$OUT"
timeout 300 bash "$srcdir/bots/bench.sh" -n "30 60" -M 2 -R fanout -t 60 -o "$OUT" \
	> "$T_DIR/bench.out" 2>&1
RC=$?
[ "$RC" -eq 0 ] || diag "bench.sh exited $RC:" "$(tail -n 20 "$T_DIR/bench.out")"
is "$RC" 0 "a small bench: exit status 0"
[ -s "$OUT/report.html" ]
ok $? "it writes report.html"
# the io_uring floor's rows are there if the bench found io_uring
if grep -q '^io_uring: the kernel offers it' "$T_DIR/bench.out"; then
	ROWS=4 PICS="fanout-30 fanout-60 fanout-uring-30 fanout-uring-60"
else
	ROWS=2 PICS="fanout-30 fanout-60"
fi
is "$(grep -c '^<tr><td><a href="#fanout-' "$OUT/report.html")" "$ROWS" "the table has a row per client count and floor"
is "$(grep -c '^<svg ' "$OUT/report.html")" "$ROWS" "the page holds one picture per row"
missing=""
for p in $PICS; do
	[ -s "$OUT/$p.svg" ] || missing="$missing $p.svg"
done
[ -z "$missing" ]
ok $? "each picture is saved beside it${missing:+ (missing:$missing)}"
! grep -qi -e '<script' -e 'src=' -e 'href="http' "$OUT/report.html"
ok $? "the page loads nothing and runs no script"
if command -v python3 >/dev/null; then
	python3 - "$OUT" $PICS <<-'PY'
	import sys, xml.etree.ElementTree as ET
	ns = '{http://www.w3.org/2000/svg}'
	for p in sys.argv[2:]:
	    f = sys.argv[1] + '/' + p + '.svg'
	    labels = [g.get('data-label') for g in ET.parse(f).getroot().iter(ns + 'g')
	              if g.get('class') == 'series']
	    want = ['janusd -w 2', 'io_uring floor' if 'uring' in p else 'floor']
	    assert labels == want, (f, labels)
	PY
	ok $? "each picture has janusd's curve and its floor's"
else
	skip "python3 is not installed (it parses the SVG)"
fi

if why=$(browser_missing); then
	skip "$why"
	skip "$why"
	skip "$why"
	exit 0
fi
browser_open "$OUT/report.html" "$OUT/report.png" > "$T_DIR/browser" 2>&1
RC=$?
cat "$T_DIR/browser"
is "$RC" 0 "the page opens in headless Chromium without an error"
grep -q '^# title: janusd make bench' "$T_DIR/browser"
ok $? "the browser shows the page's title"
[ "$(head -c 8 "$OUT/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "a PNG screenshot is saved: t/bench_report/report.png"
