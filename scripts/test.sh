#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting and layering, builds with
# -Werror, runs every test (each suite starts its own redis-server and server processes), then
# does the same under AddressSanitizer + UndefinedBehaviorSanitizer. The web client's tests (unit
# tests in Node.js, then Playwright driving Debian's Chromium against real servers) run once,
# against the first build.
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    one build, no sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ ${1:-} == --quick ]] && quick=1

scripts/install-deps.sh --browser-tests
scripts/check-style.sh

jobs=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1

run_suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCONFIDE_WERROR=ON "$@"
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest -j "$jobs" --timeout 600)
}

start=$(date +%s)
run_suite build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The web client: build and unit tests, then the browser tests against build/ci's server.
scripts/build-web.sh --tests
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund &&
  CONFIDE_SERVER="$PWD/../../build/ci/server/app/confide-server" npx playwright test)
if ((quick == 0)); then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DCONFIDE_SANITIZE=ON
fi
echo "test.sh: all tests passed in $(($(date +%s) - start)) s"
