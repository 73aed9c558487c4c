#!/bin/sh
# autogen.sh - generate configure and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
for tool in autoreconf aclocal automake; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "autogen.sh: $tool not found; install it with: apt-get install autoconf automake" >&2
		exit 1
	fi
done
exec autoreconf -fi
