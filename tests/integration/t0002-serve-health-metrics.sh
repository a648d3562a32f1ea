#!/bin/bash
test_description='/healthz, /metrics counters and histogram, unknown routes, CLI usage exit codes'
. "$(dirname "$0")/lib/test-lib.sh"

# Heartbeats every 200 ms, so that a closed event stream is noticed quickly.
GITSTORE_SSE_HEARTBEAT_MS=200
export GITSTORE_SSE_HEARTBEAT_MS

# commit_in DIR NAME: commit NAME.md in DIR.
commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# wait_for TENTHS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for () {
	local i=0 n=$1
	shift
	until "$@"
	do
		test "$i" -ge "$n" && { echo "wait_for: timed out after $n tenths: $*" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

# scrape OUT: GET /metrics (no credentials) into OUT; fails unless 200.
scrape () {
	local code
	code=$(curl -s --max-time 20 -D "$1.h" -o "$1" -w '%{http_code}' "$GITSTORE_URL/metrics") || return 1
	test "$code" = 200 || { echo "GET /metrics: HTTP $code" >&2; cat "$1" >&2; return 1; }
}

# metric FILE NAME: the value of the unlabelled sample NAME (or NAME{...}
# given literally); fails if there is not exactly one.
metric () {
	awk -v n="$2" '$1 == n { print $2; c++ } END { exit c == 1 ? 0 : 1 }' "$1" || {
		echo "metric: no single sample '$2' in $1" >&2
		return 1
	}
}

# gauge_is NAME VALUE: a fresh scrape has NAME == VALUE.
gauge_is () {
	scrape m.poll && test "$(metric m.poll "$1")" = "$2"
}

test_expect_success 'setup: namespace, repository, server, tokens, clone' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	WRITER=$(gs_token wr writer:default) &&
	URL=$(gs_url_with_token "$ADMIN" default/catalog) &&
	WURL=$(gs_url_with_token "$WRITER" default/catalog) &&
	git init -q work &&
	commit_in work one
'

test_expect_success '/healthz is 200 "ok" without credentials' '
	code=$(curl -s --max-time 20 -o body -w "%{http_code}" "$GITSTORE_URL/healthz") &&
	test "$code" = 200 &&
	echo ok >expect &&
	test_cmp expect body
'

test_expect_success 'HTTP keep-alive: API answers leave the connection open for the next request' '
	curl -s -o /dev/null -o /dev/null -o /dev/null -w "%{http_code} %{num_connects}\n" \
		"$GITSTORE_URL/healthz" "$GITSTORE_URL/api/v1/events" "$GITSTORE_URL/healthz" >conns &&
	printf "200 1\n401 0\n200 0\n" >expect &&
	test_cmp expect conns
'

test_expect_success '/metrics is Prometheus text with every documented family' '
	scrape m0 &&
	tr -d "\r" <m0.h | grep -qi "^content-type: text/plain" &&
	grep -qx "# TYPE gitstore_pushes_total counter" m0 &&
	grep -qx "# TYPE gitstore_push_refusals_total counter" m0 &&
	grep -qx "# TYPE gitstore_events_appended_total counter" m0 &&
	grep -qx "# TYPE gitstore_event_log_head gauge" m0 &&
	grep -qx "# TYPE gitstore_sse_clients gauge" m0 &&
	grep -qx "# TYPE gitstore_consumer_pending gauge" m0 &&
	grep -qx "# TYPE gitstore_consumer_dead_lettered_total counter" m0 &&
	grep -qx "# TYPE gitstore_hook_roundtrip_seconds histogram" m0 &&
	test "$(metric m0 gitstore_pushes_total)" = 0 &&
	test "$(metric m0 gitstore_push_refusals_total)" = 0 &&
	test "$(metric m0 gitstore_event_log_head)" = 0 &&
	test "$(metric m0 gitstore_sse_clients)" = 0 &&
	test "$(metric m0 gitstore_hook_roundtrip_seconds_count)" = 0 &&
	metric m0 gitstore_hook_roundtrip_seconds_sum >/dev/null &&
	metric m0 "gitstore_hook_roundtrip_seconds_bucket{le=\"+Inf\"}" >/dev/null &&
	grep -v "^#" m0 | grep -v "^$" >samples &&
	awk "NF != 2 || \$1 !~ /^gitstore_[a-z_]+(\\{[a-z_]+=\"[^\"]+\"\\})?\$/ || \$2 !~ /^[0-9.e+-]+\$/ { print \"bad sample: \" \$0; bad = 1 } END { exit bad }" samples
'

test_expect_success 'a push moves pushes_total, events_appended_total, event_log_head, the histogram' '
	scrape m1 &&
	git -C work push -q "$URL" HEAD:main &&
	scrape m2 &&
	H=$(ev_head) &&
	test "$H" -ge 2 &&
	test "$(metric m2 gitstore_pushes_total)" = $(( $(metric m1 gitstore_pushes_total) + 1 )) &&
	test "$(metric m2 gitstore_push_refusals_total)" = "$(metric m1 gitstore_push_refusals_total)" &&
	test "$(metric m2 gitstore_event_log_head)" = "$H" &&
	test "$(metric m2 gitstore_events_appended_total)" = $(( $(metric m1 gitstore_events_appended_total) + H - $(metric m1 gitstore_event_log_head) )) &&
	c=$(metric m2 gitstore_hook_roundtrip_seconds_count) &&
	test "$c" -gt 0 &&
	test "$c" -gt "$(metric m1 gitstore_hook_roundtrip_seconds_count)" &&
	test "$(metric m2 "gitstore_hook_roundtrip_seconds_bucket{le=\"+Inf\"}")" = "$c" &&
	awk "\$1 == \"gitstore_hook_roundtrip_seconds_sum\" { exit !(\$2 > 0) }" m2
'

test_expect_success 'histogram buckets are cumulative and sorted by le' '
	grep "^gitstore_hook_roundtrip_seconds_bucket{" m2 >buckets &&
	test_line_count -ge 2 buckets &&
	sed -e "s/.*le=\"\([^\"]*\)\"} \(.*\)/\1 \2/" buckets >le_count &&
	tail -n 1 le_count | grep -q "^+Inf " &&
	awk "BEGIN { prev_le = -1; prev_c = 0 }
		{ le = (\$1 == \"+Inf\") ? 1e308 : \$1 + 0
		  if (le <= prev_le || \$2 < prev_c) { print \"not cumulative at \" \$0; bad = 1 }
		  prev_le = le; prev_c = \$2 }
		END { exit bad }" le_count
'

test_expect_success 'a refused push (writer force-pushing main) moves push_refusals_total only' '
	commit_in work two &&
	git -C work push -q "$URL" HEAD:main &&
	scrape m3 &&
	H3=$(ev_head) &&
	git -C work reset -q --hard HEAD~1 &&
	commit_in work two-b &&
	test_must_fail git -C work push -q -f "$WURL" HEAD:main &&
	scrape m4 &&
	test "$(metric m4 gitstore_push_refusals_total)" = $(( $(metric m3 gitstore_push_refusals_total) + 1 )) &&
	test "$(metric m4 gitstore_pushes_total)" = "$(metric m3 gitstore_pushes_total)" &&
	gs_events --after "$H3" >ev &&
	ev_types ev >actual &&
	echo push-rejected >expect &&
	test_cmp expect actual &&
	test "$(metric m4 gitstore_event_log_head)" = $((H3 + 1)) &&
	test "$(metric m4 gitstore_events_appended_total)" = $(( $(metric m3 gitstore_events_appended_total) + 1 )) &&
	test "$(metric m4 gitstore_hook_roundtrip_seconds_count)" -gt "$(metric m3 gitstore_hook_roundtrip_seconds_count)"
'

test_expect_success 'gitstore_sse_clients counts open event streams' '
	test_bg curl -sN --max-time 60 -H "Authorization: Bearer $ADMIN" \
		"$GITSTORE_URL/api/v1/events/stream?after=0" >stream.out &&
	spid=$test_bg_pid &&
	test_when_finished "kill $spid 2>/dev/null; wait $spid 2>/dev/null; true" &&
	wait_for 100 gauge_is gitstore_sse_clients 1 &&
	kill "$spid" &&
	wait_for 100 gauge_is gitstore_sse_clients 0
'

test_expect_success 'unknown routes are 404' '
	for path in /nope /healthz/extra /metrics/x /api/v1/nope /api/v2/events /api/v1/events/streams
	do
		code=$(curl -s --max-time 20 -o body -w "%{http_code}" -H "Authorization: Bearer $ADMIN" "$GITSTORE_URL$path") &&
		test "$code" = 404 || { echo "GET $path: $code" >&2; return 1; }
	done &&
	code=$(curl -s --max-time 20 -o body -w "%{http_code}" "$GITSTORE_URL/no/such/route") &&
	test "$code" = 404
'

test_expect_success 'gitstore --help exits 0 and prints the usage on stdout' '
	gitstore --help >out 2>err &&
	grep -q "^usage: gitstore" out &&
	grep -q "serve" out &&
	grep -q "events" out &&
	gitstore -h >out2 &&
	test_cmp out out2
'

test_expect_success 'an unknown subcommand or none is a usage error (exit 2)' '
	test_expect_code 2 gitstore no-such-command >out 2>err &&
	test_must_be_empty out &&
	grep -q "no-such-command" err &&
	grep -q "usage" err &&
	test_expect_code 2 gitstore >out 2>err &&
	grep -q "usage" err &&
	test_expect_code 2 gitstore events --no-such-option >out 2>err &&
	grep -q "usage" err
'

test_expect_success 'a second serve on the same data directory waits for the first, then takes over' '
	setsid "$GITSTORE_BIN" serve --data "$GITSTORE_DATA" --listen 127.0.0.1:0 </dev/null >second.log 2>&1 &
	second=$! &&
	for i in $(seq 100); do
		grep -q "serve.lock is held: waiting" second.log && break
		sleep 0.1
	done &&
	grep -q "serve.lock is held: waiting" second.log &&
	! grep -q "gitstore: ready" second.log &&
	curl -sS --max-time 10 -f "$GITSTORE_URL/healthz" >/dev/null &&
	stop_gitstore &&
	for i in $(seq 300); do
		grep -q "gitstore: ready" second.log && break
		sleep 0.1
	done &&
	grep -q "gitstore: ready" second.log &&
	kill -TERM "$second" &&
	wait "$second"
'

test_done
