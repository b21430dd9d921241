#!/bin/sh
# Benchmark policy/: build tests/bench/bench_policy.c against the libraries
# of a meson build (default: build/, release flags recommended) and run it.
# Prints decisions per second and the load time; never a pass/fail.
#
# usage: tests/bench/bench_policy.sh [BUILD_DIR] [decisions]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-5000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ninja -C "$build" policy/libgbpolicy.a core/libgbcore.a >/dev/null
${CC:-cc} -std=c17 -O2 -D_GNU_SOURCE -I"$root" -I"$build" \
    "$root/tests/bench/bench_policy.c" \
    "$build/policy/libgbpolicy.a" "$build/core/libgbcore.a" \
    $(pkg-config --libs libmaxminddb libcrypto yaml-0.1) -o "$out/bench_policy"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
taskset -c 0 "$out/bench_policy" "$n" 2>/dev/null || "$out/bench_policy" "$n"
