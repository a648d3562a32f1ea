#!/bin/bash
test_description='pre-receive authorisation: protected draft branch, release refs, system repository, ref namespaces'
. "$(dirname "$0")/lib/test-lib.sh"

# Every git call is time-limited.  A hung git is killed with SIGKILL
# (status 137), which test_must_fail reports as a crash instead of
# accepting it as the expected failure.
GIT_BIN=$(command -v git)
git () {
	timeout -s KILL 120 "$GIT_BIN" "$@"
}

ZERO=0000000000000000000000000000000000000000

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# remote_refs FILE [URL]: every ref of the repository (read as admin).
remote_refs () {
	git ls-remote "${2:-$ADMIN_URL}" >"$1"
}

# ref_events FILE: the taxonomy names of FILE's ref-class events (async
# catalog/release events, if any, are left out).
ref_events () {
	ev_types "$1" | grep -E "^(branch|tag|push)-"
}

# expect_refusal ERRFILE REF CODE: git's stderr shows gitstore's refusal
# line for REF with CODE, and git's own "remote rejected" verdict.
expect_refusal () {
	grep "^remote: gitstore: refused $2: .*\[$3\]" "$1" &&
	grep "! \[remote rejected\] .*(pre-receive hook declined)" "$1"
}

# expect_one_rejection EVFILE: EVFILE holds exactly one event, a valid
# push-rejected event.
expect_one_rejection () {
	check_cloudevents "$1" &&
	ev_types "$1" >types &&
	test_write_lines push-rejected >types.expect &&
	test_cmp types.expect types
}

test_expect_success 'setup: namespace, repository, server, tokens, main with two commits' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	WRITER=$(gs_token wendy writer:default) &&
	PUBLISHER=$(gs_token paula publisher:default) &&
	ADMIN_URL=$(gs_url_with_token "$ADMIN" default/catalog) &&
	WRITER_URL=$(gs_url_with_token "$WRITER" default/catalog) &&
	PUBLISHER_URL=$(gs_url_with_token "$PUBLISHER" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	test_commit_in work two &&
	git -C work push -q "$ADMIN_URL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	gs_events >events &&
	check_cloudevents events
'

test_expect_success 'writer may fast-forward main' '
	N=$(ev_head) &&
	test_commit_in work three &&
	git -C work push -q "$WRITER_URL" HEAD:main 2>err &&
	MAIN=$(git -C work rev-parse HEAD) &&
	git ls-remote "$ADMIN_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MAIN" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ev_check ev branch-updated ".data.actor.name == \"wendy\" and .data.forced == false"
'

test_expect_success 'writer force-push to main is refused' '
	N=$(ev_head) &&
	remote_refs before &&
	git -C work checkout -q -b rewrite "$MAIN~1" &&
	test_commit_in work rewritten &&
	NEW=$(git -C work rev-parse HEAD) &&
	test_must_fail git -C work push -f "$WRITER_URL" HEAD:main 2>err &&
	cat err &&
	expect_refusal err refs/heads/main protected_branch_force_push &&
	grep "! \[remote rejected\] *HEAD -> main (pre-receive hook declined)" err &&
	remote_refs after &&
	test_cmp before after &&
	git ls-remote "$WRITER_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MAIN" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/heads/main\" and
		.data.stage == \"pre-receive\" and
		.data.refs == [{ref: \"refs/heads/main\", oldSha: \"$MAIN\", newSha: \"$NEW\",
				reason: \"protected_branch_force_push\"}] and
		.data.reason.code == \"protected_branch_force_push\" and
		(.data.reason.message | type == \"string\" and length > 0) and
		.data.actor == {name: \"wendy\", via: \"git\"} and
		.data.pushId == .correlationid and (.correlationid | type == \"string\" and length > 0) and
		.data.repository.namespace == \"default\" and .data.repository.name == \"catalog\""
'

test_expect_success 'writer deleting main is refused' '
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push "$WRITER_URL" :refs/heads/main 2>err &&
	cat err &&
	expect_refusal err refs/heads/main protected_branch_delete &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/heads/main\" and
		.data.stage == \"pre-receive\" and
		.data.refs == [{ref: \"refs/heads/main\", oldSha: \"$MAIN\", newSha: \"$ZERO\",
				reason: \"protected_branch_delete\"}] and
		.data.reason.code == \"protected_branch_delete\" and
		.data.actor == {name: \"wendy\", via: \"git\"} and .data.pushId == .correlationid"
'

test_expect_success 'writer cannot push release tags refs/tags/v1 and refs/tags/release/2026-1' '
	git -C work checkout -q main &&
	git -C work reset -q --hard "$MAIN" &&
	for tag in v1 release/2026-1
	do
		N=$(ev_head) &&
		remote_refs before &&
		test_must_fail git -C work push "$WRITER_URL" "HEAD:refs/tags/$tag" 2>err &&
		cat err &&
		expect_refusal err "refs/tags/$tag" release_ref_requires_publisher &&
		remote_refs after &&
		test_cmp before after &&
		gs_events --after "$N" >ev &&
		expect_one_rejection ev &&
		ev_check ev push-rejected ".subject == \"refs/tags/$tag\" and
			.data.stage == \"pre-receive\" and
			.data.refs == [{ref: \"refs/tags/$tag\", oldSha: \"$ZERO\", newSha: \"$MAIN\",
					reason: \"release_ref_requires_publisher\"}] and
			.data.reason.code == \"release_ref_requires_publisher\" and
			.data.actor == {name: \"wendy\", via: \"git\"} and .data.pushId == .correlationid" ||
		return 1
	done
'

test_expect_success 'publisher can create, move and delete release tags' '
	for tag in v1 release/2026-1
	do
		N=$(ev_head) &&
		git -C work push -q "$PUBLISHER_URL" "$MAIN~1:refs/tags/$tag" &&
		git ls-remote "$ADMIN_URL" "refs/tags/$tag" >actual &&
		printf "%s\trefs/tags/%s\n" "$(git -C work rev-parse "$MAIN~1")" "$tag" >expect &&
		test_cmp expect actual &&
		git -C work push -q -f "$PUBLISHER_URL" "$MAIN:refs/tags/$tag" &&
		git ls-remote "$ADMIN_URL" "refs/tags/$tag" >actual &&
		printf "%s\trefs/tags/%s\n" "$MAIN" "$tag" >expect &&
		test_cmp expect actual &&
		git -C work push -q "$PUBLISHER_URL" ":refs/tags/$tag" &&
		git ls-remote "$ADMIN_URL" "refs/tags/$tag" >actual &&
		test_must_be_empty actual &&
		gs_events --after "$N" >ev &&
		check_cloudevents ev &&
		ref_events ev >actual &&
		test_write_lines tag-created push-completed tag-updated push-completed \
			tag-deleted push-completed >expect &&
		test_cmp expect actual &&
		ev_check ev tag-created ".subject == \"refs/tags/$tag\" and .data.actor.name == \"paula\"" &&
		ev_check ev tag-updated ".subject == \"refs/tags/$tag\" and .data.newSha == \"$MAIN\"" &&
		ev_check ev tag-deleted ".subject == \"refs/tags/$tag\" and .data.newSha == \"$ZERO\"" ||
		return 1
	done
'

test_expect_success 'publisher cannot force-push main either' '
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push -f "$PUBLISHER_URL" rewrite:main 2>err &&
	expect_refusal err refs/heads/main protected_branch_force_push &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".data.actor.name == \"paula\" and .data.reason.code == \"protected_branch_force_push\""
'

test_expect_success 'writer may push an ordinary tag and a feature branch, force it and delete it' '
	N=$(ev_head) &&
	git -C work push -q "$WRITER_URL" HEAD:refs/tags/snapshot-1 &&
	git -C work push -q "$WRITER_URL" rewrite:refs/heads/feature &&
	git -C work push -q -f "$WRITER_URL" "$MAIN:refs/heads/feature" &&
	git ls-remote "$ADMIN_URL" refs/tags/snapshot-1 refs/heads/feature >actual &&
	printf "%s\trefs/heads/feature\n%s\trefs/tags/snapshot-1\n" "$MAIN" "$MAIN" >expect &&
	test_cmp expect actual &&
	git -C work push -q "$WRITER_URL" :refs/heads/feature &&
	git ls-remote "$ADMIN_URL" refs/heads/feature >actual &&
	test_must_be_empty actual &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ref_events ev >actual &&
	test_write_lines tag-created push-completed branch-created push-completed \
		branch-force-pushed push-completed branch-deleted push-completed >expect &&
	test_cmp expect actual &&
	jq -s "all(.[]; .data.actor.name == \"wendy\")" ev | grep -qx true
'

test_expect_success 'admin force-push of main succeeds (branch-force-pushed)' '
	N=$(ev_head) &&
	NEW=$(git -C work rev-parse rewrite) &&
	git -C work push -q -f "$ADMIN_URL" rewrite:main 2>err &&
	git ls-remote "$WRITER_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$NEW" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ref_events ev >actual &&
	test_write_lines branch-force-pushed push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-force-pushed ".subject == \"refs/heads/main\" and .data.forced == true and
		.data.oldSha == \"$MAIN\" and .data.newSha == \"$NEW\" and
		.data.actor == {name: \"admin\", via: \"git\"}" &&
	MAIN=$NEW
'

test_expect_success 'one allowed and one refused ref: the whole push is refused' '
	git -C work checkout -q main &&
	git -C work reset -q --hard "$MAIN" &&
	test_commit_in work mixed &&
	MIXED=$(git -C work rev-parse HEAD) &&
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push "$WRITER_URL" HEAD:refs/heads/feature-ok HEAD:refs/tags/v2 2>err &&
	cat err &&
	expect_refusal err refs/tags/v2 release_ref_requires_publisher &&
	! grep "refused refs/heads/feature-ok" err &&
	grep "! \[remote rejected\] *HEAD -> feature-ok (pre-receive hook declined)" err &&
	grep "! \[remote rejected\] *HEAD -> v2 (pre-receive hook declined)" err &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/tags/v2\" and
		.data.stage == \"pre-receive\" and
		(.data.refs | length) == 2 and
		(.data.refs | map(select(.ref == \"refs/heads/feature-ok\"))) ==
			[{ref: \"refs/heads/feature-ok\", oldSha: \"$ZERO\", newSha: \"$MIXED\"}] and
		(.data.refs | map(select(.ref == \"refs/tags/v2\"))) ==
			[{ref: \"refs/tags/v2\", oldSha: \"$ZERO\", newSha: \"$MIXED\",
			  reason: \"release_ref_requires_publisher\"}] and
		.data.reason.code == \"release_ref_requires_publisher\" and
		.data.actor == {name: \"wendy\", via: \"git\"} and .data.pushId == .correlationid"
'

test_expect_success 'two refused refs with different rules: reason is the first refused ref' '
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push "$WRITER_URL" HEAD:refs/tags/v3 HEAD:refs/heads/feature-x \
		"+$(git -C work rev-parse rewrite~1):refs/heads/main" 2>err &&
	cat err &&
	expect_refusal err refs/tags/v3 release_ref_requires_publisher &&
	expect_refusal err refs/heads/main protected_branch_force_push &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected "(.data.refs | length) == 3 and
		(.data.refs | map(select(has(\"reason\")) | .ref) | sort) == [\"refs/heads/main\", \"refs/tags/v3\"] and
		(.data.refs | map(select(has(\"reason\") | not) | .ref)) == [\"refs/heads/feature-x\"] and
		(.data.refs | map(select(has(\"reason\")))[0]) as \$first |
		.subject == \$first.ref and .data.reason.code == \$first.reason"
'

test_expect_success 'writer push to default/gitstore-system is refused' '
	SYS_WRITER_URL=$(gs_url_with_token "$WRITER" default/gitstore-system) &&
	SYS_ADMIN_URL=$(gs_url_with_token "$ADMIN" default/gitstore-system) &&
	N=$(ev_head) &&
	remote_refs before "$SYS_ADMIN_URL" &&
	test_must_fail git -C work push "$SYS_WRITER_URL" HEAD:refs/heads/main 2>err &&
	cat err &&
	expect_refusal err refs/heads/main system_repository_admin_only &&
	remote_refs after "$SYS_ADMIN_URL" &&
	test_cmp before after &&
	test_must_be_empty after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/heads/main\" and
		.data.stage == \"pre-receive\" and
		.data.repository.namespace == \"default\" and .data.repository.name == \"gitstore-system\" and
		.data.refs == [{ref: \"refs/heads/main\", oldSha: \"$ZERO\", newSha: \"$MIXED\",
				reason: \"system_repository_admin_only\"}] and
		.data.reason.code == \"system_repository_admin_only\" and
		.data.actor == {name: \"wendy\", via: \"git\"} and .data.pushId == .correlationid"
'

test_expect_success 'admin push to default/gitstore-system is accepted' '
	N=$(ev_head) &&
	git -C work push -q "$SYS_ADMIN_URL" HEAD:refs/heads/main 2>err &&
	git ls-remote "$SYS_ADMIN_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MIXED" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ref_events ev >actual &&
	test_write_lines branch-created push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-created ".data.repository.name == \"gitstore-system\" and .data.actor.name == \"admin\""
'

test_expect_success 'push to refs/notes/x is refused (writer)' '
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push "$WRITER_URL" HEAD:refs/notes/x 2>err &&
	cat err &&
	expect_refusal err refs/notes/x ref_namespace_forbidden &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/notes/x\" and
		.data.refs == [{ref: \"refs/notes/x\", oldSha: \"$ZERO\", newSha: \"$MIXED\",
				reason: \"ref_namespace_forbidden\"}] and
		.data.reason.code == \"ref_namespace_forbidden\""
'

test_expect_success 'push to refs/foo/bar is refused (even for an admin)' '
	N=$(ev_head) &&
	remote_refs before &&
	test_must_fail git -C work push "$ADMIN_URL" HEAD:refs/foo/bar 2>err &&
	cat err &&
	expect_refusal err refs/foo/bar ref_namespace_forbidden &&
	remote_refs after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	expect_one_rejection ev &&
	ev_check ev push-rejected ".subject == \"refs/foo/bar\" and
		.data.refs == [{ref: \"refs/foo/bar\", oldSha: \"$ZERO\", newSha: \"$MIXED\",
				reason: \"ref_namespace_forbidden\"}] and
		.data.reason.code == \"ref_namespace_forbidden\" and .data.actor.name == \"admin\""
'

test_expect_success 'every event validates; no ref event for any refused push' '
	gs_events >all &&
	check_cloudevents all &&
	jq -s "[.[].logseq] == [range(1; length+1)]" all | grep -qx true &&
	jq -s "[.[] | select(.type == \"dev.gitstore.push-rejected.v1\")] | length" all >count &&
	echo 10 >expect &&
	test_cmp expect count &&
	jq -r "select(.type != \"dev.gitstore.push-rejected.v1\") | .subject" all >subjects &&
	! grep -E "^refs/(notes/x|foo/bar|tags/v2|tags/v3|heads/feature-ok|heads/feature-x)$" subjects
'

test_done
