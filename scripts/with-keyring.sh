#!/usr/bin/env bash
# Runs a command with a real Secret Service (gnome-keyring) on a private D-Bus
# session and a fresh, unlocked keyring, so keychain tests never meet a
# developer's own keyring.
set -euo pipefail
if [ -n "${CIMS_KEYRING_READY:-}" ]; then exec "$@"; fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export XDG_DATA_HOME="$data" CIMS_KEYRING_READY=1
dbus-run-session -- sh -c 'printf "%s" "cims-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"' sh "$@"
