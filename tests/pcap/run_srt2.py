#!/usr/bin/env python3
"""Red team 2's golden captures for gerbang-sensor.

usage: run_srt2.py BUILD_DIR [--pending] [NAME...]

Generates the captures with gen_srt2.py into a temporary folder and runs
each line of TESTLIST.srt2 (or, with --pending, TESTLIST.pending) the way
run_pcaps.py runs TESTLIST (same comparison, run_pcaps.run_one). Normal
mode: exit 1 if any test fails. --pending: the expectations are the
correct behaviour the sensor does not have yet; exit 1 only if one of
them now passes (move it to TESTLIST.srt2).
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_pcaps  # noqa: E402


def main():
    args = sys.argv[1:]
    pending = "--pending" in args
    args = [a for a in args if a != "--pending"]
    build, only = args[0], set(args[1:])
    exe = os.path.join(build, "detectors", "gerbang-sensor")
    lst = "TESTLIST.pending" if pending else "TESTLIST.srt2"
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_srt2.py"),
                        tmp], check=True)
        for name, inp, exp, opts in run_pcaps.entries(
                os.path.join(HERE, lst), only):
            errs = run_pcaps.run_one(exe, tmp, name, inp, exp, opts)
            if errs:
                failed += 1
                print(("xfail " if pending else "FAIL ") + name)
                for e in errs:
                    print("    " + e)
            else:
                passed += 1
                print(("XPASS " if pending else "ok   ") + name)
    if pending:
        print(f"{failed} still wrong, {passed} now right")
        return 1 if passed else 0
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
