#!/bin/sh
# Format C sources with the project's .clang-format.
#
# usage: scripts/format.sh            format the lines changed against HEAD
#        scripts/format.sh --check    report files whose changed lines are off
#        scripts/format.sh --all FILE...  format whole files
# Only changed lines are formatted (STYLE.md: whitespace-only changes go in
# their own commit), through clang-format-diff when it is installed.
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--all" ]; then
	shift
	exec clang-format -i "$@"
fi
diff_tool=$(command -v clang-format-diff-14 || command -v clang-format-diff ||
    ls /usr/share/clang/clang-format-14/clang-format-diff.py 2>/dev/null || true)
if [ -z "$diff_tool" ]; then
	echo "format: clang-format-diff not found (apt-get install clang-format)" >&2
	exit 1
fi
if [ "${1:-}" = "--check" ]; then
	out=$(git diff -U0 --no-color HEAD -- '*.c' '*.h' | python3 "$diff_tool" -p1)
	[ -z "$out" ] && exit 0
	printf '%s\n' "$out"
	exit 1
fi
git diff -U0 --no-color HEAD -- '*.c' '*.h' | python3 "$diff_tool" -p1 -i
