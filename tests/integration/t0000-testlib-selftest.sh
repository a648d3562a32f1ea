#!/bin/bash

test_description='test-lib.sh itself: assertions, cleanup order, environment, TAP
output of failing scripts, and the server helpers (against a fake daemon)'

. "$(dirname "$0")/lib/test-lib.sh"

# run_sub_test NAME [OPTIONS...] <SCRIPT-BODY: write NAME/NAME.sh sourcing
# test-lib.sh with SCRIPT-BODY and run it in NAME/ (trash directories go to
# NAME/tmp; GITSTORE_SKIP_TESTS=$SUB_SKIP_TESTS).  Leaves NAME/out, NAME/err, NAME/status and NAME/tap (the TAP
# lines only).
run_sub_test () {
	local name=$1
	shift
	rm -rf "$name" &&
	mkdir -p "$name/tmp" &&
	{
		printf '#!/bin/bash\ntest_description=%s\n' "'sub-test $name'"
		printf '. "%s/test-lib.sh"\n' "$TEST_LIB_DIR"
		cat
	} >"$name/$name.sh" &&
	(
		cd "$name" &&
		TMPDIR="$PWD/tmp" GITSTORE_TEST_OPTS='' GITSTORE_SKIP_TESTS="${SUB_SKIP_TESTS-}" \
			bash "./$name.sh" "$@" >out 2>err 3>&- 4>&- 5>&- 7>&-
		echo $? >status
	) &&
	{ grep -E '^(ok|not ok|1\.\.)' "$name/out" >"$name/tap" || :; }
}

test_expect_success 'test_cmp passes on equal files, fails on different ones' '
	test_write_lines a b c >expect &&
	printf "a\nb\nc\n" >actual &&
	test_cmp expect actual &&
	test_write_lines a B c >actual &&
	test_must_fail test_cmp expect actual >diff &&
	grep "^-b$" diff &&
	grep "^+B$" diff
'

test_expect_success 'test_must_fail and test_expect_code' '
	test_must_fail false &&
	test_must_fail sh -c "exit 3" &&
	! test_must_fail true 2>err &&
	! test_must_fail sh -c "kill -SEGV \$\$" &&
	! test_must_fail this-command-does-not-exist &&
	test_must_fail ok=sigpipe sh -c "kill -PIPE \$\$" &&
	! test_must_fail sh -c "kill -PIPE \$\$" &&
	test_must_fail ok=success true &&
	test_expect_code 3 sh -c "exit 3" &&
	! test_expect_code 3 sh -c "exit 4"
'

test_expect_success 'test_line_count, test_seq, path helpers' '
	test_seq 3 >three &&
	test_line_count = 3 three &&
	test_line_count -gt 2 three &&
	! test_line_count = 4 three &&
	test_write_lines 2 3 4 >expect &&
	test_seq 2 4 >actual &&
	test_cmp expect actual &&
	: >empty &&
	test_must_be_empty empty &&
	! test_must_be_empty three &&
	test_file_not_empty three &&
	test_path_is_file three &&
	test_path_is_dir . &&
	test_path_is_missing no-such-file &&
	! test_path_is_missing three
'

test_expect_success 'test_when_finished runs after the body, last first' '
	test_when_finished "echo first-registered >>order" &&
	test_when_finished "echo second-registered >>order" &&
	echo body >order
'

test_expect_success 'test_when_finished order was LIFO' '
	test_write_lines body second-registered first-registered >expect &&
	test_cmp expect order
'

test_expect_success 'tests start in the trash directory' '
	mkdir -p sub &&
	cd sub
'

test_expect_success 'environment is isolated' '
	test "$PWD" = "$TRASH" &&
	test "$HOME" = "$TRASH" &&
	test "$TZ" = UTC &&
	test "$LANG" = C &&
	test "$LC_ALL" = C &&
	test "$GIT_CONFIG_NOSYSTEM" = 1 &&
	test "$GIT_CONFIG_GLOBAL" = "$TRASH/.gitconfig" &&
	test "$GIT_TERMINAL_PROMPT" = 0 &&
	test -z "${GIT_DIR+set}" &&
	test "$GITSTORE_DATA" = "$TRASH/data" &&
	test "$(git config user.name)" = "A U Thor" &&
	test "$(git config user.email)" = author@example.com &&
	test "$(git config init.defaultBranch)" = main &&
	test_expect_code 1 git config protocol.version &&
	test -f "$SHARED/conformance/cloudevents-1.0.schema.json" &&
	test -f "$ROOT/tests/integration/lib/test-lib.sh"
'

test_expect_success 'commits in the trash directory have reproducible ids' '
	git init -q repo &&
	echo one >repo/file &&
	git -C repo add file &&
	git -C repo commit -q -m one &&
	test "$(git -C repo symbolic-ref HEAD)" = refs/heads/main &&
	git -C repo rev-parse HEAD >first &&
	echo 37abe1fb38d6e03bc78a6923fecf258f5b7c918f >expect &&
	test_cmp expect first &&
	git -C repo log -1 --format="%an <%ae> %ad|%cn <%ce> %cd" --date=raw >actual &&
	echo "A U Thor <author@example.com> 1112911993 -0700|A U Thor <author@example.com> 1112911993 -0700" >expect &&
	test_cmp expect actual &&

	git init -q again &&
	echo one >again/file &&
	git -C again add file &&
	git -C again commit -q -m one &&
	git -C again rev-parse HEAD >second &&
	test_cmp first second
'

test_expect_success 'test_tick moves the dates by 60 s and changes the ids' '
	old=$test_tick &&
	test_tick &&
	test $test_tick = $((old + 60)) &&
	test "$GIT_COMMITTER_DATE" = "$test_tick -0700" &&
	test "$GIT_AUTHOR_DATE" = "$test_tick -0700" &&
	git init -q ticked &&
	echo one >ticked/file &&
	git -C ticked add file &&
	git -C ticked commit -q -m one &&
	git -C ticked rev-parse HEAD >ticked-id &&
	! test_cmp first ticked-id &&
	git -C ticked log -1 --format=%cd --date=raw >actual &&
	echo "$test_tick -0700" >expect &&
	test_cmp expect actual
'

test_expect_success 'prerequisites' '
	test_set_prereq HAVE_IT &&
	test_have_prereq HAVE_IT &&
	! test_have_prereq MISSING_ONE &&
	test_have_prereq HAVE_IT,!MISSING_ONE &&
	! test_have_prereq HAVE_IT,MISSING_ONE &&
	test_lazy_prereq LAZY_TRUE "true" &&
	test_lazy_prereq LAZY_FALSE "false" &&
	test_have_prereq LAZY_TRUE &&
	! test_have_prereq LAZY_FALSE
'

test_expect_success MISSING_ONE 'a test with a missing prerequisite is skipped' '
	false
'

test_expect_success 'failing script: TAP, output, cleanup, exit status' '
	run_sub_test failing <<-\EOF &&
	test_expect_success "passes" "true"
	test_expect_success "fails" "
		test_when_finished \"echo cleanup-ran >>\$TRASH_DIRECTORY/../../cleanup\" &&
		echo visible-output &&
		echo to-stderr >&2 &&
		false
	"
	test_expect_failure "known breakage" "false"
	test_expect_failure "fixed breakage" "true"
	test_expect_success NOPE "skipped" "false"
	test_expect_success "cleanup failure fails the test" "
		test_when_finished false &&
		true
	"
	test_expect_success "stdin body" - <<\EOT
	echo body from stdin with '\''quotes'\'' &&
	true
	EOT
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - fails
	not ok 3 - known breakage # TODO known breakage
	ok 4 - fixed breakage # TODO known breakage vanished
	ok 5 # skip skipped (missing NOPE)
	not ok 6 - cleanup failure fails the test
	EOF
	head -n 6 failing/tap >actual &&
	test_cmp expect actual &&
	test_line_count = 8 failing/tap &&
	tail -n 1 failing/tap >actual &&
	echo 1..7 >expect &&
	test_cmp expect actual &&
	echo 1 >expect &&
	test_cmp expect failing/status &&
	echo cleanup-ran >expect &&
	test_cmp expect failing/cleanup &&
	grep "^#	*echo visible-output &&" failing/out &&
	grep "^#   visible-output$" failing/out &&
	grep "^#   to-stderr$" failing/out &&
	grep "^# failed 2 among 7 test(s)$" failing/out &&
	grep "^# still have 1 known breakage(s)$" failing/out &&
	ls failing/tmp >trash-left &&
	test_must_be_empty trash-left
'

test_expect_success 'the body of a test can come from stdin' '
	grep "^ok 7 - stdin body$" failing/tap
'

test_expect_success 'passing script exits 0 and removes its trash' '
	run_sub_test passing <<-\EOF &&
	test_expect_success "one" "echo \$TRASH >\$TRASH/../../trash-was"
	test_done
	EOF
	test_write_lines "ok 1 - one" "1..1" >expect &&
	test_cmp expect passing/tap &&
	echo 0 >expect &&
	test_cmp expect passing/status &&
	grep "^# passed all 1 test(s)$" passing/out &&
	test_path_is_missing "$(cat passing/trash-was)" &&
	case "$(cat passing/trash-was)" in "$TRASH/passing/tmp/gitstore-passing."*) true ;; *) false ;; esac
'

test_expect_success '-i stops at the first failure and keeps the trash' '
	run_sub_test immediate -i <<-\EOF &&
	test_expect_success "fails" "test_when_finished \"echo ran >\$TRASH/../../cleanup\" && false"
	test_expect_success "never runs" "true"
	test_done
	EOF
	test_write_lines "not ok 1 - fails" "1..1" >expect &&
	test_cmp expect immediate/tap &&
	echo 1 >expect &&
	test_cmp expect immediate/status &&
	test_path_is_missing immediate/cleanup &&
	ls immediate/tmp >kept &&
	test_line_count = 1 kept
'

test_expect_success '-d keeps the trash; -v shows output on stderr' '
	run_sub_test debug -d -v <<-\EOF &&
	test_expect_success "talks" "echo chatty"
	test_done
	EOF
	grep "^chatty$" debug/err &&
	! grep chatty debug/out &&
	grep "^# trash directory kept: " debug/out &&
	ls debug/tmp >kept &&
	test_line_count = 1 kept
'

test_expect_success 'an exit inside a test body is reported as FATAL' '
	run_sub_test fatal <<-\EOF &&
	test_expect_success "exits" "echo before-exit && exit 0"
	test_done
	EOF
	echo 1 >expect &&
	test_cmp expect fatal/status &&
	grep "^# FATAL: unexpected exit with code 0" fatal/out &&
	grep "before-exit" fatal/out &&
	! grep "^1\.\." fatal/out
'

test_expect_success 'skip_all and GITSTORE_SKIP_TESTS' '
	run_sub_test skipall <<-\EOF &&
	skip_all="nothing to do here"
	test_done
	EOF
	echo "1..0 # SKIP nothing to do here" >expect &&
	test_cmp expect skipall/tap &&
	echo 0 >expect &&
	test_cmp expect skipall/status &&

	test_write_lines "test_expect_success a true" "test_expect_success b false" \
		test_done >body &&
	SUB_SKIP_TESTS="t9999.2" run_sub_test t9999-skip <body &&
	test_write_lines "ok 1 - a" "ok 2 # skip b (GITSTORE_SKIP_TESTS)" "1..2" >expect &&
	test_cmp expect t9999-skip/tap &&
	SUB_SKIP_TESTS="t99*" run_sub_test t9999-skip <body &&
	echo "1..0 # SKIP t9999 matches GITSTORE_SKIP_TESTS" >expect &&
	test_cmp expect t9999-skip/tap
'

test_expect_success 'check_cloudevents accepts valid events, rejects bad ones' '
	cat >good.ndjson <<-\EOF &&
	{"specversion":"1.0","id":"e1","source":"/gitstore/repositories/r1","type":"dev.gitstore.branch-created.v1","subject":"refs/heads/main","time":"2026-11-26T18:10:41.123Z","datacontenttype":"application/json","sequence":"00000000000000000001","logseq":1,"correlationid":"p1","data":{"ref":"refs/heads/main"}}
	{"specversion":"1.0","id":"e2","source":"/gitstore/repositories/r1","type":"dev.gitstore.push-completed.v1","time":"2026-11-26T18:10:41Z","logseq":2,"data":{}}
	EOF
	check_cloudevents good.ndjson &&

	: >empty.ndjson &&
	test_must_fail check_cloudevents empty.ndjson 2>err &&
	grep "empty file" err &&

	{
		head -n 1 good.ndjson &&
		echo "{\"specversion\":\"1.0\",\"id\":\"e3\",\"type\":\"t\",\"time\":\"yesterday\"}"
	} >bad.ndjson &&
	test_must_fail check_cloudevents bad.ndjson 2>err &&
	grep "bad.ndjson:2: .*source.* is a required property" err &&
	grep "bad.ndjson:2: time: .yesterday. is not a .date-time." err &&
	! grep "bad.ndjson:1:" err &&

	echo "{\"specversion\":\"1.0\",\"id\":\"e4\",\"source\":\"/s\",\"type\":\"t\",\"Logseq\":{}}" >bad2.ndjson &&
	test_must_fail check_cloudevents bad2.ndjson 2>err &&
	grep "attribute name .Logseq." err &&
	grep "has a dict value" err
'

write_fake_gitstore () {
	# A stand-in for the daemon: `serve` listens, prints the ready line,
	# answers every HTTP request with 400 and the number of bytes it got,
	# and exits 0 on SIGTERM; `token create` and `events` print what the
	# helpers expect.  Options of `serve` steer it (see below).
	cat >"$1" <<-\EOF &&
	#!/usr/bin/python3
	import json, os, secrets, signal, socket, subprocess, sys, threading, time

	state = os.environ["FAKE_STATE"]
	args = sys.argv[1:]

	def opt(name, default=None):
	    return args[args.index(name) + 1] if name in args else default

	if args[:2] == ["token", "create"]:
	    os.makedirs(opt("--data"), exist_ok=True)
	    with open(os.path.join(state, "tokens"), "a") as f:
	        f.write(" ".join(args) + "\n")
	    print("tok_" + secrets.token_hex(8))
	    sys.exit(0)

	if args[:1] == ["events"]:
	    for i in (1, 2):
	        print(json.dumps({"specversion": "1.0", "id": "e%d" % i, "source": "/fake",
	                          "type": "dev.gitstore.fake.v1", "logseq": i,
	                          "data": {"argv": args}}))
	    sys.exit(0)

	assert args[0] == "serve", args
	data = opt("--data")
	host, port = opt("--listen").rsplit(":", 1)
	os.makedirs(data, exist_ok=True)
	term_status = int(opt("--fake-term-status", "0"))
	signal.signal(signal.SIGTERM, lambda *a: os._exit(term_status))
	if "--fake-die" in args:
	    print("fake: cannot start", file=sys.stderr)
	    sys.exit(3)
	if "--fake-child" in args:
	    child = subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL)
	    with open(os.path.join(state, "child.pid"), "w") as f:
	        f.write("%d\n" % child.pid)
	with open(os.path.join(state, "serve.pid"), "w") as f:
	    f.write("%d\n" % os.getpid())
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((host, int(port)))
	s.listen(16)
	port = s.getsockname()[1]
	with open(os.path.join(state, "port"), "w") as f:
	    f.write("%d\n" % port)
	time.sleep(float(opt("--fake-delay", "0")))
	line = "gitstore: ready listen=%s:%d pid=%d\n" % (host, port, os.getpid())
	if "--fake-split-ready" in args:
	    # Stop after the first digit of the port for a while.
	    cut = line.index(":%d" % port) + 2
	    sys.stderr.write(line[:cut])
	    sys.stderr.flush()
	    time.sleep(0.5)
	    line = line[cut:]
	sys.stderr.write(line)
	sys.stderr.flush()
	if opt("--fake-exit") is not None:
	    delay, code = opt("--fake-exit").split(":")
	    threading.Timer(float(delay), lambda: os._exit(int(code))).start()
	while True:
	    conn, _ = s.accept()
	    got = b""
	    while b"\r\n\r\n" not in got and len(got) < 65536:
	        chunk = conn.recv(4096)
	        if not chunk:
	            break
	        got += chunk
	    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
	                 b"X-Got-Bytes: %d\r\nContent-Length: 0\r\n\r\n" % len(got))
	    conn.close()
	EOF
	chmod +x "$1"
}

test_expect_success 'setup a fake gitstore to exercise the server helpers' '
	write_fake_gitstore "$TRASH/fake-gitstore" &&
	GITSTORE_BIN=$TRASH/fake-gitstore &&
	export FAKE_STATE="$TRASH/fake-state" &&
	mkdir -p "$FAKE_STATE"
'

test_expect_success 'start_gitstore waits for the ready line, stop_gitstore stops' '
	start_gitstore --fake-delay 0.3 &&
	test "$GITSTORE_PORT" = "$(cat "$FAKE_STATE/port")" &&
	test "$GITSTORE_URL" = "http://127.0.0.1:$GITSTORE_PORT" &&
	test "$GITSTORE_PID" = "$(cat "$FAKE_STATE/serve.pid")" &&
	test_path_is_dir "$GITSTORE_DATA" &&
	grep "^gitstore: ready listen=127.0.0.1:$GITSTORE_PORT pid=$GITSTORE_PID$" "$TRASH/gitstore.log" &&
	test_must_fail start_gitstore 2>err &&
	grep "already running" err &&
	pid=$GITSTORE_PID &&
	stop_gitstore &&
	test -z "$GITSTORE_PID" &&
	! _gs_alive $pid
'

test_expect_success 'a restart only looks at the new part of the log' '
	# The old ready line is in the log while the new daemon sleeps.
	start_gitstore --fake-delay 1 &&
	test "$GITSTORE_PORT" = "$(cat "$FAKE_STATE/port")" &&
	test $(grep -c "gitstore: ready" "$TRASH/gitstore.log") = 2 &&
	stop_gitstore
'

test_expect_success 'a ready line is only read once it is complete' '
	start_gitstore --fake-split-ready &&
	test "$GITSTORE_PORT" = "$(cat "$FAKE_STATE/port")" &&
	stop_gitstore
'

test_expect_success 'start_gitstore fails clearly when the daemon dies' '
	test_must_fail start_gitstore --fake-die 2>err &&
	grep "exited with status 3 before printing" err &&
	grep "fake: cannot start" err &&
	test -z "$GITSTORE_PID"
'

test_expect_success 'stop_gitstore requires exit status 0' '
	start_gitstore --fake-term-status 5 &&
	test_must_fail stop_gitstore 2>err &&
	grep "exited with status 5 after SIGTERM" err &&
	test -z "$GITSTORE_PID"
'

test_expect_success 'kill_gitstore kills the daemon and its children' '
	start_gitstore --fake-child &&
	pid=$GITSTORE_PID child=$(cat "$FAKE_STATE/child.pid") &&
	kill -0 $child &&
	kill_gitstore &&
	test -z "$GITSTORE_PID" &&
	! _gs_alive $pid &&
	! _gs_alive $child
'

test_expect_success 'wait_gitstore_exit returns the exit status' '
	start_gitstore --fake-exit 0.3:7 &&
	test_expect_code 7 wait_gitstore_exit &&
	test -z "$GITSTORE_PID"
'

test_expect_success 'http_raw sends raw bytes and prints the response' '
	start_gitstore &&
	printf "GET / HTTP/1.1\r\nHost: x\r\n\r\n" >request &&
	http_raw 127.0.0.1 "$GITSTORE_PORT" request >response &&
	head -n 1 response >actual &&
	printf "HTTP/1.1 400 Bad Request\r\n" >expect &&
	test_cmp expect actual &&
	grep "^X-Got-Bytes: 27" response &&
	stop_gitstore
'

test_expect_success 'http_raw gives up after its timeout' '
	# A listener that never answers: bash holds the socket open.
	test_bg /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(30)
" >silent-port &&
	test_when_finished "kill $test_bg_pid" &&
	for i in $(test_seq 50); do test -s silent-port && break; sleep 0.1; done &&
	echo hello >request &&
	HTTP_RAW_TIMEOUT=1 test_expect_code 124 http_raw 127.0.0.1 "$(cat silent-port)" request
'

test_expect_success 'token helpers, URLs and gs_events' '
	tok=$(gs_admin_token) &&
	test "$(gs_admin_token)" = "$tok" &&
	test_line_count = 1 "$FAKE_STATE/tokens" &&
	grep -- "--user admin --role admin:\* --data $GITSTORE_DATA" "$FAKE_STATE/tokens" &&
	alice=$(gs_token alice writer:default reader:other) &&
	test "$alice" != "$tok" &&
	grep -- "--user alice --role writer:default --role reader:other --data $GITSTORE_DATA" "$FAKE_STATE/tokens" &&
	start_gitstore &&
	test "$(gs_url_with_token "$alice" default/catalog)" = "http://x:$alice@127.0.0.1:$GITSTORE_PORT/default/catalog.git" &&
	test "$(gs_url_with_token "$alice" default/catalog.git)" = "http://x:$alice@127.0.0.1:$GITSTORE_PORT/default/catalog.git" &&
	gs_events --after 5 >events &&
	test_line_count = 2 events &&
	check_cloudevents events &&
	grep -F "\"argv\": [\"events\", \"--server\", \"$GITSTORE_URL\", \"--token\", \"$tok\", \"--after\", \"5\"]" events &&
	stop_gitstore
'

test_expect_success 'a new data directory gets a new admin token' '
	tok=$(gs_admin_token) &&
	GITSTORE_DATA=$TRASH/data2 &&
	test_when_finished "GITSTORE_DATA=$TRASH/data" &&
	tok2=$(gs_admin_token) &&
	test "$tok" != "$tok2" &&
	test "$(gs_admin_token)" = "$tok2"
'

test_expect_success 'test_done stops a running daemon and requires status 0' '
	run_sub_test autostop <<-EOF &&
	GITSTORE_BIN="$TRASH/fake-gitstore"
	test_expect_success "start" "start_gitstore --fake-child"
	test_done
	EOF
	test_write_lines "ok 1 - start" "ok 2 - gitstore exits with status 0 on SIGTERM" "1..2" >expect &&
	test_cmp expect autostop/tap &&
	! _gs_alive $(cat "$FAKE_STATE/serve.pid") &&
	! _gs_alive $(cat "$FAKE_STATE/child.pid") &&

	run_sub_test autostop-fail <<-EOF &&
	GITSTORE_BIN="$TRASH/fake-gitstore"
	test_expect_success "start" "start_gitstore --fake-term-status 9"
	test_done
	EOF
	test_write_lines "ok 1 - start" "not ok 2 - gitstore exits with status 0 on SIGTERM" "1..2" >expect &&
	test_cmp expect autostop-fail/tap &&
	echo 1 >expect &&
	test_cmp expect autostop-fail/status
'

test_expect_success 'an unexpected exit leaves no daemon or background job behind' '
	run_sub_test crash <<-EOF &&
	GITSTORE_BIN="$TRASH/fake-gitstore"
	test_expect_success "start" "
		sleep 300 </dev/null >/dev/null 2>&1 &
		echo \\\$! >\$TRASH/job.pid
		start_gitstore --fake-child &&
		test_bg sleep 300 &&
		echo \\\$test_bg_pid >\$TRASH/bg.pid &&
		exit 3
	"
	test_done
	EOF
	echo 1 >expect &&
	test_cmp expect crash/status &&
	grep "^# FATAL: unexpected exit with code 3" crash/out &&
	! _gs_alive $(cat "$FAKE_STATE/serve.pid") &&
	! _gs_alive $(cat "$FAKE_STATE/child.pid") &&
	! _gs_alive $(cat bg.pid) &&
	! _gs_alive $(cat job.pid)
'

test_done
