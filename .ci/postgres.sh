#!/usr/bin/env bash
# Make sure a PostgreSQL server the tests can use is running on
# 127.0.0.1:5432, with trust authentication for root and a database `test`
# (the tests' default; CURSORCTL_TEST_PG names another server).
set -euo pipefail

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(pg_lsclusters --no-header | awk 'NR == 1 { print $1 }')
    if [ -z "$version" ]; then
        echo "no PostgreSQL cluster to start" >&2
        exit 1
    fi
    "${sudo[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi

# The role and database the tests log in as.
as_postgres=(runuser -u postgres --)
[ "$(id -u)" = 0 ] || as_postgres=(sudo -u postgres)
if ! psql -h 127.0.0.1 -U root -d test -Atc 'SELECT 1' >/dev/null 2>&1; then
    "${as_postgres[@]}" psql -q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF;
        END \$\$;" || true
    "${as_postgres[@]}" createdb -O root test 2>/dev/null || true
fi
psql -h 127.0.0.1 -U root -d test -Atc 'SELECT 1' >/dev/null

# The TLS tests need the server to offer TLS: Debian's cluster does, with
# the self-signed certificate of the ssl-cert package.
if [ "$(psql -h 127.0.0.1 -U root -d test -Atc 'SHOW ssl')" != on ]; then
    psql -h 127.0.0.1 -U root -d test -q -c 'ALTER SYSTEM SET ssl = on' -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
fi
echo "PostgreSQL is up on 127.0.0.1:5432 (ssl $(psql -h 127.0.0.1 -U root -d test -Atc 'SHOW ssl'))"
