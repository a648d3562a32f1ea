#!/bin/bash
test_description='the git gc --auto that receive-pack runs after a push (in the
push environment, so with the hooks) packs the refs through
reference-transaction: creations 0 -> value of every loose ref, then a
deletion of each loose copy. None of that is a ref change: no events, no
intent left for recovery, later pushes not held up (found by make soak:
duplicate tag-created events re-created old releases)'
. "$(dirname "$0")/lib/test-lib.sh"

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

test_expect_success 'setup: a repository where a push ends with git gc --auto' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	git -C work push -q "$URL" HEAD:main HEAD:refs/heads/side HEAD:refs/tags/t1 &&
	gs_events >ev &&
	uid=$(jq -r "select(.type == \"dev.gitstore.push-completed.v1\") | .data.repository.uid" ev) &&
	REPO_DIR=$GITSTORE_DATA/repos/$uid.git &&
	test_path_is_dir "$REPO_DIR" &&
	test_path_is_missing "$REPO_DIR/packed-refs" &&
	git -C "$REPO_DIR" config receive.unpackLimit 1 &&
	git -C "$REPO_DIR" config gc.autoPackLimit 1 &&
	git -C "$REPO_DIR" config gc.autoDetach false
'

test_expect_success 'pushes that end with gc --auto get only their own ref events' '
	N=$(ev_head) &&
	test_commit_in work two &&
	git -C work push -q "$URL" HEAD:main &&
	test_commit_in work three &&
	git -C work push -q "$URL" HEAD:main &&
	for _ in $(test_seq 100)
	do
		test -f "$REPO_DIR/packed-refs" && break
		sleep 0.1
	done &&
	grep " refs/tags/t1\$" "$REPO_DIR/packed-refs" &&
	grep " refs/heads/side\$" "$REPO_DIR/packed-refs" &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-updated push-completed branch-updated push-completed >expect &&
	test_cmp expect actual &&
	check_cloudevents ev
'

test_expect_success 'the packed refs move on as usual, without waiting' '
	N=$(ev_head) &&
	test_commit_in work four &&
	git -C work push -q "$URL" HEAD:main HEAD:refs/heads/side &&
	git -C work push -q "$URL" :refs/tags/t1 &&
	gs_events --after "$N" >ev &&
	ev_types ev | sort >actual &&
	printf "%s\n" branch-updated branch-updated push-completed push-completed tag-deleted >expect &&
	test_cmp expect actual
'

test_expect_success 'restart: no intent left behind, recovery and reconcile add nothing' '
	gs_events >before &&
	stop_gitstore &&
	start_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_done
