#!/bin/bash
# t/init_systemd.sh - the shipped systemd units pass `systemd-analyze verify`,
# with their Documentation= manuals found (MANPATH points at ours).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed"
builddir=$(dirname "$JANUSD")
plan 4
mkdir -p "$T_DIR/man/man8" "$T_DIR/man/man5"
cp "$srcdir/man/janusd.8" "$T_DIR/man/man8/"
cp "$srcdir/man/janusd.conf.5" "$T_DIR/man/man5/"
for unit in janusd janusd-simple; do
	f="$builddir/contrib/$unit.service"
	[ -f "$f" ] || make -C "$builddir" "contrib/$unit.service" >/dev/null 2>&1
	# verify needs the unit's binary to exist: point it at this build's janusd
	sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/janusd|\1$JANUSD|" "$f" > "$T_DIR/$unit.service"
	out=$(MANPATH="$T_DIR/man" systemd-analyze verify "$T_DIR/$unit.service" 2>&1)
	ok $? "$unit.service passes systemd-analyze verify"
	[ -z "$out" ] || diag "$out"
	grep -q '^Documentation=man:janusd(8)' "$f"
	ok $? "$unit.service points at man:janusd(8)"
done
