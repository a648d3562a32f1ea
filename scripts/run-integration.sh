#!/bin/sh
# Runs the integration scripts (TAP) with prove; GITSTORE_BIN picks the
# binary (the ASan build sets it). JOBS defaults to 2 (this machine).
# Each script's own output (TAP and the failure details prove hides) is
# kept in <build dir>/test-output/<test>.out; when a script fails, that
# first run's output is shown, then the script is run once more alone and
# verbosely; the run still fails.
#
# The event contract is checked on the way: the validator's self-test runs
# first, every script dumps the event logs it produced into
# <build dir>/event-dump (GITSTORE_EVENT_DUMP, see test-lib.sh), and after
# prove every dumped event must validate against the CloudEvents schema and
# docs/schemas (tests/schemas/validate_events.py).
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
PY=/usr/bin/python3
bin=${GITSTORE_BIN:-$PWD/build/gitstore}
ce=${GITSTORE_SHARED:-../shared}/conformance/cloudevents-1.0.schema.json

if ! $PY tests/schemas/test_validate_events.py --cloudevents "$ce"; then
	echo "=== the event validator's self-test failed (tests/schemas) ==="
	exit 1
fi

# next to the binary, so the normal and the ASan run keep their own
GITSTORE_EVENT_DUMP=$(cd "$(dirname "$bin")" && pwd)/event-dump
rm -rf "$GITSTORE_EVENT_DUMP"
mkdir -p "$GITSTORE_EVENT_DUMP" || exit 1
export GITSTORE_EVENT_DUMP

GITSTORE_TEST_OUTPUT=$(cd "$(dirname "$bin")" && pwd)/test-output
rm -rf "$GITSTORE_TEST_OUTPUT"
mkdir -p "$GITSTORE_TEST_OUTPUT" || exit 1
export GITSTORE_TEST_OUTPUT

out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
prove -j"$JOBS" --timer --exec "bash scripts/run-one-test.sh" tests/integration/t*.sh >"$out" 2>&1 || failed=1
cat "$out"

echo "=== event contract: every event the suite emitted ($GITSTORE_EVENT_DUMP) ==="
$PY tests/schemas/validate_events.py --schemas docs/schemas --cloudevents "$ce" \
	--asyncapi docs/asyncapi.yaml "$GITSTORE_EVENT_DUMP" || failed=1

test "$failed" = 0 && exit 0
unset GITSTORE_EVENT_DUMP GITSTORE_TEST_OUTPUT
for t in $(sed -n 's|^\(tests/integration/t[0-9]*-[^ ]*\.sh\) .*Wstat.*|\1|p' "$out"); do
	first=$(cd "$(dirname "$bin")" && pwd)/test-output/$(basename "$t" .sh).out
	if test -f "$first"; then
		echo "=== $t failed; its output in this run (last 150 lines of $first) ==="
		tail -n 150 "$first"
	fi
	echo "=== $t failed; running it again alone with -v ==="
	"$t" -v 2>&1 | tail -200
done
exit 1
