# scripts/bench/common.sh -- shared by scripts/bench.sh and the parts it
# sources (scripts/bench/{lifecycle,delivery,relay}.sh), which also run
# alone. Sourced, not executed (POSIX sh).
#
#   bench_tmp NAME       temp directory $TMP (gitstore-NAME.*), removed on
#                        exit with every process group start_bg started
#                        ($BENCH_KEEP=1 keeps it); an isolated Git
#                        environment (no user/system config, no proxies).
#   bench_setup PREFIX   bench_tmp bench-PREFIX, then a private copy of $BIN
#                        and gitstore-hook in $TMP/bin ($BIN then points
#                        at it). Needs $BIN and $PY.
#   bench_standalone PREFIX  what a sourced part needs when run alone
#                        (after cd to the source root): ROOT, BIN, PY, set
#                        -u, bench_setup PREFIX.
#   start_bg NAME LOG CMD...  CMD in its own session; sets $bg_pid.
#   bench_start_daemon NAME LOG ARGS...  `$BIN serve --listen 127.0.0.1:0
#                        ARGS...` via start_bg, waits for its ready line;
#                        sets $bd_pid (the session), $bd_daemon (the
#                        gitstore process, for /proc; 0 if not found) and
#                        $bd_port; fails with the log's tail otherwise.
#   bench_table FILE...  one Markdown table from TSV files: the first
#                        file's first line (a "# ..." title) and its
#                        column header, then every file's rows.
#   bench_emit_table FILE  when scripts/bench.sh collects ($BENCH_TABLES
#                        set), adds FILE to its one table; alone, prints it.

say () { printf '%s: %s\n' "${SAY_PREFIX:-bench}" "$*" >&2; }
fail () { say "error: $*"; exit 1; }

# shellcheck disable=SC2317 # called by the EXIT trap
bench_cleanup () {
	for c_pid in $PIDS; do
		kill -TERM -- "-$c_pid" 2>/dev/null || kill -TERM "$c_pid" 2>/dev/null
	done
	for c_pid in $PIDS; do
		wait "$c_pid" 2>/dev/null
	done
	if test -n "${BENCH_KEEP-}"; then
		say "kept $TMP"
	else
		rm -rf -- "$TMP"
	fi
}

start_bg () {
	bg_log=$2
	shift 2
	setsid "$@" </dev/null >"$bg_log" 2>&1 &
	bg_pid=$!
	PIDS="$PIDS $bg_pid"
}

bench_tmp () {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitstore-$1.XXXXXX") || fail "mktemp failed"
	PIDS=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# a reader that goes away (| head) must not skip the cleanup
	trap 'exit 141' PIPE
	for v in $(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p'); do
		unset "$v"
	done
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	export HOME="$TMP/home" LANG=C LC_ALL=C TZ=UTC
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$TMP/gitconfig" GIT_TERMINAL_PROMPT=0
	mkdir -p "$HOME"
	printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n' >"$GIT_CONFIG_GLOBAL"
}

bench_setup () {
	test -x "$BIN" || fail "$BIN is not executable (run make)"
	test -x "$PY" || fail "$PY not found"
	command -v git >/dev/null || fail "git not found"
	bench_tmp "bench-$1"
	# a private copy: the hooks exec gitstore-hook next to the daemon's
	# binary, and a rebuild of build/ during the run must not change it
	{ mkdir -p "$TMP/bin" && cp -- "$BIN" "$TMP/bin/gitstore" &&
		cp -- "$(dirname "$BIN")/gitstore-hook" "$TMP/bin/gitstore-hook"; } || fail "cannot copy $BIN and gitstore-hook"
	BIN=$TMP/bin/gitstore
}

bench_standalone () {
	set -u
	ROOT=$PWD
	BIN=${GITSTORE_BIN:-$ROOT/build/gitstore}
	PY=/usr/bin/python3
	# shellcheck disable=SC2034 # read by the parts' detail lines
	T0=
	bench_setup "$1"
}

bench_start_daemon () {
	bd_name=$1
	bd_log=$2
	shift 2
	: >"$bd_log" # no ready line of an earlier daemon on the same log
	start_bg "$bd_name" "$bd_log" "$BIN" serve --listen 127.0.0.1:0 "$@"
	bd_pid=$bg_pid
	bd_port=
	for _ in $(seq 300); do
		bd_port=$(sed -n 's/.*gitstore: ready listen=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$bd_log" | head -n 1)
		test -n "$bd_port" && break
		kill -0 "$bd_pid" 2>/dev/null || break
		sleep 0.1
	done
	if test -z "$bd_port"; then
		tail -n 20 "$bd_log" >&2
		fail "$bd_name did not print its ready line"
	fi
	# setsid normally execs in place; if it forked, the daemon is its child
	bd_daemon=$bd_pid
	if test "$(cat "/proc/$bd_pid/comm" 2>/dev/null)" != gitstore; then
		bd_daemon=$(cat /proc/"$bd_pid"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	fi
	test "$(cat "/proc/$bd_daemon/comm" 2>/dev/null)" = gitstore || bd_daemon=0
}

bench_table () {
	head -n 1 "$1"
	for t in "$@"; do
		if test "$t" = "$1"; then tail -n +2 "$t"; else tail -n +3 "$t"; fi
	done | awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR }
		END {
			for (r = 1; r <= n; r++) {
				line = "| "
				for (i = 1; i <= 4; i++) line = line sprintf("%-" w[i] "s | ", c[r, i])
				sub(/ $/, "", line); print line
				if (r == 1) {
					line = "|"
					for (i = 1; i <= 4; i++) { s = ""; for (j = 0; j < w[i] + 2; j++) s = s "-"; line = line s "|" }
					print line
				}
			}
		}'
}

bench_emit_table () {
	if test -n "${BENCH_TABLES-}"; then
		BENCH_TABLES="$BENCH_TABLES $1"
	else
		echo
		bench_table "$1"
	fi
}
