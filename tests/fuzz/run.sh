#!/bin/bash
# run.sh SECONDS - run each fuzz target for SECONDS over its checked-in
# corpus (new inputs go to a scratch directory, not into the repository)
# and report in TAP. A crash, leak or sanitizer report fails.
set -u
cd "$(dirname "$0")/../.."
seconds=${1:-60}
n=0 failed=0
for target in build/fuzz/fuzz_*; do
    name=$(basename "$target")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    scratch=$(mktemp -d)
    n=$((n + 1))
    log=$(mktemp)
    if "$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$scratch/" "$scratch" "$corpus" > "$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*')
        echo "ok $n - $name: ${runs:-?} runs in ${seconds}s, no crash"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name crashed; reproducer in $scratch"
        grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20 | sed 's/^/# /'
        scratch=""
    fi
    rm -f "$log"
    [ -n "$scratch" ] && rm -rf "$scratch"
done
echo "1..$n"
[ "$failed" = 0 ]
