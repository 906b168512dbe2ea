#!/usr/bin/env bash
# Install the Debian packages the suite needs when they are missing (one apt-get update):
# postgresql (a throw-away server for the database tests) and php-cli (php -l of the plugin).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v php >/dev/null 2>&1 || need+=(php-cli)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-packages: missing ${need[*]} and cannot install them (needs root and apt-get)" >&2
  exit 0
fi
echo "ensure-packages: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
