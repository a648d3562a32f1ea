#!/bin/bash
test_description='start-up reconcile: refs changed behind the service (update-ref,
create, delete, pack-refs) give exactly one event per changed ref with
origin "reconcile", actor system, correct old/new, and the type chosen by
ancestry; restarts add nothing'
. "$(dirname "$0")/lib/test-lib.sh"

Z=0000000000000000000000000000000000000000

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

restart_gitstore () {
	stop_gitstore && start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	URL2=$(gs_url_with_token "$TOKEN" default/other)
}

start_gitstore_urls () {
	start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	URL2=$(gs_url_with_token "$TOKEN" default/other)
}

# bare ARGS...: git in the daemon's repository of default/catalog.
bare () {
	git --git-dir="$REPO_DIR" "$@"
}

# ev_line FILE: "<name> <subject> <old> <new>" per event, sorted by subject.
ev_lines () {
	jq -r '[(.type | sub("^dev\\.gitstore\\."; "") | sub("\\.v1$"; "")), .subject, .data.oldSha, .data.newSha] | join(" ")' "$1" |
	sort -k2,2
}

test_expect_success 'setup: two repositories, branches and tags pushed through the service' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	gitstore repo create default/other --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	URL2=$(gs_url_with_token "$TOKEN" default/other) &&
	git init -q work &&
	test_commit_in work one && C1=$(git -C work rev-parse HEAD) &&
	test_commit_in work two && C2=$(git -C work rev-parse HEAD) &&
	test_commit_in work three && C3=$(git -C work rev-parse HEAD) &&
	git -C work tag -a -m "t1" t1 "$C2" &&
	git -C work tag lt "$C1" &&
	git -C work tag movetag "$C1" &&
	git -C work push -q "$URL" HEAD:main HEAD:feature "$C2:refs/heads/doomed" "$C1:refs/heads/stable" t1 lt movetag &&
	git -C work push -q "$URL2" "$C1:refs/heads/main" &&
	gs_events >ev &&
	REPO_UID=$(jq -r "select(.data.repository.name == \"catalog\" and .type == \"dev.gitstore.branch-created.v1\") | .data.repository.uid" ev | sort -u) &&
	REPO2_UID=$(jq -r "select(.data.repository.name == \"other\" and .type == \"dev.gitstore.branch-created.v1\") | .data.repository.uid" ev | sort -u) &&
	REPO_DIR=$GITSTORE_DATA/repos/$REPO_UID.git &&
	REPO2_DIR=$GITSTORE_DATA/repos/$REPO2_UID.git &&
	test_path_is_dir "$REPO_DIR" &&
	test_path_is_dir "$REPO2_DIR" &&
	test "$REPO_DIR" != "$REPO2_DIR" &&
	test "$(bare rev-parse refs/heads/main)" = "$C3" &&
	V1=$(git -C work rev-parse t1)
'

test_expect_success 'changes behind the service while it is stopped' '
	N=$(ev_head) &&
	stop_gitstore &&
	bare pack-refs --all &&
	D=$(bare commit-tree -p "$C3" -m "behind: ff" "$C3^{tree}") &&
	E=$(bare commit-tree -p "$C1" -m "behind: rewrite" "$C2^{tree}") &&
	bare update-ref refs/heads/main "$D" "$C3" &&
	bare update-ref refs/heads/feature "$E" "$C3" &&
	bare update-ref -d refs/heads/doomed "$C2" &&
	bare update-ref refs/heads/newbr "$C2" "" &&
	bare update-ref refs/tags/newtag "$C3" "" &&
	bare update-ref -d refs/tags/lt "$C1" &&
	bare update-ref refs/tags/movetag "$C3" "$C1" &&
	bare update-ref refs/heads/stable "$C3" "$C1" &&
	bare update-ref refs/heads/stable "$C1" "$C3" &&
	bare update-ref refs/notes/behind "$C1" "" &&
	bare update-ref refs/meta/config "$C1" "" &&
	F=$(git --git-dir="$REPO2_DIR" commit-tree -p "$C1" -m "behind: other" "$C1^{tree}") &&
	git --git-dir="$REPO2_DIR" update-ref refs/heads/main "$F" "$C1"
'

test_expect_success 'start: exactly one reconcile event per changed ref, correct old/new and type' '
	start_gitstore_urls &&
	gs_events --after "$N" >ev &&
	jq -c "select(.data.repository.name == \"catalog\")" ev >ev1 &&
	ev_lines ev1 >actual &&
	cat >expect <<-EOF &&
	branch-deleted refs/heads/doomed $C2 $Z
	branch-force-pushed refs/heads/feature $C3 $E
	branch-updated refs/heads/main $C3 $D
	branch-created refs/heads/newbr $Z $C2
	tag-deleted refs/tags/lt $C1 $Z
	tag-updated refs/tags/movetag $C1 $C3
	tag-created refs/tags/newtag $Z $C3
	EOF
	test_cmp expect actual &&
	jq -c "select(.data.repository.name == \"other\")" ev >ev2 &&
	ev_lines ev2 >actual &&
	echo "branch-updated refs/heads/main $C1 $F" >expect &&
	test_cmp expect actual &&
	test_line_count = 8 ev
'

test_expect_success 'reconcile events: origin, actor system, ref fields, no push-completed' '
	jq -s -e "all(.[]; .data.origin == \"reconcile\" and .data.actor == {name: \"system\", via: \"system\"} and
		.data.ref == .subject)" ev >/dev/null &&
	! grep -q "dev.gitstore.push-completed" ev &&
	ev_check ev1 branch-updated ".data.forced == false and .data.commits == 1" &&
	ev_check ev1 branch-force-pushed ".data.forced == true" &&
	ev_check ev1 tag-created ".data.annotated == false and .data.targetSha == \"$C3\"" &&
	ev_check ev1 tag-updated ".data.annotated == false and .data.targetSha == \"$C3\"" &&
	ev_check ev1 tag-deleted ".data.targetSha == \"$Z\"" &&
	jq -s -e "all(.[]; .data.repository.uid == \"$REPO_UID\" and .source == \"/gitstore/repositories/$REPO_UID\")" ev1 >/dev/null &&
	jq -s -e "all(.[]; .data.repository.uid == \"$REPO2_UID\" and .source == \"/gitstore/repositories/$REPO2_UID\")" ev2 >/dev/null
'

test_expect_success 'restart again: nothing new; and once more' '
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'a push after reconcile starts from the reconciled value' '
	N=$(ev_head) &&
	git -C work fetch -q "$URL" main &&
	git -C work reset -q --hard FETCH_HEAD &&
	test "$(git -C work rev-parse HEAD)" = "$D" &&
	test_commit_in work four &&
	C4=$(git -C work rev-parse HEAD) &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-updated ".data.oldSha == \"$D\" and .data.newSha == \"$C4\" and .data.origin == \"push\"" &&
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'rewinding a branch to an ancestor behind the service is branch-force-pushed' '
	N=$(ev_head) &&
	stop_gitstore &&
	bare update-ref refs/heads/main "$C3" "$C4" &&
	bare update-ref refs/heads/feature "$C3" "$E" &&
	bare update-ref refs/tags/t1 "$C3" "$V1" &&
	start_gitstore_urls &&
	gs_events --after "$N" >ev &&
	ev_lines ev >actual &&
	cat >expect <<-EOF &&
	branch-force-pushed refs/heads/feature $E $C3
	branch-force-pushed refs/heads/main $C4 $C3
	tag-updated refs/tags/t1 $V1 $C3
	EOF
	test_cmp expect actual &&
	jq -s -e "all(.[]; .data.origin == \"reconcile\")" ev >/dev/null &&
	ev_check ev branch-force-pushed ".data.forced == true" &&
	ev_check ev tag-updated ".data.annotated == false and .data.targetSha == \"$C3\"" &&
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'moving a ref away and back behind the service emits nothing' '
	gs_events >before &&
	stop_gitstore &&
	bare update-ref refs/heads/main "$C1" "$C3" &&
	bare update-ref refs/heads/main "$C3" "$C1" &&
	bare update-ref -d refs/heads/newbr "$C2" &&
	bare update-ref refs/heads/newbr "$C2" "" &&
	start_gitstore_urls &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'the same change behind the service a second time is a second event' '
	git -C work push -q "$URL" "$C4:refs/heads/main" &&
	N=$(ev_head) &&
	stop_gitstore &&
	bare update-ref refs/heads/main "$C3" "$C4" &&
	start_gitstore_urls &&
	gs_events --after "$N" >ev &&
	ev_lines ev >actual &&
	echo "branch-force-pushed refs/heads/main $C4 $C3" >expect &&
	test_cmp expect actual &&
	gs_events >all &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.branch-force-pushed.v1\" and .data.oldSha == \"$C4\" and
		.data.newSha == \"$C3\" and .data.origin == \"reconcile\")] | length == 2 and (map(.id) | unique | length) == 2" all >/dev/null
'

test_expect_success 'whole log: logseq 1..N, per-repository sequence, ids unique, valid CloudEvents' '
	gs_events >all &&
	jq -s -e "[.[].logseq] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "(map(.id) | unique | length) == length" all >/dev/null &&
	for repo in catalog other
	do
		jq -s -e "[.[] | select(.data.repository.name == \"$repo\") | .sequence | tonumber] as \$s |
			\$s == [range(1; (\$s | length) + 1)]" all >/dev/null || return 1
	done &&
	check_cloudevents all
'

test_done
