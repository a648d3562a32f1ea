#!/bin/bash
test_description='randomised crash test: concurrent pushes, API writes, releases
and a durable consumer while the daemon is SIGKILLed (and stopped at the test
crash points) at random moments; then the log, the refs, the catalog, the
published view and the consumer must satisfy the invariants of
scripts/soak/invariants.py (which must itself be able to fail)'
. "$(dirname "$0")/lib/test-lib.sh"

# GITSTORE_CRASH_SEED replays a failure (crash.py prints the seed);
# GITSTORE_CRASH_DURATION / _KILLS make the run longer.
SEED=${GITSTORE_CRASH_SEED:-8000}
DURATION=${GITSTORE_CRASH_DURATION:-25}
KILLS=${GITSTORE_CRASH_KILLS:-5}
SOAK=$ROOT/scripts/soak

test_expect_success 'the invariant checker reports every kind of violation' '
	/usr/bin/python3 "$SOAK/test_invariants.py" 2>&1
'

# The work directory is kept inside the trash so that test-lib dumps its
# event log for the schema check (GITSTORE_EVENT_DUMP).
test_expect_success "crash.py --seed $SEED: $DURATION s of load, at least $KILLS kills, all invariants hold" '
	/usr/bin/python3 "$SOAK/crash.py" --bin "$GITSTORE_BIN" --seed "$SEED" \
		--duration "$DURATION" --kills "$KILLS" --interval 0.5,4 --orphans 0.2 --workdir "$TRASH/crash" --keep >crash.out 2>crash.err
	status=$? &&
	cat crash.out &&
	if test "$status" != 0
	then
		tail -n 40 crash.err
		tail -n 40 "$TRASH/crash/gitstore.log"
		return 1
	fi &&
	kills=$(sed -n "s/.* \([0-9][0-9]*\) kills .*/\1/p" crash.out) &&
	test "$kills" -ge "$KILLS"
'

test_expect_success 'a restarted daemon on the same data passes the checker run standalone' '
	GITSTORE_DATA=$TRASH/crash/data &&
	start_gitstore &&
	/usr/bin/python3 "$SOAK/invariants.py" --server "$GITSTORE_URL" --data "$GITSTORE_DATA" \
		--bin "$GITSTORE_BIN" --drain-consumer crash-audit
'

test_done
