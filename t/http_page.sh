#!/bin/bash
# t/http_page.sh - the live page and a browser's WebSocket (PROTOCOL.md
# Part 3) in headless Chromium: t/http_page.js's checks against
# janusd -w 2 -o http_port=PORT, then janusd's own end: TERM exits 0 and
# the log has no warning or error. The screenshot stays in the build tree
# (t/http_page/page.png). Skips, saying why, when the browser tools are
# missing.
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$srcdir/t/browser/browser.sh"

# t/http_page.js prints one line per entry of its CHECKS
JS_CHECKS=11

[ -x "$JANUSD" ] || skip_all "janusd not built"
if why=$(browser_missing); then
	skip_all "$why"
fi
HTTP=1 janusd_start -w 2 || exit 1
plan $((JS_CHECKS + 2))
OUT="$(cd "$(dirname "$JANUSD")" && pwd)/t/http_page"
mkdir -p "$OUT"
rm -f "$OUT/page.png"
NODE_PATH="$BROWSER_NODE_PATH" timeout 170 node "$srcdir/t/http_page.js" "$HPORT" "$JPORT" "$JPID" \
	"$OUT/page.png" > "$T_DIR/js.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) printf '# %s\n' "${line#\# }" ;;
	esac
done < "$T_DIR/js.out"

# t/http_page.js ended with a TERM to janusd (again here, if it stopped
# before); wait for it without a watchdog subshell, which a signal could
# reach before it dropped lib.sh's traps
kill -TERM "$JPID" 2>/dev/null
for _ in $(seq 1 150); do
	case $(ps -o stat= -p "$JPID" 2>/dev/null) in Z* | "") break ;; esac
	sleep 0.1
done
kill -KILL "$JPID" 2>/dev/null
wait "$JPID"; rc=$?
is "$rc" 0 "janusd, stopped by TERM from the test, exits 0"
alerts=$(grep -c -e ': error: ' -e ': warn: ' "$T_DIR/janusd.log")
[ "$alerts" -eq 0 ] || diag "$(grep -e ': error: ' -e ': warn: ' "$T_DIR/janusd.log")"
is "$alerts" 0 "no warning or error in janusd's log"
