#!/bin/bash
test_description='catalog worker crash recovery; schema-validation=pre-receive'
. "$(dirname "$0")/lib/test-lib.sh"

product () {
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\nspec:\n  title: "%s"\n---\n' "$1" "$2"
}

count_type () { gs_events --type "$1" | wc -l; }

wait_count () { # wait_count TYPE N
	local i=0
	while test $i -lt 300
	do
		test "$(count_type "$1")" -ge "$2" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "wait_count: fewer than $2 $1 events" >&2
	return 1
}

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	TOKEN=$(gs_admin_token) &&
	git init -q work && mkdir work/products &&
	for i in $(test_seq 1 2000); do product "p$i" "Product $i" >work/products/p$i.md || return 1; done &&
	git -C work add -A && test_tick && git -C work commit -q -m bulk
'

test_expect_success 'a crash while storing a 2,000-file push: each catalog event exactly once after restart' '
	GITSTORE_TEST_FAULT=mid-catalog start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	{ git -C work push -q "$URL" HEAD:main 2>push.err || :; } &&
	test_expect_code 137 wait_gitstore_exit &&
	start_gitstore &&
	wait_count catalog-admission-evaluated 2000 &&
	test "$(count_type catalog-resource-parsed)" = 2000 &&
	test "$(count_type catalog-namespace-target)" = 1 &&
	test "$(count_type branch-created)" = 1 &&
	gs_events --type catalog-resource-parsed | jq -r .subject | sort | uniq -d >dups &&
	test_must_be_empty dups &&
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products?limit=500" >page &&
	jq -e "(.items | length) == 500 and .metadata.continue != null" page
'

test_expect_success 'another restart adds nothing' '
	gs_events >before && stop_gitstore && start_gitstore && sleep 1 && gs_events >after && test_cmp before after
'

test_expect_success 'repo set validates keys and values' '
	test_must_fail gitstore repo set shop/catalog colour=blue --data "$GITSTORE_DATA" 2>err &&
	grep "unknown setting" err &&
	test_must_fail gitstore repo set shop/catalog schema-validation=sometimes --data "$GITSTORE_DATA" 2>err &&
	grep "pre-receive or post-receive" err &&
	test_must_fail gitstore repo set shop/nope schema-validation=pre-receive --data "$GITSTORE_DATA" 2>err &&
	grep "not found" err
'

test_expect_success 'default: a schema error passes pre-receive (checked after the push)' '
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	product p1 "$(printf "%0201d" 0)" >work/products/p1.md &&
	git -C work add -A && test_tick && git -C work commit -q -m long &&
	git -C work push -q "$URL" HEAD:main
'

test_expect_success 'schema-validation=pre-receive refuses the same error at push time' '
	gitstore repo set shop/catalog schema-validation=pre-receive --data "$GITSTORE_DATA" &&
	product p2 "$(printf "%0201d" 0)" >work/products/p2.md &&
	git -C work add -A && test_tick && git -C work commit -q -m long2 &&
	test_must_fail git -C work push "$URL" HEAD:main 2>err &&
	grep "products/p2.md:7: spec.title:" err &&
	grep "\[too_long\]" err
'

test_expect_success 'a new branch is checked for what it brings, not the whole tree' '
	gitstore repo set shop/catalog schema-validation=post-receive --data "$GITSTORE_DATA" &&
	UID_REPO=$(gs_events --type branch-created | head -1 | jq -r .data.repository.uid) &&
	BARE="$GITSTORE_DATA/repos/$UID_REPO.git" &&
	stop_gitstore &&
	git clone -q "$BARE" direct &&
	printf -- "---\nkind: [\n---\n" >direct/products/zz-broken.md &&
	git -C direct add -A && test_tick && git -C direct commit -q -m "broken behind the back" &&
	git -C direct push -q origin HEAD:main &&
	start_gitstore &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	wait_count catalog-resource-validation-failed 1 &&
	gs_events >all &&
	RECON=$(jq -r "select(.data.origin == \"reconcile\") | .correlationid" all) &&
	test -n "$RECON" &&
	jq -s -e --arg c "$RECON" "[.[] | select(.type == \"dev.gitstore.catalog-resource-validation-failed.v1\" and .data.path == \"products/zz-broken.md\")] | length == 1 and all(.correlationid == \$c)" all &&
	git -C direct checkout -q -b feature-x &&
	product ok-1 "Fine" >direct/products/ok-1.md &&
	git -C direct add -A && test_tick && git -C direct commit -q -m fine &&
	git -C direct push -q "$URL" HEAD:feature-x &&
	git -C direct checkout -q --orphan lonely &&
	git -C direct rm -q -r --cached . && rm -rf direct/products/p* &&
	git -C direct add -A && test_tick && git -C direct commit -q -m unrelated &&
	test_must_fail git -C direct push "$URL" HEAD:lonely 2>err &&
	grep "products/zz-broken.md" err
'

test_done
