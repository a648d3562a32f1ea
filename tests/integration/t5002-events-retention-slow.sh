#!/bin/bash
test_description='event stream hardening: retention and 410, slow clients cut off with a final comment, many concurrent streams'
. "$(dirname "$0")/lib/test-lib.sh"

commit_push () { # DIR URL NAME
	echo "$3" >"$1/$3.md" && git -C "$1" add "$3.md" && test_tick &&
	git -C "$1" commit -q -m "$3" && git -C "$1" push -q "$2" HEAD:main
}

# get TOKEN PATH [CURL-ARGS]: status; body in out.
get () {
	local tok=$1 path=$2
	shift 2
	curl -s --max-time 20 -H "Authorization: Bearer $tok" -o out -w '%{http_code}' "$@" "$GITSTORE_URL$path"
}

head_logseq () {
	get "$ADMIN" /metrics >/dev/null &&
	sed -n 's/^gitstore_event_log_head \([0-9]*\).*/\1/p' out
}

test_expect_success 'setup' '
	gitstore namespace create ns --data "$GITSTORE_DATA" &&
	gitstore repo create ns/r --data "$GITSTORE_DATA" &&
	ADMIN=$(gs_admin_token) &&
	git init -q w
'

test_expect_success '--retention-days rejects what is not a number of days' '
	test_expect_code 2 gitstore serve --data "$GITSTORE_DATA" --retention-days abc 2>err &&
	grep -q "retention-days" err &&
	test_expect_code 2 gitstore serve --data "$GITSTORE_DATA" --retention-days -1 2>err &&
	test_expect_code 2 gitstore serve --data "$GITSTORE_DATA" --retention-days 99999999 2>err
'

test_expect_success 'retention: old events are removed; an older position gets 410 with where to resume; numbering continues' '
	GITSTORE_PRUNE_INTERVAL_MS=100 start_gitstore --retention-days 0.0001 &&
	URL=$(gs_url_with_token "$ADMIN" ns/r) &&
	commit_push w "$URL" one &&
	commit_push w "$URL" two &&
	HEAD1=$(head_logseq) &&
	test "$HEAD1" -ge 4 &&
	# 0.0001 days = 8.6 s: wait until the pruner removed both pushes
	for i in $(test_seq 1 250); do
		test "$(get "$ADMIN" "/api/v1/events?after=0")" = 410 &&
		test "$(jq .resumeAfter out)" = "$HEAD1" && break
		sleep 0.1
	done &&
	test "$(get "$ADMIN" "/api/v1/events?after=0")" = 410 &&
	jq -e ".error.code == \"expired\" and (.error.message | test(\"Re-list\")) and .resumeAfter == $HEAD1" out >/dev/null &&
	FLOOR=$HEAD1 &&
	test "$(get "$ADMIN" "/api/v1/events?after=$FLOOR")" = 200 &&
	test "$(get "$ADMIN" "/api/v1/events/stream?after=0")" = 410 &&
	test "$(get "$ADMIN" "/api/v1/events/stream" -H "Last-Event-ID: 1")" = 410 &&
	commit_push w "$URL" three &&
	test "$(get "$ADMIN" "/api/v1/events?after=$FLOOR&limit=1000")" = 200 &&
	jq -e "length >= 1 and .[0].logseq == $FLOOR + 1 and ([.[].logseq] == [range($FLOOR + 1; $FLOOR + 1 + length)])" out >/dev/null &&
	test "$(head_logseq)" -gt "$HEAD1" &&
	stop_gitstore
'

test_expect_success 'without --retention-days every event is kept' '
	start_gitstore &&
	URL=$(gs_url_with_token "$ADMIN" ns/r) &&
	commit_push w "$URL" four &&
	test "$(get "$ADMIN" "/api/v1/events?after=$FLOOR")" = 200 &&
	stop_gitstore
'

cat >slow.py <<'EOF'
import socket, sys, time
port, token, after = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(("GET /api/v1/events/stream?after=%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
           % (after, token)).encode())
data = b""
start = time.time()
open("started", "w").close()
while time.time() - start < 60:
    chunk = s.recv(256)          # a slow reader: 256 bytes every 20 ms
    if not chunk:
        break
    data += chunk
    time.sleep(0.02)
open("slow.out", "wb").write(data)
print("eof" if time.time() - start < 60 else "timeout")
EOF

test_expect_success 'a client too slow to keep up is cut off with a final comment, then resumes with Last-Event-ID' '
	# a small kernel buffer, so the burst cannot hide in it
	GITSTORE_SSE_MAX_LAG=20 GITSTORE_SSE_SLOW_MS=300 GITSTORE_SSE_SNDBUF=8192 start_gitstore &&
	URL=$(gs_url_with_token "$ADMIN" ns/r) &&
	H=$(head_logseq) &&
	rm -f started &&
	{ /usr/bin/python3 slow.py "$GITSTORE_PORT" "$ADMIN" "$H" >slow.result & } &&
	pid=$! &&
	for i in $(test_seq 1 50); do test -f started && break; sleep 0.1; done &&
	sleep 0.3 &&
	for i in $(test_seq 1 300); do git -C w tag "t$i" || return 1; done &&
	# one atomic push: its ref events are appended at once, a burst
	git -C w push -q --atomic "$URL" --tags &&
	wait $pid &&
	test "$(cat slow.result)" = eof &&
	tr -d "\r" <slow.out | grep "^: disconnected: this client is too slow to keep up" >final &&
	test_line_count = 1 final &&
	RESUME=$(sed -n "s/.*Last-Event-ID: \([0-9]*\) to resume.*/\1/p" final) &&
	LAST_ID=$(tr -d "\r" <slow.out | sed -n "s/^id: //p" | tail -n 1) &&
	test "$RESUME" = "${LAST_ID:-$H}" &&
	# nothing after the comment
	test "$(tr -d "\r" <slow.out | sed -n "/^: disconnected/,\$p" | grep -c "^id: ")" = 0 &&
	# the client resumes where it was cut off and gets the rest
	curl -s --max-time 3 -H "Authorization: Bearer $ADMIN" -H "Last-Event-ID: $RESUME" \
		"$GITSTORE_URL/api/v1/events/stream?type=tag-created" >rest || test $? = 28 &&
	test "$(tr -d "\r" <rest | grep -c "^id: ")" -ge 1 &&
	grep -q "disconnecting a slow event stream" "$TRASH/gitstore.log"
'

test_expect_success 'many concurrent streams all get a new event' '
	H=$(head_logseq) &&
	pids= &&
	for i in $(test_seq 1 40); do
		{ curl -s -N --max-time 15 -H "Authorization: Bearer $ADMIN" \
			"$GITSTORE_URL/api/v1/events/stream?after=$H&type=branch-updated" >"s$i" & } &&
		pids="$pids $!" || return 1
	done &&
	for i in $(test_seq 1 100); do
		get "$ADMIN" /metrics >/dev/null &&
		test "$(sed -n "s/^gitstore_sse_clients \([0-9]*\).*/\1/p" out)" -ge 40 && break
		sleep 0.1
	done &&
	commit_push w "$URL" five &&
	for i in $(test_seq 1 40); do
		for j in $(test_seq 1 100); do grep -q "^event: dev.gitstore.branch-updated.v1" "s$i" && break; sleep 0.1; done
		grep -q "^event: dev.gitstore.branch-updated.v1" "s$i" || { echo "stream $i got nothing" >&2; return 1; }
	done &&
	kill $pids 2>/dev/null; true
'

test_done
