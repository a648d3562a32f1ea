#!/bin/sh
# Every header compiles on its own (libgit2's headertest).
set -u
cd "$(dirname "$0")/.."
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(pkg-config --cflags libgit2 libmicrohttpd jansson sqlite3 yaml-0.1)"
tmp=$(mktemp -d)
status=0
for h in $(find src -name '*.h' | sort); do
	printf '#include "%s"\n' "${h#src/}" >"$tmp/t.c"
	if ! cc $CFLAGS -fsyntax-only "$tmp/t.c"; then
		echo "check-headers: $h does not compile alone"; status=1
	fi
done
rm -rf "$tmp"
[ $status -eq 0 ] && echo "check-headers: ok"
exit $status
