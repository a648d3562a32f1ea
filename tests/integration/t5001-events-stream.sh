#!/bin/bash
test_description='GET /api/v1/events/stream (SSE): replay, live events, Last-Event-ID, heartbeats, filters, --follow, shutdown'
. "$(dirname "$0")/lib/test-lib.sh"

# Heartbeats every 200 ms (inherited by the daemon from start_gitstore).
GITSTORE_SSE_HEARTBEAT_MS=200
export GITSTORE_SSE_HEARTBEAT_MS

# commit_push DIR URL NAME: commit NAME.md in DIR and push it to main.
commit_push () {
	echo "$3" >"$1/$3.md" && git -C "$1" add "$3.md" && test_tick &&
	git -C "$1" commit -q -m "$3" && git -C "$1" push -q "$2" HEAD:main
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

# sse_records FILE: the complete events of an SSE capture (ended by a blank
# line) as "ID<TAB>EVENT<TAB>DATA" lines; a record lacking a field gets
# "MISSING" there.
sse_records () {
	tr -d '\r' <"$1" | awk '
		/^id: / { id = substr($0, 5); next }
		/^event: / { ev = substr($0, 8); next }
		/^data: / { data = substr($0, 7); have = 1; next }
		/^$/ {
			if (have) print (id == "" ? "MISSING" : id) "\t" (ev == "" ? "MISSING" : ev) "\t" data
			id = ""; ev = ""; data = ""; have = 0
		}'
}

sse_count () {
	sse_records "$1" | wc -l
}

sse_has () {
	test "$(sse_count "$1")" -ge "$2"
}

# heartbeats FILE: the number of ": heartbeat" comment lines so far.
heartbeats () {
	tr -d '\r' <"$1" | grep -c '^: heartbeat$' || :
}

heartbeats_at_least () {
	test "$(heartbeats "$1")" -ge "$2"
}

# has_line FILE LINE: FILE has LINE (ignoring CR).
has_line () {
	tr -d '\r' <"$1" | grep -qxF -- "$2"
}

lines_at_least () {
	test "$(wc -l <"$1")" -ge "$2"
}

# proc_gone PID: PID has exited (a zombie counts as gone).
proc_gone () {
	local stat
	kill -0 "$1" 2>/dev/null || return 0
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 0
	stat=${stat##*) }
	case $stat in Z*|X*) return 0 ;; esac
	return 1
}

# stream OUT [CURL-ARGS...] QUERY: start a background SSE client (admin
# token unless CURL-ARGS give another Authorization), sets $stream_pid.
# The caller registers its kill with test_when_finished.
stream () {
	local out=$1
	shift
	test_bg curl -sN --max-time 120 -D "$out.h" -H "Authorization: Bearer ${STREAM_TOKEN:-$TOKEN}" \
		"${@:1:$#-1}" "$GITSTORE_URL/api/v1/events/stream${!#}" >"$out"
	stream_pid=$test_bg_pid
}

# check_records_match SSE-FILE EVENTS-FILE: the SSE capture's records are
# exactly the NDJSON events, with id = logseq and event = type.
check_records_match () {
	sse_records "$1" >"$1.rec" &&
	cut -f1 "$1.rec" >"$1.ids" && jq -r .logseq "$2" >"$1.ids.want" &&
	test_cmp "$1.ids.want" "$1.ids" &&
	cut -f2 "$1.rec" >"$1.types" && jq -r .type "$2" >"$1.types.want" &&
	test_cmp "$1.types.want" "$1.types" &&
	cut -f3 "$1.rec" >"$1.data" &&
	jq -S -c . "$1.data" >"$1.data.s" && jq -S -c . "$2" >"$1.data.want" &&
	test_cmp "$1.data.want" "$1.data.s"
}

test_expect_success 'setup: namespace, repository, server (heartbeat 200 ms), two pushes' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	commit_push work "$URL" one &&
	commit_push work "$URL" two &&
	gs_events >all &&
	test_line_count = 4 all
'

test_expect_success 'stream: comment, retry: 2000, then every event as id/event/data matching the list API' '
	stream s1 "?after=0" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 100 sse_has s1 4 &&
	tr -d "\r" <s1.h | grep -qi "^content-type: text/event-stream" &&
	head -n 1 s1 | grep -q "^:" &&
	tr -d "\r" <s1 | sed -n "/^id: /q;p" >prelude &&
	grep -qx "retry: 2000" prelude &&
	check_records_match s1 all &&
	sed -n "s/^data: //p" s1 >s1.nd &&
	check_cloudevents s1.nd &&
	tr -d "\r" <s1 | grep -c "^data: " >ndata &&
	echo 4 >expect &&
	test_cmp expect ndata
'

test_expect_success 'stream: events of a push made while connected arrive live' '
	N=$(ev_head) &&
	stream s2 "?after=$N" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 100 has_line s2 "retry: 2000" &&
	commit_push work "$URL" three &&
	wait_for 100 sse_has s2 2 &&
	gs_events --after "$N" >want &&
	test_line_count = 2 want &&
	check_records_match s2 want &&
	git -C work tag x-live &&
	git -C work push -q "$URL" x-live &&
	wait_for 100 sse_has s2 4 &&
	gs_events --after "$N" >want &&
	check_records_match s2 want &&
	cut -f2 s2.rec >actual &&
	printf "%s\n" dev.gitstore.branch-updated.v1 dev.gitstore.push-completed.v1 \
		dev.gitstore.tag-created.v1 dev.gitstore.push-completed.v1 >expect &&
	test_cmp expect actual
'

test_expect_success 'Last-Event-ID resumes after N (and wins over ?after=0)' '
	HEAD=$(ev_head) &&
	gs_events --after 3 >want &&
	test_line_count = $((HEAD - 3)) want &&
	stream s3 -H "Last-Event-ID: 3" "?after=0" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 100 sse_has s3 $((HEAD - 3)) &&
	n=$(heartbeats s3) &&
	wait_for 50 heartbeats_at_least s3 $((n + 1)) &&
	check_records_match s3 want
'

test_expect_success 'Last-Event-ID without ?after, then live events only after it' '
	HEAD=$(ev_head) &&
	stream s4 -H "Last-Event-ID: $HEAD" "" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 50 heartbeats_at_least s4 1 &&
	echo 0 >expect && sse_count s4 >actual && test_cmp expect actual &&
	commit_push work "$URL" four &&
	wait_for 100 sse_has s4 2 &&
	n=$(heartbeats s4) &&
	wait_for 50 heartbeats_at_least s4 $((n + 1)) &&
	gs_events --after "$HEAD" >want &&
	check_records_match s4 want
'

test_expect_success 'bad Last-Event-ID is 400' '
	code=$(curl -s --max-time 20 -o bad.body -w "%{http_code}" -H "Authorization: Bearer $TOKEN" \
		-H "Last-Event-ID: abc" "$GITSTORE_URL/api/v1/events/stream") &&
	test "$code" = 400
'

test_expect_success 'heartbeat comments arrive when idle (GITSTORE_SSE_HEARTBEAT_MS=200)' '
	stream s5 "?after=$(ev_head)" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 50 heartbeats_at_least s5 3 &&
	echo 0 >expect && sse_count s5 >actual && test_cmp expect actual
'

test_expect_success 'stream filtered by type (short and full form) and by repo' '
	N=$(ev_head) &&
	stream s6 "?after=$N&type=branch-updated&type=dev.gitstore.tag-created.v1" &&
	pid6=$stream_pid &&
	test_when_finished "kill $pid6 2>/dev/null; wait $pid6 2>/dev/null; true" &&
	stream s7 "?after=$N&repo=default/catalog&type=push-completed" &&
	pid7=$stream_pid &&
	test_when_finished "kill $pid7 2>/dev/null; wait $pid7 2>/dev/null; true" &&
	wait_for 100 has_line s6 "retry: 2000" &&
	wait_for 100 has_line s7 "retry: 2000" &&
	commit_push work "$URL" five &&
	git -C work tag x-filter &&
	git -C work push -q "$URL" x-filter &&
	git -C work push -q "$URL" HEAD:other &&
	wait_for 100 sse_has s6 2 &&
	wait_for 100 sse_has s7 3 &&
	gs_events --after "$N" >after_n &&
	test_line_count = 6 after_n &&
	jq -c "select(.type == \"dev.gitstore.branch-updated.v1\" or .type == \"dev.gitstore.tag-created.v1\")" after_n >want6 &&
	test_line_count = 2 want6 &&
	check_records_match s6 want6 &&
	jq -c "select(.type == \"dev.gitstore.push-completed.v1\")" after_n >want7 &&
	check_records_match s7 want7
'

test_expect_success 'filtered stream keeps sending heartbeats when newer events do not match' '
	N=$(ev_head) &&
	stream s8 "?after=0&type=tag-deleted" &&
	test_when_finished "kill $stream_pid 2>/dev/null; wait $stream_pid 2>/dev/null; true" &&
	wait_for 50 heartbeats_at_least s8 2 &&
	echo 0 >expect && sse_count s8 >actual && test_cmp expect actual &&
	git -C work push -q "$URL" :refs/tags/x-filter &&
	wait_for 100 sse_has s8 1 &&
	gs_events --type tag-deleted >want &&
	check_records_match s8 want
'

test_expect_success 'gitstore events --follow prints existing and new events as pushes happen' '
	test_bg "$GITSTORE_BIN" events --server "$GITSTORE_URL" --token "$TOKEN" --follow >follow.out 2>follow.err &&
	fpid=$test_bg_pid &&
	test_when_finished "kill $fpid 2>/dev/null; wait $fpid 2>/dev/null; true" &&
	HEAD=$(ev_head) &&
	wait_for 100 lines_at_least follow.out "$HEAD" &&
	commit_push work "$URL" six &&
	wait_for 100 lines_at_least follow.out $((HEAD + 2)) &&
	git -C work push -q "$URL" :other &&
	wait_for 100 lines_at_least follow.out $((HEAD + 4)) &&
	gs_events >want &&
	test_line_count = $((HEAD + 4)) want &&
	jq -S -c . follow.out >got.s && jq -S -c . want >want.s &&
	test_cmp want.s got.s &&
	check_cloudevents follow.out
'

test_expect_success 'gitstore events --follow --after N --type NAME prints only matching later events' '
	N=$(ev_head) &&
	test_bg "$GITSTORE_BIN" events --server "$GITSTORE_URL" --token "$TOKEN" --after "$N" \
		--type branch-updated --follow >follow2.out 2>follow2.err &&
	fpid=$test_bg_pid &&
	test_when_finished "kill $fpid 2>/dev/null; wait $fpid 2>/dev/null; true" &&
	sleep 0.5 &&
	test_must_be_empty follow2.out &&
	commit_push work "$URL" seven &&
	wait_for 100 lines_at_least follow2.out 1 &&
	commit_push work "$URL" eight &&
	wait_for 100 lines_at_least follow2.out 2 &&
	gs_events --after "$N" --type branch-updated >want &&
	test_line_count = 2 want &&
	jq -S -c . follow2.out >got.s && jq -S -c . want >want.s &&
	test_cmp want.s got.s
'

test_expect_success 'stop_gitstore ends open streams (curl and --follow) and the daemon exits 0' '
	stream s9 "?after=0" &&
	cpid=$stream_pid &&
	test_when_finished "kill $cpid 2>/dev/null; wait $cpid 2>/dev/null; true" &&
	test_bg "$GITSTORE_BIN" events --server "$GITSTORE_URL" --token "$TOKEN" --follow >follow3.out 2>follow3.err &&
	fpid=$test_bg_pid &&
	test_when_finished "kill $fpid 2>/dev/null; wait $fpid 2>/dev/null; true" &&
	HEAD=$(ev_head) &&
	wait_for 100 sse_has s9 "$HEAD" &&
	wait_for 100 lines_at_least follow3.out "$HEAD" &&
	stop_gitstore &&
	wait_for 100 proc_gone "$cpid" &&
	wait_for 100 proc_gone "$fpid" &&
	{ wait "$cpid"; cstatus=$?; } &&
	echo "curl exited with $cstatus" &&
	test "$cstatus" -lt 128 &&
	sse_count s9 >actual && echo "$HEAD" >expect && test_cmp expect actual
'

test_done
