#!/usr/bin/env python3
"""Per-type precision and recall of gerbang-scan on the labelled corpus.

Generates the corpus (gen_corpus.py) into a temporary folder, runs
gerbang-scan --format jsonl --unmasked over it, and compares the findings
with the labels as sets of (document, type, value). Beside it, a naive
baseline: "every run of exactly 16 digits is a NIK". Prints a table per
type and per body kind; exits 1 when a type with at least MIN_LABELS labels
is under the threshold.

usage: eval_corpus.py GERBANG_SCAN [--docs N] [--seed N] [--min 0.99]
"""
import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_LABELS = 20
TYPES = ("nik", "kk", "npwp", "phone", "email", "card", "nip", "bpjs",
         "passport", "sim")


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scan")
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--min", type=float, default=0.99)
    ap.add_argument("--keep", help="write the corpus here and keep it")
    ap.add_argument("-v", action="store_true", help="list every miss")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.keep or tmp)
        subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), str(out),
                        "--docs", str(a.docs), "--seed", str(a.seed)],
                       check=True, stdout=subprocess.DEVNULL)
        truth = set()
        for line in open(out / "labels.jsonl", encoding="utf-8"):
            d = json.loads(line)
            truth.add((d["doc"], d["type"], d["value"]))
        p = subprocess.run([a.scan, "--format", "jsonl", "--unmasked",
                            str(out / "docs")], capture_output=True,
                           text=True)
        if p.returncode not in (0, 1):
            print(p.stderr)
            return 2
        got = set()
        for line in p.stdout.splitlines():
            d = json.loads(line)
            got.add((Path(d["file"]).name, d["type"], d["value"]))
        # Naive baseline: any run of exactly 16 digits is a NIK.
        naive = set()
        for f in sorted((out / "docs").iterdir()):
            text = f.read_bytes().decode("utf-8", "replace")
            for m in re.finditer(r"(?<!\d)\d{16}(?!\d)", text):
                naive.add((f.name, "nik", m.group()))

    failed = False
    print("%-9s %7s %7s %7s %9s %9s" % ("type", "labels", "found", "false+",
                                        "precision", "recall"))
    for t in TYPES:
        tt = {x for x in truth if x[1] == t}
        gg = {x for x in got if x[1] == t}
        tp, fp, fn = len(tt & gg), len(gg - tt), len(tt - gg)
        pr, rc = prf(tp, fp, fn)
        flag = ""
        if len(tt) >= MIN_LABELS and (pr < a.min or rc < a.min):
            flag = "  << below %.2f" % a.min
            failed = True
        print("%-9s %7d %7d %7d %9.4f %9.4f%s" % (t, len(tt), tp, fp, pr, rc,
                                                  flag))
        if a.v:
            for x in sorted(gg - tt)[:20]:
                print("   false+", x)
            for x in sorted(tt - gg)[:20]:
                print("   missed", x)
    tt = {x for x in truth if x[1] == "nik"}
    tp, fp, fn = len(tt & naive), len(naive - tt), len(tt - naive)
    pr, rc = prf(tp, fp, fn)
    print("%-9s %7d %7d %7d %9.4f %9.4f  (baseline: any 16-digit run)" % (
        "naive-nik", len(tt), tp, fp, pr, rc))

    # Per body kind, all types together.
    kinds = collections.defaultdict(lambda: [0, 0, 0])
    for x in truth | got:
        k = x[0].split("-", 1)[1].split(".")[0]
        if x in truth and x in got:
            kinds[k][0] += 1
        elif x in got:
            kinds[k][1] += 1
        else:
            kinds[k][2] += 1
    print("\n%-9s %7s %7s %7s %9s %9s" % ("body", "tp", "false+", "missed",
                                          "precision", "recall"))
    for k in sorted(kinds):
        tp, fp, fn = kinds[k]
        pr, rc = prf(tp, fp, fn)
        print("%-9s %7d %7d %7d %9.4f %9.4f" % (k, tp, fp, fn, pr, rc))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
