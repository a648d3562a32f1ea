#!/bin/bash
test_description='draft-branch pushes become stored resources and catalog events'
. "$(dirname "$0")/lib/test-lib.sh"

product () { # product NAME TITLE [extra spec line]
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\n  labels:\n    tier: gold\nspec:\n  title: "%s"\n%s---\nBody of %s.\n' \
		"$1" "$2" "${3:-}" "$1"
}

commit_all () {
	git -C work add -A && test_tick && git -C work commit -q -m "$1"
}

# wait_catalog N: until the log has at least N catalog-* events (bounded)
wait_catalog () {
	local i=0
	while test $i -lt 100
	do
		test "$(gs_events --type catalog-admission-evaluated --type catalog-resource-deleted \
			--type catalog-resource-validation-failed --type catalog-namespace-target \
			--type catalog-resource-parsed | wc -l)" -ge "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "wait_catalog: fewer than $1 catalog events" >&2
	return 1
}

api () { curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/$1"; }

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	git init -q work && mkdir work/products &&
	product boot "Trail Boot" >work/products/boot.md &&
	product sock "Wool Sock" >work/products/sock.md &&
	echo "# readme" >work/README.md &&
	commit_all one
'

test_expect_success 'a catalog push emits the catalog events in order, caused by the ref event' '
	git -C work push -q "$URL" HEAD:main &&
	wait_catalog 5 &&
	gs_events >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-created push-completed catalog-namespace-target \
		catalog-resource-parsed catalog-admission-evaluated \
		catalog-resource-parsed catalog-admission-evaluated >expect &&
	test_cmp expect actual &&
	REF_ID=$(jq -r "select(.type==\"dev.gitstore.branch-created.v1\") | .id" ev) &&
	jq -s -e "[.[] | select(.type | startswith(\"dev.gitstore.catalog-\"))] | all(.causationid == \"$REF_ID\")" ev &&
	ev_check ev catalog-resource-parsed ".data.operation == \"create\" and (.data.path | startswith(\"products/\")) and .data.resource.kind == \"Product\" and (.data.resource.uid | length) == 36" &&
	ev_check ev catalog-admission-evaluated ".data.allowed == true and .data.policies == []" &&
	ev_check ev catalog-namespace-target ".data.namespace == \"shop\" and .data.resources == 2 and .subject == \"shop\"" &&
	check_cloudevents ev
'

test_expect_success 'the draft view shows the stored resources with status' '
	api products/boot >boot.json &&
	jq -e ".kind == \"Product\" and .metadata.generation == 1 and .metadata.resourceVersion == \"1\" and
		.spec.title == \"Trail Boot\" and .body == \"Body of boot.\n\" and .status.phase == \"draft\" and
		.status.conditions[0].type == \"AdmissionAccepted\" and .status.conditions[0].status == \"True\" and
		(.metadata.revision | startswith(\"main@sha1:\"))" boot.json &&
	api products >list.json &&
	jq -e "[.items[].metadata.name] == [\"boot\", \"sock\"]" list.json &&
	api "products?labelSelector=tier%3Dgold&limit=1" >page.json &&
	jq -e "(.items | length) == 1 and .metadata.continue == \"boot\"" page.json &&
	api "products?labelSelector=tier%21%3Dgold" >none.json &&
	jq -e "(.items | length) == 0" none.json
'

test_expect_success 'a structurally broken file refuses the push with its path' '
	N=$(ev_head) &&
	printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: broken\nspec: [\n---\n" >work/products/broken.md &&
	commit_all broken &&
	test_must_fail git -C work push "$URL" HEAD:main 2>err &&
	grep "products/broken.md:" err &&
	git -C work reset -q --hard HEAD~1 &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual && echo push-rejected >expect && test_cmp expect actual &&
	ev_check ev push-rejected ".data.reason.code == \"catalog_validation_failed\" and .data.errors[0].path == \"products/broken.md\""
'

test_expect_success 'a schema error is accepted, reported, and keeps the previous version' '
	N=$(ev_head) &&
	product boot "$(printf "%0201d" 0)" >work/products/boot.md &&
	commit_all long-title &&
	git -C work push -q "$URL" HEAD:main &&
	wait_catalog 9 &&
	gs_events --after "$N" >ev &&
	ev_check ev catalog-resource-validation-failed ".subject == \"Product/shop/boot\" and .data.stage == \"post-receive\" and .data.errors[0].field == \"spec.title\"" &&
	ev_check ev catalog-admission-evaluated ".data.allowed == false" &&
	api products/boot >boot.json &&
	jq -e ".spec.title == \"Trail Boot\" and .metadata.generation == 1 and .status.conditions[0].status == \"False\" and
		.status.admissionFailure.errors[0].field == \"spec.title\" and (.status.admissionFailure.commitSha | length) == 40" boot.json
'

test_expect_success 'a fix is admitted and bumps generation' '
	product boot "Trail Boot II" >work/products/boot.md &&
	commit_all fix && git -C work push -q "$URL" HEAD:main &&
	wait_catalog 11 &&
	api products/boot >boot.json &&
	jq -e ".spec.title == \"Trail Boot II\" and .metadata.generation == 2 and .status.conditions[0].status == \"True\" and (.status | has(\"admissionFailure\") | not)" boot.json
'

test_expect_success 'a move keeps the uid; a delete emits catalog-resource-deleted' '
	UID_BEFORE=$(api products/sock | jq -r .metadata.uid) &&
	git -C work mv products/sock.md products/socks-renamed.md &&
	commit_all move && git -C work push -q "$URL" HEAD:main &&
	wait_catalog 14 &&
	api products/sock >sock.json &&
	jq -e ".metadata.uid == \"$UID_BEFORE\" and .metadata.sourcePath == \"products/socks-renamed.md\"" sock.json &&
	N=$(ev_head) &&
	git -C work rm -q products/socks-renamed.md &&
	commit_all delete && git -C work push -q "$URL" HEAD:main &&
	wait_catalog 16 &&
	gs_events --after "$N" >ev &&
	ev_check ev catalog-resource-deleted ".subject == \"Product/shop/sock\" and .data.resource.uid == \"$UID_BEFORE\"" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/sock")" = 404
'

test_expect_success 'feature branches get ref events only' '
	N=$(ev_head) &&
	git -C work checkout -q -b feature &&
	product hat "Sun Hat" >work/products/hat.md && commit_all hat &&
	git -C work push -q "$URL" HEAD:feature &&
	sleep 1 &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-created push-completed >expect &&
	test_cmp expect actual &&
	git -C work checkout -q main
'

test_expect_success 'a force-push of the draft branch reconciles the resources to the new tip' '
	FIRST=$(git -C work rev-list --max-parents=0 HEAD) &&
	N=$(ev_head) &&
	git -C work push -q -f "$URL" "$FIRST:refs/heads/main" &&
	wait_catalog 19 &&
	gs_events --after "$N" >ev &&
	ev_check ev branch-force-pushed "true" &&
	api products >list.json &&
	jq -e "[.items[].metadata.name] == [\"boot\", \"sock\"]" list.json &&
	api products/boot >boot.json &&
	jq -e ".spec.title == \"Trail Boot\" and .metadata.generation == 3" boot.json
'

test_expect_success 'deleting the draft branch deletes its resources' '
	N=$(ev_head) &&
	git -C work push -q "$URL" :refs/heads/main &&
	wait_catalog 21 &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual &&
	printf "%s\n" branch-deleted push-completed catalog-namespace-target catalog-resource-deleted catalog-resource-deleted >expect &&
	test_cmp expect actual &&
	api products >list.json &&
	jq -e "(.items | length) == 0" list.json
'

test_expect_success 'restart re-processes nothing' '
	gs_events >before && stop_gitstore && start_gitstore && sleep 1 && gs_events >after && test_cmp before after
'

test_done
