#!/bin/sh
# Throughput of the personal-data scanner, with PCRE2-JIT and Vectorscan
# beside it when their Debian packages (libpcre2-dev, libhyperscan-dev) are
# installed. Builds a release copy of libgbdet in build-bench-scan/ and
# links tests/bench/bench_scan.c to it; the regex engines are linked only
# into this benchmark, never into gerbang. Run by hand:
#
#	tests/bench/bench_scan.sh [MiB per body, default 64]
set -eu
cd "$(dirname "$0")/../.."
b=build-bench-scan
[ -f "$b/build.ninja" ] || meson setup "$b" --buildtype=release \
    -Db_ndebug=false -Dtests=disabled >/dev/null
ninja -C "$b" detectors/libgbdet.a core/libgbcore.a >/dev/null
extra=""
if pkg-config --exists libpcre2-8; then
	extra="$extra -DWITH_PCRE2 $(pkg-config --cflags --libs libpcre2-8)"
fi
if pkg-config --exists libhs; then
	extra="$extra -DWITH_HS $(pkg-config --cflags --libs libhs)"
fi
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=c17 -D_GNU_SOURCE -I. -I"$b" -o "$b/bench_scan" \
    tests/bench/bench_scan.c "$b/detectors/libgbdet.a" "$b/core/libgbcore.a" \
    -lcrypto -lyaml $extra
"$b/bench_scan" "${1:-64}"
