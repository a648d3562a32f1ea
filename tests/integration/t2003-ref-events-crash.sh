#!/bin/bash
test_description='crash safety of ref events: a crash after the durable intent
fails the push closed (no ref moves, no event); a crash after git committed the
ref is repaired at start-up (event appended once, origin "recovery", then
push-completed); further restarts add nothing'
. "$(dirname "$0")/lib/test-lib.sh"

Z=0000000000000000000000000000000000000000

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# restart_gitstore [ENV=VALUE...]: stop the daemon and start it again (with
# the given environment); the port changes, so does $URL.
restart_gitstore () {
	stop_gitstore &&
	env_start_gitstore "$@"
}

env_start_gitstore () {
	if test $# -gt 0
	then
		# start_gitstore is a shell function: a prefix assignment is
		# exported to the daemon for the duration of the call
		eval "$* start_gitstore"
	else
		start_gitstore
	fi &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog)
}

# gitref REF: the ref's value in the daemon's bare repository (or nothing).
gitref () {
	git --git-dir="$REPO_DIR" rev-parse -q --verify "$1"
}

# no_ref_events FILE: FILE has no branch/tag event and no push-completed.
no_ref_events () {
	if grep -E "dev\.gitstore\.(branch-|tag-|push-completed)" "$1"
	then
		echo "unexpected ref events in $1"
		return 1
	fi
}

test_expect_success 'setup: namespace, repository, server, first push' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	C1=$(git -C work rev-parse HEAD) &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events >ev &&
	REPO_UID=$(jq -r "select(.type == \"dev.gitstore.branch-created.v1\") | .data.repository.uid" ev) &&
	REPO_DIR=$GITSTORE_DATA/repos/$REPO_UID.git &&
	test_path_is_dir "$REPO_DIR" &&
	test "$(gitref refs/heads/main)" = "$C1"
'

test_expect_success 'after-intent fault: the push fails, the daemon exits 137, the ref does not move' '
	N=$(ev_head) &&
	restart_gitstore GITSTORE_TEST_FAULT=after-intent &&
	test_commit_in work two &&
	C2=$(git -C work rev-parse HEAD) &&
	test_must_fail git -C work push -q "$URL" HEAD:main &&
	test_expect_code 137 wait_gitstore_exit &&
	test "$(gitref refs/heads/main)" = "$C1"
'

test_expect_success 'after-intent: restart records no ref event and no push-completed; the ref is unchanged' '
	env_start_gitstore &&
	gs_events --after "$N" >ev &&
	no_ref_events ev &&
	test "$(gitref refs/heads/main)" = "$C1" &&
	git ls-remote "$URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$C1" >expect &&
	test_cmp expect actual
'

test_expect_success 'after-intent: the settled intent causes nothing later (next push, restarts)' '
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-updated ".data.oldSha == \"$C1\" and .data.newSha == \"$C2\" and .data.origin == \"push\"" &&
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'after-ref-commit fault: the daemon exits 137, the ref has moved in git' '
	N=$(ev_head) &&
	restart_gitstore GITSTORE_TEST_FAULT=after-ref-commit &&
	test_commit_in work three &&
	C3=$(git -C work rev-parse HEAD) &&
	test_must_fail ok=success git -C work push -q "$URL" HEAD:main &&
	test_expect_code 137 wait_gitstore_exit &&
	test "$(gitref refs/heads/main)" = "$C3"
'

test_expect_success 'after-ref-commit: restart appends the branch event once (origin recovery), then push-completed' '
	env_start_gitstore &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-updated ".subject == \"refs/heads/main\" and .data.origin == \"recovery\" and
		.data.oldSha == \"$C2\" and .data.newSha == \"$C3\" and .data.forced == false and .data.commits == 1 and
		.data.actor.name == \"admin\" and .data.actor.via == \"git\" and .correlationid == .data.pushId" &&
	P=$(jq -r "select(.type == \"dev.gitstore.branch-updated.v1\") | .data.pushId" ev) &&
	ev_check ev push-completed ".data.pushId == \"$P\" and .correlationid == \"$P\" and .data.atomic == false and
		.data.refs == [{ref: \"refs/heads/main\", oldSha: \"$C2\", newSha: \"$C3\", event: \"branch-updated\"}]"
'

test_expect_success 'after-ref-commit: another restart, and a third, add nothing' '
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'after-ref-commit with an --atomic push of 3 refs: all 3 recovered, push-completed atomic' '
	N=$(ev_head) &&
	restart_gitstore GITSTORE_TEST_FAULT=after-ref-commit &&
	test_commit_in work four &&
	C4=$(git -C work rev-parse HEAD) &&
	git -C work tag -a -m "t1" t1 &&
	T1=$(git -C work rev-parse t1) &&
	test_must_fail ok=success git -C work push -q --atomic "$URL" HEAD:main HEAD:atomic-side t1 &&
	test_expect_code 137 wait_gitstore_exit &&
	test "$(gitref refs/heads/main)" = "$C4" &&
	test "$(gitref refs/heads/atomic-side)" = "$C4" &&
	test "$(gitref refs/tags/t1)" = "$T1" &&
	env_start_gitstore &&
	gs_events --after "$N" >ev &&
	jq -r "(.type | sub(\"^dev\\\\.gitstore\\\\.\"; \"\")) + \" \" + .subject" ev >actual.raw &&
	head -n 3 actual.raw | sort >actual &&
	test_write_lines "branch-created.v1 refs/heads/atomic-side" "branch-updated.v1 refs/heads/main" \
		"tag-created.v1 refs/tags/t1" >expect &&
	test_cmp expect actual &&
	test_line_count = 4 actual.raw &&
	tail -n 1 actual.raw >actual &&
	echo "push-completed.v1 default/catalog" >expect &&
	test_cmp expect actual &&
	jq -s -e "[.[].correlationid] | unique | length == 1" ev >/dev/null &&
	jq -s -e "[.[] | select(.type != \"dev.gitstore.push-completed.v1\") | .data.origin] | unique == [\"recovery\"]" ev >/dev/null &&
	ev_check ev tag-created ".data.newSha == \"$T1\" and .data.targetSha == \"$C4\" and .data.annotated == true" &&
	ev_check ev push-completed ".data.atomic == true and (.data.refs | length) == 3" &&
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'after-ref-commit in a non-atomic 2-ref push: the committed ref is recovered, the other never moved' '
	N=$(ev_head) &&
	restart_gitstore GITSTORE_TEST_FAULT=after-ref-commit &&
	test_commit_in work five &&
	C5=$(git -C work rev-parse HEAD) &&
	test_must_fail ok=success git -C work push -q "$URL" HEAD:main HEAD:later &&
	test_expect_code 137 wait_gitstore_exit &&
	env_start_gitstore &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	test "$(gitref refs/heads/main)" = "$C5" &&
	test_must_fail gitref refs/heads/later &&
	ev_check ev branch-updated ".subject == \"refs/heads/main\" and .data.origin == \"recovery\" and
		.data.oldSha == \"$C4\" and .data.newSha == \"$C5\"" &&
	ev_check ev push-completed "(.data.refs | length) == 1 and .data.refs[0].ref == \"refs/heads/main\"" &&
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'a SIGKILL between pushes loses nothing and adds nothing' '
	N=$(ev_head) &&
	git -C work push -q "$URL" HEAD:later &&
	gs_events >before &&
	kill_gitstore &&
	env_start_gitstore &&
	gs_events >after &&
	test_cmp before after &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-created push-completed >expect &&
	test_cmp expect actual
'

test_expect_success 'ref locks and quarantines of a git killed mid-push are removed at start-up (the refs stay writable)' '
	N=$(ev_head) &&
	C_LATER=$(gitref refs/heads/later) &&
	kill_gitstore &&
	# what receive-pack holds between prepared and committed when the
	# whole process group is SIGKILLed (found by t8000-crash-random)
	echo "$C1" >"$REPO_DIR/refs/heads/main.lock" &&
	echo "$C1" >"$REPO_DIR/HEAD.lock" &&
	: >"$REPO_DIR/packed-refs.lock" &&
	mkdir -p "$REPO_DIR/refs/heads/deep/er" &&
	: >"$REPO_DIR/refs/heads/deep/er/x.lock" &&
	echo keep >"$REPO_DIR/refs/heads/not-a-lock" &&
	mkdir -p "$REPO_DIR/objects/tmp_objdir-incoming-x1/ab" &&
	: >"$REPO_DIR/objects/tmp_objdir-incoming-x1/ab/cdef" &&
	env_start_gitstore &&
	test_path_is_missing "$REPO_DIR/objects/tmp_objdir-incoming-x1" &&
	find "$REPO_DIR" -name "*.lock" >locks &&
	test_must_be_empty locks &&
	test_path_is_file "$REPO_DIR/refs/heads/not-a-lock" &&
	rm "$REPO_DIR/refs/heads/not-a-lock" &&
	grep "removed .*/refs/heads/main.lock, left by a git process that did not finish" "$TRASH/gitstore.log" &&
	test_commit_in work six &&
	C6=$(git -C work rev-parse HEAD) &&
	git -C work push -q "$URL" HEAD:main &&
	git -C work push -q "$URL" :later &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed branch-deleted push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-deleted ".data.oldSha == \"$C_LATER\"" &&
	test "$(gitref refs/heads/main)" = "$C6"
'

test_expect_success 'whole log: logseq 1..N, sequence 1..N, ids unique, one push-completed per push, valid CloudEvents' '
	gs_events >all &&
	jq -s -e "[.[].logseq] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "[.[].sequence | tonumber] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "(map(.id) | unique | length) == length" all >/dev/null &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.push-completed.v1\") | .data.pushId] | (unique | length) == length" all >/dev/null &&
	jq -s -e "[.[] | select(.type | test(\"^dev\\\\.gitstore\\\\.(branch|tag)-\")) | [.subject, .data.oldSha, .data.newSha]] | (unique | length) == length" all >/dev/null &&
	check_cloudevents all
'

test_done
