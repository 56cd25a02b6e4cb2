#!/usr/bin/env bash
# Installs every dependency, builds, and runs the test suite. With no option it runs what CI
# runs (.ci/run), four stages:
#   1. RelWithDebInfo build in build/, every test not labelled slow or pod (unit, integration,
#      privileged ones in network namespaces when root);
#   2. pod: the container image from stage 1's .deb and the shipped DaemonSet's pod under
#      podman, against real CNI pods, firewalld, BIRD and logs (ctest label pod; alone:
#      tools/e2e-pod.sh);
#   3. ASan+UBSan build in build-asan/, the same tests as stage 1 except the few that judge the
#      product rather than the code (fault-injection timing, the lab, packaging and manifests);
#   4. every libFuzzer target for NODEGUARD_FUZZ_SECONDS (default 30) each, build-fuzz/.
# Options:
#   tools/test.sh --quick              # stage 1 only (what a developer runs before a commit)
#   tools/test.sh --pod                # stages 1 and 2
#   tools/test.sh --sanitize=address   # ASan+UBSan build only, all its tests
#   tools/test.sh --sanitize=thread    # TSan build in build-tsan/ (the stage-3 selection)
#   tools/test.sh --fuzz-seconds N     # stage 4 with N seconds per target (0 skips it)
#   tools/test.sh -- -R netfilter      # extra arguments after -- go to every ctest run
# Long runs: tools/fuzz.sh all 3600, tools/reliability.sh --slow, tools/soak.sh --minutes 60.
set -euo pipefail
cd "$(dirname "$0")/.."

stages=(default pod asan fuzz)
fuzz_seconds=${NODEGUARD_FUZZ_SECONDS:-30}
ctest_args=()
while (($#)); do
  case $1 in
    --quick) stages=(default) ;;
    --pod) stages=(default pod) ;;
    --sanitize=address) stages=(asan-all) ;;
    --sanitize=thread) stages=(tsan) ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    --fuzz-seconds=*) fuzz_seconds=${1#*=} ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

./tools/install-deps.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: not root: privileged tests (network namespaces) will be skipped" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# Leaks allocated inside libcrypto carry no caller frame: see tests/lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Debian's gRPC/abseil/protobuf are not TSan-built: see tests/tsan.supp for what that hides.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$PWD/tests/tsan.supp}

# Tests that measure the product under real timing or exercise non-C++ artefacts; under a
# sanitizer they only take longer and prove nothing more.
not_under_sanitizer='^(reliability_|lab$|deb_package|manifests_|alert_metrics|docs_in_sync)'
# and under TSan the 50-agent fleet: 50 TSan agents on 2 cores miss its 3 s client timeout.
not_under_tsan='^(reliability_|lab$|deb_package|manifests_|alert_metrics|docs_in_sync|api_fleet$)'

status=0
run_stage() { # NAME PRESET [ctest args...]
  local name=$1 preset=$2 dir=build
  shift 2
  [[ $preset == default ]] || dir=build-$preset
  echo "=== test.sh: stage $name ($dir)" >&2
  local t0=$SECONDS
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  ctest --test-dir "$dir" --output-on-failure -j 2 -LE 'slow|pod' "$@" "${ctest_args[@]}" || status=1
  echo "=== test.sh: stage $name took $((SECONDS - t0)) s" >&2
}

for s in "${stages[@]}"; do
  case $s in
    default) run_stage default default ;;
    pod)
      # One test, alone: it builds an image and runs a pod, and must not share the 2 cores
      # with timing-sensitive tests.
      echo "=== test.sh: stage pod (build)" >&2
      t0=$SECONDS
      ctest --test-dir build --output-on-failure -L pod "${ctest_args[@]}" || status=1
      echo "=== test.sh: stage pod took $((SECONDS - t0)) s" >&2
      ;;
    asan) run_stage asan asan -E "$not_under_sanitizer" ;;
    asan-all) run_stage asan asan ;;
    tsan) run_stage tsan tsan -E "$not_under_tsan" ;;
    fuzz)
      if ((fuzz_seconds > 0)); then
        echo "=== test.sh: stage fuzz (${fuzz_seconds} s per target)" >&2
        t0=$SECONDS
        ./tools/fuzz.sh -j 2 all "$fuzz_seconds" || status=1
        echo "=== test.sh: stage fuzz took $((SECONDS - t0)) s" >&2
      fi
      ;;
  esac
done
exit $status
