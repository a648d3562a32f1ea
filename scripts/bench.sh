#!/bin/sh
# scripts/bench.sh -- `make bench`: gitstore performance figures, each
# measured in the same run as its baseline (see docs/benchmarks.md).
#
#  1. push of one new commit of 2,000 small files: median wall time through
#     gitstore vs. `git push` to a bare repository on local disk (target
#     <= 1.3x), and vs. stock `git http-backend` behind a minimal CGI server;
#  2. burst of concurrent pushes (P pushers x K pushes, each pusher to its own
#     branch): events appended per second and pushes per second (vs. the same
#     burst to a local bare repository);
#  3. SSE delivery latency, ref commit -> connected client, p50 / p99;
#  4. parse+validate throughput on one core: resources/s of one
#     `gitstore validate` over N generated resource files (taskset -c 0);
#  5. catalog ingest: push of one commit adding N resource files to the
#     draft branch main -> last catalog-admission-evaluated event visible in
#     GET /api/v1/events (target <= 1 s), and the daemon's peak RSS meanwhile;
#  6. API writes: PUT /api/v1/repos/NS/REPO/resources/products/NAME, request
#     -> answer with admission, p50 / p99 over N sequential writes, vs. the
#     same one-file change by `git push` to main + waiting for its
#     catalog-admission-evaluated event (p50 over P pushes, spread among the
#     API writes); and API writes/s with C concurrent clients vs. the
#     sequential push + admit rate;
#  7. admission latency added by ten ValidatingAdmissionPolicies: push of a
#     commit adding N products to a fresh repository of a namespace with
#     ten policies vs. of a namespace without, push start -> last
#     catalog-admission-evaluated visible; (with - without) / N per
#     resource, and with / without, paired per round, R rounds alternated;
#  8. CEL: evaluations/s of a typical three-rule policy against a Product
#     on one core (scripts/bench/bench_cel.c, built here against the
#     build's libgitstore.a, taskset -c 0; target >= 500,000/s), vs. the
#     same checks in hand-written C (and `true` through the same API).
#  Then scripts/bench/lifecycle.sh (sourced at the end, own daemon, own
#  table; BENCH_LIFECYCLE=0 skips it, BENCH_LC_* / BENCH_SF_* knobs there):
#  release tag -> last draft-published of a 10,000-product catalog vs. its
#  draft ingest, and storefront reads/s vs. GET /healthz.
#  Then scripts/bench/delivery.sh (the same way; BENCH_DELIVERY=0 skips it,
#  BENCH_DLV_* knobs there): SSE fan-out to 10 streams vs. 1, durable
#  consumer fetch+ack vs. GET /api/v1/events pages.
#  Then scripts/bench/relay.sh (same way; BENCH_RELAY=0 skips it,
#  BENCH_RELAY_EVENTS sets the log size): events/s the NATS JetStream relay
#  publishes from a 20,000-event log to a local nats-server, vs. reading
#  the same log through GET /api/v1/events.
#
# Environment: BENCH_RUNS (push repetitions, default 7), BENCH_FILES (2000),
# BENCH_BURST_RUNS (3), BENCH_BURST_PUSHERS (4), BENCH_BURST_PUSHES (25),
# BENCH_SSE_PUSHES (50), BENCH_HTTP_BACKEND (1; 0 skips that baseline),
# BENCH_VALIDATE_FILES (2000), BENCH_VALIDATE_RUNS (7),
# BENCH_CATALOG_FILES (2000), BENCH_CATALOG_RUNS (5),
# BENCH_API_WRITES (200), BENCH_API_CLIENTS (4), BENCH_API_PUSHES (30),
# BENCH_API_ROUNDS (4), BENCH_POLICY_FILES (1000 products per push),
# BENCH_POLICY_ROUNDS (7 pairs of pushes, plus 1 warm-up pair),
# BENCH_CEL_SECONDS (1: CPU seconds for each of the 4 CEL variants),
# GITSTORE_BIN (build/gitstore), BENCH_KEEP=1 keeps the temp directory.
#
# Performance is reported, not asserted: the exit status is 0 unless the
# benchmark itself breaks (a server does not start, a push fails, ...).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BIN=${GITSTORE_BIN:-$ROOT/build/gitstore}
PY=/usr/bin/python3
HELPER=$ROOT/scripts/bench/bench.py
CGI=$ROOT/scripts/bench/git_cgi_server.py

RUNS=${BENCH_RUNS:-7}
FILES=${BENCH_FILES:-2000}
BURST_RUNS=${BENCH_BURST_RUNS:-3}
PUSHERS=${BENCH_BURST_PUSHERS:-4}
PUSHES=${BENCH_BURST_PUSHES:-25}
SSE_PUSHES=${BENCH_SSE_PUSHES:-50}
HTTP_BACKEND=${BENCH_HTTP_BACKEND:-1}
VAL_FILES=${BENCH_VALIDATE_FILES:-2000}
VAL_RUNS=${BENCH_VALIDATE_RUNS:-7}
CAT_FILES=${BENCH_CATALOG_FILES:-2000}
CAT_RUNS=${BENCH_CATALOG_RUNS:-5}
API_WRITES=${BENCH_API_WRITES:-200}
API_CLIENTS=${BENCH_API_CLIENTS:-4}
API_PUSHES=${BENCH_API_PUSHES:-30}
API_ROUNDS=${BENCH_API_ROUNDS:-4}
POL_FILES=${BENCH_POLICY_FILES:-1000}
POL_ROUNDS=${BENCH_POLICY_ROUNDS:-7}
CEL_SECONDS=${BENCH_CEL_SECONDS:-1}

. "$ROOT/scripts/bench/common.sh"
# the build directory of the binary (the CEL harness links its library),
# before bench_setup points $BIN at the private copy
BUILD_DIR=$(cd "$(dirname "$BIN")" && pwd) || fail "no directory for $BIN"
bench_setup main
# the parts sourced at the end use this environment and add their rows to
# the one table
BENCH_SOURCED=1
BENCH_TABLES=

# --- the CEL harness (step 8), built first so a build failure stops early ---------

# against the library of the build GITSTORE_BIN belongs to (BUILD_DIR/..
# holds its src/ and Makefile); `make` alone does not refresh
# libgitstore.a, so ask its Makefile for it
SRC_ROOT=$(dirname "$BUILD_DIR")
test -f "$SRC_ROOT/src/cel/cel.h" || fail "no src/ next to $BUILD_DIR (GITSTORE_BIN must be in a build directory of a source tree)"
if test -f "$SRC_ROOT/Makefile"; then
	make -s -C "$SRC_ROOT" BUILD="$(basename "$BUILD_DIR")" "$(basename "$BUILD_DIR")/libgitstore.a" >&2 ||
		fail "make $BUILD_DIR/libgitstore.a failed"
fi
test -f "$BUILD_DIR/libgitstore.a" || fail "$BUILD_DIR/libgitstore.a missing"
# the link libraries are the Makefile's PKGS
PKGS=$(sed -n 's/^PKGS[[:space:]]*:=[[:space:]]*//p' "$SRC_ROOT/Makefile" 2>/dev/null)
test -n "$PKGS" || PKGS="libgit2 libmicrohttpd jansson sqlite3 libcrypto libcurl zlib yaml-0.1 libpcre2-8"
# shellcheck disable=SC2046,SC2086 # word splitting of the pkg-config output intended
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$SRC_ROOT/src" $(pkg-config --cflags jansson) \
	-o "$TMP/bench_cel" "$ROOT/scripts/bench/bench_cel.c" "$BUILD_DIR/libgitstore.a" \
	$(pkg-config --libs $PKGS) -lpthread || fail "cannot build scripts/bench/bench_cel.c"

# --- gitstore -----------------------------------------------------------------

DATA=$TMP/data
"$BIN" namespace create default --data "$DATA" >/dev/null || fail "namespace create failed"
for r in catalog burst sse products apiwrites pushadmit; do
	"$BIN" repo create "default/$r" --data "$DATA" >/dev/null || fail "repo create default/$r failed"
done
# step 7: a namespace without policies and one that gets ten, with a
# fresh repository per round in each (round 0 is the warm-up)
for ns in nopolicies tenpolicies; do
	"$BIN" namespace create "$ns" --data "$DATA" >/dev/null || fail "namespace create $ns failed"
	for i in $(seq 0 "$POL_ROUNDS"); do
		"$BIN" repo create "$ns/$(printf 'cat%02d' "$i")" --data "$DATA" >/dev/null || fail "repo create $ns/cat$i failed"
	done
done
TOKEN=$("$BIN" token create --user admin --role 'admin:*' --data "$DATA") || fail "token create failed"

bench_start_daemon gitstore "$TMP/gitstore.log" --data "$DATA"
GS_PID=$bd_pid
PORT=$bd_port
GS=http://127.0.0.1:$PORT
GS_DAEMON=$bd_daemon
test "$GS_DAEMON" != 0 || fail "cannot find the gitstore daemon's pid"
gs_url () { printf 'http://x:%s@127.0.0.1:%s/default/%s.git' "$TOKEN" "$PORT" "$1"; }
say "gitstore (pid $GS_PID) at $GS"

# --- baselines: bare repositories on local disk, and git http-backend ---------

mkdir -p "$TMP/bare" "$TMP/cgi"
for r in push burst; do
	git init -q --bare "$TMP/bare/$r.git" || fail "git init failed"
done
CGI_URL=
if test "$HTTP_BACKEND" != 0; then
	for r in push burst; do
		{ git init -q --bare "$TMP/cgi/$r.git" &&
			git -C "$TMP/cgi/$r.git" config http.receivepack true; } || fail "git init failed"
	done
	start_bg cgi "$TMP/cgi.log" "$PY" "$CGI" "$TMP/cgi" "$TMP/cgi.port"
	for _ in $(seq 100); do
		test -s "$TMP/cgi.port" && break
		sleep 0.1
	done
	test -s "$TMP/cgi.port" || { cat "$TMP/cgi.log" >&2; fail "git http-backend server did not start"; }
	CGI_URL=http://127.0.0.1:$(cat "$TMP/cgi.port")
	say "git http-backend CGI server (pid $bg_pid) at $CGI_URL"
fi

RES=$TMP/results
: >"$RES"

run_helper () {
	"$PY" "$HELPER" "$@" >>"$RES" || {
		say "gitstore log (last 20 lines):"
		tail -n 20 "$TMP/gitstore.log" >&2
		fail "benchmark step '$1' failed"
	}
}

T0=$(date +%s)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

# --- 1. push of one commit of N small files -----------------------------------

say "1/8 push of one new commit of $FILES files, $RUNS runs (+1 warm-up), order rotated per run"
set -- --target "gitstore=$(gs_url catalog)" --target "bare=$TMP/bare/push.git"
test -n "$CGI_URL" && set -- "$@" --target "httpbackend=$CGI_URL/push.git"
run_helper push --work "$TMP/work-push" --files "$FILES" --runs "$RUNS" --warmup 1 "$@"

# --- 2. burst of concurrent pushes ---------------------------------------------

say "2/8 burst: $PUSHERS pushers x $PUSHES pushes, $BURST_RUNS runs"
set -- --target "gitstore=$(gs_url burst)" --target "bare=$TMP/bare/burst.git"
test -n "$CGI_URL" && set -- "$@" --target "httpbackend=$CGI_URL/burst.git"
run_helper burst --work "$TMP/work-burst" --pushers "$PUSHERS" --pushes "$PUSHES" \
	--runs "$BURST_RUNS" --events-server "$GS" --events-target gitstore --token "$TOKEN" "$@"

# --- 3. SSE delivery latency --------------------------------------------------

say "3/8 SSE latency over $SSE_PUSHES sequential pushes"
run_helper sse --work "$TMP/work-sse" --pushes "$SSE_PUSHES" --target "$(gs_url sse)" \
	--events-server "$GS" --token "$TOKEN"

# --- 4. parse + validate throughput, one core -----------------------------------

say "4/8 gitstore validate over $VAL_FILES resource files, $VAL_RUNS runs (+1 warm-up), one core"
run_helper validate --work "$TMP/work-validate" --bin "$BIN" --files "$VAL_FILES" --runs "$VAL_RUNS" --warmup 1

# --- 5. catalog ingest latency and daemon peak RSS --------------------------------

# status_kb FIELD: a VmXXX line of the daemon's /proc status, in kB
status_kb () { sed -n "s/^$1:[[:space:]]*\([0-9][0-9]*\) kB/\1/p" "/proc/$GS_DAEMON/status"; }

say "5/8 catalog ingest: push of $CAT_FILES new resource files to main, $CAT_RUNS runs (+1 warm-up)"
{
	echo "rss.hwm_before_kb=$(status_kb VmHWM)"
	echo "rss.rss_before_kb=$(status_kb VmRSS)"
} >>"$RES"
# reset the high-water mark to the current RSS (Linux >= 4.0), so VmHWM
# afterwards is the peak during this step alone
if (echo 5 >"/proc/$GS_DAEMON/clear_refs") 2>/dev/null; then
	echo "rss.reset=1" >>"$RES"
else
	echo "rss.reset=0" >>"$RES"
fi
run_helper catalog --work "$TMP/work-catalog" --files "$CAT_FILES" --runs "$CAT_RUNS" --warmup 1 \
	--target "$(gs_url products)" --events-server "$GS" --token "$TOKEN"
{
	echo "rss.hwm_after_kb=$(status_kb VmHWM)"
	echo "rss.rss_after_kb=$(status_kb VmRSS)"
} >>"$RES"

# --- 6. API writes vs. push + wait for admission ----------------------------------

say "6/8 API writes: $API_WRITES sequential (+ $API_PUSHES push+admit baseline pushes among them) and $API_WRITES by $API_CLIENTS clients, in $API_ROUNDS alternating rounds"
run_helper apiwrite --work "$TMP/work-api" --writes "$API_WRITES" --pushes "$API_PUSHES" --clients "$API_CLIENTS" --rounds "$API_ROUNDS" \
	--ns default --api-repo apiwrites --push-repo pushadmit --push-url "$(gs_url pushadmit)" \
	--events-server "$GS" --token "$TOKEN"

# --- 7. admission latency added by ten policies -----------------------------------

say "7/8 ten policies: push of $POL_FILES new products, namespace with vs. without policies, $POL_ROUNDS rounds (+1 warm-up)"
run_helper policy --work "$TMP/work-policy" --files "$POL_FILES" --runs "$POL_ROUNDS" --warmup 1 \
	--ns-none nopolicies --ns-pol tenpolicies --repo-prefix cat --git-base "http://x:$TOKEN@127.0.0.1:$PORT" \
	--events-server "$GS" --token "$TOKEN"
kill -0 "$GS_PID" 2>/dev/null || fail "gitstore exited during the benchmark"

# --- 8. CEL evaluation rate, one core -----------------------------------------------

say "8/8 CEL: a three-rule policy against a Product, ${CEL_SECONDS} s of CPU per variant, one core"
if taskset -c 0 true 2>/dev/null; then
	echo "cel.pinned=1" >>"$RES"
	taskset -c 0 "$TMP/bench_cel" "$CEL_SECONDS" >>"$RES" || fail "bench_cel failed"
else
	say "warning: taskset -c 0 unavailable; the CEL harness is not pinned to one core"
	echo "cel.pinned=0" >>"$RES"
	"$TMP/bench_cel" "$CEL_SECONDS" >>"$RES" || fail "bench_cel failed"
fi

T1=$(date +%s)

# --- table ----------------------------------------------------------------------

get () { sed -n "s/^$1=//p" "$RES" | tail -n 1; }

{
	echo "# gitstore benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(git --version), load average at start $LOAD0, at end $(cut -d" " -f1-3 /proc/loadavg))"
	printf '%s\t%s\t%s\t%s\n' figure value baseline ratio/target
	awk -v g="$(get push.gitstore.median_ms)" -v b="$(get push.bare.median_ms)" -v f="$FILES" -v n="$RUNS" 'BEGIN {
		r = g / b
		printf "push 1 commit x %d files (median of %d)\t%.0f ms\t%.0f ms (git push to bare repo on disk)\t%.2fx (target <= 1.30x: %s)\n",
			f, n, g, b, r, (r <= 1.3 ? "PASS" : "over target")
	}'
	if test -n "$CGI_URL"; then
		awk -v g="$(get push.gitstore.median_ms)" -v b="$(get push.httpbackend.median_ms)" -v f="$FILES" -v n="$RUNS" 'BEGIN {
			printf "push 1 commit x %d files (median of %d)\t%.0f ms\t%.0f ms (git http-backend via CGI)\t%.2fx (info)\n",
				f, n, g, b, g / b
		}'
	fi
	awk -v g="$(get burst.gitstore.pushes_per_s)" -v b="$(get burst.bare.pushes_per_s)" \
	    -v p="$PUSHERS" -v k="$PUSHES" 'BEGIN {
		printf "burst pushes/s (%d pushers x %d)\t%.1f /s\t%.1f /s (bare repo on disk)\t%.2fx of baseline (info)\n", p, k, g, b, g / b
	}'
	if test -n "$CGI_URL"; then
		awk -v g="$(get burst.gitstore.pushes_per_s)" -v b="$(get burst.httpbackend.pushes_per_s)" \
		    -v p="$PUSHERS" -v k="$PUSHES" 'BEGIN {
			printf "burst pushes/s (%d pushers x %d)\t%.1f /s\t%.1f /s (git http-backend via CGI)\t%.2fx of baseline (info)\n", p, k, g, b, g / b
		}'
	fi
	awk -v e="$(get burst.events_per_s)" -v n="$(get burst.events)" -v w="$(get burst.gitstore.wall_s)" 'BEGIN {
		printf "burst events appended/s\t%.1f /s\t%d events in %.2f s (median run)\t- (info)\n", e, n, w
	}'
	awk -v a="$(get sse.p50_ms)" -v b="$(get sse.p99_ms)" -v n="$(get sse.events)" -v p="$(get sse.push_p50_ms)" 'BEGIN {
		printf "SSE latency ref commit -> client, p50\t%.1f ms\t%d branch events; push p50 %.0f ms\t- (info)\n", a, n, p
		printf "SSE latency ref commit -> client, p99\t%.1f ms\t%d branch events\t- (info)\n", b, n
	}'
	awk -v s="$(get validate.per_s)" -v u="$(get validate.us_per_file)" -v m="$(get validate.median_ms)" \
	    -v c="$(get validate.cat_median_ms)" -v f="$(get validate.files)" -v n="$(get validate.runs)" \
	    -v p="$(get validate.pinned)" 'BEGIN {
		printf "validate: parse+validate, %s (%d files, median of %d)\t%.0f res/s\t%.1f us/file incl. reading it (%.0f ms per run); cat of the same files %.0f ms\t- (info)\n",
			(p == 1 ? "1 core" : "unpinned"), f, n, s, u, m, c
	}'
	awk -v l="$(get catalog.latency_ms)" -v p="$(get catalog.push_ms)" -v e="$(get catalog.ret_to_last_ms)" \
	    -v f="$(get catalog.files)" -v n="$(get catalog.runs)" 'BEGIN {
		printf "catalog: push returned -> last of %d events (median of %d)\t%.0f ms\tpush itself %.0f ms; last event time - push return %.0f ms\t%.2fx of 1 s (target <= 1 s: %s)\n",
			f, n, l, p, e, l / 1000, (l <= 1000 ? "PASS" : "over target")
	}'
	awk -v l="$(get catalog.latency_ms)" -v p="$(get catalog.push_ms)" -v f="$(get catalog.files)" \
	    -v v="$(get validate.per_s)" 'BEGIN {
		t = f * 1000 / (p + l)
		printf "catalog admission throughput: resources/s, push start -> last event\t%.0f res/s\t%.0f res/s (gitstore validate, same parse and rules, no git or log)\t%.2fx of baseline (info)\n", t, v, t / v
	}'
	awk -v a="$(get rss.hwm_after_kb)" -v b="$(get rss.hwm_before_kb)" -v r="$(get rss.rss_before_kb)" \
	    -v z="$(get rss.rss_after_kb)" -v x="$(get rss.reset)" 'BEGIN {
		printf "daemon peak RSS during catalog ingest (VmHWM)\t%.1f MiB\t%s; RSS before %.1f MiB, after %.1f MiB\t- (info)\n",
			a / 1024, (x == 1 ? sprintf("HWM reset at step start; HWM of the steps before %.1f MiB", b / 1024) : sprintf("not reset: HWM before %.1f MiB", b / 1024)), r / 1024, z / 1024
	}'
	awk -v a="$(get api.seq_p50_ms)" -v b="$(get api.push_p50_ms)" -v n="$(get api.writes)" -v m="$(get api.pushes)" 'BEGIN {
		printf "API write latency incl. admission, p50 (%d sequential)\t%.1f ms\t%.1f ms (git push to main + wait for admission, p50 of %d)\t%.2fx of baseline (info)\n", n, a, b, m, a / b
	}'
	awk -v a="$(get api.seq_p99_ms)" -v b="$(get api.push_p99_ms)" -v n="$(get api.writes)" -v m="$(get api.pushes)" \
	    -v e="$(get api.seq_errors)" -v c="$(get api.seq_409)" -v p="$(get api.seq_202)" 'BEGIN {
		printf "API write latency incl. admission, p99 (%d sequential)\t%.1f ms\t%.1f ms (push + admission, p99 of %d); errors %d (409: %d, 202: %d)\t%.2fx of baseline (info)\n", n, a, b, m, e, c, p, a / b
	}'
	awk -v a="$(get api.conc_per_s)" -v b="$(get api.push_per_s)" -v n="$(get api.writes)" -v k="$(get api.clients)" \
	    -v e="$(get api.conc_errors)" -v c="$(get api.conc_409)" -v p="$(get api.conc_202)" 'BEGIN {
		printf "API writes/s (%d clients, %d writes)\t%.1f /s\t%.1f /s (sequential push + admit); errors %d (409: %d, 202: %d)\t%.2fx of baseline (info)\n", k, n, a, b, e, c, p, a / b
	}'
	awk -v a="$(get policy.added_us)" -v w="$(get policy.pol_total_ms)" -v o="$(get policy.none_total_ms)" \
	    -v r="$(get policy.ratio)" -v f="$(get policy.files)" -v n="$(get policy.runs)" -v k="$(get policy.policies)" 'BEGIN {
		printf "admission with %d policies: added latency per resource (%d products, median of %d pairs)\t%.1f us\t%.0f ms without policies, %.0f ms with (push start -> last admission event seen)\t%.2fx of baseline (info)\n", k, f, n, a, o, w, r
	}'
	awk -v a="$(get cel.policy_per_s)" -v b="$(get cel.native_per_s)" -v x="$(get cel.policy_ns)" \
	    -v y="$(get cel.native_ns)" -v p="$(get cel.pinned)" 'BEGIN {
		printf "CEL: 3-rule policy evaluations/s, %s (gs_adm_policy_eval)\t%.0f /s\t%.0f /s (same checks in hand-written C; %.0f ns vs %.0f ns each)\t%.2fx of baseline (target >= 500000/s: %s)\n",
			(p == 1 ? "1 core" : "unpinned"), a, b, x, y, a / b, (a >= 500000 ? "PASS" : "MISS")
	}'
	awk -v a="$(get cel.cel_per_s)" -v b="$(get cel.floor_per_s)" -v x="$(get cel.cel_ns)" \
	    -v y="$(get cel.floor_ns)" -v p="$(get cel.pinned)" 'BEGIN {
		printf "CEL: the 3 rules alone, %s (3 x gs_cel_eval_bool)\t%.0f /s\t%.0f /s (`true` 3 times, same API and bindings; %.0f ns vs %.0f ns)\t%.2fx of floor (info)\n",
			(p == 1 ? "1 core" : "unpinned"), a, b, x, y, a / b
	}'
} >"$TMP/table.tsv"

{
echo "raw samples (ms): gitstore $(get push.gitstore.samples_ms); bare $(get push.bare.samples_ms)${CGI_URL:+; http-backend $(get push.httpbackend.samples_ms)}"
echo "SSE latency min/max: $(get sse.min_ms) / $(get sse.max_ms) ms"
echo "validate samples (ms): $(get validate.samples_ms) for $(get validate.files) files, $(get validate.bytes) bytes"
echo "catalog samples (ms): $(get catalog.samples_ms) (warm-up run $(get catalog.warmup_ms)); medians: ref event -> first catalog event $(get catalog.ref_to_first_ms) ms (git diff, blob reads, parse, plan), catalog event appends $(get catalog.append_ms) ms, last event -> seen by the poll $(get catalog.last_to_seen_ms) ms (rows, commit, read-out $(get catalog.readout_ms) ms); push returned $(get catalog.ref_to_ret_ms) ms after its ref event"
echo "API writes: sequential create p50 $(get api.seq_create_p50_ms) ms, update p50 $(get api.seq_update_p50_ms) ms, max $(get api.seq_max_ms) ms (5 slowest $(get api.seq_samples_sorted_top5_ms)), $(get api.seq_per_s) writes/s one at a time; medians: request -> ref event $(get api.split_req_to_ref_ms) ms, ref event -> admission event $(get api.split_ref_to_adm_ms) ms, admission event -> answer $(get api.split_adm_to_answer_ms) ms; other outcomes: $(get api.seq_other)"
echo "API writes, $(get api.clients) clients: $(get api.conc_ok) ok in $(get api.conc_wall_s) s ($(get api.rounds) rounds alternating with the sequential part: $(get api.conc_round_per_s) /s; sequential per round $(get api.seq_round_per_s) /s), latency p50 $(get api.conc_p50_ms) ms, p99 $(get api.conc_p99_ms) ms, max $(get api.conc_max_ms) ms; medians: request -> ref event $(get api.csplit_req_to_ref_ms) ms (waiting for the repository's write lock included), ref event -> admission event $(get api.csplit_ref_to_adm_ms) ms, admission event -> answer $(get api.csplit_adm_to_answer_ms) ms; other outcomes: $(get api.conc_other); events: $(get api.admission_events) admission events for $(get api.committed) commits, $(get api.event_mismatch) writes without exactly one ref + admission event"
echo "push + admit samples (ms): $(get api.push_samples_ms); push alone p50 $(get api.push_only_p50_ms) ms; medians: push start -> ref event $(get api.psplit_start_to_ref_ms) ms, ref event -> admission event $(get api.psplit_ref_to_adm_ms) ms, admission event -> seen by the 5 ms poll $(get api.psplit_adm_to_seen_ms) ms; push returned $(get api.psplit_ref_to_ret_ms) ms after its ref event; not admitted: $(get api.push_not_allowed); step 6 took $(get api.step_s) s"
echo "policies: ten admitted $(get policy.sys_admitted_ms) ms after their push started (push $(get policy.sys_push_ms) ms); samples (ms, push start -> last admission event seen): without $(get policy.none_samples_ms), with $(get policy.pol_samples_ms); added per resource per round $(get policy.added_samples_us) us; medians without / with: push $(get policy.none_push_ms) / $(get policy.pol_push_ms) ms, push returned -> last event seen $(get policy.none_after_ms) / $(get policy.pol_after_ms) ms, ref event -> first catalog event $(get policy.none_ref_to_first_ms) / $(get policy.pol_ref_to_first_ms) ms, appends $(get policy.none_append_ms) / $(get policy.pol_append_ms) ms, last event -> seen $(get policy.none_last_to_seen_ms) / $(get policy.pol_last_to_seen_ms) ms (read-out $(get policy.none_readout_ms) / $(get policy.pol_readout_ms) ms); admission event $(get policy.none_ev_bytes) / $(get policy.pol_ev_bytes) bytes; added per resource (paired medians): push $(get policy.added_push_us) us, push returned -> last event seen $(get policy.added_after_us) us, ref event -> first catalog event $(get policy.added_ref_to_first_us) us, appends $(get policy.added_append_us) us, last event -> seen $(get policy.added_last_to_seen_us) us; step 7 took $(get policy.step_s) s"
echo "CEL (CPU time, median of $(get cel.slices) interleaved slices per variant; min-max): policy $(get cel.policy_min_per_s)-$(get cel.policy_max_per_s) /s, rules alone $(get cel.cel_min_per_s)-$(get cel.cel_max_per_s) /s, true x3 $(get cel.floor_min_per_s)-$(get cel.floor_max_per_s) /s, native $(get cel.native_min_per_s)-$(get cel.native_max_per_s) /s; policy - rules alone = $(awk -v a="$(get cel.policy_ns)" -v b="$(get cel.cel_ns)" 'BEGIN { printf "%.0f", a - b }') ns per evaluation outside the interpreter"
echo "main steps took $((T1 - T0)) s"
} >"$TMP/details-main.txt"

# the sourced parts measure with their own daemons; their detail lines
# are kept for after the table
BENCH_TABLES="$TMP/table.tsv"
. "$ROOT/scripts/bench/lifecycle.sh" >"$TMP/details-lifecycle.txt"
. "$ROOT/scripts/bench/delivery.sh" >"$TMP/details-delivery.txt"
. "$ROOT/scripts/bench/relay.sh" >"$TMP/details-relay.txt"

echo
# shellcheck disable=SC2086 # the list of table files is split on purpose
bench_table $BENCH_TABLES
for d in main lifecycle delivery relay; do
	test -s "$TMP/details-$d.txt" && { echo; sed "/./,\$!d" "$TMP/details-$d.txt"; }
done
echo
echo "total bench time $(($(date +%s) - T0)) s; load average at end $(cut -d" " -f1-3 /proc/loadavg)"
exit 0
