#!/usr/bin/env bash
# Installs every dependency, builds, and runs the whole test suite (what CI runs).
#   tools/test.sh                      # RelWithDebInfo build in build/
#   tools/test.sh --sanitize=address   # ASan+UBSan build in build-asan/
#   tools/test.sh --sanitize=thread    # TSan build in build-tsan/
#   tools/test.sh -- -R netfilter      # extra arguments after -- go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

preset=default
ctest_args=()
while (($#)); do
  case $1 in
    --sanitize=address) preset=asan ;;
    --sanitize=thread) preset=tsan ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

./tools/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
dir=$(case $preset in default) echo build ;; *) echo "build-$preset" ;; esac)

exclude=slow
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: not root: privileged tests (network namespaces) will be skipped" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
ctest --test-dir "$dir" --output-on-failure -j 2 -LE "$exclude" "${ctest_args[@]}"
