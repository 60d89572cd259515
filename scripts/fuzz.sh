#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) in build/fuzz and runs each for a bounded
# time from its seed corpus (tests/fuzz/corpus/<target>, read only: what the fuzzer finds goes to
# build/fuzz/corpus/<target>). A crash, a sanitizer report, a failed check, a timeout or running
# out of memory fails the script and leaves the input under build/fuzz/artifacts/.
#
#   scripts/fuzz.sh                    every target, CONFIDE_FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh frame_fuzz 600     one target, ten minutes
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(frame_fuzz token_fuzz)
seconds=${CONFIDE_FUZZ_SECONDS:-60}
if (($# > 0)); then
  targets=("$1")
  seconds=${2:-$seconds}
fi

dir=build/fuzz
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCONFIDE_FUZZ=ON -DCONFIDE_BUILD_TESTS=OFF -DCONFIDE_WERROR=ON >/dev/null
cmake --build "$dir" -j "${CONFIDE_JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  work="$dir/corpus/$name"
  mkdir -p "$work" "$dir/artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$dir/artifacts/$name-")
  case $name in
    frame) args+=(-max_len=65536) ;;  # the server's default --max-frame-bytes
    token) args+=(-max_len=8193 -dict=tests/fuzz/token.dict) ;;
  esac
  echo "fuzz.sh: $t for $seconds s"
  if ! "$dir/tests/fuzz/$t" "${args[@]}" "$work" "tests/fuzz/corpus/$name" >"$dir/$name.log" 2>&1; then
    tail -n 60 "$dir/$name.log" >&2
    echo "fuzz.sh: $t FAILED; the input is in $dir/artifacts/ (full log: $dir/$name.log)" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$dir/$name.log" |
    sed "s/^/fuzz.sh: $t /"
done
