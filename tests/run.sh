#!/bin/sh
# Run the whole gerbang test suite, the way CI does.
#
#   1. install the Debian packages the suite needs (only missing ones);
#   2. gcc release build with -Werror, then the suite;
#   3. clang build with AddressSanitizer + UndefinedBehaviorSanitizer (and
#      the libFuzzer targets; zlib rather than ISA-L), then the suite again;
#   4. one closing line "N passed, N failed" over both builds.
#
# Build folders build-release/ and build-sanitize/ are reused, so a second run
# rebuilds only what changed. Extra arguments go to `meson test` (a test
# name or --suite unit, for example).
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)

./deploy/install-deps.sh test

setup() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			exit 1
		}
	fi
}

status=0
setup build-release --buildtype=release -Db_ndebug=false -Dwerror=true
# The sanitizer build inflates with zlib, the release build with ISA-L
# (when installed): both inflate paths run the whole suite.
CC=clang setup build-sanitize --buildtype=debug -Dwerror=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Disal=disabled

for b in build-release build-sanitize; do
	echo "== $b: build"
	ninja -C "$b" >"$b.ninja.log" 2>&1 || {
		cat "$b.ninja.log"
		exit 1
	}
	echo "== $b: test"
	meson test -C "$b" --print-errorlogs --num-processes 2 "$@" || status=1
done

python3 "$root/tests/summarize.py" build-release build-sanitize || status=1
exit $status
