#!/usr/bin/env bash
# Installs everything Confide needs to build, test and run, from Debian 12's packages.
# Idempotent: does nothing when everything is already there. Run as root (or with sudo).
#
#   scripts/install-deps.sh                  to build, test and run (Node.js and npm build the web app)
#   scripts/install-deps.sh --browser-tests  also Chromium, for the web client's browser tests
set -euo pipefail

browser_tests=0
[[ ${1:-} == --browser-tests ]] && browser_tests=1

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libhiredis-dev libprotobuf-dev protobuf-compiler libssl-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libhowardhinnant-date-dev tzdata
  redis-server redis-tools clang-format python3 python3-jwt python3-cryptography
  # The operations tests: certificates (openssl), the load balancer (haproxy), the checks of the
  # metrics and alert rules (promtool, from Debian's prometheus package) and of the installed
  # systemd units (systemd-analyze).
  openssl haproxy prometheus systemd
  # The ThreadSanitizer pass and libFuzzer (scripts/fuzz.sh): clang and its sanitizer runtimes
  # (only "recommended" by clang-14); lint.
  clang-14 libclang-rt-14-dev clang-tidy-14
)

# Node.js and npm build the web client (clients/web). Debian 12 has Node.js 18 with npm 9; a
# newer Node.js installed another way (e.g. from a configured apt repository, with npm bundled)
# is kept: only a missing command is installed.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
# Debian's Chromium, driven by Playwright (playwright-core cannot download a browser here).
((browser_tests)) && packages+=(chromium fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# The Debian packages start a system-wide Redis, HAProxy and Prometheus where systemd runs;
# Confide's commands never use them: each starts its own on its own ports (and data directory).
