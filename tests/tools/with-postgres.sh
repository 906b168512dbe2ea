#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL on 127.0.0.1, its URL exported as
# PROFROUTE_TEST_DATABASE_URL; the server and its files are removed afterwards.
# Installs Debian's postgresql when no server binaries are found (needs root and apt).
# Under CI=true a server that cannot start fails the run; elsewhere the tests skip PostgreSQL.
set -euo pipefail

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}


PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "with-postgres: installing Debian's postgresql" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
  PGBIN=$(find_bin || true)
fi

if [ -z "$PGBIN" ]; then
  if [ "${CI:-}" = "true" ]; then echo "with-postgres: no PostgreSQL server binaries" >&2; exit 1; fi
  echo "with-postgres: no PostgreSQL; database tests run on SQLite only" >&2
  exec "$@"
fi

RUNAS=()
if [ "$(id -u)" = "0" ]; then RUNAS=(runuser -u postgres --); fi
DIR=$(mktemp -d /tmp/profroute-pg.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = "0" ] && chown postgres "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

if ! "${RUNAS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
   || ! "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
        -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null; then
  cat "$DIR"/*.log >&2 || true
  if [ "${CI:-}" = "true" ]; then echo "with-postgres: PostgreSQL did not start" >&2; exit 1; fi
  echo "with-postgres: PostgreSQL did not start; database tests run on SQLite only" >&2
  trap - EXIT; cleanup
  exec "$@"
fi
"$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres profroute_test
export PROFROUTE_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/profroute_test"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
set +e
"$@"
status=$?
exit $status
