#!/bin/bash
test_description='outbox relay to NATS JetStream (gitstore serve --nats), against a
real nats-server -js on 127.0.0.1: every log event lands in stream GITSTORE
exactly once (Nats-Msg-Id = event id, subject gitstore.<ns>.<repo>.<name>,
content-type application/cloudevents+json, payload as stored) and in log
order; a SIGKILL of gitstore, a crash between PubAck and cursor
(relay-after-publish), a stopped and a hung nats-server lose and duplicate
nothing, and pushes stay fast while NATS is unavailable; the relay metrics;
a bad --nats URL is refused at start-up'
. "$(dirname "$0")/lib/test-lib.sh"

# A push while NATS is unavailable must finish well under the relay's ack
# timeout and backoff ceiling (5 s): a push that waited on the relay would
# take at least that long.
PUSH_MAX_MS=3000

nats_tool () {
	/usr/bin/python3 "$TEST_LIB_DIR/nats_tool.py" "$@"
}

# start_nats: nats-server with JetStream on 127.0.0.1:$NATS_PORT, its
# store in the trash directory (kept across restarts), logging to
# nats.log; waits until JetStream answers. Stopped by stop_nats, or by the
# test library at exit (it is a background job of this shell).
start_nats () {
	# (separate commands: "a && b &" would background a subshell, and $!
	# would not be nats-server)
	echo "=== start_nats on port $NATS_PORT" >>"$TRASH/nats.log"
	setsid nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$TRASH/nats-store" \
		</dev/null >>"$TRASH/nats.log" 2>&1 3>&- 4>&- 5>&- 7>&- &
	NATS_PID=$!
	nats_tool wait --port "$NATS_PORT" --timeout 20 || {
		tail -n 20 "$TRASH/nats.log" >&2
		return 1
	}
}

# stop_nats: SIGTERM (nats-server flushes its store and exits), wait.
stop_nats () {
	kill -TERM "$NATS_PID" &&
	if ! _gs_wait_gone "$NATS_PID" 200
	then
		echo "stop_nats: nats-server still running 20 s after SIGTERM" >&2
		kill -KILL "$NATS_PID"
		return 1
	fi
	wait "$NATS_PID" 2>/dev/null
	return 0
}

start_relay () {
	start_gitstore --nats "nats://127.0.0.1:$NATS_PORT" &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	URL2=$(gs_url_with_token "$TOKEN" default/other)
}

# metric NAME: one sample of GET /metrics
metric () {
	curl -sf "$GITSTORE_URL/metrics" | sed -n "s/^$1 //p"
}

# wait_until TENTHS CMD...: poll CMD every 0.1 s until it succeeds, or
# fail after TENTHS tries.
wait_until () {
	local n=$1 i=0
	shift
	until "$@"
	do
		if test $i -ge "$n"
		then
			echo "wait_until: still false after $((n / 10)) s: $*" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

log_head () {
	nats_tool log --db "$GITSTORE_DATA/gitstore.db" | wc -l
}

stream_count () {
	nats_tool req --port "$NATS_PORT" '$JS.API.STREAM.INFO.GITSTORE' | jq -r .state.messages
}

relay_caught_up () {
	test "$(metric gitstore_relay_lag_events)" = 0 &&
	test "$(metric gitstore_relay_cursor)" = "$(metric gitstore_event_log_head)"
}

commit_push () { # commit_push URL FILE [GIT PUSH ARGS...]
	local url=$1 f=$2
	shift 2
	echo "$f" >"work/$f" && git -C work add -A && test_tick &&
	git -C work commit -q -m "$f" &&
	git -C work push -q "$url" "${@:-HEAD:main}"
}

# timed_push URL FILE: commit_push, and fail if it took PUSH_MAX_MS or more
timed_push () {
	local t0 ms
	t0=$(date +%s%N) &&
	commit_push "$@" &&
	ms=$(( ($(date +%s%N) - t0) / 1000000 )) &&
	echo "push of $2 took $ms ms" &&
	if test "$ms" -ge "$PUSH_MAX_MS"
	then
		echo "push of $2 took $ms ms (limit $PUSH_MAX_MS ms) while NATS was unavailable" >&2
		return 1
	fi
}

# check_stream: the stream holds exactly the log, in log order: message
# count, then per message (stream order) subject and Nats-Msg-Id against
# each event (log order) with the subject derived here from the stored
# JSON; the content-type header; the payload byte for byte; and per
# subject the logseqs only increase.
check_stream () {
	nats_tool log --db "$GITSTORE_DATA/gitstore.db" >log.ndjson &&
	nats_tool dump --port "$NATS_PORT" >stream.ndjson &&
	nats_tool req --port "$NATS_PORT" '$JS.API.STREAM.INFO.GITSTORE' >info.json &&
	N=$(wc -l <log.ndjson) &&
	test "$N" -gt 0 &&
	jq -r ".state | \"\(.messages) \(.first_seq) \(.last_seq)\"" info.json >actual &&
	echo "$N 1 $N" >expect &&
	test_cmp expect actual &&
	jq -r ".json | fromjson |
		\"gitstore.\(.data.repository.namespace).\(.data.repository.name).\(.type |
		ltrimstr(\"dev.gitstore.\") | rtrimstr(\".v1\")) \(.id)\"" log.ndjson >subjects.expect &&
	jq -r "\"\(.subject) \(.msgid)\"" stream.ndjson >subjects.actual &&
	test_cmp subjects.expect subjects.actual &&
	jq -r .ctype stream.ndjson | sort -u >actual &&
	echo application/cloudevents+json >expect &&
	test_cmp expect actual &&
	jq -r .json log.ndjson >expect &&
	jq -r .data stream.ndjson >actual &&
	test_cmp expect actual &&
	jq -r "\"\(.subject) \(.data | fromjson | .logseq)\"" stream.ndjson >order &&
	awk '{ if (($1 in last) && $2 <= last[$1]) { print "out of order: " $0 " after " last[$1]; bad = 1 }
		last[$1] = $2 } END { exit bad }' order
}

# caught_up_and_complete: the relay reports no lag and the stream has as
# many messages as the log has events
caught_up_and_complete () {
	relay_caught_up && test "$(stream_count)" = "$(log_head)"
}

product () { # product NAME TITLE
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\nspec:\n  title: "%s"\n---\nBody of %s.\n' \
		"$1" "$2" "$1"
}

test_expect_success 'setup: nats-server -js, gitstore --nats, pushes to two repositories' '
	command -v nats-server &&
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	gitstore repo create default/other --data "$GITSTORE_DATA" &&
	TOKEN=$(gs_admin_token) &&
	NATS_PORT=$(nats_tool free-port) &&
	start_nats &&
	start_relay &&
	git init -q work && mkdir work/products &&
	product boot "Trail Boot" >work/products/boot.md &&
	commit_push "$URL" a.md &&
	commit_push "$URL" b.md HEAD:main HEAD:refs/tags/t1 &&
	commit_push "$URL2" c.md HEAD:main &&
	commit_push "$URL" d.md HEAD:refs/heads/topic &&
	wait_until 200 eval "gs_events --type catalog-admission-evaluated | grep -q boot" &&
	wait_until 300 caught_up_and_complete &&
	grep "comp=relay.*stream GITSTORE created; publishing after logseq 0" gitstore.log
'

test_expect_success 'stream GITSTORE: subjects gitstore.>, file storage' '
	nats_tool req --port "$NATS_PORT" "\$JS.API.STREAM.INFO.GITSTORE" >info.json &&
	jq -c "[.config.name, .config.subjects, .config.storage]" info.json >actual &&
	echo "[\"GITSTORE\",[\"gitstore.>\"],\"file\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'every event is published once: subject, Nats-Msg-Id, content-type, payload as stored' '
	check_stream &&
	jq -r ".json | fromjson | .type" log.ndjson | sort -u >types &&
	grep -x dev.gitstore.tag-created.v1 types &&
	grep -x dev.gitstore.catalog-admission-evaluated.v1 types &&
	grep "^gitstore\.default\.other\.branch-created " subjects.actual &&
	grep "^gitstore\.default\.catalog\.catalog-resource-parsed " subjects.actual
'

test_expect_success 'order per subject is log order' '
	jq -r "\"\(.subject) \(.data | fromjson | .logseq)\"" stream.ndjson >order &&
	sort -s -k1,1 order >by_subject &&
	sort -k1,1 -k2,2n order >expect &&
	test_cmp expect by_subject &&
	test "$(cut -d" " -f1 order | sort | uniq -d | wc -l)" -gt 0
'

test_expect_success 'metrics: lag 0, cursor = log head, every publish acknowledged, connected' '
	H=$(log_head) &&
	test "$(metric gitstore_relay_lag_events)" = 0 &&
	test "$(metric gitstore_relay_cursor)" = "$H" &&
	test "$(metric gitstore_event_log_head)" = "$H" &&
	test "$(metric gitstore_relay_published_total)" = "$H" &&
	test "$(metric gitstore_relay_duplicates_total)" = 0 &&
	test "$(metric gitstore_relay_publish_errors_total)" = 0 &&
	test "$(metric gitstore_relay_connected)" = 1 &&
	test "$(nats_tool cursor --db "$GITSTORE_DATA/gitstore.db" relay:nats)" = "$H"
'

# lag_zero_ms: milliseconds until the relay reports no lag (polled every
# 20 ms, at most 5 s)
lag_zero_ms () {
	local t0 i=0
	t0=$(date +%s%N)
	until test "$(metric gitstore_relay_lag_events)" = 0
	do
		test $i -lt 250 || return 1
		sleep 0.02
		i=$((i + 1))
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# The relay sleeps on the log's notifier; were it polling instead (its
# idle check is every second), five pushes would take ~2.5 s in all.
test_expect_success 'new events reach the stream promptly (woken by the log, not by a poll)' '
	total=0 &&
	for f in w1.md w2.md w3.md w4.md w5.md
	do
		commit_push "$URL" $f &&
		ms=$(lag_zero_ms) &&
		echo "$f: published $ms ms after the push returned" &&
		total=$((total + ms)) || return 1
	done &&
	echo "total $total ms" &&
	test "$total" -lt 1500
'

test_expect_success 'SIGKILL of gitstore right after a push: after restart nothing is lost or duplicated' '
	commit_push "$URL" e.md &&
	kill_gitstore &&
	start_relay &&
	commit_push "$URL" f.md &&
	wait_until 300 caught_up_and_complete &&
	check_stream
'

test_expect_success 'an existing stream keeps its configuration' '
	jq -c ".config | .description = \"kept by t5100\"" info.json >config.json &&
	nats_tool req --port "$NATS_PORT" "\$JS.API.STREAM.UPDATE.GITSTORE" "$(cat config.json)" >/dev/null &&
	stop_gitstore &&
	start_relay &&
	wait_until 100 eval "grep -q \"stream GITSTORE exists\" gitstore.log" &&
	nats_tool req --port "$NATS_PORT" "\$JS.API.STREAM.INFO.GITSTORE" >info.json &&
	jq -r .config.description info.json >actual &&
	echo "kept by t5100" >expect &&
	test_cmp expect actual
'

test_expect_success 'relay-after-publish fault: the daemon exits 137 with events acknowledged but not recorded' '
	stop_gitstore &&
	stop_nats &&
	eval "GITSTORE_TEST_FAULT=relay-after-publish start_relay" &&
	timed_push "$URL" g.md &&
	timed_push "$URL" h.md &&
	H=$(log_head) &&
	C=$(nats_tool cursor --db "$GITSTORE_DATA/gitstore.db" relay:nats) &&
	test "$C" -lt "$H" &&
	start_nats &&
	test_expect_code 137 wait_gitstore_exit &&
	grep "test fault relay-after-publish" gitstore.log &&
	test "$(nats_tool cursor --db "$GITSTORE_DATA/gitstore.db" relay:nats)" = "$C" &&
	test "$(stream_count)" = "$H"
'

test_expect_success 'relay-after-publish: the restarted relay republishes them and the broker drops every one' '
	start_relay &&
	wait_until 300 caught_up_and_complete &&
	test "$(metric gitstore_relay_duplicates_total)" = "$((H - C))" &&
	test "$(metric gitstore_relay_published_total)" = "$((H - C))" &&
	check_stream
'

test_expect_success 'nats-server stopped: pushes stay fast, the relay waits; restarted on the same port and store, it catches up' '
	E0=$(metric gitstore_relay_publish_errors_total) &&
	stop_nats &&
	wait_until 100 eval "test \"\$(metric gitstore_relay_connected)\" = 0" &&
	timed_push "$URL" i.md &&
	timed_push "$URL2" j.md HEAD:main &&
	timed_push "$URL" k.md &&
	test "$(metric gitstore_relay_lag_events)" -gt 0 &&
	wait_until 100 eval "test \"\$(metric gitstore_relay_publish_errors_total)\" -gt $E0" &&
	start_nats &&
	wait_until 300 caught_up_and_complete &&
	test "$(metric gitstore_relay_connected)" = 1 &&
	check_stream
'

test_expect_success 'nats-server hung (SIGSTOP): pushes stay fast, publishes time out; after SIGCONT nothing is lost or duplicated' '
	test_when_finished "kill -CONT \$NATS_PID 2>/dev/null || :" &&
	E0=$(metric gitstore_relay_publish_errors_total) &&
	kill -STOP "$NATS_PID" &&
	timed_push "$URL" l.md &&
	timed_push "$URL" m.md &&
	timed_push "$URL2" n.md HEAD:main &&
	wait_until 150 eval "test \"\$(metric gitstore_relay_publish_errors_total)\" -gt $E0" &&
	test "$(metric gitstore_relay_lag_events)" -gt 0 &&
	kill -CONT "$NATS_PID" &&
	wait_until 300 caught_up_and_complete &&
	check_stream
'

test_expect_success 'nats-server killed while hung with publishes in flight: they are published again, nothing lost' '
	test_when_finished "kill -CONT \$NATS_PID 2>/dev/null || :" &&
	E0=$(metric gitstore_relay_publish_errors_total) &&
	C=$(metric gitstore_relay_cursor) &&
	kill -STOP "$NATS_PID" &&
	timed_push "$URL" p.md &&
	timed_push "$URL2" q.md HEAD:main &&
	wait_until 150 eval "test \"\$(metric gitstore_relay_publish_errors_total)\" -gt $E0" &&
	test "$(metric gitstore_relay_cursor)" = "$C" &&
	kill -KILL "$NATS_PID" &&
	{ wait "$NATS_PID" 2>/dev/null; true; } &&
	start_nats &&
	wait_until 300 caught_up_and_complete &&
	check_stream
'

test_expect_success 'a bad --nats URL is refused at start-up (exit 2, clear message, nothing created)' '
	for u in http://127.0.0.1:4222 nats:// nats://127.0.0.1:0 nats://127.0.0.1:65536 nats://127.0.0.1:42x \
		"nats://u:p@127.0.0.1:4222" nats://127.0.0.1:4222/x "nats://a:1,nats://b:2" ""
	do
		test_expect_code 2 gitstore serve --data "$TRASH/never" --listen 127.0.0.1:0 --nats "$u" 2>err &&
		grep "gitstore: --nats.*expected nats://HOST:PORT\|gitstore: --nats.*port must be\|gitstore: --nats.*host" err &&
		test_path_is_missing "$TRASH/never" || return 1
	done &&
	test_expect_code 2 gitstore serve --data "$TRASH/never" --nats 2>err &&
	grep "usage: gitstore serve .*--nats nats://HOST:PORT" err
'

test_expect_success 'without --nats there is no relay (no relay metrics, cursor untouched)' '
	stop_gitstore &&
	C=$(nats_tool cursor --db "$GITSTORE_DATA/gitstore.db" relay:nats) &&
	start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	commit_push "$URL" o.md &&
	curl -sf "$GITSTORE_URL/metrics" >metrics &&
	! grep gitstore_relay_ metrics &&
	test "$(nats_tool cursor --db "$GITSTORE_DATA/gitstore.db" relay:nats)" = "$C" &&
	stop_gitstore &&
	stop_nats
'

test_done
