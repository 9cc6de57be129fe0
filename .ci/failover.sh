#!/usr/bin/env bash
# A real failover. A primary and a synchronous streaming standby, two
# private PostgreSQL clusters on this machine (initdb, pg_basebackup) on
# their own ports, in a temporary folder, run as the postgres user. Writers
# (advance, set --expect, bulk set --from-file) go through one location
# naming both servers with target_session_attrs=read-write. Mid-load the
# primary is stopped with `pg_ctl stop -m immediate` and the standby
# promoted. Checks:
#
#   - every write that exited 0 is in the final history exactly once, and
#     the history holds nothing else: no write that said "not written" (or
#     failed in any other way) is there;
#   - "unknown" never appears;
#   - each cursor's final offset equals what its acknowledged changes left
#     (the advanced cursor: the number of acknowledged advances);
#   - writes went on after the promotion.
#
# Uses the debug binary that `cargo build` makes, built here if missing or
# stale. Needs root (re-runs itself with sudo otherwise), jq and the
# PostgreSQL server binaries (installed with apt if missing).
#
#   bash .ci/failover.sh          # KEEP=1 keeps the working folder
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CURSORCTL_FAILOVER_BUILT:-}" ]; then
    cargo build --quiet --bin cursorctl
fi
if [ "$(id -u)" != 0 ]; then
    exec sudo CURSORCTL_FAILOVER_BUILT=1 KEEP="${KEEP:-}" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-}" bash "$0" "$@"
fi
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/cursorctl"

missing=()
command -v jq >/dev/null 2>&1 || missing+=(jq)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

work=$(mktemp -d -t cursorctl-failover.XXXXXX)
chmod 711 "$work"
pg="$work/pg"
out="$work/out"
mkdir -p "$pg" "$out"
chown postgres "$pg"
# Two free ports.
p1=$((20000 + RANDOM % 20000))
p2=$((p1 + 1))
started=$(date +%s.%N)
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "$@"; }
as_pg() { runuser -u postgres -- "$@"; }

cleanup() {
    local rc=$?
    touch "$work/stop" 2>/dev/null || true
    for d in primary standby; do
        [ -d "$pg/$d" ] && as_pg "$pgbin/pg_ctl" -D "$pg/$d" -m immediate stop >/dev/null 2>&1 || true
    done
    if [ "$rc" != 0 ] || [ -n "${KEEP:-}" ]; then
        echo "working folder kept: $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
fail() {
    echo "FAILED: $*" >&2
    for f in "$pg"/*.log; do
        [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

echo "== a primary on port $p1 and a synchronous standby on port $p2"
as_pg "$pgbin/initdb" -D "$pg/primary" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; fail "initdb"; }
cat >>"$pg/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$pg'
max_connections = 60
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 4
synchronous_standby_names = 'standby'
synchronous_commit = on
CONF
cat >"$pg/primary/pg_hba.conf" <<CONF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
CONF
as_pg "$pgbin/pg_ctl" -D "$pg/primary" -l "$pg/primary.log" -w -t 60 start >/dev/null || fail "starting the primary"
as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$pg/standby" -X stream \
    -c fast >/dev/null 2>&1 || fail "pg_basebackup"
cat >>"$pg/standby/postgresql.conf" <<CONF
port = $p2
primary_conninfo = 'host=127.0.0.1 port=$p1 user=postgres application_name=standby'
# Promoted, it has no standby of its own to wait for (the base backup
# copied the primary's setting).
synchronous_standby_names = ''
CONF
as_pg touch "$pg/standby/standby.signal"
as_pg "$pgbin/pg_ctl" -D "$pg/standby" -l "$pg/standby.log" -w -t 60 start >/dev/null || fail "starting the standby"
psql_at() { # PORT SQL
    "$pgbin/psql" -h 127.0.0.1 -p "$1" -U postgres -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "$2"
}
for _ in $(seq 1 100); do
    [ "$(psql_at "$p1" "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby' AND sync_state = 'sync'")" = 1 ] && break
    sleep 0.1
done
[ "$(psql_at "$p1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ] ||
    fail "the standby is not a synchronous standby"
[ "$(psql_at "$p2" "SELECT pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"

db="host=127.0.0.1,127.0.0.1 port=$p1,$p2 dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=2"
run() { # ARGS...: the binary on the multi-host location, as user "tester"
    env -i PATH="$PATH" CURSORCTL_USER=tester NO_COLOR=1 timeout -k 5 60 "$bin" --db "$db" "$@"
}
run init -q || fail "init"
run set w shared:0 0 --create -q || fail "set"

# A write: exit 0 keeps its change records (ndjson) as acknowledged;
# anything else keeps its message. Every message is kept for the check
# that "unknown" never appears.
write() { # WRITER ARGS...
    local w=$1 rc=0
    shift
    run -o ndjson --busy-timeout 30s "$@" >"$out/last.$w" 2>"$out/err.$w" || rc=$?
    cat "$out/err.$w" >>"$out/stderr.$w"
    if [ "$rc" = 0 ]; then
        cat "$out/last.$w" >>"$out/acks.$w"
        now >>"$out/times.$w"
    else
        echo "exit $rc: $( (jq -r .error.message "$out/err.$w" 2>/dev/null || cat "$out/err.$w") | head -c 300 | tr '\n' ' ')" >>"$out/refused.$w"
    fi
    return "$rc"
}

# Writer a: advance the shared cursor. Writer b: set its own cursor with
# --expect, from what it last acknowledged. Writer c: bulk writes of new
# cursors, one batch each.
writer_advance() {
    while [ ! -e "$work/stop" ]; do
        write a advance w shared:0 || sleep 0.2
    done
}
writer_expect() {
    local v=0 rc
    write b set w own:0 0 --create || true
    while [ ! -e "$work/stop" ]; do
        rc=0
        write b set w own:0 "$((v + 1))" --expect "$v" || rc=$?
        case $rc in
            0) v=$((v + 1)) ;;
            3) # Stale: a write that said otherwise was made after all.
                echo "set --expect $v was stale: $(cat "$out/err.b")" >"$out/failed.b"
                return ;;
            *) sleep 0.2 ;;
        esac
    done
    echo "$v" >"$out/final.b"
}
writer_bulk() {
    local i=0
    while [ ! -e "$work/stop" ]; do
        i=$((i + 1))
        seq 0 199 | awk -v i="$i" '{ printf "{\"key\":\"bulk:r%d:%d\",\"offset\":%d}\n", i, $1, $1 + 1 }' >"$work/bulk.ndjson"
        write c set --from-file "$work/bulk.ndjson" --create || sleep 0.2
    done
}

echo "== writers at work"
writer_advance &
pa=$!
writer_expect &
pb=$!
writer_bulk &
pc=$!
sleep 3
for w in a b c; do
    [ -s "$out/acks.$w" ] || fail "writer $w acknowledged nothing before the failover: $(cat "$out/stderr.$w" 2>/dev/null | tail -n 3)"
done

echo "== the primary stopped (immediate), the standby promoted"
cut_at=$(now)
as_pg "$pgbin/pg_ctl" -D "$pg/primary" -m immediate stop >/dev/null || fail "stopping the primary"
sleep 1
as_pg "$pgbin/pg_ctl" -D "$pg/standby" -w -t 60 promote >/dev/null || fail "promoting the standby"
promoted_at=$(now)
say "   promoted $(since "$cut_at")s after the stop"
sleep 4
touch "$work/stop"
wait "$pa" "$pb" "$pc"
[ ! -e "$out/failed.b" ] || fail "writer b: $(cat "$out/failed.b")"

echo "== the history is exactly the acknowledged changes"
if grep -il "unknown" "$out"/stderr.* >/dev/null 2>&1; then
    grep -ih "unknown" "$out"/stderr.* | head -n 5 >&2
    fail "a writer was told \"unknown\""
fi
after=0
for w in a b c; do
    n=$(awk -v t="$promoted_at" '$1 > t' "$out/times.$w" | wc -l)
    [ "$n" -gt 0 ] || fail "writer $w acknowledged nothing after the promotion"
    after=$((after + n))
done
run history -o ndjson >"$work/history.ndjson" || fail "history after the failover"
run get -o ndjson >"$work/cursors.ndjson" || fail "get after the failover"
cat "$out"/acks.* | jq -c 'select(.id != null) | [.id, .key, .old_offset, .new_offset]' | sort >"$work/acked"
jq -c 'select(.key != "w:shared:0" or .old_offset != null) | [.id, .key, .old_offset, .new_offset]' "$work/history.ndjson" |
    sort >"$work/recorded"
# The first set of w:shared:0 (by `run`, not a writer) is not in the acks.
if ! cmp -s "$work/acked" "$work/recorded"; then
    diff "$work/acked" "$work/recorded" | head -n 20 >&2
    fail "the history is not exactly the acknowledged changes"
fi
dups=$(cut -d, -f1 "$work/recorded" | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "a change id is in the history twice"
advances=$(jq -c 'select(.key == "w:shared:0" and .status == "advanced")' "$out/acks.a" | wc -l)
shared=$(jq -r 'select(.key == "w:shared:0") | .offset' "$work/cursors.ndjson")
[ "$shared" = "$advances" ] || fail "w:shared:0 holds $shared, not its $advances acknowledged advances"
own=$(jq -r 'select(.key == "w:own:0") | .offset' "$work/cursors.ndjson")
[ "$own" = "$(cat "$out/final.b")" ] || fail "w:own:0 holds $own, not $(cat "$out/final.b") (its acknowledged sets)"
# Each bulk write is all there (acknowledged) or not at all.
bulk_acked=$(jq -r 'select(.key | startswith("bulk:")) | .key' "$out/acks.c" | sort)
bulk_stored=$(jq -r 'select(.key | startswith("bulk:")) | .key' "$work/cursors.ndjson" | sort)
[ "$bulk_acked" = "$bulk_stored" ] || fail "the bulk cursors stored are not the acknowledged ones"
refused=$(cat "$out"/refused.* 2>/dev/null | wc -l)
acked=$(wc -l <"$work/acked")
say "   $acked acknowledged changes = the history ($after writes after the promotion); $advances advances = w:shared:0; w:own:0 = $own; $refused writes refused, none written"
if [ "$refused" -gt 0 ]; then
    say "   what the refused writes were told:"
    cat "$out"/refused.* | cut -c1-220 | sort | uniq -c | sort -rn | sed 's/^/     /' | head -n 8
fi
echo "== failover: passed in $(since "$started")s"
