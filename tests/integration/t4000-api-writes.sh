#!/bin/bash
test_description='API writes: PUT/DELETE of a resource take the push path'
. "$(dirname "$0")/lib/test-lib.sh"

product () { # product NAME TITLE
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\nspec:\n  title: %s\n  options:\n  - name: color\n    values: [red, blue]\n---\nAbout %s.\n' "$1" "$2" "$1"
}

# api METHOD TOKEN PATH [FILE [IF-MATCH]] -> body in api.json, status in api.code
api () {
	local method=$1 tok=$2 path=$3 file=${4-} match=${5-}
	local args=(-s -o api.json -w "%{http_code}\n" -X "$method")
	test -n "$tok" && args+=(-H "Authorization: Bearer $tok")
	test -n "$match" && args+=(-H "If-Match: $match")
	test -n "$file" && args+=(-H "Content-Type: text/markdown" --data-binary @"$file")
	curl "${args[@]}" "$GITSTORE_URL/api/v1/repos/shop/catalog/resources/$path" >api.code
}

expect_code () {
	echo "$1" >expect.code && test_cmp expect.code api.code
}

tip () {
	git ls-remote "$URL" refs/heads/main | cut -f1
}

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	WRITER=$(gs_token wanda writer:shop) &&
	READER=$(gs_token rita reader:shop) &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog)
'

test_expect_success 'create: 201, a commit by the caller on main, events via api' '
	product shoe Shoe >shoe.md &&
	N=$(ev_head) &&
	api PUT "$WRITER" products/shoe shoe.md && expect_code 201 &&
	jq -e ".admission.allowed == true and .resource.metadata.name == \"shoe\" and .resource.metadata.resourceVersion == \"1\" and .resource.spec.title == \"Shoe\" and .path == \"products/shoe.md\"" api.json &&
	C=$(jq -r .commit api.json) && test "$(tip)" = "$C" &&
	git clone -q "$URL" clone &&
	git -C clone log -1 --format="%an <%ae>|%cn|%s" >who &&
	echo "wanda <wanda@api.gitstore.invalid>|wanda|Create Product shoe" >expect && test_cmp expect who &&
	test_cmp shoe.md clone/products/shoe.md &&
	gs_events --after "$N" >ev &&
	ev_types ev >types &&
	printf "%s\n" branch-created push-completed catalog-namespace-target catalog-resource-parsed catalog-admission-evaluated >expect &&
	test_cmp expect types &&
	jq -s -e "all(.[]; .data.actor == {\"name\": \"wanda\", \"via\": \"api\"} and .correlationid == \"$(jq -r .pushId api.json)\")" ev &&
	ev_check ev branch-created ".data.origin == \"api\" and .data.newSha == \"$C\"" &&
	check_cloudevents ev
'

test_expect_success 'update without If-Match: 200, generation and resourceVersion move' '
	product shoe "Shoe two" >shoe.md &&
	api PUT "$WRITER" products/shoe shoe.md && expect_code 200 &&
	jq -e ".resource.metadata.resourceVersion == \"2\" and .resource.metadata.generation == 2 and .resource.spec.title == \"Shoe two\"" api.json
'

test_expect_success 'update with a matching If-Match: 200; ETag carries resourceVersion' '
	product shoe "Shoe three" >shoe.md &&
	curl -s -D headers -o api.json -X PUT -H "Authorization: Bearer $WRITER" -H "If-Match: \"2\"" \
		-H "Content-Type: text/markdown" --data-binary @shoe.md \
		"$GITSTORE_URL/api/v1/repos/shop/catalog/resources/products/shoe" &&
	grep -i "^etag: \"3\"" headers &&
	jq -e ".resource.metadata.resourceVersion == \"3\"" api.json
'

test_expect_success 'stale If-Match: 412, no commit, no event' '
	before=$(tip) && N=$(ev_head) &&
	product shoe "Shoe stale" >stale.md &&
	api PUT "$WRITER" products/shoe stale.md "\"2\"" && expect_code 412 &&
	jq -e ".error.code == \"precondition_failed\" and (.error.message | contains(\"resourceVersion 3\"))" api.json &&
	api PUT "$WRITER" products/nope stale.md "*" && expect_code 412 &&
	test "$(tip)" = "$before" && test "$(ev_head)" = "$N"
'

test_expect_success 'the same content again: 200 unchanged, no commit' '
	before=$(tip) && N=$(ev_head) &&
	api PUT "$WRITER" products/shoe shoe.md && expect_code 200 &&
	jq -e ".unchanged == true" api.json &&
	test "$(tip)" = "$before" && test "$(ev_head)" = "$N"
'

test_expect_success 'malformed file: 422 with error records, no commit, push-rejected stage api' '
	before=$(tip) && N=$(ev_head) &&
	printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: shoe\nspec:\n  title: [broken\n---\n" >bad.md &&
	api PUT "$WRITER" products/shoe bad.md && expect_code 422 &&
	jq -e ".error.code == \"catalog_validation_failed\" and .errors[0].code == \"yaml_syntax\" and .errors[0].path == \"products/shoe.md\"" api.json &&
	test "$(tip)" = "$before" &&
	gs_events --after "$N" >ev && ev_types ev >types && echo push-rejected >expect && test_cmp expect types &&
	ev_check ev push-rejected ".data.stage == \"api\" and .data.actor.via == \"api\" and .data.errors[0].code == \"yaml_syntax\""
'

test_expect_success 'a file naming another resource: 422 identity_mismatch, no commit' '
	before=$(tip) &&
	product boot Boot >boot.md &&
	api PUT "$WRITER" products/shoe boot.md && expect_code 422 &&
	jq -e ".errors[0].code == \"identity_mismatch\" and .errors[0].field == \"metadata.name\"" api.json &&
	test "$(tip)" = "$before"
'

test_expect_success 'schema-invalid version: still a commit; allowed false with the errors; last admitted stays' '
	printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: shoe\nspec:\n  title: \"%s\"\n---\n" "$(printf "%0201d" 0)" >long.md &&
	api PUT "$WRITER" products/shoe long.md && expect_code 200 &&
	jq -e ".admission.allowed == false and .admission.status.code == 422 and .admission.errors[0].code == \"too_long\" and .resource.spec.title == \"Shoe three\" and .resource.status.admissionFailure.commitSha == .commit" api.json &&
	test "$(tip)" = "$(jq -r .commit api.json)"
'

test_expect_success 'reader: 403 and push-rejected; anonymous: 401 and no event' '
	before=$(tip) && N=$(ev_head) &&
	api PUT "$READER" products/shoe shoe.md && expect_code 403 &&
	gs_events --after "$N" >ev && ev_check ev push-rejected ".data.stage == \"api\" and .data.reason.code == \"writer_role_required\" and .data.actor.name == \"rita\"" &&
	N=$(ev_head) &&
	api PUT "" products/shoe shoe.md && expect_code 401 &&
	api DELETE "" products/shoe && expect_code 401 &&
	test "$(ev_head)" = "$N" && test "$(tip)" = "$before"
'

test_expect_success 'bad requests: media type, size, route, name, If-Match' '
	curl -s -o /dev/null -w "%{http_code}\n" -X PUT -H "Authorization: Bearer $WRITER" -H "Content-Type: application/json" \
		--data-binary @shoe.md "$GITSTORE_URL/api/v1/repos/shop/catalog/resources/products/shoe" >code &&
	echo 415 >expect && test_cmp expect code &&
	head -c 1100000 /dev/zero | tr "\0" a >huge.md &&
	api PUT "$WRITER" products/shoe huge.md && expect_code 413 &&
	api PUT "$WRITER" widgets/shoe shoe.md && expect_code 404 &&
	api PUT "$WRITER" products/Bad_Name shoe.md && expect_code 400 &&
	api PUT "$WRITER" products/shoe shoe.md "soon" && expect_code 400 &&
	curl -s -o /dev/null -w "%{http_code}\n" -X PUT -H "Authorization: Bearer $WRITER" -H "Content-Type: text/markdown" \
		--data-binary @shoe.md "$GITSTORE_URL/api/v1/repos/shop/nothere/resources/products/shoe" >code &&
	echo 404 >expect && test_cmp expect code
'

test_expect_success 'an existing file keeps its path' '
	git -C clone pull -q &&
	mkdir -p clone/catalog/shoes && product sandal Sandal >clone/catalog/shoes/sandal.md &&
	git -C clone add -A && git -C clone commit -q -m sandal && git -C clone push -q origin HEAD:main &&
	product sandal "Sandal two" >sandal.md &&
	api PUT "$WRITER" products/sandal sandal.md && expect_code 200 &&
	jq -e ".path == \"catalog/shoes/sandal.md\" and .resource.metadata.sourcePath == \"catalog/shoes/sandal.md\"" api.json
'

test_expect_success 'delete: 200, the file leaves main, catalog-resource-deleted; again: 404' '
	N=$(ev_head) &&
	api DELETE "$WRITER" products/sandal && expect_code 200 &&
	jq -e ".deleted == true" api.json &&
	gs_events --after "$N" >ev && ev_check ev catalog-resource-deleted ".subject == \"Product/shop/sandal\" and .data.actor.via == \"api\"" &&
	git -C clone pull -q && ! test -e clone/catalog/shoes/sandal.md &&
	api DELETE "$WRITER" products/sandal && expect_code 404 &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/sandal" >code &&
	echo 404 >expect && test_cmp expect code
'

test_expect_success 'a push changing the resource before the worker stored it: If-Match still sees it (412)' '
	api PUT "$WRITER" products/shoe shoe.md && rv=$(jq -r .resource.metadata.resourceVersion api.json) &&
	git -C clone pull -q &&
	product shoe "Pushed title" >clone/products/shoe.md &&
	git -C clone commit -q -am pushed && git -C clone push -q origin HEAD:main &&
	product shoe "API title" >api-title.md &&
	api PUT "$WRITER" products/shoe api-title.md "\"$rv\"" && expect_code 412 &&
	git -C clone pull -q && grep "Pushed title" clone/products/shoe.md
'

test_expect_success 'an API write first, then a push built on the old tip: the push is refused' '
	git -C clone pull -q &&
	product shoe "API first" >first.md &&
	api PUT "$WRITER" products/shoe first.md && expect_code 200 &&
	product shoe "stale push" >clone/products/shoe.md &&
	git -C clone commit -q -am stale &&
	test_must_fail git -C clone push -q origin HEAD:main 2>err &&
	grep -E "rejected|fetch first" err &&
	git -C clone fetch -q origin && git -C clone show origin/main:products/shoe.md | grep "API first" &&
	git -C clone reset -q --hard origin/main
'

# One round: a push and an API write (If-Match on the version both
# start from) change products/shoe.md at the same time.
race_round () {
	local i=$1 rv
	git -C clone pull -q || return 1
	rv=$(curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/shoe" | jq -r .metadata.resourceVersion)
	product shoe "push $i" >clone/products/shoe.md &&
	git -C clone commit -q -am "push $i" || return 1
	product shoe "api $i" >race.md
	(git -C clone push -q origin HEAD:main 2>push.err; echo $? >push.rc) &
	pusher=$!
	sleep "$2"
	api PUT "$WRITER" products/shoe race.md "\"$rv\""
	wait $pusher
	pushed=$(test "$(cat push.rc)" = 0 && echo 1 || echo 0)
	apiok=$(grep -qx 200 api.code && echo 1 || echo 0)
	echo "round $i: push=$pushed api=$apiok ($(cat api.code))"
	test $((pushed + apiok)) = 1 || return 1
	if test $apiok = 0; then grep -qxE "409|412" api.code || return 1; fi
	# the branch holds the winner
	git -C clone fetch -q origin &&
	git -C clone show origin/main:products/shoe.md >won.md &&
	if test $pushed = 1; then grep -q "push $i" won.md; else grep -q "api $i" won.md; fi || return 1
	git -C clone reset -q --hard origin/main
}

test_expect_success 'concurrency: an API write racing a push, exactly one wins each round' '
	i=0 &&
	for delay in 0 0.05 0.1 0.15 0.2 0.25 0.3 0.4 0.8 0 0.1 0.2; do i=$((i + 1)); race_round $i $delay || return 1; done
'

test_expect_success 'the event log and the ref agree: main events chain to the live ref' '
	gs_events >all &&
	jq -s -c "[.[] | select((.type | test(\"branch-\")) and .data.ref == \"refs/heads/main\") | .data]" all >chain.json &&
	jq -e "[range(1; length) as \$i | .[\$i].oldSha == .[\$i - 1].newSha] | all" chain.json &&
	test "$(jq -r ".[-1].newSha" chain.json)" = "$(tip)" &&
	jq -s -e "[.[] | .id] | length == (unique | length)" all &&
	check_cloudevents all
'

test_done
