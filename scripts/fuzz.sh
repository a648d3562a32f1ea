#!/bin/sh
# `make fuzz` (and, briefly, `make check`): builds each tests/fuzz/fuzz_*.c
# with clang's libFuzzer and ASan+UBSan, then runs it for FUZZ_SECONDS
# (default 60) from its seed corpus in tests/fuzz/corpus/<name>/ (new
# inputs go to a scratch copy under build-fuzz/). FUZZ_TARGETS="a b"
# runs only those targets. A crash fails the run
# and leaves the reproducer in build-fuzz/.
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
if ! command -v clang >/dev/null; then
	echo "fuzz: installing clang (libFuzzer)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
fi
OUT=build-fuzz
mkdir -p "$OUT/obj"
PKG="libgit2 libmicrohttpd jansson sqlite3 libcrypto libcurl zlib yaml-0.1 libpcre2-8 libnats"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -Isrc $(pkg-config --cflags $PKG) -fsanitize=fuzzer-no-link,address,undefined"
# the library once, then one link per target. Objects are reused while
# their source is older; a changed header (struct layouts!) rebuilds all.
stamp="$OUT/obj/.headers-stamp"
if [ ! -f "$stamp" ] || [ -n "$(find src -name '*.h' -newer "$stamp" | head -n 1)" ]; then
	rm -f "$OUT"/obj/*.o
fi
objs=""
for src in $(find src -name '*.c' ! -name main.c ! -name hookmain.c ! -path 'src/cli/*' | sort); do
	obj="$OUT/obj/$(echo "$src" | tr '/' '_').o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		clang $CFLAGS -c -o "$obj" "$src"
	fi
	objs="$objs $obj"
done
touch "$stamp"
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	# FUZZ_TARGETS="catalog httpreq": only those (default: every target)
	case " ${FUZZ_TARGETS:-${name#fuzz_}} " in *" ${name#fuzz_} "*) ;; *) continue ;; esac
	corpus=tests/fuzz/corpus/${name#fuzz_}
	clang $CFLAGS -fsanitize=fuzzer -o "$OUT/$name" "$f" $objs $(pkg-config --libs $PKG) -lpthread
	work="$OUT/corpus-${name#fuzz_}"
	mkdir -p "$work"
	cp -n "$corpus"/* "$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${SECS}s"
	(cd "$OUT" && "./$name" -max_total_time="$SECS" -max_len=65536 -print_final_stats=0 \
		"corpus-${name#fuzz_}" "../$corpus") >"$OUT/$name.log" 2>&1 || {
		tail -40 "$OUT/$name.log"
		echo "fuzz: $name FAILED (reproducer in $OUT/)"
		exit 1
	}
	grep -E "^Done|#[0-9]+.*DONE" "$OUT/$name.log" | tail -1
done
echo "fuzz: all targets ran ${SECS}s without a finding"
