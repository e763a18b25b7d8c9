#!/usr/bin/env bash
# Builds loyaltyd (Release) and installs it as a systemd service. Not run by CI.
#   /usr/local/bin/loyaltyd                 the binary
#   /etc/systemd/system/loyaltyd.service    install/loyaltyd.service
#   /etc/loyaltyd/config.json               from config/example.json, only when absent, with the
#                                           database in /var/lib/loyaltyd and a fresh admin token
#   user and group loyaltyd                 the service runs as them
# Then: edit the shops in /etc/loyaltyd/config.json, `systemctl enable --now loyaltyd`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-system: run as root (no sudo here)" >&2
  exit 1
fi

bash install/deps.sh
LOYALTYD_TARGETS=loyaltyd bash install/build.sh build-release \
  -DCMAKE_BUILD_TYPE=Release -DLOYALTYD_BUILD_TESTS=OFF -DLOYALTYD_BUILD_BENCH=OFF

"${as_root[@]}" install -m 0755 build-release/loyaltyd /usr/local/bin/loyaltyd
"${as_root[@]}" install -m 0644 install/loyaltyd.service /etc/systemd/system/loyaltyd.service
if ! getent passwd loyaltyd >/dev/null; then
  "${as_root[@]}" useradd --system --user-group --home-dir /var/lib/loyaltyd --no-create-home \
    --shell /usr/sbin/nologin loyaltyd
fi

# The config holds webhook secrets and the admin token: readable by root and the service only.
"${as_root[@]}" install -d -m 0750 -o root -g loyaltyd /etc/loyaltyd
config=/etc/loyaltyd/config.json
if "${as_root[@]}" test -e "$config"; then
  echo "install-system: keeping the existing $config"
else
  tmp=$(mktemp)
  trap 'rm -f "$tmp"' EXIT
  token=$(openssl rand -hex 24)
  sed -E -e 's#("path"[[:space:]]*:[[:space:]]*")[^"]*"#\1/var/lib/loyaltyd/loyaltyd.db"#' \
    -e "s#(\"token\"[[:space:]]*:[[:space:]]*\")[^\"]*\"#\\1$token\"#" \
    config/example.json >"$tmp"
  "${as_root[@]}" install -m 0640 -o root -g loyaltyd "$tmp" "$config"
  echo "install-system: wrote $config (database /var/lib/loyaltyd/loyaltyd.db, new admin token)."
  echo "install-system: set each shop's domain and webhook_secret in it before starting."
fi
"${as_root[@]}" /usr/local/bin/loyaltyd check-config "$config" ||
  echo "install-system: fix $config, then start the service" >&2

if [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl daemon-reload
  echo "install-system: start it with: systemctl enable --now loyaltyd"
else
  echo "install-system: systemd is not running here; the unit is installed for when it is"
fi
