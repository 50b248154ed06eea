#!/usr/bin/env bash
# scripts/lib.sh: run_filtered, which scripts/fuzz runs the fuzzer through, returns the
# command's status whatever the filter keeps (a crashing fuzzer must fail scripts/test).
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$(run_filtered "^==" sh -c 'echo "==42==ERROR: AddressSanitizer"; echo noise; exit 77'); status=$?
[[ $status -eq 77 ]] || fail "a crashing command's status 77 became $status"
[[ $out == "==42==ERROR: AddressSanitizer" ]] || fail "the filter kept: $out"
run_filtered "nothing matches" sh -c 'echo noise; exit 3' >/dev/null; status=$?
[[ $status -eq 3 ]] || fail "with no line kept, status 3 became $status"
run_filtered "^ok" sh -c 'echo ok' >/dev/null || fail "a command that succeeded failed"
echo "run_filtered: statuses kept"
