#!/usr/bin/env bash
# Many hosts, for real. Three network namespaces ("hosts" a, b and c) and a
# fourth that holds a bridge and a private PostgreSQL cluster started here,
# as the postgres user, in a temporary folder, on its own address and port.
# From each host: consumers checkpointing through the library
# (examples/consumer.rs) and operator commands (set, advance, set
# --from-file, undo, history, get). Host c's link is cut during its bulk
# write. Checks:
#
#   - host c exits 7 in bounded time, saying that the transaction was rolled
#     back and naming the server and database, never the password;
#   - hosts a and b go on writing while c is cut off, and the server ends
#     c's connection by itself; once the link is back, c works again;
#   - the store holds every acknowledged change (exit 0, its change record
#     printed) and nothing else: the history is exactly the acknowledged
#     changes, each cursor holds what its last acknowledged change or
#     consumer run left, and nothing of the cut bulk write is there;
#   - leased consumers (examples/consumer.rs --lease) on the three hosts
#     share one partition: host c holds the lease and its link is cut; its
#     lease expires on the server's clock, another host takes over from
#     its last checkpoint, and host c, reconnected, is fenced (its
#     checkpoint refused, nothing written); every offset is checkpointed
#     once;
#   - an address that never answers, a host whose link is down, and a
#     stopped server are exit 7 within the connect timeout.
#
# Uses the debug binaries that `cargo build` makes (the ones `cargo test`
# runs), built here if they are missing or stale. Needs root for the
# namespaces (re-runs itself with sudo otherwise), ip (iproute2), jq and the
# PostgreSQL server binaries (installed with apt if missing).
#
#   bash .ci/hosts.sh              # KEEP=1 keeps the working folder
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CURSORCTL_HOSTS_BUILT:-}" ]; then
    cargo build --quiet --bin cursorctl --example consumer
fi
if [ "$(id -u)" != 0 ]; then
    exec sudo CURSORCTL_HOSTS_BUILT=1 KEEP="${KEEP:-}" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-}" bash "$0" "$@"
fi

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target_dir/debug/cursorctl"
consumer="$target_dir/debug/examples/consumer"

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v jq >/dev/null 2>&1 || missing+=(jq)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# Names of this run: namespaces are global to the machine, so they carry
# the process id; addresses and ports live inside the namespaces.
tag="cursorctl-hosts-$$-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
hosts=(a b c)
net=10.77.0
db_ip=$net.1
port=5499
secret="s3cret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d -t cursorctl-hosts.XXXXXX)
chmod 711 "$work"
pg="$work/pg"
out="$work/out"
mkdir -p "$pg" "$out"
chown postgres:postgres "$pg"
started=$(date +%s.%N)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '%s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
# `less A B`: A < B, for decimal numbers.
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

cleanup() {
    local rc=$?
    touch "$work/stop"
    local running
    mapfile -t running < <(jobs -p)
    [ "${#running[@]}" = 0 ] || kill "${running[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ -f "$pg/data/postmaster.pid" ]; then
        runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    for ns in "$tag-db" "${hosts[@]/#/$tag-}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$rc" != 0 ]; then
        echo "--- server log (tail)" >&2
        tail -n 30 "$pg/log" >&2 2>/dev/null || true
    fi
    if [ -n "${KEEP:-}" ]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== many hosts: namespaces $tag-{db,a,b,c}, PostgreSQL $(basename "$(dirname "$pgbin")") on $db_ip:$port"

# The network: a bridge in the database namespace, one veth pair a host.
ip netns add "$tag-db"
ip -n "$tag-db" link set lo up
ip -n "$tag-db" link add br0 type bridge
ip -n "$tag-db" addr add "$db_ip/24" dev br0
ip -n "$tag-db" link set br0 up
n=11
for h in "${hosts[@]}"; do
    ip netns add "$tag-$h"
    ip -n "$tag-$h" link set lo up
    ip link add eth0 netns "$tag-$h" type veth peer name "port-$h" netns "$tag-db"
    ip -n "$tag-$h" addr add "$net.$n/24" dev eth0
    ip -n "$tag-$h" link set eth0 up
    ip -n "$tag-db" link set "port-$h" master br0 up
    # Packets for 10.77.9.0/24 go to the database namespace, which does not
    # forward them: a SYN there is never answered.
    ip -n "$tag-$h" route add 10.77.9.0/24 via "$db_ip"
    n=$((n + 1))
done

# The private cluster. The server notices a lost client within seconds
# (keepalives, tcp_user_timeout), so a cut host's transaction ends.
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$pgbin/initdb" -D "$pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C --no-sync >"$work/initdb.log" 2>&1 || {
    cat "$work/initdb.log" >&2
    fail "initdb"
}
cat >>"$pg/data/postgresql.conf" <<EOF
listen_addresses = '$db_ip'
port = $port
unix_socket_directories = '$pg'
max_connections = 40
shared_buffers = 32MB
tcp_keepalives_idle = 2
tcp_keepalives_interval = 1
tcp_keepalives_count = 2
tcp_user_timeout = 3000
log_connections = on
log_disconnections = on
EOF
cat >"$pg/data/pg_hba.conf" <<EOF
local all all trust
host platform ops $net.0/24 scram-sha-256
EOF
ip netns exec "$tag-db" runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -t 60 start >/dev/null
psql_admin() { "$pgbin/psql" -h "$pg" -p "$port" -U postgres -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_admin -d postgres -c "CREATE ROLE ops LOGIN PASSWORD '$secret'" -c "CREATE DATABASE platform OWNER ops"
# The store's tables are in schema cursorctl.
sql() { psql_admin -d platform -c "SET search_path = cursorctl" -c "$1"; }

url() { # HOST [APPLICATION_NAME [EXTRA_PARAMETERS]]
    printf 'postgres://ops:%s@%s:%s/platform?application_name=%s%s' \
        "$secret" "$db_ip" "$port" "${2:-host-$1}" "${3:-}"
}
on() { # HOST COMMAND...: run on a host, as its user
    local h=$1
    shift
    ip netns exec "$tag-$h" env CURSORCTL_USER="host-$h" NO_COLOR=1 "$@"
}
# An acknowledged write: exit 0 and its change records (ndjson) kept.
write() { # HOST ARGS...
    local h=$1 rc=0
    shift
    on "$h" timeout -k 10 120 "$bin" --db "$(url "$h")" -o ndjson "$@" \
        >"$out/last.$h" 2>>"$out/stderr.$h" || rc=$?
    [ "$rc" = 0 ] || return "$rc"
    cat "$out/last.$h" >>"$out/acks.$h"
}
read_cmd() { # HOST ARGS...
    local h=$1
    shift
    on "$h" timeout -k 10 120 "$bin" --db "$(url "$h")" "$@" 2>>"$out/stderr.$h"
}
# One run of the example consumer: COUNT messages from where its cursor is.
consume() { # HOST COUNT
    local h=$1 line
    line=$(on "$h" timeout -k 10 120 "$consumer" "$(url "$h" "consumer-$h")" "svc-$h" events:0 "$2" \
        2>>"$out/stderr.$h") || return 1
    # "...: processed N messages from S to E; K stale checkpoints; the store holds Some(E)"
    local pattern='from ([0-9]+) to ([0-9]+);.*holds Some\(([0-9]+)\)'
    [[ $line =~ $pattern ]] || return 1
    [ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ] || return 1
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}" >>"$out/consumer.$h"
}

echo "== init, and the first writes from every host"
write a init || fail "init on host a"
mv "$out/acks.a" "$out/init.a" # a location, not a change
on b timeout -k 10 60 "$bin" --db "$(url b)" init -q 2>>"$out/stderr.b" || fail "a second init (host b)"
write a set ops shared:0 0 --create || fail "set on host a"
for h in "${hosts[@]}"; do
    consume "$h" 250 || fail "the consumer on host $h"
    write "$h" set "ops-$h" keep:0 5 --create || fail "set on host $h"
    read_cmd "$h" get -o ndjson >/dev/null || fail "get on host $h"
done

# The operator's loop on hosts a and b, until $work/stop exists: advance the
# shared cursor (both hosts race on it), set and undo their own cursors, a
# small bulk write and its undo, reads. Every success is stamped.
operator() { # HOST
    local h=$1 i=0 id batch
    while [ ! -e "$work/stop" ]; do
        i=$((i + 1))
        write "$h" advance ops shared:0 --busy-timeout 60s || {
            echo "advance $i" >"$out/failed.$h"
            return
        }
        write "$h" set "ops-$h" "own:$((i % 3))" "$((i * 10))" --create || {
            echo "set $i" >"$out/failed.$h"
            return
        }
        if [ $((i % 3)) = 0 ]; then
            id=$(jq -r .id "$out/last.$h")
            write "$h" undo "$id" --reason "check from host $h" || {
                echo "undo $id" >"$out/failed.$h"
                return
            }
        fi
        if [ $((i % 4)) = 0 ]; then
            seq 0 49 | awk -v h="$h" -v i="$i" '{ printf "{\"key\":\"ops-%s:bulk:%d\",\"offset\":%d}\n", h, $1, i * 100 + $1 }' \
                >"$work/small.$h"
            write "$h" set --from-file "$work/small.$h" --create || {
                echo "bulk $i" >"$out/failed.$h"
                return
            }
            if [ $((i % 8)) = 0 ]; then
                batch=$(on "$h" timeout -k 10 60 "$bin" --db "$(url "$h")" history "ops-$h" bulk:0 --limit 1 -o ndjson | jq -r .batch)
                write "$h" undo --batch "$batch" --reason "check from host $h" || {
                    echo "undo --batch $batch" >"$out/failed.$h"
                    return
                }
            fi
        fi
        if ! read_cmd "$h" get ops shared:0 -o value >/dev/null ||
            ! read_cmd "$h" history "ops-$h" --limit 3 >/dev/null; then
            echo "reads $i" >"$out/failed.$h"
            return
        fi
        now >>"$out/times.$h"
        sleep 0.1
    done
}
consumer_loop() { # HOST
    local h=$1 i=0
    while [ ! -e "$work/stop" ]; do
        i=$((i + 1))
        consume "$h" 300 || {
            echo "consumer run $i" >"$out/failed.$h"
            return
        }
        now >>"$out/times.$h"
        sleep 0.2
    done
}

echo "== hosts a and b: consumers and operators at work"
pids=()
for h in a b; do
    operator "$h" &
    pids+=($!)
    consumer_loop "$h" &
    pids+=($!)
done

# Host c: a bulk write of many new cursors, and one existing cursor moved
# in the same transaction, over a link that is cut while the write runs.
# Long enough (several seconds, written a chunk of 8,192 lines at a time)
# for the cut to fall while it runs.
lines=300000
{
    echo '{"key":"ops-c:keep:0","offset":500}'
    seq 1 "$lines" | awk '{ printf "{\"key\":\"bulk-c:load:%d\",\"offset\":%d}\n", $1, $1 }'
} >"$work/bulk.ndjson"
sleep 2
echo "== host c: set --from-file of $((lines + 1)) lines, link cut mid-write"
bulk_started=$(now)
on c timeout -k 10 120 "$bin" --db "$(url c bulk-c)" set --from-file "$work/bulk.ndjson" --create -q \
    >"$out/bulk.stdout" 2>"$out/bulk.stderr" &
bulk=$!
# Under way: the server has given the transaction an id (it has written).
writing=
for _ in $(seq 1 600); do
    if [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bulk-c' AND backend_xid IS NOT NULL")" = 1 ]; then
        writing=1
        break
    fi
    kill -0 "$bulk" 2>/dev/null || break
    sleep 0.1
done
[ -n "$writing" ] || fail "host c's bulk write never showed a transaction that had written ($(cat "$out/bulk.stderr"))"
sleep 1
kill -0 "$bulk" 2>/dev/null || fail "the bulk write ended before the cut ($(since "$bulk_started")s): raise lines"
ip -n "$tag-db" link set port-c down
cut_at=$(now)
cut_after=$(awk -v a="$bulk_started" -v b="$cut_at" 'BEGIN { printf "%.1f", b - a }')
say "   cut ${cut_after}s after the bulk write started"
# When the server drops c's connection (its keepalives), whatever the client does.
(
    for _ in $(seq 1 1200); do
        if [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bulk-c'")" = 0 ]; then
            since "$cut_at" >"$work/backend-gone"
            break
        fi
        sleep 0.1
    done
) &
poller=$!
rc=0
wait "$bulk" || rc=$?
cut_exit=$(now)
cut_secs=$(since "$cut_at")
message=$(cat "$out/bulk.stderr")
say "   host c exited $rc, ${cut_secs}s after the cut: $message"
case $rc in 124 | 137) fail "host c hung after the cut (killed after 120 s)" ;; esac
[ "$rc" = 7 ] || fail "host c exited $rc, not 7"
# docs/postgres.md: host c exits about 20 seconds after the cut, the
# network timeout cursorctl sets (tcp_user_timeout, DEFAULT_NETWORK_TIMEOUT
# in src/store/postgres/target.rs): not before its first keepalive probe
# (10 s), nor long after the 20 s.
less 10 "$cut_secs" || fail "host c gave up ${cut_secs}s after the cut, before its network timeout (20 s)"
less "$cut_secs" 30 || fail "host c took ${cut_secs}s to notice the cut, past its network timeout (20 s)"
[[ $message == *"rolled back"* ]] || fail "the message does not say the transaction was rolled back"
[[ $message == *"$db_ip:$port/platform"* ]] || fail "the message does not name the server and database"
[[ $message != *"$secret"* ]] || fail "the message shows the password"
[ ! -s "$out/bulk.stdout" ] || fail "host c printed changes it did not commit"

# The server drops c's connection by itself (its keepalives): the transaction
# rolls back and its row lock goes.
wait "$poller"
[ -s "$work/backend-gone" ] || fail "the server still holds host c's connection 2 minutes after the cut"
backend_secs=$(cat "$work/backend-gone")
say "   the server dropped host c's connection ${backend_secs}s after the cut"
# docs/postgres.md: within seconds (the cluster's keepalives and
# tcp_user_timeout above, 3 to 4 s), well before host c gives up.
less "$backend_secs" 10 || fail "the server dropped host c's connection ${backend_secs}s after the cut, not within seconds"
[ "$(sql "SELECT count(*) FROM cursors WHERE consumer = 'bulk-c'")" = 0 ] || fail "cursors of the cut bulk write are in the store"
[ "$(sql "SELECT count(*) FROM history WHERE consumer = 'bulk-c'")" = 0 ] || fail "history of the cut bulk write is in the store"
[ "$(sql "SELECT \"offset\" FROM cursors WHERE consumer = 'ops-c'")" = 5 ] || fail "the cut bulk write moved ops-c:keep:0"

# While c was cut off, a and b went on.
for h in a b; do
    [ ! -e "$out/failed.$h" ] || fail "host $h failed during the cut: $(cat "$out/failed.$h")"
    during=$(awk -v a="$cut_at" -v b="$cut_exit" '$1 > a && $1 < b' "$out/times.$h" | wc -l)
    [ "$during" -gt 0 ] || fail "host $h did nothing while host c was cut off"
    say "   host $h: $during operator rounds and consumer runs while host c was cut off"
done

echo "== host c's link back: it works again"
ip -n "$tag-db" link set port-c up
for _ in $(seq 1 100); do
    on c timeout -k 10 10 "$bin" --db "$(url c)&connect_timeout=2" get ops-c keep:0 -o value >/dev/null 2>&1 && break
    sleep 0.2
done
write c advance ops-c keep:0 || fail "advance on host c after the link came back"
consume c 250 || fail "the consumer on host c after the link came back"
read_cmd c history ops-c -o ndjson >/dev/null || fail "history on host c"

sleep 1
touch "$work/stop"
for p in "${pids[@]}"; do wait "$p"; done
for h in a b; do
    [ ! -e "$out/failed.$h" ] || fail "host $h: $(cat "$out/failed.$h")"
done

echo "== the store holds every acknowledged change and nothing else"
read_cmd a history -o ndjson >"$work/history.ndjson" || fail "history"
read_cmd a get -o ndjson >"$work/cursors.ndjson" || fail "get"
# The changes: id, key, old, new and the host that was told (its user).
for h in "${hosts[@]}"; do
    jq -c --arg u "host-$h" 'select(.id != null) | [.id, .key, .old_offset, .new_offset, $u]' "$out/acks.$h"
done | sort >"$work/acked"
jq -c '[.id, .key, .old_offset, .new_offset, .user]' "$work/history.ndjson" | sort >"$work/recorded"
if ! cmp -s "$work/acked" "$work/recorded"; then
    diff "$work/acked" "$work/recorded" | head -n 20 >&2
    fail "the history is not exactly the acknowledged changes"
fi
acked=$(wc -l <"$work/acked")
# Each consumer run went on from where the one before it ended.
for h in "${hosts[@]}"; do
    awk 'NR > 1 && $1 != last { bad = 1 } { last = $2 } END { exit bad }' "$out/consumer.$h" ||
        fail "a consumer run of host $h did not start where the one before it ended"
done
# Each cursor holds what its last acknowledged change or consumer run left.
{
    for h in "${hosts[@]}"; do
        cat "$out/acks.$h"
    done | jq -rs 'map(select(.id != null)) | group_by(.key) | map(max_by(.id))[]
        | select(.new_offset != null) | "\(.key) \(.new_offset)"'
    for h in "${hosts[@]}"; do
        echo "svc-$h:events:0 $(tail -n 1 "$out/consumer.$h" | cut -d' ' -f2)"
    done
} | sort >"$work/expected"
jq -r '"\(.key) \(.offset)"' "$work/cursors.ndjson" | sort >"$work/stored"
if ! cmp -s "$work/expected" "$work/stored"; then
    diff "$work/expected" "$work/stored" | head -n 20 >&2
    fail "the cursors are not what the acknowledged changes left"
fi
advances=$(jq -c 'select(.key == "ops:shared:0" and .status == "advanced")' "$out/acks.a" "$out/acks.b" | wc -l)
[ "$(jq -r 'select(.key == "ops:shared:0") | .offset' "$work/cursors.ndjson")" = "$advances" ] ||
    fail "ops:shared:0 does not hold the $advances acknowledged advances"
[ "$(sql "SELECT count(*) FROM batches WHERE id NOT IN (SELECT batch FROM history WHERE batch IS NOT NULL)")" = 0 ] ||
    fail "a batch without changes is in the store"
say "   $acked acknowledged changes = the history; $(wc -l <"$work/stored") cursors as expected; ops:shared:0 = $advances advances from hosts a and b"

echo "== leased consumers on the three hosts, one partition: host c holds the lease, its link is cut"
# Each instance takes the lease of leased:events:0 (waiting while another
# owner's is live), checkpoints every message through it and renews it;
# fenced, it stops, acquires again and resyncs. They share the work up to
# offset $lease_end, then release and exit 0.
lease_end=500
lease_ttl=3000
leased() { # HOST: runs in the background, one line per event in $out/lease.HOST
    local h=$1
    on "$h" timeout -k 10 300 "$consumer" "$(url "$h" "leased-$h")" leased events:0 "$lease_end" \
        --lease "host-$h" --ttl-ms "$lease_ttl" --pace-ms 40 >"$out/lease.$h" 2>>"$out/stderr.$h"
}
# `wait_line FILE PATTERN SECONDS`: until a line of FILE matches PATTERN (grep -E).
wait_line() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
leased c &
lease_c=$!
wait_line "$out/lease.c" '^checkpointed 20$' 60 || fail "host c's leased consumer did not start: $(tail -n 3 "$out/lease.c")"
leased a &
lease_a=$!
leased b &
lease_b=$!
for h in a b; do
    wait_line "$out/lease.$h" '^waiting host-c ' 30 || fail "host $h did not wait for host c's live lease: $(head -n 3 "$out/lease.$h")"
done
head -n 1 "$out/lease.c" | grep -qx 'acquired 1 0' || fail "host c did not take the lease first, at epoch 1: $(head -n 1 "$out/lease.c")"
ip -n "$tag-db" link set port-c down
lease_cut_at=$(now)
c_lines=$(wc -l <"$out/lease.c")
c_last=$(grep '^checkpointed ' "$out/lease.c" | tail -n 1 | cut -d' ' -f2)
say "   host c cut off after checkpointing $c_last"
# Its lease expires on the server's clock; another host takes over from
# host c's last checkpoint.
taker=
for _ in $(seq 1 600); do
    for h in a b; do
        if grep -q '^acquired ' "$out/lease.$h"; then
            taker=$h
            break 2
        fi
    done
    sleep 0.1
done
[ -n "$taker" ] || fail "no host took the partition over in 60 s after host c's link was cut"
took=$(grep -m 1 '^acquired ' "$out/lease.$taker")
say "   host $taker took over $(since "$lease_cut_at")s after the cut: $took"
read -r _ took_epoch took_at <<<"$took"
[ "$took_epoch" = 2 ] || fail "host $taker took the lease at epoch $took_epoch, not 2"
# From what host c last wrote: its last acknowledged checkpoint, or the
# one in flight when the link went down.
[ "$took_at" -ge "$c_last" ] && [ "$took_at" -le $((c_last + 1)) ] ||
    fail "host $taker went on from $took_at, not from host c's last checkpoint $c_last"
wait_line "$out/lease.$taker" "^checkpointed $((took_at + 10))\$" 60 || fail "host $taker did not go on after taking over"
# Host c, reconnected: its next checkpoint through the old lease is fenced.
ip -n "$tag-db" link set port-c up
wait_line "$out/lease.c" '^fenced ' 120 || fail "host c was not fenced after its link came back: $(tail -n 5 "$out/lease.c")"
fenced=$(grep -m 1 '^fenced ' "$out/lease.c")
say "   host c reconnected: $fenced"
tail -n +"$((c_lines + 1))" "$out/lease.c" | sed '/^fenced /q' | grep -q '^checkpointed ' &&
    fail "host c checkpointed after its link was cut, before it was fenced"
for p in "$lease_a" "$lease_b" "$lease_c"; do
    wait "$p" || fail "a leased consumer exited $? ($(tail -n 2 "$out"/lease.? | tr '\n' ' '))"
done
# Nothing was written twice or lost: every checkpoint of every owner, in
# the order written, is the one after the last, from 1 to the end; and the
# store holds the end.
# (Host c's checkpoint in flight when its link went down, committed but
# never acknowledged, is the one offset no host says it checkpointed.)
for h in "${hosts[@]}"; do grep -h '^checkpointed ' "$out/lease.$h" || true; done | cut -d' ' -f2 | sort -n >"$work/lease-checkpoints"
seq 1 "$lease_end" | { if [ "$took_at" -gt "$c_last" ]; then grep -vx "$took_at"; else cat; fi; } >"$work/lease-expected"
diff "$work/lease-expected" "$work/lease-checkpoints" >/dev/null ||
    fail "the leased checkpoints are not 1..$lease_end once each: $(diff "$work/lease-expected" "$work/lease-checkpoints" | head -n 5 | tr '\n' ' ')"
[ "$(sql "SELECT \"offset\" FROM cursors WHERE consumer = 'leased'")" = "$lease_end" ] ||
    fail "leased:events:0 does not hold $lease_end"
say "   checkpoints 1..$lease_end each written once, by the live owner; host c fenced, nothing of it written after the cut"

echo "== no answer, a cut link, a stopped server: exit 7 within the connect timeout (2 s)"
printf '{"key":"ops-a:late:%d","offset":1}\n' 1 2 3 >"$work/late.ndjson"
refused() { # HOST URL WHAT ARGS...: sets $secs
    local h=$1 u=$2 what=$3 t rc=0 err
    shift 3
    t=$(now)
    on "$h" timeout -k 10 30 "$bin" --db "$u" "$@" >/dev/null 2>"$out/refused" || rc=$?
    secs=$(since "$t")
    err=$(cat "$out/refused")
    cat "$out/refused" >>"$out/stderr.$h"
    say "   $what: exit $rc after ${secs}s: $err"
    [ "$rc" = 7 ] || fail "$what: exit $rc, not 7"
    less "$secs" 6 || fail "$what: ${secs}s, past the connect timeout"
    [[ $err == *"/platform"* ]] || fail "$what: the message does not name the database"
    [[ $err != *"$secret"* ]] || fail "$what: the message shows the password"
}
t2="&connect_timeout=2"
refused a "postgres://ops:$secret@10.77.9.9:$port/platform?connect_timeout=2" \
    "get from a, address that never answers" get
less 1.5 "$secs" || fail "an address that never answers failed before the connect timeout"
ip -n "$tag-db" link set port-c down
refused c "$(url c host-c "$t2")" "advance from c, link down" advance ops-c keep:0
less 1.5 "$secs" || fail "a host whose link is down failed before the connect timeout"
ip -n "$tag-db" link set port-c up
ip netns exec "$tag-db" runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null
refused a "$(url a host-a "$t2")" "get from a, server stopped" get
refused b "$(url b host-b "$t2")" "advance from b, server stopped" advance ops shared:0
refused a "$(url a host-a "$t2")" "set --from-file from a, server stopped" set --from-file "$work/late.ndjson" --create

if grep -rl -- "$secret" "$out" >/dev/null; then
    fail "the password appears in the output of: $(grep -rl -- "$secret" "$out" | xargs -n1 basename | tr '\n' ' ')"
fi
echo "== many hosts: passed in $(since "$started")s ($acked acknowledged changes; host c cut after ${cut_after}s of its bulk write, exit 7 ${cut_secs}s later; no password in any output)"
