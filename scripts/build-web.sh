#!/usr/bin/env bash
# Builds the web client (clients/web) into clients/web/dist: installs its npm packages exactly as
# package-lock.json pins them (when they changed), generates the protobuf code with protoc,
# type-checks and bundles. Node.js and npm come from scripts/install-deps.sh.
#
#   scripts/build-web.sh          the app
#   scripts/build-web.sh --tests  also its unit tests (node --test)
set -euo pipefail
cd "$(dirname "$0")/../clients/web"

# npm ci wipes node_modules: only when the lockfile changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
npx --no-install tsc --noEmit -p .
if [[ ${1:-} == --tests ]]; then
  npm run --silent test
fi
