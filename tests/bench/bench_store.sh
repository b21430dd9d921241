#!/bin/sh
# Benchmark the alert store (issue 6 targets): durable insert rate, verify
# of INSERT alerts, bytes per alert, and `list --rule X` for one day from a
# store of FILL alerts, through the library and through gerbang-audit.
# Builds tests/bench/bench_store.c against a meson build (default
# build-bench/, release). Prints figures and MET / NOT MET; never part of
# the test suite. Needs ~8 GB free in WORK for FILL=10000000.
#
# usage: tests/bench/bench_store.sh [BUILD_DIR]
#   INSERT=1000000 FILL=10000000 WORK=/var/tmp FILL_NOSYNC=1 KEEP=1
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench}
insert=${INSERT:-1000000}
fill=${FILL:-10000000}
work=$(mktemp -d "${WORK:-/var/tmp}/gb-bench-store-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=release -Db_ndebug=false \
	    >/dev/null
fi
ninja -C "$build" store/libgbstore.a core/libgbcore.a \
    store/gerbang-audit >/dev/null
${CC:-cc} -std=c17 -O2 -D_GNU_SOURCE -I"$root" -I"$build" \
    "$root/tests/bench/bench_store.c" \
    "$build/store/libgbstore.a" "$build/core/libgbcore.a" \
    $(pkg-config --libs lmdb libcrypto yaml-0.1) -o "$work/bench_store"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
    "$(nproc) cores; disk: $(df -h "$work" | awk 'NR==2 {print $1}')"
echo "note: a shared VM is noisy; run twice and compare"
"$work/bench_store" "$work" "$insert" "$fill"

# The same one-day query end to end: process start, open, query, JSON out.
audit="$build/store/gerbang-audit"
best=
for i in 1 2 3 4 5 6; do
	t0=$(date +%s%N)
	n=$("$audit" -s "$work/fill" list --rule rule-07 \
	    --since 2027-01-03 --until 2027-01-04 --format json | wc -l)
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
verdict="NOT MET"; [ "$best" -lt 100 ] && verdict=MET
echo "one-day rule query (gerbang-audit list --format json, $n alerts):" \
    "best ${best} ms  [target < 100 ms: $verdict]"
t0=$(date +%s%N)
"$audit" -s "$work/insert" verify >/dev/null
t1=$(date +%s%N)
echo "gerbang-audit verify ($insert alerts): $(( (t1 - t0) / 1000000 )) ms"
du -sh "$work/insert" "$work/fill" | sed 's/^/disk: /'
