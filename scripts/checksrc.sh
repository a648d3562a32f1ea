#!/bin/sh
# Mechanical style checks (style-anchors G10, G13): banned functions, and
# printf-family output only from src/cli, src/log and main.c.
set -u
cd "$(dirname "$0")/.."
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|strerror|gmtime|localtime|system|popen)[[:space:]]*\('
if grep -nE "$banned" $(find src -name '*.[ch]') | grep -v 'checksrc:allow'; then
	echo "checksrc: banned function used (see above)"; status=1
fi
out=$(grep -nE '\b(printf|fprintf|puts|fputs)[[:space:]]*\(' $(find src -name '*.c' ! -path 'src/cli/*' ! -path 'src/log/*' ! -name main.c) || true)
if [ -n "$out" ]; then
	echo "$out"; echo "checksrc: output outside src/cli and src/log"; status=1
fi
# only store/ and events/ include sqlite3.h; only git/ includes git2.h
if grep -ln 'sqlite3.h' $(find src -name '*.[ch]') | grep -vE '^src/(store|events)/'; then
	echo "checksrc: sqlite3.h outside store/ and events/"; status=1
fi
if grep -ln '<git2.h>' $(find src -name '*.[ch]') | grep -vE '^src/git/'; then
	echo "checksrc: git2.h outside git/"; status=1
fi
[ $status -eq 0 ] && echo "checksrc: ok"
exit $status
