#!/usr/bin/env bash
# The run command: installs what is missing, builds a release and the web client, starts a Redis
# of its own (own port, own data directory under build/release/run, append-only file on) and one
# confide-server serving the web client, lists two demo specialists in the directory
# (confide-admin), mints two development tokens (a client and a specialist) and prints two URLs to
# chat from a browser (and how to use the terminal client).
# Ctrl-C stops everything it started.
#
# Environment (optional): CONFIDE_RUN_PORT (default 8080), CONFIDE_RUN_REDIS_PORT (default 6390).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

port=${CONFIDE_RUN_PORT:-8080}
redis_port=${CONFIDE_RUN_REDIS_PORT:-6390}
build=build/release
run_dir=$top/$build/run

scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONFIDE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target confide-server confide-cli confide-admin
scripts/build-web.sh

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$redis_port"; do
  if port_in_use "$p"; then
    echo "run.sh: port $p on 127.0.0.1 is in use; set CONFIDE_RUN_PORT / CONFIDE_RUN_REDIS_PORT" >&2
    exit 1
  fi
done

mkdir -p "$run_dir/redis"
# The development secret is made once and kept, so that minted tokens survive a restart.
if [[ ! -s $run_dir/dev-secret ]]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run_dir/dev-secret"
  chmod 600 "$run_dir/dev-secret"
fi
secret=$(cat "$run_dir/dev-secret")

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping"
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$run_dir/redis" \
  --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction \
  --logfile "$run_dir/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { echo "run.sh: redis did not start ($run_dir/redis.log)" >&2; exit 1; }

# Two demo specialists in the directory (only listed specialists may sign in as specialists).
admin="$top/$build/server/admin/confide-admin"
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

CONFIDE_TOKEN_KEYS="dev:HS256:text:$secret" "$build/server/app/confide-server" \
  --listen "127.0.0.1:$port" --redis "127.0.0.1:$redis_port" --web-root "$top/clients/web/dist" \
  >"$run_dir/server.out" 2>"$run_dir/server.log" &
pids+=($!)
for _ in $(seq 1 150); do
  grep -q '^listening on' "$run_dir/server.out" 2>/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^listening on' "$run_dir/server.out" 2>/dev/null; then
  echo "run.sh: confide-server did not start; its log:" >&2
  tail -20 "$run_dir/server.log" >&2
  exit 1
fi

cli="$top/$build/clients/cli/confide-cli"
client_token=$(CONFIDE_DEV_SECRET=$secret "$cli" token --user alice --role client --ttl 86400)
specialist_token=$(CONFIDE_DEV_SECRET=$secret "$cli" token --user dr.bob --role specialist --ttl 86400)

cat <<EOF

Confide is running: http://127.0.0.1:$port/   (Redis on 127.0.0.1:$redis_port, data in $run_dir/redis)
Server log: $run_dir/server.log

Chat from a browser: open each address in its own tab or window.

  The client, Alice (the directory lists two specialists, "dr.bob" and "dr.ana"):
    http://127.0.0.1:$port/#token=$client_token

  The specialist, Dr Bob:
    http://127.0.0.1:$port/#token=$specialist_token

Or from two terminals:

  # the specialist, Dr Bob
  CONFIDE_TOKEN=$specialist_token \\
    $cli chat --url ws://127.0.0.1:$port/

  # the client, Alice: find a specialist with  /specialists
  # then write to Dr Bob with  /inquire dr.bob Hello, I would like to talk
  CONFIDE_TOKEN=$client_token \\
    $cli chat --url ws://127.0.0.1:$port/

List or change specialists with
  $admin --redis 127.0.0.1:$redis_port directory list

Tokens are valid for 24 hours; mint more with
  CONFIDE_DEV_SECRET=\$(cat $run_dir/dev-secret) $cli token --user NAME --role client|specialist

Press Ctrl-C to stop.
EOF

wait "${pids[1]}"
