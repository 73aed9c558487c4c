#!/bin/sh
# autogen.sh - generate configure and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
# pkg-config brings pkg.m4 (PKG_CHECK_VAR, for the systemd unit directory)
for tool in autoreconf aclocal automake pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "autogen.sh: $tool not found; install it with: apt-get install autoconf automake pkg-config" >&2
		exit 1
	fi
done
exec autoreconf -fi
