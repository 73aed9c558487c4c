#!/bin/bash
# t/nats_wire.sh - proto/nats.c and proto/subject.c against a real NATS
# cluster: three nats-server processes joined by routes (t/nats_lib.sh),
# then t/nats_client speaks to them (its TAP output is this test's). Skips
# without nats-server (Debian: apt-get install nats-server).
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "${srcdir:-$(dirname "$0")/..}/t/nats_lib.sh"

CLIENT=$(dirname "$JANUSD")/t/nats_client

nats_have || skip_all "nats-server not installed (apt-get install nats-server)"
[ -x "$CLIENT" ] || skip_all "t/nats_client not built"

nats_cluster_run 120 "$CLIENT"
