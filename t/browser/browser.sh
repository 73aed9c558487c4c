# t/browser/browser.sh - for shell tests that open a page in headless
# Chromium (sourced after t/lib.sh).
#
# Owns: finding node, Debian's chromium and playwright-core (in NODE_PATH,
# in JANUSD_NODE_MODULES, or in /opt/janusd-node/node_modules where .ci/run
# installs it), and running t/browser/page.js, whose "# ..." lines are TAP
# comments. Must not download a browser: playwright-core drives
# /usr/bin/chromium (or CHROMIUM).

BROWSER_NODE_PATH="${NODE_PATH:+$NODE_PATH:}${JANUSD_NODE_MODULES:-/opt/janusd-node/node_modules}"

# browser_missing: say what is missing to open a page; status 0 if something is.
browser_missing() {
	if ! command -v node >/dev/null; then
		echo "node is not installed (Debian: nodejs)"
	elif [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
		echo "${CHROMIUM:-/usr/bin/chromium} is not installed (Debian: chromium)"
	elif ! NODE_PATH="$BROWSER_NODE_PATH" node -e 'require.resolve("playwright-core")' 2>/dev/null; then
		echo "playwright-core is not in $BROWSER_NODE_PATH (npm install --prefix /opt/janusd-node playwright-core)"
	else
		return 1
	fi
	return 0
}

# browser_open [--wait MS] URL-OR-FILE SHOT.png: open the page, save a
# screenshot; 0 if it had no console error, exception or failed or
# foreign request (page.js prints each as a TAP comment).
browser_open() {
	NODE_PATH="$BROWSER_NODE_PATH" timeout 150 node "$srcdir/t/browser/page.js" "$@"
}
