#!/bin/bash
# t/reload_limits.sh - a reload is checked against the settings it keeps:
# a new max_frame that the running ring (ring_size needs a restart) cannot
# hold four times over is refused, and the old limits stay in force.
. "$(dirname "$0")/lib.sh"

plan 4
conf="$T_DIR/janusd.conf"
printf 'ring_size 1M\nmax_frame 64k\n' > "$conf"
janusd_start -w 1 -c "$conf" || exit 1
printf 'ring_size 64M\nmax_frame 1M\n' > "$conf"
kill -HUP "$JPID"
for i in $(seq 1 100); do grep -q "reload failed" "$T_DIR/janusd.log" && break; sleep 0.05; done
grep -q "reload failed, keeping the current settings: ring_size: must hold at least 4 frames of max_frame" "$T_DIR/janusd.log"
ok $? "the reload is refused: the kept 1M ring cannot hold 1M frames"
grep -q "'ring_size' changed, but only a restart applies it" "$T_DIR/janusd.log"
ok $? "the ring_size change is reported as needing a restart"

# a 100 KiB frame: over the old max_frame, under the refused one
exec 3<>"/dev/tcp/127.0.0.1/$JPORT"
IFS= read -r -d $'\1' -t 5 greeting <&3
# (in a subshell: the server closes after too_large, and writing on gets SIGPIPE)
( printf '{"action":"publish","topic":"t","data":"'; head -c 102400 /dev/zero | tr '\0' x; printf '"}\0' ) >&3 2>/dev/null
IFS= read -r -d $'\1' -t 5 reply <&3
exec 3>&-
case $reply in '{"error":"too_large",'*) r=0 ;; *) r=1 ;; esac
ok $r "the old max_frame still applies: a 100 KiB frame is too_large"
kill -0 "$JPID" 2>/dev/null
ok $? "janusd keeps running"
