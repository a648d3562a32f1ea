#!/bin/sh
# Runs the integration scripts (TAP) with prove; GITSTORE_BIN picks the
# binary (the ASan build sets it). JOBS defaults to 2 (this machine).
# When a script fails, it is run once more alone and verbosely, so the log
# shows what failed (prove hides the TAP comments); the run still fails.
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if prove -j"$JOBS" --timer tests/integration/t*.sh >"$out" 2>&1; then
	cat "$out"
	exit 0
fi
cat "$out"
for t in $(sed -n 's|^\(tests/integration/t[0-9]*-[^ ]*\.sh\) .*Wstat.*|\1|p' "$out"); do
	echo "=== $t failed; running it again alone with -v ==="
	"$t" -v 2>&1 | tail -200
done
exit 1
