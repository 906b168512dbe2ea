#!/usr/bin/env bash
# Install the Debian packages the suite needs when they are missing (one apt-get update):
# postgresql (a throw-away server for the database tests), php-cli (php -l of the plugin),
# pango and DejaVu Sans (the municipal report's PDF, WeasyPrint) and chromium (tests/browser/,
# driven by Playwright; never `playwright install`, which downloads a browser build).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v php >/dev/null 2>&1 || need+=(php-cli)
compgen -G '/usr/lib/*/libpango-1.0.so.0' >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-packages: missing ${need[*]} and cannot install them (needs root and apt-get)" >&2
  exit 0
fi
echo "ensure-packages: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
