#!/bin/bash
test_description='large pushes: chunked request bodies streamed to git, content intact'
. "$(dirname "$0")/lib/test-lib.sh"

tgit () {
	timeout 300 git "$@"
}

# hwm_kb: the daemon's peak resident set size so far, in KiB.
hwm_kb () {
	awk '/^VmHWM:/ { print $2 }' "/proc/$GITSTORE_PID/status"
}

# sent_chunked TRACE SERVICE: GIT_TRACE_CURL shows a POST to SERVICE sent
# with Transfer-Encoding: chunked.
sent_chunked () {
	awk -v svc="$2" '
		/=> Send header: POST / { post = index($0, "/" svc " ") > 0 }
		post && /=> Send header: Transfer-Encoding: chunked/ { found = 1 }
		END { exit !found }
	' "$1"
}

test_expect_success 'setup: namespace, repository, server, first commit' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	WTOKEN=$(gs_token walt writer:default) &&
	WURL=$(gs_url_with_token "$WTOKEN" default/catalog) &&
	git init -q work &&
	echo hello >work/README.md &&
	git -C work add README.md &&
	test_tick && git -C work commit -q -m first &&
	tgit -C work push -q "$URL" HEAD:main
'

test_expect_success 'push of ~30 MB of incompressible data is sent chunked and accepted' '
	N=$(ev_head) &&
	OLD=$(git -C work rev-parse HEAD) &&
	mkdir work/blobs &&
	head -c 12000000 /dev/urandom >work/blobs/a.bin &&
	head -c 10000000 /dev/urandom >work/blobs/b.bin &&
	head -c 8000000 /dev/urandom >work/blobs/c.bin &&
	git -C work add blobs &&
	test_tick && git -C work commit -q -m "large blobs" &&
	NEW=$(git -C work rev-parse HEAD) &&
	HWM0=$(hwm_kb) &&
	GIT_TRACE_CURL="$TRASH/trace.big" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C work push -q "$WURL" HEAD:main &&
	HWM1=$(hwm_kb) &&
	sent_chunked trace.big git-receive-pack &&
	git ls-remote "$URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$NEW" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-updated push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-updated ".data.oldSha == \"$OLD\" and .data.newSha == \"$NEW\" and
		.data.commits == 1 and .data.forced == false and .data.actor.name == \"walt\"" &&
	say "daemon peak RSS before/after the push: $HWM0 / $HWM1 KiB" &&
	echo "$HWM0 $HWM1" >hwm
'

test_expect_success 'the 30 MB push was streamed, not buffered in the daemon' '
	read -r HWM0 HWM1 <hwm &&
	test $((HWM1 - HWM0)) -lt 16384
'

test_expect_success 'clone back gives identical content' '
	tgit clone -q "$URL" back &&
	git -C back rev-parse HEAD >actual &&
	git -C work rev-parse HEAD >expect &&
	test_cmp expect actual &&
	cmp work/blobs/a.bin back/blobs/a.bin &&
	cmp work/blobs/b.bin back/blobs/b.bin &&
	cmp work/blobs/c.bin back/blobs/c.bin &&
	git -C back fsck --no-progress --strict
'

test_expect_success 'a second large push (replacing a blob) over protocol v2 fetch back' '
	N=$(ev_head) &&
	head -c 9000000 /dev/urandom >work/blobs/b.bin &&
	git -C work commit -q -a -m "replace b" &&
	GIT_TRACE_CURL="$TRASH/trace.big2" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C work push -q "$URL" HEAD:main &&
	sent_chunked trace.big2 git-receive-pack &&
	tgit -C back -c protocol.version=2 pull -q --ff-only &&
	cmp work/blobs/b.bin back/blobs/b.bin &&
	git -C back rev-parse HEAD >actual &&
	git -C work rev-parse HEAD >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-updated push-completed >expect &&
	test_cmp expect actual
'

test_expect_success 'many small files with http.postBuffer=65536 are pushed chunked' '
	N=$(ev_head) &&
	mkdir work/small &&
	for d in $(test_seq 0 9)
	do
		mkdir work/small/d$d &&
		head -c 150000 /dev/urandom | base64 -w0 |
			split -b 1000 -d -a 3 - work/small/d$d/f || return 1
	done &&
	test "$(find work/small -type f | wc -l)" = 2000 &&
	git -C work add small &&
	test_tick && git -C work commit -q -m "2000 small files" &&
	test_tick && echo more >work/small/extra.txt && git -C work add small &&
	git -C work commit -q -m "one more" &&
	NEW=$(git -C work rev-parse HEAD) &&
	GIT_TRACE_CURL="$TRASH/trace.small" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C work -c http.postBuffer=65536 push -q "$URL" HEAD:refs/heads/small &&
	sent_chunked trace.small git-receive-pack &&
	git ls-remote "$URL" refs/heads/small >actual &&
	printf "%s\trefs/heads/small\n" "$NEW" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-created push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-created ".data.newSha == \"$NEW\" and .data.ref == \"refs/heads/small\""
'

test_expect_success 'clone of the small-files branch is identical' '
	tgit clone -q -b small "$URL" back-small &&
	git -C back-small rev-parse HEAD^{tree} >actual &&
	git -C work rev-parse HEAD^{tree} >expect &&
	test_cmp expect actual &&
	diff -r work/small back-small/small &&
	git -C back-small fsck --no-progress --strict
'

test_expect_success 'a push whose command list spans several chunks (postBuffer=65536)' '
	N=$(ev_head) &&
	SEG=$(printf "%0180d" 0 | tr 0 x) &&
	for i in $(test_seq 1 200)
	do
		echo "create refs/heads/many/$SEG/$SEG-$i HEAD" || return 1
	done >cmds &&
	git -C work update-ref --stdin <cmds &&
	GIT_TRACE_CURL="$TRASH/trace.many" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C work -c http.postBuffer=65536 push -q "$URL" "refs/heads/many/*:refs/heads/many/*" &&
	sent_chunked trace.many git-receive-pack &&
	git ls-remote "$URL" "refs/heads/many/*" >refs &&
	test_line_count = 200 refs &&
	gs_events --after "$N" >ev &&
	test "$(jq -r "select(.type == \"dev.gitstore.branch-created.v1\") | .data.ref" ev | sort -u | wc -l)" = 200 &&
	test "$(ev_types ev | grep -c push-completed)" = 1
'

test_expect_success 'all events validate; daemon healthy' '
	gs_events >all &&
	check_cloudevents all &&
	curl -sf "$GITSTORE_URL/healthz" >/dev/null
'

test_done
