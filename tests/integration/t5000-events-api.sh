#!/bin/bash
test_description='GET /api/v1/events: paging, filters, errors, content type, namespace scoping'
. "$(dirname "$0")/lib/test-lib.sh"

# commit_push DIR URL NAME: commit NAME.md in DIR and push it to main.
commit_push () {
	echo "$3" >"$1/$3.md" && git -C "$1" add "$3.md" && test_tick &&
	git -C "$1" commit -q -m "$3" && git -C "$1" push -q "$2" HEAD:main
}

# api TOKEN PATH-AND-QUERY OUT [CURL-ARGS...]: GET with a Bearer token
# (none when TOKEN is empty), body to OUT, headers to OUT.h; prints the
# HTTP status.
api () {
	local tok=$1 path=$2 out=$3
	shift 3
	if test -n "$tok"
	then
		set -- -H "Authorization: Bearer $tok" "$@"
	fi
	curl -s --max-time 20 -D "$out.h" -o "$out" -w '%{http_code}' "$@" "$GITSTORE_URL$path"
}

# header FILE NAME: the value of header NAME in FILE (curl -D output).
header () {
	tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^ +/, "", v); print v } }'
}

# expect_status WANT TOKEN PATH: GET PATH and require status WANT.
expect_status () {
	local got
	got=$(api "$2" "$3" status.body) || return 1
	if test "$got" != "$1"
	then
		echo "GET $3: HTTP $got, expected $1; body:" >&2
		cat status.body >&2
		return 1
	fi
}

# ndjson FILE: the array in FILE as one event per line.
ndjson () {
	jq -c '.[]' "$1"
}

# wait_for TENTHS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for () {
	local i=0 n=$1
	shift
	until "$@"
	do
		test "$i" -ge "$n" && { echo "wait_for: timed out: $*" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

# sse_count FILE: the number of complete events (data line, then a blank
# line) that arrived in FILE so far.
sse_count () {
	tr -d '\r' <"$1" | awk '/^data: / { d = 1; next } /^$/ { if (d) n++; d = 0 } END { print n + 0 }'
}

sse_ids_at_least () {
	test "$(sse_count "$1")" -ge "$2"
}

test_expect_success 'setup: namespaces ns-a and ns-b, repos, server, pushes in all' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	gitstore namespace create ns-a --data "$GITSTORE_DATA" &&
	gitstore namespace create ns-b --data "$GITSTORE_DATA" &&
	gitstore repo create ns-a/x --data "$GITSTORE_DATA" &&
	gitstore repo create ns-b/x --data "$GITSTORE_DATA" &&
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	READER_A=$(gs_token reader-a reader:ns-a) &&
	WRITER_B=$(gs_token writer-b writer:ns-b) &&
	READER_ALL=$(gs_token reader-all "reader:*") &&
	READER_AB=$(gs_token reader-ab reader:ns-a reader:ns-b) &&
	URL_D=$(gs_url_with_token "$ADMIN" default/catalog) &&
	URL_A=$(gs_url_with_token "$ADMIN" ns-a/x) &&
	URL_B=$(gs_url_with_token "$ADMIN" ns-b/x) &&
	git init -q wd && git init -q wa && git init -q wb &&
	commit_push wd "$URL_D" d1 &&
	commit_push wa "$URL_A" a1 &&
	commit_push wb "$URL_B" b1 &&
	commit_push wd "$URL_D" d2 &&
	commit_push wa "$URL_A" a2 &&
	commit_push wb "$URL_B" b2 &&
	commit_push wd "$URL_D" d3 &&
	git -C wd push -q "$URL_D" HEAD:feature &&
	git -C wa tag t1 &&
	git -C wa push -q "$URL_A" t1 &&
	gs_events >all &&
	check_cloudevents all &&
	TOTAL=$(wc -l <all) &&
	test "$TOTAL" -ge 18 &&
	jq -s -e "[.[].logseq] == [range(1; length+1)]" all >/dev/null
'

test_expect_success 'default page: JSON array in logseq order, batch content type, Gitstore-Last-Logseq' '
	expect_status 200 "$ADMIN" "/api/v1/events" &&
	cp status.body page &&
	header status.body.h Content-Type >ct &&
	grep -q "^application/cloudevents-batch+json" ct &&
	jq -e "type == \"array\"" page >/dev/null &&
	ndjson page >page.nd &&
	test_cmp all page.nd &&
	check_cloudevents page.nd &&
	echo "$TOTAL" >expect &&
	header status.body.h Gitstore-Last-Logseq >actual &&
	test_cmp expect actual
'

test_expect_success 'Basic auth (password = token) works too' '
	code=$(curl -s --max-time 20 -o basic.body -w "%{http_code}" -u "x:$ADMIN" "$GITSTORE_URL/api/v1/events") &&
	test "$code" = 200 &&
	ndjson basic.body >basic.nd &&
	test_cmp all basic.nd
'

test_expect_success 'paging with after/limit visits every event once, in order' '
	after=0 && pages=0 && : >paged &&
	while test "$pages" -lt 50
	do
		expect_status 200 "$ADMIN" "/api/v1/events?after=$after&limit=4" || return 1
		n=$(jq length status.body) &&
		test "$n" -le 4 || return 1
		test "$n" = 0 && break
		ndjson status.body >>paged &&
		jq -e "all(.[]; .logseq > $after)" status.body >/dev/null &&
		last=$(jq ".[-1].logseq" status.body) &&
		test "$(header status.body.h Gitstore-Last-Logseq)" = "$last" || return 1
		after=$last && pages=$((pages + 1))
	done &&
	test "$pages" = $(( (TOTAL + 3) / 4 )) &&
	test_cmp all paged
'

test_expect_success 'limit=1 and limit=1000 are accepted; after skips exactly N events' '
	expect_status 200 "$ADMIN" "/api/v1/events?limit=1" &&
	jq -e "length == 1 and .[0].logseq == 1" status.body >/dev/null &&
	expect_status 200 "$ADMIN" "/api/v1/events?limit=1000" &&
	jq -e "length == $TOTAL" status.body >/dev/null &&
	expect_status 200 "$ADMIN" "/api/v1/events?after=5&limit=3" &&
	jq -e "[.[].logseq] == [6,7,8]" status.body >/dev/null &&
	expect_status 200 "$ADMIN" "/api/v1/events?after=$TOTAL" &&
	jq -e ". == []" status.body >/dev/null &&
	expect_status 200 "$ADMIN" "/api/v1/events?after=999999" &&
	jq -e ". == []" status.body >/dev/null
'

test_expect_success 'filter repo=ns/name returns exactly that repository' '
	for r in default/catalog ns-a/x ns-b/x
	do
		expect_status 200 "$ADMIN" "/api/v1/events?repo=$r" || return 1
		ndjson status.body >got &&
		jq -c --arg ns "${r%/*}" --arg n "${r#*/}" \
			"select(.data.repository.namespace == \$ns and .data.repository.name == \$n)" all >want &&
		test -s want &&
		test_cmp want got || return 1
	done
'

test_expect_success 'filter type=NAME (single)' '
	expect_status 200 "$ADMIN" "/api/v1/events?type=branch-created" &&
	ndjson status.body >got &&
	jq -c "select(.type == \"dev.gitstore.branch-created.v1\")" all >want &&
	test_line_count = 4 want &&
	test_cmp want got
'

test_expect_success 'filter type repeated is a union, still in logseq order' '
	expect_status 200 "$ADMIN" "/api/v1/events?type=branch-created&type=tag-created" &&
	ndjson status.body >got &&
	jq -c "select(.type == \"dev.gitstore.branch-created.v1\" or .type == \"dev.gitstore.tag-created.v1\")" all >want &&
	test_line_count = 5 want &&
	test_cmp want got
'

test_expect_success 'filter type in full CloudEvents form equals the short form' '
	expect_status 200 "$ADMIN" "/api/v1/events?type=push-completed" &&
	cp status.body short &&
	expect_status 200 "$ADMIN" "/api/v1/events?type=dev.gitstore.push-completed.v1" &&
	test_cmp short status.body &&
	jq -e "length == 9 and all(.[]; .type == \"dev.gitstore.push-completed.v1\")" short >/dev/null &&
	expect_status 200 "$ADMIN" "/api/v1/events?type=dev.gitstore.branch-updated.v1&type=tag-created" &&
	ndjson status.body >got &&
	jq -c "select(.type == \"dev.gitstore.branch-updated.v1\" or .type == \"dev.gitstore.tag-created.v1\")" all >want &&
	test_cmp want got
'

test_expect_success 'filters combine with each other and with after/limit' '
	expect_status 200 "$ADMIN" "/api/v1/events?repo=default/catalog&type=branch-created&type=branch-updated" &&
	ndjson status.body >got &&
	jq -c "select(.data.repository.namespace == \"default\" and
		(.type == \"dev.gitstore.branch-created.v1\" or .type == \"dev.gitstore.branch-updated.v1\"))" all >want &&
	test_line_count = 4 want &&
	test_cmp want got &&
	second=$(sed -n 2p want | jq .logseq) &&
	expect_status 200 "$ADMIN" "/api/v1/events?repo=default/catalog&type=branch-created&type=branch-updated&after=$second&limit=1" &&
	ndjson status.body >got &&
	sed -n 3p want >want3 &&
	test_cmp want3 got &&
	test "$(header status.body.h Gitstore-Last-Logseq)" = "$(jq .logseq want3)"
'

test_expect_success 'gitstore events --repo/--type print the same as the API' '
	gs_events --repo ns-a/x >cli &&
	jq -c "select(.data.repository.namespace == \"ns-a\")" all >want &&
	test_cmp want cli &&
	gs_events --type branch-created --type dev.gitstore.tag-created.v1 >cli &&
	jq -c "select(.type == \"dev.gitstore.branch-created.v1\" or .type == \"dev.gitstore.tag-created.v1\")" all >want &&
	test_cmp want cli &&
	gs_events --after 3 >cli &&
	jq -c "select(.logseq > 3)" all >want &&
	test_cmp want cli
'

test_expect_success 'bad after/limit/type/repo are 400, unknown repo is 404' '
	for q in after=abc after=-1 after=1.5 "after=" after=99999999999999999999999 \
		limit=0 limit=1001 limit=abc limit=-3 "limit=" \
		type=nope type=dev.gitstore.nope.v1 type=branch-created.v1 "type=branch-created&type=bogus" \
		"type=" repo=noslash
	do
		expect_status 400 "$ADMIN" "/api/v1/events?$q" || return 1
	done &&
	expect_status 404 "$ADMIN" "/api/v1/events?repo=default/nope" &&
	expect_status 404 "$ADMIN" "/api/v1/events?repo=ns-zzz/x" &&
	expect_status 404 "$READER_ALL" "/api/v1/events?repo=ns-a/nope"
'

test_expect_success 'anonymous and unknown tokens get 401 (list and stream)' '
	expect_status 401 "" "/api/v1/events" &&
	header status.body.h WWW-Authenticate >challenge &&
	test -s challenge &&
	expect_status 401 "not-a-real-token" "/api/v1/events" &&
	expect_status 401 "" "/api/v1/events/stream" &&
	expect_status 401 "not-a-real-token" "/api/v1/events/stream?after=0" &&
	code=$(curl -s --max-time 20 -o anon.body -w "%{http_code}" -u "x:wrong" "$GITSTORE_URL/api/v1/events") &&
	test "$code" = 401
'

test_expect_success 'reader:ns-a sees only ns-a events (list)' '
	expect_status 200 "$READER_A" "/api/v1/events" &&
	ndjson status.body >got &&
	jq -c "select(.data.repository.namespace == \"ns-a\")" all >want &&
	test_line_count -ge 6 want &&
	test_cmp want got &&
	test "$(header status.body.h Gitstore-Last-Logseq)" = "$(tail -n 1 want | jq .logseq)" &&
	expect_status 200 "$READER_A" "/api/v1/events?type=push-completed" &&
	jq -e "length == 3 and all(.[]; .data.repository.namespace == \"ns-a\")" status.body >/dev/null &&
	expect_status 200 "$READER_A" "/api/v1/events?repo=ns-a/x&limit=2" &&
	ndjson status.body >got &&
	head -n 2 want >want2 &&
	test_cmp want2 got
'

test_expect_success 'reader:ns-a asking repo=ns-b/x (or default/catalog) gets 403' '
	expect_status 403 "$READER_A" "/api/v1/events?repo=ns-b/x" &&
	expect_status 403 "$READER_A" "/api/v1/events?repo=default/catalog" &&
	expect_status 403 "$READER_A" "/api/v1/events/stream?repo=ns-b/x"
'

test_expect_success 'writer:ns-b sees ns-b only; reader:* and admin:* see all; two grants see both' '
	expect_status 200 "$WRITER_B" "/api/v1/events" &&
	ndjson status.body >got &&
	jq -c "select(.data.repository.namespace == \"ns-b\")" all >want &&
	test_cmp want got &&
	expect_status 200 "$READER_ALL" "/api/v1/events" &&
	ndjson status.body >got &&
	test_cmp all got &&
	expect_status 200 "$ADMIN" "/api/v1/events" &&
	jq -e "[.[].data.repository.namespace] | unique == [\"default\", \"ns-a\", \"ns-b\"]" status.body >/dev/null &&
	expect_status 200 "$READER_AB" "/api/v1/events" &&
	ndjson status.body >got &&
	jq -c "select(.data.repository.namespace != \"default\")" all >want &&
	test_cmp want got
'

test_expect_success 'gitstore events with a reader:ns-a token prints only ns-a events' '
	gitstore events --server "$GITSTORE_URL" --token "$READER_A" >cli &&
	jq -c "select(.data.repository.namespace == \"ns-a\")" all >want &&
	test_cmp want cli
'

test_expect_success 'reader:ns-a sees only ns-a events in the stream; admin sees both' '
	NA=$(jq -c "select(.data.repository.namespace == \"ns-a\")" all | wc -l) &&
	test_bg curl -sN --max-time 60 -H "Authorization: Bearer $READER_A" \
		"$GITSTORE_URL/api/v1/events/stream?after=0" >stream.a &&
	pid_a=$test_bg_pid &&
	test_when_finished "kill $pid_a 2>/dev/null; wait $pid_a 2>/dev/null; true" &&
	test_bg curl -sN --max-time 60 -H "Authorization: Bearer $ADMIN" \
		"$GITSTORE_URL/api/v1/events/stream?after=0" >stream.all &&
	pid_all=$test_bg_pid &&
	test_when_finished "kill $pid_all 2>/dev/null; wait $pid_all 2>/dev/null; true" &&
	wait_for 100 sse_ids_at_least stream.a "$NA" &&
	wait_for 100 sse_ids_at_least stream.all "$TOTAL" &&
	commit_push wb "$URL_B" b3 &&
	commit_push wa "$URL_A" a3 &&
	wait_for 100 sse_ids_at_least stream.a $((NA + 2)) &&
	wait_for 100 sse_ids_at_least stream.all $((TOTAL + 4)) &&
	gs_events >all2 &&
	sed -n "s/^data: //p" stream.a >a.nd &&
	jq -c "select(.data.repository.namespace == \"ns-a\")" all2 >want &&
	test_line_count = $((NA + 2)) want &&
	jq -S -c . a.nd >got.s && jq -S -c . want >want.s &&
	test_cmp want.s got.s &&
	sed -n "s/^data: //p" stream.all >all.nd &&
	jq -S -c . all.nd >got.s && jq -S -c . all2 >want.s &&
	test_cmp want.s got.s &&
	check_cloudevents a.nd
'

test_done
