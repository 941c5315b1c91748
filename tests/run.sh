#!/bin/bash
# run.sh - run every test group and end with "N passed, N failed".
#
#   tests/run.sh [GROUP...]     groups: unit fuzz host node browser (default: all)
#
# unit: the C unit tests, host binaries in build/tests built with ASan and
# UBSan, each printing TAP. fuzz: each libFuzzer target for FUZZ_SECONDS
# (default 60) over its checked-in corpus. host, node, browser: node:test
# files run with the TAP
# reporter. Totals are summed from "# pass"/"# fail" lines (node) and from
# "ok"/"not ok" lines (unit). Exits non-zero when any test failed or a group
# could not run.
set -u
cd "$(dirname "$0")/.."
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(unit fuzz host node browser)
passed=0 failed=0 broken=0
log=$(mktemp)
# the wasm runtime's trust store (highest index serial per key) for this
# run only: the tests' keys are made per run, and the user's stays untouched
LARDER_TRUST_DIR=$(mktemp -d)
export LARDER_TRUST_DIR
for g in "${groups[@]}"; do
    echo "== tests/$g"
    if [ "$g" = unit ] || [ "$g" = fuzz ]; then
        if [ "$g" = unit ]; then cmds=(build/tests/test_*); else cmds=("tests/fuzz/run.sh ${FUZZ_SECONDS:-60}"); fi
        for t in "${cmds[@]}"; do
            $t > "$log" 2>&1
            rc=$?
            p=$(grep -c '^ok ' "$log") f=$(grep -c '^not ok ' "$log")
            echo "  $(basename "${t%% *}"): $p passed, $f failed"
            [ "$g" = fuzz ] && grep '^ok ' "$log" | sed 's/^/    /'
            grep -A12 '^not ok ' "$log" | sed 's/^/    /'
            if ! grep -q '^1\.\.' "$log" || { [ "$rc" != 0 ] && [ "$f" = 0 ]; }; then
                echo "  $(basename "${t%% *}") did not complete (exit $rc):"; tail -30 "$log" | sed 's/^/    /'
                f=$((f + 1))
            fi
            passed=$((passed + p)) failed=$((failed + f))
        done
        continue
    fi
    files=(tests/"$g"/*.test.js)
    node --test --test-reporter=tap --test-concurrency=1 "${files[@]}" > "$log" 2>&1
    rc=$?
    # show results, not the whole TAP stream
    grep -E '^(not ok|ok) |^    (not ok|ok) |^# (pass|fail)' "$log" | sed 's/^/  /'
    p=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$log" | tail -1)
    if [ -z "$p" ] || { [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; }; then
        echo "  tests/$g did not complete (exit $rc):"; tail -30 "$log" | sed 's/^/    /'
        broken=$((broken + 1)); f=$(( ${f:-0} + 1 ))
    elif [ "$f" != 0 ]; then
        grep -B2 -A25 '^not ok\|^    not ok' "$log" | head -80 | sed 's/^/    /'
    fi
    passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
done
rm -rf "$log" "$LARDER_TRUST_DIR"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
