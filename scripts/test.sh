#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting and layering, then builds and
# runs every test (each suite starts its own redis-server and server processes) in three passes,
# each a preset of CMakePresets.json built in build/<preset>:
#   dev    g++, -Werror; then the web client's tests (unit tests in Node.js, then Playwright
#          driving Debian's Chromium against real servers of this build)
#   asan   g++, AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan   clang 14, ThreadSanitizer; every server under test runs 3 I/O threads
# then libFuzzer on the frame decoder and the token verifier (scripts/fuzz.sh, 60 s each).
# clang-tidy on the whole tree (scripts/lint.sh) needs no build: it runs at nice 19 beside the
# passes from the start, on the CPU they leave idle, and the command waits for it at the end.
# Prints how long each step took.
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the dev pass and the web tests, and clang-tidy on the files
#                              changed against main
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ ${1:-} == --quick ]] && quick=1

jobs=$(nproc)
start=$(date +%s)
timings=()
report() {
  local status=$?
  rm -f "$cpu_file"
  stop_background_lint
  if ((${#timings[@]} > 0)); then
    echo "test.sh: time per step"
    printf '  %s\n' "${timings[@]}"
  fi
  if ((status == 0)); then
    echo "test.sh: all passed in $(($(date +%s) - start)) s"
  else
    echo "test.sh: FAILED after $(($(date +%s) - start)) s" >&2
  fi
}
trap report EXIT

# Sets `cpu` to the CPU seconds (user + system) used so far by the processes this script has
# waited for. `times` runs in this shell, not in a $(...) subshell, whose children's times start
# from zero.
cpu_file=$(mktemp)
read_cpu() {
  times >"$cpu_file"
  cpu=$(awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$cpu_file")
}

# step NAME COMMAND...: runs the command and records its wall-clock and CPU time.
step() {
  local name=$1 t0 c0
  shift
  t0=$(date +%s)
  read_cpu
  c0=$cpu
  "$@"
  read_cpu
  timings+=("$(printf '%-20s %5d s wall %6d s CPU' "$name" $(($(date +%s) - t0)) $((cpu - c0)))")
}

build() {
  cmake --preset "$1"
  cmake --build --preset "$1" -j "$jobs"
}

run_pass() {
  step "$1: build" build "$1"
  step "$1: tests" ctest --preset "$1" -j "$jobs"
}

# The web client: build and unit tests, then the browser tests against build/dev's server.
web_tests() {
  scripts/build-web.sh --tests
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund &&
    CONFIDE_SERVER="$PWD/../../build/dev/server/app/confide-server" npx playwright test)
}

# clang-tidy in the background. Job control (set -m) gives it a process group of its own (its
# pid), so a failing run can stop it and every clang-tidy under it. Not setsid: a new session is
# a new scheduler autogroup (Debian's kernel has them on), which gets an equal share of the CPU
# whatever its nice value (measured: the dev build took 1,076 s instead of 472). Its output goes
# to a file, shown when it ends.
lint_pid="" lint_dir=""
start_background_lint() {
  lint_dir=$(mktemp -d)
  set -m
  nice -n 19 bash -c 't0=$(date +%s); scripts/lint.sh -j "$1" >"$2/log" 2>&1; rc=$?
                      echo $(($(date +%s) - t0)) >"$2/wall"; exit $rc' _ "$jobs" "$lint_dir" &
  lint_pid=$!
  set +m
}
# Waits for it (its CPU time counts once waited for), shows its output, fails if it failed.
wait_background_lint() {
  local rc=0 c0
  read_cpu
  c0=$cpu
  wait "$lint_pid" || rc=$?
  lint_pid=""
  read_cpu
  cat "$lint_dir/log"
  timings+=("$(printf '%-20s %5d s wall %6d s CPU  (at nice 19, beside the passes)' "lint (whole tree)" \
    "$(cat "$lint_dir/wall" 2>/dev/null || echo 0)" $((cpu - c0)))")
  rm -rf "$lint_dir"
  return $rc
}
# The browser tests run Chromium, which puts itself in sessions (autogroups) of its own, where
# nice 19 does not hold the lint back: the lint waits, stopped, while they run (measured: with it
# running, Playwright actions took 0.5 s each and a test went past its 90 s).
pause_background_lint() { [[ -z $lint_pid ]] || kill -STOP -- "-$lint_pid" 2>/dev/null || true; }
resume_background_lint() { [[ -z $lint_pid ]] || kill -CONT -- "-$lint_pid" 2>/dev/null || true; }
stop_background_lint() {
  if [[ -n ${lint_pid:-} ]]; then
    kill -- "-$lint_pid" 2>/dev/null || true
    kill -CONT -- "-$lint_pid" 2>/dev/null || true
    wait "$lint_pid" 2>/dev/null || true
  fi
  [[ -z ${lint_dir:-} ]] || rm -rf "$lint_dir"
}

step "install-deps" scripts/install-deps.sh --browser-tests
step "check-style" scripts/check-style.sh
((quick == 1)) || start_background_lint
run_pass dev
pause_background_lint
step "web: tests" web_tests
resume_background_lint
if ((quick == 0)); then
  run_pass asan
  run_pass tsan
  # libFuzzer on the frame decoder and the token verifier, CONFIDE_FUZZ_SECONDS (60) each, in a
  # clang build of their layers only (scripts/fuzz.sh, tests/fuzz/README.md).
  step "fuzz" env CONFIDE_JOBS="$jobs" scripts/fuzz.sh
  wait_background_lint
elif git rev-parse -q --verify main >/dev/null; then
  step "lint (changed)" scripts/lint.sh -j "$jobs" --changed main
fi
