#!/bin/bash
test_description='draft -> published: release refs, the lifecycle controller, the storefront'
. "$(dirname "$0")/lib/test-lib.sh"

product () { # product NAME TITLE [LABEL]
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\n  labels:\n    line: %s\nspec:\n  title: %s\n---\nAbout %s.\n' \
		"$1" "${3:-basic}" "$2" "$1" >"work/products/$1.md"
}

commit_push () { # commit_push MESSAGE
	git -C work add -A && git -C work commit -q -m "$1" && git -C work push -q "$URL" HEAD:main
}

sf () { # sf PATH -> body (anonymous)
	curl -s "$GITSTORE_URL/storefront/v1/namespaces/shop/$1"
}

# waits until the lifecycle controller has consumed everything so far
settle () {
	local i=0 head
	head=$(ev_head)
	while test $i -lt 100
	do
		sleep 0.1
		test "$(ev_head)" = "$head" && return 0
		head=$(ev_head)
		i=$((i + 1))
	done
	return 1
}

titles () {
	sf products | jq -c "[.items[] | [.metadata.name, .spec.title, .release.ref]]"
}

draft_status () { # draft_status NAME -> [phase, publishedGeneration, generation]
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/$1" |
		jq -c "[.status.phase, .status.publishedGeneration, .metadata.generation, (.status.conditions[] | select(.type == \"Published\") | .status)]"
}

test_expect_success 'setup: a draft catalog' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	PUB=$(gs_token pia publisher:shop) &&
	WRITER=$(gs_token wes writer:shop) &&
	URL=$(gs_url_with_token "$PUB" shop/catalog) &&
	WURL=$(gs_url_with_token "$WRITER" shop/catalog) &&
	git init -q work && mkdir -p work/products &&
	product shoe Shoe && product sock Sock && product hat Hat premium &&
	commit_push draft && settle
'

test_expect_success 'the draft is invisible to the storefront (anonymous)' '
	echo "[]" >expect && titles >actual && test_cmp expect actual &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$GITSTORE_URL/storefront/v1/namespaces/shop/products/shoe")" = 404
'

test_expect_success 'a writer cannot create a release tag; a publisher can' '
	git -C work tag v1 &&
	test_must_fail git -C work push -q "$WURL" v1 2>err &&
	grep release_ref_requires_publisher err &&
	N=$(ev_head) &&
	git -C work push -q "$URL" v1 && settle
'

test_expect_success 'tag-created -> release-created -> draft-published, linked by causation' '
	gs_events --after "$N" >ev &&
	ev_types ev | grep -v push-completed >types &&
	printf "%s\n" tag-created release-created draft-published draft-published draft-published >expect &&
	test_cmp expect types &&
	tag=$(jq -r "select(.type | endswith(\"tag-created.v1\")) | .id" ev) &&
	rel=$(jq -r "select(.type | endswith(\"release-created.v1\")) | .id" ev) &&
	ev_check ev release-created ".causationid == \"$tag\" and .data.release.ref == \"refs/tags/v1\" and .data.resources == 3" &&
	ev_check ev draft-published ".causationid == \"$rel\" and .data.release.ref == \"refs/tags/v1\"" &&
	echo "[[\"hat\",\"Hat\",\"refs/tags/v1\"],[\"shoe\",\"Shoe\",\"refs/tags/v1\"],[\"sock\",\"Sock\",\"refs/tags/v1\"]]" >expect &&
	titles >actual && test_cmp expect actual &&
	test "$(draft_status shoe)" = "[\"published\",1,1,\"True\"]" &&
	check_cloudevents ev
'

test_expect_success 'storefront: ETag / If-None-Match, labelSelector, pagination' '
	etag=$(curl -s -D - -o /dev/null "$GITSTORE_URL/storefront/v1/namespaces/shop/products/shoe" | tr -d "\r" | sed -n "s/^[Ee][Tt]ag: //p") &&
	test -n "$etag" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "If-None-Match: $etag" "$GITSTORE_URL/storefront/v1/namespaces/shop/products/shoe")" = 304 &&
	sf "products?labelSelector=line%3Dpremium" | jq -e "[.items[].metadata.name] == [\"hat\"]" &&
	sf "products?limit=2" | jq -e ".metadata.continue == \"shoe\" and (.items | length) == 2" &&
	sf "products?limit=2&continue=shoe" | jq -e "[.items[].metadata.name] == [\"sock\"]" &&
	sf "products/shoe" | jq -e ".spec.title == \"Shoe\" and .body == \"About shoe.\n\" and .release.ref == \"refs/tags/v1\" and (.release.commitSha | length) == 40" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X PUT "$GITSTORE_URL/storefront/v1/namespaces/shop/products/shoe")" = 405
'

test_expect_success 'a draft edit leaves the storefront unchanged and sets phase draft' '
	product shoe "Shoe two" && commit_push edit && settle &&
	sf products/shoe | jq -e ".spec.title == \"Shoe\"" &&
	test "$(draft_status shoe)" = "[\"draft\",1,2,\"True\"]" &&
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/shoe" | jq -e ".spec.title == \"Shoe two\""
'

test_expect_success 'a second release republishes only what changed; a removed file is unpublished' '
	git -C work rm -q products/sock.md && commit_push "drop sock" &&
	N=$(ev_head) && git -C work tag v2 && git -C work push -q "$URL" v2 && settle &&
	gs_events --after "$N" --type draft-published | jq -r .subject >published &&
	echo Product/shop/shoe >expect && test_cmp expect published &&
	gs_events --after "$N" --type resource-unpublished | jq -r .subject >unpublished &&
	echo Product/shop/sock >expect && test_cmp expect unpublished &&
	echo "[[\"hat\",\"Hat\",\"refs/tags/v2\"],[\"shoe\",\"Shoe two\",\"refs/tags/v2\"]]" >expect &&
	titles >actual && test_cmp expect actual &&
	test "$(draft_status shoe)" = "[\"published\",2,2,\"True\"]"
'

test_expect_success 'a release whose commit fails admission is rejected; the storefront does not change' '
	printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: bad\nspec:\n  title: \"%s\"\n---\n" "$(printf "%0201d" 0)" >work/products/bad.md &&
	commit_push bad && titles >before &&
	N=$(ev_head) && git -C work tag v3 && git -C work push -q "$URL" v3 && settle &&
	gs_events --after "$N" >ev &&
	ev_check ev release-rejected ".data.release.ref == \"refs/tags/v3\" and .data.failureCount == 1 and .data.failures[0].path == \"products/bad.md\" and .data.failures[0].errors[0].code == \"too_long\"" &&
	test "$(gs_events --after "$N" --type draft-published | wc -l)" = 0 &&
	titles >after && test_cmp before after &&
	git -C work rm -q products/bad.md && commit_push "drop bad"
'

test_expect_success 'deleting the current release rolls back to the previous one' '
	N=$(ev_head) && git -C work push -q "$URL" :refs/tags/v2 && settle &&
	gs_events --after "$N" >ev &&
	ev_check ev release-withdrawn ".data.release.ref == \"refs/tags/v2\" and .data.rolledBackTo.ref == \"refs/tags/v1\"" &&
	wd=$(jq -r "select(.type | endswith(\"release-withdrawn.v1\")) | .id" ev) &&
	ev_check ev draft-published ".causationid == \"$wd\"" &&
	echo "[[\"hat\",\"Hat\",\"refs/tags/v1\"],[\"shoe\",\"Shoe\",\"refs/tags/v1\"],[\"sock\",\"Sock\",\"refs/tags/v1\"]]" >expect &&
	titles >actual && test_cmp expect actual &&
	test "$(draft_status shoe | jq -r ".[0]")" = draft
'

test_expect_success 'moving the current release to a failing commit: rejected, withdrawn, rolled back' '
	N=$(ev_head) && git -C work push -q "$URL" v2 && settle &&
	titles | jq -e "all(.[]; .[2] == \"refs/tags/v2\")" &&
	printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: bad\nspec:\n  title: \"%s\"\n---\n" "$(printf "%0201d" 0)" >work/products/bad.md &&
	commit_push bad-again &&
	N=$(ev_head) && git -C work tag -f v2 >/dev/null && git -C work push -q -f "$URL" v2 && settle &&
	gs_events --after "$N" >ev &&
	ev_types ev | grep -E "^(release|tag)" >types &&
	printf "%s\n" tag-updated release-rejected release-withdrawn >expect && test_cmp expect types &&
	ev_check ev release-withdrawn ".data.release.ref == \"refs/tags/v2\" and .data.rolledBackTo.ref == \"refs/tags/v1\"" &&
	titles | jq -e "all(.[]; .[2] == \"refs/tags/v1\")" &&
	git -C work rm -q products/bad.md && commit_push "drop bad again" &&
	git -C work push -q "$URL" :refs/tags/v2 && settle
'

test_expect_success 'deleting the last release empties the view' '
	N=$(ev_head) && git -C work push -q "$URL" :refs/tags/v1 && settle &&
	test "$(gs_events --after "$N" --type resource-unpublished | wc -l)" = 3 &&
	echo "[]" >expect && titles >actual && test_cmp expect actual &&
	test "$(draft_status shoe | jq -r ".[3]")" = False
'

test_expect_success 'two release tags pushed at once: a deterministic current release' '
	git -C work tag v4 && git -C work tag v5 &&
	git -C work push -q "$URL" v4 v5 && settle &&
	titles | jq -e "all(.[]; .[2] == \"refs/tags/v5\")" &&
	test "$(gs_events --type release-created | jq -r .subject | tail -n 2 | tr "\n" " ")" = "refs/tags/v4 refs/tags/v5 "
'

test_expect_success 'settings: release-refs and publish-branch, readable over the API' '
	curl -s -H "Authorization: Bearer $WRITER" "$GITSTORE_URL/api/v1/repos/shop/catalog/settings" >set.json &&
	jq -e ". == {draftBranch: \"refs/heads/main\", schemaValidation: \"post-receive\", releaseRefs: \"refs/tags/release/*,refs/tags/v*\", publishBranch: \"\"}" set.json &&
	test_must_fail gitstore repo set shop/catalog release-refs=tags/x --data "$GITSTORE_DATA" 2>err &&
	grep "release-refs must be" err &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$GITSTORE_URL/api/v1/repos/shop/catalog/settings")" = 401 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $WRITER" "$GITSTORE_URL/api/v1/repos/shop/nope/settings")" = 404
'

test_expect_success 'publish-branch mode: every update of that branch is a release' '
	gitstore repo set shop/catalog publish-branch=refs/heads/live --data "$GITSTORE_DATA" &&
	curl -s -H "Authorization: Bearer $WRITER" "$GITSTORE_URL/api/v1/repos/shop/catalog/settings" | jq -e ".publishBranch == \"refs/heads/live\"" &&
	product shoe "Shoe live" && commit_push live-edit &&
	test_must_fail git -C work push -q "$WURL" HEAD:refs/heads/live 2>err && grep release_ref_requires_publisher err &&
	N=$(ev_head) && git -C work push -q "$URL" HEAD:refs/heads/live && settle &&
	gs_events --after "$N" >ev &&
	ev_check ev release-created ".data.release.ref == \"refs/heads/live\"" &&
	sf products/shoe | jq -e ".spec.title == \"Shoe live\" and .release.ref == \"refs/heads/live\""
'

test_expect_success 'the controller killed between apply and ack: same view, no duplicate events after restart' '
	stop_gitstore &&
	GITSTORE_TEST_FAULT=lifecycle-before-ack start_gitstore &&
	URL=$(gs_url_with_token "$PUB" shop/catalog) &&
	product hat "Hat two" premium && commit_push hat-two &&
	git -C work tag v6 &&
	# the daemon may die before the push response ends: the ref is
	# committed and journaled either way (checked below)
	{ git -C work push -q "$URL" v6 2>/dev/null || :; } &&
	test_expect_code 137 wait_gitstore_exit &&
	start_gitstore && settle &&
	git ls-remote "$(gs_url_with_token "$PUB" shop/catalog)" refs/tags/v6 | grep -q v6 &&
	sf products/hat | jq -e ".release.ref == \"refs/tags/v6\"" &&
	gs_events >all &&
	jq -s -e "[.[] | .id] | length == (unique | length)" all &&
	test "$(jq -s "[.[] | select(.type == \"dev.gitstore.release-created.v1\" and .data.release.ref == \"refs/tags/v6\")] | length" all)" = 1 &&
	test "$(jq -s "[.[] | select(.type == \"dev.gitstore.draft-published.v1\" and .data.release.ref == \"refs/tags/v6\")] | length" all)" = 1 &&
	sf products/hat | jq -e ".spec.title == \"Hat two\" and .release.ref == \"refs/tags/v6\"" &&
	check_cloudevents all
'

# the controller handles release-created events behind the catalog worker:
# when it takes v10's, later tags may have passed already and the newest is
# the target. That replaces the shown release; it withdraws nothing (found
# by make soak: a release-withdrawn of the shown release, "rolled back" to
# a newer one)
test_expect_success 'ten release tags at once over a shown release: replaced, never withdrawn' '
	URL=$(gs_url_with_token "$PUB" shop/catalog) &&
	N=$(ev_head) &&
	for i in $(test_seq 10 19)
	do
		git -C work tag "v$i" || return 1
	done &&
	git -C work push -q "$URL" $(test_seq 10 19 | sed "s/^/v/") &&
	settle &&
	titles | jq -e "length > 0 and all(.[]; .[2] == \"refs/tags/v19\")" &&
	test "$(gs_events --after "$N" --type release-created | wc -l)" = 10 &&
	gs_events --after "$N" --type release-withdrawn >withdrawn &&
	test_must_be_empty withdrawn
'

test_done
