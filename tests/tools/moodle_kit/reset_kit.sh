#!/bin/bash
# Puts the kit Moodle (../shared/moodle-kit) back to its fresh state with ProfRoute's plugin:
# restores the kit's dump (the site before the recorded writes), replays the recorded writes and
# extend_service.php as setup.sh does, installs the plugin from <repo>/dist (or the copy already in
# /srv/moodle/local/profroute) and writes a new token of a user holding only the plugin's role to
# $PROFROUTE_TOKEN_FILE (default ~/profroute-token.txt, "TOKEN profroute <token>"). Run as root:
#   bash tests/tools/moodle_kit/reset_kit.sh            (about 30 s)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
KIT=${MOODLE_KIT_DIR:-$REPO/../shared/moodle-kit}
REC=${RECORDINGS_DIR:-$REPO/../shared/moodle-recordings/4.5}
DUMP=${MOODLE_DUMP:-$HOME/moodle-after-setup.dump}
MOODLE_DIR=${MOODLE_DIR:-/srv/moodle}
TOKEN_FILE=${PROFROUTE_TOKEN_FILE:-$HOME/profroute-token.txt}
PHPV=${PHPV:-8.2}
www() { runuser -u www-data -- env MOODLE_DIR="$MOODLE_DIR" php "$@"; }

tmp=$(mktemp -d)
cp "$KIT"/extend_service.php "$REPO"/tests/tools/moodle_kit/*.php "$tmp"/
chmod 755 "$tmp"; chmod 644 "$tmp"/*.php
cd /

echo "== restoring $DUMP"
service "php${PHPV}-fpm" stop >/dev/null
runuser -u postgres -- pg_restore --clean --if-exists -d moodle < "$DUMP"
service "php${PHPV}-fpm" start >/dev/null
www "$MOODLE_DIR/admin/cli/purge_caches.php"

echo "== replaying the recorded writes"
MOODLE_TOKEN_FILE="${MOODLE_TOKEN_FILE:-$HOME/moodle-token.txt}" python3 "$KIT/replay_recorded_writes.py" "$REC" \
  | grep -vc '^same ' || true
www "$tmp/extend_service.php" >/dev/null

echo "== installing local_profroute"
zip=$(ls -t "$REPO"/dist/local_profroute-*.zip 2>/dev/null | head -1 || true)
if [ -n "$zip" ]; then
  rm -rf "$MOODLE_DIR/local/profroute"
  unzip -q -o "$zip" -d "$MOODLE_DIR/local/"
  chmod -R a+rX "$MOODLE_DIR/local/profroute"
fi
# The kit's code is 4.5dev+ ("Alpha"): the upgrade needs --allow-unstable there.
www "$MOODLE_DIR/admin/cli/upgrade.php" --non-interactive --allow-unstable | tail -1

echo "== token of the plugin's role -> $TOKEN_FILE"
www "$tmp/plugin_token.php" > "$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"
rm -rf "$tmp"
echo "done"
