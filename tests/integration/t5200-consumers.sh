#!/bin/bash
test_description='durable consumers over HTTP: create, fetch (lease), ack, nak with delay, term, ack-wait redelivery, max-deliver dead letters, filters, independence, long poll, restart, access'
. "$(dirname "$0")/lib/test-lib.sh"

# req METHOD TOKEN PATH [BODY]: the HTTP status; body in out, headers in out.h.
req () {
	local method=$1 tok=$2 path=$3 has_body=${4+x} body=${4-}
	set -- -X "$method"
	test -n "$tok" && set -- "$@" -H "Authorization: Bearer $tok"
	if test -n "$has_body"
	then
		set -- "$@" -H "Content-Type: application/json" --data-binary "$body"
	fi
	curl -s --max-time 30 -D out.h -o out -w '%{http_code}' "$@" "$GITSTORE_URL$path"
}

# expect WANT METHOD TOKEN PATH [BODY]
expect () {
	local want=$1 got
	shift
	got=$(req "$@") || return 1
	if test "$got" != "$want"
	then
		echo "$1 $3: HTTP $got, expected $want; body:" >&2
		cat out >&2
		return 1
	fi
}

commit_push () { # DIR URL NAME
	echo "$3" >"$1/$3.md" && git -C "$1" add "$3.md" && test_tick &&
	git -C "$1" commit -q -m "$3" && git -C "$1" push -q "$2" HEAD:main
}

# fetch_ok NAME QUERY: POST fetch, 200 required; the answer in out.
fetch_ok () {
	expect 200 POST "$ADMIN" "/api/v1/consumers/$1/fetch?$2" ""
}

# seqs: the logseqs in out (a fetch answer), space-separated.
seqs () {
	jq -r "[.[].logseq] | map(tostring) | join(\" \")" out
}

test_expect_success 'setup: two repositories, pushes, tokens' '
	gitstore namespace create ns-a --data "$GITSTORE_DATA" &&
	gitstore namespace create ns-b --data "$GITSTORE_DATA" &&
	gitstore repo create ns-a/x --data "$GITSTORE_DATA" &&
	gitstore repo create ns-b/y --data "$GITSTORE_DATA" &&
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	ADMIN_A=$(gs_token admin-a admin:ns-a) &&
	READER_A=$(gs_token reader-a reader:ns-a) &&
	READER_B=$(gs_token reader-b reader:ns-b) &&
	URL_A=$(gs_url_with_token "$ADMIN" ns-a/x) &&
	URL_B=$(gs_url_with_token "$ADMIN" ns-b/y) &&
	git init -q wa && git init -q wb &&
	commit_push wa "$URL_A" a1 &&
	commit_push wb "$URL_B" b1 &&
	commit_push wa "$URL_A" a2
'

test_expect_success 'create: 201, then 200 on update; the state object' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/all "{\"filter\": {\"types\": [\"branch-created\", \"dev.gitstore.branch-updated.v1\"]}, \"ackWaitSeconds\": 30, \"maxDeliver\": 5}" &&
	jq -e ".name == \"all\" and .filter.types == [\"branch-created\", \"branch-updated\"] and .filter.repo == null and .ackWaitSeconds == 30 and .maxDeliver == 5 and .pending == 0 and .deadLettered == 0 and .builtin == false" out >/dev/null &&
	expect 200 PUT "$ADMIN" /api/v1/consumers/all "{\"filter\": {\"types\": [\"branch-created\", \"branch-updated\"]}, \"ackWaitSeconds\": 60}" &&
	jq -e ".ackWaitSeconds == 60 and .maxDeliver == 5" out >/dev/null &&
	expect 200 GET "$ADMIN" /api/v1/consumers/all &&
	jq -e ".name == \"all\" and .cursor == 0" out >/dev/null
'

test_expect_success 'bad requests change nothing' '
	expect 400 PUT "$ADMIN" /api/v1/consumers/bad "{\"filter\": {\"typez\": []}}" &&
	grep -q "unknown member" out &&
	expect 400 PUT "$ADMIN" /api/v1/consumers/bad "{\"filter\": {\"types\": [\"no-such-event\"]}}" &&
	grep -q "no-such-event" out &&
	expect 400 PUT "$ADMIN" /api/v1/consumers/bad "{\"ackWaitSeconds\": 0}" &&
	expect 400 PUT "$ADMIN" /api/v1/consumers/bad "{\"maxDeliver\": -1}" &&
	expect 400 PUT "$ADMIN" /api/v1/consumers/bad "not json" &&
	expect 404 PUT "$ADMIN" /api/v1/consumers/bad "{\"filter\": {\"repo\": \"ns-a/nope\"}}" &&
	expect 400 PUT "$ADMIN" "/api/v1/consumers/-bad" "{}" &&
	expect 403 PUT "$ADMIN" /api/v1/consumers/gitstore-mine "{}" &&
	expect 404 GET "$ADMIN" /api/v1/consumers/bad &&
	expect 400 POST "$ADMIN" "/api/v1/consumers/all/fetch?max=0" "" &&
	expect 400 POST "$ADMIN" /api/v1/consumers/all/ack "{\"logseq\": []}" &&
	expect 400 POST "$ADMIN" /api/v1/consumers/all/nak "{\"logseq\": [1], \"delaySeconds\": -2}" &&
	expect 405 GET "$ADMIN" /api/v1/consumers/all/fetch
'

test_expect_success 'access: admin on the scope to create, reader to fetch; others see 404' '
	expect 401 GET "" /api/v1/consumers/all &&
	expect 403 PUT "$ADMIN_A" /api/v1/consumers/every "{}" &&
	expect 403 PUT "$READER_A" /api/v1/consumers/only-a "{\"filter\": {\"repo\": \"ns-a/x\"}}" &&
	expect 201 PUT "$ADMIN_A" /api/v1/consumers/only-a "{\"filter\": {\"repo\": \"ns-a/x\"}}" &&
	expect 200 GET "$READER_A" /api/v1/consumers/only-a &&
	expect 404 GET "$READER_B" /api/v1/consumers/only-a &&
	expect 404 POST "$READER_B" /api/v1/consumers/only-a/fetch "" &&
	expect 404 GET "$READER_A" /api/v1/consumers/all &&
	expect 200 GET "$READER_A" /api/v1/consumers &&
	jq -e "[.items[].name] == [\"only-a\"]" out >/dev/null
'

test_expect_success 'fetch leases in log order; leased events are not handed out twice; ack settles' '
	fetch_ok all "max=2" &&
	jq -e "length == 2 and all(.[]; .deliveryAttempt == 1) and (.[0].logseq < .[1].logseq)" out >/dev/null &&
	jq -e "all(.[]; .event.logseq == .logseq and (.event.type | test(\"^dev.gitstore.branch-(created|updated).v1$\")))" out >/dev/null &&
	FIRST=$(seqs) &&
	fetch_ok all "max=10" &&
	REST=$(seqs) &&
	test -n "$REST" &&
	for s in $REST; do case " $FIRST " in *" $s "*) false ;; esac; done &&
	fetch_ok all "max=10" &&
	jq -e "length == 0" out >/dev/null &&
	ALL_SEQS="$FIRST $REST" &&
	LIST=$(echo $ALL_SEQS | tr " " ",") &&
	expect 200 POST "$ADMIN" /api/v1/consumers/all/ack "{\"logseq\": [$LIST]}" &&
	jq -e ".notPending == [] and (.settled | length) == 3" out >/dev/null &&
	expect 200 POST "$ADMIN" /api/v1/consumers/all/ack "{\"logseq\": [$LIST]}" &&
	jq -e ".settled == [] and (.notPending | length) == 3" out >/dev/null &&
	expect 200 GET "$ADMIN" /api/v1/consumers/all &&
	jq -e ".pending == 0 and .leased == 0 and .cursor >= 3" out >/dev/null
'

test_expect_success 'filters: types and repository; two consumers are independent' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/tags-b "{\"filter\": {\"types\": [\"tag-created\"], \"repo\": \"ns-b/y\"}}" &&
	git -C wa tag ta && git -C wa push -q "$URL_A" ta &&
	git -C wb tag tb && git -C wb push -q "$URL_B" tb &&
	commit_push wb "$URL_B" b2 &&
	fetch_ok tags-b "max=10" &&
	jq -e "length == 1 and .[0].event.subject == \"refs/tags/tb\"" out >/dev/null &&
	fetch_ok only-a "max=100" &&
	jq -e "length > 0 and all(.[]; .event.data.repository.name == \"x\")" out >/dev/null &&
	fetch_ok all "max=10" &&
	jq -e "length == 1 and .[0].event.type == \"dev.gitstore.branch-updated.v1\" and .[0].event.data.repository.name == \"y\"" out >/dev/null &&
	B2=$(seqs) &&
	expect 200 POST "$ADMIN" /api/v1/consumers/all/ack "{\"logseq\": [$B2]}"
'

test_expect_success 'nak with delay: redelivered after it, with the attempt counted; later events of that repository wait' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/naks "{\"filter\": {\"repo\": \"ns-a/x\", \"types\": [\"branch-updated\"]}}" &&
	commit_push wa "$URL_A" a3 &&
	commit_push wa "$URL_A" a4 &&
	fetch_ok naks "max=1" &&
	FIRST=$(seqs) &&
	expect 200 POST "$ADMIN" /api/v1/consumers/naks/nak "{\"logseq\": [$FIRST], \"delaySeconds\": 2}" &&
	jq -e ".settled == [$FIRST]" out >/dev/null &&
	fetch_ok naks "max=10" &&
	jq -e "length == 0" out >/dev/null &&
	sleep 2.2 &&
	fetch_ok naks "max=10" &&
	jq -e ".[0].logseq == $FIRST and .[0].deliveryAttempt == 2 and .[1].deliveryAttempt == 1" out >/dev/null
'

test_expect_success 'ack wait: an unacked event comes back with deliveryAttempt + 1; after maxDeliver it is dead-lettered and the log says so' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/flaky "{\"filter\": {\"repo\": \"ns-b/y\", \"types\": [\"tag-created\"]}, \"ackWaitSeconds\": 1, \"maxDeliver\": 2}" &&
	fetch_ok flaky "max=1" &&
	jq -e "length == 1 and .[0].deliveryAttempt == 1" out >/dev/null &&
	TB=$(seqs) &&
	fetch_ok flaky "max=1&wait=3" &&
	jq -e "length == 1 and .[0].logseq == $TB and .[0].deliveryAttempt == 2" out >/dev/null &&
	fetch_ok flaky "max=1&wait=2" &&
	jq -e "length == 0" out >/dev/null &&
	expect 200 GET "$ADMIN" /api/v1/consumers/flaky &&
	jq -e ".deadLettered == 1 and .pending == 0" out >/dev/null &&
	expect 200 GET "$ADMIN" /api/v1/consumers/flaky/dead-letters &&
	jq -e ".items | length == 1 and .[0].logseq == $TB and .[0].deliveryAttempts == 2 and .[0].reason == \"max-deliver\" and .[0].event.subject == \"refs/tags/tb\"" out >/dev/null &&
	gs_events >all &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.event-dead-lettered.v1\")] | length == 1 and .[0].data.consumer == \"flaky\" and .[0].data.logseq == $TB and .[0].data.reason == \"max-deliver\" and .[0].subject == \"flaky\" and .[0].data.repository.name == \"y\"" all >/dev/null &&
	check_cloudevents all
'

test_expect_success 'term dead-letters at once' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/terms "{\"filter\": {\"types\": [\"tag-created\"]}}" &&
	fetch_ok terms "max=1" &&
	T=$(seqs) &&
	expect 200 POST "$ADMIN" /api/v1/consumers/terms/term "{\"logseq\": [$T]}" &&
	expect 200 GET "$ADMIN" /api/v1/consumers/terms/dead-letters &&
	jq -e ".items[0].logseq == $T and .items[0].reason == \"term\"" out >/dev/null
'

test_expect_success 'long poll: a fetch waiting for events returns when one is appended' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/waiter "{\"filter\": {\"repo\": \"ns-b/y\", \"types\": [\"branch-updated\"]}}" &&
	fetch_ok waiter "max=10" &&
	LIST=$(seqs | tr " " ",") &&
	expect 200 POST "$ADMIN" /api/v1/consumers/waiter/ack "{\"logseq\": [$LIST]}" &&
	start=$(date +%s%N) &&
	{ curl -s --max-time 30 -X POST -H "Authorization: Bearer $ADMIN" -o waited "$GITSTORE_URL/api/v1/consumers/waiter/fetch?max=10&wait=20" & } &&
	pid=$! &&
	sleep 1 &&
	commit_push wb "$URL_B" b3 &&
	wait $pid &&
	elapsed=$(( ($(date +%s%N) - start) / 1000000 )) &&
	jq -e "length == 1 and .[0].event.data.repository.name == \"y\"" waited >/dev/null &&
	test "$elapsed" -lt 15000
'

test_expect_success 'state survives a restart (SIGKILL); leases run out and are redelivered' '
	expect 201 PUT "$ADMIN" /api/v1/consumers/durable "{\"filter\": {\"repo\": \"ns-a/x\"}, \"ackWaitSeconds\": 1}" &&
	fetch_ok durable "max=2" &&
	LEASED=$(seqs) &&
	expect 200 GET "$ADMIN" /api/v1/consumers/durable &&
	jq -c "{cursor, pending, leased, deadLettered}" out >before &&
	kill_gitstore &&
	start_gitstore &&
	expect 200 GET "$ADMIN" /api/v1/consumers/durable &&
	jq -c "{cursor, pending, leased, deadLettered}" out >after &&
	test_cmp before after &&
	sleep 1.2 && # the 1 s leases have run out: the same events come back first
	fetch_ok durable "max=2" &&
	test "$(seqs)" = "$LEASED" &&
	jq -e "all(.[]; .deliveryAttempt == 2)" out >/dev/null
'

test_expect_success 'built-in consumers are listed, readable, not drivable' '
	expect 200 GET "$ADMIN" /api/v1/consumers/gitstore-catalog &&
	jq -e ".builtin == true and .pending == 0 and .maxDeliver == 0" out >/dev/null &&
	expect 403 POST "$ADMIN" /api/v1/consumers/gitstore-catalog/fetch "" &&
	expect 403 DELETE "$ADMIN" /api/v1/consumers/gitstore-lifecycle &&
	expect 200 GET "$ADMIN" /api/v1/consumers &&
	jq -e "[.items[].name] | index(\"gitstore-catalog\") and index(\"gitstore-lifecycle\")" out >/dev/null
'

test_expect_success 'gitstore events --consumer: prints, acknowledges, and resumes where it stopped' '
	URL_B=$(gs_url_with_token "$ADMIN" ns-b/y) &&
	gitstore events --server "$GITSTORE_URL" --token "$ADMIN" --consumer cli-tail --repo ns-b/y --type branch-updated >first &&
	test_line_count -ge 2 first &&
	jq -s -e "all(.[]; .type == \"dev.gitstore.branch-updated.v1\" and .data.repository.name == \"y\")" first >/dev/null &&
	gitstore events --server "$GITSTORE_URL" --token "$ADMIN" --consumer cli-tail >second &&
	test_must_be_empty second &&
	commit_push wb "$URL_B" b4 &&
	gitstore events --server "$GITSTORE_URL" --token "$ADMIN" --consumer cli-tail >third &&
	test_line_count = 1 third &&
	jq -e ".subject == \"refs/heads/main\" and .data.repository.name == \"y\"" third >/dev/null &&
	expect 200 GET "$ADMIN" /api/v1/consumers/cli-tail &&
	jq -e ".pending == 0 and .filter.repo == \"ns-b/y\"" out >/dev/null &&
	test_must_fail gitstore events --server "$GITSTORE_URL" --token "$ADMIN" --consumer "bad/name"
'

test_expect_success '/metrics: pending, lag and dead letters per consumer' '
	expect 200 GET "$ADMIN" /metrics &&
	grep -q "^gitstore_consumer_dead_lettered_total{consumer=\"flaky\"} 1$" out &&
	grep -q "^gitstore_consumer_pending{consumer=\"gitstore-catalog\"} 0$" out &&
	grep -q "^gitstore_consumer_lag_events{consumer=\"all\"} [0-9]*$" out
'

test_expect_success 'delete: 204, then 404' '
	expect 204 DELETE "$ADMIN" /api/v1/consumers/terms &&
	expect 404 GET "$ADMIN" /api/v1/consumers/terms &&
	expect 404 DELETE "$ADMIN" /api/v1/consumers/terms
'

test_done
