#!/usr/bin/env bash
# `cmake --install` into a staging directory (DESTDIR), as a Debian administrator would run it:
# every file where docs/operations.md says, the binaries runnable, the systemd units valid
# (systemd-analyze verify) and hardened (systemd-analyze security), the operator's settings
# kept on a second install.
#
#   install_test.sh BUILD_DIR
set -euo pipefail
build=$1
stage=$(mktemp -d /tmp/confide-install-XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" >"$stage.log" 2>&1 || { cat "$stage.log"; fail "install failed"; }
rm -f "$stage.log"

prefix=$stage/usr/local
for f in bin/confide-server bin/confide-admin bin/confide-cli bin/confide-loadgen \
  lib/systemd/system/confide.service \
  lib/systemd/system/confide-redis.service lib/sysusers.d/confide.conf \
  share/doc/confide/operations.md share/doc/confide/haproxy.cfg \
  share/doc/confide/prometheus/confide-alerts.yml share/doc/confide/confide.env.default; do
  [[ -e $prefix/$f ]] || fail "missing $prefix/$f"
done
for f in etc/confide/redis.conf etc/confide/confide.env; do
  [[ -e $stage/$f ]] || fail "missing /$f"
done
[[ $(stat -c %a "$stage/etc/confide/confide.env") == 640 ]] || fail "confide.env is not 0640"

"$prefix/bin/confide-server" --help | grep -q -- "--tls-cert" || fail "confide-server --help"
"$prefix/bin/confide-cli" --help | grep -q "usage: confide-cli" || fail "confide-cli --help"

unit=$prefix/lib/systemd/system/confide.service
grep -q "^ExecStart=/usr/local/bin/confide-server$" "$unit" || fail "ExecStart is not the installed binary"
for key in "User=confide" "NoNewPrivileges=yes" "ProtectSystem=strict" "LimitNOFILE=65536" \
  "EnvironmentFile=/etc/confide/confide.env" "ExecReload=/bin/kill -HUP \$MAINPID"; do
  grep -qxF "$key" "$unit" || fail "confide.service lacks $key"
done
grep -q "^u confide " "$prefix/lib/sysusers.d/confide.conf" || fail "no confide user in sysusers.d"

# systemd checks that the binaries and files a unit names exist: point them into the stage.
verify=$stage/verify
mkdir -p "$verify"
for u in confide.service confide-redis.service; do
  sed -e "s#/usr/local/bin/#$prefix/bin/#; s#/etc/confide/#$stage/etc/confide/#" \
    "$prefix/lib/systemd/system/$u" >"$verify/$u"
  systemd-analyze verify "$verify/$u" || fail "systemd-analyze verify $u"
done
exposure=$(systemd-analyze security --offline=yes "$verify/confide.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for confide.service: \([0-9.]*\).*/\1/p')
[[ -n $exposure ]] || fail "no exposure level from systemd-analyze security"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "confide.service exposure $exposure > 2.0"

# A second install keeps the operator's settings.
echo "CONFIDE_NODE_ID=edited-by-the-operator" >>"$stage/etc/confide/confide.env"
DESTDIR=$stage cmake --install "$build" >/dev/null 2>&1 || fail "second install failed"
grep -q edited-by-the-operator "$stage/etc/confide/confide.env" || fail "confide.env was overwritten"

echo "install_test: ok (confide.service exposure $exposure)"
