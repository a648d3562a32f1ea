#!/bin/sh
# scripts/bench/delivery.sh -- delivery figures (docs/benchmarks.md,
# "Delivery: SSE fan-out, durable consumer throughput"):
#
#  D1. SSE fan-out: events/s delivered in aggregate to S concurrent
#      GET /api/v1/events/stream?after=A (default 10), each read until it
#      has the same N events (default 5,000 tag-created, `id:` lines
#      counted), vs. 1 stream alone reading the same N events; the slowest
#      stream's time. R rounds (default 3), 1 and S streams interleaved,
#      medians.
#  D2. durable consumer: a fresh consumer per round (filter tag-created +
#      the repository) drained by POST fetch?max=100 + POST ack until all N
#      are acked, events/s, vs. the same N events read as
#      GET /api/v1/events?after=..&limit=100 pages on a keep-alive
#      connection (no acks); interleaved, medians. Untimed checks: every
#      event delivered exactly once, deliveryAttempt 1, in logseq order;
#      pending 0 afterwards.
#  The N events come from one atomic push creating N lightweight tags
#  (untimed; the daemon's built-in consumers finish with them first).
#
# Sourced by scripts/bench.sh after lifecycle.sh (it then reuses that
# script's $TMP, $BIN copy, start_bg/cleanup and $T0), or run alone after
# `make`: sh scripts/bench/delivery.sh. It starts its own daemon on its own
# data directory either way.
#
# Environment: BENCH_DELIVERY (1; 0 skips this part when sourced),
# BENCH_DLV_EVENTS (5000), BENCH_DLV_STREAMS (10), BENCH_DLV_ROUNDS (3),
# GITSTORE_BIN, BENCH_KEEP=1 keeps the temp directory.

dlv_main () {
	dlv_events=${BENCH_DLV_EVENTS:-5000}
	dlv_streams=${BENCH_DLV_STREAMS:-10}
	dlv_rounds=${BENCH_DLV_ROUNDS:-3}
	dlv_t0=$(date +%s)
	dlv_load0=$(cut -d" " -f1-3 /proc/loadavg)
	dlv_helper=$ROOT/scripts/bench/delivery.py
	dlv_res=$TMP/delivery.results
	dlv_data=$TMP/dlv-data
	dlv_repo=dlv/tags
	: >"$dlv_res"

	"$BIN" namespace create dlv --data "$dlv_data" >/dev/null || fail "namespace create dlv failed"
	"$BIN" repo create "$dlv_repo" --data "$dlv_data" >/dev/null || fail "repo create $dlv_repo failed"
	dlv_token=$("$BIN" token create --user dlvadmin --role admin:dlv --data "$dlv_data") || fail "token create failed"
	# reads the built-in consumers' state (their scope is every namespace)
	dlv_watch=$("$BIN" token create --user dlvwatch --role 'reader:*' --data "$dlv_data") || fail "token create failed"

	bench_start_daemon "gitstore (delivery)" "$TMP/gitstore-dlv.log" --data "$dlv_data"
	dlv_pid=$bd_pid
	dlv_port=$bd_port
	dlv_daemon=$bd_daemon
	dlv_gs=http://127.0.0.1:$dlv_port
	say "delivery: gitstore (pid $dlv_pid) at $dlv_gs"
	dlv_fail () {
		say "gitstore (delivery) log (last 20 lines):"
		tail -n 20 "$TMP/gitstore-dlv.log" >&2
		fail "benchmark step 'delivery $1' failed"
	}

	say "delivery: one push of $dlv_events tags to $dlv_repo (untimed)"
	"$PY" "$dlv_helper" setup --work "$TMP/work-dlv" --git-base "http://x:$dlv_token@127.0.0.1:$dlv_port" \
		--server "$dlv_gs" --token "$dlv_token" --watch-token "$dlv_watch" --repo "$dlv_repo" \
		--events "$dlv_events" >>"$dlv_res" || dlv_fail setup
	dlv_get () { sed -n "s/^$1=//p" "$dlv_res" | tail -n 1; }
	dlv_after=$(dlv_get dlv.after)

	say "delivery D1: SSE, $dlv_streams streams vs. 1, $dlv_events events each, $dlv_rounds rounds interleaved"
	"$PY" "$dlv_helper" sse --server "$dlv_gs" --token "$dlv_token" --after "$dlv_after" --events "$dlv_events" \
		--streams "$dlv_streams" --rounds "$dlv_rounds" --pid "$dlv_daemon" >>"$dlv_res" || dlv_fail sse

	say "delivery D2: durable consumer fetch+ack vs. GET /api/v1/events pages, $dlv_events events, $dlv_rounds rounds interleaved"
	"$PY" "$dlv_helper" consumer --server "$dlv_gs" --token "$dlv_token" --repo "$dlv_repo" --after "$dlv_after" \
		--events "$dlv_events" --rounds "$dlv_rounds" --pid "$dlv_daemon" >>"$dlv_res" || dlv_fail consumer
	kill -0 "$dlv_pid" 2>/dev/null || fail "gitstore (delivery) exited during the benchmark"
	dlv_t1=$(date +%s)

	{
		echo "# gitstore delivery benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average at start $dlv_load0, at end $(cut -d" " -f1-3 /proc/loadavg))"
		printf '%s\t%s\t%s\t%s\n' figure value baseline ratio/target
		awk -v a="$(dlv_get dlv.sse_fan_per_s)" -v b="$(dlv_get dlv.sse_single_per_s)" -v r="$(dlv_get dlv.sse_ratio)" \
		    -v s="$(dlv_get dlv.sse_streams)" -v n="$(dlv_get dlv.events)" -v k="$(dlv_get dlv.sse_rounds)" \
		    -v bt="$(dlv_get dlv.sse_single_ms)" 'BEGIN {
			printf "SSE fan-out: events/s to %d streams in aggregate, %d events each (median of %d)\t%.0f /s\t%.0f /s (1 stream alone, %.0f ms)\t%.2fx of baseline (info)\n", s, n, k, a, b, bt, r
		}'
		awk -v a="$(dlv_get dlv.sse_fan_slowest_ms)" -v f="$(dlv_get dlv.sse_fan_fastest_ms)" -v b="$(dlv_get dlv.sse_single_ms)" \
		    -v s="$(dlv_get dlv.sse_streams)" -v p="$(dlv_get dlv.sse_fan_per_stream_per_s)" 'BEGIN {
			printf "  slowest of %d streams: time to all events\t%.0f ms\t1 stream alone %.0f ms (fastest of %d: %.0f ms; %.0f events/s per stream)\t%.2fx of baseline (info)\n", s, a, b, s, f, p, a / b
		}'
		awk -v a="$(dlv_get dlv.sse_fan_daemon_us)" -v b="$(dlv_get dlv.sse_single_daemon_us)" \
		    -v c="$(dlv_get dlv.sse_fan_client_us)" -v d="$(dlv_get dlv.sse_single_client_us)" 'BEGIN {
			if (a == "" || b == "") exit
			printf "  daemon CPU per event delivered, fan-out\t%.1f us\t1 stream %.1f us (client CPU %.1f / %.1f us)\t%s (info)\n", a, b, c, d, (b > 0 ? sprintf("%.2fx of baseline", a / b) : "-")
		}'
		awk -v a="$(dlv_get dlv.cons_per_s)" -v b="$(dlv_get dlv.pages_per_s)" -v r="$(dlv_get dlv.cons_ratio)" \
		    -v n="$(dlv_get dlv.events)" -v k="$(dlv_get dlv.cons_rounds)" -v m="$(dlv_get dlv.cons_batch)" \
		    -v ct="$(dlv_get dlv.cons_ms)" -v bt="$(dlv_get dlv.pages_ms)" 'BEGIN {
			printf "durable consumer: events/s, fetch?max=%d + ack, %d events (median of %d)\t%.0f /s (%.0f ms)\t%.0f /s (GET /api/v1/events pages of %d, no acks, %.0f ms)\t%.2fx of baseline (info)\n", m, n, k, a, ct, b, m, bt, r
		}'
		awk -v a="$(dlv_get dlv.cons_daemon_us)" -v b="$(dlv_get dlv.pages_daemon_us)" \
		    -v c="$(dlv_get dlv.cons_client_us)" -v d="$(dlv_get dlv.pages_client_us)" 'BEGIN {
			if (a == "" || b == "") exit
			printf "  daemon CPU per event, consumer\t%.1f us\tpages %.1f us (client CPU %.1f / %.1f us)\t%s (info)\n", a, b, c, d, (b > 0 ? sprintf("%.2fx of baseline", a / b) : "-")
		}'
	} >"$TMP/delivery-table.tsv"

	bench_emit_table "$TMP/delivery-table.tsv"
	echo
	echo "setup: $(dlv_get dlv.events) tag-created at logseq $((dlv_after + 1))..$((dlv_after + $(dlv_get dlv.events))) (~$(dlv_get dlv.event_bytes) bytes of JSON each), one receive-pack $(dlv_get dlv.push_s) s; the built-in consumers (catalog worker, lifecycle controller) were done with them $(dlv_get dlv.drain_s) s later"
	echo "SSE samples (events/s): 1 stream $(dlv_get dlv.sse_single_samples); $(dlv_get dlv.sse_streams) streams $(dlv_get dlv.sse_fan_samples) (slowest stream $(dlv_get dlv.sse_fan_slowest_samples_ms) ms); $(dlv_get dlv.sse_bytes_per_event) bytes per event on the wire; check read (1 stream, parsed, untimed) $(dlv_get dlv.sse_check_ms) ms"
	echo "consumer samples (events/s): fetch+ack $(dlv_get dlv.cons_samples); pages $(dlv_get dlv.pages_samples); medians per call: fetch $(dlv_get dlv.cons_fetch_ms) ms + ack $(dlv_get dlv.cons_ack_ms) ms ($(dlv_get dlv.cons_calls) of each), page $(dlv_get dlv.pages_page_ms) ms ($(dlv_get dlv.pages_calls) pages)"
	echo "delivery step took $((dlv_t1 - dlv_t0)) s (setup $(dlv_get dlv.setup_s) s, SSE $(dlv_get dlv.sse_step_s) s, consumer $(dlv_get dlv.cons_step_s) s)${T0:+; total bench time incl. it $((dlv_t1 - T0)) s}"
}

# sourced by scripts/bench.sh (its environment, temp directory, cleanup
# and table), or run alone
if test -z "${BENCH_SOURCED-}"; then
	cd "$(dirname "$0")/../.." || exit 1
	. ./scripts/bench/common.sh
	bench_standalone dlv
fi
test "${BENCH_DELIVERY:-1}" = 0 || dlv_main
