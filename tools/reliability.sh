#!/usr/bin/env bash
# Runs the fault-injection tests (tests/integration/reliability, docs/reliability.md) as root.
#   tools/reliability.sh                      # the ones in the default suite (a few minutes)
#   tools/reliability.sh --slow               # plus the full-length ones (label slow)
#   tools/reliability.sh --sanitize=address   # against the ASan+UBSan build (build-asan/)
#   tools/reliability.sh -- -R storm          # extra arguments after -- go to ctest
# The soak is separate: tools/soak.sh --minutes N.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=default slow=0 args=()
while (($#)); do
  case $1 in
    --slow) slow=1 ;;
    --sanitize=address) preset=asan ;;
    --sanitize=thread) preset=tsan ;;
    --) shift; args=("$@"); break ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "reliability.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
dir=$(case $preset in default) echo build ;; *) echo "build-$preset" ;; esac)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
exclude=()
((slow)) || exclude=(-LE slow)
ctest --test-dir "$dir" --output-on-failure -R '^reliability_' "${exclude[@]}" "${args[@]}"
