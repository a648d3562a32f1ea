# test-lib.sh -- TAP test library for gitstore's integration tests.
#
# Modelled on git's t/test-lib.sh.  A test script is an executable bash
# script tests/integration/tNNNN-<area>-<detail>.sh:
#
#	#!/bin/bash
#	test_description='what this script covers'
#	. "$(dirname "$0")/lib/test-lib.sh"
#
#	test_expect_success 'setup' '
#		start_gitstore &&
#		git clone "$(gs_url_with_token "$(gs_admin_token)" default/catalog)" work
#	'
#	test_done
#
# and the suite runs with `prove tests/integration/t*.sh` (TAP on stdout).
#
# Options, also read from $GITSTORE_TEST_OPTS (e.g. `prove ... :: -v`):
#	-v, --verbose    show the output of the test bodies (on stderr)
#	-d, --debug      keep the trash directory
#	-i, --immediate  stop at the first failing test and keep the trash
#	-x, --trace      trace the test bodies with `set -x`
#	-h, --help       print $test_description and exit
# GITSTORE_SKIP_TESTS="t0000.3 t12*" skips single tests or whole scripts.
# GITSTORE_TEST_LONG=1 sets the EXPENSIVE prerequisite.
#
# Test bodies are eval'd in the script's own shell (no subshell, no set -e),
# with stdin from /dev/null; a test passes when its body's exit status is 0.
# Chain commands with &&.  Variables set and `cd` in a body are visible to
# later tests, except that every test starts (and its cleanup runs) in the
# trash directory.  Use ( ... ) for temporary cd.  Without -v the bodies'
# stdout/stderr go to "$TRASH/test-output.log"; the part written by a
# failing test (last 50 lines) is printed as TAP comments, followed by what
# the daemon wrote to "$TRASH/gitstore.log" during that test.
#
# Tests:       test_expect_success [PREREQ] TITLE BODY (BODY "-": from stdin),
#              test_expect_failure, test_when_finished, test_done,
#              test_skip_all / skip_all=..., test_set_prereq,
#              test_lazy_prereq, test_have_prereq (built in: JQ, CURL,
#              JSONSCHEMA, EXPENSIVE), say, BUG
# Assertions:  test_cmp, test_must_fail [ok=sigpipe,success], test_expect_code,
#              test_line_count, test_path_is_file/_dir/_missing,
#              test_must_be_empty, test_file_not_empty
# Helpers:     test_tick, test_seq, test_write_lines, test_bg, http_raw,
#              check_cloudevents
# Daemon:      gitstore (the binary), start_gitstore, stop_gitstore,
#              kill_gitstore, wait_gitstore_exit, gs_admin_token, gs_token,
#              gs_url_with_token, gs_events
# Variables:   ROOT, SHARED, TEST_DIRECTORY, TRASH, GITSTORE_BIN,
#              GITSTORE_DATA ($TRASH/data), GITSTORE_PID, GITSTORE_PORT,
#              GITSTORE_URL
# GITSTORE_EVENT_DUMP=DIR: at the end, copy the event log of every data
# directory under $TRASH to DIR/<script>-<n>.jsonl (the schema check).
#
# The daemon contract these helpers rely on: `gitstore serve` prints the
# line "gitstore: ready listen=127.0.0.1:PORT" (PORT = the bound port, then
# a space or the end of the line) to stdout or stderr once it accepts
# requests, and exits 0 on SIGTERM; `gitstore token create` prints only the
# token (URL-safe characters) and works while the daemon runs.

if test -z "${BASH_VERSION-}"
then
	echo "error: tests/integration/lib/test-lib.sh needs bash" >&2
	exit 1
fi

# --- locations --------------------------------------------------------------

TEST_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P) || exit 1
TEST_DIRECTORY=$(cd "$TEST_LIB_DIR/.." && pwd -P) || exit 1
ROOT=$(cd "$TEST_DIRECTORY/../.." && pwd -P) || exit 1

SHARED=${GITSTORE_SHARED:-$ROOT/../shared}
if test -d "$SHARED"
then
	SHARED=$(cd "$SHARED" && pwd -P) || exit 1
fi

GITSTORE_BIN=${GITSTORE_BIN:-$ROOT/build/gitstore}
case $GITSTORE_BIN in
/*)	;;
*/*)	GITSTORE_BIN=$PWD/$GITSTORE_BIN ;;
*)	GITSTORE_BIN=$(command -v -- "$GITSTORE_BIN" || echo "$PWD/$GITSTORE_BIN") ;;
esac
export GITSTORE_BIN SHARED ROOT

this_test=$(basename "$0" .sh)
this_test_id=${this_test%%-*}

# --- options ----------------------------------------------------------------

_tl_verbose='' _tl_debug='' _tl_immediate='' _tl_trace='' _tl_help=''
# shellcheck disable=SC2086 # $GITSTORE_TEST_OPTS is a list of words
for _tl_opt in $GITSTORE_TEST_OPTS "$@"
do
	case $_tl_opt in
	--verbose) _tl_verbose=t ;;
	--debug) _tl_debug=t ;;
	--immediate) _tl_immediate=t ;;
	--trace) _tl_trace=t ;;
	--help) _tl_help=t ;;
	-[vdixh]*)
		_tl_flags=${_tl_opt#-}
		while test -n "$_tl_flags"
		do
			case $_tl_flags in
			v*) _tl_verbose=t ;;
			d*) _tl_debug=t ;;
			i*) _tl_immediate=t ;;
			x*) _tl_trace=t ;;
			h*) _tl_help=t ;;
			*) echo "error: unknown test option '$_tl_opt'" >&2; exit 1 ;;
			esac
			_tl_flags=${_tl_flags#?}
		done
		;;
	*)
		echo "error: unknown test option '$_tl_opt'" >&2
		exit 1
		;;
	esac
done

if test -n "$_tl_help"
then
	printf '%s: %s\n' "$this_test" "${test_description-}"
	exit 0
fi

# GITSTORE_SKIP_TESTS: whitespace-separated glob patterns matched against
# "tNNNN" (whole script) and "tNNNN.K" (test K).
read -r -a _tl_skip_patterns <<<"${GITSTORE_SKIP_TESTS-}"

_tl_match_skip () {
	local pat
	for pat in "${_tl_skip_patterns[@]}"
	do
		# shellcheck disable=SC2254 # $pat is a glob on purpose
		case $1 in $pat) return 0 ;; esac
	done
	return 1
}

if _tl_match_skip "$this_test_id"
then
	echo "1..0 # SKIP $this_test_id matches GITSTORE_SKIP_TESTS"
	exit 0
fi

# --- trash directory and environment ----------------------------------------

_tl_tmp=${TMPDIR:-/tmp}
if ! TRASH=$(mktemp -d "$_tl_tmp/gitstore-$this_test.XXXXXX") ||
	! TRASH=$(cd "$TRASH" && pwd -P)
then
	echo "error: cannot create a trash directory under $_tl_tmp" >&2
	exit 1
fi
TRASH_DIRECTORY=$TRASH
export TRASH TRASH_DIRECTORY

# Drop every GIT_* variable of the caller (GIT_DIR, GIT_WORK_TREE,
# GIT_CONFIG_PARAMETERS, GIT_PROTOCOL, GIT_ASKPASS, ...) except tracing.
for _tl_var in $(compgen -e)
do
	case $_tl_var in
	GIT_TRACE*|GIT_CURL_VERBOSE) ;;
	GIT_*) unset "$_tl_var" ;;
	esac
done
unset CDPATH EMAIL VISUAL LANGUAGE SSH_ASKPASS CURL_HOME \
	XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	GITSTORE_PID GITSTORE_PORT GITSTORE_URL

export HOME="$TRASH"
export LANG=C LC_ALL=C TZ=UTC
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$TRASH/.gitconfig"
export GIT_CEILING_DIRECTORIES="${TRASH%/*}"
export GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat PAGER=cat EDITOR=: GIT_MERGE_AUTOEDIT=no

# Make sanitizer reports fatal signals (SIGABRT) rather than exit status 1,
# so that test_must_fail cannot mistake a sanitizer report for an expected
# failure and stop_gitstore sees leaks.  Explicit settings win (later flags
# override earlier ones).
export ASAN_OPTIONS="abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

cat >"$GIT_CONFIG_GLOBAL" <<\EOF || exit 1
[user]
	name = A U Thor
	email = author@example.com
[init]
	defaultBranch = main
EOF

# Fixed dates; test_tick advances them by 60 s, as in git's test suite.
test_tick=1112911993
GIT_AUTHOR_DATE="$test_tick -0700"
GIT_COMMITTER_DATE="$test_tick -0700"
export GIT_AUTHOR_DATE GIT_COMMITTER_DATE

test_tick () {
	test_tick=$((test_tick + 60))
	GIT_COMMITTER_DATE="$test_tick -0700"
	GIT_AUTHOR_DATE="$test_tick -0700"
	export GIT_COMMITTER_DATE GIT_AUTHOR_DATE
}

GITSTORE_DATA="$TRASH/data"
export GITSTORE_DATA
GITSTORE_PID='' GITSTORE_PORT='' GITSTORE_URL=''

umask 022
cd "$TRASH" || exit 1

# fd 5 / 7: the script's stdout (TAP) and stderr; fd 3 / 4: stdout and
# stderr of test bodies (the log, or our stderr with -v).
_tl_log="$TRASH/test-output.log"
exec 5>&1 7>&2
if test -n "$_tl_verbose"
then
	exec 3>&2 4>&2
else
	exec 3>>"$_tl_log" 4>&3
fi

test_count=0 test_success=0 test_failure=0 test_fixed=0 test_broken=0 test_skipped=0
_tl_cleanup=: _tl_exit_ok='' _tl_keep_trash='' _tl_log_off=0 _tl_gslog_off=0
_tl_satisfied=" " _tl_unsatisfied=" "

# --- output helpers ---------------------------------------------------------

say () {
	printf '# %s\n' "$*"
}

BUG () {
	echo "error: bug in the test script: $*" >&7
	exit 1
}

_tl_size () {
	if test -f "$1"
	then
		stat -c %s -- "$1"
	else
		echo 0
	fi
}

# _tl_show_tail FILE OFFSET LABEL: print what FILE gained after OFFSET
# (at most 50 lines) as TAP comments.
_tl_show_tail () {
	local size
	size=$(_tl_size "$1")
	test "$size" -gt "$2" || return 0
	echo "# $3 (last 50 lines at most):"
	tail -c +"$(($2 + 1))" -- "$1" | tail -n 50 | sed -e 's/^/#   /'
}

# --- prerequisites ----------------------------------------------------------

test_set_prereq () {
	case $1 in
	''|*[!A-Z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
	_tl_unsatisfied=${_tl_unsatisfied// $1 / }
	_tl_satisfied="$_tl_satisfied$1 "
}

# test_lazy_prereq NAME 'script': NAME holds if the script (run once, on
# first use, in a subshell in a scratch directory) exits 0.
test_lazy_prereq () {
	case $1 in
	''|*[!A-Z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
	printf -v "_tl_lazy_$1" '%s' "$2"
}

_tl_prereq_holds () {
	local var dir
	case "$_tl_satisfied" in *" $1 "*) return 0 ;; esac
	case "$_tl_unsatisfied" in *" $1 "*) return 1 ;; esac
	var=_tl_lazy_$1
	if test -n "${!var+set}"
	then
		dir="$TRASH/.testlib/prereq-$1"
		if (
			mkdir -p "$dir" && cd "$dir" || exit 1
			eval "${!var}"
		) </dev/null >&3 2>&4
		then
			_tl_satisfied="$_tl_satisfied$1 "
			return 0
		fi
	fi
	_tl_unsatisfied="$_tl_unsatisfied$1 "
	return 1
}

# test_have_prereq 'A,!B': true if A holds and B does not.  Sets
# _tl_missing_prereq to the ones that failed.
test_have_prereq () {
	local list p name
	_tl_missing_prereq=
	IFS=, read -r -a list <<<"$1"
	for p in "${list[@]}"
	do
		name=${p#!}
		case $name in
		''|*[!A-Z0-9_]*) BUG "bad prerequisite name '$p'" ;;
		esac
		if _tl_prereq_holds "$name"
		then
			test "$p" = "$name" && continue
		else
			test "$p" != "$name" && continue
		fi
		_tl_missing_prereq="${_tl_missing_prereq:+$_tl_missing_prereq,}$p"
	done
	test -z "$_tl_missing_prereq"
}

test_lazy_prereq JQ 'command -v jq'
test_lazy_prereq CURL 'command -v curl'
test_lazy_prereq JSONSCHEMA '/usr/bin/python3 -c "import jsonschema"'
test -n "${GITSTORE_TEST_LONG-}" && test_set_prereq EXPENSIVE

# --- running tests ----------------------------------------------------------

_tl_eval_inner () {
	if test -n "$_tl_trace"
	then
		eval "set -x
$1"
	else
		eval "$1"
	fi
}

_tl_eval () {
	{
		_tl_eval_inner "$1" </dev/null >&3 2>&4
		_tl_eval_ret=$?
		test -z "$_tl_trace" || set +x
	} 2>/dev/null
	return "$_tl_eval_ret"
}

# _tl_run BODY [expecting-failure]: eval BODY, then the test_when_finished
# commands (LIFO; skipped with -i when BODY failed, so the state stays for
# inspection).  A failing cleanup fails the test.
_tl_run () {
	_tl_eval "$1"
	_tl_body_ret=$?
	cd "$TRASH" || BUG "cannot cd to $TRASH"
	if test -z "$_tl_immediate" || test "$_tl_body_ret" = 0 || test -n "$2"
	then
		_tl_eval "$_tl_cleanup"
		cd "$TRASH" || BUG "cannot cd to $TRASH"
	fi
	_tl_cleanup=:
	return "$_tl_body_ret"
}

_tl_start () {
	test "${BASH_SUBSHELL-0}" = 0 || BUG "test_expect_* called in a subshell"
	test_count=$((test_count + 1))
	_tl_cleanup=:
}

# _tl_parse_args NAME ARGS...: sets _tl_prereq, _tl_title, _tl_body.
_tl_parse_args () {
	local fn=$1
	shift
	_tl_prereq=
	if test $# = 3
	then
		_tl_prereq=$1
		shift
	fi
	test $# = 2 || BUG "not 2 or 3 parameters to $fn"
	_tl_title=$1
	_tl_body=$2
	if test "$_tl_body" = -
	then
		_tl_body=$(cat)
	fi
}

_tl_skip () {
	local reason=
	if _tl_match_skip "$this_test_id.$test_count"
	then
		reason="GITSTORE_SKIP_TESTS"
	elif test -n "$_tl_prereq" && ! test_have_prereq "$_tl_prereq"
	then
		reason="missing $_tl_missing_prereq"
	fi
	test -n "$reason" || return 1
	test_skipped=$((test_skipped + 1))
	echo "ok $test_count # skip $_tl_title ($reason)"
	printf 'skipping test %s.%s %s (%s)\n' "$this_test_id" "$test_count" "'$_tl_title'" "$reason" >&3
	return 0
}

_tl_header () {
	printf '\n%s %s.%s %s:\n%s\n' "$1" "$this_test_id" "$test_count" "'$_tl_title'" "$_tl_body" >&3
	_tl_log_off=$(_tl_size "$_tl_log")
	_tl_gslog_off=$(_tl_size "$TRASH/gitstore.log")
}

_tl_show_failure () {
	printf '%s\n' "$_tl_body" | sed -e 's/^/#	/'
	test -n "$_tl_verbose" || _tl_show_tail "$_tl_log" "$_tl_log_off" "output of the test"
	_tl_show_tail "$TRASH/gitstore.log" "$_tl_gslog_off" "gitstore.log during the test"
}

test_expect_success () {
	_tl_start
	_tl_parse_args test_expect_success "$@"
	_tl_skip && return 0
	_tl_header "expecting success of"
	if _tl_run "$_tl_body"
	then
		test_success=$((test_success + 1))
		echo "ok $test_count - $_tl_title"
	else
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $_tl_title"
		_tl_show_failure
		if test -n "$_tl_immediate"
		then
			_tl_keep_trash=t
			_tl_summary
			_tl_finish 1
		fi
	fi
	return 0
}

test_expect_failure () {
	_tl_start
	_tl_parse_args test_expect_failure "$@"
	_tl_skip && return 0
	_tl_header "checking known breakage of"
	if _tl_run "$_tl_body" t
	then
		test_fixed=$((test_fixed + 1))
		echo "ok $test_count - $_tl_title # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		echo "not ok $test_count - $_tl_title # TODO known breakage"
	fi
	return 0
}

# test_when_finished CMD...: run CMD (in the trash directory) after the
# current test, whatever its result; the last registered runs first.
test_when_finished () {
	test "${BASH_SUBSHELL-0}" = 0 ||
	BUG "test_when_finished does nothing in a subshell"
	_tl_cleanup="{ $*
		} && (exit \"\$_tl_body_ret\"); _tl_body_ret=\$?; $_tl_cleanup"
}

_tl_summary () {
	if test "$test_fixed" != 0
	then
		echo "# $test_fixed known breakage(s) vanished; please update test(s)"
	fi
	if test "$test_broken" != 0
	then
		echo "# still have $test_broken known breakage(s)"
	fi
	if test "$test_failure" != 0
	then
		echo "# failed $test_failure among $test_count test(s)"
	elif test $((test_broken + test_fixed)) != 0
	then
		echo "# passed all remaining $((test_count - test_broken - test_fixed)) test(s)"
	else
		echo "# passed all $test_count test(s)"
	fi
	echo "1..$test_count"
}

_tl_remove_trash () {
	if test -n "$_tl_debug" || test -n "$_tl_keep_trash"
	then
		echo "# trash directory kept: $TRASH"
		return 0
	fi
	cd / || return 1
	chmod -R u+rwx -- "$TRASH" 2>/dev/null
	rm -rf -- "$TRASH"
	if test -d "$TRASH"
	then
		echo "# warning: could not remove $TRASH"
	fi
	return 0
}

# _tl_dump_events: with GITSTORE_EVENT_DUMP set (scripts/run-integration.sh
# sets it), copy the event log of every data directory this script created
# to $GITSTORE_EVENT_DUMP/<script>-<n>.jsonl, for the schema check that
# runs after the suite.  The daemons have stopped by now, so the SQLite
# files are complete.  Never fails the script.
_tl_dump_events () {
	local dbs
	test -n "${GITSTORE_EVENT_DUMP-}" || return 0
	mapfile -t dbs < <(find "$TRASH" -name gitstore.db -type f 2>/dev/null)
	test "${#dbs[@]}" -gt 0 || return 0
	/usr/bin/python3 "$TEST_LIB_DIR/dump_events.py" "$GITSTORE_EVENT_DUMP" "$this_test" "${dbs[@]}" >&7 2>&7 ||
	echo "# warning: could not dump the events of $this_test to $GITSTORE_EVENT_DUMP"
	return 0
}

# _tl_finish STATUS: stop every process we started, dump the event logs
# (see above), drop the trash directory (unless -d, or -i after a failure)
# and exit.
_tl_finish () {
	_tl_stop_all
	_tl_dump_events
	_tl_remove_trash
	_tl_exit_ok=t
	exit "$1"
}

test_done () {
	test "${BASH_SUBSHELL-0}" = 0 || BUG "test_done called in a subshell"
	if test -n "$GITSTORE_PID"
	then
		test_expect_success 'gitstore exits with status 0 on SIGTERM' 'stop_gitstore'
	fi
	if test "$test_count" = 0 && test -n "${skip_all-}"
	then
		echo "1..0 # SKIP $skip_all"
		_tl_finish 0
	fi
	_tl_summary
	if test "$test_failure" = 0
	then
		_tl_finish 0
	fi
	_tl_finish 1
}

# test_skip_all REASON: skip the whole script (before any test ran).
test_skip_all () {
	skip_all=$1
	test_done
}

_tl_on_exit () {
	_tl_code=$?
	exec 1>&5 2>&7
	if test "$_tl_exit_ok" = t
	then
		exit "$_tl_code"
	fi
	echo "# FATAL: unexpected exit with code $_tl_code during or after test $test_count${_tl_title:+ ($_tl_title)}"
	echo "FATAL: $this_test: unexpected exit with code $_tl_code during or after test $test_count" >&2
	if test -z "$_tl_verbose"
	then
		_tl_show_tail "$_tl_log" "$_tl_log_off" "output of the test"
	fi
	test -z "$_tl_immediate" || _tl_keep_trash=t
	_tl_finish 1
}

trap _tl_on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- assertions and small helpers -------------------------------------------

test_cmp () {
	test $# = 2 || BUG "test_cmp needs 2 arguments"
	diff -u -- "$1" "$2"
}

# test_must_fail [ok=sigpipe,success] CMD...: CMD must exit non-zero, but
# not be killed by a signal (a crash, or a sanitizer abort), and exist.
# (Locals are prefixed: CMD may be a shell function that sets globals.)
test_must_fail () {
	local _tl_mf_ok='' _tl_mf_code
	case $1 in
	ok=*) _tl_mf_ok=,${1#ok=}, ; shift ;;
	esac
	"$@"
	_tl_mf_code=$?
	if test "$_tl_mf_code" = 0
	then
		case $_tl_mf_ok in *,success,*) return 0 ;; esac
		echo "test_must_fail: command succeeded: $*" >&4
		return 1
	elif test "$_tl_mf_code" = 141
	then
		case $_tl_mf_ok in *,sigpipe,*) return 0 ;; esac
	fi
	if test "$_tl_mf_code" -gt 128 && test "$_tl_mf_code" -le 192
	then
		echo "test_must_fail: died by signal $((_tl_mf_code - 128)): $*" >&4
		return 1
	elif test "$_tl_mf_code" = 127
	then
		echo "test_must_fail: command not found: $*" >&4
		return 1
	elif test "$_tl_mf_code" = 126
	then
		echo "test_must_fail: command not executable: $*" >&4
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code () {
	local _tl_ec_want=$1 _tl_ec_code
	shift
	"$@"
	_tl_ec_code=$?
	test "$_tl_ec_code" = "$_tl_ec_want" && return 0
	echo "test_expect_code: command exited with $_tl_ec_code, we wanted $_tl_ec_want: $*" >&4
	return 1
}

# test_line_count OP N FILE, e.g. test_line_count = 3 actual
test_line_count () {
	local n
	test $# = 3 || BUG "usage: test_line_count OP N FILE"
	n=$(wc -l <"$3") || return 1
	if ! test "$n" "$1" "$2"
	then
		echo "test_line_count: line count for $3 is $n, not $1 $2:"
		cat -- "$3"
		return 1
	fi
}

# test_seq [FIRST] LAST
test_seq () {
	local i last
	case $# in
	1) i=1 last=$1 ;;
	2) i=$1 last=$2 ;;
	*) BUG "usage: test_seq [FIRST] LAST" ;;
	esac
	while test "$i" -le "$last"
	do
		echo "$i"
		i=$((i + 1))
	done
}

test_write_lines () {
	printf '%s\n' "$@"
}

test_path_is_file () {
	test -f "$1" || { echo "file $1 does not exist"; return 1; }
}

test_path_is_dir () {
	test -d "$1" || { echo "directory $1 does not exist"; return 1; }
}

test_path_is_missing () {
	test ! -e "$1" || { echo "path $1 exists"; ls -ld -- "$1"; return 1; }
}

test_must_be_empty () {
	test_path_is_file "$1" || return 1
	if test -s "$1"
	then
		echo "'$1' is not empty, it contains:"
		cat -- "$1"
		return 1
	fi
}

test_file_not_empty () {
	test -s "$1" || { echo "'$1' is missing or empty"; return 1; }
}

# test_bg CMD...: run CMD in the background (stdin /dev/null, redirections of
# the call apply) and set $test_bg_pid.  Still-running ones are killed by
# test_done and on any exit.
test_bg () {
	test "${BASH_SUBSHELL-0}" = 0 || BUG "test_bg called in a subshell"
	"$@" </dev/null 5>&- 7>&- &
	# shellcheck disable=SC2034 # for the caller
	test_bg_pid=$!
}

# --- gitstore ---------------------------------------------------------------

gitstore () {
	if ! test -x "$GITSTORE_BIN"
	then
		echo "gitstore: $GITSTORE_BIN is not an executable (run make, or set GITSTORE_BIN)" >&2
		return 127
	fi
	"$GITSTORE_BIN" "$@"
}

# _gs_alive PID: the process exists and is not a zombie.
_gs_alive () {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	if read -r stat 2>/dev/null <"/proc/$1/stat"
	then
		stat=${stat##*) }
		case $stat in Z*|X*) return 1 ;; esac
	fi
	return 0
}

# _gs_wait_gone PID TENTHS: poll until PID has exited (true) or TENTHS
# tenths of a second have passed (false).
_gs_wait_gone () {
	local i=0
	while _gs_alive "$1"
	do
		test "$i" -ge "$2" && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

_gs_log="$TRASH/gitstore.log"
_gs_groups=" "

# _gs_reap PID [quiet]: collect the exit status of the daemon PID (which
# must have exited, or be about to), kill what is left of its process group
# (saying so unless "quiet"), and return the status.
_gs_reap () {
	local pid=$1 status left
	wait "$pid" 2>/dev/null
	status=$?
	left=$(ps -o pid=,stat=,args= -g "$pid" 2>/dev/null | awk '$2 !~ /^Z/')
	if test -n "$left"
	then
		if test "$2" != quiet
		then
			echo "gitstore: killing processes left in gitstore's process group:" >&2
			printf '%s\n' "$left" >&2
		fi
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	_gs_groups=${_gs_groups// $pid / }
	test "$GITSTORE_PID" != "$pid" || GITSTORE_PID=
	return "$status"
}

_gs_log_tail () {
	echo "--- last lines of $_gs_log written since start_gitstore:" >&2
	tail -c +"$((_gs_log_off + 1))" -- "$_gs_log" | tail -n 30 >&2
	echo "---" >&2
}

_gs_describe_status () {
	if test "$1" -gt 128 && test "$1" -le 192
	then
		printf ' (killed by signal %s%s)' "$(($1 - 128))" \
			"$(test "$1" = 134 && echo ': SIGABRT, a sanitizer report?')"
	fi
}

_gs_need_pid () {
	test "${BASH_SUBSHELL-0}" = 0 || BUG "$1 called in a subshell"
	if test -z "$GITSTORE_PID"
	then
		echo "$1: gitstore is not running (no start_gitstore, or it was stopped)" >&2
		return 1
	fi
}

_gs_need_server () {
	if test -z "$GITSTORE_PORT"
	then
		echo "$1: no gitstore was started (call start_gitstore first)" >&2
		return 1
	fi
}

# _gs_find_ready: look in the log, after _gs_log_off, for the first complete
# line containing "gitstore: ready listen=127.0.0.1:PORT" (PORT followed by a
# space or the end of the line) and set _gs_ready_port.
_gs_find_ready () {
	local line re='gitstore: ready listen=127\.0\.0\.1:([0-9]+)( |$)'
	# read(1) fails on an unterminated last line, so a line that is still
	# being written is never looked at.
	while IFS= read -r line
	do
		if [[ $line =~ $re ]]
		then
			_gs_ready_port=${BASH_REMATCH[1]}
			return 0
		fi
	done < <(tail -c +"$((_gs_log_off + 1))" -- "$_gs_log")
	return 1
}

# start_gitstore [ARGS...]: run `gitstore serve --data "$GITSTORE_DATA"
# --listen 127.0.0.1:0 ARGS...` in the background, in its own process
# group, logging to $TRASH/gitstore.log; wait up to 30 s for its ready line;
# export GITSTORE_PID, GITSTORE_PORT and GITSTORE_URL.
start_gitstore () {
	local pid i status
	test "${BASH_SUBSHELL-0}" = 0 || BUG "start_gitstore called in a subshell"
	if test -n "$GITSTORE_PID"
	then
		echo "start_gitstore: gitstore is already running (pid $GITSTORE_PID); stop it first" >&2
		return 1
	fi
	if ! test -x "$GITSTORE_BIN"
	then
		echo "start_gitstore: $GITSTORE_BIN is not an executable (run make, or set GITSTORE_BIN)" >&2
		return 1
	fi
	: >>"$_gs_log" || return 1
	_gs_log_off=$(_tl_size "$_gs_log")
	echo "=== start_gitstore: serve --data $GITSTORE_DATA --listen 127.0.0.1:0 $*" >>"$_gs_log"
	_gs_log_off=$(_tl_size "$_gs_log")

	if command -v setsid >/dev/null
	then
		setsid "$GITSTORE_BIN" serve --data "$GITSTORE_DATA" --listen 127.0.0.1:0 "$@" \
			</dev/null >>"$_gs_log" 2>&1 3>&- 4>&- 5>&- 7>&- &
	else
		"$GITSTORE_BIN" serve --data "$GITSTORE_DATA" --listen 127.0.0.1:0 "$@" \
			</dev/null >>"$_gs_log" 2>&1 3>&- 4>&- 5>&- 7>&- &
	fi
	pid=$!
	GITSTORE_PID=$pid
	_gs_groups="$_gs_groups$pid "
	export GITSTORE_PID

	i=0
	while ! _gs_find_ready
	do
		if ! _gs_alive "$pid"
		then
			# It may have printed the line just before dying.
			_gs_find_ready && break
			_gs_reap "$pid"
			status=$?
			echo "start_gitstore: gitstore exited with status $status$(_gs_describe_status "$status") before printing 'gitstore: ready listen=127.0.0.1:PORT'" >&2
			_gs_log_tail
			return 1
		fi
		if test "$i" -ge 300
		then
			echo "start_gitstore: no 'gitstore: ready listen=127.0.0.1:PORT' line in $_gs_log after 30 s; killing gitstore (pid $pid)" >&2
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
			_gs_reap "$pid"
			_gs_log_tail
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if ! _gs_alive "$pid"
	then
		_gs_reap "$pid"
		status=$?
		echo "start_gitstore: gitstore printed its ready line but exited with status $status$(_gs_describe_status "$status")" >&2
		_gs_log_tail
		return 1
	fi
	GITSTORE_PORT=$_gs_ready_port
	GITSTORE_URL=http://127.0.0.1:$GITSTORE_PORT
	export GITSTORE_PORT GITSTORE_URL
	echo "start_gitstore: gitstore (pid $pid) ready at $GITSTORE_URL"
}

# stop_gitstore: SIGTERM, wait up to 20 s, require exit status 0.
stop_gitstore () {
	local pid status
	_gs_need_pid stop_gitstore || return 1
	pid=$GITSTORE_PID
	if ! _gs_alive "$pid"
	then
		_gs_reap "$pid"
		status=$?
		echo "stop_gitstore: gitstore (pid $pid) had already exited with status $status$(_gs_describe_status "$status")" >&2
		_gs_log_tail
		return 1
	fi
	kill -TERM "$pid" 2>/dev/null
	if ! _gs_wait_gone "$pid" 200
	then
		echo "stop_gitstore: gitstore (pid $pid) still running 20 s after SIGTERM; killing it" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		_gs_reap "$pid"
		_gs_log_tail
		return 1
	fi
	_gs_reap "$pid"
	status=$?
	if test "$status" != 0
	then
		echo "stop_gitstore: gitstore exited with status $status$(_gs_describe_status "$status") after SIGTERM; expected 0" >&2
		_gs_log_tail
		return 1
	fi
	echo "stop_gitstore: gitstore (pid $pid) exited with status 0"
}

# kill_gitstore: SIGKILL the daemon and its process group (a crash), wait.
kill_gitstore () {
	local pid
	_gs_need_pid kill_gitstore || return 1
	pid=$GITSTORE_PID
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	_gs_reap "$pid" quiet
	echo "kill_gitstore: gitstore (pid $pid) killed"
	return 0
}

# wait_gitstore_exit: wait up to 20 s for the daemon to exit by itself and
# return its exit status (128+N if killed by signal N).  After 20 s it is
# killed and 124 is returned.  Use as `test_expect_code N wait_gitstore_exit`.
wait_gitstore_exit () {
	local pid status
	_gs_need_pid wait_gitstore_exit || return 1
	pid=$GITSTORE_PID
	if ! _gs_wait_gone "$pid" 200
	then
		echo "wait_gitstore_exit: gitstore (pid $pid) still running after 20 s; killing it" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		_gs_reap "$pid"
		return 124
	fi
	_gs_reap "$pid"
	status=$?
	echo "wait_gitstore_exit: gitstore (pid $pid) exited with status $status"
	return "$status"
}

# _tl_stop_all: make sure nothing we started survives the script.
_tl_stop_all () {
	local pid pids
	if test -n "$GITSTORE_PID"
	then
		kill -TERM "$GITSTORE_PID" 2>/dev/null
		_gs_wait_gone "$GITSTORE_PID" 50
	fi
	for pid in $_gs_groups
	do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	pids=$(jobs -p)
	if test -n "$pids"
	then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		for pid in $pids
		do
			_gs_wait_gone "$pid" 20 || kill -KILL "$pid" 2>/dev/null
		done
	fi
	wait 2>/dev/null
	GITSTORE_PID=
	_gs_groups=" "
}

_gs_check_token () {
	case $1 in
	''|*[!A-Za-z0-9._~-]*)
		echo "$2: 'gitstore token create' printed '$1', expected one URL-safe token and nothing else" >&2
		return 1
		;;
	esac
}

# gs_admin_token: print an admin token (role admin:*) for $GITSTORE_DATA,
# created once per data directory with `gitstore token create`.
# The cache (in $TRASH/.testlib, not in the data directory) is keyed by the
# directory's path, inode and birth time, so a removed and re-created data
# directory gets a new token.
gs_admin_token () {
	local cache id cached_id tok
	mkdir -p "$TRASH/.testlib/tokens" || return 1
	cache="$TRASH/.testlib/tokens/admin.$(printf '%s' "$GITSTORE_DATA" | cksum | cut -d' ' -f1)"
	id=$(stat -c '%i/%w' -- "$GITSTORE_DATA" 2>/dev/null | tr ' ' _)
	if test -n "$id" && test -s "$cache" &&
		{ read -r cached_id && read -r tok; } <"$cache" &&
		test "$cached_id" = "$id" && test -n "$tok"
	then
		printf '%s\n' "$tok"
		return 0
	fi
	tok=$(gitstore token create --user admin --role 'admin:*' --data "$GITSTORE_DATA") || {
		echo "gs_admin_token: 'gitstore token create --user admin --role admin:* --data $GITSTORE_DATA' failed" >&2
		return 1
	}
	_gs_check_token "$tok" gs_admin_token || return 1
	id=$(stat -c '%i/%w' -- "$GITSTORE_DATA" 2>/dev/null | tr ' ' _)
	printf '%s\n%s\n' "$id" "$tok" >"$cache" || return 1
	printf '%s\n' "$tok"
}

# gs_token USER ROLE:NS...: create and print a new token for USER.
gs_token () {
	local user tok args=()
	test $# -ge 2 || BUG "usage: gs_token USER ROLE:NS..."
	user=$1
	shift
	for role
	do
		args+=(--role "$role")
	done
	tok=$(gitstore token create --user "$user" "${args[@]}" --data "$GITSTORE_DATA") || {
		echo "gs_token: 'gitstore token create --user $user ${args[*]}' failed" >&2
		return 1
	}
	_gs_check_token "$tok" gs_token || return 1
	printf '%s\n' "$tok"
}

# gs_url_with_token TOKEN NS/REPO
gs_url_with_token () {
	local repo
	test $# = 2 || BUG "usage: gs_url_with_token TOKEN NS/REPO"
	_gs_need_server gs_url_with_token || return 1
	case $2 in
	*.git) repo=$2 ;;
	*) repo=$2.git ;;
	esac
	printf 'http://x:%s@127.0.0.1:%s/%s\n' "$1" "$GITSTORE_PORT" "$repo"
}

# gs_events [ARGS...]: the event log as NDJSON, read with the admin token.
gs_events () {
	local tok
	_gs_need_server gs_events || return 1
	tok=$(gs_admin_token) || return 1
	gitstore events --server "$GITSTORE_URL" --token "$tok" "$@"
}

# check_cloudevents FILE: every line of FILE is a CloudEvent that validates
# against $SHARED/conformance/cloudevents-1.0.schema.json (and the
# CloudEvents 1.0 naming/typing rules); an empty file fails.
check_cloudevents () {
	local schema="$SHARED/conformance/cloudevents-1.0.schema.json"
	test $# = 1 || BUG "usage: check_cloudevents FILE"
	if ! test -f "$schema"
	then
		echo "check_cloudevents: $schema not found (set GITSTORE_SHARED)" >&2
		return 1
	fi
	/usr/bin/python3 "$TEST_LIB_DIR/check_cloudevents.py" --schema "$schema" "$1"
}

# http_raw HOST PORT FILE: send FILE's bytes over a TCP connection and print
# everything the server sends back until it closes the connection.  Gives
# up after $HTTP_RAW_TIMEOUT (10) seconds with status 124, having printed
# what arrived.  Ask for `Connection: close` when the request is valid.
http_raw () {
	test $# = 3 || BUG "usage: http_raw HOST PORT FILE"
	if test "$3" != - && ! test -r "$3"
	then
		echo "http_raw: cannot read $3" >&2
		return 1
	fi
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout "${HTTP_RAW_TIMEOUT:-10}" bash -c '
		exec 9<>"/dev/tcp/$1/$2" || exit 2
		cat -- "$3" >&9 2>/dev/null
		cat <&9
	' http_raw "$1" "$2" "$3" 5>&- 7>&-
}

# ev_check FILE NAME EXPR: FILE (NDJSON events) has at least one event of
# taxonomy NAME (e.g. branch-created) and EXPR (a jq boolean over one
# event) holds for every such event. Prints the events on failure.
# (jq 1.6's -e looks only at the last input, so slurp instead.)
ev_check () {
	test $# = 3 || BUG "usage: ev_check FILE NAME EXPR"
	if ! jq -s -e --arg t "dev.gitstore.$2.v1" \
		"[.[] | select(.type == \$t)] | length > 0 and all(.[]; $3)" "$1" >/dev/null
	then
		echo "ev_check: no $2 event in $1 satisfies: $3" >&2
		jq -c --arg t "dev.gitstore.$2.v1" 'select(.type == $t)' "$1" >&2
		return 1
	fi
}

# ev_types FILE: the taxonomy names of FILE's events, one per line.
ev_types () {
	jq -r .type "$1" | sed 's/^dev\.gitstore\.//; s/\.v1$//'
}

# ev_head: the highest logseq so far (0 if none).
ev_head () {
	gs_events | jq -s 'map(.logseq) | max // 0'
}
