#!/bin/bash
test_description='smart HTTP clone and fetch: protocol v2, v1 and v0, shallow, incremental fetch'
. "$(dirname "$0")/lib/test-lib.sh"

# Every git command that talks to the daemon is bounded in time.
tgit () {
	timeout 120 git "$@"
}

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# negotiated_version TRACE: the protocol version the server announced in a
# GIT_TRACE_PACKET file ("git< version N"; none means v0).
negotiated_version () {
	if grep -q "git< version 2\$" "$1"
	then
		echo 2
	elif grep -q "git< version 1\$" "$1"
	then
		echo 1
	else
		echo 0
	fi
}

test_expect_success 'setup: namespace, repository, server, history on main' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	RTOKEN=$(gs_token rita reader:default) &&
	RURL=$(gs_url_with_token "$RTOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	test_commit_in work two &&
	test_commit_in work three &&
	git -C work tag -a -m "first tag" v0.1 HEAD~1 &&
	tgit -C work push -q "$URL" HEAD:main v0.1 &&
	git -C work rev-parse HEAD >main.expect &&
	gs_events >events.setup &&
	test_file_not_empty events.setup
'

test_expect_success 'protocol v2 clone negotiates version 2 and gets the full history' '
	GIT_TRACE_PACKET="$TRASH/trace.v2clone" tgit -c protocol.version=2 clone -q "$RURL" clone-v2 &&
	test "$(negotiated_version trace.v2clone)" = 2 &&
	grep -q "> command=ls-refs\$" trace.v2clone &&
	grep -q "> command=fetch\$" trace.v2clone &&
	! grep -q "# service=git-upload-pack" trace.v2clone &&
	git -C clone-v2 rev-parse HEAD >actual &&
	test_cmp main.expect actual &&
	test "$(git -C clone-v2 rev-list --count HEAD)" = 3 &&
	git -C clone-v2 fsck --no-progress --strict &&
	git -C clone-v2 rev-parse v0.1^{commit} >actual &&
	git -C work rev-parse HEAD~1 >expect &&
	test_cmp expect actual &&
	test_cmp work/one.md clone-v2/one.md &&
	test_cmp work/three.md clone-v2/three.md
'

test_expect_success 'protocol v2 ls-remote lists exactly the refs of the repository' '
	GIT_TRACE_PACKET="$TRASH/trace.v2ls" tgit -c protocol.version=2 ls-remote "$RURL" >actual &&
	test "$(negotiated_version trace.v2ls)" = 2 &&
	{
		printf "%s\tHEAD\n" "$(git -C work rev-parse HEAD)" &&
		printf "%s\trefs/heads/main\n" "$(git -C work rev-parse HEAD)" &&
		printf "%s\trefs/tags/v0.1\n" "$(git -C work rev-parse v0.1)" &&
		printf "%s\trefs/tags/v0.1^{}\n" "$(git -C work rev-parse HEAD~1)"
	} >expect &&
	test_cmp expect actual &&
	GIT_TRACE_PACKET="$TRASH/trace.v2prefix" tgit -c protocol.version=2 ls-remote --heads "$RURL" >actual &&
	grep -q "> ref-prefix refs/heads/\$" trace.v2prefix &&
	printf "%s\trefs/heads/main\n" "$(git -C work rev-parse HEAD)" >expect &&
	test_cmp expect actual
'

test_expect_success 'protocol v0 clone uses the v0 advertisement and gets the full history' '
	GIT_TRACE_PACKET="$TRASH/trace.v0clone" tgit -c protocol.version=0 clone -q "$RURL" clone-v0 &&
	test "$(negotiated_version trace.v0clone)" = 0 &&
	grep -q "git< # service=git-upload-pack" trace.v0clone &&
	! grep -q "command=" trace.v0clone &&
	git -C clone-v0 rev-parse HEAD >actual &&
	test_cmp main.expect actual &&
	git -C clone-v0 fsck --no-progress --strict &&
	git -C clone-v0 rev-parse v0.1 >actual &&
	git -C work rev-parse v0.1 >expect &&
	test_cmp expect actual
'

test_expect_success 'protocol v1 clone negotiates version 1' '
	GIT_TRACE_PACKET="$TRASH/trace.v1clone" tgit -c protocol.version=1 clone -q "$RURL" clone-v1 &&
	test "$(negotiated_version trace.v1clone)" = 1 &&
	grep -q "git< # service=git-upload-pack" trace.v1clone &&
	git -C clone-v1 rev-parse HEAD >actual &&
	test_cmp main.expect actual &&
	git -C clone-v1 fsck --no-progress --strict
'

test_expect_success 'shallow clone --depth 1 over protocol v2' '
	GIT_TRACE_PACKET="$TRASH/trace.v2shallow" tgit -c protocol.version=2 clone -q --depth 1 "$RURL" shallow-v2 &&
	test "$(negotiated_version trace.v2shallow)" = 2 &&
	grep -q "> deepen 1" trace.v2shallow &&
	test "$(git -C shallow-v2 rev-list --count HEAD)" = 1 &&
	test_cmp main.expect shallow-v2/.git/shallow &&
	git -C shallow-v2 rev-parse HEAD >actual &&
	test_cmp main.expect actual &&
	test_must_fail git -C shallow-v2 cat-file -e HEAD~1 2>/dev/null
'

test_expect_success 'shallow clone --depth 1 over protocol v0 (several stateless rounds)' '
	GIT_TRACE_PACKET="$TRASH/trace.v0shallow" tgit -c protocol.version=0 clone -q --depth 1 "$RURL" shallow-v0 &&
	test "$(negotiated_version trace.v0shallow)" = 0 &&
	grep -q "> deepen 1" trace.v0shallow &&
	test "$(git -C shallow-v0 rev-list --count HEAD)" = 1 &&
	test_cmp main.expect shallow-v0/.git/shallow
'

test_expect_success 'shallow clone can be deepened and unshallowed' '
	tgit -C shallow-v2 -c protocol.version=2 fetch -q --deepen=1 &&
	test "$(git -C shallow-v2 rev-list --count HEAD)" = 2 &&
	tgit -C shallow-v0 -c protocol.version=0 fetch -q --unshallow &&
	test_path_is_missing shallow-v0/.git/shallow &&
	test "$(git -C shallow-v0 rev-list --count HEAD)" = 3
'

test_expect_success 'clones and ls-remote record no events' '
	gs_events >events.now &&
	test_cmp events.setup events.now
'

test_expect_success 'push new commits and a new branch' '
	test_commit_in work four &&
	test_commit_in work five &&
	git -C work rev-parse HEAD >main.expect &&
	git -C work checkout -q -b topic HEAD~1 &&
	test_commit_in work topic-1 &&
	git -C work rev-parse HEAD >topic.expect &&
	git -C work checkout -q main &&
	tgit -C work push -q "$URL" main:main topic:topic &&
	git ls-remote "$URL" refs/heads/topic | cut -f1 >actual &&
	test_cmp topic.expect actual &&
	gs_events >events.pushed
'

test_expect_success 'protocol v2 fetch gets the new commits and the new branch' '
	GIT_TRACE_PACKET="$TRASH/trace.v2fetch" tgit -C clone-v2 -c protocol.version=2 fetch -q origin &&
	test "$(negotiated_version trace.v2fetch)" = 2 &&
	grep -q "> command=fetch\$" trace.v2fetch &&
	grep -q "> have $(git -C work rev-parse HEAD~2)\$" trace.v2fetch &&
	git -C clone-v2 rev-parse origin/main >actual &&
	test_cmp main.expect actual &&
	git -C clone-v2 rev-parse origin/topic >actual &&
	test_cmp topic.expect actual &&
	git -C clone-v2 fsck --no-progress --strict &&
	git -C clone-v2 merge -q --ff-only origin/main &&
	test_cmp work/five.md clone-v2/five.md
'

test_expect_success 'protocol v0 fetch gets the new commits and the new branch' '
	GIT_TRACE_PACKET="$TRASH/trace.v0fetch" tgit -C clone-v0 -c protocol.version=0 fetch -q origin &&
	test "$(negotiated_version trace.v0fetch)" = 0 &&
	git -C clone-v0 rev-parse origin/main >actual &&
	test_cmp main.expect actual &&
	git -C clone-v0 rev-parse origin/topic >actual &&
	test_cmp topic.expect actual &&
	git -C clone-v0 fsck --no-progress --strict
'

test_expect_success 'protocol v1 fetch gets the new commits' '
	GIT_TRACE_PACKET="$TRASH/trace.v1fetch" tgit -C clone-v1 -c protocol.version=1 fetch -q origin &&
	test "$(negotiated_version trace.v1fetch)" = 1 &&
	git -C clone-v1 rev-parse origin/main >actual &&
	test_cmp main.expect actual
'

test_expect_success 'shallow v2 fetch of new commits stays shallow at depth 1' '
	tgit -C shallow-v2 -c protocol.version=2 fetch -q --depth 1 origin main &&
	git -C shallow-v2 rev-parse FETCH_HEAD >actual &&
	test_cmp main.expect actual &&
	test "$(git -C shallow-v2 rev-list --count FETCH_HEAD)" = 1
'

test_expect_success 'a fetch with nothing new succeeds and transfers nothing' '
	GIT_TRACE_PACKET="$TRASH/trace.noop" tgit -C clone-v2 -c protocol.version=2 fetch origin 2>err &&
	test_must_be_empty err &&
	! grep -q "> command=fetch" trace.noop &&
	git -C clone-v2 rev-parse origin/main >actual &&
	test_cmp main.expect actual
'

test_expect_success 'fetches record no events' '
	gs_events >events.all &&
	test_cmp events.pushed events.all &&
	! jq -r .data.actor.name events.all | grep -qx rita
'

test_done
