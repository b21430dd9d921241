#!/usr/bin/env python3
"""Golden capture tests for gerbang-sensor.

usage: run_pcaps.py BUILD_DIR [NAME...]

Generates the captures (gen_pcaps.py) into a temporary folder, then for each
line of TESTLIST runs "gerbang-sensor -r INPUT --transactions - --all
--stats-json FILE --rules rules/ --json FILE [options]" (@KEY@ in the options names
the consumer-header key gen_pcaps.py writes, @HERE@ this folder) and compares its output with
expected/NAME.jsonl: one line per transaction, in order, each key given
must be equal (a "flow" or "counts" object as a whole); a line
{"stats": {...}} names counters that must have those values; a line
{"alerts": [...]} lists the alerts expected, in order, each key given
equal (without it, alerts are not checked). A run fails if the sensor
exits non-zero or prints a sanitizer report, or an alert holds a clear
identifier.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def subset(want, got, path, errs):
    for k, v in want.items():
        if k not in got:
            errs.append(f"{path}{k}: missing (want {v!r})")
        elif isinstance(v, dict) and path.startswith("stats"):
            subset(v, got[k], f"{path}{k}.", errs)
        elif got[k] != v:
            errs.append(f"{path}{k}: got {got[k]!r}, want {v!r}")


def run_one(exe, workdir, name, inp, exp, opts):
    stats = os.path.join(workdir, name + ".stats.json")
    alerts = os.path.join(workdir, name + ".alerts.jsonl")
    opts = [o.replace("@KEY@", os.path.join(workdir, "consumer.key"))
             .replace("@HERE@", HERE) for o in opts]
    argv = [exe, "-r", os.path.join(workdir, inp), "--transactions", "-", "--all",
            "--stats-json", stats, "--log-level", "warn",
            "--rules", os.path.join(HERE, "..", "..", "rules"),
            "--json", alerts] + opts
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    errs = []
    if p.returncode != 0:
        errs.append(f"exit {p.returncode}: {p.stderr.strip()}")
    if "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        errs.append("sanitizer report:\n" + p.stderr)
    got = [json.loads(line) for line in p.stdout.splitlines() if line]
    want, want_stats, want_alerts = [], None, None
    with open(os.path.join(HERE, "expected", exp)) as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                if "stats" in obj:
                    want_stats = obj["stats"]
                elif "alerts" in obj:
                    want_alerts = obj["alerts"]
                else:
                    want.append(obj)
    if len(got) != len(want):
        errs.append(f"{len(got)} transactions, want {len(want)}")
    for i, (w, g) in enumerate(zip(want, got)):
        subset(w, g, f"txn[{i}].", errs)
    if want_stats is not None:
        try:
            with open(stats) as f:
                subset(want_stats, json.load(f), "stats.", errs)
        except (OSError, ValueError) as e:
            errs.append(f"stats: {e}")
    try:
        with open(alerts) as f:
            got_alerts = [json.loads(x) for x in f if x.strip()]
    except (OSError, ValueError) as e:
        got_alerts = []
        errs.append(f"alerts: {e}")
    if want_alerts is not None:
        if len(got_alerts) != len(want_alerts):
            errs.append(f"{len(got_alerts)} alerts "
                        f"{[a.get('rule') for a in got_alerts]}, want "
                        f"{len(want_alerts)}")
        for i, (w, g) in enumerate(zip(want_alerts, got_alerts)):
            subset(w, g, f"alert[{i}].", errs)
    for a in got_alerts:
        if any(ch.isdigit() and len(run) >= 10 for run in
               "".join(c if c.isdigit() else " " for c in
                       a.get("path", "") + a.get("message", "")).split()
               for ch in run[:1]):
            errs.append(f"alert with a clear number: {a}")
        for s in a.get("samples", []):
            if "*" not in s["value"]:
                errs.append(f"alert sample not masked: {s}")
    for g in got:  # personal data never in clear: samples are masked
        for s in g.get("samples", []):
            if "*" not in s["value"]:
                errs.append(f"sample not masked: {s}")
    return errs


def entries(path, only=()):
    """(name, input, expected, options) of each line of a TESTLIST file
    (blank lines and # comments skipped), only the named ones if given."""
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if only and parts[0] not in only:
                continue
            yield parts[0], parts[1], parts[2], parts[3:]


def main():
    build = sys.argv[1]
    only = set(sys.argv[2:])
    exe = os.path.join(build, "detectors", "gerbang-sensor")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_pcaps.py"),
                        tmp], check=True)
        for name, inp, exp, opts in entries(os.path.join(HERE, "TESTLIST"),
                                            only):
            errs = run_one(exe, tmp, name, inp, exp, opts)
            if errs:
                failed += 1
                print(f"FAIL {name}")
                for e in errs:
                    print("    " + e)
            else:
                passed += 1
                print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
