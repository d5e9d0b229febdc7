#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster on loopback, then remove it.
# Exports BEACON_TEST_DATABASE_URL for the store tests; without PostgreSQL binaries
# the command still runs and those tests skip with a visible reason.
set -uo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ]; then
    echo "note: PostgreSQL is not installed: PostgreSQL store tests will be skipped" >&2
    exec "$@"
fi

datadir=$(mktemp -d /tmp/beacon-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$datadir"
    as_owner=(runuser -u postgres --)
fi

cleanup() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$datadir"
}
trap cleanup EXIT

if "${as_owner[@]}" "$bindir/initdb" -D "$datadir/data" -U beacon --auth=trust >/dev/null \
    && "${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/log" -w \
        -o "-h 127.0.0.1 -p $port -k $datadir -F" start >/dev/null; then
    export BEACON_TEST_DATABASE_URL="postgresql+psycopg://beacon@127.0.0.1:$port/postgres"
    echo "PostgreSQL test cluster on 127.0.0.1:$port"
else
    echo "note: could not start PostgreSQL (see $datadir/log): its tests will be skipped" >&2
fi
"$@"
