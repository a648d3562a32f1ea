#!/bin/bash
test_description='built-in cross-object admission checks on pushed resources'
. "$(dirname "$0")/lib/test-lib.sh"

res () { # res KIND NAME SPEC-LINES...
	local kind=$1 name=$2
	shift 2
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: %s\nmetadata:\n  name: %s\nspec:\n' "$kind" "$name"
	printf '  %s\n' "$@"
	printf -- '---\n'
}

variant () { # variant NAME SKU PRODUCT [COLOR]
	res ProductVariant "$1" "title: $1" "sku: $2" "productRef:" "  name: $3" \
		"selectedOptions:" "- name: color" "  value: ${4:-red}"
}

push_all () {
	git -C work add -A && test_tick && git -C work commit -q -m "$1" &&
	N=$(ev_head) && git -C work push -q "$URL" HEAD:main && wait_worker
}

# the worker's batch commits at once: wait until catalog events for the
# last ref event exist (or a short time when it brings none)
wait_worker () {
	local i=0
	while test $i -lt 100
	do
		test "$(gs_events --after "$N" --type catalog-namespace-target | wc -l)" -ge 1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

cond () { # cond KIND-PLURAL NAME TYPE -> status
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/$1/$2" |
		jq -r ".status.conditions[] | select(.type == \"$3\") | .status"
}

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" shop/catalog) &&
	git init -q work && mkdir -p work/products work/variants work/categories work/collections
'

test_expect_success 'a variant before its product: ProductResolved False, still admitted' '
	variant early-v SKU-E shoe >work/variants/early-v.md &&
	push_all early &&
	test "$(cond productvariants early-v ProductResolved)" = False &&
	test "$(cond productvariants early-v AdmissionAccepted)" = True &&
	test "$(cond productvariants early-v OptionsAccepted)" = True
'

test_expect_success 'product and variant in one push: resolved; incompatible options flagged' '
	res Product shoe "title: Shoe" "options:" "- name: color" "  values: [red, blue]" >work/products/shoe.md &&
	variant red-v SKU-R shoe red >work/variants/red-v.md &&
	variant gold-v SKU-G shoe gold >work/variants/gold-v.md &&
	push_all product-and-variants &&
	test "$(cond productvariants red-v ProductResolved)" = True &&
	test "$(cond productvariants red-v OptionsAccepted)" = True &&
	test "$(cond productvariants gold-v OptionsAccepted)" = False &&
	test "$(cond productvariants gold-v AdmissionAccepted)" = True
'

test_expect_success 'the product arriving later re-checks the variant pushed before it' '
	test "$(cond productvariants early-v ProductResolved)" = True &&
	gs_events --after "$N" >ev &&
	ev_check ev catalog-admission-evaluated "select(.subject == \"ProductVariant/shop/early-v\") | .data.operation == \"recheck\" and .data.trigger == {\"kind\": \"Product\", \"name\": \"shoe\"} and .data.allowed == true and .data.path == \"variants/early-v.md\"" &&
	test "$(jq -s "[.[] | select(.subject == \"ProductVariant/shop/early-v\")] | length" ev)" = 1
'

test_expect_success 'a variant after its product, across pushes: resolved' '
	variant blue-v SKU-B shoe blue >work/variants/blue-v.md &&
	push_all later-variant &&
	test "$(cond productvariants blue-v ProductResolved)" = True
'

test_expect_success 'duplicate SKU in one push: the name sorting first wins, the other is denied' '
	variant dup-a SKU-D shoe >work/variants/dup-a.md &&
	variant dup-b SKU-D shoe >work/variants/dup-b.md &&
	push_all dup-in-one &&
	gs_events --after "$N" >ev &&
	ev_check ev catalog-resource-validation-failed ".subject == \"ProductVariant/shop/dup-b\" and .data.errors[0].code == \"duplicate_sku\"" &&
	jq -s -e "[.[] | select(.type == \"dev.gitstore.catalog-admission-evaluated.v1\") | {(.data.resource.name): .data.allowed}] | add == {\"dup-a\": true, \"dup-b\": false}" ev &&
	test "$(cond productvariants dup-a AdmissionAccepted)" = True &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/productvariants/dup-b" >code &&
	echo 200 >expect && test_cmp expect code &&
	test "$(cond productvariants dup-b AdmissionAccepted)" = False
'

test_expect_success 'duplicate SKU across pushes: the existing holder keeps it' '
	variant dup-0 SKU-R shoe >work/variants/dup-0.md &&
	push_all dup-across &&
	gs_events --after "$N" >ev &&
	ev_check ev catalog-resource-validation-failed ".subject == \"ProductVariant/shop/dup-0\" and (.data.errors[0].message | contains(\"red-v\"))" &&
	test "$(cond productvariants red-v AdmissionAccepted)" = True
'

test_expect_success 'a three-category cycle: Acyclic False on all three; parents first in the events' '
	res CategoryTaxonomy cat-a "title: A" "parentRef:" "  name: cat-b" >work/categories/a.md &&
	res CategoryTaxonomy cat-b "title: B" "parentRef:" "  name: cat-c" >work/categories/b.md &&
	res CategoryTaxonomy cat-c "title: C" "parentRef:" "  name: cat-a" >work/categories/c.md &&
	push_all cycle &&
	for c in cat-a cat-b cat-c; do
		test "$(cond categorytaxonomies $c Acyclic)" = False || return 1
		test "$(cond categorytaxonomies $c ParentResolved)" = True || return 1
	done
'

test_expect_success 'category tree and order: parents before children, categories before other creates' '
	res CategoryTaxonomy zz-root "title: Root" >work/categories/zz-root.md &&
	res CategoryTaxonomy aa-child "title: Child" "parentRef:" "  name: zz-root" >work/categories/aa-child.md &&
	res Product aaa-first "title: First" "categoryRef:" "  name: aa-child" >work/products/aaa-first.md &&
	push_all tree &&
	gs_events --after "$N" --type catalog-resource-parsed | jq -r .subject >actual &&
	printf "%s\n" CategoryTaxonomy/shop/zz-root CategoryTaxonomy/shop/aa-child Product/shop/aaa-first >expect &&
	test_cmp expect actual &&
	test "$(cond categorytaxonomies aa-child ParentResolved)" = True &&
	test "$(cond categorytaxonomies aa-child Acyclic)" = True &&
	test "$(cond products aaa-first CategoryResolved)" = True
'

test_expect_success 'collection targetRef: TargetResolved' '
	res Collection col-ok "title: OK" "targetRef:" "  kind: Product" "  name: shoe" >work/collections/ok.md &&
	res Collection col-missing "title: Missing" "targetRef:" "  kind: Product" "  name: nope" >work/collections/missing.md &&
	push_all collections &&
	test "$(cond collections col-ok TargetResolved)" = True &&
	test "$(cond collections col-missing TargetResolved)" = False
'

test_expect_success 'conditions are Kubernetes-shaped and events validate' '
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/productvariants/gold-v" >gold.json &&
	jq -e ".status.conditions | all(has(\"type\") and has(\"status\") and has(\"reason\") and has(\"message\") and has(\"lastTransitionTime\") and has(\"observedGeneration\"))" gold.json &&
	gs_events >all && check_cloudevents all
'

test_expect_success 're-check both ways: options change, product removed and restored' '
	res Product shoe "title: Shoe" "options:" "- name: color" "  values: [red, blue, gold]" >work/products/shoe.md &&
	push_all gold-allowed &&
	test "$(cond productvariants gold-v OptionsAccepted)" = True &&
	test "$(cond productvariants red-v OptionsAccepted)" = True &&
	gs_events --after "$N" --type catalog-admission-evaluated | jq -r "select(.data.operation == \"recheck\") | .subject" >rechecked &&
	echo ProductVariant/shop/gold-v >expect && test_cmp expect rechecked &&
	git -C work rm -q products/shoe.md && push_all shoe-gone &&
	test "$(cond productvariants red-v ProductResolved)" = False &&
	test "$(cond collections col-ok TargetResolved)" = False &&
	res Product shoe "title: Shoe" "options:" "- name: color" "  values: [red, blue]" >work/products/shoe.md &&
	push_all shoe-back &&
	test "$(cond productvariants red-v ProductResolved)" = True &&
	test "$(cond productvariants gold-v OptionsAccepted)" = False &&
	test "$(cond collections col-ok TargetResolved)" = True
'

test_expect_success 'a three-category cycle closed across pushes: every member re-checked; broken again: cleared' '
	res CategoryTaxonomy x-a "title: A" "parentRef:" "  name: x-b" >work/categories/x-a.md &&
	res CategoryTaxonomy x-b "title: B" "parentRef:" "  name: x-c" >work/categories/x-b.md &&
	push_all open-chain &&
	test "$(cond categorytaxonomies x-b ParentResolved)" = False &&
	test "$(cond categorytaxonomies x-a Acyclic)" = True &&
	res CategoryTaxonomy x-c "title: C" "parentRef:" "  name: x-a" >work/categories/x-c.md &&
	push_all close-cycle &&
	for c in x-a x-b x-c; do
		test "$(cond categorytaxonomies $c Acyclic)" = False || return 1
		test "$(cond categorytaxonomies $c ParentResolved)" = True || return 1
	done &&
	res CategoryTaxonomy x-c "title: C" >work/categories/x-c.md &&
	push_all break-cycle &&
	for c in x-a x-b x-c; do
		test "$(cond categorytaxonomies $c Acyclic)" = True || return 1
	done &&
	res Product on-x "title: On X" "categoryRef:" "  name: x-c" >work/products/on-x.md &&
	push_all product-on-x &&
	test "$(cond products on-x CategoryResolved)" = True &&
	git -C work rm -q categories/x-c.md && push_all x-c-gone &&
	test "$(cond products on-x CategoryResolved)" = False &&
	test "$(cond categorytaxonomies x-b ParentResolved)" = False &&
	gs_events --after "$N" >ev && check_cloudevents ev
'

review () { # review TOKEN FILE -> response body; http code in review.code
	curl -s -o review.json -w "%{http_code}\n" -H "Authorization: Bearer $1" -H "Content-Type: text/markdown" \
		--data-binary @"$2" "$GITSTORE_URL/api/v1/admission/review?repo=shop/catalog" >review.code
}

test_expect_success 'dry-run review: the same function, no commit, no event' '
	gs_events >before &&
	git ls-remote "$URL" >refs-before &&
	variant dup-z SKU-R shoe red >v-dup.md &&
	review "$TOKEN" v-dup.md &&
	echo 200 >expect && test_cmp expect review.code &&
	jq -e ".kind == \"AdmissionReview\" and .response.allowed == false and .response.status.code == 409 and .response.status.reason == \"DuplicateSku\" and .request.dryRun == true" review.json &&
	variant gold-z SKU-Z shoe gold >v-gold.md &&
	review "$TOKEN" v-gold.md &&
	jq -e ".response.allowed == true and (.response.conditions[] | select(.type == \"OptionsAccepted\") | .status) == \"False\"" review.json &&
	res Product "p-$(printf "%0201d" 0 | head -c 10)" "title: \"$(printf "%0201d" 0)\"" >p-long.md &&
	review "$TOKEN" p-long.md &&
	jq -e ".response.allowed == false and .response.status.code == 422 and .response.errors[0].code == \"too_long\"" review.json &&
	gs_events >after && test_cmp before after &&
	git ls-remote "$URL" >refs-after && test_cmp refs-before refs-after &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" \
		"$GITSTORE_URL/api/v1/namespaces/shop/productvariants/gold-z")" = 404
'

test_expect_success 'dry-run review: auth and bad requests' '
	READER=$(gs_token rita reader:shop) &&
	review "$READER" v-gold.md && echo 403 >expect && test_cmp expect review.code &&
	curl -s -o /dev/null -w "%{http_code}\n" --data-binary @v-gold.md "$GITSTORE_URL/api/v1/admission/review?repo=shop/catalog" >code &&
	echo 401 >expect && test_cmp expect code &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" --data-binary @v-gold.md "$GITSTORE_URL/api/v1/admission/review" >code &&
	echo 400 >expect && test_cmp expect code &&
	echo "not a resource" >plain.txt && review "$TOKEN" plain.txt && echo 400 >expect && test_cmp expect review.code
'

test_done
