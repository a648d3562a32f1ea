#!/bin/bash
test_description='authentication and namespace roles on the Git smart-HTTP routes and the events API'
. "$(dirname "$0")/lib/test-lib.sh"

# Every git and curl call is time-limited.  A hung git is killed with
# SIGKILL (status 137), which test_must_fail reports as a crash instead of
# accepting it as the expected failure.
GIT_BIN=$(command -v git)
git () {
	timeout -s KILL 120 "$GIT_BIN" "$@"
}

ZERO=0000000000000000000000000000000000000000
UNKNOWN_TOKEN=gst_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# http_status FILE: the status code of the (last) response in FILE (curl -i output).
http_status () {
	tr -d '\r' <"$1" | sed -n 's|^HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p' | tail -n 1
}

# gs_curl ARGS...: curl with a time limit, response headers included.
gs_curl () {
	curl -sS -i --max-time 30 "$@"
}

test_expect_success 'setup: namespaces, repository, server, tokens, first commit' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore namespace create other --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	READER=$(gs_token rita reader:default) &&
	OTHER=$(gs_token olga writer:other) &&
	ADMIN_URL=$(gs_url_with_token "$ADMIN" default/catalog) &&
	READER_URL=$(gs_url_with_token "$READER" default/catalog) &&
	OTHER_URL=$(gs_url_with_token "$OTHER" default/catalog) &&
	UNKNOWN_URL=$(gs_url_with_token "$UNKNOWN_TOKEN" default/catalog) &&
	ANON_URL=$GITSTORE_URL/default/catalog.git &&
	git init -q work &&
	test_commit_in work one &&
	git -C work push -q "$ADMIN_URL" HEAD:main &&
	MAIN1=$(git -C work rev-parse HEAD) &&
	gs_events >events &&
	check_cloudevents events &&
	ev_types events >actual &&
	test_write_lines branch-created push-completed >expect &&
	test_cmp expect actual
'

test_expect_success 'anonymous clone fails and appends no event' '
	N=$(ev_head) &&
	test_must_fail git clone "$ANON_URL" anon-clone 2>err &&
	cat err &&
	grep -i "could not read Username\|Authentication failed" err &&
	test_path_is_missing anon-clone/.git &&
	gs_events --after "$N" >ev &&
	test_must_be_empty ev
'

test_expect_success 'anonymous info/refs (upload-pack) is 401 with a Basic challenge' '
	N=$(ev_head) &&
	gs_curl "$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	tr -d "\r" <resp >resp.lf &&
	grep -i "^WWW-Authenticate: *Basic" resp.lf &&
	gs_events --after "$N" >ev &&
	test_must_be_empty ev
'

test_expect_success 'anonymous push fails with 401, appends no event, moves nothing' '
	N=$(ev_head) &&
	test_commit_in work anon-change &&
	test_must_fail git -C work push "$ANON_URL" HEAD:main 2>err &&
	cat err &&
	grep -i "could not read Username\|Authentication failed" err &&
	gs_curl "$GITSTORE_URL/default/catalog.git/info/refs?service=git-receive-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	tr -d "\r" <resp >resp.lf &&
	grep -i "^WWW-Authenticate: *Basic" resp.lf &&
	gs_curl -X POST -H "Content-Type: application/x-git-receive-pack-request" --data-binary @/dev/null \
		"$GITSTORE_URL/default/catalog.git/git-receive-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	git ls-remote "$ADMIN_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MAIN1" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	test_must_be_empty ev
'

test_expect_success 'unknown token: clone and push fail, info/refs is 401, no event' '
	N=$(ev_head) &&
	test_must_fail git clone "$UNKNOWN_URL" unknown-clone 2>err &&
	cat err &&
	grep -i "Authentication failed" err &&
	test_path_is_missing unknown-clone/.git &&
	test_must_fail git -C work push "$UNKNOWN_URL" HEAD:main 2>err &&
	cat err &&
	grep -i "Authentication failed" err &&
	gs_curl -u "x:$UNKNOWN_TOKEN" "$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	tr -d "\r" <resp >resp.lf &&
	grep -i "^WWW-Authenticate: *Basic" resp.lf &&
	gs_curl -u "x:$UNKNOWN_TOKEN" "$GITSTORE_URL/default/catalog.git/info/refs?service=git-receive-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	gs_curl -H "Authorization: Bearer $UNKNOWN_TOKEN" \
		"$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >resp &&
	test "$(http_status resp)" = 401 &&
	git ls-remote "$ADMIN_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MAIN1" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	test_must_be_empty ev
'

test_expect_success 'reader can clone' '
	git clone -q "$READER_URL" reader-clone &&
	test "$(git -C reader-clone rev-parse HEAD)" = "$MAIN1" &&
	test_path_is_file reader-clone/one.md
'

test_expect_success 'reader can fetch a new commit' '
	git -C work reset -q --hard "$MAIN1" &&
	test_commit_in work two &&
	git -C work push -q "$ADMIN_URL" HEAD:main &&
	MAIN2=$(git -C work rev-parse HEAD) &&
	git -C reader-clone fetch -q origin &&
	test "$(git -C reader-clone rev-parse origin/main)" = "$MAIN2" &&
	git ls-remote "$READER_URL" >ls &&
	grep "^$MAIN2	refs/heads/main$" ls
'

test_expect_success 'reader push is refused with 403 and one push-rejected (transport) event' '
	N=$(ev_head) &&
	(
		cd reader-clone &&
		git reset -q --hard origin/main &&
		echo reader >reader.md &&
		git add reader.md &&
		test_tick &&
		git commit -q -m reader
	) &&
	test_must_fail git -C reader-clone push origin HEAD:main 2>err &&
	grep "403" err &&
	git ls-remote "$ADMIN_URL" refs/heads/main >actual &&
	printf "%s\trefs/heads/main\n" "$MAIN2" >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ev_types ev >actual &&
	test_write_lines push-rejected >expect &&
	test_cmp expect actual &&
	ev_check ev push-rejected ".data.stage == \"transport\" and .data.refs == [] and
		.data.reason.code == \"writer_role_required\" and
		(.data.reason.message | type == \"string\" and length > 0) and
		.data.actor == {name: \"rita\", via: \"git\"} and
		.data.pushId == .correlationid and (.data.pushId | type == \"string\" and length > 0) and
		.data.repository.namespace == \"default\" and .data.repository.name == \"catalog\" and
		(.data.repository.uid | type == \"string\" and length > 0) and
		(.source | startswith(\"/gitstore/repositories/\"))"
'

test_expect_success 'reader GET info/refs?service=git-receive-pack is 403 and recorded' '
	N=$(ev_head) &&
	gs_curl -u "x:$READER" "$GITSTORE_URL/default/catalog.git/info/refs?service=git-receive-pack" >resp &&
	test "$(http_status resp)" = 403 &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ev_types ev >actual &&
	test_write_lines push-rejected >expect &&
	test_cmp expect actual &&
	ev_check ev push-rejected ".data.stage == \"transport\" and .data.refs == [] and
		.data.reason.code == \"writer_role_required\" and .data.actor.name == \"rita\"" &&
	gs_events >all &&
	jq -s "[.[] | select(.type == \"dev.gitstore.push-rejected.v1\") | .data.pushId] | unique | length == 2" all |
		grep -qx true
'

test_expect_success 'a role on another namespace only: clone of default/catalog is 403' '
	N=$(ev_head) &&
	test_must_fail git clone "$OTHER_URL" other-clone 2>err &&
	grep "403" err &&
	test_path_is_missing other-clone/.git &&
	gs_curl -u "x:$OTHER" "$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >resp &&
	test "$(http_status resp)" = 403 &&
	gs_events --after "$N" >ev &&
	test_must_be_empty ev
'

test_expect_success 'the same token reads its own namespace (control)' '
	git clone -q "$(gs_url_with_token "$OTHER" other/gitstore-system)" other-sys 2>err &&
	test_path_is_dir other-sys/.git
'

test_expect_success 'a role on another namespace only: push to default/catalog is 403 and recorded' '
	N=$(ev_head) &&
	test_must_fail git -C work push "$OTHER_URL" HEAD:refs/heads/olga 2>err &&
	grep "403" err &&
	git ls-remote "$ADMIN_URL" >ls &&
	! grep refs/heads/olga ls &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ev_types ev >actual &&
	test_write_lines push-rejected >expect &&
	test_cmp expect actual &&
	ev_check ev push-rejected ".data.stage == \"transport\" and .data.refs == [] and
		.data.reason.code == \"writer_role_required\" and .data.actor == {name: \"olga\", via: \"git\"}"
'

test_expect_success 'events API: Bearer token works' '
	gs_curl -H "Authorization: Bearer $ADMIN" "$GITSTORE_URL/api/v1/events" >resp &&
	test "$(http_status resp)" = 200 &&
	tr -d "\r" <resp >resp.lf &&
	grep -i "^Content-Type: *application/cloudevents-batch+json" resp.lf &&
	curl -sS --max-time 30 -H "Authorization: Bearer $ADMIN" "$GITSTORE_URL/api/v1/events" >body &&
	jq -c ".[]" body >bearer-events &&
	check_cloudevents bearer-events &&
	gs_events >all &&
	jq -c . all >all.c &&
	test_cmp all.c bearer-events
'

test_expect_success 'events API: reader Bearer token works, Basic too' '
	curl -sS --max-time 30 -f -H "Authorization: Bearer $READER" "$GITSTORE_URL/api/v1/events?repo=default/catalog" >body &&
	jq -c ".[]" body >reader-events &&
	check_cloudevents reader-events &&
	jq -s "length > 0 and all(.[]; .data.repository.namespace == \"default\")" reader-events | grep -qx true &&
	curl -sS --max-time 30 -f -u "x:$READER" "$GITSTORE_URL/api/v1/events?repo=default/catalog" >body2 &&
	test_cmp body body2
'

test_expect_success 'events API: no token or unknown token is 401, wrong namespace is 403' '
	gs_curl "$GITSTORE_URL/api/v1/events" >resp &&
	test "$(http_status resp)" = 401 &&
	tr -d "\r" <resp >resp.lf &&
	grep -i "^WWW-Authenticate: *Basic" resp.lf &&
	gs_curl -H "Authorization: Bearer $UNKNOWN_TOKEN" "$GITSTORE_URL/api/v1/events" >resp &&
	test "$(http_status resp)" = 401 &&
	gs_curl -H "Authorization: Bearer $OTHER" "$GITSTORE_URL/api/v1/events?repo=default/catalog" >resp &&
	test "$(http_status resp)" = 403
'

test_expect_success 'malformed credentials are 401 and the daemon stays up' '
	# "====" once made the Basic decoder write before its buffer
	for cred in "Basic ====" "Basic A===" "Basic eDph====" "Basic =" "Basic eD=hYWJj" \
		"Basic $(printf "x:" | base64)" "Bearer" "Bearer    " "Digest x" "Basic %%%%"; do
		gs_curl -H "Authorization: $cred" "$GITSTORE_URL/api/v1/events" >resp &&
		test "$(http_status resp)" = 401 &&
		gs_curl -H "Authorization: $cred" "$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >resp &&
		test "$(http_status resp)" = 401 || return 1
	done &&
	curl -sS --max-time 10 -f "$GITSTORE_URL/healthz" >/dev/null
'

test_expect_success 'every event validates; logseq contiguous' '
	gs_events >all &&
	check_cloudevents all &&
	jq -s "[.[].logseq] == [range(1; length+1)]" all | grep -qx true
'

test_done
