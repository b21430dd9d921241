#!/usr/bin/env python3
"""Every program answers --help and --version and refuses unknown flags.

usage: test_cli.py BUILD_DIR
"""
import subprocess
import sys

PROGRAMS = {
    "gerbang-gateway": "gateway",
    "gerbang-sensor": "detectors",
    "gerbang-scan": "detectors",
    "gerbang-audit": "store",
    "gerbang-store": "store",
}
LIBS = ("openssl", "libpcap", "lmdb", "libyaml", "libmaxminddb")


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def main():
    build = sys.argv[1]
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    for prog, folder in PROGRAMS.items():
        exe = f"{build}/{folder}/{prog}"
        rc, out, err = run([exe, "--help"])
        check(rc == 0 and out.startswith("usage: ") and "Example" in out,
              f"{prog} --help")
        rc, out, err = run([exe, "-h"])
        check(rc == 0 and "usage: " in out, f"{prog} -h")
        rc, out, err = run([exe, "--version"])
        check(rc == 0 and out.startswith(prog + " ") and
              all(lib in out for lib in LIBS), f"{prog} --version: {out!r}")
        rc, out, err = run([exe, "--no-such-flag"])
        check(rc == 2 and "unknown option '--no-such-flag'" in err and
              "--help" in err, f"{prog} --no-such-flag: rc={rc} {err!r}")
        rc, out, err = run([exe, "-Z"])
        check(rc == 2 and "unknown option '-Z'" in err,
              f"{prog} -Z: rc={rc} {err!r}")
        rc, out, err = run([exe, "--version=3"])
        check(rc == 2, f"{prog} --version=3: rc={rc}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
