#!/bin/bash
test_description='a delete whose old id git cannot find still gets its branch-deleted event'
. "$(dirname "$0")/lib/test-lib.sh"

ZERO=0000000000000000000000000000000000000000
BOGUS=1234567890123456789012345678901234567890

test_expect_success 'setup' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work && echo a >work/a && git -C work add a && test_tick &&
	git -C work commit -q -m a && git -C work push -q "$URL" HEAD:main HEAD:refs/heads/a1 &&
	OLD=$(git -C work rev-parse HEAD)
'

test_expect_success 'raw delete with an unknown old id: git deletes, the event says so' '
	N=$(ev_head) &&
	line="$BOGUS $ZERO refs/heads/a1" &&
	printf "%04x%s\0report-status\n0000" $((${#line} + 19)) "$line" >req &&
	curl -s -o resp -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" \
		--data-binary @req "$GITSTORE_URL/default/catalog.git/git-receive-pack" >code &&
	echo 200 >expect && test_cmp expect code &&
	grep -a "ok refs/heads/a1" resp &&
	git ls-remote "$URL" >refs && ! grep refs/heads/a1 refs &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-deleted push-completed >expect &&
	test_cmp expect actual &&
	ev_check ev branch-deleted ".data.ref == \"refs/heads/a1\" and .data.oldSha == \"$OLD\" and .data.newSha == \"$ZERO\"" &&
	check_cloudevents ev
'

test_expect_success 'restart: reconcile finds nothing left to report' '
	gs_events >before && stop_gitstore && start_gitstore && gs_events >after && test_cmp before after
'

test_done
