#!/usr/bin/env python3
"""gerbang-sensor on a live interface: capture on lo, drop root, stop on
SIGTERM with the transactions and counters written.

usage: test_sensor_live.py BUILD_DIR

Needs root (to open a live capture); skipped (exit 77) otherwise. Starts a
small HTTP server on 127.0.0.1 whose JSON answers carry two NIKs, runs the
sensor with -i lo -f "tcp port PORT" --user nobody, makes three requests,
then checks: the sensor runs as nobody, exits 0 after SIGTERM, wrote three
transactions with two NIKs each (masked), and its final counters.
"""
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "demo"))
import pii_gen  # noqa: E402

NIKS = [pii_gen.make_nik(random.Random(5), regions=pii_gen.load_regions())
        for _ in range(2)]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"data": [{"nik": n} for n in NIKS]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if os.geteuid() != 0:
        print("SKIP: a live capture needs root")
        return 77
    exe = os.path.join(sys.argv[1], "detectors", "gerbang-sensor")
    passed = failed = 0

    def check(cond, what, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what} {detail}")

    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "txn.jsonl")
        stats = os.path.join(tmp, "stats.json")
        err = open(os.path.join(tmp, "stderr"), "w+")
        p = subprocess.Popen([exe, "-i", "lo", "-f", f"tcp port {port}",
                              "--immediate", "--transactions", out, "--stats-json",
                              stats, "--user", "nobody", "--sensor-id",
                              "live-test"], stderr=err)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                err.seek(0)
                if "capturing on lo" in err.read() or p.poll() is not None:
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    uid = [ln for ln in f if ln.startswith("Uid:")][0]
                check(uid.split()[1:] == ["65534"] * 4,
                      "runs as nobody after opening the capture", uid)
                with open(f"/proc/{p.pid}/status") as f:
                    caps = {ln.split(":")[0]: ln.split()[1] for ln in f
                            if ln.startswith("Cap")}
                check(int(caps["CapEff"], 16) == 0 and
                      int(caps["CapPrm"], 16) == 0,
                      "no capabilities left", caps)
            except OSError as e:
                check(False, "read /proc status", e)
            for i in range(3):
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/warga/{i}",
                        timeout=5) as r:
                    r.read()
            time.sleep(0.5)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            srv.shutdown()
        err.seek(0)
        log = err.read()
        check(rc == 0, "exit 0 after SIGTERM", f"rc={rc} {log}")
        check("Sanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", log)
        check("exit stats" in log, "counters logged at exit")
        lines = []
        if os.path.exists(out):
            lines = [json.loads(x) for x in open(out) if x.strip()]
        check(len(lines) == 3, "three transactions written", lines)
        for t in lines:
            check(t.get("counts") == {"nik": 2} and t.get("status") == 200
                  and t.get("sensor") == "live-test" and
                  t["flow"]["dport"] == port,
                  "transaction with two NIKs", t)
            check(all(n not in json.dumps(t) for n in NIKS),
                  "values masked", t)
        try:
            s = json.load(open(stats))
            check(s["capture"]["received"] > 0 and
                  s["http"]["requests"] == 3, "final counters", s)
        except (OSError, ValueError) as e:
            check(False, "stats json", e)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
