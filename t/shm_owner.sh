#!/bin/bash
# t/shm_owner.sh - nobody but janusd's own user can hold or plant its
# shared segment /dev/shm/janusd.PORT (issue 10, finding 1).
#   As root: a file another user (nobody) left at the name, mode 0666, a
#   0600 one it holds a lock on, a symbolic link and a FIFO are each
#   refused with exit status 2 and a message naming the file, its owner
#   and mode and what to do, and are left as they were; janusd -s will
#   not read another user's 0666 file, and nobody's janusd -s will not
#   read root's segment.
#   As any user: a stale segment of our own is replaced (mode 0600 even
#   under umask 000), one of ours open to others or with a second link is
#   refused, and a live janusd's segment is not taken by a second janusd
#   on the same port.
. "$(dirname "$0")/lib.sh"

plan 29

LOG="$T_DIR/janusd.log"
NOBODY=65534

# bounded CMD...: run with a 10 s limit; 137 means it had to be killed.
bounded() { timeout -s KILL 10 "$@"; }

# "${AS_NOBODY[@]}" CMD...: run CMD as uid and gid 65534, without root's groups.
AS_NOBODY=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --)

# a second name for a file must be on its file system; removed however we exit
LINK=/dev/shm/janusd-test-link.$$
trap 'rc=$?; rm -f "$LINK"; (exit $rc); t_cleanup' EXIT

# fileinfo PATH: owner, mode, links, inode and a checksum of the contents.
fileinfo() {
	local sum=""
	[ -f "$1" ] && [ ! -L "$1" ] && sum=$(md5sum <"$1")
	printf '%s %s\n' "$(stat -c '%u %a %h %i %F' "$1")" "$sum"
}

# refused WHAT TEXT...: janusd on $P exits 2 and its error names the file and each TEXT.
refused() {
	local what=$1 out rc t miss=""
	shift
	out=$(bounded "$JANUSD" -o http_port=0 -l 127.0.0.1 -p "$P" -w 1 2>&1); rc=$?
	for t in "$SEG" "$@"; do
		printf '%s' "$out" | grep -qF -- "$t" || miss="$miss '$t'"
	done
	ok "$([ "$rc" -eq 2 ] && [ -z "$miss" ]; echo $?)" \
	    "$what: exit 2 (got $rc), the error names the file and$(printf " '%s'" "$@")"
	[ -z "$miss" ] || diag "missing:$miss" "$out"
}

# A port that was just ours: start and stop a janusd to have one.
janusd_start -w 1 || exit 1
janusd_stop
P=$JPORT
SEG=/dev/shm/janusd.$P
JPID=""

# ---- another user's file at the name (root only) ----
if [ "$(id -u)" -ne 0 ]; then
	for _ in $(seq 1 16); do skip "not root: cannot create files as another user"; done
elif ! command -v setpriv >/dev/null; then
	for _ in $(seq 1 16); do skip "setpriv (util-linux) is not installed"; done
else
	"${AS_NOBODY[@]}" sh -c "umask 0; printf 'their bytes' > $SEG"
	before=$(fileinfo "$SEG")
	is "$(stat -c '%U %a' "$SEG")" "nobody 666" "nobody has made $SEG with mode 0666"
	refused "nobody's 0666 file" "nobody" "uid $NOBODY" "mode 0666" "rm $SEG"
	is "$(fileinfo "$SEG")" "$before" "nobody's 0666 file: left as it was (owner, mode, inode, contents)"
	ok "$(port_free "$P"; echo $?)" "nobody's 0666 file: janusd does not serve"
	out=$(bounded "$JANUSD" -s -p "$P" 2>"$T_DIR/s.err"); rc=$?
	is "$rc" 2 "-s on nobody's 0666 file exits 2"
	is "$out" "" "-s on nobody's 0666 file prints no counters"
	ok "$(grep -qF "$SEG" "$T_DIR/s.err" && grep -qF "mode 0666" "$T_DIR/s.err"; echo $?)" \
	    "-s says why: $(head -c 160 "$T_DIR/s.err")"
	rm -f "$SEG"

	# nobody makes a 0600 file and holds its lock, as a janusd would
	"${AS_NOBODY[@]}" bash -c "umask 077; exec 9>$SEG && flock -n 9 && exec sleep 30" &
	HOLDER=$!
	track "$HOLDER"
	for _ in $(seq 1 100); do
		[ -e "$SEG" ] && ! (exec 8<"$SEG" && flock -n 8) && break
		sleep 0.05
	done
	before=$(fileinfo "$SEG")
	refused "nobody's locked 0600 file" "nobody" "mode 0600"
	is "$(fileinfo "$SEG")" "$before" "nobody's locked file: left as it was"
	ok "$( ! (exec 8<"$SEG" && flock -n 8); echo $?)" "nobody's locked file: still locked by its holder"
	stop_pid "$HOLDER"
	rm -f "$SEG"

	# a link to a file of root's, which a root janusd would otherwise truncate
	printf 'root data' >"$T_DIR/victim"
	"${AS_NOBODY[@]}" ln -s "$T_DIR/victim" "$SEG"
	refused "nobody's symbolic link" "symbolic link" "nobody"
	is "$(cat "$T_DIR/victim")" "root data" "the link's target is untouched"
	ok "$([ -L "$SEG" ]; echo $?)" "the link is left in place"
	rm -f "$SEG"

	"${AS_NOBODY[@]}" mkfifo -m 0666 "$SEG"
	refused "nobody's FIFO (janusd does not hang opening it)" "not a regular file" "nobody"
	rm -f "$SEG"

	# root's segment is not readable by janusd -s run as another user
	"$JANUSD" -o http_port=0 -l 127.0.0.1 -p "$P" -w 1 2>>"$LOG" &
	JPID=$!
	track "$JPID"
	wait_port "$P" 10
	out=$(bounded "${AS_NOBODY[@]}" "$JANUSD" -s -p "$P" 2>"$T_DIR/s.err"); rc=$?
	ok "$([ "$rc" -eq 2 ] && [ -z "$out" ]; echo $?)" "nobody's janusd -s on root's segment: exit 2 (got $rc), no counters"
	ok "$(grep -qF "belongs to another user" "$T_DIR/s.err"; echo $?)" \
	    "... saying whose it is: $(head -c 160 "$T_DIR/s.err")"
	janusd_stop
fi

# ---- our own files at the name ----
(umask 077; head -c 65536 /dev/urandom >"$SEG")
old_ino=$(stat -c %i "$SEG")
: >"$LOG"
(umask 0; exec "$JANUSD" -o http_port=0 -l 127.0.0.1 -p "$P" -w 1 2>>"$LOG") &
JPID=$!
track "$JPID"
wait_port "$P" 10
ok $? "a stale segment of ours (0600, junk, wrong size): janusd starts"
out=$(bounded "$JANUSD" -s -p "$P")
ok "$(printf '%s' "$out" | grep -q "\"port\":$P,\"uid\":$(id -u),\"master_pid\":$JPID,"; echo $?)" \
    "-s reads the new segment and names its owner (${out:0:60})"
ok "$(grep -qF "replacing stale shared memory $SEG" "$LOG"; echo $?)" "the log says the stale segment was replaced"
is "$(stat -c '%u %a %h' "$SEG")" "$(id -u) 600 1" "the new segment: ours, mode 0600 under umask 000, one link"
ok "$([ "$(stat -c %i "$SEG")" != "$old_ino" ]; echo $?)" "the new segment is a new file, not the stale one reused"

# a second janusd on the same port, another address: the lock holds
out=$(bounded "$JANUSD" -o http_port=0 -l 127.0.0.2 -p "$P" -w 1 2>&1); rc=$?
is "$rc" 2 "a second janusd on 127.0.0.2:$P exits 2"
ok "$(printf '%s' "$out" | grep -qF "in use by janusd pid $JPID"; echo $?)" "... naming the live janusd ($(printf '%s' "$out" | head -c 160))"
ok "$(wait_port "$P" 2 && bounded "$JANUSD" -s -p "$P" | grep -q "\"master_pid\":$JPID,"; echo $?)" \
    "the first janusd still serves from its segment"
janusd_stop
wait "$JPID" 2>/dev/null
ok "$([ ! -e "$SEG" ]; echo $?)" "stopped: the segment is removed"

(umask 022; printf 'ours, but readable' >"$SEG")
before=$(fileinfo "$SEG")
refused "our file with mode 0644" "open to other users" "mode 0644"
is "$(fileinfo "$SEG")" "$before" "our 0644 file: left as it was"
rm -f "$SEG"

(umask 077; printf 'ours' >"$SEG")
ln "$SEG" "$LINK"
refused "our 0600 file with a second link" "hard link"
rm -f "$SEG" "$LINK"
is "$(ls /dev/shm | grep -c "^janusd.$P\$")" 0 "nothing left at the name"
