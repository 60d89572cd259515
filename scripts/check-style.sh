#!/usr/bin/env bash
# Formatting (clang-format 14) and the layering rules of docs/design.md, checked mechanically.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
files=$(git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || find server clients tests -name '*.[ch]pp')
if ! clang-format --dry-run -Werror $files; then
  echo "check-style: run 'clang-format -i' on the files above" >&2
  status=1
fi

# Beast only in the network layer (and the client library); hiredis only in store/redis.
if grep -rlE '#include <boost/beast' server | grep -v '^server/net/'; then
  echo "check-style: Beast outside server/net/" >&2
  status=1
fi
if grep -rlE '#include <(hiredis|adapters)/' server | grep -v '^server/store/redis/'; then
  echo "check-style: hiredis outside server/store/redis/" >&2
  status=1
fi
# The chat domain knows no transport and no storage.
if grep -rlE '#include "(net|store|app)/' server/routing server/protocol server/auth server/common; then
  echo "check-style: a lower layer includes net/, store/ or app/" >&2
  status=1
fi
# Metrics are used by every layer and use none.
if grep -rlE '#include "(common|protocol|auth|routing|store|net|app)/' server/metrics; then
  echo "check-style: metrics/ includes another layer" >&2
  status=1
fi
# The crypto layer: the common layer and OpenSSL, nothing else of the server, no I/O.
if grep -rlE '#include (<boost/(asio|beast)|"(protocol|auth|routing|store|net|app)/)' server/crypto; then
  echo "check-style: server/crypto/ includes Asio, Beast or a layer other than common/" >&2
  status=1
fi
if grep -rlE '#include "crypto/' server/routing server/protocol server/auth server/common server/net; then
  echo "check-style: crypto/ is for storage and the composition root (store/, admin/, app/)" >&2
  status=1
fi
if grep -rlE '#include "(net|app)/' server/store; then
  echo "check-style: store/ includes net/ or app/" >&2
  status=1
fi
if grep -rlE '#include "(store|app)/' server/net; then
  echo "check-style: net/ includes store/ or app/" >&2
  status=1
fi
# Storage hands routing domain values, never wire frames: neither store/ nor any header it
# includes, directly or through others, may include the generated protobuf code.
pending=$(find server/store -name '*.cpp' -o -name '*.hpp' -o -name '*.in')
reached=" $(echo $pending) "
while [[ -n ${pending// /} ]]; do
  next=""
  for f in $pending; do
    if grep -qE '#include "confide/v1/confide\.pb\.h"' "$f"; then
      echo "$f"
      wire_in_store=1
    fi
    for inc in $(sed -nE 's/^#include "([^"]+)".*/\1/p' "$f"); do
      if [[ -f server/$inc && $reached != *" server/$inc "* ]]; then
        reached+="server/$inc "
        next+=" server/$inc"
      fi
    done
  done
  pending=$next
done
if [[ -n ${wire_in_store:-} ]]; then
  echo "check-style: confide.pb.h reached from server/store/ (through the files above)" >&2
  status=1
fi
exit $status
