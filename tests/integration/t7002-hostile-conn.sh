#!/bin/bash
test_description='hostile connections: slowloris, connection limits, header floods, wrong tokens (same answer, no timing by prefix), a reader on every write route'
. "$(dirname "$0")/lib/test-lib.sh"

# Knobs (src/limits.h, docs/architecture.md "Limits"): the header deadline
# (GS_HTTP_HEADER_TIMEOUT_S, 30 s) shortened to 3 s, the per-address
# connection limit (GS_MAX_HTTP_CONNECTIONS_PER_IP, 64) lowered to 32, so
# that 8 addresses fill the 256 connections. Loopback has every 127.x.y.z.
HDR_TIMEOUT=3
PER_IP=32

tgit () {
	timeout 120 git "$@"
}

# req METHOD TOKEN PATH [BODY-FILE [CONTENT-TYPE]]: body in out, status printed.
req () {
	local method=$1 tok=$2 path=$3 body=${4-} ctype=${5-application/json}
	local args=(-sS --max-time 30 -o out -w "%{http_code}" -X "$method")
	test -n "$tok" && args+=(-H "Authorization: Bearer $tok")
	test -n "$body" && args+=(-H "Content-Type: $ctype" --data-binary @"$body")
	curl "${args[@]}" "$GITSTORE_URL$path"
}

# expect STATUS METHOD TOKEN PATH [BODY [CTYPE]]
expect () {
	local want=$1 got
	shift
	got=$(req "$@") || return 1
	if test "$got" != "$want"
	then
		echo "$1 $3: HTTP $got, expected $want; body:" >&2
		cat out >&2
		return 1
	fi
}

metric () {
	curl -sS "$GITSTORE_URL/metrics" | sed -n "s/^$1 \\([0-9]*\\).*/\\1/p"
}

hwm_kb () {
	awk '/^VmHWM:/ { print $2 }' "/proc/$GITSTORE_PID/status"
}

# snapshot NAME: refs, resources, consumers (with their config), events.
snapshot () {
	gs_events >"$1.events" &&
	tgit ls-remote "$URL" >"$1.refs" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/default/products?limit=500" |
		jq -r ".items[] | .metadata.name + \" \" + .metadata.resourceVersion" >"$1.resources" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/consumers" |
		jq -c ".items[] | {name, filter, ackWaitSeconds, maxDeliver}" >"$1.consumers"
}

# nothing_written: since `snapshot base`, no ref, resource or consumer
# change, and no event but push-rejected ones (an authenticated refusal
# records one, DESIGN 8).
nothing_written () {
	snapshot now &&
	test_cmp base.refs now.refs &&
	test_cmp base.resources now.resources &&
	test_cmp base.consumers now.consumers &&
	N0=$(jq -s "map(.logseq) | max // 0" base.events) &&
	gs_events --after "$N0" >now.new &&
	{ ev_types now.new | grep -v -x push-rejected; test $? = 1; }
}

test_expect_success 'setup: repository, tokens, one product, a connection helper' '
	gitstore namespace create default --data "$GITSTORE_DATA" &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" &&
	export GITSTORE_HTTP_HEADER_TIMEOUT_S=$HDR_TIMEOUT GITSTORE_MAX_CONNECTIONS_PER_IP=$PER_IP &&
	start_gitstore &&
	unset GITSTORE_HTTP_HEADER_TIMEOUT_S GITSTORE_MAX_CONNECTIONS_PER_IP &&
	TOKEN=$(gs_admin_token) &&
	RTOKEN=$(gs_token rita reader:default) &&
	URL=$(gs_url_with_token "$TOKEN" default/catalog) &&
	RURL=$(gs_url_with_token "$RTOKEN" default/catalog) &&
	git init -q work &&
	mkdir work/products &&
	printf -- "---\\napiVersion: catalog.gitstore.dev/v1beta1\\nkind: Product\\nmetadata:\\n  name: shoe\\nspec:\\n  title: Shoe\\n---\\n" >work/products/shoe.md &&
	git -C work add products &&
	test_tick && git -C work commit -q -m first &&
	tgit -C work push -q "$URL" HEAD:main &&
	MAIN=$(git -C work rev-parse HEAD) &&
	cat >conns.py <<-\EOF
	# conns.py hold PORT OUT SECONDS MODE ADDR:N...: open N connections
	#   from each ADDR (MODE trickle: a request byte every 0.5 s; stall:
	#   a partial request line, then nothing); write "ready" to OUT.ready
	#   once all are open; until SECONDS pass, note when the server closes
	#   each; OUT gets "closed T" (seconds after opening) or "open" lines.
	# conns.py probe PORT ADDR TIMEOUT: one GET /healthz from ADDR; prints
	#   "answer STATUS T", "closed T" (no answer) or "timeout T".
	import socket, sys, time, select
	def connect(addr, port):
	    s = socket.socket()
	    s.bind((addr, 0))
	    s.connect(("127.0.0.1", port))
	    return s
	if sys.argv[1] == "probe":
	    port, addr, limit = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
	    t0 = time.time()
	    try:
	        s = connect(addr, port)
	        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	        s.settimeout(limit)
	        d = s.recv(64)
	        t = time.time() - t0
	        print("answer %s %.2f" % (d.split()[1].decode(), t) if d else "closed %.2f" % t)
	    except socket.timeout:
	        print("timeout %.2f" % (time.time() - t0))
	    except OSError:
	        print("closed %.2f" % (time.time() - t0))
	    sys.exit(0)
	port, out, seconds, mode = int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
	conns = []
	for spec in sys.argv[6:]:
	    addr, n = spec.split(":")
	    for _ in range(int(n)):
	        s = connect(addr, port)
	        s.setblocking(False)
	        conns.append({"s": s, "t0": time.time(), "closed": None, "sent": 0})
	req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
	for c in conns:
	    if mode == "stall":
	        c["s"].send(b"GET /healthz HTTP/1.1\r\nHo")
	open(out + ".ready", "w").write("ready\n")
	end = time.time() + seconds
	next_byte = time.time()
	while time.time() < end and any(c["closed"] is None for c in conns):
	    live = [c for c in conns if c["closed"] is None]
	    r, _, _ = select.select([c["s"] for c in live], [], [], 0.1)
	    for c in live:
	        if c["s"] in r:
	            try:
	                d = c["s"].recv(4096)
	            except OSError:
	                d = b""
	            if not d:
	                c["closed"] = time.time() - c["t0"]
	    if mode == "trickle" and time.time() >= next_byte:
	        next_byte = time.time() + 0.5
	        for c in conns:
	            if c["closed"] is None:
	                try:
	                    c["s"].send(req[c["sent"]:c["sent"] + 1])
	                    c["sent"] += 1
	                except OSError:
	                    c["closed"] = time.time() - c["t0"]
	with open(out, "w") as f:
	    for c in conns:
	        f.write("open\n" if c["closed"] is None else "closed %.2f\n" % c["closed"])
	EOF
	git clone -q "$URL" warm &&
	printf "{\"filter\": {\"repo\": \"default/catalog\"}}" >scoped.json &&
	expect 201 PUT "$TOKEN" /api/v1/consumers/scoped scoped.json &&
	printf "{}" >empty.json &&
	expect 201 PUT "$TOKEN" /api/v1/consumers/everything empty.json
'

# wait_file FILE TENTHS
wait_file () {
	local i=0
	while ! test -s "$1"
	do
		test $i -lt "$2" || { echo "no $1" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

# ---- slowloris ----------------------------------------------------------------

test_expect_success 'slowloris: 60 trickling/stalled connections; requests still served; all cut by the header deadline' '
	T0=$(metric gitstore_http_header_timeouts_total) &&
	test_bg /usr/bin/python3 conns.py hold "$GITSTORE_PORT" slow 20 trickle 127.0.0.2:30 &&
	P1=$test_bg_pid &&
	test_bg /usr/bin/python3 conns.py hold "$GITSTORE_PORT" stall 20 stall 127.0.0.3:30 &&
	P2=$test_bg_pid &&
	wait_file slow.ready 100 && wait_file stall.ready 100 &&
	test "$(metric gitstore_http_connections)" -ge 60 &&
	for i in 1 2 3 4 5
	do
		test "$(curl -sS --max-time 5 -o /dev/null -w "%{http_code}" "$GITSTORE_URL/healthz")" = 200 || return 1
	done &&
	rm -rf during && tgit clone -q "$URL" during &&
	test "$(git -C during rev-parse HEAD)" = "$MAIN" &&
	wait $P1 && wait $P2 &&
	cat slow stall >all &&
	test_line_count = 60 all &&
	! grep -q "^open" all &&
	# trickling clients send a byte every 0.5 s: only the deadline cuts them
	awk -v max=$((HDR_TIMEOUT + 4)) "{ if (\$2 > max) { print \"closed late: \" \$0; bad = 1 } } END { exit bad }" all &&
	test "$(metric gitstore_http_header_timeouts_total)" -ge $((T0 + 60)) &&
	i=0 &&
	while test "$(metric gitstore_http_connections)" -gt 2
	do
		test $i -lt 50 || return 1
		sleep 0.1 && i=$((i + 1))
	done
'

test_expect_success 'a keep-alive connection idle past the deadline is closed; one that keeps asking is not' '
	/usr/bin/python3 -c "
import socket, sys, time
port, hdr = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection((\"127.0.0.1\", port))
for i in range(int(hdr) + 3):   # a request every second, over more than the deadline
    s.sendall(b\"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\")
    assert s.recv(4096).startswith(b\"HTTP/1.1 200\"), \"no answer on a busy keep-alive connection\"
    time.sleep(1)
s.settimeout(hdr + 5)
t0 = time.time()
assert s.recv(16) == b\"\", \"idle connection not closed\"
assert time.time() - t0 <= hdr + 3, \"closed late\"
" "$GITSTORE_PORT" "$HDR_TIMEOUT"
'

test_expect_success 'per-address limit: the 33rd connection from one address is closed at once; others are served' '
	test_bg /usr/bin/python3 conns.py hold "$GITSTORE_PORT" perip 8 stall 127.0.0.4:$PER_IP &&
	P1=$test_bg_pid &&
	wait_file perip.ready 100 &&
	/usr/bin/python3 conns.py probe "$GITSTORE_PORT" 127.0.0.4 5 >probe.same &&
	/usr/bin/python3 conns.py probe "$GITSTORE_PORT" 127.0.0.5 5 >probe.other &&
	cat probe.same probe.other &&
	grep "^closed" probe.same &&
	grep "^answer 200" probe.other &&
	test "$(curl -sS --max-time 5 -o /dev/null -w "%{http_code}" "$GITSTORE_URL/healthz")" = 200 &&
	wait $P1 &&
	! grep -q "^open" perip
'

test_expect_success 'all 256 connections taken: a new client waits in the backlog, is served once the deadline frees slots' '
	SPECS= &&
	for a in 10 11 12 13 14 15 16 17
	do
		SPECS="$SPECS 127.0.0.$a:$PER_IP"
	done &&
	test_bg /usr/bin/python3 conns.py hold "$GITSTORE_PORT" full 15 stall $SPECS &&
	P1=$test_bg_pid &&
	wait_file full.ready 300 &&
	/usr/bin/python3 conns.py probe "$GITSTORE_PORT" 127.0.0.30 $((HDR_TIMEOUT + 10)) >probe.full &&
	cat probe.full &&
	grep "^answer 200" probe.full &&
	wait $P1 &&
	test_line_count = 256 full &&
	! grep -q "^open" full &&
	test "$(curl -sS --max-time 5 -o /dev/null -w "%{http_code}" "$GITSTORE_URL/healthz")" = 200
'

# ---- header floods (t7000 has one 100 KB header and 3,000 headers) ------------

# raw_status FILE: the status line of FILE sent over a fresh connection.
raw_status () {
	{ http_raw 127.0.0.1 "$GITSTORE_PORT" "$1" >"$1.resp" || :; } &&
	head -n 1 "$1.resp" | tr -d "\\r"
}

test_expect_success 'header floods: big cookies, 10,000 tiny headers, headers just under the limit' '
	HWM0=$(hwm_kb) &&
	cookie () { head -c "$1" /dev/zero | tr "\\0" c; } &&
	{ printf "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nCookie: s=" && cookie 40000 && printf "\\r\\nConnection: close\\r\\n\\r\\n"; } >big.req &&
	raw_status big.req >st && cat st &&
	grep -E "^HTTP/1\\.[01] (431|413|400) " st &&
	{ printf "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nCookie: s=" && cookie 30000 && printf "\\r\\nConnection: close\\r\\n\\r\\n"; } >under.req &&
	raw_status under.req >st && cat st &&
	grep -E "^HTTP/1\\.1 200 " st &&
	{ printf "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n" && for i in $(test_seq 1 10000); do printf "a:b\\r\\n"; done && printf "Connection: close\\r\\n\\r\\n"; } >tiny.req &&
	raw_status tiny.req >st && cat st &&
	grep -E "^HTTP/1\\.[01] (431|413|400) " st &&
	{ printf "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n" && for i in $(test_seq 1 4000); do printf "c%d: %s\\r\\n" $i 1 || return 1; done && printf "Connection: close\\r\\n\\r\\n"; } >many.req &&
	raw_status many.req >st && cat st &&
	grep -E "^HTTP/1\\.[01] (200|431|413|400) " st &&
	# 40 clients at once with 40 KB cookies, then with 30 KB ones
	PIDS= &&
	for i in $(test_seq 1 40)
	do
		{ http_raw 127.0.0.1 "$GITSTORE_PORT" big.req >flood.$i || :; } &
		PIDS="$PIDS $!"
	done &&
	wait $PIDS &&
	for i in $(test_seq 1 40)
	do
		grep -q -E "^HTTP/1\\.[01] (431|413|400) " flood.$i || { echo "flood $i:" >&2; head -n 1 flood.$i >&2; return 1; }
	done &&
	PIDS= &&
	for i in $(test_seq 1 40)
	do
		{ http_raw 127.0.0.1 "$GITSTORE_PORT" under.req >flood.$i || :; } &
		PIDS="$PIDS $!"
	done &&
	wait $PIDS &&
	for i in $(test_seq 1 40)
	do
		grep -q "^HTTP/1\\.1 200 " flood.$i || { echo "flood $i:" >&2; head -n 1 flood.$i >&2; return 1; }
	done &&
	HWM1=$(hwm_kb) &&
	say "peak RSS before/after the floods: $HWM0 / $HWM1 KiB" &&
	test $((HWM1 - HWM0)) -lt 65536 &&
	test "$(curl -sS --max-time 5 -o /dev/null -w "%{http_code}" "$GITSTORE_URL/healthz")" = 200
'

# ---- wrong tokens ----------------------------------------------------------------

test_expect_success 'wrong tokens: unknown, right prefix, a real token altered: the same 401 and body' '
	snapshot base &&
	REAL=${RTOKEN#gst_} &&
	HALF=$(printf "%s" "$REAL" | cut -c1-32) &&
	test "gst_$REAL" = "$RTOKEN" &&
	FLIP=$(printf "%s" "$REAL" | cut -c1-63)$(printf "%s" "$REAL" | cut -c64 | tr "0-9a-f" "1-9a-f0") &&
	test "$FLIP" != "$REAL" &&
	for t in \
		"not-a-token" \
		"gst_$(printf "%064d" 0)" \
		"gst_${HALF}$(printf "%032d" 0)" \
		"gst_$FLIP" \
		"gst_${REAL}0" \
		"gst_$(printf "%s" "$REAL" | cut -c1-63)" \
		"$REAL" \
		"GST_$REAL" \
		"gst_$(printf "%0250d" 7)"
	do
		curl -sS -o body.bearer -w "%{http_code}\\n" -H "Authorization: Bearer $t" \
			"$GITSTORE_URL/api/v1/events" >code.bearer &&
		curl -sS -o body.basic -w "%{http_code}\\n" -u "x:$t" \
			"$GITSTORE_URL/api/v1/events" >code.basic &&
		curl -sS -o body.git -w "%{http_code}\\n" -u "x:$t" \
			"$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >code.git &&
		echo 401 >expect &&
		test_cmp expect code.bearer && test_cmp expect code.basic && test_cmp expect code.git &&
		if test -f body.ref
		then
			test_cmp body.ref body.bearer && test_cmp body.ref body.basic && test_cmp body.ref body.git
		else
			cp body.bearer body.ref
		fi || { echo "token $t" >&2; return 1; }
	done &&
	jq -e ".error.code == \"unauthenticated\"" body.ref &&
	test_must_fail tgit clone -q "http://x:gst_${HALF}$(printf "%032d" 0)@127.0.0.1:$GITSTORE_PORT/default/catalog.git" nope 2>err &&
	test_path_is_missing nope/.git &&
	nothing_written &&
	# tokens are stored hashed (SHA-256): the database never holds one
	/usr/bin/python3 -c "
import sqlite3, sys
db = sqlite3.connect(\"file:%s?mode=ro\" % sys.argv[1], uri=True)
rows = db.execute(\"select * from tokens\").fetchall()
assert rows and not any(sys.argv[2] in str(r) or sys.argv[3] in str(r) for r in rows), rows
" "$GITSTORE_DATA/gitstore.db" "$REAL" "$HALF"
'

test_expect_success 'no timing by token prefix: medians of right-prefix vs. unrelated tokens agree' '
	/usr/bin/python3 -c "
import http.client, os, statistics, sys, time
port, real = int(sys.argv[1]), sys.argv[2]
rounds = 300
def token(match):
    tail = os.urandom(32).hex()
    return \"gst_\" + (real[:48] + tail[48:] if match else tail)
times = {True: [], False: []}
c = http.client.HTTPConnection(\"127.0.0.1\", port, timeout=10)
def once(match):
    t0 = time.perf_counter()
    c.request(\"GET\", \"/api/v1/events\", headers={\"Authorization\": \"Bearer \" + token(match)})
    r = c.getresponse()
    r.read()
    assert r.status == 401, r.status
    return time.perf_counter() - t0
for i in range(20):
    once(i % 2 == 0)
for i in range(rounds):
    order = (True, False) if i % 2 == 0 else (False, True)
    for m in order:
        times[m].append(once(m))
a, b = statistics.median(times[True]), statistics.median(times[False])
print(\"median right-prefix %.3f ms, unrelated %.3f ms (%d requests each)\" % (a * 1e3, b * 1e3, rounds))
# generous: a loaded 2-core machine; a lookup that compared stored
# tokens byte by byte would not show at this scale either, but one that
# did work per matching byte (or slept) would
tol = max(0.003, 0.5 * min(a, b))
assert abs(a - b) <= tol, \"medians differ by %.3f ms\" % ((a - b) * 1e3)
" "$GITSTORE_PORT" "${RTOKEN#gst_}" >timing &&
	cat timing &&
	say "$(cat timing)"
'

# ---- a reader on every write route ------------------------------------------------

# Routes, from src/http/server.c access_handler and the handlers' tables:
# githttp.c (info/refs, git-upload-pack, git-receive-pack), writeapi.c
# (PUT/DELETE resources, GET settings), review.c (POST admission/review),
# consumers.c (PUT/GET/DELETE consumer, POST fetch|ack|nak|term, GET list,
# dead-letters), api.c (GET events, events/stream, namespaces/*, healthz,
# metrics), storefront.c (GET). Writes: receive-pack, resource PUT/DELETE,
# review (a dry run, but it needs the writer role: docs/http/admission-review.md),
# consumer PUT/DELETE. A reader may fetch and settle consumers scoped to
# its namespace (docs/http/consumers.md): that is reading.

test_expect_success 'reader: git push of a branch and of a release tag: 403, push-rejected, nothing moved' '
	snapshot base &&
	git -C work tag v1 "$MAIN" &&
	echo more >work/more.txt && git -C work add more.txt && test_tick && git -C work commit -q -m more &&
	test_must_fail tgit -C work push "$RURL" HEAD:main 2>err &&
	grep "403" err &&
	test_must_fail tgit -C work push "$RURL" HEAD:refs/heads/feature 2>err &&
	test_must_fail tgit -C work push "$RURL" v1 2>err &&
	test_must_fail tgit -C work push "$RURL" :main 2>err &&
	test "$(curl -sS -o out -w "%{http_code}" -u "x:$RTOKEN" \
		"$GITSTORE_URL/default/catalog.git/info/refs?service=git-receive-pack")" = 403 &&
	printf "%04x%s %s refs/heads/x\\0report-status\\n0000" $((4 + 82 + 12 + 1 + 13 + 1)) 0000000000000000000000000000000000000000 "$MAIN" >push.req &&
	test "$(curl -sS -o out -w "%{http_code}" -u "x:$RTOKEN" \
		-H "Content-Type: application/x-git-receive-pack-request" --data-binary @push.req \
		"$GITSTORE_URL/default/catalog.git/git-receive-pack")" = 403 &&
	nothing_written &&
	ev_types now.new | sort -u >types &&
	echo push-rejected >expect &&
	test_cmp expect types
'

test_expect_success 'reader: resource PUT/DELETE 403; review 403; consumer PUT/DELETE 403 (or 404 out of scope)' '
	snapshot base &&
	printf -- "---\\napiVersion: catalog.gitstore.dev/v1beta1\\nkind: Product\\nmetadata:\\n  name: shoe\\nspec:\\n  title: Stolen\\n---\\n" >shoe.md &&
	expect 403 PUT "$RTOKEN" /api/v1/repos/default/catalog/resources/products/shoe shoe.md text/markdown &&
	expect 403 PUT "$RTOKEN" /api/v1/repos/default/catalog/resources/products/new shoe.md text/markdown &&
	expect 403 DELETE "$RTOKEN" /api/v1/repos/default/catalog/resources/products/shoe &&
	expect 403 DELETE "$RTOKEN" /api/v1/repos/default/catalog/resources/products/nothing &&
	expect 403 POST "$RTOKEN" "/api/v1/admission/review?repo=default/catalog" shoe.md text/markdown &&
	expect 403 PUT "$RTOKEN" /api/v1/consumers/mine scoped.json &&
	expect 403 PUT "$RTOKEN" /api/v1/consumers/mine empty.json &&
	expect 403 PUT "$RTOKEN" /api/v1/consumers/scoped scoped.json &&
	expect 403 PUT "$RTOKEN" /api/v1/consumers/gitstore-lifecycle empty.json &&
	expect 403 DELETE "$RTOKEN" /api/v1/consumers/scoped &&
	expect 404 DELETE "$RTOKEN" /api/v1/consumers/everything &&
	expect 404 DELETE "$RTOKEN" /api/v1/consumers/gitstore-lifecycle &&
	expect 404 POST "$RTOKEN" /api/v1/consumers/everything/fetch &&
	expect 404 POST "$RTOKEN" /api/v1/consumers/gitstore-catalog/fetch &&
	printf "{\"logseq\": [1, 2, 3]}" >seqs.json &&
	for a in ack nak term
	do
		expect 404 POST "$RTOKEN" /api/v1/consumers/everything/$a seqs.json || return 1
	done &&
	nothing_written &&
	test "$(curl -sS -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $RTOKEN" \
		"$GITSTORE_URL/api/v1/namespaces/default/products/shoe")" = 200 &&
	curl -sS -H "Authorization: Bearer $RTOKEN" "$GITSTORE_URL/api/v1/namespaces/default/products/shoe" |
		jq -e ".spec.title == \"Shoe\"" >/dev/null
'

test_expect_success 'reader: routes that take no write answer 405/404, never a change' '
	snapshot base &&
	for m in POST PUT DELETE PATCH
	do
		expect 405 $m "$RTOKEN" /api/v1/events &&
		expect 405 $m "$RTOKEN" /api/v1/events/stream &&
		expect 405 $m "$RTOKEN" /api/v1/namespaces/default/products/shoe &&
		expect 405 $m "$RTOKEN" /api/v1/namespaces/default/products &&
		expect 405 $m "$RTOKEN" /storefront/v1/namespaces/default/products/shoe &&
		expect 405 $m "$RTOKEN" /healthz &&
		expect 405 $m "$RTOKEN" /metrics || { echo "method $m" >&2; return 1; }
	done &&
	expect 404 PUT "$RTOKEN" /api/v1/repos/default/catalog/settings empty.json &&
	expect 413 POST "$RTOKEN" /api/v1/repos/default/catalog/resources/products/shoe shoe.md text/markdown &&
	expect 404 POST "$RTOKEN" /api/v1/repos/default/catalog/resources/products/shoe &&
	expect 405 PATCH "$RTOKEN" /api/v1/consumers/scoped &&
	expect 405 POST "$RTOKEN" /api/v1/consumers &&
	expect 405 GET "$RTOKEN" /api/v1/consumers/scoped/ack &&
	nothing_written
'

test_expect_success 'reader: fetching and settling its own-scope consumer is allowed (documented), nothing else changes' '
	snapshot base &&
	expect 200 POST "$RTOKEN" "/api/v1/consumers/scoped/fetch?max=1" &&
	S=$(jq ".[0].logseq" out) &&
	printf "{\"logseq\": [%s]}" "$S" >one.json &&
	expect 200 POST "$RTOKEN" /api/v1/consumers/scoped/ack one.json &&
	jq -e ".settled == [$S]" out &&
	snapshot now &&
	test_cmp base.refs now.refs &&
	test_cmp base.resources now.resources &&
	test_cmp base.consumers now.consumers
'

test_expect_success 'daemon healthy; every event valid; clean stop' '
	test "$(curl -sS -o /dev/null -w "%{http_code}" "$GITSTORE_URL/healthz")" = 200 &&
	gs_events >all &&
	check_cloudevents all &&
	stop_gitstore
'

test_done
