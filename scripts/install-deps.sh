#!/usr/bin/env bash
# Installs everything Confide needs to build, test and run, from Debian 12's packages.
# Idempotent: does nothing when everything is already there. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libhiredis-dev libprotobuf-dev protobuf-compiler libssl-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  redis-server redis-tools clang-format python3 python3-jwt python3-cryptography
)

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
# The Debian package starts a system-wide Redis where systemd runs; Confide never uses it: every
# command starts its own redis-server on its own port and data directory.
