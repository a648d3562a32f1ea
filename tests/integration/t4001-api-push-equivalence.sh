#!/bin/bash
test_description='the same files by git push and by API write: same admission, status and event types'
. "$(dirname "$0")/lib/test-lib.sh"

res () { # res KIND NAME SPEC-LINES...
	local kind=$1 name=$2
	shift 2
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: %s\nmetadata:\n  name: %s\nspec:\n' "$kind" "$name"
	printf '  %s\n' "$@"
	printf -- '---\nText of %s.\n' "$name"
}

variant () { # variant NAME SKU PRODUCT COLOR
	res ProductVariant "$1" "title: $1" "sku: $2" "productRef:" "  name: $3" \
		"selectedOptions:" "- name: color" "  value: $4"
}

# The writes, in order: PLURAL NAME PATH. Valid, cross-object-invalid
# (options, missing product, duplicate SKU, cycle) and schema-invalid.
WRITES="products shoe products/shoe.md
productvariants red variants/red.md
productvariants gold variants/gold.md
productvariants orphan variants/orphan.md
productvariants dup variants/dup.md
products long products/long.md
categorytaxonomies cat-a categories/a.md
categorytaxonomies cat-b categories/b.md
products shoe products/shoe.md"

make_files () {
	mkdir -p files/products files/variants files/categories &&
	res Product shoe "title: Shoe" "options:" "- name: color" "  values: [red, blue]" >files/products/shoe.md &&
	variant red SKU-1 shoe red >files/variants/red.md &&
	variant gold SKU-2 shoe gold >files/variants/gold.md &&
	variant orphan SKU-3 nothing red >files/variants/orphan.md &&
	variant dup SKU-1 shoe blue >files/variants/dup.md &&
	res Product long "title: \"$(printf "%0201d" 0)\"" >files/products/long.md &&
	res CategoryTaxonomy cat-a "title: A" "parentRef:" "  name: cat-b" >files/categories/a.md &&
	res CategoryTaxonomy cat-b "title: B" "parentRef:" "  name: cat-a" >files/categories/b.md &&
	# the last write updates shoe: an UPDATE through both paths
	res Product shoe "title: Shoe v2" "options:" "- name: color" "  values: [red, blue]" >files/shoe-v2.md
}

test_expect_success 'setup' '
	for ns in viagit viaapi; do
		gitstore namespace create $ns --data "$GITSTORE_DATA" &&
		gitstore repo create $ns/catalog --data "$GITSTORE_DATA" || return 1
	done &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	WRITER=$(gs_token wendy writer:viagit writer:viaapi) &&
	make_files &&
	git init -q work
'

test_expect_success 'write each file by git push, one push per file' '
	URL=$(gs_url_with_token "$WRITER" viagit/catalog) &&
	n=0 &&
	while read -r plural name path; do
		n=$((n + 1))
		src=files/$path && test $n = 9 && src=files/shoe-v2.md
		mkdir -p "work/$(dirname "$path")" && cp "$src" "work/$path" &&
		git -C work add -A && git -C work commit -q -m "write $n" &&
		git -C work push -q "$URL" HEAD:main || return 1
	done <<-EOF
	$WRITES
	EOF
'

test_expect_success 'write the same files through the API' '
	n=0 &&
	while read -r plural name path; do
		n=$((n + 1))
		src=files/$path && test $n = 9 && src=files/shoe-v2.md
		curl -s -o "api-$n.json" -w "%{http_code}\n" -X PUT -H "Authorization: Bearer $WRITER" \
			-H "Content-Type: text/markdown" --data-binary @"$src" \
			"$GITSTORE_URL/api/v1/repos/viaapi/catalog/resources/$plural/$name" >"api-$n.code" || return 1
	done <<-EOF
	$WRITES
	EOF
	cat api-*.code | sort | uniq -c &&
	test "$(cat api-9.code)" = 200 && test "$(cat api-1.code)" = 201
'

test_expect_success 'the API answered every write with a verdict' '
	for n in 1 2 3 4 5 6 7 8 9; do
		jq -e ".admission | has(\"allowed\") and has(\"status\") and has(\"errors\")" api-$n.json >/dev/null || return 1
	done &&
	jq -e ".admission.allowed == false and .admission.status.code == 409" api-5.json &&
	jq -e ".admission.allowed == false and .admission.status.code == 422" api-6.json
'

# Messages name the namespace; the two namespaces differ on purpose.
same_ns () {
	sed "s/viagit/NS/g; s/viaapi/NS/g"
}

# The verdicts a push's consumer reads (catalog-admission-evaluated),
# in order, without the ids.
verdicts () { # verdicts NS [FILTER]
	gs_events --repo "$1/catalog" --type catalog-admission-evaluated | jq -c "select(${2:-true})" |
		jq -S -c "{name: .data.resource.name, allowed: .data.allowed, status: .data.status, errors: (.data.errors // []), warnings: .data.warnings, policies: .data.policies, conditions: .data.conditions}" |
		same_ns
}

test_expect_success 'same admission responses: push events = API answers = API events' '
	verdicts viagit >git.all &&
	verdicts viaapi >api-events.all &&
	test_cmp git.all api-events.all &&
	grep -q CycleDetected git.all &&
	verdicts viagit ".data.operation != \"recheck\"" >git.verdicts &&
	n=0 && : >api.verdicts &&
	while read -r plural name path; do
		n=$((n + 1))
		jq -S -c "{name: \"$name\"} + (.admission | del(.uid))" api-$n.json | same_ns >>api.verdicts || return 1
	done <<-EOF &&
	$WRITES
	EOF
	test_cmp git.verdicts api.verdicts &&
	test "$(wc -l <git.verdicts)" = 9 &&
	grep -q "\"DuplicateSku\"" git.verdicts
'

status_of () { # status_of NS PLURAL NAME: the stored status without times and commit ids
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/$1/$2/$3" |
		jq -S -c "{admitted: (.metadata.generation), status: (.status | del(.. | .lastTransitionTime?) | del(.. | .commitSha?))}" |
		same_ns
}

test_expect_success 'same stored status' '
	while read -r plural name path; do
		status_of viagit $plural $name >git.status &&
		status_of viaapi $plural $name >api.status &&
		test_cmp git.status api.status || return 1
	done <<-EOF
	$WRITES
	EOF
'

test_expect_success 'same event types, differing in actor.via' '
	gs_events --repo viagit/catalog >git.ev && gs_events --repo viaapi/catalog >api.ev &&
	ev_types git.ev >git.types && ev_types api.ev >api.types &&
	test_cmp git.types api.types &&
	jq -s -e "all(.[]; .data.actor.via == \"git\")" git.ev &&
	jq -s -e "all(.[]; .data.actor.via == \"api\")" api.ev &&
	grep -qx catalog-resource-validation-failed git.types &&
	check_cloudevents api.ev
'

test_done
