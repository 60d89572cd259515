#!/usr/bin/env bash
# Confide benchmarks: one command.
#
#   bench/run.sh <scenario>...      scenarios: latency throughput connections backlog metrics
#                                   storm sealing w w-max cluster w-replicas, or all
#
# Builds a release build if needed (build/release, -DCMAKE_BUILD_TYPE=Release), then for each
# scenario and each appendfsync setting starts its own redis-server (temporary directory, free
# port, appendonly yes) and confide-server, runs confide-loadgen, measures the server's and
# Redis's CPU time and peak RSS from /proc, and regenerates the results section of
# docs/benchmarks.md. Loopback only; every step is bounded in time.
#
# Environment:
#   BENCH_FSYNC="everysec always"   the appendfsync settings to run (default: both)
#   BENCH_QUICK=1                   shorter runs (a smoke test of the harness, not a benchmark)
#   BENCH_BUILD_DIR=build/release   where to build
#   BENCH_NO_DOCS=1                 do not touch docs/benchmarks.md
#   BENCH_QUIET_WAIT=600            seconds to wait, before each run, for the machine to be idle
#   BENCH_METRICS_OFF_BUILD=dir     metrics: also run a server built with -DCONFIDE_METRICS=OFF
#   BENCH_SKIP_OWN_ECHO=0|1         w, w-max: the load generator's --skip-own-echo (default 1)
#   BENCH_CONNECTIONS=19500         connections: how many idle connections to hold
#   BENCH_ROUNDS=2                  cluster, w-replicas: rounds of alternated variants
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
for s in "$@"; do
  case $s in
    latency | throughput | connections | backlog | metrics | storm | sealing | w | w-max | cluster | w-replicas | all) ;;
    *)
      echo "bench/run.sh: unknown scenario '$s' (latency throughput connections backlog metrics storm sealing w w-max cluster w-replicas all)" >&2
      exit 2
      ;;
  esac
done

build=${BENCH_BUILD_DIR:-build/release}
for tool in cmake ninja redis-server; do
  command -v "$tool" >/dev/null || {
    echo "bench/run.sh: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

# Release build of the two binaries only; a no-op when they are up to date.
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONFIDE_BUILD_TESTS=OFF
fi
cmake --build "$build" --target confide-server confide-loadgen

exec /usr/bin/python3 bench/bench.py --build-dir "$build" "$@"
