#!/usr/bin/env bash
# Write build/hot-symbols.txt: the functions the one-shot commands run (`get`
# in its two common formats, `advance`, `set`), as linker symbol names.
# build.rs gives the file to LLD (`--symbol-ordering-file`), which places
# those functions side by side, so that a one-shot command maps far fewer
# pages of code as it runs (see docs/performance.md, "Page faults").
#
# Run it again after changes to what those commands run, or to the Rust
# toolchain or the dependencies (the names of Rust functions carry a hash of
# their crate's build): a name that no longer matches is skipped, and the
# function is placed wherever the linker puts it.
#
#   bash benches/hot-symbols.sh
#
# With --check it writes nothing: it fails when fewer than 95% of the names
# in the file are symbols of the release binary (`nm`), which is when the
# file has gone stale and the one-shot commands lose the speed it bought.
# CI (.ci/run) runs it on the release binary it builds.
#
#   bash benches/hot-symbols.sh --check [BINARY]   (default target/release/cursorctl)
set -euo pipefail
cd "$(dirname "$0")/.."

# The file build.rs gives the linker (its SYMBOL_ORDER).
out=build/hot-symbols.txt

if [ "${1:-}" = --check ]; then
    bin=${2:-${CARGO_TARGET_DIR:-target}/release/cursorctl}
    [ -x "$bin" ] || {
        echo "hot-symbols.sh --check: no binary at $bin (cargo build --release)" >&2
        exit 1
    }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    grep -v '^#' "$out" | LC_ALL=C sort -u >"$work/wanted"
    # Every symbol of the binary, as the linker names them (not demangled).
    nm --defined-only "$bin" | awk '{ print $NF }' | LC_ALL=C sort -u >"$work/defined"
    wanted=$(wc -l <"$work/wanted")
    found=$(LC_ALL=C comm -12 "$work/wanted" "$work/defined" | wc -l)
    echo "$out: $found of $wanted names are symbols of $bin"
    if [ "$wanted" -eq 0 ] || [ $((found * 100)) -lt $((wanted * 95)) ]; then
        echo "fewer than 95% of the names in $out match the binary: run bash benches/hot-symbols.sh and commit the file" >&2
        LC_ALL=C comm -23 "$work/wanted" "$work/defined" | head -n 20 >&2
        exit 1
    fi
    exit 0
fi

command -v valgrind >/dev/null || {
    echo "hot-symbols.sh needs valgrind (apt-get install valgrind)" >&2
    exit 1
}
cargo build --release --quiet
bin="$(realpath "${CARGO_TARGET_DIR:-target}")/release/cursorctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/store.db"

"$bin" --db "$db" -q init
for p in 0 1 2 3; do "$bin" --db "$db" -q set billing "orders:$p" 10 --create; done

# trace NAME ARGS...: the functions one run of cursorctl ARGS calls.
trace() {
    local name=$1
    shift
    env -i valgrind --tool=callgrind --demangle=no \
        --callgrind-out-file="$work/$name.callgrind" "$bin" --db "$db" "$@" >/dev/null 2>&1
}
trace get-value get billing orders:1 -o value
trace get-table get billing
trace advance -q advance billing orders:1
trace set -q set billing orders:2 42 --expect 10

{
    echo "# The functions the one-shot commands run, for LLD's --symbol-ordering-file"
    echo "# (build.rs). Written by benches/hot-symbols.sh; run it again rather than edit."
    # callgrind names each function once per file: "fn=(ID) NAME" or
    # "cfn=(ID) NAME" (a callee); a recursive call carries a "'N" suffix.
    grep -hoE '^c?fn=\([0-9]+\) .+' "$work"/*.callgrind |
        sed -E "s/^c?fn=\([0-9]+\) //; s/'[0-9]+\$//" |
        grep -vE '^(\(below main\)|0x[0-9a-f]+)$' |
        LC_ALL=C sort -u
} >"$out"
echo "wrote $out: $(grep -vc '^#' "$out") functions" >&2
