#!/usr/bin/env python3
"""Sum the results of `meson test` over several build folders.

Reads BUILD/meson-logs/testlog.json of each folder and prints one line per
build and a closing line "N passed, N failed" (", N skipped" when any).
Exit status 1 when any test failed or a folder has no results.
"""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def main(builds):
    passed = failed = skipped = 0
    ok = True
    for b in builds:
        p = s = f = 0
        try:
            with open(f"{b}/meson-logs/testlog.json") as fh:
                for line in fh:
                    r = json.loads(line)["result"]
                    if r in PASS:
                        p += 1
                    elif r in SKIP:
                        s += 1
                    else:
                        f += 1
        except OSError as e:
            print(f"{b}: no test results ({e.strerror})")
            ok = False
            continue
        print(f"{b}: {p} passed, {f} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 0 if ok and failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
