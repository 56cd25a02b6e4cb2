#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`, clang) and runs them.
#   tools/fuzz.sh                      # every target for 60 s each (what `ctest -L fuzz` does)
#   tools/fuzz.sh all 3600             # the long run: every target for an hour each
#   tools/fuzz.sh bird_reply 600       # one target for 10 minutes
#   tools/fuzz.sh --list               # the targets
#   tools/fuzz.sh -j 2 all 3600        # two targets at a time
# Corpora: tests/fuzz/corpus/<target>/ (seeds, kept in git) plus build-fuzz/tests/fuzz/work/
# <target>/ (inputs found on earlier runs, kept between runs). A crash leaves its input in
# build-fuzz/tests/fuzz/artifacts/<target>/ and the run exits non-zero; reproduce it with
#   build-fuzz/tests/fuzz/fuzz_<target> <crash file>
# then fix it and keep the input as a unit test or in the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=1
while (($#)); do
  case $1 in
    -j) jobs=$2; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
target=${1:-all}
seconds=${2:-60}

if [[ ! -d build-fuzz ]] || ! grep -q NODEGUARD_FUZZERS:BOOL=ON build-fuzz/CMakeCache.txt 2>/dev/null; then
  cmake --preset fuzz >/dev/null
fi
targets=$(sed -n 's/^ng_add_fuzzer(\([a-z_]*\) .*/\1/p' tests/fuzz/CMakeLists.txt)
if [[ ${list:-0} == 1 ]]; then echo "$targets"; exit 0; fi
if [[ $target != all ]]; then
  grep -qx "$target" <<<"$targets" || { echo "fuzz.sh: no target $target (--list)" >&2; exit 2; }
  targets=$target
fi
cmake --build --preset fuzz -j "$(nproc)" --target $(sed 's/^/fuzz_/' <<<"$targets")
NODEGUARD_FUZZ_SECONDS=$seconds ctest --test-dir build-fuzz -L fuzz --output-on-failure -j "$jobs" \
  -R "^fuzz_($(paste -sd'|' <<<"$targets"))\$"
