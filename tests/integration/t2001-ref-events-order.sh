#!/bin/bash
test_description='ref events: exact order of a scripted push series (multi-ref
non-atomic, --atomic), per-repository sequence and global logseq under
concurrent pushes, and a 1,000-ref push with no silent drop'
. "$(dirname "$0")/lib/test-lib.sh"

Z=0000000000000000000000000000000000000000

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# ev_seq FILE: "<type> <subject>" per event (type without prefix/suffix).
ev_seq () {
	jq -r '(.type | sub("^dev\\.gitstore\\."; "") | sub("\\.v1$"; "")) + " " + .subject' "$1"
}

# events_since N FILE: the events with logseq > N, written to FILE.
events_since () {
	gs_events --after "$1" >"$2"
}

test_expect_success 'setup: two repositories, server, clones' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	gitstore repo create default/other --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	URL2=$(gs_url_with_token "$TOKEN" default/other) &&
	git init -q work &&
	test_commit_in work one &&
	git init -q work2 &&
	test_commit_in work2 uno
'

test_expect_success 'single-ref pushes: exact types and subjects, in push order' '
	git -C work push -q "$URL" HEAD:main &&
	git -C work push -q "$URL" HEAD:doomed &&
	test_commit_in work two &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events >ev &&
	ev_seq ev >actual &&
	cat >expect <<-\EOF &&
	branch-created refs/heads/main
	push-completed default/catalog
	branch-created refs/heads/doomed
	push-completed default/catalog
	branch-updated refs/heads/main
	push-completed default/catalog
	EOF
	test_cmp expect actual &&
	jq -s -e "[.[].logseq] == [1,2,3,4,5,6]" ev >/dev/null &&
	jq -s -e "(.[0].correlationid == .[1].correlationid) and
		(.[2].correlationid == .[3].correlationid) and
		(.[4].correlationid == .[5].correlationid) and
		([.[].correlationid] | unique | length) == 3" ev >/dev/null
'

test_expect_success 'multi-ref non-atomic push: one event per ref in command order, then one push-completed' '
	N=$(ev_head) &&
	OLD_MAIN=$(git -C work rev-parse HEAD) &&
	OLD_DOOMED=$OLD_MAIN~1 && OLD_DOOMED=$(git -C work rev-parse "$OLD_DOOMED") &&
	test_commit_in work three &&
	git -C work tag -a -m "t1.0" t1.0 &&
	git -C work push -q "$URL" HEAD:main :doomed HEAD:topic-a HEAD~1:refs/heads/topic-b t1.0 &&
	events_since "$N" ev &&
	ev_seq ev >actual &&
	cat >expect <<-\EOF &&
	branch-deleted refs/heads/doomed
	branch-updated refs/heads/main
	branch-created refs/heads/topic-a
	branch-created refs/heads/topic-b
	tag-created refs/tags/t1.0
	push-completed default/catalog
	EOF
	test_cmp expect actual &&
	jq -s -e "[.[].correlationid] | unique | length == 1" ev >/dev/null &&
	HEAD_SHA=$(git -C work rev-parse HEAD) &&
	ev_check ev branch-updated ".data.oldSha == \"$OLD_MAIN\" and .data.newSha == \"$HEAD_SHA\" and .data.commits == 1" &&
	ev_check ev branch-deleted ".data.oldSha == \"$OLD_DOOMED\" and .data.newSha == \"$Z\"" &&
	ev_check ev push-completed ".data.atomic == false and (.data.refs | length) == 5 and
		([.data.refs[] | .ref] | sort) == [\"refs/heads/doomed\", \"refs/heads/main\", \"refs/heads/topic-a\", \"refs/heads/topic-b\", \"refs/tags/t1.0\"] and
		([.data.refs[] | select(.ref == \"refs/heads/doomed\")][0].event == \"branch-deleted\") and
		([.data.refs[] | select(.ref == \"refs/tags/t1.0\")][0].event == \"tag-created\") and
		.data.pushId == .correlationid"
'

test_expect_success '--atomic push of 3 refs: 3 ref events, then one push-completed with atomic true' '
	N=$(ev_head) &&
	test_commit_in work four &&
	git -C work push -q --atomic "$URL" HEAD:main HEAD:atomic-1 HEAD:atomic-2 &&
	events_since "$N" ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated branch-created branch-created push-completed >expect &&
	test_cmp expect actual &&
	jq -r "select(.type != \"dev.gitstore.push-completed.v1\") | .subject" ev | sort >actual &&
	test_write_lines refs/heads/atomic-1 refs/heads/atomic-2 refs/heads/main >expect &&
	test_cmp expect actual &&
	jq -s -e "[.[].correlationid] | unique | length == 1" ev >/dev/null &&
	ev_check ev push-completed ".data.atomic == true and (.data.refs | length) == 3 and
		([.data.refs[].ref] | sort) == [\"refs/heads/atomic-1\", \"refs/heads/atomic-2\", \"refs/heads/main\"]"
'

test_expect_success 'concurrent pushes to two repositories keep per-repository order' '
	git -C work2 push -q "$URL2" HEAD:main &&
	for round in 1 2 3 4 5
	do
		test_commit_in work "r$round" &&
		test_commit_in work2 "r$round" &&
		test_bg git -C work push -q "$URL" HEAD:conc-a-$round 2>bg-a-$round &&
		pa=$test_bg_pid &&
		test_bg git -C work push -q "$URL" HEAD:conc-b-$round 2>bg-b-$round &&
		pb=$test_bg_pid &&
		test_bg git -C work2 push -q "$URL2" HEAD:conc-a-$round 2>bg-c-$round &&
		pc=$test_bg_pid &&
		test_bg git -C work2 push -q "$URL2" HEAD:main 2>bg-d-$round &&
		pd=$test_bg_pid &&
		wait $pa && wait $pb && wait $pc && wait $pd || return 1
	done &&
	gs_events >all &&
	for repo in catalog other
	do
		jq -c "select(.data.repository.name == \"$repo\")" all >ev-$repo &&
		jq -s -e "[.[].sequence | tonumber] == [range(1; length + 1)]" ev-$repo >/dev/null &&
		jq -s -e "[.[].source] | unique | length == 1" ev-$repo >/dev/null || return 1
	done &&
	jq -r "select(.data.repository.name == \"other\") | .type + \" \" + .subject" all | sort >actual &&
	{
		echo "dev.gitstore.branch-created.v1 refs/heads/main" &&
		for round in 1 2 3 4 5
		do
			echo "dev.gitstore.branch-created.v1 refs/heads/conc-a-$round" &&
			echo "dev.gitstore.branch-updated.v1 refs/heads/main" &&
			echo "dev.gitstore.push-completed.v1 default/other" &&
			echo "dev.gitstore.push-completed.v1 default/other"
		done &&
		echo "dev.gitstore.push-completed.v1 default/other"
	} | sort >expect &&
	test_cmp expect actual &&
	jq -s -e "[.[] | select(.data.repository.name == \"catalog\" and (.subject | startswith(\"refs/heads/conc-\")))] | length == 10" all >/dev/null
'

test_expect_success 'after concurrency: logseq 1..N gap-free, ids unique, each push: ref events then its push-completed' '
	jq -s -e "[.[].logseq] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "(map(.id) | unique | length) == length" all >/dev/null &&
	jq -s -e "[.[].sequence | length] | unique == [20]" all >/dev/null &&
	jq -s -e "
		group_by(.correlationid) | all(.[];
			(map(select(.type == \"dev.gitstore.push-completed.v1\")) | length) == 1 and
			(.[-1].type == \"dev.gitstore.push-completed.v1\") and
			(.[-1].data.refs | length) == (length - 1) and
			([.[].source] | unique | length) == 1)" all >/dev/null
'

# check_bulk_push FILE UPDATES ATOMIC C1 C2: FILE (the events of one push
# of the refs created by UPDATES) holds exactly one ref event per ref
# (branches at C1, tags at C2), then one push-completed that accounts for
# all of them.
check_bulk_push () {
	jq -s -e "[.[].correlationid] | unique | length == 1" "$1" >/dev/null &&
	jq -r "select(.type != \"dev.gitstore.push-completed.v1\") | .type" "$1" | sort | uniq -c | sed "s/^ *//" >actual &&
	test_write_lines "500 dev.gitstore.branch-created.v1" "500 dev.gitstore.tag-created.v1" >expect &&
	test_cmp expect actual &&
	jq -r "select(.type != \"dev.gitstore.push-completed.v1\") | .subject" "$1" | sort >actual &&
	sed "s/^create \([^ ]*\) .*/\1/" "$2" | sort >expect &&
	test_cmp expect actual &&
	ev_check "$1" branch-created ".data.newSha == \"$4\" and .data.oldSha == \"$Z\"" &&
	ev_check "$1" tag-created ".data.newSha == \"$5\" and .data.targetSha == \"$5\" and .data.annotated == false" &&
	jq -s -e "length == 1001 and .[-1].type == \"dev.gitstore.push-completed.v1\" and
		([.[] | select(.type == \"dev.gitstore.push-completed.v1\")] | length) == 1" "$1" >/dev/null &&
	ev_check "$1" push-completed ".data.atomic == $3 and
		((.data.refs | length) == 1000 or (.data.refsTruncated == true and .data.refCount == 1000))" &&
	jq -c "select(.type == \"dev.gitstore.push-completed.v1\")" "$1" >pc &&
	test $(wc -c <pc) -lt 65536
}

# bulk_refs PREFIX C1 C2: update-ref --stdin lines creating 500 branches
# refs/heads/PREFIX/bN at C1 and 500 tags refs/tags/PREFIX/tN at C2.
bulk_refs () {
	for i in $(test_seq 1 500)
	do
		echo "create refs/heads/$1/b$i $2" &&
		echo "create refs/tags/$1/t$i $3" || return 1
	done
}

test_expect_success 'setup: two commits for the 1,000-ref pushes' '
	test_commit_in work bulk-base &&
	C1=$(git -C work rev-parse HEAD) &&
	test_commit_in work bulk-tip &&
	C2=$(git -C work rev-parse HEAD)
'

test_expect_success 'a --atomic push of 1,000 refs: exactly 1,000 ref events and one push-completed' '
	N=$(ev_head) &&
	bulk_refs bulk-a "$C1" "$C2" >updates-a &&
	git -C work update-ref --stdin <updates-a &&
	start=$(date +%s) &&
	git -C work push -q --atomic "$URL" "refs/heads/bulk-a/*:refs/heads/bulk-a/*" "refs/tags/bulk-a/*:refs/tags/bulk-a/*" &&
	say "1,000-ref --atomic push took $(($(date +%s) - start)) s" &&
	events_since "$N" ev &&
	check_bulk_push ev updates-a true "$C1" "$C2"
'

test_expect_success 'a plain (non-atomic) push of 1,000 refs: exactly 1,000 ref events and one push-completed' '
	N=$(ev_head) &&
	bulk_refs bulk-n "$C1" "$C2" >updates-n &&
	git -C work update-ref --stdin <updates-n &&
	start=$(date +%s) &&
	git -C work push -q "$URL" "refs/heads/bulk-n/*:refs/heads/bulk-n/*" "refs/tags/bulk-n/*:refs/tags/bulk-n/*" &&
	say "1,000-ref non-atomic push took $(($(date +%s) - start)) s" &&
	events_since "$N" ev &&
	check_bulk_push ev updates-n false "$C1" "$C2"
'

test_expect_success 'the whole log: logseq and per-repository sequence contiguous, ids unique' '
	gs_events >all &&
	jq -s -e "[.[].logseq] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "(map(.id) | unique | length) == length" all >/dev/null &&
	for repo in catalog other
	do
		jq -s -e "[.[] | select(.data.repository.name == \"$repo\") | .sequence | tonumber] as \$s |
			\$s == [range(1; (\$s | length) + 1)]" all >/dev/null || return 1
	done
'

test_expect_success 'every event validates against the CloudEvents schema' '
	check_cloudevents all
'

test_expect_success 'restart adds no events' '
	stop_gitstore && start_gitstore &&
	gs_events >after &&
	test_cmp all after
'

test_done
