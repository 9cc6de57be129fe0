#!/usr/bin/env bash
# Checks of the release binary (`cargo build --release`), which the tests do
# not run (they use the debug build):
#   - the symbol ordering file still names its functions (build.rs gives it
#     to the linker; a stale one silently loses the speed it bought);
#   - it reaches PostgreSQL by host name. On Linux with glibc the binary is
#     linked statically (build.rs), and a static glibc program resolves host
#     names through NSS modules it loads at run time: `localhost` must work,
#     not only 127.0.0.1.
# Needs the test server of .ci/postgres.sh (root, trust, database `test`).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release
bin="${CARGO_TARGET_DIR:-target}/release/cursorctl"

if readelf -l "$bin" | grep -q 'Requesting program interpreter'; then
    echo "$bin is linked dynamically"
else
    echo "$bin is linked statically"
fi

echo "== the symbol ordering file against the release binary"
bash benches/hot-symbols.sh --check "$bin"

echo "== the release binary connects to PostgreSQL by host name"
schema="ci_hostname_$$"
url="postgres://root@localhost:5432/test?schema=$schema"
drop() { psql -h 127.0.0.1 -U root -d test -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }
trap drop EXIT
env -i PATH="$PATH" USER=ci "$bin" --db "$url" -q init
env -i PATH="$PATH" USER=ci "$bin" --db "$url" -q set ci hostname:0 7 --create
got=$(env -i PATH="$PATH" USER=ci "$bin" --db "$url" get ci hostname:0 -o value)
[ "$got" = 7 ] || {
    echo "the release binary read $got through localhost, not 7" >&2
    exit 1
}
# The server saw the write (not some other store).
[ "$(psql -h 127.0.0.1 -U root -d test -Atc "SELECT \"offset\" FROM $schema.cursors WHERE consumer = 'ci'")" = 7 ] || {
    echo "the write through localhost is not in schema $schema" >&2
    exit 1
}
echo "the release binary wrote and read a cursor through postgres://root@localhost:5432"
