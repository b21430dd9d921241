#!/usr/bin/env python3
"""gerbang-gateway enforcing every kind of policy rule, end to end: GeoIP
countries (an mmdb this script writes, loopback addresses given countries),
unknown country, global CIDR deny, time windows, client-certificate
identities (subject and SHA-256), a disabled consumer, methods and body
size, a daily limit shared by every worker and kept across a reload, a new
GeoIP database picked up on reload, a bad policy refused on reload while
the old one keeps serving, and --explain --consumer. Routes point at the
test upstream's own paths (/bytes/N, /echo, /sink), one per route.

usage: test_gw_policy_rules.py BUILD_DIR
"""
import hashlib
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import Certs, listener, upstream_conf  # noqa: E402

KEY_DJP = "kunci-djp-rahasia-7f3a"
KEY_OFF = "kunci-lama-dicabut-0000"
MAKE_MMDB = gwtest.REPO / "tests" / "policy" / "make_mmdb.pl"
DAILY = 5


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def windows():
    """Route hours: 'closed' is the hour starting two hours from now in
    Jakarta, 'open' the rest of the day, so neither flips during a run."""
    now = datetime.now(timezone(timedelta(hours=7)))
    h = (now.hour + 2) % 24
    closed = [{"days": "daily", "from": f"{h:02d}:00",
               "to": f"{h + 1:02d}:00" if h < 23 else "24:00"}]
    opened = []
    if h > 0:
        opened.append({"days": "daily", "from": "00:00",
                       "to": f"{h:02d}:00"})
    if h < 23:
        opened.append({"days": "daily", "from": f"{h + 1:02d}:00",
                       "to": "24:00"})
    return closed, opened


def policy(c, extra_route: str = "") -> str:
    closed, opened = windows()
    fp = Certs.fingerprint(c.revoked[0])

    def hours(ws):
        return "[" + ", ".join(
            f'{{ days: {w["days"]}, from: "{w["from"]}", to: "{w["to"]}" }}'
            for w in ws) + "]"
    return f"""\
version: 1
settings:
  mode: enforce
network:
  deny: [127.0.0.4/32]
  countries:
    unknown: allow
consumers:
  - id: dinkes
    identities:
      - cert_subject: "CN=client1,O=Gerbang Test"
  - id: puskesmas
    identities:
      - cert_sha256: "{fp}"
  - id: djp
    identities:
      - api_key_sha256: {sha(KEY_DJP)}
  - id: lama
    disabled: true
    identities:
      - api_key_sha256: {sha(KEY_OFF)}
routes:
  - id: geo
    prefix: /bytes/1
    upstream: up
    consumers: [djp]
    network:
      countries: {{ allow: [ID], unknown: deny }}
  - id: closed
    prefix: /bytes/2
    upstream: up
    consumers: [djp]
    hours: {hours(closed)}
  - id: opened
    prefix: /bytes/3
    upstream: up
    consumers: [djp]
    hours: {hours(opened)}
  - id: certs
    prefix: /echo
    upstream: up
    consumers: [dinkes, puskesmas]
  - id: daily
    prefix: /bytes/4
    upstream: up
    consumers: [djp]
    rate_limit: {{ per_day: {DAILY} }}
  - id: small
    prefix: /sink
    methods: [POST]
    max_body: 10
    upstream: up
    consumers: [djp]
  - id: old
    prefix: /bytes/5
    upstream: up
    consumers: [lama]
{extra_route}"""


def main(t: gwtest.Test):
    if shutil.which("perl") is None or subprocess.run(
            ["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"],
            capture_output=True).returncode != 0:
        t.skip("policy rules", "libmaxmind-db-writer-perl is not installed")
        return
    c = t.certs
    mmdb = t.path("country.mmdb")

    def write_mmdb(*nets):
        tmp = t.path("country.mmdb.tmp")
        subprocess.run(["perl", str(MAKE_MMDB), str(tmp), *nets],
                       check=True, timeout=60)
        tmp.replace(mmdb)
    # 127.0.0.1 is in Indonesia, 127.0.0.2 in Singapore, 127.0.0.3 nowhere.
    write_mmdb("127.0.0.1/32=ID", "127.0.0.2/32=SG")

    up = t.upstream()
    pol = t.path("policy.yaml")
    pol.write_text(policy(c))
    conf = t.config(
        upstreams=[upstream_conf("up", [up])],
        listeners=[listener("main", c.server_certs(),
                            client_auth="optional", client_ca=str(c.ca))])
    del conf["routes"]
    conf["policy"] = str(pol)
    conf["geoip"] = str(mmdb)
    gw = t.gateway(conf, workers=3)
    djp = [("X-API-Key", KEY_DJP)]

    def get(path, source=None, headers=djp, cert=None, method="GET",
            body=None):
        ctx = gwtest.client_context(cert=cert) if cert else None
        with gw.conn(source=source, ctx=ctx) as conn:
            return conn.request(method, path, headers=headers, body=body)

    # Countries and the global network block.
    r = get("/bytes/1", source="127.0.0.1")
    t.check(r.status == 200, "GeoIP: ID allowed", r)
    r = get("/bytes/1", source="127.0.0.2")
    t.check(r.status == 403, "GeoIP: SG not in the allow list: 403", r)
    r = get("/bytes/1", source="127.0.0.3")
    t.check(r.status == 403, "GeoIP: unknown country denied explicitly", r)
    r = get("/bytes/3", source="127.0.0.3")
    t.check(r.status == 200, "unknown country allowed by the global block",
            r)
    r = get("/bytes/3", source="127.0.0.4")
    t.check(r.status == 403, "global CIDR deny before any route", r)

    # Time windows.
    r = get("/bytes/2")
    t.check(r.status == 403, "outside the route's hours: 403", r)
    r = get("/bytes/3")
    t.check(r.status == 200, "inside the route's hours: 200", r)

    # Client-certificate identities.
    r = get("/echo", headers=[], cert=c.client)
    t.check(r.status == 200, "certificate subject identifies dinkes", r)
    if r.status == 200:
        got = [v for k, v in r.json()["headers"]
               if k.lower() == "x-gerbang-consumer"]
        t.check(got and got[0].split(";")[0] == "dinkes",
                "upstream told the consumer is dinkes", got)
    r = get("/echo", headers=[], cert=c.revoked)
    t.check(r.status == 200, "certificate SHA-256 identifies puskesmas "
            "(no CRL on this listener)", r)
    if r.status == 200:
        got = [v for k, v in r.json()["headers"]
               if k.lower() == "x-gerbang-consumer"]
        t.check(got and got[0].split(";")[0] == "puskesmas",
                "upstream told the consumer is puskesmas", got)
    r = get("/echo", headers=[])
    t.check(r.status == 401, "no certificate, no key: 401", r)
    r = get("/echo")
    t.check(r.status == 403, "djp's key on a certificate route: 403", r)

    # A disabled consumer, methods, body size.
    r = get("/bytes/5", headers=[("X-API-Key", KEY_OFF)])
    t.check(r.status == 403, "disabled consumer: 403", r)
    r = get("/sink")
    t.check(r.status == 403, "method not on the route: 403", r)
    r = get("/sink", method="POST", body=b"x" * 11)
    t.check(r.status == 413, "body over max_body: 413", r)
    r = get("/sink", method="POST", body=b"x" * 10)
    t.check(r.status == 200, "body at max_body: 200", r)
    # A chunked body has no declared length: it is held to the route's
    # limit as it arrives, as a Content-Length is before it.
    chunk = [("Transfer-Encoding", "chunked")]
    r = get("/sink", method="POST", headers=djp + chunk,
            body=b"6\r\nxxxxxx\r\n5\r\nxxxxx\r\n0\r\n\r\n")
    t.check(r.status == 413 and r.closes, "chunked body over max_body: 413",
            r)
    r = get("/sink", method="POST", headers=djp + chunk,
            body=b"6\r\nxxxxxx\r\n4\r\nxxxx\r\n0\r\n\r\n")
    t.check(r.status == 200 and r.json().get("body_len") == 10,
            "chunked body at max_body: 200", r)

    # One daily limit for all three workers: batches of connections held
    # open together land on several workers (the request id's prefix names
    # the worker), yet exactly DAILY requests pass in all.
    statuses, workers = [], set()
    for _ in range(10):
        conns = [gw.conn() for _ in range(6)]
        for conn in conns:
            r = conn.request("GET", "/bytes/4", headers=djp)
            statuses.append(r.status)
            workers.add((r.header("x-request-id") or "").split("-")[0])
            conn.close()
        if len(workers) >= 2 and len(statuses) >= 3 * DAILY:
            break
    t.check(statuses.count(200) == DAILY and
            statuses.count(429) == len(statuses) - DAILY,
            f"daily limit {DAILY}: exactly {DAILY} of {len(statuses)} "
            f"pass", statuses)
    if len(workers) >= 2:
        t.check(True, f"those requests were served by {len(workers)} "
                "workers")
    else:
        t.note("every request landed on one worker: the sharing across "
               "workers is covered by the pol_state unit test")

    # Reload with a changed policy and a new GeoIP database: the counters
    # stay, 127.0.0.2 is now Indonesian.
    write_mmdb("127.0.0.1/32=ID", "127.0.0.2/32=ID")
    pol.write_text(policy(c, "  - id: extra\n    prefix: /bytes/6\n"
                          "    upstream: up\n    consumers: [djp]\n"))
    t.require(gw.reload(), "reload with a changed policy")
    r = get("/bytes/4")
    t.check(r.status == 429, "daily limit survives the reload", r)
    r = get("/bytes/6")
    t.check(r.status == 200, "the new route serves", r)
    r = get("/bytes/1", source="127.0.0.2")
    t.check(r.status == 200, "the new GeoIP database is used", r)

    # A broken policy: refused with its position, the old one serves.
    good = pol.read_text()
    pol.write_text(good.replace("consumers: [dinkes, puskesmas]",
                                "consumers: [dinkes, puskesms]"))
    t.check(not gw.reload(expect_ok=False), "a bad policy is refused")
    err = gw.stderr()
    t.check(f"{pol}:" in err and "puskesms" in err,
            "the reload error names file:line:col and the bad id",
            err[-600:])
    r = get("/echo", headers=[], cert=c.client)
    t.check(r.status == 200, "the old policy keeps serving", r)
    pol.write_text(good)

    # --explain --consumer: what may this consumer do?
    def explain(*extra):
        return subprocess.run([str(t.exe), "--explain", "-c",
                               str(gw.conf_path), "--ip", "127.0.0.1",
                               "--method", "GET", *extra],
                              capture_output=True, text=True, timeout=20)
    p = explain("--path", "/bytes/3", "--consumer", "djp")
    t.check(p.returncode == 0 and 'consumer id "djp" given' in p.stdout,
            "--explain --consumer djp: allowed", p.stdout + p.stderr)
    p = explain("--path", "/echo", "--consumer", "djp")
    t.check(p.returncode == 1 and "403" in p.stdout,
            "--explain --consumer djp on a certificate route: 403",
            p.stdout + p.stderr)
    p = explain("--path", "/bytes/3", "--consumer", "nobody")
    t.check(p.returncode == 1 and "no such consumer" in p.stdout and
            "401" in p.stdout, "--explain --consumer unknown: 401",
            p.stdout + p.stderr)
    p = explain("--path", "/bytes/2", "--consumer", "djp")
    t.check(p.returncode == 1 and "outside every window" in p.stdout,
            "--explain shows the time window", p.stdout + p.stderr)


if __name__ == "__main__":
    gwtest.run(main)
