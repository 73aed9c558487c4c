#!/bin/bash
# t/ws_python.sh - WebSocket conformance checked by code we did not write:
# Debian's python3-websockets drives janusd (t/ws_client.py): handshake,
# subprotocol, subscribe, a message published over TCP received with the
# exact bytes, publish over WebSocket with ack, the library's Ping, the
# server's heartbeat Pings answered by the library, the normal close, and
# close codes for what the library sends but janusd refuses.
# /usr/bin/python3 on purpose: a python3 earlier in PATH may lack the module.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY is missing (apt-get install python3)"
"$PY" -c 'import websockets' 2>/dev/null ||
	skip_all "$PY cannot import websockets (apt-get install python3-websockets)"
plan 16
HTTP=1 janusd_start -w 2 -o heartbeat=500ms || exit 1
timeout 60 "$PY" "$(dirname "$0")/ws_client.py" "$HPORT" "$JPORT" >"$T_DIR/client.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"# "*) echo "$line" ;;
	[01]" "*) ok "${line%% *}" "${line#* }" ;;
	*) diag "$line" ;;
	esac
done <"$T_DIR/client.out"
janusd_stop
is "$(grep -c ': \(warn\|error\): ' "$T_DIR/janusd.log")" 0 "no warning or error in janusd's log (client exit $rc)"
