#!/bin/sh
# scripts/bench/lifecycle.sh -- draft -> published figures (docs/benchmarks.md,
# "Lifecycle: release -> published, storefront reads"):
#
#  L1. release to published, N-resource catalog (default 10,000; target
#      <= 2 s): push of the release tag refs/tags/v1 at a commit of N
#      Products already ingested on main -> the last of N draft-published
#      events visible in GET /api/v1/events; baseline: the push of that same
#      commit to main -> its last catalog-admission-evaluated visible (draft
#      ingest of the same content). Median of R rounds, a fresh namespace
#      each round.
#  L2. storefront reads/s, one product, anonymous, C keep-alive client
#      threads: GET /storefront/v1/namespaces/NS/products/NAME (200 + ETag)
#      and the same with If-None-Match (304), vs. GET /healthz.
#
# Sourced by scripts/bench.sh after its own table (it then reuses that
# script's $TMP, $BIN copy, start_bg/cleanup and $T0), or run alone after
# `make`: sh scripts/bench/lifecycle.sh. It starts its own daemon on its own
# data directory either way, so the figures do not depend on what the other
# steps left in the log.
#
# Environment: BENCH_LIFECYCLE (1; 0 skips this part when sourced),
# BENCH_LC_FILES (10000), BENCH_LC_ROUNDS (3), BENCH_LC_WARMUP (0),
# BENCH_SF_REQUESTS (20000 per row), BENCH_SF_CLIENTS (4),
# BENCH_SF_SLICES (4: the rows interleaved in slices), GITSTORE_BIN,
# BENCH_KEEP=1 keeps the temp directory.

lc_main () {
	lc_files=${BENCH_LC_FILES:-10000}
	lc_rounds=${BENCH_LC_ROUNDS:-3}
	lc_warmup=${BENCH_LC_WARMUP:-0}
	sf_requests=${BENCH_SF_REQUESTS:-20000}
	sf_clients=${BENCH_SF_CLIENTS:-4}
	sf_slices=${BENCH_SF_SLICES:-4}
	lc_t0=$(date +%s)
	lc_load0=$(cut -d" " -f1-3 /proc/loadavg)
	lc_helper=$ROOT/scripts/bench/lifecycle.py
	lc_res=$TMP/lifecycle.results
	lc_data=$TMP/lc-data
	: >"$lc_res"

	lc_roles=
	lc_i=0
	while test "$lc_i" -lt $((lc_rounds + lc_warmup)); do
		lc_ns=$(printf 'lc%02d' "$lc_i")
		"$BIN" namespace create "$lc_ns" --data "$lc_data" >/dev/null || fail "namespace create $lc_ns failed"
		"$BIN" repo create "$lc_ns/catalog" --data "$lc_data" >/dev/null || fail "repo create $lc_ns/catalog failed"
		lc_roles="$lc_roles --role admin:$lc_ns"
		lc_i=$((lc_i + 1))
	done
	# shellcheck disable=SC2086 # the --role list is split on purpose
	lc_token=$("$BIN" token create --user lcadmin $lc_roles --data "$lc_data") || fail "token create failed"

	bench_start_daemon "gitstore (lifecycle)" "$TMP/gitstore-lc.log" --data "$lc_data"
	lc_pid=$bd_pid
	lc_port=$bd_port
	lc_daemon=$bd_daemon
	lc_gs=http://127.0.0.1:$lc_port
	say "lifecycle: gitstore (pid $lc_pid) at $lc_gs"

	lc_wnote=
	test "$lc_warmup" != 0 && lc_wnote=" (+$lc_warmup warm-up)"
	say "lifecycle L1: release of $lc_files products (refs/tags/v1) vs. their draft ingest, $lc_rounds rounds$lc_wnote"
	"$PY" "$lc_helper" release --work "$TMP/work-lc" --files "$lc_files" --rounds "$lc_rounds" --warmup "$lc_warmup" \
		--ns-prefix lc --git-base "http://x:$lc_token@127.0.0.1:$lc_port" --events-server "$lc_gs" \
		--token "$lc_token" --pid "$lc_daemon" >>"$lc_res" || {
		say "gitstore (lifecycle) log (last 20 lines):"
		tail -n 20 "$TMP/gitstore-lc.log" >&2
		fail "benchmark step 'lifecycle release' failed"
	}
	lc_get () { sed -n "s/^$1=//p" "$lc_res" | tail -n 1; }

	say "lifecycle L2: storefront reads, $sf_requests per row by $sf_clients keep-alive clients, $sf_slices interleaved slices"
	"$PY" "$lc_helper" storefront --server "$lc_gs" --ns "$(lc_get lc.sf_ns)" --name "$(lc_get lc.sf_name)" \
		--requests "$sf_requests" --clients "$sf_clients" --slices "$sf_slices" --pid "$lc_daemon" >>"$lc_res" || {
		say "gitstore (lifecycle) log (last 20 lines):"
		tail -n 20 "$TMP/gitstore-lc.log" >&2
		fail "benchmark step 'lifecycle storefront' failed"
	}
	kill -0 "$lc_pid" 2>/dev/null || fail "gitstore (lifecycle) exited during the benchmark"
	lc_t1=$(date +%s)

	{
		echo "# gitstore lifecycle benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average at start $lc_load0, at end $(cut -d" " -f1-3 /proc/loadavg))"
		printf '%s\t%s\t%s\t%s\n' figure value baseline ratio/target
		awk -v l="$(lc_get lc.release_ms)" -v b="$(lc_get lc.ingest_ms)" -v r="$(lc_get lc.ratio)" \
		    -v f="$(lc_get lc.files)" -v n="$(lc_get lc.rounds)" 'BEGIN {
			printf "release v1 -> last of %d draft-published seen (median of %d)\t%.0f ms\t%.0f ms (push of the same %d files to main -> last admission event seen)\t%.2fx of baseline; %.2fx of 2 s (target <= 2 s: %s)\n",
				f, n, l, b, f, r, l / 2000, (l <= 2000 ? "PASS" : "over target")
		}'
		awk -v a="$(lc_get lc.start_to_relcreated_ms)" -v b="$(lc_get lc.relcreated_to_lastpub_ms)" \
		    -v s="$(lc_get lc.lastpub_to_seen_ms)" 'BEGIN {
			printf "  split: push start -> release-created\t%.0f ms\trelease-created -> last draft-published %.0f ms; last draft-published -> seen %.0f ms\t- (info)\n", a, b, s
		}'
		# keep-alive is asked for (HTTP/1.1, no Connection: close); say
		# whether the server kept the connections open
		for v in product cond; do
			awk -v v="$v" -v a="$(lc_get "sf.${v}_per_s")" -v b="$(lc_get sf.healthz_per_s)" \
			    -v p50="$(lc_get "sf.${v}_p50_ms")" -v p99="$(lc_get "sf.${v}_p99_ms")" \
			    -v b50="$(lc_get sf.healthz_p50_ms)" -v b99="$(lc_get sf.healthz_p99_ms)" \
			    -v n="$(lc_get "sf.${v}_requests")" -v e="$(lc_get "sf.${v}_errors")" -v c="$(lc_get sf.clients)" \
			    -v k="$(lc_get "sf.${v}_connects")" -v kb="$(lc_get sf.healthz_connects)" \
			    -v nb="$(lc_get sf.healthz_requests)" 'BEGIN {
				what = (v == "product" ? "storefront GET product (200 + ETag)" : "storefront GET product, If-None-Match (304)")
				conn = (k >= n ? "server closed every connection" : "keep-alive")
				printf "%s, %d client threads (%s)\t%.0f /s\tGET /healthz %.0f /s\t%.2fx of baseline (info)\n", what, c, conn, a, b, a / b
				printf "  latency p50 / p99 (%d requests, %d errors, %d connections)\t%.2f / %.2f ms\t/healthz %.2f / %.2f ms (%d requests, %d connections)\t- (info)\n", n, e, k, p50, p99, b50, b99, nb, kb
			}'
		done
	} >"$TMP/lifecycle-table.tsv"

	bench_emit_table "$TMP/lifecycle-table.tsv"
	echo
	echo "release samples (ms): $(lc_get lc.release_samples_ms); draft ingest samples (ms): $(lc_get lc.ingest_samples_ms)"
	echo "release medians: push $(lc_get lc.release_push_ms) ms (returned; push start -> tag-created $(lc_get lc.start_to_tag_ms) ms), tag-created -> release-created $(lc_get lc.tag_to_relcreated_ms) ms (release admission of the whole tree), release-created -> first draft-published $(lc_get lc.relcreated_to_firstpub_ms) ms, first -> last draft-published $(lc_get lc.pub_append_ms) ms, last draft-published -> seen by the poll $(lc_get lc.lastpub_to_seen_ms) ms (read-out $(lc_get lc.release_readout_ms) ms); daemon CPU $(lc_get lc.release_cpu_s) s"
	echo "draft ingest medians: push $(lc_get lc.ingest_push_ms) ms (push start -> ref event $(lc_get lc.ingest_start_to_ref_ms) ms), ref event -> catalog-namespace-target $(lc_get lc.ingest_ref_to_first_ms) ms, catalog event appends $(lc_get lc.ingest_append_ms) ms, last event -> seen $(lc_get lc.ingest_last_to_seen_ms) ms (read-out $(lc_get lc.ingest_readout_ms) ms); daemon CPU $(lc_get lc.ingest_cpu_s) s"
	echo "storefront: $(lc_get sf.body_bytes)-byte product; req/s per slice: healthz $(lc_get sf.healthz_slice_per_s), product $(lc_get sf.product_slice_per_s), 304 $(lc_get sf.cond_slice_per_s); daemon CPU per request: healthz $(lc_get sf.healthz_daemon_us) us, product $(lc_get sf.product_daemon_us) us, 304 $(lc_get sf.cond_daemon_us) us; client CPU per request: $(lc_get sf.healthz_client_us) / $(lc_get sf.product_client_us) / $(lc_get sf.cond_client_us) us; connections opened: $(lc_get sf.healthz_connects) / $(lc_get sf.product_connects) / $(lc_get sf.cond_connects); max latency $(lc_get sf.healthz_max_ms) / $(lc_get sf.product_max_ms) / $(lc_get sf.cond_max_ms) ms"
	echo "lifecycle step took $((lc_t1 - lc_t0)) s (release $(lc_get lc.step_s) s, storefront $(lc_get sf.step_s) s)${T0:+; total bench time incl. it $((lc_t1 - T0)) s}"
}

# sourced by scripts/bench.sh (its environment, temp directory, cleanup
# and table), or run alone
if test -z "${BENCH_SOURCED-}"; then
	cd "$(dirname "$0")/../.." || exit 1
	. ./scripts/bench/common.sh
	bench_standalone lc
fi
test "${BENCH_LIFECYCLE:-1}" = 0 || lc_main
