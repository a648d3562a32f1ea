#!/bin/bash
test_description='gzip-encoded upload-pack requests: hand-built v2 and v0 requests, git client gzip, invalid gzip'
. "$(dirname "$0")/lib/test-lib.sh"

tgit () {
	timeout 120 git "$@"
}

test_commit_in () {
	echo "$2" >"$1/$2.md" && git -C "$1" add "$2.md" && test_tick && git -C "$1" commit -q -m "$2"
}

# pkt TEXT: TEXT plus a newline as one pkt-line.
pkt () {
	printf "%04x%s\n" $((${#1} + 5)) "$1"
}

# upload_pack FILE OUT [HEADER...]: POST FILE to git-upload-pack with the
# reader token, write the body to OUT and print the HTTP status.
upload_pack () {
	local file=$1 out=$2
	shift 2
	curl -sS --max-time 30 -o "$out" -w "%{http_code}" -u "x:$RTOKEN" \
		-H "Content-Type: application/x-git-upload-pack-request" "$@" \
		--data-binary @"$file" "$GITSTORE_URL/default/catalog.git/git-upload-pack"
}

test_expect_success 'setup: namespace, repository, server, history' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	RTOKEN=$(gs_token rita reader:default) &&
	RURL=$(gs_url_with_token "$RTOKEN" default/catalog) &&
	git init -q work &&
	test_commit_in work one &&
	test_commit_in work two &&
	tgit -C work push -q "$URL" HEAD:main HEAD~1:refs/heads/old &&
	MAIN=$(git -C work rev-parse HEAD) &&
	gs_events >events.before
'

test_expect_success 'v2 ls-refs request, gzip-encoded, lists refs/heads/main' '
	{
		pkt "command=ls-refs" &&
		pkt "agent=git/2.39.5" &&
		pkt "object-format=sha1" &&
		printf 0001 &&
		pkt "symrefs" &&
		pkt "ref-prefix refs/heads/" &&
		printf 0000
	} >ls-refs.req &&
	gzip -c <ls-refs.req >ls-refs.req.gz &&
	test "$(upload_pack ls-refs.req.gz ls-refs.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 200 &&
	{
		pkt "$MAIN refs/heads/main" &&
		pkt "$(git -C work rev-parse HEAD~1) refs/heads/old" &&
		printf 0000
	} >expect &&
	test_cmp expect ls-refs.out
'

test_expect_success 'the same request without gzip gives the same answer' '
	test "$(upload_pack ls-refs.req ls-refs.plain -H "Git-Protocol: version=2")" = 200 &&
	test_cmp ls-refs.out ls-refs.plain
'

test_expect_success 'x-gzip is accepted too, identity means plain' '
	test "$(upload_pack ls-refs.req.gz ls-refs.xgz -H "Content-Encoding: x-gzip" -H "Git-Protocol: version=2")" = 200 &&
	test_cmp ls-refs.out ls-refs.xgz &&
	test "$(upload_pack ls-refs.req ls-refs.id -H "Content-Encoding: identity" -H "Git-Protocol: version=2")" = 200 &&
	test_cmp ls-refs.out ls-refs.id
'

test_expect_success 'v0 want/done request, gzip-encoded, returns a valid pack' '
	{
		pkt "want $MAIN ofs-delta" &&
		printf 0000 &&
		pkt "done"
	} >v0.req &&
	gzip -9 -c <v0.req >v0.req.gz &&
	test "$(upload_pack v0.req.gz v0.out -H "Content-Encoding: gzip")" = 200 &&
	head -c 8 v0.out >nak &&
	printf "0008NAK\n" >expect &&
	test_cmp expect nak &&
	tail -c +9 v0.out >v0.pack &&
	git init -q --bare unpacked.git &&
	git -C unpacked.git index-pack --stdin <v0.pack &&
	git -C unpacked.git update-ref refs/heads/main "$MAIN" &&
	git -C unpacked.git fsck --no-progress --strict &&
	git -C unpacked.git show main:one.md >actual &&
	test_cmp work/one.md actual
'

test_expect_success 'v2 fetch request, gzip-encoded, returns a packfile section' '
	{
		pkt "command=fetch" &&
		pkt "object-format=sha1" &&
		printf 0001 &&
		pkt "no-progress" &&
		pkt "want $MAIN" &&
		pkt "done" &&
		printf 0000
	} >v2fetch.req &&
	gzip -c <v2fetch.req >v2fetch.req.gz &&
	test "$(upload_pack v2fetch.req.gz v2fetch.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 200 &&
	head -c 13 v2fetch.out >section &&
	pkt packfile >expect &&
	test_cmp expect section &&
	grep -q PACK v2fetch.out
'

test_expect_success 'a large gzip body (decoded in several pieces, split mid-packet) works' '
	# a large gzip body: 3000 haves of unknown objects before the wants
	for i in $(test_seq 1 3000)
	do
		printf "%040x\n" "$i" || return 1
	done >fake-haves &&
	{
		pkt "command=fetch" &&
		printf 0001 &&
		pkt "no-progress" &&
		pkt "want $MAIN" &&
		while read -r h
		do
			pkt "have $h" || return 1
		done <fake-haves &&
		pkt "done" &&
		printf 0000
	} >many.req &&
	test "$(wc -c <many.req)" -gt 100000 &&
	gzip -c <many.req >many.req.gz &&
	test "$(upload_pack many.req.gz many.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 200 &&
	grep -q PACK many.out
'

test_expect_success 'invalid gzip body is refused with 400' '
	printf "this is not gzip at all" >bad.gz &&
	test "$(upload_pack bad.gz bad.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400 &&
	! grep -q "refs/heads/main" bad.out &&
	test_file_not_empty bad.out
'

test_expect_success 'gzip with a corrupted checksum is refused with 400' '
	size=$(wc -c <ls-refs.req.gz) &&
	head -c $((size - 8)) ls-refs.req.gz >crc.gz &&
	printf "\\0\\0\\0\\0" >>crc.gz &&
	tail -c 4 ls-refs.req.gz >>crc.gz &&
	test "$(wc -c <crc.gz)" = "$size" &&
	! gzip -t crc.gz 2>/dev/null &&
	test "$(upload_pack crc.gz crc.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400 &&
	! grep -q "refs/heads/main" crc.out
'

test_expect_success 'gzip cut off in the middle of the stream is refused with 400' '
	size=$(wc -c <many.req.gz) &&
	head -c $((size / 2)) many.req.gz >cut.gz &&
	test "$(upload_pack cut.gz cut.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400 &&
	! grep -q PACK cut.out
'

test_expect_success 'gzip missing its trailer (CRC32 and size) is refused with 400' '
	size=$(wc -c <ls-refs.req.gz) &&
	head -c $((size - 8)) ls-refs.req.gz >notrailer.gz &&
	! gzip -t notrailer.gz 2>/dev/null &&
	test "$(upload_pack notrailer.gz notrailer.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400 &&
	! grep -q "refs/heads/main" notrailer.out
'

test_expect_success 'empty gzip-encoded body is refused with 400' '
	: >empty &&
	test "$(upload_pack empty empty.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400
'

test_expect_success 'gzip of malformed pkt-lines is refused with 400' '
	printf "zzzzcommand=ls-refs\n0000" | gzip -c >badpkt.gz &&
	test "$(upload_pack badpkt.gz badpkt.out -H "Content-Encoding: gzip" -H "Git-Protocol: version=2")" = 400 &&
	printf "0032want %s" "$MAIN" | gzip -c >shortpkt.gz &&
	test "$(upload_pack shortpkt.gz shortpkt.out -H "Content-Encoding: gzip")" = 400
'

test_expect_success 'decompression bomb beyond the request limit is refused with 413' '
	head -c 70000000 /dev/zero | tr "\\0" 0 | gzip -c >bomb.gz &&
	test "$(wc -c <bomb.gz)" -lt 1000000 &&
	test "$(upload_pack bomb.gz bomb.out -H "Content-Encoding: gzip")" = 413
'

test_expect_success 'unsupported Content-Encoding is refused with 415' '
	test "$(upload_pack ls-refs.req.gz br.out -H "Content-Encoding: br" -H "Git-Protocol: version=2")" = 415 &&
	test "$(upload_pack ls-refs.req.gz deflate.out -H "Content-Encoding: deflate" -H "Git-Protocol: version=2")" = 415
'

test_expect_success 'git gzips a fetch request with many haves (protocol v2 and v0)' '
	tgit clone -q "$RURL" clone2 &&
	tgit clone -q "$RURL" clone0 &&
	# newer, unrelated local history: its commits are sent as haves
	# first, in rounds that grow past the 1 KiB where git starts gzipping
	for c in clone2 clone0
	do
		for i in $(test_seq 1 200)
		do
			printf "commit refs/heads/junk\ncommitter C <c@example.com> %d +0000\ndata 5\nj%03d\n\n" \
				$((test_tick + 600 + i)) "$i" || return 1
		done | git -C "$c" fast-import --quiet &&
		test "$(git -C "$c" rev-list --count junk)" = 200 || return 1
	done &&
	test_commit_in work three &&
	tgit -C work push -q "$URL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	GIT_TRACE_CURL="$TRASH/trace.gz2" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C clone2 -c protocol.version=2 fetch -q origin &&
	grep -q "=> Send header: Content-Encoding: gzip" trace.gz2 &&
	test "$(git -C clone2 rev-parse origin/main)" = "$MAIN" &&
	GIT_TRACE_CURL="$TRASH/trace.gz0" GIT_TRACE_CURL_NO_DATA=1 \
		tgit -C clone0 -c protocol.version=0 fetch -q origin &&
	grep -q "=> Send header: Content-Encoding: gzip" trace.gz0 &&
	test "$(git -C clone0 rev-parse origin/main)" = "$MAIN" &&
	git -C clone0 fsck --no-progress --strict
'

test_expect_success 'refused requests left no git processes behind; daemon healthy' '
	i=0 &&
	while ps -o args= -g "$GITSTORE_PID" | grep -q "upload-pack"
	do
		test $i -lt 50 || { ps -o pid=,args= -g "$GITSTORE_PID"; false; } || return 1
		sleep 0.1 && i=$((i + 1))
	done &&
	curl -sf --max-time 10 "$GITSTORE_URL/healthz" >/dev/null
'

test_done
