#!/bin/bash
test_description='each ref event type with its data fields, envelope validates'
. "$(dirname "$0")/lib/test-lib.sh"

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}


test_expect_success 'setup: namespace, repository, server, clone' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one
'

test_expect_success 'branch-created with forced/commits/actor' '
	git -C work push -q "$URL" HEAD:main &&
	gs_events >events &&
	jq -r .type events >actual &&
	printf "%s\n" dev.gitstore.branch-created.v1 dev.gitstore.push-completed.v1 >expect &&
	test_cmp expect actual &&
	ev_check events branch-created ".subject == \"refs/heads/main\" and
		.data.ref == \"refs/heads/main\" and .data.forced == false and .data.commits == 1 and
		.data.oldSha == \"0000000000000000000000000000000000000000\" and
		.data.newSha == \"$(git -C work rev-parse HEAD)\" and .data.actor.name == \"admin\" and
		.data.actor.via == \"git\" and .data.repository.namespace == \"default\" and
		.data.repository.name == \"catalog\" and (.source | startswith(\"/gitstore/repositories/\"))" &&
	ev_check events push-completed ".subject == \"default/catalog\" and
		(.data.refs | length) == 1 and .data.refs[0].event == \"branch-created\" and .data.atomic == false"
'

test_expect_success 'branch-updated counts new commits' '
	N=$(ev_head) &&
	test_commit_in work two && test_commit_in work three &&
	git -C work push -q "$URL" HEAD:main &&
	gs_events --after "$N" | jq -se ".[0].type == \"dev.gitstore.branch-updated.v1\" and .[0].data.commits == 2 and .[0].data.forced == false" >/dev/null
'

test_expect_success 'branch-force-pushed (admin may force-push main)' '
	N=$(ev_head) &&
	git -C work reset -q --hard HEAD~1 && test_commit_in work three-b &&
	git -C work push -q -f "$URL" HEAD:main &&
	gs_events --after "$N" >ev &&
	jq -se ".[0].type == \"dev.gitstore.branch-force-pushed.v1\" and .[0].data.forced == true" ev >/dev/null
'

test_expect_success 'branch-deleted' '
	N=$(ev_head) &&
	git -C work push -q "$URL" HEAD:feature &&
	git -C work push -q "$URL" :feature &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-created push-completed branch-deleted push-completed >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" | jq -se "[.[] | select(.type==\"dev.gitstore.branch-deleted.v1\")][0].data.newSha == \"0000000000000000000000000000000000000000\"" >/dev/null
'

test_expect_success 'tag-created (annotated and lightweight), tag-updated, tag-deleted' '
	N=$(ev_head) &&
	git -C work tag -a -m "annotated" notes-1 &&
	git -C work tag light-1 HEAD~1 &&
	git -C work push -q "$URL" notes-1 &&
	git -C work push -q "$URL" light-1 &&
	git -C work tag -f light-1 HEAD >/dev/null &&
	git -C work push -q -f "$URL" light-1 &&
	git -C work push -q "$URL" :refs/tags/light-1 &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" tag-created push-completed tag-created push-completed tag-updated push-completed tag-deleted push-completed >expect &&
	test_cmp expect actual &&
	gs_events --after "$N" >ev &&
	jq -se "[.[] | select(.subject==\"refs/tags/notes-1\")][0].data | .annotated == true and .targetSha == \"$(git -C work rev-parse HEAD)\" and .newSha == \"$(git -C work rev-parse notes-1)\"" ev >/dev/null &&
	jq -se "[.[] | select(.type==\"dev.gitstore.tag-created.v1\" and .subject==\"refs/tags/light-1\")][0].data.annotated == false" ev >/dev/null &&
	jq -se "[.[] | select(.type==\"dev.gitstore.tag-deleted.v1\")][0].data.targetSha == \"0000000000000000000000000000000000000000\"" ev >/dev/null
'

test_expect_success 'every event validates against the CloudEvents schema' '
	gs_events >all &&
	check_cloudevents all
'

test_expect_success 'logseq contiguous from 1, sequence contiguous, ids unique, correlation = pushId' '
	jq -s "[.[].logseq] == [range(1; length+1)]" all | grep -qx true &&
	jq -s "[.[].sequence | tonumber] == [range(1; length+1)]" all | grep -qx true &&
	jq -s "[.[].sequence | length] | unique == [20]" all | grep -qx true &&
	jq -s "(map(.id) | unique | length) == length" all | grep -qx true &&
	jq -s "all(.[]; .correlationid == .data.pushId)" all | grep -qx true
'

test_expect_success 'restart adds no events' '
	gs_events >before &&
	stop_gitstore && start_gitstore &&
	gs_events >after &&
	test_cmp before after
'

test_done
