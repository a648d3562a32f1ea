#!/bin/bash
test_description='hostile content: YAML alias bombs, 100 MB files, deep nesting, invalid UTF-8, path traversal in names, symlinks and submodules, 10,000 refs, oversize JSON bodies -- each refused (4xx, [remote rejected], catalog error) or ignored, and nothing written'
. "$(dirname "$0")/lib/test-lib.sh"

# Expected behaviour, per attack (docs/architecture.md "Limits"):
# - a resource file (first bytes ---) over 1 MiB is refused at pre-receive
#   (file_too_large) without being loaded; any other blob is Git content,
#   bounded only by the 2 GiB push limit, and streamed (never buffered);
# - an API PUT or review body over 1 MiB is 413 file_too_large; the body is
#   read and dropped past the limit, never held whole;
# - YAML anchors/aliases are never expanded: every one is an error
#   (yaml_anchor / yaml_alias), 64 kept per file;
# - a resource file whose path is not UTF-8 is refused at pre-receive
#   (invalid_utf8); other such files are ignored by the catalog; a ref name
#   that is not UTF-8 is refused (400) before git runs;
# - symlinks and gitlinks are not catalog files (catalog-format 1.2): never
#   read, never followed, no resource, no catalog event.

tgit () {
	timeout 300 git "$@"
}

# hwm_kb: the daemon's peak resident set size so far, in KiB.
hwm_kb () {
	awk '/^VmHWM:/ { print $2 }' "/proc/$GITSTORE_PID/status"
}

now_ms () {
	echo $(($(date +%s%N) / 1000000))
}

product () { # product NAME TITLE
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\nspec:\n  title: %s\n---\nAbout %s.\n' "$1" "$2" "$1"
}

# api METHOD TOKEN PATH [FILE [CONTENT-TYPE]]: body in api.json, status
# printed. PATH is sent as is (--path-as-is).
api () {
	local method=$1 tok=$2 path=$3 file=${4-} ctype=${5-text/markdown}
	local args=(-sS --path-as-is --max-time 120 -o api.json -w "%{http_code}" -X "$method")
	test -n "$tok" && args+=(-H "Authorization: Bearer $tok")
	test -n "$file" && args+=(-H "Content-Type: $ctype" --data-binary @"$file")
	curl "${args[@]}" "$GITSTORE_URL$path"
}

put_product () { # put_product TOKEN NAME FILE
	api PUT "$1" "/api/v1/repos/default/catalog/resources/products/$2" "$3"
}

review () { # review TOKEN FILE [CONTENT-TYPE]
	api POST "$1" "/api/v1/admission/review?repo=default/catalog" "$2" "${3-text/markdown}"
}

# expect_4xx STATUS [WANT...]: STATUS is a 4xx (one of WANT if given).
expect_4xx () {
	local got=$1 w
	shift
	case $got in
	4[0-9][0-9]) ;;
	*) echo "expected a 4xx status, got '$got'" >&2; cat api.json >&2; return 1 ;;
	esac
	test $# = 0 && return 0
	for w
	do
		test "$got" = "$w" && return 0
	done
	echo "expected status $*, got $got" >&2
	return 1
}

# json_error STATUS-GOT STATUS-WANT CODE: the answer is {"error": {code, message}}
json_error () {
	test "$1" = "$2" || { echo "status $1, expected $2" >&2; cat api.json >&2; return 1; }
	jq -e --arg c "$3" '.error.code == $c and (.error.message | length > 0)' api.json >/dev/null ||
	{ echo "expected error code $3:" >&2; cat api.json >&2; return 1; }
}

# snapshot NAME: events, refs, repository directories, stored resources
# and consumers, as files NAME.*.
snapshot () {
	gs_events >"$1.events" &&
	tgit ls-remote "$URL" >"$1.refs" &&
	(cd "$GITSTORE_DATA/repos" && find . -maxdepth 1 | sort) >"$1.repos" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/default/products?limit=500" |
		jq -r ".items[] | .metadata.name + \" \" + .metadata.resourceVersion" >"$1.resources" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/consumers" |
		jq -r ".items[].name" >"$1.consumers"
}

# nothing_written [ALLOW]: nothing since `snapshot base` but, if ALLOW is
# "rejections", push-rejected events (every refused authenticated push or
# API write records one, DESIGN 8).
nothing_written () {
	snapshot now &&
	test_cmp base.refs now.refs &&
	test_cmp base.repos now.repos &&
	test_cmp base.resources now.resources &&
	test_cmp base.consumers now.consumers &&
	if test "${1-}" = rejections
	then
		N0=$(jq -s "map(.logseq) | max // 0" base.events) &&
		gs_events --after "$N0" >now.new &&
		{ ev_types now.new | grep -v -x push-rejected; test $? = 1; } &&
		test_cmp base.events <(head -n "$(wc -l <base.events)" now.events)
	else
		test_cmp base.events now.events
	fi
}

# objects_unchanged: no object file since `snapshot base` (a refused push
# drops its quarantine).
objects_unchanged () {
	(cd "$GITSTORE_DATA/repos" && find . -path "*/objects/*" -type f | sort) >now.objects &&
	test_cmp base.objects now.objects
}

snapshot_objects () {
	(cd "$GITSTORE_DATA/repos" && find . -path "*/objects/*" -type f | sort) >base.objects
}

# wait_catalog N: the catalog worker has handled a draft-branch event
# after N that touched resource files (up to 60 s: ASan).
wait_catalog () {
	local i=0
	while test $i -lt 600
	do
		test "$(gs_events --after "$1" --type catalog-namespace-target | wc -l)" -ge 1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "no catalog-namespace-target after $1" >&2
	return 1
}

# push_refused DIR: push DIR's HEAD to main as the writer; it must be
# refused at pre-receive with a gitstore message (in push.err).
push_refused () {
	test_must_fail tgit -C "$1" push "$WURL" HEAD:main 2>push.err &&
	cat push.err &&
	grep "\[remote rejected\]" push.err &&
	grep "remote: gitstore:" push.err
}

# commit_file DIR PATH SOURCE: commit SOURCE's content as PATH on a copy
# of main's tip (resetting DIR to main first).
commit_file () {
	git -C "$1" reset -q --hard "$MAIN" &&
	mkdir -p "$1/$(dirname "$2")" &&
	cp "$3" "$1/$2" &&
	git -C "$1" add -- "$2" &&
	test_tick && git -C "$1" commit -q -m "add $2"
}

test_expect_success 'setup: repository, tokens, one product, baseline' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	WTOKEN=$(gs_token walt writer:default) &&
	RTOKEN=$(gs_token rita reader:default) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	WURL=$(gs_url_with_token "$WTOKEN" default/catalog) &&
	git init -q work &&
	mkdir work/products &&
	product shoe Shoe >work/products/shoe.md &&
	git -C work add products &&
	test_tick && git -C work commit -q -m first &&
	N=$(ev_head) &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	wait_catalog "$N" &&
	printf "{}" >empty.json &&
	test "$(api PUT "$TOKEN" /api/v1/consumers/watch empty.json application/json)" = 201 &&
	snapshot base &&
	snapshot_objects &&
	grep -x "shoe 1" base.resources &&
	HWM_START=$(hwm_kb) &&
	say "daemon peak RSS after setup: $HWM_START KiB"
'

# ---- 100 MB files (first: the peak RSS is still the setup's) -------------

test_expect_success '100 MB resource file pushed: refused at pre-receive (file_too_large), never loaded' '
	{ product big Big && head -c 100000000 /dev/zero | tr "\\0" a; } >big.md &&
	commit_file work products/big.md big.md &&
	HWM0=$(hwm_kb) &&
	N=$(ev_head) &&
	push_refused work &&
	grep "products/big.md:1: file is 100000[0-9]* bytes; resource files are limited to 1048576 bytes \\[file_too_large\\]" push.err &&
	HWM1=$(hwm_kb) &&
	say "peak RSS before/after: $HWM0 / $HWM1 KiB" &&
	test $((HWM1 - HWM0)) -lt 65536 &&
	nothing_written rejections &&
	objects_unchanged &&
	gs_events --after "$N" >ev &&
	ev_check ev push-rejected "any(.data.errors[]; .code == \"file_too_large\" and .path == \"products/big.md\")" &&
	rm -f big.md
'

test_expect_success '100 MB non-catalog blob pushed: accepted, streamed (peak RSS stays low), no catalog event' '
	test_when_finished "snapshot base && snapshot_objects" &&
	head -c 100000000 /dev/urandom >blob.bin &&
	commit_file work assets/blob.bin blob.bin &&
	N=$(ev_head) &&
	HWM0=$(hwm_kb) &&
	tgit -C work push -q "$WURL" HEAD:main &&
	HWM1=$(hwm_kb) &&
	say "peak RSS before/after: $HWM0 / $HWM1 KiB" &&
	test $((HWM1 - HWM0)) -lt 65536 &&
	gs_events --after "$N" >ev &&
	ev_types ev >types &&
	printf "%s\n" branch-updated push-completed >expect &&
	test_cmp expect types &&
	# keep later clones small
	git -C work rm -q assets/blob.bin &&
	test_tick && git -C work commit -q -m "drop the blob" &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	rm -f blob.bin
'

test_expect_success '100 MB API PUT and review bodies: 413 file_too_large, not held in memory, nothing written' '
	{ product big Big && head -c 100000000 /dev/zero | tr "\\0" a; } >big.md &&
	HWM0=$(hwm_kb) &&
	code=$(put_product "$WTOKEN" big big.md) &&
	json_error "$code" 413 file_too_large &&
	code=$(review "$WTOKEN" big.md) &&
	json_error "$code" 413 file_too_large &&
	code=$(api PUT "$WTOKEN" /api/v1/repos/default/catalog/resources/products/big big.md application/octet-stream) &&
	json_error "$code" 413 file_too_large &&
	HWM1=$(hwm_kb) &&
	say "peak RSS before/after: $HWM0 / $HWM1 KiB" &&
	test $((HWM1 - HWM0)) -lt 65536 &&
	nothing_written &&
	rm -f big.md
'

# ---- YAML alias bombs -----------------------------------------------------

test_expect_success 'alias bomb files: billion laughs, and 150,000 aliases in 450 KB' '
	cat >bomb.md <<-\EOF &&
	---
	apiVersion: catalog.gitstore.dev/v1beta1
	kind: Product
	metadata:
	  name: bomb
	spec:
	  title: Bomb
	  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
	  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
	  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
	  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
	  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
	  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
	  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
	  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
	  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
	---
	lol
	EOF
	/usr/bin/python3 -c "
import sys
head = \"---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: bomb\nspec:\n  title: Bomb\n  a: &a [lol]\n\"
sys.stdout.write(head + \"  b: [\" + \",\".join([\"*a\"] * 150000) + \"]\n---\nx\n\")
" >bomb2.md &&
	test "$(wc -c <bomb2.md)" -gt 400000
'

test_expect_success 'alias bomb pushed: refused at pre-receive (yaml_alias), quickly' '
	for f in bomb bomb2
	do
		commit_file work products/bomb.md $f.md &&
		T0=$(now_ms) &&
		push_refused work &&
		T1=$(now_ms) &&
		say "$f: refused in $((T1 - T0)) ms" &&
		test $((T1 - T0)) -lt 30000 &&
		grep "\\[yaml_alias\\]" push.err &&
		grep "\\[yaml_anchor\\]" push.err || return 1
	done &&
	grep "more errors in this file \\[too_many_errors\\]" push.err &&
	nothing_written rejections &&
	objects_unchanged
'

test_expect_success 'alias bomb as API PUT: 422 with yaml_alias records (64 kept), nothing written' '
	for f in bomb bomb2
	do
		T0=$(now_ms) &&
		code=$(put_product "$WTOKEN" bomb $f.md) &&
		T1=$(now_ms) &&
		say "$f: answered in $((T1 - T0)) ms" &&
		test $((T1 - T0)) -lt 30000 &&
		test "$code" = 422 &&
		jq -e ".error.code == \"catalog_validation_failed\" and any(.errors[]; .code == \"yaml_alias\") and (.errors | length) <= 65" api.json >/dev/null || return 1
	done &&
	nothing_written rejections &&
	snapshot_objects
'

test_expect_success 'alias bomb to admission review (file and JSON forms): denied with yaml_alias, no event' '
	for f in bomb bomb2
	do
		code=$(review "$WTOKEN" $f.md) &&
		test "$code" = 200 &&
		jq -e ".response.allowed == false and any(.response.errors[]; .code == \"yaml_alias\")" api.json >/dev/null || return 1
	done &&
	# JSON has no aliases: YAML syntax in its strings stays text
	jq -n "{apiVersion: \"admission.gitstore.dev/v1\", kind: \"AdmissionReview\",
		request: {object: {apiVersion: \"catalog.gitstore.dev/v1beta1\", kind: \"Product\",
		metadata: {name: \"bomb\"}, spec: {title: \"*a &b [*a,*a] <<: *a\"}}}}" >bomb.json &&
	code=$(review "$WTOKEN" bomb.json application/json) &&
	test "$code" = 200 &&
	jq -e ".response.allowed == true" api.json >/dev/null &&
	nothing_written rejections
'

# ---- deep nesting ---------------------------------------------------------

test_expect_success 'YAML nested beyond 32 levels: push refused, API 422, review denied (yaml_too_deep)' '
	/usr/bin/python3 -c "
import sys
head = \"---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: deep\nspec:\n  title: Deep\n\"
n = int(sys.argv[1])
if sys.argv[2] == \"flow\":
    sys.stdout.write(head + \"  x: \" + \"[\" * n + \"]\" * n + \"\n---\n\")
else:
    sys.stdout.write(head + \"\".join(\"  \" * (i + 1) + \"k%d:\n\" % i for i in range(n)) + \"  \" * (n + 1) + \"v\n---\n\")
" 100000 flow >deep1.md &&
	/usr/bin/python3 -c "
import sys
head = \"---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: deep\nspec:\n  title: Deep\n\"
sys.stdout.write(head + \"\".join(\"  \" * (i + 1) + \"k%d:\n\" % i for i in range(200)) + \"  \" * 201 + \"v\n---\n\")
" >deep2.md &&
	for f in deep1 deep2
	do
		commit_file work products/deep.md $f.md &&
		push_refused work &&
		grep "\\[yaml_too_deep\\]" push.err &&
		objects_unchanged &&
		code=$(put_product "$WTOKEN" deep $f.md) &&
		test "$code" = 422 &&
		jq -e "any(.errors[]; .code == \"yaml_too_deep\")" api.json >/dev/null &&
		code=$(review "$WTOKEN" $f.md) &&
		test "$code" = 200 &&
		jq -e ".response.allowed == false and any(.response.errors[]; .code == \"yaml_too_deep\")" api.json >/dev/null &&
		snapshot_objects || return 1
	done &&
	nothing_written rejections
'

test_expect_success 'deeply nested JSON bodies: consumer PUT/ack/nak, review: 400, nothing written' '
	/usr/bin/python3 -c "
n = 30000
open(\"dj.put\", \"w\").write(\"{\\\"filter\\\":\" + \"[\" * n + \"]\" * n + \"}\")
open(\"dj.ack\", \"w\").write(\"{\\\"logseq\\\":\" + \"[\" * n + \"]\" * n + \"}\")
obj = \"{\\\"apiVersion\\\":\\\"catalog.gitstore.dev/v1beta1\\\",\\\"kind\\\":\\\"Product\\\",\\\"metadata\\\":{\\\"name\\\":\\\"dj\\\"},\\\"spec\\\":{\\\"title\\\":\\\"x\\\",\\\"x\\\":%s}}\"
env = \"{\\\"apiVersion\\\":\\\"admission.gitstore.dev/v1\\\",\\\"kind\\\":\\\"AdmissionReview\\\",\\\"request\\\":{\\\"object\\\":%s}}\"
open(\"dj.review\", \"w\").write(env % (obj % (\"{\\\"a\\\":\" * n + \"1\" + \"}\" * n)))
open(\"dj.review2\", \"w\").write(env % (obj % (\"[\" * 1000 + \"]\" * 1000)))
open(\"dj.review3\", \"w\").write(env % (obj % (\"[\" * 100 + \"]\" * 100)))
" &&
	code=$(api PUT "$TOKEN" /api/v1/consumers/deep dj.put application/json) &&
	json_error "$code" 400 invalid_json &&
	for a in ack nak term
	do
		code=$(api POST "$TOKEN" /api/v1/consumers/watch/$a dj.ack application/json) &&
		json_error "$code" 400 invalid_json || return 1
	done &&
	code=$(review "$WTOKEN" dj.review application/json) &&
	json_error "$code" 400 invalid_json &&
	code=$(review "$WTOKEN" dj.review2 application/json) &&
	json_error "$code" 400 invalid_object &&
	code=$(review "$WTOKEN" dj.review3 application/json) &&
	test "$code" = 200 &&
	jq -e ".response.allowed == false and any(.response.errors[]; .code == \"yaml_too_deep\")" api.json >/dev/null &&
	test "$(api GET "$TOKEN" /api/v1/consumers/deep)" = 404 &&
	nothing_written rejections
'

# ---- invalid UTF-8 --------------------------------------------------------

test_expect_success 'resource file whose path is not UTF-8: refused (invalid_utf8), event valid JSON' '
	git -C work reset -q --hard "$MAIN" &&
	BADPATH="products/bad$(printf "\\377\\376")name.md" &&
	product badname "Bad name" >"work/$BADPATH" &&
	git -C work add -- "$BADPATH" &&
	test_tick && git -C work commit -q -m "bad path" &&
	N=$(ev_head) &&
	push_refused work &&
	grep "remote: products/bad??name.md:1: file path is not valid utf-8; resource files need utf-8 paths \\[invalid_utf8\\]" push.err &&
	git -C work reset -q --hard "$MAIN" &&
	mkdir "work/$(printf "dir\\377")" &&
	product hidden Hidden >"work/$(printf "dir\\377")/readme.txt" &&
	git -C work add -A &&
	test_tick && git -C work commit -q -m "resource under a bad directory name" &&
	push_refused work &&
	grep "remote: dir?/readme.txt:1: file path is not valid utf-8" push.err &&
	nothing_written rejections &&
	objects_unchanged &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	ev_check ev push-rejected "any(.data.errors[]; .code == \"invalid_utf8\" and (.path | test(\"^(products/bad..name.md|dir./readme.txt)$\")))"
'

test_expect_success 'other files whose names are not UTF-8: accepted, ignored by the catalog, events valid' '
	test_when_finished "snapshot base && snapshot_objects" &&
	git -C work reset -q --hard "$MAIN" &&
	printf "plain\\n" >"work/$(printf "notes-\\303\\050.txt")" &&
	mkdir -p "work/$(printf "dir\\377")" &&
	printf "not a resource\\n" >"work/$(printf "dir\\377")/readme.md" &&
	git -C work add -A &&
	test_tick && git -C work commit -q -m "odd names" &&
	N=$(ev_head) &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	# a sentinel change the worker reports, after the odd names
	product sentinel1 Sentinel >work/products/sentinel1.md &&
	git -C work add products && test_tick && git -C work commit -q -m sentinel &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	wait_catalog "$N" &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	jq -r "select(.type | test(\"catalog-resource\")) | .data.path" ev | sort -u >paths &&
	echo products/sentinel1.md >expect &&
	test_cmp expect paths &&
	api GET "$TOKEN" "/api/v1/namespaces/default/products?limit=500" >code &&
	jq -r ".items[].metadata.name" api.json | sort >names &&
	printf "%s\n" sentinel1 shoe >expect &&
	test_cmp expect names
'

test_expect_success 'a ref name that is not UTF-8: refused before git runs (400), no ref, no event' '
	git -C work update-ref "refs/heads/bad$(printf "\\377")ref" "$MAIN" &&
	git -C work update-ref "refs/tags/v$(printf "\\376")1" "$MAIN" &&
	test_must_fail tgit -C work push "$WURL" "refs/heads/bad$(printf "\\377")ref" 2>push.err &&
	cat push.err &&
	grep "HTTP 400" push.err &&
	test_must_fail tgit -C work push "$WURL" "refs/tags/v$(printf "\\376")1" 2>push.err &&
	grep "HTTP 400" push.err &&
	/usr/bin/python3 -c "
import sys
line = b\"0\" * 40 + b\" \" + sys.argv[1].encode() + b\" refs/heads/x\\xc3\\x28\\0report-status\\n\"
sys.stdout.buffer.write(b\"%04x\" % (len(line) + 4) + line + b\"0000\")
" "$MAIN" >badref.req &&
	code=$(curl -sS -o badref.out -w "%{http_code}" -u "x:$WTOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @badref.req \
		"$GITSTORE_URL/default/catalog.git/git-receive-pack") &&
	test "$code" = 400 &&
	grep "not valid UTF-8" badref.out &&
	git -C work update-ref -d "refs/heads/bad$(printf "\\377")ref" &&
	git -C work tag -d "v$(printf "\\376")1" &&
	nothing_written
'

test_expect_success 'invalid UTF-8 inside the YAML: push refused, API 422, review denied (invalid_utf8)' '
	printf -- "---\\napiVersion: catalog.gitstore.dev/v1beta1\\nkind: Product\\nmetadata:\\n  name: latin1\\nspec:\\n  title: \\"caf\\351\\"\\n---\\n" >latin1.md &&
	printf -- "---\\napiVersion: catalog.gitstore.dev/v1beta1\\nkind: Product\\nmetadata:\\n  name: \\"x\\300\\257y\\"\\nspec:\\n  title: t\\n---\\n\\355\\240\\200\\n" >overlong.md &&
	for f in latin1 overlong
	do
		commit_file work products/$f.md $f.md &&
		push_refused work &&
		grep "\\[invalid_utf8\\]" push.err &&
		objects_unchanged &&
		code=$(put_product "$WTOKEN" latin1 $f.md) &&
		test "$code" = 422 &&
		jq -e "any(.errors[]; .code == \"invalid_utf8\")" api.json >/dev/null &&
		code=$(review "$WTOKEN" $f.md) &&
		test "$code" = 200 &&
		jq -e ".response.allowed == false and any(.response.errors[]; .code == \"invalid_utf8\")" api.json >/dev/null &&
		snapshot_objects || return 1
	done &&
	nothing_written rejections
'

# ---- path traversal in names ------------------------------------------------

test_expect_success 'traversal in API resource and repository names: 4xx, nothing written' '
	product x X >x.md &&
	for p in \
		products/..%2F..%2Fx \
		products/../../x \
		products/%2e%2e \
		products/.. \
		products/x%2Fy \
		products/x%00 \
		products/shoe%00evil \
		products/X \
		"products/$(printf "%064d" 0 | tr 0 a)" \
		..%2Fproducts/x \
		../products/x
	do
		code=$(api PUT "$WTOKEN" "/api/v1/repos/default/catalog/resources/$p" x.md) &&
		expect_4xx "$code" || { echo "path $p" >&2; return 1; }
	done &&
	for p in \
		/api/v1/repos/..%2Fdefault/catalog/resources/products/x \
		/api/v1/repos/default/..%2Fcatalog/resources/products/x \
		/api/v1/repos/%2e%2e/catalog/resources/products/x \
		/api/v1/repos/default/%2e%2e/resources/products/x \
		/api/v1/repos/default/catalog.git/resources/products/x \
		/api/v1/repos/default/catalog%2F..%2F..%2Fx/resources/products/x \
		/api/v1/repos/../../x/resources/products/x
	do
		code=$(api PUT "$WTOKEN" "$p" x.md) &&
		expect_4xx "$code" &&
		code=$(api DELETE "$WTOKEN" "$p") &&
		expect_4xx "$code" || { echo "path $p" >&2; return 1; }
	done &&
	for r in ../catalog default/..%2Fcatalog default/../catalog %2e%2e/catalog default/catalog/.. default
	do
		code=$(api POST "$WTOKEN" "/api/v1/admission/review?repo=$r" x.md text/markdown) &&
		expect_4xx "$code" || { echo "repo $r" >&2; return 1; }
	done &&
	printf "{\"filter\": {\"repo\": \"default/../catalog\"}}" >trav.json &&
	code=$(api PUT "$TOKEN" /api/v1/consumers/trav trav.json application/json) &&
	expect_4xx "$code" 400 404 &&
	test_path_is_missing "$GITSTORE_DATA/x" &&
	test_path_is_missing "$TRASH/x" &&
	test_path_is_missing "$GITSTORE_DATA/repos/x.git" &&
	nothing_written rejections
'

test_expect_success 'traversal in metadata.name ("..", "/"): no resource; pushed: invalid_name from the catalog; API: 422' '
	# the name format is a schema rule, checked after the push (the draft
	# keeps schema-invalid files, DESIGN 7); identity is never formed
	test_when_finished "snapshot base && snapshot_objects" &&
	i=0 &&
	for n in "../../etc" "a/b" ".." "x/../../y"
	do
		i=$((i + 1)) &&
		printf -- "---\\napiVersion: catalog.gitstore.dev/v1beta1\\nkind: Product\\nmetadata:\\n  name: %s\\nspec:\\n  title: T\\n---\\n" "$n" >tn.md &&
		code=$(put_product "$WTOKEN" tn tn.md) &&
		test "$code" = 422 &&
		commit_file work products/tn$i.md tn.md &&
		N=$(ev_head) &&
		tgit -C work push -q "$WURL" HEAD:main &&
		MAIN=$(git -C work rev-parse HEAD) &&
		wait_catalog "$N" &&
		gs_events --after "$N" >ev &&
		ev_types ev | grep "^catalog-resource" >types &&
		echo catalog-resource-validation-failed >expect &&
		test_cmp expect types &&
		ev_check ev catalog-resource-validation-failed ".subject == \"products/tn$i.md\" and any(.data.errors[]; .code == \"invalid_name\")" || { echo "name $n" >&2; return 1; }
	done &&
	snapshot now &&
	test_cmp base.resources now.resources &&
	# drop them again: a release of main must be admissible below
	git -C work rm -q products/tn1.md products/tn2.md products/tn3.md products/tn4.md &&
	test_tick && git -C work commit -q -m "drop the invalid names" &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD)
'

test_expect_success 'traversal in git URLs (encoded slashes, double encoding): 4xx, no repository created' '
	for p in \
		"/default/catalog.git%2F..%2F..%2Fx.git" \
		"/default%2F..%2Fcatalog.git" \
		"/default/%252e%252e/catalog.git" \
		"/default/..%5ccatalog.git" \
		"/default/catalog.git/..%2F..%2F..%2Fetc" \
		"/%2e%2e%2f%2e%2e%2fetc/passwd.git"
	do
		code=$(curl -sS --path-as-is -o out.git -w "%{http_code}" -u "x:$WTOKEN" \
			"$GITSTORE_URL$p/info/refs?service=git-receive-pack") &&
		expect_4xx "$code" &&
		code=$(curl -sS --path-as-is -o out.git -w "%{http_code}" -u "x:$WTOKEN" \
			-H "Content-Type: application/x-git-receive-pack-request" --data-binary @badref.req \
			"$GITSTORE_URL$p/git-receive-pack") &&
		expect_4xx "$code" || { echo "path $p" >&2; return 1; }
	done &&
	test_path_is_missing "$GITSTORE_DATA/x.git" &&
	nothing_written rejections
'

# ---- symlinks and submodules ---------------------------------------------------

test_expect_success 'symlinks and gitlinks named like catalog files: accepted, never followed, no resource' '
	test_when_finished "snapshot base && snapshot_objects" &&
	git -C work reset -q --hard "$MAIN" &&
	# blobs for the link targets; one target is a whole resource document
	L1=$(printf "/etc/passwd" | git -C work hash-object -w --stdin) &&
	L2=$(printf "../../../../../etc/hostname" | git -C work hash-object -w --stdin) &&
	L3=$(product fromlink "From a link" | git -C work hash-object -w --stdin) &&
	L4=$(printf "../products/shoe.md" | git -C work hash-object -w --stdin) &&
	git -C work update-index --add --cacheinfo "120000,$L1,products/passwd.md" &&
	git -C work update-index --add --cacheinfo "120000,$L2,products/up.md" &&
	git -C work update-index --add --cacheinfo "120000,$L3,products/fromlink.md" &&
	git -C work update-index --add --cacheinfo "120000,$L4,collections/shoe-again.md" &&
	git -C work update-index --add --cacheinfo "160000,$MAIN,products/sub.md" &&
	git -C work update-index --add --cacheinfo "160000,$MAIN,vendor/module" &&
	test_tick && git -C work commit -q -m "links and gitlinks" &&
	git -C work ls-tree -r HEAD >tree &&
	test "$(grep -c "^120000 " tree)" = 4 &&
	test "$(grep -c "^160000 " tree)" = 2 &&
	N=$(ev_head) &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	# a sentinel the worker reports, so it has seen the links first
	git -C work reset -q --hard "$MAIN" &&
	product sentinel2 Sentinel >work/products/sentinel2.md &&
	git -C work add products/sentinel2.md && test_tick && git -C work commit -q -m sentinel &&
	tgit -C work push -q "$WURL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	wait_catalog "$N" &&
	gs_events --after "$N" >ev &&
	check_cloudevents ev &&
	jq -r "select(.type | test(\"catalog-resource\")) | .data.path" ev | sort -u >paths &&
	echo products/sentinel2.md >expect &&
	test_cmp expect paths &&
	api GET "$TOKEN" "/api/v1/namespaces/default/products?limit=500" >code &&
	jq -r ".items[].metadata.name" api.json | sort >names &&
	printf "%s\n" sentinel1 sentinel2 shoe >expect &&
	test_cmp expect names &&
	test "$(api GET "$TOKEN" /api/v1/namespaces/default/products/fromlink)" = 404 &&
	test "$(api GET "$TOKEN" /api/v1/namespaces/default/collections/shoe-again)" = 404
'

test_expect_success 'a release tag over the links: release admission ignores them too' '
	test_when_finished "snapshot base && snapshot_objects" &&
	PTOKEN=$(gs_token pat publisher:default) &&
	git -C work tag v1 "$MAIN" &&
	N=$(ev_head) &&
	tgit -C work push -q "$(gs_url_with_token "$PTOKEN" default/catalog)" v1 &&
	i=0 &&
	while ! gs_events --after "$N" --type release-created >rel || ! test -s rel
	do
		test $i -lt 600 || { gs_events --after "$N" >&2; return 1; }
		sleep 0.1 && i=$((i + 1))
	done &&
	jq -e ".data.resources == 3" rel
'

test_expect_success 'the daemon is healthy after the links' '
	test "$(api GET "" /healthz)" = 200 &&
	tgit clone -q --depth 1 "$URL" links-clone &&
	test "$(git -C links-clone rev-parse HEAD)" = "$MAIN"
'

# ---- many refs ----------------------------------------------------------------

# mkpush NEW-SHA N PREFIX: an atomic receive-pack request creating N refs
# PREFIX1..PREFIXN at NEW-SHA, with the empty pack git sends when the
# server has every object. (The stock client spends minutes of its own CPU
# matching 10,000 refspecs over smart HTTP; the request is the same.)
mkpush () {
	git -C work pack-objects -q --stdout </dev/null >empty.pack &&
	/usr/bin/python3 -c "
import sys
new, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = sys.stdout.buffer
for i in range(1, n + 1):
    line = \"%s %s %s%d\" % (\"0\" * 40, new, prefix, i)
    if i == 1:
        line += \"\\0report-status atomic agent=t7001\"
    b = (line + \"\\n\").encode()
    out.write(b\"%04x\" % (len(b) + 4) + b)
out.write(b\"0000\")
out.write(open(\"empty.pack\", \"rb\").read())
" "$@"
}

test_expect_success '10,000 refs in one push: every ref gets its event' '
	test_when_finished "snapshot base && snapshot_objects" &&
	mkpush "$MAIN" 10000 refs/heads/many/ >many.req &&
	N=$(ev_head) &&
	T0=$(now_ms) &&
	code=$(curl -sS --max-time 600 -o many.out -w "%{http_code}" -u "x:$WTOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @many.req \
		"$GITSTORE_URL/default/catalog.git/git-receive-pack") &&
	T1=$(now_ms) &&
	say "10,000-ref push: $((T1 - T0)) ms" &&
	test "$code" = 200 &&
	grep -a -c "ok refs/heads/many/" many.out >ok.count &&
	echo 10000 >expect && test_cmp expect ok.count &&
	tgit ls-remote "$URL" "refs/heads/many/*" >many.refs &&
	test_line_count = 10000 many.refs &&
	gs_events --after "$N" >ev &&
	ev_types ev | sort | uniq -c | sed "s/^ *//" >types &&
	printf "%s\n" "10000 branch-created" "1 push-completed" >expect &&
	test_cmp expect types &&
	jq -r "select(.type == \"dev.gitstore.branch-created.v1\") | .data.ref" ev | sort >evrefs &&
	cut -f2 many.refs | sort >gitrefs &&
	test_cmp gitrefs evrefs &&
	jq -s -e "map(select(.type == \"dev.gitstore.branch-created.v1\")) | all(.data.commits == 0)" ev >/dev/null &&
	ev_check ev push-completed ".data.refCount == 10000 and .data.refsTruncated == true"
'

test_expect_success '1,000 refs with the stock git client (--atomic): all events' '
	test_when_finished "snapshot base && snapshot_objects" &&
	for i in $(test_seq 1 1000)
	do
		echo "create refs/heads/stock/$i $MAIN" || return 1
	done >stock.txt &&
	git -C work update-ref --stdin <stock.txt &&
	N=$(ev_head) &&
	T0=$(now_ms) &&
	tgit -C work push -q --atomic "$WURL" "refs/heads/stock/*:refs/heads/stock/*" &&
	T1=$(now_ms) &&
	say "1,000-ref git push --atomic: $((T1 - T0)) ms" &&
	gs_events --after "$N" >ev &&
	test "$(ev_types ev | grep -c -x branch-created)" = 1000
'

test_expect_success 'more than 20,000 refs: 413 before git runs, nothing written' '
	mkpush "$MAIN" 20001 refs/heads/over/ >over.req &&
	code=$(curl -sS --max-time 120 -o over.out -w "%{http_code}" -u "x:$WTOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @over.req \
		"$GITSTORE_URL/default/catalog.git/git-receive-pack") &&
	test "$code" = 413 &&
	grep "more than 20000 refs" over.out &&
	nothing_written &&
	objects_unchanged
'

# ---- oversize bodies on every JSON route ---------------------------------------

test_expect_success 'oversize bodies: 413 with a JSON error on every route that takes one, nothing written' '
	/usr/bin/python3 -c "
import json
big = \"x\" * 70000
open(\"big.consumer\", \"w\").write(json.dumps({\"filter\": {\"types\": [big]}}))
open(\"big.settle\", \"w\").write(json.dumps({\"logseq\": [1] * 40000}))
" &&
	test "$(wc -c <big.settle)" -gt 65536 &&
	code=$(api PUT "$TOKEN" /api/v1/consumers/watch big.consumer application/json) &&
	json_error "$code" 413 body_too_large &&
	code=$(api PUT "$TOKEN" /api/v1/consumers/other big.consumer application/json) &&
	json_error "$code" 413 body_too_large &&
	for a in fetch ack nak term
	do
		code=$(api POST "$TOKEN" /api/v1/consumers/watch/$a big.settle application/json) &&
		json_error "$code" 413 body_too_large || { echo "route $a" >&2; return 1; }
	done &&
	{ product limit Limit && head -c 1048576 /dev/zero | tr "\\0" a; } >over1m.md &&
	code=$(put_product "$WTOKEN" limit over1m.md) &&
	json_error "$code" 413 file_too_large &&
	code=$(review "$WTOKEN" over1m.md) &&
	json_error "$code" 413 file_too_large &&
	jq -n --rawfile f over1m.md "{apiVersion: \"admission.gitstore.dev/v1\", kind: \"AdmissionReview\",
		request: {object: {apiVersion: \"catalog.gitstore.dev/v1beta1\", kind: \"Product\",
		metadata: {name: \"limit\"}, spec: {title: \"t\"}, body: \$f}}}" >over1m.json &&
	code=$(review "$WTOKEN" over1m.json application/json) &&
	json_error "$code" 413 file_too_large &&
	for p in /api/v1/events /api/v1/namespaces/default/products /api/v1/consumers/watch \
		/api/v1/repos/default/catalog/settings /storefront/v1/namespaces/default/products
	do
		code=$(curl -sS -o api.json -w "%{http_code}" -X GET -H "Authorization: Bearer $TOKEN" \
			--data-binary @over1m.md "$GITSTORE_URL$p") &&
		json_error "$code" 413 body_not_allowed || { echo "route $p" >&2; return 1; }
	done &&
	code=$(curl -sS -o api.json -w "%{http_code}" -X DELETE -H "Authorization: Bearer $WTOKEN" \
		--data-binary @over1m.md "$GITSTORE_URL/api/v1/repos/default/catalog/resources/products/shoe") &&
	json_error "$code" 413 body_not_allowed &&
	nothing_written
'

test_expect_success 'a body of exactly 1 MiB is read (not 413)' '
	{ product limit Limit && printf "body\\n"; } >head.md &&
	{ cat head.md && head -c $((1048576 - $(wc -c <head.md))) /dev/zero | tr "\\0" a; } >exact.md &&
	test "$(wc -c <exact.md)" = 1048576 &&
	code=$(review "$WTOKEN" exact.md) &&
	test "$code" = 200 &&
	jq -e ".response.allowed == true" api.json >/dev/null
'

test_expect_success 'every event is a valid CloudEvent (valid UTF-8 JSON); daemon healthy' '
	gs_events >all &&
	check_cloudevents all &&
	/usr/bin/python3 -c "
import json, sys
for n, line in enumerate(open(\"all\", \"rb\"), 1):
    json.loads(line.decode(\"utf-8\", errors=\"strict\"))
" &&
	test "$(api GET "" /healthz)" = 200 &&
	HWM=$(hwm_kb) &&
	say "daemon peak RSS at the end: $HWM KiB (after setup: $HWM_START KiB)" &&
	stop_gitstore
'

test_done
