#!/bin/bash
test_description='gitstore validate: golden catalog files, exit codes, tree and location rules'
. "$(dirname "$0")/lib/test-lib.sh"

DATA=$ROOT/tests/data/catalog

test_expect_success 'setup: golden files' '
	mkdir golden &&
	cp "$DATA"/*.md "$DATA"/*.expected golden/
'

# One test per golden file: the exact output, exit 1 iff any line.
for md in "$DATA"/*.md
do
	name=$(basename "$md" .md)
	test_expect_success "golden $name" '
		(
			cd golden &&
			if test -s "$name.expected"
			then
				test_expect_code 1 gitstore validate --namespace acme-outfitters "$name.md" >"../$name.actual"
			else
				gitstore validate --namespace acme-outfitters "$name.md" >"../$name.actual"
			fi
		) &&
		test_cmp "golden/$name.expected" "$name.actual"
	'
done

test_expect_success 'several files: every error of every file, in argument order' '
	(
		cd golden &&
		test_expect_code 1 gitstore validate --namespace acme-outfitters \
			13-invalid-readonly-metadata.md 08-skipped-plain-readme.md 17-invalid-variant-missing-required.md \
			02-valid-product-minimal.md >../actual
	) &&
	cat golden/13-invalid-readonly-metadata.expected golden/17-invalid-variant-missing-required.expected >expect &&
	test_cmp expect actual
'

test_expect_success 'defaults: namespace default, repository catalog' '
	(
		cd golden &&
		gitstore validate 02-valid-product-minimal.md >../actual-min &&
		test_expect_code 1 gitstore validate 01-valid-product-full.md >../actual
	) &&
	test_must_be_empty actual-min &&
	echo "01-valid-product-full.md:6: metadata.namespace: namespace \"acme-outfitters\" does not match the repository'"'"'s namespace \"default\" [namespace_mismatch]" >expect &&
	test_cmp expect actual
'

test_expect_success 'Namespace manifest accepted in gitstore-system/gitstore-system at namespaces/NAME.md' '
	mkdir -p namespaces &&
	cp golden/07-valid-namespace.md namespaces/acme-outfitters.md &&
	gitstore validate --namespace gitstore-system --repo gitstore-system namespaces/acme-outfitters.md >actual &&
	test_must_be_empty actual
'

test_expect_success 'Namespace manifest at another path is refused' '
	cp golden/07-valid-namespace.md namespaces/acme.md &&
	test_expect_code 1 gitstore validate --namespace gitstore-system --repo=gitstore-system namespaces/acme.md >actual &&
	echo "namespaces/acme.md:5: metadata.name: namespace \"acme-outfitters\" must be stored at namespaces/acme-outfitters.md [namespace_manifest_location]" >expect &&
	test_cmp expect actual
'

test_expect_success 'Namespace manifest in another repository of gitstore-system is refused' '
	test_expect_code 1 gitstore validate --namespace gitstore-system --repo catalog namespaces/acme-outfitters.md >actual &&
	echo "namespaces/acme-outfitters.md:3: namespace manifests are accepted only in repository gitstore-system/gitstore-system [namespace_manifest_location]" >expect &&
	test_cmp expect actual
'

test_expect_success 'Namespace status block is tolerated' '
	mkdir -p ns2/namespaces &&
	cat >ns2/namespaces/outdoor.md <<-\EOF &&
	---
	apiVersion: gitstore.dev/v1beta1
	kind: Namespace
	metadata:
	  name: outdoor
	spec:
	  tier: USER
	status:
	  conditions: []
	---
	EOF
	(
		cd ns2 &&
		gitstore validate --namespace gitstore-system --repo gitstore-system namespaces/outdoor.md >../actual
	) &&
	test_must_be_empty actual
'

test_expect_success 'the same identity twice in one tree is refused' '
	mkdir -p tree/products tree/more &&
	cp golden/01-valid-product-full.md tree/products/shoe.md &&
	cp golden/01-valid-product-full.md tree/more/shoe-copy.md &&
	cp golden/05-valid-category-child.md tree/products/running-shoes.md &&
	cat >tree/same-name-other-kind.md <<-\EOF &&
	---
	apiVersion: catalog.gitstore.dev/v1beta1
	kind: Collection
	metadata:
	  name: gift-card
	spec:
	  title: Same name as the product, other kind
	---
	EOF
	cp golden/02-valid-product-minimal.md tree/gift-card.md &&
	(
		cd tree &&
		test_expect_code 1 gitstore validate --namespace acme-outfitters products/shoe.md \
			products/running-shoes.md more/shoe-copy.md same-name-other-kind.md \
			gift-card.md >../actual
	) &&
	echo "more/shoe-copy.md:5: metadata.name: Product acme-outfitters/trail-runner-shoe is also defined in products/shoe.md [duplicate_identity]" >expect &&
	test_cmp expect actual
'

test_expect_success 'an explicit metadata.namespace equal to the inferred one is the same identity' '
	mkdir -p tree2 &&
	cp golden/02-valid-product-minimal.md tree2/a.md &&
	sed "s/^  name: gift-card$/  name: gift-card\n  namespace: acme-outfitters/" golden/02-valid-product-minimal.md >tree2/b.md &&
	(
		cd tree2 &&
		test_expect_code 1 gitstore validate --namespace acme-outfitters a.md b.md >../actual
	) &&
	echo "b.md:5: metadata.name: Product acme-outfitters/gift-card is also defined in a.md [duplicate_identity]" >expect &&
	test_cmp expect actual
'

test_expect_success 'non-resource files are skipped silently' '
	printf "# notes\n" >README.md &&
	printf "\x89PNG\r\n\x1a\n" >image.png &&
	: >empty.md &&
	gitstore validate README.md image.png empty.md >actual 2>err &&
	test_must_be_empty actual &&
	test_must_be_empty err
'

test_expect_success 'an unreadable file is reported and fails, the others are still checked' '
	test_expect_code 1 gitstore validate --namespace acme-outfitters missing.md golden/15-invalid-product-title-201.md >actual 2>err &&
	grep "^gitstore validate: cannot read missing.md: " err &&
	sed "s|^|golden/|" golden/15-invalid-product-title-201.expected >expect &&
	test_cmp expect actual
'

test_expect_success 'a directory is unreadable' '
	mkdir adir &&
	test_expect_code 1 gitstore validate adir >actual 2>err &&
	grep "^gitstore validate: cannot read adir: " err &&
	test_must_be_empty actual
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 gitstore validate 2>err &&
	grep "^usage: gitstore validate" err &&
	test_expect_code 2 gitstore validate --bogus x.md 2>err &&
	grep "unknown option" err &&
	test_expect_code 2 gitstore validate --namespace 2>err &&
	gitstore validate --help >out &&
	grep "^usage: gitstore validate" out
'

test_expect_success '-- ends the options' '
	cp golden/02-valid-product-minimal.md ./-dash.md &&
	gitstore validate -- -dash.md >actual &&
	test_must_be_empty actual
'

test_expect_success 'a resource file over the size limit is refused before parsing (others are skipped)' '
	{
		printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: huge\nspec: {}\n---\n" &&
		head -c 1100000 /dev/zero | tr "\0" "x"
	} >huge.md &&
	test_expect_code 1 gitstore validate huge.md >actual &&
	echo "huge.md:0: resource file is $(wc -c <huge.md) bytes, over the limit of 1048576 bytes [file_too_large]" >expect &&
	test_cmp expect actual &&
	head -c 1100000 /dev/zero | tr "\0" "x" >huge.txt &&
	gitstore validate huge.txt >actual &&
	test_must_be_empty actual
'

test_expect_success 'errors past the per-file limit are counted' '
	{
		printf -- "---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: many\nspec:\n  media:\n" &&
		for i in $(test_seq 70); do printf "  - fileRef: {kind: File}\n"; done &&
		printf -- "---\n"
	} >many.md &&
	test_expect_code 1 gitstore validate many.md >actual &&
	test_line_count = 65 actual &&
	tail -n 1 actual >last &&
	echo "many.md:0: 6 more errors in this file [too_many_errors]" >expect &&
	test_cmp expect last
'

test_expect_success 'gitstore --help lists validate' '
	gitstore --help >out &&
	grep "^  validate " out
'

test_done
