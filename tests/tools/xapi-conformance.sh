#!/usr/bin/env bash
# Run the ADL LRS conformance suite (github.com/adlnet/lrs-conformance-test-suite, Node) against
# ProfRoute's own xAPI endpoint, on a throw-away SQLite database and a local `profroute serve`.
#
#   tests/tools/xapi-conformance.sh [SUITE_DIR] [XAPI_VERSION]
#
# SUITE_DIR is a checkout of the suite where `npm install` was run (default
# $LRS_CONFORMANCE_DIR, else ../lrs-conformance-test-suite beside the repository); the version
# is 1.0.3 (default) or 2.0.0. Prints the suite's figures and the statement-resource figures
# (tests/tools/xapi_conformance_summary.py); the full JSON log is kept under $OUT (printed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${1:-${LRS_CONFORMANCE_DIR:-$ROOT/../lrs-conformance-test-suite}}
VERSION=${2:-1.0.3}
BIN=$ROOT/.venv/bin
[ -f "$SUITE/bin/console_runner.js" ] || { echo "no conformance suite in $SUITE" >&2; exit 2; }
[ -d "$SUITE/node_modules" ] || { echo "run npm install in $SUITE first" >&2; exit 2; }

OUT=$(mktemp -d /tmp/profroute-conformance.XXXXXX)
export PROFROUTE_DATABASE_URL="sqlite:///$OUT/lrs.db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CREDS=$("$BIN/profroute" lrs-credentials add --site http://conformance.example.org --name conformance)
KEY=$(sed -n 's/^key: *//p' <<<"$CREDS")
SECRET=$(sed -n 's/^secret: *//p' <<<"$CREDS")

"$BIN/python" -c 'import sys; from werkzeug.serving import run_simple; from app import create_app
run_simple("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True)' "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/xapi/about" >/dev/null 2>&1 && break
  sleep 0.2
done

rm -rf "$SUITE/logs"
(cd "$SUITE" && node bin/console_runner.js -e "http://127.0.0.1:$PORT/xapi" -a -u "$KEY" \
   -p "$SECRET" -x "$VERSION" >"$OUT/suite.out" 2>&1) || true
cp "$SUITE"/logs/*.log "$OUT/suite.json"
tail -n 3 "$OUT/suite.out"
"$BIN/python" "$ROOT/tests/tools/xapi_conformance_summary.py" "$OUT/suite.json"
echo "logs: $OUT"
