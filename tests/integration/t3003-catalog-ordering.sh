#!/bin/bash
test_description='catalog events follow their push; foreign namespaces; large refusals are recorded'
. "$(dirname "$0")/lib/test-lib.sh"

product () { # product NAME [NAMESPACE]
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\n%sspec:\n  title: "%s"\n---\n' \
		"$1" "${2:+  namespace: $2
}" "$1"
}

commit_all () { git -C work add -A && test_tick && git -C work commit -q -m "$1"; }

wait_type () { # wait_type TYPE N
	local i=0
	while test $i -lt 150
	do
		test "$(gs_events --type "$1" | wc -l)" -ge "$2" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	git init -q work && mkdir work/products &&
	product a >work/products/a.md && commit_all a &&
	git -C work push -q "$URL" HEAD:main
'

test_expect_success 'a non-atomic multi-ref push: its catalog events come after its push-completed' '
	product b >work/products/b.md && commit_all b &&
	for i in $(test_seq 1 30); do git -C work branch -f "f$i" || return 1; done &&
	git -C work push -q "$URL" HEAD:main $(for i in $(test_seq 1 30); do printf "f%s " $i; done) &&
	wait_type catalog-admission-evaluated 2 &&
	gs_events >ev &&
	PUSH=$(jq -r "select(.type==\"dev.gitstore.branch-updated.v1\") | .correlationid" ev) &&
	jq -s -e --arg p "$PUSH" "
		(map(select(.correlationid == \$p and .type == \"dev.gitstore.push-completed.v1\")) | .[0].logseq) as \$done |
		[.[] | select(.correlationid == \$p and (.type | startswith(\"dev.gitstore.catalog-\")))] |
		length > 0 and all(.logseq > \$done)" ev
'

test_expect_success 'a resource naming another namespace takes nothing there' '
	product squat other >work/products/squat.md && commit_all squat &&
	git -C work push -q "$URL" HEAD:main &&
	wait_type catalog-resource-validation-failed 1 &&
	gs_events --type catalog-resource-validation-failed >ev &&
	ev_check ev catalog-resource-validation-failed ".data.path == \"products/squat.md\" and (.data.errors | map(.code) | index(\"namespace_mismatch\") != null)" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" \
		"$GITSTORE_URL/api/v1/namespaces/other/products/squat")" = 404
'

test_expect_success 'a refusal with many refs and many errors is still recorded (< 64 KiB)' '
	N=$(ev_head) &&
	git -C work checkout -q -b bad &&
	for i in $(test_seq 1 20); do
		printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: bad-%s\n  uid: x\n  generation: 1\n  finalizers: []\nspec: {}\nstatus: {}\n---\n" $i >work/products/bad-$i.md || return 1
	done &&
	commit_all bad &&
	for i in $(test_seq 1 300); do git -C work branch -f "bad-branch-with-a-long-name-$i" || return 1; done &&
	test_must_fail git -C work push "$URL" $(for i in $(test_seq 1 300); do printf "bad-branch-with-a-long-name-%s " $i; done) 2>err &&
	grep catalog_validation_failed err &&
	gs_events --after "$N" >ev &&
	ev_types ev >actual && echo push-rejected >expect && test_cmp expect actual &&
	test "$(wc -c <ev)" -lt 65536 &&
	ev_check ev push-rejected ".data.errorCount >= 20 and .data.reason.code == \"catalog_validation_failed\"" &&
	check_cloudevents ev
'

test_done
