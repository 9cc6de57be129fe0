#!/usr/bin/env bash
# Benchmark cursorctl against the sqlite3 shell doing the same jobs on the
# same store files, in the same run. Prints a table of medians and ratios
# (cursorctl / sqlite3) and writes it to target/bench/results.md.
#
#   bash benches/run.sh            # stores of 1,000,000 and 10,000,000 cursors
#   bash benches/run.sh --quick    # 100,000 cursors only, fewer runs (a smoke test)
#
# The bulk write is timed with 1,000,000 lines in rounds, and run once with
# 10,000,000 lines (every cursor of the larger store) for its time and peak
# memory.
#
# Needs sqlite3, hyperfine, jq and GNU time; installs them with apt-get when
# they are missing and it may (root, or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=(1000000 10000000)
BULK_LINES=1000000
BIG_BULK_LINES=10000000 # one run, against the store of the same size
SIM_MESSAGES=10000000
RUNS_FAST=200 # in ROUNDS rounds
ROUNDS=5
RUNS_SLOW=5 # one run per round, the commands alternating
if [[ "${1:-}" == "--quick" ]]; then
    SIZES=(100000)
    BULK_LINES=100000
    BIG_BULK_LINES=
    SIM_MESSAGES=1000000
    RUNS_FAST=30
    ROUNDS=3
    RUNS_SLOW=2
fi

need() {
    local missing=()
    command -v sqlite3 >/dev/null || missing+=(sqlite3)
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    command -v jq >/dev/null || missing+=(jq)
    [[ -x /usr/bin/time ]] || missing+=(time)
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
: >"$RESULTS.rows"

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
done

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
