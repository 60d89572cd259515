#!/usr/bin/env bash
# The run command: installs what is missing, builds a release and the web client, starts a Redis
# of its own and one confide-server serving the web client, lists two demo specialists in the
# directory (confide-admin), mints two development tokens (a client and a specialist) and prints
# two URLs to chat from a browser (and how to use the terminal client). Ctrl-C stops everything it started: the server first (it drains), then Redis
# (one SIGTERM: it writes its append-only file and exits).
#
#   scripts/run.sh              build, then run
#   scripts/run.sh --no-build   run what is built already (in CONFIDE_RUN_BUILD_DIR)
#
# Environment (optional):
#   CONFIDE_RUN_PORT        the server's port (default 8080)
#   CONFIDE_RUN_REDIS_PORT  Redis's port (default: 6390 for the default server port, else the
#                           server's port + 10000)
#   CONFIDE_RUN_DIR         where instances keep their data (default build/release/run)
#   CONFIDE_RUN_BUILD_DIR   the CMake build directory (default build/release)
#
# Several instances can run side by side: each server port is an instance with a directory of
# its own, <CONFIDE_RUN_DIR>/<port>/ (Redis's data, both logs), locked while it runs; a second
# run.sh on the same port is refused. The development secret is shared by all instances.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

build_first=1
[[ ${1:-} == --no-build ]] && build_first=0

port=${CONFIDE_RUN_PORT:-8080}
if [[ -n ${CONFIDE_RUN_REDIS_PORT:-} ]]; then
  redis_port=$CONFIDE_RUN_REDIS_PORT
elif [[ $port == 8080 ]]; then
  redis_port=6390
else
  redis_port=$((port + 10000))
fi
build=${CONFIDE_RUN_BUILD_DIR:-build/release}
[[ $build == /* ]] || build=$top/$build
run_root=${CONFIDE_RUN_DIR:-$build/run}
run_dir=$run_root/$port

for p in "$port" "$redis_port"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
    echo "run.sh: '$p' is not a port (1..65535)" >&2
    exit 2
  fi
done

if ((build_first)); then
  scripts/install-deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONFIDE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target confide-server confide-cli confide-admin
  scripts/build-web.sh
fi
server_bin=$build/server/app/confide-server
cli=$build/clients/cli/confide-cli
admin=$build/server/admin/confide-admin
for b in "$server_bin" "$cli" "$admin"; do
  [[ -x $b ]] || { echo "run.sh: $b is not built (run without --no-build)" >&2; exit 1; }
done

mkdir -p "$run_dir/redis"
# One run.sh per instance directory: a second Redis on the same append-only file would destroy
# it. The lock is held until this script exits (the descriptor is inherited by nothing else).
exec 9>"$run_dir/lock"
if ! flock -n 9; then
  echo "run.sh: the instance on port $port is running already (its data: $run_dir); stop it, or" \
    "choose another port with CONFIDE_RUN_PORT" >&2
  exit 1
fi
# Earlier versions kept the one instance's data in <run>/redis: the default port takes it over.
if [[ $port == 8080 && -d $run_root/redis && ! -e $run_dir/redis/appendonlydir ]]; then
  mv "$run_root/redis" "$run_dir/redis.tmp" && rm -rf "$run_dir/redis" && mv "$run_dir/redis.tmp" "$run_dir/redis"
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$redis_port"; do
  if port_in_use "$p"; then
    echo "run.sh: port $p on 127.0.0.1 is in use; choose others with CONFIDE_RUN_PORT /" \
      "CONFIDE_RUN_REDIS_PORT" >&2
    exit 1
  fi
done

# The development secret is made once and kept, so that minted tokens survive a restart.
if [[ ! -s $run_root/dev-secret ]]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run_root/dev-secret")
fi
secret=$(cat "$run_root/dev-secret")

redis_pid=""
server_pid=""
# stop PID NAME SECONDS: one SIGTERM, then wait for the exit (SIGKILL only past the time).
stop() {
  local pid=$1 name=$2 seconds=$3
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "run.sh: $name did not stop within $seconds s: killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping (the server first, then Redis)"
  # The server drains (its connections get 1001 and resume elsewhere), then Redis writes its
  # append-only file. Both run in sessions of their own, so the terminal's Ctrl-C reached only
  # this script: each gets exactly one signal, in this order.
  stop "$server_pid" confide-server 20
  stop "$redis_pid" redis-server 60
}
# Ctrl-C (or SIGTERM) ends the run normally: a clean stop, exit status 0.
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# The key file that seals what people write (docs/privacy.md), made once and kept with the
# data it seals: a new one could not read the old messages.
if [[ ! -s $run_root/data.keys ]]; then
  "$admin" keys generate --out "$run_root/data.keys" --id dev1 >/dev/null
fi

start_redis() {
  # setsid: a session (and process group) of its own, out of reach of the terminal's signals.
  setsid redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$run_dir/redis" \
    --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction \
    --logfile "$run_dir/redis.log" </dev/null &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 || {
    echo "run.sh: redis did not start; its log ($run_dir/redis.log):" >&2
    tail -20 "$run_dir/redis.log" >&2
    exit 1
  }
}
start_redis
# Demo data of an older key layout (before encryption at rest, or before the retention index) is
# put aside, not read.
old_layout=$(redis-cli -p "$redis_port" get cf:layout)
if [[ -n $old_layout && $old_layout != 4 ]]; then
  stop "$redis_pid" redis-server 60
  aside=$run_dir/redis.layout$old_layout.$(date +%s)
  mv "$run_dir/redis" "$aside"
  mkdir -p "$run_dir/redis"
  echo "run.sh: the demo data was of key layout $old_layout, which this server does not read;" \
    "it is kept in $aside and the demo starts afresh" >&2
  start_redis
fi

# Two demo specialists in the directory (only listed specialists may sign in as specialists).
list_demo() {
  local id=$1
  shift
  local how=add
  "$admin" --redis "127.0.0.1:$redis_port" directory show "$id" >/dev/null 2>&1 && how=update
  "$admin" --redis "127.0.0.1:$redis_port" directory "$how" "$id" "$@" >/dev/null
}
list_demo dr.bob --name "Dr Bob Example" --specialties anxiety,depression,sleep \
  --languages en,de --time-zone Europe/Berlin --office-hours "mon-fri 09:00-17:00" \
  --expected-reply-minutes 240 --free-consultation-minutes 30 \
  --bio "Psychologist; cognitive behavioural therapy for anxiety and sleep problems."
list_demo dr.ana --name "Dr Ana Silva" --specialties grief,trauma --languages pt-BR,en \
  --time-zone America/Sao_Paulo --office-hours "mon-thu 10:00-18:00, fri 10:00-14:00" \
  --expected-reply-minutes 1440 --bio "Psychotherapist; grief and trauma, in Portuguese or English."

web_args=()
if [[ -f $top/clients/web/dist/index.html ]]; then
  web_args=(--web-root "$top/clients/web/dist")
fi
: >"$run_dir/server.out"
CONFIDE_TOKEN_KEY="dev:HS256:text:$secret" setsid "$server_bin" \
  --listen "127.0.0.1:$port" --redis "127.0.0.1:$redis_port" --node-id "run-$port" \
  --data-key-file "$run_root/data.keys" \
  "${web_args[@]}" </dev/null >"$run_dir/server.out" 2>"$run_dir/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q '^listening on' "$run_dir/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^listening on' "$run_dir/server.out" 2>/dev/null; then
  echo "run.sh: confide-server did not start; its log ($run_dir/server.log):" >&2
  tail -20 "$run_dir/server.log" >&2
  exit 1
fi

client_token=$(CONFIDE_DEV_SECRET=$secret "$cli" token --user alice --role client --ttl 86400)
specialist_token=$(CONFIDE_DEV_SECRET=$secret "$cli" token --user dr.bob --role specialist --ttl 86400)
url=ws://127.0.0.1:$port/

echo
echo "Confide is running: http://127.0.0.1:$port/   (Redis on 127.0.0.1:$redis_port)"
echo "Data and logs: $run_dir   (server.log, redis.log, redis/)"
if ((${#web_args[@]} > 0)); then
  cat <<EOF

Chat from a browser: open each address in its own tab or window.

  The client, Alice (the directory lists two specialists, "dr.bob" and "dr.ana"):
    http://127.0.0.1:$port/#token=$client_token

  The specialist, Dr Bob:
    http://127.0.0.1:$port/#token=$specialist_token
EOF
fi
cat <<EOF

Or from two terminals:

  # the specialist, Dr Bob
  CONFIDE_TOKEN=$specialist_token \\
    $cli chat --url $url

  # the client, Alice: find a specialist with  /specialists
  # then write to Dr Bob with  /inquire dr.bob Hello, I would like to talk
  CONFIDE_TOKEN=$client_token \\
    $cli chat --url $url

Scripts: put confide-cli on the PATH and the development secret in the environment:
  export PATH=$(dirname "$cli"):\$PATH CONFIDE_DEV_SECRET=\$(cat $run_root/dev-secret)
  T=\$(confide-cli token --user alice --role client)
  confide-cli send --url $url --token "\$T" --to-specialist dr.bob --text "hello"

List or change specialists with
  $admin --redis 127.0.0.1:$redis_port directory list

Tokens are valid for 24 hours. Press Ctrl-C to stop.
EOF

# Until the server ends (it is not expected to) or this script is interrupted.
set +e
wait "$server_pid"
status=$?
set -e
echo "run.sh: confide-server exited with status $status; its log: $run_dir/server.log" >&2
exit "$status"
