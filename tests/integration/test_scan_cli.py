#!/usr/bin/env python3
"""gerbang-scan end to end: decoding layers on and off (--decode), gzip by
magic, the decompression limit reported with skipped bytes, per-file bulk
crossings and canaries from --rules, values masked unless --unmasked.

usage: test_scan_cli.py BUILD_DIR
"""
import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile

NIK = "3171015708450001"


def main():
    scan = os.path.join(sys.argv[1], "detectors", "gerbang-scan")
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    def run(*args, data=None):
        p = subprocess.run([scan, *args], input=data, capture_output=True,
                           timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def findings(out):
        return [json.loads(l) for l in out.splitlines()
                if '"type"' in l]

    with tempfile.TemporaryDirectory() as d:
        esc = '{"nik":"\\u0033171015708450001"}\n'.encode()
        b64 = ('{"data":"%s"}\n' % base64.b64encode(
            ('{"nik":"%s"}' % NIK).encode()).decode()).encode()
        pct = b"GET /?nik=%33%31%37%31015708450001 HTTP/1.1\n"
        html = b"<td>&#51;171015708450001</td>\n"
        for name, body in (("esc", esc), ("b64", b64), ("pct", pct),
                           ("html", html)):
            rc, out, err = run("-f", "jsonl", "--unmasked", "-", data=body)
            f = findings(out)
            check(rc == 1 and len(f) == 1 and f[0]["value"] == NIK,
                  f"{name}: decoded by default: {rc} {out!r} {err!r}")
            rc, out, err = run("-f", "jsonl", "--decode", "none", "-",
                               data=body)
            check(rc == 0 and not findings(out),
                  f"{name}: --decode none finds nothing: {rc} {out!r}")
        rc, out, err = run("-f", "jsonl", "--decode", "json", "-", data=esc)
        f = findings(out)
        check(rc == 1 and len(f) == 1 and f[0]["offset"] == 8 and
              f[0]["length"] == 21 and "*" in f[0]["value"],
              f"esc: offset in the source, masked: {out!r}")
        rc, out, err = run("--decode", "json,zip", "-", data=esc)
        check(rc == 2 and "--decode" in err, f"bad --decode: {rc} {err!r}")

        # gzip by magic, and the ratio limit on a bomb
        gz = os.path.join(d, "body.json.gz")
        with open(gz, "wb") as fp:
            fp.write(gzip.compress(esc * 3))
        rc, out, err = run("-f", "jsonl", gz)
        check(rc == 1 and len(findings(out)) == 3, f"gzip file: {out!r}")
        rc, out, err = run("-f", "jsonl", "--decode", "json", gz)
        check(rc == 0, f"gzip off: {rc} {out!r}")
        bomb = os.path.join(d, "bomb.gz")
        with open(bomb, "wb") as fp:
            fp.write(gzip.compress(b" " * (8 << 20) + NIK.encode()))
        rc, out, err = run(bomb)
        # Nothing found, but not all of it read: 2, not "clean".
        check(rc == 2 and "limit" in err and "ratio" in err and
              "skipped" in err and "skipped (limits)" in out,
              f"bomb: {rc} {out!r} {err!r}")

        # bulk (response scope = one file) and a canary
        rules = os.path.join(d, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "b.yaml"), "w") as fp:
            fp.write("bulk:\n  - { name: many-nik, type: nik, scope: "
                     "response, distinct: 2 }\ncanaries:\n  - { type: nik, "
                     "sha256: 80e5ed9cdffa8d965c62911bd6cfb775fee4bf3c78a0"
                     "50fe5a55f4a733652378 }\n")
        many = os.path.join(d, "many.txt")
        with open(many, "w") as fp:
            fp.write("3171015708450001 3171015708450002 3171015708450003\n")
        few = os.path.join(d, "few.txt")
        with open(few, "w") as fp:
            fp.write("3171015708450001 3171014101990001\n")
        rc, out, err = run("-r", rules, many, few)
        check(rc == 1 and "rule many-nik: 3 distinct nik identifiers > 2"
              in out and "few.txt: canary value (nik) seen" in out and
              out.count("many-nik") == 1, f"bulk table: {out!r} {err!r}")
        rc, out, err = run("-r", rules, "-f", "jsonl", many)
        bl = [json.loads(l) for l in out.splitlines() if '"bulk"' in l]
        check(len(bl) == 1 and bl[0]["bulk"] == "many-nik" and
              bl[0]["distinct"] == 3 and bl[0]["alert"] == "first",
              f"bulk jsonl: {out!r}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
