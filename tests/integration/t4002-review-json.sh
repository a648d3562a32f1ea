#!/bin/bash
test_description='POST /api/v1/admission/review with an AdmissionReview JSON body: same verdicts as the file form, uid echoed, 400s, auth, no side effects'
. "$(dirname "$0")/lib/test-lib.sh"

API=catalog.gitstore.dev/v1beta1

res () { # res KIND NAME SPEC-LINES... (a resource file with a body)
	local kind=$1 name=$2
	shift 2
	printf -- '---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\nspec:\n' "$API" "$kind" "$name"
	printf '  %s\n' "$@"
	printf -- '---\nText of %s.\n' "$name"
}

variant () { # variant NAME SKU PRODUCT COLOR
	res ProductVariant "$1" "title: $1" "sku: $2" "productRef:" "  name: $3" \
		"selectedOptions:" "- name: color" "  value: $4"
}

# The same resources as JSON objects (request.object), body included.
obj () { # obj KIND NAME SPEC-JSON
	jq -n --arg api "$API" --arg kind "$1" --arg name "$2" --argjson spec "$3" \
		'{apiVersion: $api, kind: $kind, metadata: {name: $name}, spec: $spec, body: "Text of \($name).\n"}'
}

obj_variant () { # obj_variant NAME SKU PRODUCT COLOR
	obj ProductVariant "$1" "$(jq -n --arg n "$1" --arg s "$2" --arg p "$3" --arg c "$4" \
		'{title: $n, sku: $s, productRef: {name: $p}, selectedOptions: [{name: "color", value: $c}]}')"
}

# envelope UID OP OBJECT-FILE: an AdmissionReview request; OP "" leaves
# operation out, UID "" leaves uid out.
envelope () {
	jq -c --arg uid "$1" --arg op "$2" '
		{apiVersion: "admission.gitstore.dev/v1", kind: "AdmissionReview",
		 request: ({object: ., dryRun: true}
			+ (if $uid == "" then {} else {uid: $uid} end)
			+ (if $op == "" then {} else {operation: $op} end))}' "$3"
}

# review TOKEN FILE [CONTENT-TYPE]: the answer in review.json, the status
# in review.code, the Content-Type in review.ctype
review () {
	curl -s -o review.json -D review.headers -w "%{http_code}\n" -H "Authorization: Bearer $1" \
		-H "Content-Type: ${3:-application/json}" --data-binary @"$2" \
		"$GITSTORE_URL/api/v1/admission/review?repo=shop/catalog" >review.code &&
	tr -d "\r" <review.headers | sed -n "s/^[Cc]ontent-[Tt]ype: \([^;]*\).*/\1/p" >review.ctype
}

expect_code () {
	echo "$1" >expect && test_cmp expect review.code
}

# expect_error STATUS CODE: a 400-class answer {"error": {code, message}}
expect_error () {
	expect_code "$1" &&
	jq -e --arg c "$2" '.error.code == $c and (.error.message | type == "string" and length > 0) and (keys == ["error"])' review.json
}

# the answer without what may differ between the two forms: the uid, and
# line numbers (a file's lines vs the lines of the rendering)
comparable () {
	jq -S 'del(.request.uid, .response.uid) | .response.errors |= map(del(.line))' "$1"
}

# the catalog worker's catalog events for the push (up to 30 s: ASan)
wait_worker () {
	local i=0
	while test $i -lt 300
	do
		test "$(gs_events --after "$N" --type catalog-namespace-target | wc -l)" -ge 1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

test_expect_success 'setup: a stored product and variant' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	WRITER=$(gs_token wendy writer:shop) &&
	READER=$(gs_token rita reader:shop) &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	git init -q work && mkdir -p work/products work/variants &&
	res Product shoe "title: Shoe" "options:" "- name: color" "  values: [red, blue]" >work/products/shoe.md &&
	variant red-v SKU-R shoe red >work/variants/red-v.md &&
	git -C work add -A && test_tick && git -C work commit -q -m products &&
	N=$(ev_head) && git -C work push -q "$URL" HEAD:main && wait_worker &&
	gs_events >events-before &&
	git ls-remote "$URL" >refs-before &&
	git -C work rev-parse HEAD >head-before
'

test_expect_success 'JSON form allowed: uid echoed, request reflects the review' '
	obj_variant gold-z SKU-Z shoe gold >gold.obj &&
	envelope 705ab4f5-6393-11e8-b7cc-42010a800002 CREATE gold.obj >gold.json &&
	review "$WRITER" gold.json &&
	expect_code 200 &&
	echo application/json >expect && test_cmp expect review.ctype &&
	jq -e ".apiVersion == \"admission.gitstore.dev/v1\" and .kind == \"AdmissionReview\"" review.json &&
	jq -e ".request == {uid: \"705ab4f5-6393-11e8-b7cc-42010a800002\", operation: \"CREATE\",
		resource: {kind: \"ProductVariant\", name: \"gold-z\"}, userInfo: {username: \"wendy\", roles: [\"writer\"]},
		origin: \"api\", dryRun: true}" review.json &&
	jq -e ".response.uid == \"705ab4f5-6393-11e8-b7cc-42010a800002\" and .response.allowed == true and
		.response.status.code == 200 and .response.errors == []" review.json &&
	jq -e "(.response.conditions[] | select(.type == \"ProductResolved\") | .status) == \"True\" and
		(.response.conditions[] | select(.type == \"OptionsAccepted\") | .reason) == \"IncompatibleOptions\"" review.json
'

test_expect_success 'JSON form sniffed without Content-Type; operation derived (UPDATE when stored)' '
	obj Product shoe "{\"title\": \"Shoe v2\", \"options\": [{\"name\": \"color\", \"values\": [\"red\"]}]}" >shoe.obj &&
	{ printf "\n  " && envelope u-shoe "" shoe.obj; } >shoe.json &&
	review "$WRITER" shoe.json application/x-www-form-urlencoded &&
	expect_code 200 &&
	jq -e ".request.operation == \"UPDATE\" and .request.uid == \"u-shoe\" and .response.allowed == true" review.json &&
	envelope u-new "" gold.obj >gold-noop.json &&
	review "$WRITER" gold-noop.json &&
	jq -e ".request.operation == \"CREATE\"" review.json
'

test_expect_success 'a given operation is echoed; no uid: one is generated' '
	envelope "" UPDATE gold.obj >gold-update.json &&
	review "$WRITER" gold-update.json &&
	jq -e ".request.operation == \"UPDATE\" and (.request.uid | test(\"^[0-9a-f-]{36}$\")) and
		.response.uid == .request.uid" review.json
'

test_expect_success 'JSON form denied: title over 200 characters is 422 too_long, line of the rendering' '
	obj Product long-title "{\"title\": \"$(printf "%0201d" 0)\"}" >long.obj &&
	envelope u-long CREATE long.obj >long.json &&
	review "$WRITER" long.json &&
	expect_code 200 &&
	jq -e ".response.uid == \"u-long\" and .response.allowed == false and .response.status.code == 422 and
		.response.status.reason == \"SchemaValidationFailed\" and .response.errors[0].code == \"too_long\" and
		.response.errors[0].field == \"spec.title\"" review.json &&
	# line N of the rendering is line N-1 of jq .
	echo $(( $(jq "del(.body)" long.obj | grep -n "\"title\"" | cut -d: -f1) + 1 )) >expect &&
	jq .response.errors[0].line review.json >actual &&
	test_cmp expect actual
'

test_expect_success 'JSON form: a duplicate SKU against the store is 409' '
	obj_variant dup-z SKU-R shoe blue >dup.obj &&
	envelope u-dup "" dup.obj >dup.json &&
	review "$WRITER" dup.json &&
	jq -e ".response.allowed == false and .response.status.code == 409 and .response.status.reason == \"DuplicateSku\" and
		.response.errors[0].code == \"duplicate_sku\"" review.json
'

test_expect_success 'a file and its JSON form get the same answer apart from the uid (and error lines)' '
	variant gold-z SKU-Z shoe gold >gold.md &&
	variant dup-z SKU-R shoe blue >dup.md &&
	res Product long-title "title: \"$(printf "%0201d" 0)\"" >long.md &&
	res Product shoe "title: Shoe v2" "options:" "- name: color" "  values: [red]" >shoe.md &&
	# several schema errors at once: their order must match too
	res Product many-errors "title: \"$(printf "%0201d" 0)\"" "options:" "- name: color" "- name: color" \
		"media:" "- fileRef:" "    kind: File" "tags: {a: b}" >many.md &&
	obj Product many-errors "{\"title\": \"$(printf "%0201d" 0)\", \"options\": [{\"name\": \"color\"}, {\"name\": \"color\"}],
		\"media\": [{\"fileRef\": {\"kind\": \"File\"}}], \"tags\": {\"a\": \"b\"}}" >many.obj &&
	for r in gold dup long shoe many; do
		review "$WRITER" $r.md text/markdown && expect_code 200 && cp review.json $r.file-answer &&
		envelope u-$r "" $r.obj >$r.json &&
		review "$WRITER" $r.json && expect_code 200 && cp review.json $r.json-answer &&
		comparable $r.file-answer >expect && comparable $r.json-answer >actual &&
		test_cmp expect actual &&
		jq -e ".request.uid == \"u-$r\" and .response.uid == \"u-$r\"" $r.json-answer || return 1
	done &&
	jq -e ".response.errors | length >= 3" many.json-answer
'

test_expect_success 'DELETE: the identity of oldObject (else object); allowed' '
	jq -n "{apiVersion: \"$API\", kind: \"Product\", metadata: {name: \"shoe\", namespace: \"shop\"},
		spec: {title: \"Shoe\"}, status: {phase: \"draft\"}}" >old.obj &&
	jq -c "{apiVersion: \"admission.gitstore.dev/v1\", kind: \"AdmissionReview\",
		request: {uid: \"u-del\", operation: \"DELETE\", object: null, oldObject: .}}" old.obj >del.json &&
	review "$WRITER" del.json &&
	expect_code 200 &&
	jq -e ".request == {uid: \"u-del\", operation: \"DELETE\", resource: {kind: \"Product\", name: \"shoe\"},
		userInfo: {username: \"wendy\", roles: [\"writer\"]}, origin: \"api\", dryRun: true} and .response.allowed == true and .response.status.code == 200 and
		.response.uid == \"u-del\"" review.json &&
	envelope u-del2 DELETE gold.obj >del2.json &&
	review "$WRITER" del2.json &&
	jq -e ".request.resource == {kind: \"ProductVariant\", name: \"gold-z\"} and .response.allowed == true" review.json
'

test_expect_success 'malformed requests: 400 with an error code and message' '
	E="\"apiVersion\": \"admission.gitstore.dev/v1\", \"kind\": \"AdmissionReview\"" &&
	O=$(jq -c "del(.body)" gold.obj) &&
	while IFS="|" read -r code body; do
		printf "%s" "$body" >bad.json &&
		review "$WRITER" bad.json &&
		expect_error 400 "$code" || { echo "for: $body"; cat review.json; return 1; }
	done <<-EOF &&
	invalid_json|{"apiVersion": "admission.gitstore.dev/v1",
	invalid_json|{"a": 1, "a": 2}
	invalid_json|not json at all
	invalid_review|[]
	invalid_review|{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"object": $O}}
	invalid_review|{"apiVersion": "admission.gitstore.dev/v1", "kind": "Review", "request": {"object": $O}}
	invalid_review|{$E}
	invalid_review|{$E, "request": "x"}
	invalid_review|{$E, "request": {"uid": 1, "object": $O}}
	invalid_review|{$E, "request": {"dryRun": "yes", "object": $O}}
	invalid_operation|{$E, "request": {"operation": "PATCH", "object": $O}}
	invalid_operation|{$E, "request": {"operation": "create", "object": $O}}
	invalid_object|{$E, "request": {"uid": "x"}}
	invalid_object|{$E, "request": {"object": []}}
	invalid_object|{$E, "request": {"object": {"kind": "Product", "metadata": {"name": "p"}, "spec": ["x"]}}}
	invalid_object|{$E, "request": {"object": {"kind": "Product", "metadata": {"name": "p"}, "spec": "x"}}}
	invalid_object|{$E, "request": {"object": {"kind": "Product", "metadata": {"name": "p"}, "spec": {}, "body": 3}}}
	invalid_object|{$E, "request": {"operation": "DELETE"}}
	invalid_object|{$E, "request": {"operation": "DELETE", "oldObject": {"kind": "Widget", "metadata": {"name": "w"}}}}
	invalid_object|{$E, "request": {"operation": "DELETE", "oldObject": {"kind": "Product", "metadata": {"name": "p", "namespace": "other"}}}}
	EOF
	# application/json decides even for a resource file
	review "$WRITER" gold.md &&
	expect_error 400 invalid_json &&
	# neither form
	echo "plain text" >plain.txt && review "$WRITER" plain.txt text/plain &&
	expect_error 400 not_a_resource
'

test_expect_success 'the body limit stays 1 MiB' '
	jq -c ".request.object.body = (\"x\" * 1048576)" gold.json >huge.json &&
	review "$WRITER" huge.json &&
	expect_error 413 file_too_large
'

test_expect_success 'auth: 401 anonymous, 403 reader, 404 unknown repository' '
	curl -s -o review.json -w "%{http_code}\n" -H "Content-Type: application/json" --data-binary @gold.json \
		"$GITSTORE_URL/api/v1/admission/review?repo=shop/catalog" >review.code &&
	expect_error 401 unauthenticated &&
	review "$READER" gold.json &&
	expect_error 403 forbidden &&
	curl -s -o review.json -w "%{http_code}\n" -H "Authorization: Bearer $WRITER" -H "Content-Type: application/json" \
		--data-binary @gold.json "$GITSTORE_URL/api/v1/admission/review?repo=shop/nope" >review.code &&
	expect_error 404 repository_not_found
'

test_expect_success 'nothing was stored: no event appended, no ref moved' '
	gs_events >events-after &&
	test_cmp events-before events-after &&
	git ls-remote "$URL" >refs-after &&
	test_cmp refs-before refs-after &&
	for r in productvariants/gold-z productvariants/dup-z products/long-title products/many-errors; do
		echo 404 >expect &&
		curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" \
			"$GITSTORE_URL/api/v1/namespaces/shop/$r" >actual &&
		test_cmp expect actual || return 1
	done &&
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/shoe" >shoe.stored &&
	jq -e ".spec.title == \"Shoe\"" shoe.stored
'

test_done
