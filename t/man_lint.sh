#!/bin/bash
# t/man_lint.sh - the manuals render without a warning: groff -ww, and
# mandoc -Tlint at warning level when mandoc is installed.
. "$(dirname "$0")/lib.sh"

pages="man/janusd.8 man/janusd.conf.5 man/janus-bots.1"
plan 6
for page in $pages; do
	if ! command -v groff >/dev/null; then
		skip "groff is not installed"
		continue
	fi
	out=$(groff -mandoc -ww -z "$srcdir/$page" 2>&1)
	[ -z "$out" ]
	ok $? "groff renders $page cleanly"
	[ -z "$out" ] || diag "$out"
done
for page in $pages; do
	if ! command -v mandoc >/dev/null; then
		skip "mandoc is not installed"
		continue
	fi
	out=$(mandoc -Tlint -Wwarning "$srcdir/$page" 2>&1)
	[ -z "$out" ]
	ok $? "mandoc -Tlint finds nothing to warn about in $page"
	[ -z "$out" ] || diag "$out"
done
