#!/bin/bash
test_description='gitstore namespace/repo/token create: name validation, duplicates, token format and storage'
. "$(dirname "$0")/lib/test-lib.sh"

# Every git and curl call is time-limited.  A hung git is killed with
# SIGKILL (status 137), which test_must_fail reports as a crash.
GIT_BIN=$(command -v git)
git () {
	timeout -s KILL 120 "$GIT_BIN" "$@"
}

L63=$(printf 'a%.0s' $(test_seq 63))
L64=$(printf 'a%.0s' $(test_seq 64))

# data_state: what the data directory holds -- its files and directories
# (not descending into bare repositories, skipping SQLite's transient
# -wal/-shm/-journal files) and the full contents of every SQLite database
# in it.  Equal before and after a command = the command changed nothing.
data_state () {
	(
		cd "$GITSTORE_DATA" &&
		find . \( -name '*-wal' -o -name '*-shm' -o -name '*-journal' \) -prune -o \
			-name '*.git' -print -prune -o -print | sort
	) &&
	/usr/bin/python3 - "$GITSTORE_DATA" <<-\EOF
	import os, sqlite3, sys
	for root, dirs, files in os.walk(sys.argv[1]):
	    dirs[:] = sorted(d for d in dirs if not d.endswith('.git'))
	    for f in sorted(files):
	        p = os.path.join(root, f)
	        with open(p, 'rb') as fh:
	            if fh.read(16) != b'SQLite format 3\x00':
	                continue
	        print('== ' + os.path.relpath(p, sys.argv[1]))
	        c = sqlite3.connect('file:' + p + '?mode=ro', uri=True)
	        for line in c.iterdump():
	            print(line)
	        c.close()
	EOF
}

test_expect_success 'bad namespace names on a fresh data directory: exit 1, clear message, nothing created' '
	for name in Upper under_score "$L64" "" ".." "a/b" "trail-" "a.b"
	do
		test_expect_code 1 gitstore namespace create "$name" --data "$GITSTORE_DATA" >out 2>err &&
		cat err &&
		grep -F "invalid namespace name" err &&
		grep -F "'"'"'$name'"'"'" err &&
		grep -F "DNS label" err &&
		test_must_be_empty out &&
		test_path_is_missing "$GITSTORE_DATA" || return 1
	done
'

test_expect_success 'namespace create default (and its system repository)' '
	gitstore namespace create default --data "$GITSTORE_DATA" >out 2>err &&
	cat out &&
	grep "default" out &&
	gitstore repo create default/catalog --data "$GITSTORE_DATA" >out 2>err &&
	grep "default/catalog" out &&
	test_expect_code 1 gitstore repo create default/gitstore-system --data "$GITSTORE_DATA" 2>err &&
	grep -F "already exists" err
'

test_expect_success 'a 63-character name is valid' '
	gitstore namespace create "$L63" --data "$GITSTORE_DATA" &&
	gitstore repo create "default/$L63" --data "$GITSTORE_DATA" &&
	test_expect_code 1 gitstore namespace create "$L63" --data "$GITSTORE_DATA" 2>err &&
	grep -F "already exists" err
'

test_expect_success 'bad namespace names on an existing data directory change nothing' '
	data_state >before &&
	test_file_not_empty before &&
	grep -F "$L63" before &&
	for name in Upper under_score "$L64" "" ".." "a/b"
	do
		test_expect_code 1 gitstore namespace create "$name" --data "$GITSTORE_DATA" >out 2>err &&
		cat err &&
		grep -F "invalid namespace name" err &&
		test_must_be_empty out || return 1
	done &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'bad repository names: exit 1, clear message, nothing created' '
	data_state >before &&
	for name in default/Upper default/under_score "default/$L64" default/ default/.. default/a/b \
		"" /catalog Default/catalog "$L64/catalog" ../catalog catalog
	do
		test_expect_code 1 gitstore repo create "$name" --data "$GITSTORE_DATA" >out 2>err &&
		cat err &&
		grep -i "invalid\|must be" err &&
		test_must_be_empty out || return 1
	done &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'duplicate namespace: exit 1, "already exists", nothing changed' '
	data_state >before &&
	test_expect_code 1 gitstore namespace create default --data "$GITSTORE_DATA" >out 2>err &&
	cat err &&
	grep -F "already exists" err &&
	grep -F "default" err &&
	test_must_be_empty out &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'duplicate repository: exit 1, "already exists", nothing changed' '
	data_state >before &&
	test_expect_code 1 gitstore repo create default/catalog --data "$GITSTORE_DATA" >out 2>err &&
	cat err &&
	grep -F "already exists" err &&
	grep -F "default/catalog" err &&
	test_must_be_empty out &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'repository in a missing namespace: exit 1, nothing changed' '
	data_state >before &&
	test_expect_code 1 gitstore repo create nosuch/catalog --data "$GITSTORE_DATA" >out 2>err &&
	cat err &&
	grep -F "nosuch" err &&
	test_must_be_empty out &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 gitstore namespace create --data "$GITSTORE_DATA" 2>err &&
	grep -i usage err &&
	test_expect_code 2 gitstore namespace create a b --data "$GITSTORE_DATA" 2>err &&
	test_expect_code 2 gitstore namespace --data "$GITSTORE_DATA" 2>err &&
	test_expect_code 2 gitstore repo create --data "$GITSTORE_DATA" 2>err &&
	grep -i usage err &&
	test_expect_code 2 gitstore repo create default/x --data 2>err &&
	test_expect_code 2 gitstore token create --user bob --data "$GITSTORE_DATA" 2>err &&
	grep -i usage err &&
	test_expect_code 2 gitstore token create --role reader:default --data "$GITSTORE_DATA" 2>err &&
	test_expect_code 2 gitstore token create --user bob --role reader:default --bogus --data "$GITSTORE_DATA" 2>err
'

test_expect_success 'token create prints exactly one line: gst_ and 64 hex digits' '
	gitstore token create --user bob --role reader:default --data "$GITSTORE_DATA" >out 2>err &&
	test_line_count = 1 out &&
	grep -Ex "gst_[0-9a-f]{64}" out &&
	gitstore token create --user bob --role reader:default --role "writer:$L63" --data "$GITSTORE_DATA" >out2 &&
	test_line_count = 1 out2 &&
	grep -Ex "gst_[0-9a-f]{64}" out2 &&
	! test_cmp out out2 &&
	gitstore token create --user carol --role "admin:*" --data "$GITSTORE_DATA" >out3 &&
	grep -Ex "gst_[0-9a-f]{64}" out3
'

test_expect_success 'bad roles and bad user names: exit 1, no token, nothing changed' '
	data_state >before &&
	for role in owner:default reader "reader:" ":default" "reader:Bad_NS" "reader:a/b" "Reader:default" \
		"reader:$L64" "admin:**" ""
	do
		test_expect_code 1 gitstore token create --user bob --role "$role" --data "$GITSTORE_DATA" >out 2>err &&
		cat err &&
		test_file_not_empty err &&
		test_must_be_empty out || return 1
	done &&
	test_expect_code 1 gitstore token create --user bob --role reader:default --role owner:default \
		--data "$GITSTORE_DATA" >out 2>err &&
	test_must_be_empty out &&
	for user in Upper under_score "$L64" "" ".." "a/b"
	do
		test_expect_code 1 gitstore token create --user "$user" --role reader:default --data "$GITSTORE_DATA" >out 2>err &&
		cat err &&
		grep -i "invalid user" err &&
		test_must_be_empty out || return 1
	done &&
	data_state >after &&
	test_cmp before after
'

test_expect_success 'token create while the server runs: usable immediately' '
	start_gitstore &&
	ADMIN=$(gs_admin_token) &&
	git init -q work &&
	echo one >work/one.md && git -C work add one.md && git -C work commit -q -m one &&
	git -C work push -q "$(gs_url_with_token "$ADMIN" default/catalog)" HEAD:main &&
	gitstore token create --user late --role reader:default --data "$GITSTORE_DATA" >tok 2>err &&
	test_line_count = 1 tok &&
	LATE=$(cat tok) &&
	curl -sS --max-time 30 -o /dev/null -w "%{http_code}\n" -u "x:$LATE" \
		"$GITSTORE_URL/default/catalog.git/info/refs?service=git-upload-pack" >code &&
	echo 200 >expect &&
	test_cmp expect code &&
	git ls-remote "$(gs_url_with_token "$LATE" default/catalog)" refs/heads/main >ls &&
	printf "%s\trefs/heads/main\n" "$(git -C work rev-parse HEAD)" >expect &&
	test_cmp expect ls &&
	curl -sS --max-time 30 -f -H "Authorization: Bearer $LATE" "$GITSTORE_URL/api/v1/events" >body &&
	jq -c ".[]" body >events &&
	check_cloudevents events &&
	gitstore token create --user late-writer --role writer:default --data "$GITSTORE_DATA" >tok2 &&
	git -C work push -q "$(gs_url_with_token "$(cat tok2)" default/catalog)" HEAD:refs/heads/late &&
	gs_events >all &&
	check_cloudevents all &&
	ev_check all branch-created "if .subject == \"refs/heads/late\" then .data.actor.name == \"late-writer\" else true end" &&
	jq -s "map(select(.subject == \"refs/heads/late\")) | length == 1" all | grep -qx true
'

test_expect_success 'tokens are not stored in clear text' '
	test_file_not_empty tok &&
	LATE=$(cat tok) &&
	SECRET=${LATE#gst_} &&
	test ${#SECRET} = 64 &&
	test_expect_code 1 grep -r -q -a -F -e "$LATE" "$GITSTORE_DATA" &&
	test_expect_code 1 grep -r -q -a -F -e "$SECRET" "$GITSTORE_DATA" &&
	for t in $(cat out out2 out3 tok2) "$ADMIN"
	do
		test_expect_code 1 grep -r -q -a -F -e "${t#gst_}" "$GITSTORE_DATA" || return 1
	done
'

test_expect_success 'tokens are not in the daemon log either' '
	test_expect_code 1 grep -q -a -F -e "${LATE#gst_}" gitstore.log &&
	test_expect_code 1 grep -q -a -F -e "${ADMIN#gst_}" gitstore.log
'

test_done
