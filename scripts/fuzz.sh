#!/bin/sh
# `make fuzz`: builds each tests/fuzz/fuzz_*.c with clang's libFuzzer and
# ASan+UBSan, then runs it for FUZZ_SECONDS (default 60) from its seed
# corpus in tests/fuzz/corpus/<name>/ (new inputs go to a scratch copy).
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
if ! command -v clang >/dev/null; then
	echo "fuzz: installing clang (libFuzzer)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
fi
OUT=build-fuzz
mkdir -p "$OUT"
PKG="libgit2 libmicrohttpd jansson sqlite3 libcrypto libcurl zlib yaml-0.1"
SRCS=$(find src -name '*.c' ! -name main.c ! -path 'src/cli/*' | sort)
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	corpus=tests/fuzz/corpus/${name#fuzz_}
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc $(pkg-config --cflags $PKG) \
		-fsanitize=fuzzer,address,undefined -o "$OUT/$name" "$f" $SRCS $(pkg-config --libs $PKG) -lpthread
	work="$OUT/corpus-${name#fuzz_}"
	mkdir -p "$work"
	cp -n "$corpus"/* "$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${SECS}s"
	"$OUT/$name" -max_total_time="$SECS" -max_len=65536 "$work" "$corpus"
done
