#!/bin/sh
# scripts/bench/relay.sh -- NATS JetStream relay throughput (docs/benchmarks.md,
# "NATS JetStream relay"):
#
#  R1. events/s the relay publishes to a local nats-server -js (file
#      storage), acknowledged, from a log of ~N events (default 20,000: one
#      push of (N-3)/2 products, each parsed and admitted, plus the push's
#      own events) written while the relay was off: the span between the stream's first and
#      last stored message (JetStream's timestamps, so daemon start-up is
#      not counted; the wall time from daemon start to lag 0 is shown too);
#      baseline: the same events read through GET /api/v1/events (pages
#      of 1000 on one keep-alive connection, median of 3).
#
# Sourced by scripts/bench.sh after its other tables (it reuses that
# script's $TMP, $BIN copy, start_bg/cleanup and $T0), or run alone after
# `make`: sh scripts/bench/relay.sh. Its own daemon, data directory and
# nats-server either way. Takes ~15 s.
#
# Environment: BENCH_RELAY (1; 0 skips this part when sourced),
# BENCH_RELAY_EVENTS (20000), GITSTORE_BIN, BENCH_KEEP=1 keeps the temp
# directory.

rl_main () {
	rl_events=${BENCH_RELAY_EVENTS:-20000}
	rl_t0=$(date +%s)
	rl_helper=$ROOT/scripts/bench/relay.py
	rl_tool=$ROOT/tests/integration/lib/nats_tool.py
	rl_res=$TMP/relay.results
	rl_data=$TMP/relay-data
	: >"$rl_res"
	command -v nats-server >/dev/null || fail "nats-server not found (scripts/install-deps.sh installs it)"

	"$BIN" namespace create relay --data "$rl_data" >/dev/null || fail "namespace create relay failed"
	"$BIN" repo create relay/catalog --data "$rl_data" >/dev/null || fail "repo create relay/catalog failed"
	rl_token=$("$BIN" token create --user rladmin --role admin:relay --data "$rl_data") || fail "token create failed"

	# 1. the log, written with the relay off
	bench_start_daemon "gitstore (relay)" "$TMP/gitstore-relay.log" --data "$rl_data"
	rl_pid=$bd_pid
	rl_port=$bd_port
	rl_products=$(((rl_events - 3) / 2))
	say "relay R1: filling the log with $((3 + 2 * rl_products)) events (one push of $rl_products products)"
	"$PY" "$rl_helper" fill --work "$TMP/work-relay" --products "$rl_products" --server "http://127.0.0.1:$rl_port" \
		--url "http://x:$rl_token@127.0.0.1:$rl_port/relay/catalog.git" >>"$rl_res" || fail "relay fill failed"
	say "relay R1: baseline, the log read through GET /api/v1/events"
	"$PY" "$rl_helper" read --server "http://127.0.0.1:$rl_port" --token "$rl_token" --runs 3 >>"$rl_res" ||
		fail "relay read failed"
	kill -TERM "$rl_pid" && wait "$rl_pid"

	# 2. nats-server, then the daemon again with --nats: it publishes the log
	rl_nport=$("$PY" "$rl_tool" free-port) || fail "no free port"
	start_bg nats-server "$TMP/nats-relay.log" nats-server -js -a 127.0.0.1 -p "$rl_nport" -sd "$TMP/nats-store"
	rl_npid=$bg_pid
	"$PY" "$rl_tool" wait --port "$rl_nport" --timeout 20 || fail "nats-server did not start"
	say "relay R1: gitstore --nats nats://127.0.0.1:$rl_nport publishing the log"
	rl_ncpu0=$("$PY" "$rl_helper" cpu --pid "$rl_npid")
	rl_since=$(date +%s.%N)
	bench_start_daemon "gitstore (relay)" "$TMP/gitstore-relay.log" --data "$rl_data" --nats "nats://127.0.0.1:$rl_nport"
	rl_pid=$bd_pid
	rl_port=$bd_port
	"$PY" "$rl_helper" drain --server "http://127.0.0.1:$rl_port" --nats-port "$rl_nport" --since "$rl_since" \
		--gitstore-pid "$rl_pid" --nats-pid "$rl_npid" --nats-cpu0 "$rl_ncpu0" >>"$rl_res" || {
		tail -n 20 "$TMP/gitstore-relay.log" >&2
		fail "relay drain failed"
	}
	kill -0 "$rl_pid" 2>/dev/null || fail "gitstore (relay) exited during the benchmark"
	rl_t1=$(date +%s)
	rl_get () { sed -n "s/^$1=//p" "$rl_res" | tail -n 1; }

	{
		echo "# gitstore relay benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(nats-server --version 2>&1), load average $(cut -d" " -f1-3 /proc/loadavg))"
		printf '%s\t%s\t%s\t%s\n' figure value baseline ratio/target
		awk -v a="$(rl_get relay.per_s)" -v b="$(rl_get relay.read_per_s)" -v n="$(rl_get relay.events)" \
		    -v h="$(rl_get relay.log_head)" -v w="$(rl_get relay.wall_s)" -v wr="$(rl_get relay.wall_per_s)" \
		    -v s="$(rl_get relay.span_s)" -v r="$(rl_get relay.read_s)" 'BEGIN {
			printf "relay: events/s published + acknowledged (%d events)\t%.0f /s\t%.0f /s (same log read via GET /api/v1/events, %.2f s)\t%.2fx of baseline (info)\n", n, a, b, r, a / b
			printf "  first -> last message stored; daemon start -> lag 0\t%.2f s\t%.2f s = %.0f /s incl. start-up; log head %d\t- (info)\n", s, w, wr, h
		}'
	} >"$TMP/relay-table.tsv"
	bench_emit_table "$TMP/relay-table.tsv"
	echo
	echo "relay: log of $(rl_get relay.log_head) events filled by one push of $(rl_get relay.products) products in $(rl_get relay.fill_s) s (push + catalog ingest); stream $(rl_get relay.stream_bytes) bytes; duplicates $(rl_get relay.duplicates), errors $(rl_get relay.errors); CPU from daemon start to lag 0: gitstore $(rl_get relay.gitstore_cpu_s) s, nats-server $(rl_get relay.nats_cpu_s) s; read samples (s): $(rl_get relay.read_samples_s); relay step took $((rl_t1 - rl_t0)) s${T0:+; total bench time incl. it $((rl_t1 - T0)) s}"
}

# sourced by scripts/bench.sh (its environment, temp directory, cleanup
# and table), or run alone
if test -z "${BENCH_SOURCED-}"; then
	cd "$(dirname "$0")/../.." || exit 1
	. ./scripts/bench/common.sh
	bench_standalone relay
fi
test "${BENCH_RELAY:-1}" = 0 || rl_main
