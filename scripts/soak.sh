#!/bin/sh
# scripts/soak.sh -- `make soak`: gitstore under sustained load, then under
# random crashes (see docs/reliability.md).
#
#  1. load phase, scripts/soak/load.py: one daemon (a private copy of the
#     binary, a fresh data directory) for SOAK_SECONDS with 20 pushers (5 of
#     them on the draft branch, fetch + rebase on refusal), 10 SSE
#     followers (reconnecting with Last-Event-ID), 4 API writers (PUT/DELETE
#     with If-Match on a shared pool of products) and a release tag every
#     5 s; daemon RSS, threads, fds and CPU sampled every second. Fails on
#     any error (5xx other than the documented 503 + Retry-After
#     back-pressure, connection error, unexpected status, failed push), a
#     follower that lost or repeated an event, a log that is not contiguous,
#     breaks a ref's history or does not hold one push-completed per
#     reported commit, a release withdrawn or created twice, a published
#     view that is not the last release, an RSS more than twice its
#     post-warm-up size (+10 MiB), or a non-zero exit on SIGTERM.
#  2. crash phase, scripts/soak/crash.py --bin BIN --duration
#     SOAK_CRASH_SECONDS: the daemon killed at random points under load and
#     restarted; exit 0 when the invariants hold.
#
# Both phases run even if the first fails; the exit status is non-zero if
# either failed.
#
# Environment: SOAK_SECONDS (load phase, default 300), SOAK_CRASH_SECONDS
# (crash phase, default 300), SOAK_SEED (passed to both when set),
# GITSTORE_BIN (build/gitstore; gitstore-hook must be next to it),
# SOAK_KEEP=1 keeps the temp directory (daemon logs, data, report.json).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BIN=${GITSTORE_BIN:-$ROOT/build/gitstore}
PY=/usr/bin/python3
LOAD_SECONDS=${SOAK_SECONDS:-300}
CRASH_SECONDS=${SOAK_CRASH_SECONDS:-300}

SAY_PREFIX=soak
BENCH_KEEP=${SOAK_KEEP-}
. "$ROOT/scripts/bench/common.sh"

case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
test -x "$BIN" || fail "$BIN is not executable (run make)"
test -x "$(dirname "$BIN")/gitstore-hook" || fail "$(dirname "$BIN")/gitstore-hook is missing (run make)"
test -x "$PY" || fail "$PY not found"
command -v git >/dev/null || fail "git not found"
bench_tmp soak

# run_phase NAME CMD...: CMD in its own session (the EXIT trap kills its
# process group, daemons included), waited for; sets $phase_rc.
run_phase () {
	rp_name=$1
	shift
	setsid "$@" </dev/null &
	rp_pid=$!
	PIDS="$PIDS $rp_pid"
	wait "$rp_pid"
	phase_rc=$?
	# shellcheck disable=SC2086 # one pid a word
	PIDS=$(printf '%s\n' $PIDS | grep -vx "$rp_pid" | tr '\n' ' ')
	say "$rp_name phase: exit $phase_rc"
}

set --
test -n "${SOAK_SEED-}" && set -- --seed "$SOAK_SEED"

T0=$(date +%s)
say "load phase: $LOAD_SECONDS s ($BIN; load average $(cut -d" " -f1-3 /proc/loadavg))"
run_phase load "$PY" "$ROOT/scripts/soak/load.py" --bin "$BIN" --duration "$LOAD_SECONDS" \
	--workdir "$TMP/load" "$@"
LOAD_RC=$phase_rc

CRASH_RC=1
if test -f "$ROOT/scripts/soak/crash.py"; then
	say "crash phase: $CRASH_SECONDS s (load average $(cut -d" " -f1-3 /proc/loadavg))"
	run_phase crash "$PY" "$ROOT/scripts/soak/crash.py" --bin "$BIN" --duration "$CRASH_SECONDS" "$@"
	CRASH_RC=$phase_rc
else
	say "error: crash phase: scripts/soak/crash.py is missing (not merged into this tree yet)"
fi

say "load phase $(test "$LOAD_RC" = 0 && echo passed || echo "FAILED (exit $LOAD_RC)"), crash phase $(test "$CRASH_RC" = 0 && echo passed || echo "FAILED (exit $CRASH_RC)"); $(($(date +%s) - T0)) s"
test "$LOAD_RC" = 0 && test "$CRASH_RC" = 0
