#!/bin/bash
# t/cluster_nats.sh - janusd nodes joined through a real NATS cluster
# (PROTOCOL.md Part 5): three nats-server processes routed together
# (t/nats_lib.sh), then t/cluster_nodes starts three janusd, one on each
# server, and checks delivery, interest, and what happens when a bridge or
# a NATS server is killed (its TAP output is this test's). Skips without
# nats-server (Debian: apt-get install nats-server).
. "${srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "${srcdir:-$(dirname "$0")/..}/t/nats_lib.sh"

NODES=$(dirname "$JANUSD")/t/cluster_nodes

nats_have || skip_all "nats-server not installed (apt-get install nats-server)"
[ -x "$NODES" ] || skip_all "t/cluster_nodes not built"

export JANUSD
nats_cluster_run 240 "$NODES"
