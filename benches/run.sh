#!/usr/bin/env bash
# Benchmark cursorctl against the sqlite3 shell doing the same jobs on the
# same store files, in the same run. Prints a table of medians and ratios
# (cursorctl / sqlite3) and writes it to target/bench/results.md.
#
#   bash benches/run.sh            # stores of 1,000,000 and 10,000,000 cursors
#   bash benches/run.sh --quick    # 100,000 cursors only, fewer runs (a smoke test)
#   bash benches/run.sh --postgres-only [--quick]   # the PostgreSQL section alone
#
# The bulk write is timed with 1,000,000 lines in rounds, and run once with
# 10,000,000 lines (every cursor of the larger store) for its time and peak
# memory.
#
# Then the same jobs on PostgreSQL against psql, when a server is reachable
# at $CURSORCTL_BENCH_PG (default postgres://postgres@127.0.0.1/test; the
# stores are schemas bench_N of that database, kept between runs), and the
# library's checkpoints against a plain `postgres`-crate loop; that table
# is written to target/bench/results-postgres.md. `--sqlite-only` skips it.
#
# Needs sqlite3, hyperfine, jq and GNU time (and psql for PostgreSQL);
# installs them with apt-get when they are missing and it may (root, or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
SQLITE=1
POSTGRES=1
for arg in "$@"; do
    case $arg in
    --quick) QUICK=1 ;;
    --postgres-only | --postgres) SQLITE=0 ;;
    --sqlite-only) POSTGRES=0 ;;
    *)
        echo "usage: bash benches/run.sh [--quick] [--postgres-only | --sqlite-only]" >&2
        exit 2
        ;;
    esac
done

SIZES=(1000000 10000000)
BULK_LINES=1000000
BIG_BULK_LINES=10000000 # one run, against the store of the same size
SIM_MESSAGES=10000000
# One-shot commands: RUNS_FAST runs of each in ROUNDS rounds. Short rounds
# keep a drift in the machine's speed (minutes long on a shared machine)
# from falling on one command of a job more than on the other.
RUNS_FAST=200 # in ROUNDS rounds
ROUNDS=20
RUNS_SLOW=5 # one run per round, the commands alternating
if ((QUICK)); then
    SIZES=(100000)
    BULK_LINES=100000
    BIG_BULK_LINES=
    SIM_MESSAGES=1000000
    RUNS_FAST=30
    ROUNDS=6
    RUNS_SLOW=2
fi

need() {
    local missing=()
    if ((SQLITE)); then command -v sqlite3 >/dev/null || missing+=(sqlite3); fi
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    command -v jq >/dev/null || missing+=(jq)
    [[ -x /usr/bin/time ]] || missing+=(time)
    if ((POSTGRES)); then command -v psql >/dev/null || missing+=(postgresql-client); fi
    if ((${#missing[@]})); then
        echo "installing ${missing[*]}" >&2
        local sudo=()
        [[ $(id -u) == 0 ]] || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
need

cargo build --release --quiet
BIN="$PWD/target/release/cursorctl"
WORK="$PWD/target/bench"
mkdir -p "$WORK"
RESULTS="$WORK/results.md"

NOW_MS="CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

# make_store FILE N: a store of N cursors: 1000 consumers, N/1,000,000 (at
# least 1) channels, partitions to fill; varied update times.
make_store() {
    local file=$1 n=$2
    [[ -f "$file" ]] && return
    rm -f "$file" "$file-wal" "$file-shm"
    "$BIN" --db "$file" -q init
    local per_consumer=$((n / 1000))
    local parts=$((per_consumer < 1000 ? per_consumer : 1000))
    sqlite3 "$file" >/dev/null <<SQL
PRAGMA synchronous = OFF;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $n - 1)
INSERT INTO cursors (consumer, channel, partition, offset, updated_at)
SELECT printf('c%04d', i / $per_consumer),
       printf('ch%d', (i % $per_consumer) / $parts),
       (i % $per_consumer) % $parts,
       (i * 7919) % 1000000000,
       1764000000000 + (i * 104729) % 86400000
FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
}

# timed NAME ROUNDS RUNS WARMUP [HYPERFINE OPTIONS] CMD...: time the
# commands in ROUNDS hyperfine invocations of RUNS runs each, so that a
# change in the machine's load falls on every command alike; then print the
# median (ms) of each command over all its runs, one a line.
timed() {
    local name=$1 rounds=$2 runs=$3 warmup=$4 r
    shift 4
    local files=()
    for ((r = 0; r < rounds; r++)); do
        hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$WORK/$name-$r.json" "$@" >/dev/null
        files+=("$WORK/$name-$r.json")
    done
    jq -s 'range(0; .[0].results | length) as $i | [.[].results[$i].times[]] | sort
        | (.[(length - 1) / 2 | floor] + .[length / 2 | floor]) / 2 * 1000' "${files[@]}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# row LABEL CURSORCTL_MS SQLITE_MS TARGET
row() {
    local r
    [[ -n "$2" && -n "$3" ]] || { echo "benchmark failed: $1" >&2; exit 1; }
    r=$(ratio "$2" "$3")
    printf '| %s | %.2f ms | %.2f ms | %sx | %s |\n' "$1" "$2" "$3" "$r" "$4" >>"$RESULTS.rows"
    printf '%-45s cursorctl %10.2f ms   sqlite3 %10.2f ms   ratio %s (target %s)\n' "$1" "$2" "$3" "$r" "$4" >&2
}

# peak_kb CMD...: maximum resident set size of one run, output discarded.
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

if ((SQLITE)); then
    : >"$RESULTS.rows"
    for n in "${SIZES[@]}"; do
        store="$WORK/store-$n.db"
        echo "== $n cursors: generating $store" >&2
        make_store "$store" "$n"
        consumer=c0500
        key_sql="consumer = 'c0500' AND channel = 'ch0' AND partition = 7"

        # 1. get one cursor.
        mapfile -t ms < <(timed get "$ROUNDS" $((RUNS_FAST / ROUNDS)) 5 \
            "$BIN --db $store get $consumer ch0:7 -o value" \
            "sqlite3 -readonly $store \"SELECT offset FROM cursors WHERE $key_sql\"")
        row "get one cursor ($n)" "${ms[0]}" "${ms[1]}" "<= 0.6x"

        # 2. advance one cursor: a guarded update in BEGIN IMMEDIATE, synchronous=FULL.
        mapfile -t ms < <(timed advance "$ROUNDS" $((RUNS_FAST / ROUNDS)) 3 \
            "$BIN --db $store -q advance $consumer ch0:7" \
            "sqlite3 $store \"PRAGMA synchronous=FULL; BEGIN IMMEDIATE; UPDATE cursors SET offset = offset + 1, updated_at = $NOW_MS WHERE $key_sql AND offset + 1 >= offset; COMMIT;\"")
        row "advance one cursor ($n)" "${ms[0]}" "${ms[1]}" "<= 0.8x"

        # 3. list every cursor as NDJSON, and peak memory.
        mapfile -t ms < <(timed list "$RUNS_SLOW" 1 0 \
            "$BIN --db $store get -o ndjson" \
            "sqlite3 -readonly -json $store \"SELECT * FROM cursors\"")
        row "list all as NDJSON ($n)" "${ms[0]}" "${ms[1]}" "<= 1.0x"
        ours_kb=$(peak_kb "$BIN" --db "$store" get -o ndjson)
        theirs_kb=$(peak_kb sqlite3 -readonly -json "$store" "SELECT * FROM cursors")
        printf '| peak memory, list all (%s) | %s KiB | %s KiB | %sx | < 32 MiB |\n' "$n" "$ours_kb" "$theirs_kb" "$(ratio "$ours_kb" "$theirs_kb")" >>"$RESULTS.rows"
        echo "peak memory listing $n: cursorctl $ours_kb KiB, sqlite3 $theirs_kb KiB" >&2

        # 3b. the listing and `status` with a head for every partition,
        # against the plain listing of the same store without heads (step
        # 3's cursorctl figure, measured again in the same rounds), and
        # their peak memory.
        plain="$WORK/store-$n-plain.db"
        sqlite3 "$store" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
        cp "$store" "$plain"
        sqlite3 "$store" "INSERT OR REPLACE INTO heads (channel, partition, head, recorded_at) SELECT channel, partition, max(offset) + 100, $NOW_MS FROM cursors GROUP BY channel, partition"
        mapfile -t ms < <(timed heads "$RUNS_SLOW" 1 0 \
            "$BIN --db $store get -o ndjson" \
            "$BIN --db $store status -o ndjson --stall-after 1000d" \
            "$BIN --db $plain get -o ndjson")
        row "list all with heads, head and lag, vs without ($n)" "${ms[0]}" "${ms[2]}" "<= 1.2x"
        row "status of all with heads vs the plain listing ($n)" "${ms[1]}" "${ms[2]}" "<= 1.2x"
        ours_kb=$(peak_kb "$BIN" --db "$store" get -o ndjson)
        status_kb=$(peak_kb "$BIN" --db "$store" status -o ndjson --stall-after 1000d)
        printf '| peak memory, list all with heads / status (%s) | %s / %s KiB | | | < 32 MiB |\n' "$n" "$ours_kb" "$status_kb" >>"$RESULTS.rows"
        sqlite3 "$store" "DELETE FROM heads"
        rm -f "$plain" "$plain-wal" "$plain-shm"
    done

    # 3c. `head set --from-file` of HEAD_LINES heads against `set
    # --from-file --create` of as many new cursors, each on a fresh copy of
    # an empty store.
    HEAD_LINES=100000
    empty="$WORK/empty.db"
    rm -f "$empty" "$empty-wal" "$empty-shm"
    "$BIN" --db "$empty" -q init
    heads_in="$WORK/heads-$HEAD_LINES.ndjson"
    cursors_in="$WORK/cursors-$HEAD_LINES.ndjson"
    seq 0 $((HEAD_LINES - 1)) | awk '{ printf "{\"partition_key\":\"h%d:%d\",\"head\":%d}\n", $1 % 100, $1, $1 + 1 }' >"$heads_in"
    seq 0 $((HEAD_LINES - 1)) | awk '{ printf "{\"consumer\":\"c\",\"partition_key\":\"h%d:%d\",\"offset\":%d}\n", $1 % 100, $1, $1 + 1 }' >"$cursors_in"
    hwork="$WORK/heads-work.db"
    mapfile -t ms < <(timed head-set "$RUNS_SLOW" 1 0 \
        --prepare "bash -c 'rm -f $hwork-wal $hwork-shm; cp $empty $hwork'" \
        "$BIN --db $hwork -q head set --from-file $heads_in" \
        "$BIN --db $hwork -q set --from-file $cursors_in --create")
    row "head set --from-file $HEAD_LINES heads vs set --from-file as many new cursors" "${ms[0]}" "${ms[1]}" "about 1x"
    rm -f "$hwork" "$hwork-wal" "$hwork-shm" "$empty" "$heads_in" "$cursors_in"

    # 4. set --from-file of LINES NDJSON lines vs .import + UPDATE ... FROM.
    # bulk_setup LINES STORE: a checkpointed copy of STORE to start each run
    # from, the moves (every cursor, in key order, up to LINES) as NDJSON and
    # CSV, and the two sqlite3 scripts; sets $bulk, $moves_json and $scripts.
    bulk_setup() {
        local lines=$1 store=$2
        bulk="$WORK/bulk-base-$(basename "$store")"
        if [[ ! -f "$bulk" ]]; then
            sqlite3 "$store" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
            cp "$store" "$bulk"
        fi
        moves_json="$WORK/moves-$lines.ndjson"
        local moves_csv="$WORK/moves-$lines.csv"
        sqlite3 -readonly "$bulk" "SELECT json_object('consumer', consumer, 'partition_key', channel || ':' || partition, 'offset', offset + 1, 'expect', offset) FROM cursors ORDER BY consumer, channel, partition LIMIT $lines" >"$moves_json"
        {
            echo "consumer,channel,partition,offset,expect"
            sqlite3 -readonly -csv "$bulk" "SELECT consumer, channel, partition, offset + 1, offset FROM cursors ORDER BY consumer, channel, partition LIMIT $lines"
        } >"$moves_csv"
        scripts="$WORK/import-$lines"
        cat >"$scripts.sql" <<SQL
PRAGMA synchronous = FULL;
CREATE TEMP TABLE moves (consumer TEXT, channel TEXT, partition INTEGER, offset INTEGER, expect INTEGER);
.import --csv --skip 1 $moves_csv moves
BEGIN IMMEDIATE;
UPDATE cursors SET offset = moves.offset, updated_at = $NOW_MS
FROM moves
WHERE cursors.consumer = moves.consumer AND cursors.channel = moves.channel
  AND cursors.partition = moves.partition
  AND cursors.offset = moves.expect AND moves.offset >= cursors.offset;
COMMIT;
SQL
        # The same script, also writing what cursorctl writes besides the
        # cursors: a batch and one history row per change (context for the
        # ratio above).
        sed 's/^UPDATE cursors SET/INSERT INTO batches (at, command, user) VALUES ('"$NOW_MS"', '"'"'set --from-file'"'"', '"'"'bench'"'"');\
INSERT INTO history (at, consumer, channel, partition, old_offset, new_offset, command, user, batch)\
SELECT '"$NOW_MS"', cursors.consumer, cursors.channel, cursors.partition, cursors.offset, moves.offset,\
       '"'"'set'"'"', '"'"'bench'"'"', (SELECT max(id) FROM batches)\
FROM moves JOIN cursors ON cursors.consumer = moves.consumer AND cursors.channel = moves.channel\
  AND cursors.partition = moves.partition\
  AND cursors.offset = moves.expect AND moves.offset >= cursors.offset;\
&/' "$scripts.sql" >"$scripts-audited.sql"
    }

    bulk_setup "$BULK_LINES" "$WORK/store-${SIZES[0]}.db"
    work="$WORK/bulk-work.db"
    fresh_work() { rm -f "$work-wal" "$work-shm"; cp "$bulk" "$work"; }
    mapfile -t ms < <(timed bulk "$RUNS_SLOW" 1 0 \
        --prepare "bash -c 'rm -f $work-wal $work-shm; cp $bulk $work'" \
        "$BIN --db $work -q set --from-file $moves_json" \
        "sqlite3 $work -init $scripts.sql .quit" \
        "sqlite3 $work -init $scripts-audited.sql .quit")
    row "set --from-file $BULK_LINES lines" "${ms[0]}" "${ms[1]}" "<= 1.0x"
    row "set --from-file $BULK_LINES lines vs sqlite3 also writing history" "${ms[0]}" "${ms[2]}" "(context)"
    fresh_work
    bulk_kb=$(peak_kb "$BIN" --db "$work" -q set --from-file "$moves_json")
    printf '| peak memory, set --from-file %s lines | %s KiB | | | < 64 MiB |\n' "$BULK_LINES" "$bulk_kb" >>"$RESULTS.rows"
    echo "peak memory set --from-file $BULK_LINES lines: $bulk_kb KiB" >&2

    # The large bulk write: one run of each, wall time and peak memory together.
    if [[ -n "$BIG_BULK_LINES" ]]; then
        bulk_setup "$BIG_BULK_LINES" "$WORK/store-${SIZES[-1]}.db"
        fresh_work
        read -r ours_s ours_kb < <(/usr/bin/time -f '%e %M' "$BIN" --db "$work" -q set --from-file "$moves_json" 2>&1 >/dev/null | tail -1)
        fresh_work
        read -r theirs_s theirs_kb < <(/usr/bin/time -f '%e %M' sqlite3 "$work" -init "$scripts.sql" .quit 2>&1 >/dev/null | tail -1)
        row "set --from-file $BIG_BULK_LINES lines (one run)" "$(awk -v s="$ours_s" 'BEGIN { print s * 1000 }')" "$(awk -v s="$theirs_s" 'BEGIN { print s * 1000 }')" "(one run)"
        printf '| peak memory, set --from-file %s lines | %s KiB | %s KiB | | < 64 MiB |\n' "$BIG_BULK_LINES" "$ours_kb" "$theirs_kb" >>"$RESULTS.rows"
        echo "peak memory set --from-file $BIG_BULK_LINES lines: cursorctl $ours_kb KiB, sqlite3 $theirs_kb KiB" >&2
        rm -f "$moves_json" "${moves_json%.ndjson}.csv"
    fi
    rm -f "$work" "$work-wal" "$work-shm"

    # 5. flush-sim dry runs.
    base="$WORK/store-${SIZES[0]}.db"
    sim_rows=""
    for policy in per-message per-batch:100 per-batch:1000 explicit-flush; do
        out=$(/usr/bin/time -f '%e %M' "$BIN" --db "$base" flush-sim c0500 ch0:7 --policy "$policy" --messages "$SIM_MESSAGES" -q 2>&1 >/dev/null | tail -1)
        read -r secs kb <<<"$out"
        sim_rows+="| $policy | $SIM_MESSAGES | $secs s | $kb KiB |"$'\n'
        echo "flush-sim $policy $SIM_MESSAGES messages: $secs s, $kb KiB" >&2
    done

    {
        echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); $(sqlite3 --version | cut -d' ' -f1-2 | sed 's/^/sqlite3 /'); $(hyperfine --version)."
        echo
        echo "| job | cursorctl | sqlite3 | ratio | target |"
        echo "| --- | ---: | ---: | ---: | --- |"
        cat "$RESULTS.rows"
        echo
        echo "| flush-sim dry run | messages | wall time | peak memory |"
        echo "| --- | ---: | ---: | ---: |"
        printf '%s' "$sim_rows"
    } >"$RESULTS"
    rm -f "$RESULTS.rows"
    echo >&2
    cat "$RESULTS"
fi

# ---------------------------------------------------------------------------
# PostgreSQL: the same jobs against psql on the same server, in the same
# alternating rounds, and the library's checkpoints against a plain
# `postgres`-crate loop. Both programs connect with sslmode=disable (no TLS
# attempt) and without PGOPTIONS; psql runs as `psql -XAtq` (no psqlrc,
# unaligned, tuples only, quiet) and names the store's tables with their
# schema, where cursorctl sends the schema in its start-up packet.
PG_URL=${CURSORCTL_BENCH_PG:-postgres://postgres@127.0.0.1/test}

# with_param URL PARAM: URL with one more query parameter.
with_param() { if [[ $1 == *\?* ]]; then echo "$1&$2"; else echo "$1?$2"; fi; }
# shown URL: the URL without its password.
shown() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
# shq TEXT: TEXT quoted for a hyperfine command line (POSIX single quotes).
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

PG_CONN=$(with_param "$PG_URL" sslmode=disable)
unset PGOPTIONS
PSQL="psql -XAtq -v ON_ERROR_STOP=1 -d $(shq "$PG_CONN")"
# The psql on the PATH may be a wrapper script (Debian's pg_wrapper, a Perl
# program that picks the version and then runs the real psql); the targets
# are set against it, and the real binary is timed too, for context.
PSQL_BIN=""
if ((POSTGRES)) && command -v psql >/dev/null && [[ $(head -c 2 "$(command -v psql)") == '#!' ]]; then
    PSQL_BIN=$(find /usr/lib/postgresql -path '*/bin/psql' 2>/dev/null | sort -V | tail -1)
fi
# pg SQL...: statements run by psql for the script's own work (not timed).
pg() {
    local args=()
    for sql in "$@"; do args+=(-c "$sql"); done
    PGOPTIONS='-c client_min_messages=warning' psql -XAtq -v ON_ERROR_STOP=1 -d "$PG_CONN" "${args[@]}"
}
PG_NOW="(extract(epoch from now()) * 1000)::bigint"

# pg_rows N: the SELECT of N cursors shaped as the SQLite stores: 1000
# consumers, N/1,000,000 (at least 1) channels, partitions to fill; varied
# offsets and update times.
pg_rows() {
    local n=$1 per=$(($1 / 1000))
    local parts=$((per < 1000 ? per : 1000))
    echo "SELECT 'c' || lpad((i / $per)::text, 4, '0'), 'ch' || ((i % $per) / $parts), (i % $per) % $parts,
       (i * 7919) % 1000000000, 1764000000000 + (i * 104729) % 86400000
FROM generate_series(0::bigint, $((n - 1))) AS i"
}

# pg_store SCHEMA N: a store of N cursors in SCHEMA, kept when it holds N.
pg_store() {
    local schema=$1 n=$2
    [[ $(pg "SELECT count(*) FROM $schema.cursors" 2>/dev/null) == "$n" ]] && return
    echo "== PostgreSQL: generating $n cursors in schema $schema" >&2
    pg "DROP SCHEMA IF EXISTS $schema CASCADE"
    "$BIN" --db "$(with_param "$PG_CONN" "schema=$schema")" -q init
    pg "INSERT INTO $schema.cursors (consumer, channel, partition, \"offset\", updated_at) $(pg_rows "$n")" \
        "VACUUM (ANALYZE) $schema.cursors"
}

# pg_row LABEL CURSORCTL OTHER UNIT TARGET: a row of the PostgreSQL table.
# TARGET is "<= Rx" or ">= Rx" (on the ratio), "< N MiB" (on cursorctl's
# peak memory) or "(context)"; UNIT is ms, KiB or /s.
pg_row() {
    local label=$1 ours=$2 theirs=$3 unit=$4 target=$5 r limit met=""
    [[ -n "$ours" && -n "$theirs" ]] || { echo "benchmark failed: $label" >&2; exit 1; }
    r=$(ratio "$ours" "$theirs")
    limit=${target#* }
    limit=${limit%x}
    limit=${limit% MiB}
    case $target in
    "<= "*) met=$(awk -v r="$r" -v t="$limit" 'BEGIN { print (r <= t ? "met" : "not met") }') ;;
    ">= "*) met=$(awk -v r="$r" -v t="$limit" 'BEGIN { print (r >= t ? "met" : "not met") }') ;;
    "< "*) met=$(awk -v k="$ours" -v t="$limit" 'BEGIN { print (k < t * 1024 ? "met" : "not met") }') ;;
    esac
    printf '| %s | %s %s | %s %s | %sx | %s | %s |\n' "$label" "$ours" "$unit" "$theirs" "$unit" "$r" "$target" "$met" >>"$PG_RESULTS.rows"
    printf '%-58s cursorctl %10s %-3s  other %10s %-3s  ratio %s (target %s) %s\n' "$label" "$ours" "$unit" "$theirs" "$unit" "$r" "$target" "$met" >&2
}
fmt_ms() { printf '%.2f' "$1"; }

postgres_section() {
    PG_RESULTS="$WORK/results-postgres.md"
    : >"$PG_RESULTS.rows"
    local n=${SIZES[0]} big=${SIZES[1]:-}
    local schema="bench_$n" url key_sql
    pg_store "$schema" "$n"
    url=$(with_param "$PG_CONN" "schema=$schema")
    key_sql="consumer = 'c0500' AND channel = 'ch0' AND partition = 7"

    # 1. get one cursor.
    local direct=()
    local get_sql="SELECT \"offset\" FROM $schema.cursors WHERE $key_sql"
    [[ -z "$PSQL_BIN" ]] || direct=("$PSQL_BIN ${PSQL#psql } -c $(shq "$get_sql")")
    mapfile -t ms < <(timed pg-get "$ROUNDS" $((RUNS_FAST / ROUNDS)) 5 \
        "$BIN --db $(shq "$url") get c0500 ch0:7 -o value" \
        "$PSQL -c $(shq "$get_sql")" "${direct[@]}")
    pg_row "get one cursor ($n)" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[1]}")" ms "<= 0.35x"
    [[ -z "$PSQL_BIN" ]] || pg_row "get one cursor ($n) vs $PSQL_BIN" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[2]}")" ms "(context)"

    # 2. advance one cursor: what cursorctl writes, the guarded update and
    # its history row in one transaction, as one psql statement.
    local advance_sql="BEGIN;
WITH moved AS (UPDATE $schema.cursors SET \"offset\" = \"offset\" + 1, updated_at = $PG_NOW
               WHERE $key_sql AND \"offset\" + 1 >= \"offset\" RETURNING \"offset\")
INSERT INTO $schema.history (at, consumer, channel, partition, old_offset, new_offset, command, \"user\")
SELECT $PG_NOW, 'c0500', 'ch0', 7, \"offset\" - 1, \"offset\", 'advance', 'bench' FROM moved;
COMMIT;"
    [[ -z "$PSQL_BIN" ]] || direct=("$PSQL_BIN ${PSQL#psql } -c $(shq "$advance_sql")")
    mapfile -t ms < <(timed pg-advance "$ROUNDS" $((RUNS_FAST / ROUNDS)) 3 \
        "$BIN --db $(shq "$url") -q advance c0500 ch0:7" \
        "$PSQL -c $(shq "$advance_sql")" "${direct[@]}")
    pg_row "advance one cursor, with its history row ($n)" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[1]}")" ms "<= 0.35x"
    [[ -z "$PSQL_BIN" ]] || pg_row "advance one cursor ($n) vs $PSQL_BIN" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[2]}")" ms "(context)"

    # 3. list every cursor as NDJSON against COPY of one JSON object a row
    # in key order; then peak memory.
    local copy_sql="COPY (SELECT row_to_json(c) FROM $schema.cursors c ORDER BY consumer, channel, partition) TO STDOUT"
    mapfile -t ms < <(timed pg-list "$RUNS_SLOW" 1 0 \
        "$BIN --db $(shq "$url") get -o ndjson" \
        "$PSQL -c $(shq "$copy_sql")")
    pg_row "list all as NDJSON ($n)" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[1]}")" ms "<= 1.0x"
    pg_row "peak memory, list all ($n)" "$(peak_kb "$BIN" --db "$url" get -o ndjson)" \
        "$(peak_kb psql -XAtq -d "$PG_CONN" -c "$copy_sql")" KiB "< 32 MiB"
    if [[ -n "$big" ]]; then
        # The large store: one run of each, wall time and peak memory.
        local big_schema="bench_$big" big_url ours theirs
        pg_store "$big_schema" "$big"
        big_url=$(with_param "$PG_CONN" "schema=$big_schema")
        local big_copy="COPY (SELECT row_to_json(c) FROM $big_schema.cursors c ORDER BY consumer, channel, partition) TO STDOUT"
        read -r ours_s ours_kb < <(/usr/bin/time -f '%e %M' "$BIN" --db "$big_url" get -o ndjson 2>&1 >/dev/null | tail -1)
        read -r theirs_s theirs_kb < <(/usr/bin/time -f '%e %M' psql -XAtq -d "$PG_CONN" -c "$big_copy" 2>&1 >/dev/null | tail -1)
        pg_row "list all as NDJSON ($big, one run)" "$(awk -v s="$ours_s" 'BEGIN { printf "%.0f", s * 1000 }')" \
            "$(awk -v s="$theirs_s" 'BEGIN { printf "%.0f", s * 1000 }')" ms "<= 1.0x"
        pg_row "peak memory, list all ($big)" "$ours_kb" "$theirs_kb" KiB "< 32 MiB"
    fi

    # 4. set --from-file of every cursor of the store in key order (offset
    # + 1, expect the offset) against a psql script: \copy of the same moves
    # as CSV into a temporary table, one guarded UPDATE ... FROM in a
    # transaction; and, for context, the script also writing a batch and a
    # history row per change, as cursorctl does. Every run starts from the
    # same store: the schema's tables emptied and filled again, vacuumed,
    # and a checkpoint (hyperfine --prepare, not timed).
    local bulk="bench_bulk_$n" bulk_url restore="$WORK/pg-restore-$n.sh"
    local moves_json="$WORK/pg-moves-$n.ndjson" moves_csv="$WORK/pg-moves-$n.csv"
    local script="$WORK/pg-import-$n"
    bulk_url=$(with_param "$PG_CONN" "schema=$bulk")
    if [[ $(pg "SELECT count(*) FROM pg_namespace WHERE nspname = '$bulk'") != 1 ]]; then
        "$BIN" --db "$bulk_url" -q init
    fi
    printf '%s\n' '#!/usr/bin/env bash' 'set -euo pipefail' \
        "export PGOPTIONS='-c client_min_messages=warning'" \
        "psql -XAtq -v ON_ERROR_STOP=1 -d $(shq "$PG_CONN") -c $(shq "SET session_replication_role = replica; TRUNCATE $bulk.cursors, $bulk.history, $bulk.batches RESTART IDENTITY;
INSERT INTO $bulk.cursors (consumer, channel, partition, \"offset\", updated_at) $(pg_rows "$n")") -c $(shq "VACUUM (ANALYZE) $bulk.cursors, $bulk.history, $bulk.batches")" \
        "psql -XAtq -d $(shq "$PG_CONN") -c CHECKPOINT 2>/dev/null || true # superusers and pg_checkpoint only" \
        >"$restore"
    bash "$restore"
    pg "COPY (SELECT json_build_object('consumer', consumer, 'partition_key', channel || ':' || partition,
                   'offset', \"offset\" + 1, 'expect', \"offset\")
          FROM $bulk.cursors ORDER BY consumer, channel, partition) TO STDOUT" >"$moves_json"
    pg "COPY (SELECT consumer, channel, partition, \"offset\" + 1, \"offset\"
          FROM $bulk.cursors ORDER BY consumer, channel, partition) TO STDOUT WITH (FORMAT csv, HEADER)" >"$moves_csv"
    local update="UPDATE $bulk.cursors c SET \"offset\" = m.\"offset\", updated_at = $PG_NOW
FROM moves m
WHERE c.consumer = m.consumer AND c.channel = m.channel AND c.partition = m.partition
  AND c.\"offset\" = m.expect AND m.\"offset\" >= c.\"offset\""
    local load="CREATE TEMP TABLE moves (consumer text COLLATE \"C\", channel text COLLATE \"C\", partition bigint,
                         \"offset\" bigint, expect bigint);
\\copy moves FROM '$moves_csv' WITH (FORMAT csv, HEADER)
BEGIN;"
    printf '%s\n%s;\nCOMMIT;\n' "$load" "$update" >"$script.sql"
    printf '%s\n%s\n%s\n%s;\nCOMMIT;\n' "$load" \
        "WITH batch AS (INSERT INTO $bulk.batches (at, command, \"user\") VALUES ($PG_NOW, 'set --from-file', 'bench') RETURNING id),
moved AS ($update
RETURNING c.consumer, c.channel, c.partition, m.expect AS old, m.\"offset\" AS new)" \
        "INSERT INTO $bulk.history (at, consumer, channel, partition, old_offset, new_offset, command, \"user\", batch)" \
        "SELECT $PG_NOW, consumer, channel, partition, old, new, 'set', 'bench', (SELECT id FROM batch) FROM moved" \
        >"$script-audited.sql"
    mapfile -t ms < <(timed pg-bulk "$RUNS_SLOW" 1 0 --prepare "bash $restore" \
        "$BIN --db $(shq "$bulk_url") -q set --from-file $moves_json" \
        "$PSQL -f $script.sql" \
        "$PSQL -f $script-audited.sql")
    # The last run, the script that writes history, moved every cursor.
    [[ $(pg "SELECT count(*) FROM $bulk.history") == "$n" ]] || { echo "the psql script did not move every cursor" >&2; exit 1; }
    pg_row "set --from-file $n lines" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[1]}")" ms "<= 1.0x"
    pg_row "set --from-file $n lines vs psql also writing history" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[2]}")" ms "(context)"
    bash "$restore"
    pg_row "peak memory, set --from-file $n lines" "$(peak_kb "$BIN" --db "$bulk_url" -q set --from-file "$moves_json")" \
        "$(bash "$restore"; peak_kb psql -XAtq -v ON_ERROR_STOP=1 -d "$PG_CONN" -f "$script.sql")" KiB "< 64 MiB"
    rm -f "$moves_json" "$moves_csv"

    # 4b. set --from-file of N new cursors into a store whose tables were
    # (The store's own rules refuse TRUNCATE of its history: the benchmark's
    # set-up, as a superuser, turns triggers off for its own statements with
    # session_replication_role = replica.)
    # emptied by TRUNCATE after an ANALYZE of them full (statistics of a
    # table that is no longer there), against the same into a store just
    # made. A plan that trusts the stale statistics (a nested loop over the
    # whole chunk or table) shows here as a ratio well above 1.
    local emptied="bench_emptied_$n" fresh="bench_fresh_$n"
    local emptied_url fresh_url new_json="$WORK/pg-new-$n.ndjson"
    local empty_it="$WORK/pg-empty-$n.sh" make_fresh="$WORK/pg-fresh-$n.sh"
    emptied_url=$(with_param "$PG_CONN" "schema=$emptied")
    fresh_url=$(with_param "$PG_CONN" "schema=$fresh")
    if [[ $(pg "SELECT count(*) FROM pg_namespace WHERE nspname = '$emptied'") != 1 ]]; then
        "$BIN" --db "$emptied_url" -q init
    fi
    pg "COPY (SELECT json_build_object('consumer', c, 'partition_key', ch || ':' || p, 'offset', o)
          FROM ($(pg_rows "$n")) AS r(c, ch, p, o, u)) TO STDOUT" >"$new_json"
    printf '%s\n' '#!/usr/bin/env bash' 'set -euo pipefail' \
        "export PGOPTIONS='-c client_min_messages=warning'" \
        "psql -XAtq -v ON_ERROR_STOP=1 -d $(shq "$PG_CONN") -c $(shq "SET session_replication_role = replica; TRUNCATE $emptied.cursors, $emptied.history, $emptied.batches RESTART IDENTITY;
INSERT INTO $emptied.cursors (consumer, channel, partition, \"offset\", updated_at) $(pg_rows "$n");
INSERT INTO $emptied.history (id, at, consumer, channel, partition, old_offset, new_offset, command, \"user\")
SELECT nextval(pg_get_serial_sequence('$emptied.history', 'id')), updated_at, consumer, channel, partition, NULL, \"offset\", 'set', 'bench' FROM $emptied.cursors") \
        -c $(shq "ANALYZE $emptied.cursors, $emptied.history, $emptied.batches") \
        -c $(shq "SET session_replication_role = replica; TRUNCATE $emptied.cursors, $emptied.history, $emptied.batches RESTART IDENTITY")" \
        >"$empty_it"
    printf '%s\n' '#!/usr/bin/env bash' 'set -euo pipefail' \
        "PGOPTIONS='-c client_min_messages=warning' psql -XAtq -v ON_ERROR_STOP=1 -d $(shq "$PG_CONN") -c $(shq "DROP SCHEMA IF EXISTS $fresh CASCADE")" \
        "$(shq "$BIN") --db $(shq "$fresh_url") -q init" \
        >"$make_fresh"
    mapfile -t ms < <(timed pg-new "$RUNS_SLOW" 1 0 \
        --prepare "bash $empty_it" "$BIN --db $(shq "$emptied_url") -q set --from-file $new_json --create" \
        --prepare "bash $make_fresh" "$BIN --db $(shq "$fresh_url") -q set --from-file $new_json --create")
    [[ $(pg "SELECT count(*) FROM $emptied.cursors") == "$n" ]] || { echo "the write into the emptied store did not create every cursor" >&2; exit 1; }
    pg_row "set --from-file $n new cursors into a TRUNCATEd store vs into a new one" "$(fmt_ms "${ms[0]}")" "$(fmt_ms "${ms[1]}")" ms "<= 1.5x"
    pg "DROP SCHEMA IF EXISTS $fresh CASCADE"
    rm -f "$new_json"

    # 5. The library's checkpoints against a plain postgres-crate loop.
    echo "== PostgreSQL: the library against a plain postgres-crate loop" >&2
    local library
    library=$(CURSORCTL_BENCH_PG="$PG_URL" CURSORCTL_BENCH_QUICK=$QUICK cargo bench --quiet --bench postgres)

    {
        echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; PostgreSQL $(pg 'SHOW server_version' | cut -d' ' -f1) at $(shown "$PG_URL"); $(psql --version)${PSQL_BIN:+ (psql on the PATH is a wrapper script; $PSQL_BIN is the binary)}; $(hyperfine --version)."
        echo
        echo "| job | cursorctl | psql | ratio | target | |"
        echo "| --- | ---: | ---: | ---: | --- | --- |"
        cat "$PG_RESULTS.rows"
        echo
        echo "$library"
    } >"$PG_RESULTS"
    rm -f "$PG_RESULTS.rows"
    echo >&2
    cat "$PG_RESULTS"
}

if ((POSTGRES)); then
    if pg "SELECT 1" >/dev/null 2>&1; then
        postgres_section
    else
        echo "PostgreSQL at $(shown "$PG_URL") is not reachable: PostgreSQL section skipped (set CURSORCTL_BENCH_PG to a server's URL)" >&2
    fi
fi
