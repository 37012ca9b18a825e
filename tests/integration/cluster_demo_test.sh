#!/bin/bash
# The README's main job as a test: scripts/demo.sh (three cluster nodes, a live migration by
# `pcs resource move`, a drain by `pcs node standby`, a node killed, fenced and its VMs
# restarted on the survivors, no VM ever on two nodes) on the build under test, without its own
# build. The demo checks as it goes and exits 1 if any check failed. Runs as root, ~3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
DEMO_NO_BUILD=1 DR_BUILD_DIR=$DR_BUILD_DIR exec "$DR_SOURCE_DIR/scripts/demo.sh"
