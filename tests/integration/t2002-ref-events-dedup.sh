#!/bin/bash
test_description='ref events are exactly-once: replayed hook calls (reference-transaction
prepared/committed, post-receive) and restarts add nothing; the same move in
two pushes is two events; dropped duplicates leave no logseq gap'
. "$(dirname "$0")/lib/test-lib.sh"

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# replay_hook PUSH_ID REPO_UID STDIN_FILE HOOK [PHASE]: run the hook the way
# receive-pack does for that push, against the running daemon.
replay_hook () {
	GITSTORE_HOOK_SOCKET="$GITSTORE_DATA/run/hook.sock" \
	GITSTORE_PUSH_ID="$1" GITSTORE_REPO_UID="$2" \
		gitstore hook "${@:4}" <"$3"
}

# restart_gitstore: stop and start the daemon; the port changes, so does $URL.
restart_gitstore () {
	stop_gitstore && start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog)
}

# push_lines FILE: "<old> <new> <ref>" (hook stdin) for every ref event of FILE.
push_lines () {
	jq -r 'select(.type | test("^dev\\.gitstore\\.(branch|tag)-")) | .data.oldSha + " " + .data.newSha + " " + .data.ref' "$1"
}

test_expect_success 'setup: namespace, repository, server, first push' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	git -C work push -q "$URL" HEAD:main &&
	C1=$(git -C work rev-parse HEAD) &&
	gs_events >ev &&
	REPO_UID=$(jq -r "select(.type == \"dev.gitstore.branch-created.v1\") | .data.repository.uid" ev) &&
	test -n "$REPO_UID" && test "$REPO_UID" != null &&
	test_path_is_dir "$GITSTORE_DATA/repos/$REPO_UID.git" &&
	test -S "$GITSTORE_DATA/run/hook.sock"
'

test_expect_success 'replayed reference-transaction committed: exit 0, log unchanged' '
	N=$(ev_head) &&
	test_commit_in work two &&
	C2=$(git -C work rev-parse HEAD) &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	P2=$(jq -r "select(.type == \"dev.gitstore.branch-updated.v1\") | .data.pushId" ev) &&
	test -n "$P2" && test "$P2" != null &&
	push_lines ev >line2 &&
	echo "$C1 $C2 refs/heads/main" >expect &&
	test_cmp expect line2 &&
	gs_events >before &&
	replay_hook "$P2" "$REPO_UID" line2 reference-transaction committed &&
	replay_hook "$P2" "$REPO_UID" line2 reference-transaction committed &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'replayed post-receive: no second push-completed' '
	replay_hook "$P2" "$REPO_UID" line2 post-receive &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'replayed prepared + committed (a whole transaction again): log unchanged' '
	replay_hook "$P2" "$REPO_UID" line2 reference-transaction prepared &&
	replay_hook "$P2" "$REPO_UID" line2 reference-transaction committed &&
	replay_hook "$P2" "$REPO_UID" line2 post-receive &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'replay of a multi-ref push (branch, tag, delete) in one hook call: log unchanged' '
	N=$(ev_head) &&
	git -C work tag -a -m "t1" t1 &&
	git -C work tag light &&
	git -C work push -q "$URL" HEAD:side t1 light &&
	git -C work push -q "$URL" :side :refs/tags/light &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-created tag-created tag-created push-completed \
		branch-deleted tag-deleted push-completed >expect &&
	test_cmp expect actual &&
	PA=$(jq -r "select(.type == \"dev.gitstore.tag-created.v1\") | .data.pushId" ev | sort -u) &&
	PD=$(jq -r "select(.type == \"dev.gitstore.tag-deleted.v1\") | .data.pushId" ev) &&
	test $(echo "$PA" | wc -l) = 1 &&
	jq -c "select(.data.pushId == \"$PA\")" ev >ev-a &&
	jq -c "select(.data.pushId == \"$PD\")" ev >ev-d &&
	push_lines ev-a >lines-a &&
	push_lines ev-d >lines-d &&
	test_line_count = 3 lines-a &&
	test_line_count = 2 lines-d &&
	gs_events >before &&
	replay_hook "$PA" "$REPO_UID" lines-a reference-transaction committed &&
	replay_hook "$PA" "$REPO_UID" lines-a post-receive &&
	replay_hook "$PD" "$REPO_UID" lines-d reference-transaction prepared &&
	replay_hook "$PD" "$REPO_UID" lines-d reference-transaction committed &&
	replay_hook "$PD" "$REPO_UID" lines-d post-receive &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'a late replay after the ref moved on neither adds an event nor rewinds the last-known ref' '
	N=$(ev_head) &&
	test_commit_in work three &&
	C3=$(git -C work rev-parse HEAD) &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$N" >ev &&
	P3=$(jq -r "select(.type == \"dev.gitstore.branch-updated.v1\") | .data.pushId" ev) &&
	push_lines ev >line3 &&
	gs_events >before &&
	replay_hook "$P2" "$REPO_UID" line2 reference-transaction committed &&
	replay_hook "$P2" "$REPO_UID" line2 post-receive &&
	gs_events >after &&
	test_cmp before after &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'replay after a restart (no live session): log unchanged' '
	replay_hook "$P3" "$REPO_UID" line3 reference-transaction committed &&
	replay_hook "$P3" "$REPO_UID" line3 post-receive &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'the same move a->b in two pushes gives two events; no logseq gap after dropped duplicates' '
	N=$(ev_head) &&
	git -C work push -q -f "$URL" "$C2:refs/heads/main" &&
	git -C work push -q "$URL" "$C3:refs/heads/main" &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-force-pushed push-completed branch-updated push-completed >expect &&
	test_cmp expect actual &&
	jq -s -e "[.[].logseq] == [range($N + 1; $N + 5)]" ev >/dev/null &&
	gs_events >all &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.branch-updated.v1\" and .data.oldSha == \"$C2\" and .data.newSha == \"$C3\")] |
		length == 2 and (map(.id) | unique | length) == 2 and (map(.data.pushId) | unique | length) == 2" all >/dev/null
'

test_expect_success 'replayed prepared phases left open are settled at restart without an event' '
	gs_events >before &&
	replay_hook "$P3" "$REPO_UID" line3 reference-transaction prepared &&
	replay_hook "$PA" "$REPO_UID" lines-a reference-transaction prepared &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after &&
	test_commit_in work four &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$(jq -s "map(.logseq) | max" before)" >ev &&
	ev_types ev >actual &&
	test_write_lines branch-updated push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-updated ".data.oldSha == \"$C3\" and .data.origin == \"push\""
'

test_expect_success 'a restart adds no events, a second restart adds none either' '
	gs_events >before &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after &&
	restart_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_expect_success 'whole log: logseq 1..N, sequence 1..N, ids unique, valid CloudEvents' '
	gs_events >all &&
	jq -s -e "[.[].logseq] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "[.[].sequence | tonumber] == [range(1; length + 1)]" all >/dev/null &&
	jq -s -e "(map(.id) | unique | length) == length" all >/dev/null &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.push-completed.v1\")] | (map(.data.pushId) | unique | length) == length" all >/dev/null &&
	check_cloudevents all
'

test_done
