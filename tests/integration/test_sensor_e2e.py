#!/usr/bin/env python3
"""gerbang-sensor live on the loopback interface, with the gateway, the demo
agency API and the alert store: a consumer pulls a page of records through
the gateway (bulk alert, attributed to the consumer by the signed header),
then asks for records one NIK at a time (scraping alert); someone talks to
the API around the gateway with a forged consumer header (its own alert).
The alerts are read back with gerbang-audit, whose verify must pass, and no
clear identifier appears in any output.

Needs root (or CAP_NET_RAW) to capture; skipped otherwise.

usage: test_sensor_live.py BUILD_DIR
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

KEY = "kunci-dinkes-live-0001"
SCRAPE = 20


def main(t: gwtest.Test):
    if os.geteuid() != 0:
        t.skip("live capture on lo", "needs root for the capture")
        return
    sensor_exe = t.build / "detectors" / "gerbang-sensor"
    store_exe = t.build / "store" / "gerbang-store"
    audit_exe = t.build / "store" / "gerbang-audit"

    # The demo agency API.
    port_file = t.path("demo.port")
    demo = gwtest._spawn([sys.executable, str(gwtest.REPO / "deploy" / "demo"
                                              / "demo_api.py"),
                          "--listen", "127.0.0.1:0", "--records", "3000",
                          "--port-file", str(port_file), "--quiet"],
                         subprocess.DEVNULL, open(t.path("demo.err"), "wb"))
    t.require(gwtest.wait_until(lambda: port_file.exists() and
                                port_file.read_text().strip(), 30),
              "demo API listening")
    demo_port = int(port_file.read_text().strip())

    # Keys: the consumer header's HMAC key, the store's signing key.
    hkey = t.path("consumer.key")
    hkey.write_text(os.urandom(32).hex() + "\n")
    skey = t.path("store.pem")
    p = subprocess.run([str(store_exe), "keygen", "--out", str(skey)],
                       capture_output=True, text=True, timeout=30)
    t.require(p.returncode == 0, "gerbang-store keygen", p.stderr)
    store = t.path("alerts")

    # The sensor, on lo, watching the gateway-to-API leg only.
    alerts = t.path("alerts.jsonl")
    txns = t.path("txns.jsonl")
    serr = t.path("sensor.err")
    sensor = gwtest._spawn(
        [str(sensor_exe), "-i", "lo", "-f", f"tcp port {demo_port}",
         "--immediate", "--sensor-id", "live-lo", "--store", str(store),
         "--rules", str(gwtest.REPO / "rules"),
         "--store-key", str(skey), "--consumer-key", str(hkey),
         "--json", str(alerts), "--transactions", str(txns),
         "--scrape-distinct", str(SCRAPE), "--stats-interval", "0"],
        subprocess.DEVNULL, open(serr, "wb"))
    t.require(gwtest.wait_until(
        lambda: b"capturing" in serr.read_bytes() or
        sensor.poll() is not None, 20) and sensor.poll() is None,
        "sensor capturing on lo", serr.read_text(errors="replace"))

    # The gateway in front of the demo API, signing the consumer header.
    pol = t.path("policy.yaml")
    pol.write_text(f"""\
version: 1
consumers:
  - id: dinkes
    identities:
      - api_key_sha256: {hashlib.sha256(KEY.encode()).hexdigest()}
routes:
  - id: penduduk
    prefix: /api/penduduk
    upstream: demo
    consumers: [dinkes]
""")
    conf = t.config(upstreams=[upstream_conf(
        "demo", [f"127.0.0.1:{demo_port}"])])
    del conf["routes"]
    conf["policy"] = str(pol)
    conf["consumer_header"] = {"hmac_key": str(hkey)}
    gw = t.gateway(conf)
    auth = [("X-API-Key", KEY)]

    with gw.conn() as c:
        r = c.get("/api/penduduk?per_page=200", headers=auth)
        t.require(r.status == 200, "a page of 200 records via the gateway",
                  r)
        rows = r.json()["data"]
        niks = [row["nik"] for row in rows]
        for nik in niks[:SCRAPE + 5]:
            r = c.get(f"/api/penduduk/{nik}", headers=auth)
            t.check(r.status == 200, f"one record by NIK ({len(nik)} "
                    "digits)", r)
            if r.status != 200:
                break
    # Around the gateway, claiming to be dinkes.
    forged = ("dinkes; rid=feedface-1; ts=%d; sig=%s" %
              (int(time.time()), "A" * 43))
    import socket
    with socket.create_connection(("127.0.0.1", demo_port), timeout=5) as s:
        s.sendall(b"GET /api/penduduk?per_page=50 HTTP/1.1\r\n"
                  b"Host: demo\r\nConnection: close\r\n"
                  b"X-Gerbang-Consumer: " + forged.encode() + b"\r\n\r\n")
        while s.recv(65536):
            pass

    def rules_seen():
        out = set()
        try:
            for line in alerts.read_text().splitlines():
                out.add(json.loads(line).get("rule"))
        except (OSError, ValueError):
            pass
        return out
    want = {"nik-dump-in-response", "scraping-by-consumer",
            "consumer-header-rejected"}
    t.check(gwtest.wait_until(lambda: want <= rules_seen(), 15),
            "the alerts reach the SIEM file within seconds, live",
            sorted(rules_seen()))
    sensor.send_signal(signal.SIGTERM)
    try:
        sensor.wait(timeout=20)
    except subprocess.TimeoutExpired:
        sensor.kill()
        t.check(False, "sensor stops on SIGTERM")
    t.check(sensor.returncode == 0, "sensor exit status 0",
            serr.read_text(errors="replace")[-2000:])
    text = serr.read_text(errors="replace")
    t.check("runtime error:" not in text and "Sanitizer" not in text,
            "no sanitizer report from the sensor", text[-2000:])

    lines = [json.loads(x) for x in alerts.read_text().splitlines()]
    by_rule = {}
    for a in lines:
        by_rule.setdefault(a.get("rule"), []).append(a)
    t.check(want <= set(by_rule), "alerts: bulk, scraping, forged header",
            sorted(by_rule))
    bulk = by_rule.get("nik-dump-in-response", [{}])[0]
    t.check(bulk.get("consumer") == "dinkes" and
            bulk.get("consumer_verified") is True,
            "bulk alert attributed to the verified consumer", bulk)
    scr = by_rule.get("scraping-by-consumer", [{}])[0]
    t.check(scr.get("path", "").startswith("/api/penduduk/{nik}"),
            "scraping alert names the path template", scr)
    fg = by_rule.get("consumer-header-rejected", [{}])[0]
    t.check(fg.get("consumer_verified") is not True,
            "forged header alert is not verified", fg)

    everything = alerts.read_text() + txns.read_text() + text
    leaked = [n for n in niks[:SCRAPE + 5] if n in everything]
    t.check(not leaked, "no clear NIK in alerts, transactions or logs",
            leaked[:3])

    # The auditors' view.
    p = subprocess.run([str(audit_exe), "--store", str(store), "--format",
                        "json", "list", "--rule", "nik-dump-in-response"],
                       capture_output=True, text=True, timeout=30)
    t.check(p.returncode == 0 and '"consumer":"dinkes"' in
            re.sub(r"\s", "", p.stdout), "gerbang-audit lists the alert",
            p.stdout[-500:] + p.stderr)
    p = subprocess.run([str(audit_exe), "--store", str(store), "verify",
                        "--pubkey", str(skey) + ".pub"],
                       capture_output=True, text=True, timeout=60)
    t.check(p.returncode == 0, "gerbang-audit verify passes",
            p.stdout[-500:] + p.stderr)
    demo.terminate()


if __name__ == "__main__":
    gwtest.run(main)
