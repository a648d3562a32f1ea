#!/bin/bash
# scripts/run-one-test.sh TEST: runs one integration script for prove
# (--exec) and keeps a copy of everything it prints (TAP, and the failure
# details prove hides) in $GITSTORE_TEST_OUTPUT/<test>.out, so the first
# run of a failing test can be read, not only a rerun.
set -o pipefail
"$1" 2>&1 | tee "${GITSTORE_TEST_OUTPUT:-/tmp}/$(basename "$1" .sh).out"
