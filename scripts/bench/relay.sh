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

rl_wait_ready () { # rl_wait_ready LOG PID -> port on stdout
	for _ in $(seq 300); do
		rl_p=$(sed -n 's/.*gitstore: ready listen=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
		test -n "$rl_p" && { echo "$rl_p"; return 0; }
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$1" >&2
	return 1
}

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
	start_bg gitstore-relay "$TMP/gitstore-relay.log" "$BIN" serve --data "$rl_data" --listen 127.0.0.1:0
	rl_pid=$bg_pid
	rl_port=$(rl_wait_ready "$TMP/gitstore-relay.log" "$rl_pid") || fail "gitstore (relay) did not print its ready line"
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
	start_bg gitstore-relay "$TMP/gitstore-relay.log" "$BIN" serve --data "$rl_data" --listen 127.0.0.1:0 \
		--nats "nats://127.0.0.1:$rl_nport"
	rl_pid=$bg_pid
	rl_port=$(rl_wait_ready "$TMP/gitstore-relay.log" "$rl_pid") || fail "gitstore (relay) did not print its ready line"
	"$PY" "$rl_helper" drain --server "http://127.0.0.1:$rl_port" --nats-port "$rl_nport" --since "$rl_since" \
		--gitstore-pid "$rl_pid" --nats-pid "$rl_npid" --nats-cpu0 "$rl_ncpu0" >>"$rl_res" || {
		tail -n 20 "$TMP/gitstore-relay.log" >&2
		fail "relay drain failed"
	}
	kill -0 "$rl_pid" 2>/dev/null || fail "gitstore (relay) exited during the benchmark"
	rl_t1=$(date +%s)
	rl_get () { sed -n "s/^$1=//p" "$rl_res" | tail -n 1; }

	echo
	echo "# gitstore relay benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(nats-server --version 2>&1), load average $(cut -d" " -f1-3 /proc/loadavg))"
	awk -v a="$(rl_get relay.per_s)" -v b="$(rl_get relay.read_per_s)" -v n="$(rl_get relay.events)" \
	    -v h="$(rl_get relay.log_head)" -v w="$(rl_get relay.wall_s)" -v wr="$(rl_get relay.wall_per_s)" \
	    -v s="$(rl_get relay.span_s)" -v r="$(rl_get relay.read_s)" 'BEGIN {
		f1 = sprintf("relay: events/s published + acknowledged (%d events)", n)
		v1 = sprintf("%.0f /s", a)
		b1 = sprintf("%.0f /s (same log read via GET /api/v1/events, %.2f s)", b, r)
		r1 = sprintf("%.2fx of baseline (info)", a / b)
		f2 = "  first -> last message stored; daemon start -> lag 0"
		v2 = sprintf("%.2f s", s)
		b2 = sprintf("%.2f s = %.0f /s incl. start-up; log head %d", w, wr, h)
		r2 = "- (info)"
		w1 = length(f1) > length(f2) ? length(f1) : length(f2)
		w2 = length(v1) > length(v2) ? length(v1) : length(v2)
		w3 = length(b1) > length(b2) ? length(b1) : length(b2)
		w4 = length(r1) > length(r2) ? length(r1) : length(r2)
		fmt = "| %-" w1 "s | %-" w2 "s | %-" w3 "s | %-" w4 "s |\n"
		printf fmt, "figure", "value", "baseline", "ratio/target"
		d = "|"; for (i = 1; i <= 4; i++) { l = (i == 1 ? w1 : i == 2 ? w2 : i == 3 ? w3 : w4); s2 = ""; for (j = 0; j < l + 2; j++) s2 = s2 "-"; d = d s2 "|" }
		print d
		printf fmt, f1, v1, b1, r1
		printf fmt, f2, v2, b2, r2
	}'
	echo
	echo "relay: log of $(rl_get relay.log_head) events filled by one push of $(rl_get relay.products) products in $(rl_get relay.fill_s) s (push + catalog ingest); stream $(rl_get relay.stream_bytes) bytes; duplicates $(rl_get relay.duplicates), errors $(rl_get relay.errors); CPU from daemon start to lag 0: gitstore $(rl_get relay.gitstore_cpu_s) s, nats-server $(rl_get relay.nats_cpu_s) s; read samples (s): $(rl_get relay.read_samples_s); relay step took $((rl_t1 - rl_t0)) s${T0:+; total bench time incl. it $((rl_t1 - T0)) s}"
}

if command -v start_bg >/dev/null 2>&1 && test -n "${TMP-}" && test -n "${RES-}"; then
	# sourced by scripts/bench.sh: its environment, temp directory and cleanup
	if test "${BENCH_RELAY:-1}" != 0; then
		rl_main
	fi
else
	# standalone
	set -u
	cd "$(dirname "$0")/../.." || exit 1
	ROOT=$PWD
	BIN=${GITSTORE_BIN:-$ROOT/build/gitstore}
	PY=/usr/bin/python3
	T0=
	say () { printf 'bench: %s\n' "$*" >&2; }
	fail () { say "error: $*"; exit 1; }
	test -x "$BIN" || fail "$BIN is not executable (run make)"
	test -x "$PY" || fail "$PY not found"
	command -v git >/dev/null || fail "git not found"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitstore-bench-relay.XXXXXX") || fail "mktemp failed"
	PIDS=""
	# shellcheck disable=SC2317 # called by the EXIT trap
	cleanup () {
		for c_pid in $PIDS; do
			kill -TERM -- "-$c_pid" 2>/dev/null || kill -TERM "$c_pid" 2>/dev/null
		done
		for c_pid in $PIDS; do
			wait "$c_pid" 2>/dev/null
		done
		if test -n "${BENCH_KEEP-}"; then
			say "kept $TMP"
		else
			rm -rf -- "$TMP"
		fi
	}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for v in $(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p'); do
		unset "$v"
	done
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	export HOME="$TMP/home" LANG=C LC_ALL=C TZ=UTC
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$TMP/gitconfig" GIT_TERMINAL_PROMPT=0
	mkdir -p "$HOME"
	printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n' >"$GIT_CONFIG_GLOBAL"
	start_bg () {
		bg_log=$2
		shift 2
		setsid "$@" </dev/null >"$bg_log" 2>&1 &
		bg_pid=$!
		PIDS="$PIDS $bg_pid"
	}
	# a private copy of the binaries (the hooks exec gitstore-hook next to it)
	{ mkdir -p "$TMP/bin" && cp -- "$BIN" "$TMP/bin/gitstore" &&
		cp -- "$(dirname "$BIN")/gitstore-hook" "$TMP/bin/gitstore-hook"; } || fail "cannot copy $BIN and gitstore-hook"
	BIN=$TMP/bin/gitstore
	rl_main
	exit 0
fi
