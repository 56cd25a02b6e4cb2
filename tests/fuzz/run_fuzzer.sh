#!/usr/bin/env bash
# Runs one libFuzzer binary for a while over its corpora (ctest's fuzz_<name> and
# tools/fuzz.sh both call this).
#   run_fuzzer.sh BINARY WORK_DIR ARTIFACT_DIR SECONDS SEED_DIR...
# WORK_DIR receives the inputs that found new coverage (first corpus: libFuzzer writes there);
# seed directories are only read. A crash, leak or timeout leaves its input in ARTIFACT_DIR and
# exits non-zero.
set -euo pipefail
bin=$1 work=$2 artifacts=$3 seconds=$4
shift 4
mkdir -p "$work" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# Seed directories that do not exist (a target whose seeds all live in shared test data) are
# left out: libFuzzer stops at a missing directory.
seeds=()
for d in "$@"; do [[ -d $d ]] && seeds+=("$d"); done
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work" "${seeds[@]}"
