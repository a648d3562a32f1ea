#!/bin/bash
test_description='hostile HTTP: malformed pkt-lines, path traversal, unknown repositories, oversize headers, wrong media types, dumb HTTP -- each a clear 4xx and nothing written'
. "$(dirname "$0")/lib/test-lib.sh"

ZERO=0000000000000000000000000000000000000000

tgit () {
	timeout 60 git "$@"
}

# pkt TEXT: TEXT plus a newline as one pkt-line.
pkt () {
	printf "%04x%s\n" $((${#1} + 5)) "$1"
}

# req METHOD PATH OUT [CURL-ARGS...]: send one request (path sent as is,
# not normalised by curl), write the body to OUT, print the status.
req () {
	local method=$1 path=$2 out=$3
	shift 3
	curl -sS --path-as-is --max-time 20 -o "$out" -w "%{http_code}" -X "$method" "$@" "$GITSTORE_URL$path"
}

# git_post SERVICE PATH BODY OUT [CURL-ARGS...]: POST BODY (a file) with the
# admin token and SERVICE's request Content-Type; print the status.
git_post () {
	local svc=$1 path=$2 body=$3 out=$4
	shift 4
	req POST "$path" "$out" -u "x:$TOKEN" \
		-H "Content-Type: application/x-git-$svc-request" "$@" --data-binary @"$body"
}

# expect_4xx STATUS [WANT...]: STATUS is a 4xx (one of WANT if given).
expect_4xx () {
	local got=$1 w
	shift
	case $got in
	4[0-9][0-9]) ;;
	*) echo "expected a 4xx status, got '$got'" >&2; return 1 ;;
	esac
	test $# = 0 && return 0
	for w
	do
		test "$got" = "$w" && return 0
	done
	echo "expected status $*, got $got" >&2
	return 1
}

# no_leak FILE: a refused response carries no refs and no pack.
no_leak () {
	if grep -q -e "$MAIN" -e "# service=" -e "PACK" "$1"
	then
		echo "refused response leaks repository content:" >&2
		cat "$1" >&2
		return 1
	fi
}

# snapshot NAME: the event log, the advertised refs, the object files and
# the repository directories, as files NAME.*.
snapshot () {
	gs_events >"$1.events" &&
	tgit ls-remote "$URL" >"$1.refs" &&
	(cd "$GITSTORE_DATA/repos" && find . -path "*/objects/*" -type f | sort) >"$1.objects" &&
	(cd "$GITSTORE_DATA/repos" && find . -maxdepth 1 | sort) >"$1.repos"
}

# nothing_written: no event, ref, object or repository since the baseline.
nothing_written () {
	snapshot now &&
	test_cmp base.events now.events &&
	test_cmp base.refs now.refs &&
	test_cmp base.objects now.objects &&
	test_cmp base.repos now.repos
}

test_expect_success 'setup: namespace, repository, server, one commit, baseline' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	git init -q work &&
	echo hello >work/README.md &&
	git -C work add README.md &&
	test_tick && git -C work commit -q -m first &&
	tgit -C work push -q "$URL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	# a second commit the server does not have, for well-formed push bodies
	echo evil >work/evil.md && git -C work add evil.md &&
	test_tick && git -C work commit -q -m evil &&
	EVIL=$(git -C work rev-parse HEAD) &&
	snapshot base &&
	test_file_not_empty base.events &&
	grep -q "refs/heads/main" base.refs
'

test_expect_success 'malformed pkt-lines to git-upload-pack: 400, nothing written' '
	printf "zzzz0000" >b.badhex &&
	printf "0032want" >b.truncated &&
	printf "0003" >b.len3 &&
	printf "ffff" >b.toolong &&
	head -c 70000 /dev/zero | tr "\\0" a >>b.toolong &&
	printf "000" >b.halfheader &&
	{ pkt "want $MAIN" && printf 0000 && pkt done && printf 00; } >b.tailheader &&
	{ pkt "command=ls-refs" && printf "0001001" ; } >b.v2trunc &&
	for b in badhex truncated len3 toolong halfheader tailheader v2trunc
	do
		code=$(git_post upload-pack /default/catalog.git/git-upload-pack b.$b out.$b) &&
		expect_4xx "$code" 400 &&
		no_leak out.$b &&
		code=$(git_post upload-pack /default/catalog.git/git-upload-pack b.$b out2.$b \
			-H "Git-Protocol: version=2") &&
		expect_4xx "$code" 400 &&
		no_leak out2.$b || { echo "body $b" >&2; return 1; }
	done &&
	grep -i "pkt-line" out.badhex &&
	nothing_written
'

test_expect_success 'malformed pkt-lines to git-receive-pack: 400, nothing written' '
	printf "zzzz0000" >r.badhex &&
	printf "0003" >r.len3 &&
	printf "00" >r.halfheader &&
	printf "00a0%s %s" "$ZERO" "$EVIL" >r.truncated &&
	pkt "$ZERO $EVIL refs/heads/evil" >r.noflush &&
	: >r.empty &&
	printf "ffff" >r.toolong &&
	head -c 70000 /dev/zero | tr "\\0" a >>r.toolong &&
	{ printf 0001 && printf 0000; } >r.delim &&
	{ pkt "push-cert" && pkt "certificate version 0.1" && printf 0000; } >r.cert &&
	for b in badhex len3 halfheader truncated noflush empty toolong delim cert
	do
		code=$(git_post receive-pack /default/catalog.git/git-receive-pack r.$b rout.$b) &&
		expect_4xx "$code" 400 &&
		no_leak rout.$b || { echo "body $b" >&2; return 1; }
	done &&
	nothing_written
'

test_expect_success 'receive-pack body whose first command line is garbage: 400, nothing written' '
	{ pkt "garbage command line" && printf 0000; } >g.garbage &&
	{ pkt "$ZERO $EVIL" && printf 0000; } >g.noref &&
	{ pkt "$(echo $ZERO | tr 0 z) $EVIL refs/heads/evil" && printf 0000; } >g.nonhex &&
	{ pkt "$ZERO  $EVIL refs/heads/evil" && printf 0000; } >g.spacing &&
	{ pkt "garbage" && pkt "$ZERO $EVIL refs/heads/evil" && printf 0000; } >g.garbagefirst &&
	{ pkt "$ZERO $EVIL refs/heads/evil" && pkt "garbage" && printf 0000; } >g.garbagesecond &&
	git -C work pack-objects -q --stdout --revs >evil.pack <<-EOF &&
	$EVIL
	^$MAIN
	EOF
	for b in garbage noref nonhex spacing garbagefirst garbagesecond
	do
		# a pack follows the commands, as from a real client
		cat evil.pack >>g.$b &&
		code=$(git_post receive-pack /default/catalog.git/git-receive-pack g.$b gout.$b) &&
		expect_4xx "$code" 400 &&
		test_file_not_empty gout.$b &&
		no_leak gout.$b || { echo "body $b" >&2; return 1; }
	done &&
	cat gout.garbage &&
	grep -i "command" gout.garbage &&
	nothing_written
'

test_expect_success 'well-formed commands followed by a corrupt pack: refs and objects unchanged' '
	# an authenticated push refused by git may record push-rejected:
	# later tests compare against the state after this one
	test_when_finished "snapshot base" &&
	N=$(jq -s "map(.logseq) | max // 0" base.events) &&
	{
		printf "%04x%s %s refs/heads/evil\0report-status\n" $((4 + 82 + 15 + 1 + 14)) "$ZERO" "$EVIL" &&
		printf 0000 &&
		printf "PACK\0\0\0\2\0\0\0\3this is not a pack"
	} >corrupt.push &&
	code=$(git_post receive-pack /default/catalog.git/git-receive-pack corrupt.push out.corrupt) &&
	cat out.corrupt &&
	case $code in
	200) grep -q "unpack " out.corrupt && ! grep -q "unpack ok" out.corrupt ;;
	4??) ;;
	*) false ;;
	esac &&
	snapshot corrupt &&
	test_cmp base.refs corrupt.refs &&
	test_cmp base.objects corrupt.objects &&
	test_cmp base.repos corrupt.repos &&
	gs_events --after "$N" >corrupt.new &&
	ev_types corrupt.new >corrupt.types &&
	! grep -v -x push-rejected corrupt.types
'

test_expect_success 'path traversal and invalid names in the URL: 4xx, nothing written' '
	SVC="info/refs?service=git-upload-pack" &&
	for p in \
		"/../default/catalog.git/$SVC" \
		"/default/../catalog.git/$SVC" \
		"/default/../x.git/$SVC" \
		"/default/./catalog.git/$SVC" \
		"/default/catalog.git/../catalog.git/$SVC" \
		"/default/%2e%2e/x.git/$SVC" \
		"/%2e%2e/%2e%2e/x.git/$SVC" \
		"/default/%2E%2E/catalog.git/$SVC" \
		"/default/..%2fcatalog.git/$SVC" \
		"/default/catalog.git%2f..%2f..%2fx.git/$SVC" \
		"/default/.git/$SVC" \
		"/default/..git/$SVC" \
		"//default/catalog.git/$SVC" \
		"/default//catalog.git/$SVC" \
		"/default/catalog.git/info/refs/../../../../etc/passwd" \
		"/Default/catalog.git/$SVC" \
		"/default/Catalog.git/$SVC" \
		"/default/CATALOG.git/$SVC" \
		"/default/cata_log.git/$SVC" \
		"/de_fault/catalog.git/$SVC" \
		"/default/-catalog.git/$SVC" \
		"/default/catalog-.git/$SVC" \
		"/default/cat%20alog.git/$SVC" \
		"/default/cat%00alog.git/$SVC" \
		"/default/$(printf "%064d" 0 | tr 0 a).git/$SVC"
	do
		code=$(req GET "$p" out.path -u "x:$TOKEN") &&
		expect_4xx "$code" &&
		no_leak out.path || { echo "path $p" >&2; return 1; }
	done &&
	for p in /default/../catalog.git /default/%2e%2e/catalog.git /x/../default/catalog.git /default/Catalog.git
	do
		{ pkt "$ZERO $EVIL refs/heads/evil" && printf 0000; } >body.path &&
		code=$(git_post receive-pack "$p/git-receive-pack" body.path out.path) &&
		expect_4xx "$code" &&
		code=$(git_post upload-pack "$p/git-upload-pack" b.v2trunc out.path) &&
		expect_4xx "$code" || { echo "path $p" >&2; return 1; }
	done &&
	test_path_is_missing x.git &&
	test_path_is_missing "$GITSTORE_DATA/x.git" &&
	nothing_written
'

test_expect_success 'traversal paths are refused as invalid repository paths (400)' '
	for p in "/default/../x.git" "/default/%2e%2e/x.git" "/default/cata_log.git" "/Default/catalog.git"
	do
		code=$(req GET "$p/info/refs?service=git-upload-pack" out.p400 -u "x:$TOKEN") &&
		expect_4xx "$code" 400 &&
		jq -e ".error.code and .error.message" out.p400 >/dev/null || { echo "path $p" >&2; return 1; }
	done
'

test_expect_success 'unknown repository or namespace: 404, nothing created' '
	code=$(req GET "/default/nope.git/info/refs?service=git-upload-pack" out.404 -u "x:$TOKEN") &&
	expect_4xx "$code" 404 &&
	code=$(req GET "/default/nope.git/info/refs?service=git-receive-pack" out.404 -u "x:$TOKEN") &&
	expect_4xx "$code" 404 &&
	code=$(req GET "/nons/catalog.git/info/refs?service=git-upload-pack" out.404 -u "x:$TOKEN") &&
	expect_4xx "$code" 404 &&
	code=$(req GET "/default/nope/info/refs?service=git-upload-pack" out.404 -u "x:$TOKEN") &&
	expect_4xx "$code" 404 &&
	{ pkt "command=ls-refs" && printf 0000; } >ls.req &&
	code=$(git_post upload-pack /default/nope.git/git-upload-pack ls.req out.404 -H "Git-Protocol: version=2") &&
	expect_4xx "$code" 404 &&
	{ pkt "$ZERO $EVIL refs/heads/main" && printf 0000; } >push.req &&
	code=$(git_post receive-pack /default/nope.git/git-receive-pack push.req out.404) &&
	expect_4xx "$code" 404 &&
	jq -e ".error.code == \"repository_not_found\"" out.404 >/dev/null &&
	test_must_fail tgit clone -q "$(gs_url_with_token "$TOKEN" default/nope)" nope 2>err &&
	test_path_is_missing nope/.git &&
	test_must_fail tgit -C work push -q "$(gs_url_with_token "$TOKEN" default/nope)" HEAD:main 2>err &&
	grep -i "not found" err &&
	code=$(req GET "/default/nope.git/info/refs?service=git-upload-pack" out.404 -u "x:$TOKEN") &&
	expect_4xx "$code" 404 &&
	nothing_written
'

test_expect_success 'anonymous requests get 401 whether or not the repository exists' '
	code=$(req GET "/default/catalog.git/info/refs?service=git-upload-pack" out.anon -D hdr.anon) &&
	expect_4xx "$code" 401 &&
	grep -i "^WWW-Authenticate: Basic" hdr.anon &&
	code=$(req GET "/default/nope.git/info/refs?service=git-upload-pack" out.anon2 -D hdr.anon2) &&
	expect_4xx "$code" 401 &&
	{ pkt "$ZERO $EVIL refs/heads/evil" && printf 0000; } >anon.req &&
	code=$(req POST /default/catalog.git/git-receive-pack out.anon3 \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @anon.req) &&
	expect_4xx "$code" 401 &&
	code=$(req POST /default/catalog.git/git-receive-pack out.anon4 -u "x:not-a-token" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @anon.req) &&
	expect_4xx "$code" 401 &&
	nothing_written
'

test_expect_success 'oversize request header (100 KB): 4xx, connection answered' '
	{
		printf "GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Big: " &&
		head -c 102400 /dev/zero | tr "\\0" a &&
		printf "\\r\\nConnection: close\\r\\n\\r\\n"
	} >big.req &&
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" big.req >big.resp || :; } &&
	head -n 1 big.resp | tr -d "\\r" >status &&
	cat status &&
	grep -E "^HTTP/1\\.[01] (431|413|400) " status
'

test_expect_success 'daemon still serves /healthz after the oversize header' '
	code=$(req GET /healthz out.health) &&
	test "$code" = 200
'

test_expect_success 'oversize request line and too many headers: 4xx' '
	{
		printf "GET /healthz?x=" &&
		head -c 102400 /dev/zero | tr "\\0" a &&
		printf " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n"
	} >longurl.req &&
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" longurl.req >longurl.resp || :; } &&
	head -n 1 longurl.resp | tr -d "\\r" >status &&
	cat status &&
	grep -E "^HTTP/1\\.[01] (414|431|413|400) " status &&
	{
		printf "GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n" &&
		for i in $(test_seq 1 3000)
		do
			printf "X-H-%d: %s\\r\\n" "$i" "some-value-to-fill-the-header" || return 1
		done &&
		printf "Connection: close\\r\\n\\r\\n"
	} >many.req &&
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" many.req >many.resp || :; } &&
	head -n 1 many.resp | tr -d "\\r" >status &&
	cat status &&
	grep -E "^HTTP/1\\.[01] (431|413|400) " status &&
	test "$(req GET /healthz out.health)" = 200
'

test_expect_success 'oversize header on a push: 4xx, nothing written' '
	{ pkt "$ZERO $EVIL refs/heads/evil" && printf 0000; } >push.body &&
	git -C work pack-objects -q --stdout --revs >>push.body <<-EOF &&
	$EVIL
	^$MAIN
	EOF
	AUTH=$(printf "x:%s" "$TOKEN" | base64 -w0) &&
	{
		printf "POST /default/catalog.git/git-receive-pack HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n" &&
		printf "Authorization: Basic %s\\r\\n" "$AUTH" &&
		printf "Content-Type: application/x-git-receive-pack-request\\r\\n" &&
		printf "Content-Length: %d\\r\\n" "$(wc -c <push.body)" &&
		printf "X-Big: " && head -c 102400 /dev/zero | tr "\\0" a && printf "\\r\\n" &&
		printf "Connection: close\\r\\n\\r\\n" &&
		cat push.body
	} >bigpush.req &&
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" bigpush.req >bigpush.resp || :; } &&
	head -n 1 bigpush.resp | tr -d "\\r" >status &&
	cat status &&
	grep -E "^HTTP/1\\.[01] (431|413|400) " status &&
	nothing_written
'

test_expect_success 'wrong Content-Type: 415, nothing written' '
	{ pkt "$ZERO $EVIL refs/heads/evil" && printf 0000; } >ct.push &&
	git -C work pack-objects -q --stdout --revs >>ct.push <<-EOF &&
	$EVIL
	^$MAIN
	EOF
	for ct in "text/plain" "application/x-git-upload-pack-request" "application/octet-stream" \
		"application/x-git-receive-pack-request; charset=utf-8" "application/x-git-receive-pack-result" ""
	do
		code=$(req POST /default/catalog.git/git-receive-pack out.ct -u "x:$TOKEN" \
			-H "Content-Type: $ct" --data-binary @ct.push) &&
		expect_4xx "$code" 415 || { echo "Content-Type: $ct" >&2; return 1; }
	done &&
	{ pkt "command=ls-refs" && printf 0000; } >ct.ls &&
	for ct in "text/plain" "application/x-git-receive-pack-request" ""
	do
		code=$(req POST /default/catalog.git/git-upload-pack out.ct -u "x:$TOKEN" \
			-H "Git-Protocol: version=2" -H "Content-Type: $ct" --data-binary @ct.ls) &&
		expect_4xx "$code" 415 &&
		no_leak out.ct || { echo "Content-Type: $ct" >&2; return 1; }
	done &&
	nothing_written
'

test_expect_success 'dumb HTTP is not served: 4xx, no repository content' '
	OBJ=$(echo "$MAIN" | sed "s|^..|&/|") &&
	for p in /default/catalog.git/HEAD \
		/default/catalog.git/info/refs \
		/default/catalog.git/objects/info/packs \
		/default/catalog.git/objects/info/alternates \
		"/default/catalog.git/objects/$OBJ" \
		/default/catalog.git/config \
		/default/catalog.git/refs/heads/main \
		/default/catalog.git/packed-refs
	do
		code=$(req GET "$p" out.dumb -u "x:$TOKEN") &&
		expect_4xx "$code" &&
		no_leak out.dumb || { echo "path $p" >&2; return 1; }
	done &&
	test_must_fail env GIT_SMART_HTTP=0 timeout 60 git clone -q "$URL" dumb 2>err &&
	test_path_is_missing dumb/.git &&
	nothing_written
'

test_expect_success 'unknown service, wrong methods, invalid Git-Protocol header: 4xx' '
	code=$(req GET "/default/catalog.git/info/refs?service=git-upload-archive" out.svc -u "x:$TOKEN") &&
	expect_4xx "$code" &&
	no_leak out.svc &&
	code=$(req GET "/default/catalog.git/info/refs?service=" out.svc -u "x:$TOKEN") &&
	expect_4xx "$code" &&
	code=$(req GET /default/catalog.git/git-upload-pack out.m -u "x:$TOKEN") &&
	expect_4xx "$code" 405 &&
	code=$(req PUT /default/catalog.git/git-receive-pack out.m -u "x:$TOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @push.req) &&
	expect_4xx "$code" 405 &&
	code=$(req POST "/default/catalog.git/info/refs?service=git-upload-pack" out.m -u "x:$TOKEN" \
		--data-binary @ls.req) &&
	expect_4xx "$code" 405 &&
	AUTH=$(printf "x:%s" "$TOKEN" | base64 -w0) &&
	printf "GET /default/catalog.git/info/refs?service=git-upload-pack HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAuthorization: Basic %s\\r\\nGit-Protocol: version=2\\001\\r\\nConnection: close\\r\\n\\r\\n" "$AUTH" >gp.req &&
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" gp.req >gp.resp || :; } &&
	head -n 1 gp.resp | tr -d "\\r" >status &&
	cat status &&
	grep -E "^HTTP/1\\.[01] 400 " status &&
	no_leak gp.resp &&
	nothing_written
'

test_expect_success 'refused requests left no git processes; daemon healthy; a clone still works' '
	i=0 &&
	while ps -o args= -g "$GITSTORE_PID" | grep -E -q "upload-pack|receive-pack"
	do
		test $i -lt 50 || { ps -o pid=,args= -g "$GITSTORE_PID"; false; } || return 1
		sleep 0.1 && i=$((i + 1))
	done &&
	test "$(req GET /healthz out.health)" = 200 &&
	tgit clone -q "$URL" final &&
	test "$(git -C final rev-parse HEAD)" = "$MAIN" &&
	nothing_written
'

test_done
