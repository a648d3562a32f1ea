# scripts/bench/common.sh -- shared by scripts/bench.sh and the parts it
# sources (scripts/bench/{lifecycle,delivery,relay}.sh), which also run
# alone. Sourced, not executed (POSIX sh).
#
#   bench_setup PREFIX   temp directory $TMP (gitstore-bench-PREFIX.*),
#                        cleanup of started process groups on exit, an
#                        isolated Git environment, a private copy of $BIN
#                        and gitstore-hook in $TMP/bin ($BIN then points
#                        at it). Needs $BIN.
#   start_bg NAME LOG CMD...  CMD in its own session; sets $bg_pid.
#   bench_table FILE...  one Markdown table from TSV files: the first
#                        file's first line (a "# ..." title) and its
#                        column header, then every file's rows.
#   bench_emit_table FILE  when scripts/bench.sh collects ($BENCH_TABLES
#                        set), adds FILE to its one table; alone, prints it.

say () { printf 'bench: %s\n' "$*" >&2; }
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

bench_setup () {
	test -x "$BIN" || fail "$BIN is not executable (run make)"
	test -x "$PY" || fail "$PY not found"
	command -v git >/dev/null || fail "git not found"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitstore-bench-$1.XXXXXX") || fail "mktemp failed"
	PIDS=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# an isolated Git environment (no user/system config, no proxies)
	for v in $(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p'); do
		unset "$v"
	done
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	export HOME="$TMP/home" LANG=C LC_ALL=C TZ=UTC
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$TMP/gitconfig" GIT_TERMINAL_PROMPT=0
	mkdir -p "$HOME"
	printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n' >"$GIT_CONFIG_GLOBAL"
	# a private copy: the hooks exec gitstore-hook next to the daemon's
	# binary, and a rebuild of build/ during the run must not change it
	{ mkdir -p "$TMP/bin" && cp -- "$BIN" "$TMP/bin/gitstore" &&
		cp -- "$(dirname "$BIN")/gitstore-hook" "$TMP/bin/gitstore-hook"; } || fail "cannot copy $BIN and gitstore-hook"
	BIN=$TMP/bin/gitstore
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
