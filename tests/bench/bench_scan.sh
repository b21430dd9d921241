#!/bin/sh
# Throughput of the personal-data scanner beside the same detection written
# with PCRE2-JIT and with Vectorscan (both validating their candidates with
# gerbang's validators), with ratios. Builds a release tree with -Dbench=true
# in build-bench-scan/; the regex engines (libpcre2-dev, libvectorscan-dev:
# deploy/install-deps.sh bench) are linked only into this benchmark, never
# into gerbang. Run by hand:
#
#	tests/bench/bench_scan.sh [MiB per body, default 64]
set -eu
cd "$(dirname "$0")/../.."
b=build-bench-scan
[ -f "$b/build.ninja" ] || meson setup "$b" --buildtype=release \
    -Db_ndebug=false -Dtests=disabled -Dbench=true >/dev/null
meson configure "$b" -Dbench=true >/dev/null	# a tree set up without it
ninja -C "$b" tests/bench/bench_scan >/dev/null
exec taskset -c "${CPU:-0}" "$b/tests/bench/bench_scan" "${1:-64}"
