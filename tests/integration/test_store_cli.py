#!/usr/bin/env python3
"""gerbang-store and gerbang-audit end to end, on real stores in temp dirs.

Imports generated alerts, then checks every query filter against the same
filter computed here, show, stats, export (JSON lines and CSV) and
re-import, verify (good key, wrong key, a byte changed in data.mdb),
report, follow while alerts arrive, purge, checkpoint, a read-only copy of
the store (as another user when run as root), and the exit codes.

usage: test_store_cli.py BUILD_DIR
"""
import csv
import datetime as dt
import hashlib
import io
import ipaddress
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

RULES = ["bulk-nik", "bulk-phone", "scrape-kk"]
CONSUMERS = ["", "dukcapil", "bpjs"]
SEVS = ["info", "low", "medium", "high", "critical"]
TYPES = ["nik", "kk", "phone", "email"]
N = 300


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def make_alerts(now):
    out = []
    for i in range(N):
        a = {
            "time": iso(now - 3600 * 24 * 6 + i * 1800),
            "sensor": "sensor-a" if i % 2 else "gateway-1",
            "rule": RULES[i % 3],
            "severity": SEVS[i % 5],
            "bytes": 1000 + i,
            "message": f"alert {i}",
            "counts": [{"type": TYPES[(i + k) % 4], "count": 100 + i,
                        "distinct": 90 + k} for k in range(1 + i % 2)],
            "samples": [{"type": TYPES[i % 4],
                         "value": "3171015708450001"}],
        }
        if i % 4 != 3:
            a["src"] = (f"10.{i % 3}.0.{i % 250}" if i % 4 != 2
                        else f"2001:db8::{i:x}")
            a["dst"] = "10.9.9.9" if i % 4 != 2 else "2001:db8::1"
            a["sport"] = 40000 + i
            a["dport"] = 443
            a["proto"] = 6
        if CONSUMERS[i % 3]:
            a["consumer"] = CONSUMERS[i % 3]
            a["consumer_verified"] = i % 2 == 0
        if i % 10 == 0:
            a["incident"] = "INC-1"
        if i == 7:
            a["message"] = "=HYPERLINK(\"http://x\")"
        out.append(a)
    return out


class T:
    def __init__(self, build):
        self.audit = os.path.join(build, "store", "gerbang-audit")
        self.admin = os.path.join(build, "store", "gerbang-store")
        self.passed = self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")

    def run(self, argv, inp=None, user=None, timeout=60):
        kw = {}
        if user is not None:
            def drop():
                os.setgid(user)
                os.setuid(user)
            kw["preexec_fn"] = drop
        p = subprocess.run(argv, input=inp, capture_output=True, text=True,
                           timeout=timeout, **kw)
        self.check("Sanitizer" not in p.stderr and "runtime error" not in
                   p.stderr, f"sanitizer report from {argv}: {p.stderr}")
        return p


def ids_of(jsonl):
    return [json.loads(line)["message"] for line in jsonl.splitlines()]


def main():
    t = T(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gb-store-cli-")
    os.chmod(tmp, 0o755)
    try:
        scenario(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{t.passed} passed, {t.failed} failed")
    return 1 if t.failed else 0


def scenario(t, tmp):
    key = os.path.join(tmp, "store.key")
    pub = key + ".pub"
    store = os.path.join(tmp, "alerts")
    A = [t.audit, "--store", store]
    now = int(time.time())
    alerts = make_alerts(now)

    # Keys.
    p = t.run([t.admin, "keygen", "--out", key])
    t.check(p.returncode == 0 and os.path.exists(pub), f"keygen {p}")
    t.check(stat.S_IMODE(os.stat(key).st_mode) == 0o600, "key is 0600")
    p = t.run([t.admin, "pubkey", "--key", key])
    with open(pub) as f:
        t.check(p.stdout == f.read(), "pubkey prints the public half")
    p = t.run([t.admin, "keygen", "--out", key])
    t.check(p.returncode == 3, "keygen refuses to overwrite a key")

    # Import, with two bad lines reported by line number.
    src = os.path.join(tmp, "in.jsonl")
    with open(src, "w") as f:
        for i, a in enumerate(alerts):
            f.write(json.dumps(a) + "\n")
            if i == 5:
                f.write('{"sensor":"s","rule":"r","severity":"urgent"}\n')
            if i == 9:
                f.write("not json\n")
    p = t.run([t.admin, "-s", store, "-k", key, "import", src])
    t.check(p.returncode == 1 and f"imported {N} alerts" in p.stdout,
            f"import: {p.returncode} {p.stdout} {p.stderr}")
    t.check(f"{src}:7: error: unknown severity" in p.stderr and
            f"{src}:12: error:" in p.stderr, f"import errors: {p.stderr}")

    # list: every filter, against the same filter computed here.
    def expect(pred):
        sel = [a for a in alerts if pred(a)]
        sel.sort(key=lambda a: a["time"])
        return [a["message"] for a in sel]

    def lst(*args):
        p = t.run(A + ["list", "--format", "json", *args])
        t.check(p.returncode == 0, f"list {args}: {p.stderr}")
        return ids_of(p.stdout)

    def ts(a):
        return dt.datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%SZ") \
            .replace(tzinfo=dt.timezone.utc).timestamp()

    t.check(lst() == expect(lambda a: True), "list all")
    t.check(lst("--rule", "bulk-phone") == expect(
        lambda a: a["rule"] == "bulk-phone"), "list --rule")
    t.check(lst("--since", "24h") == expect(
        lambda a: ts(a) >= now - 86400 + 1), "list --since 24h")
    day = iso(now - 3 * 86400)[:10]
    d0 = dt.datetime.strptime(day, "%Y-%m-%d").replace(
        tzinfo=dt.timezone.utc).timestamp()
    t.check(lst("--rule", "bulk-nik", "--since", day, "--until",
                day + "T23:59:59.999999999Z") ==
            expect(lambda a: a["rule"] == "bulk-nik" and
                   d0 <= ts(a) < d0 + 86400), "list --rule, one day")
    t.check(lst("--severity", "high") == expect(
        lambda a: SEVS.index(a["severity"]) >= 3), "list --severity")
    t.check(lst("--src", "10.1.0.0/16") == expect(
        lambda a: "src" in a and ":" not in a["src"] and
        ipaddress.ip_address(a["src"]) in
        ipaddress.ip_network("10.1.0.0/16")), "list --src v4")
    t.check(lst("--src", "2001:db8::/32") == expect(
        lambda a: "src" in a and ":" in a["src"]), "list --src v6")
    t.check(lst("--consumer", "bpjs") == expect(
        lambda a: a.get("consumer") == "bpjs"), "list --consumer")
    t.check(lst("--type", "email", "--severity", "medium") == expect(
        lambda a: any(c["type"] == "email" for c in a["counts"]) and
        SEVS.index(a["severity"]) >= 2), "list --type --severity")
    t.check(lst("--incident", "INC-1") == expect(
        lambda a: a.get("incident") == "INC-1"), "list --incident")
    t.check(len(lst("--limit", "5")) == 5, "list --limit")

    p = t.run(A + ["list", "--rule", "scrape-kk", "--limit", "3"])
    lines = p.stdout.splitlines()
    t.check(p.returncode == 0 and lines[0].startswith("ID") and
            "RULE" in lines[0] and len(lines) == 4 and
            "\033[" not in p.stdout, f"table: {p.stdout!r}")
    # Columns are aligned: RULE starts at the same offset on every line.
    col = lines[0].index("RULE")
    t.check(all(ln[col:col + 9] == "scrape-kk" for ln in lines[1:]),
            "table columns aligned")

    # show.
    p = t.run(A + ["show", "1", "--format", "json"])
    one = json.loads(p.stdout)
    t.check(one["id"] == 1 and one["message"] == "alert 0" and
            one["samples"][0]["value"] == "3171********0001" and
            len(one["link"]) == 64, f"show json: {p.stdout}")
    p = t.run(A + ["show", "2"])
    t.check(p.returncode == 0 and "chain link" in p.stdout and
            "3171015708450001" not in p.stdout, "show table, masked")
    t.check(t.run(A + ["show", "99999"]).returncode == 1, "show missing")
    t.check(t.run(A + ["show", "abc"]).returncode == 2, "show bad id")

    # stats.
    p = t.run(A + ["stats", "--format", "json"])
    s = json.loads(p.stdout)
    t.check(s["alerts"] == N, "stats total")
    by_rule = {r["rule"]: r["alerts"] for r in s["by_rule"]}
    t.check(by_rule == {r: sum(1 for a in alerts if a["rule"] == r)
                        for r in RULES}, f"stats by rule {by_rule}")
    nik = [x for x in s["by_type"] if x["type"] == "nik"][0]
    t.check(nik["values"] == sum(c["count"] for a in alerts
                                 for c in a["counts"] if c["type"] == "nik"),
            "stats type values")
    t.check(sum(d["alerts"] for d in s["by_day"]) == N, "stats by day")
    p = t.run(A + ["stats"])
    t.check("RULE" in p.stdout and "DAY (UTC)" in p.stdout, "stats table")

    # export -> import into a new store -> export: identical, links too.
    p = t.run(A + ["export"])
    exp1 = p.stdout
    store2 = os.path.join(tmp, "alerts2")
    p = t.run([t.admin, "-s", store2, "-k", key, "import", "-"], inp=exp1)
    t.check(p.returncode == 0, f"re-import: {p.stderr}")
    p = t.run([t.audit, "-s", store2, "export"])
    t.check(p.stdout == exp1 and len(exp1.splitlines()) == N,
            "export, import, export is identical")
    p = t.run(A + ["export", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    t.check(len(rows) == N and rows[0]["message"] == "alert 0",
            "export csv")
    row7 = [r for r in rows if "HYPERLINK" in r["message"]][0]
    t.check(row7["message"].startswith("'="), "csv formula defused")

    # verify.
    p = t.run(A + ["verify", "--pubkey", pub])
    t.check(p.returncode == 0 and p.stdout.startswith("OK: 300 records"),
            f"verify: {p.stdout} {p.stderr}")
    other = os.path.join(tmp, "other.key")
    t.run([t.admin, "keygen", "--out", other])
    p = t.run(A + ["verify", "--pubkey", other + ".pub"])
    t.check(p.returncode == 1 and "unknown key" in p.stdout,
            f"verify wrong key: {p.stdout}")
    p = t.run(A + ["verify", "--format", "json"])
    v = json.loads(p.stdout)
    t.check(v["ok"] and v["own_key"] and v["records"] == N, "verify json")

    # report.
    p = t.run(A + ["report", "--incident", "INC-1"])
    first = min(a["time"] for a in alerts if a.get("incident") == "INC-1")
    deadline = iso(dt.datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=dt.timezone.utc).timestamp() + 72 * 3600)
    t.check(p.returncode == 0 and "3x24" in p.stdout and
            deadline in p.stdout and "3171********0001" in p.stdout and
            "3171015708450001" not in p.stdout and
            "Lembaga Pelindungan Data Pribadi" in p.stdout,
            f"report: {p.stdout}")
    p = t.run(A + ["report", "--incident", "NOPE"])
    t.check(p.returncode == 1, "report of an unknown incident")
    t.check(t.run(A + ["report"]).returncode == 2, "report needs --incident")

    # A read-only copy, as another user when root: nothing written.
    ro = os.path.join(tmp, "ro")
    shutil.copytree(store, ro)

    def digest():
        h = hashlib.sha256()
        for n in sorted(os.listdir(ro)):
            with open(os.path.join(ro, n), "rb") as f:
                h.update(n.encode() + f.read())
        return h.hexdigest()
    for n in os.listdir(ro):
        os.chmod(os.path.join(ro, n), 0o444)
    os.chmod(ro, 0o555)
    before = digest()
    user = 65534 if os.geteuid() == 0 else None
    p = t.run([t.audit, "-s", ro, "verify", "--pubkey", pub], user=user)
    t.check(p.returncode == 0 and "OK" in p.stdout,
            f"verify read-only copy: {p.stdout} {p.stderr}")
    p = t.run([t.audit, "-s", ro, "list", "--rule", "bulk-nik",
               "--format", "json"], user=user)
    t.check(p.returncode == 0 and len(p.stdout.splitlines()) == N // 3,
            f"list read-only copy: {p.stderr}")
    t.check(digest() == before, "read-only copy unchanged")

    # follow while alerts arrive.
    fol = subprocess.Popen(A + ["follow", "--format", "json", "--interval",
                                "100ms", "--count", "3"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        time.sleep(0.5)
        new = "".join(json.dumps({"sensor": "s", "rule": "late",
                                  "message": f"late {k}"}) + "\n"
                      for k in range(3))
        t.run([t.admin, "-s", store, "-k", key, "import", "--batch", "1"],
              inp=new)
        out, err = fol.communicate(timeout=20)
        t.check(fol.returncode == 0 and ids_of(out) ==
                ["late 0", "late 1", "late 2"], f"follow: {out} {err}")
    finally:
        if fol.poll() is None:
            fol.kill()
            fol.wait()

    # purge: older than about 3 days; verification still holds.
    cut = now - 3 * 86400 + 900
    p = t.run([t.admin, "-s", store, "-k", key, "purge", "--before",
               iso(cut)])
    gone = sum(1 for a in alerts if ts(a) < cut)
    t.check(p.returncode == 0 and f"purged {gone} alerts" in p.stdout,
            f"purge: {p.stdout} {p.stderr}")
    p = t.run(A + ["verify", "--pubkey", pub])
    t.check(p.returncode == 0 and "purged" in p.stdout,
            f"verify after purge: {p.stdout}")
    t.check(len(lst()) == N + 3 - gone, "list after purge")
    p = t.run([t.admin, "-s", store, "-k", key, "checkpoint"])
    t.check(p.returncode == 0, "checkpoint")

    # A byte changed on disk: verify names the record.
    bad = os.path.join(tmp, "bad")
    shutil.copytree(store2, bad)
    with open(os.path.join(bad, "data.mdb"), "r+b") as f:
        data = f.read()
        off = data.find(b"alert 42")
        f.seek(off + 6)
        f.write(b"9")
    p = t.run([t.audit, "-s", bad, "verify", "--pubkey", pub])
    t.check(p.returncode == 1 and "record 43" in p.stdout,
            f"verify tampered: {p.stdout}")

    # Exit codes.
    t.check(t.run([t.audit, "-s", os.path.join(tmp, "none"),
                   "list"]).returncode == 3, "missing store: 3")
    p = t.run(A + ["list", "--since", "yesterday"])
    t.check(p.returncode == 2 and "--since" in p.stderr, "bad --since: 2")
    t.check(t.run(A + ["list", "--src", "10.0.0.1/8"]).returncode == 2,
            "bad --src: 2")
    t.check(t.run(A + ["verify", "--rule", "x"]).returncode == 2,
            "verify takes no filter: 2")
    t.check(t.run(A + ["list", "--nope"]).returncode == 2, "unknown flag: 2")
    t.check(t.run([t.admin, "import"]).returncode == 2,
            "import without --store: 2")
    cfg = os.path.join(tmp, "audit.yaml")
    with open(cfg, "w") as f:
        f.write(f"store: {store2}\n")
    p = t.run([t.audit, "-c", cfg, "stats", "--format", "json"])
    t.check(p.returncode == 0 and json.loads(p.stdout)["alerts"] == N,
            "store from --config")


if __name__ == "__main__":
    sys.exit(main())
