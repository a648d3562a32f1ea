#!/bin/sh
# Runs the integration scripts (TAP) with prove; GITSTORE_BIN picks the
# binary (the ASan build sets it). JOBS defaults to 2 (this machine).
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
if prove -j"$JOBS" --timer tests/integration/t*.sh; then
	exit 0
fi
exit 1
