#!/usr/bin/env python3
"""gerbang-gateway with an access policy (policy:): identity by API key,
401/403/404/429 answers that leak no detail, X-Gerbang-Consumer injected
and signed with HMAC-SHA256 (consumer_header.hmac_key; a client's copy
dropped), the API key never forwarded, CIDR rules,
monitor mode, and policy errors from -t as file:line:col.

usage: test_gw_policy.py BUILD_DIR
"""
import base64
import hashlib
import hmac
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

KEY_A = "kunci-rahasia-dinkes-0001"
KEY_B = "kunci-rahasia-djp-0002"


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


POLICY = f"""\
version: 1
settings:
  mode: enforce
consumers:
  - id: dinkes
    agency: Dinas Kesehatan
    identities:
      - api_key_sha256: {sha(KEY_A)}
  - id: djp
    agency: Direktorat Jenderal Pajak
    identities:
      - api_key_sha256: {sha(KEY_B)}
routes:
  - id: echo-dinkes
    prefix: /echo
    methods: [GET, POST]
    upstream: up
    consumers: [dinkes]
    rate_limit: {{ rps: 1, burst: 3 }}
  - id: status
    prefix: /status
    upstream: up
    consumers: [dinkes, djp]
  - id: blocked-net
    prefix: /headers
    upstream: up
    consumers: [dinkes]
    network: {{ deny: [127.0.0.0/8] }}
  - id: watched
    prefix: /bytes
    upstream: up
    consumers: [djp]
    mode: monitor
"""


def main(t: gwtest.Test):
    up = t.upstream()
    pol = t.path("policy.yaml")
    pol.write_text(POLICY)
    conf = t.config(upstreams=[upstream_conf("up", [up])])
    del conf["routes"]
    conf["policy"] = str(pol)
    hkey = t.path("consumer.key")
    hkey.write_text("9c1f" * 16 + "\n")
    conf["consumer_header"] = {"hmac_key": str(hkey)}
    gw = t.gateway(conf)

    c = gw.conn()
    r = c.get("/echo")
    t.check(r.status == 401 and not r.closes, "no key: 401, kept open", r)
    t.check(b"dinkes" not in r.body and b"echo-dinkes" not in r.body,
            "a denial names no rule or consumer", r.body)
    r = c.get("/echo", headers=[("X-API-Key", "wrong-key")])
    t.check(r.status == 401, "unknown key: 401", r)
    r = c.get("/echo", headers=[("X-API-Key", KEY_B)])
    t.check(r.status == 403, "djp on a dinkes-only route: 403", r)
    r = c.get("/nowhere", headers=[("X-API-Key", KEY_A)])
    t.check(r.status == 404, "no route: 404", r)

    r = c.get("/echo", headers=[("X-API-Key", KEY_A),
                                ("X-Gerbang-Consumer", "djp")])
    t.check(r.status == 200, "dinkes on its route: 200", r)
    if r.status == 200:
        hdrs = r.json()["headers"]
        got = [v for k, v in hdrs if k.lower() == "x-gerbang-consumer"]
        t.check(len(got) == 1 and got[0].split(";")[0] == "dinkes",
                "X-Gerbang-Consumer is the identified consumer, the "
                "client's copy dropped", hdrs)
        rid = [v for k, v in hdrs if k.lower() == "x-request-id"]
        m = re.fullmatch(r"dinkes; rid=([\w.-]+); ts=(\d+); "
                         r"sig=([\w-]{43})", got[0] if got else "")
        t.check(m is not None and [m.group(1)] == rid and
                abs(int(m.group(2)) - time.time()) < 60,
                "the header carries the request id and the time", got)
        if m is not None:
            msg = f"gerbang-consumer-v1\ndinkes\n{m.group(1)}\n" \
                f"{m.group(2)}".encode()
            want = base64.urlsafe_b64encode(hmac.new(
                ("9c1f" * 16).encode(), msg, hashlib.sha256).digest())
            t.check(want.rstrip(b"=").decode() == m.group(3),
                    "its HMAC-SHA256 signature checks with the key", got)
        t.check(not any(k.lower() == "x-api-key" for k, _ in hdrs),
                "the API key is not forwarded", hdrs)
    r = c.get("/echo", headers=[("Authorization", "Bearer " + KEY_A)])
    t.check(r.status == 200, "Authorization: Bearer works as a key", r)
    if r.status == 200:
        hdrs = r.json()["headers"]
        t.check(not any(k.lower() == "authorization" for k, _ in hdrs),
                "the bearer key is not forwarded", hdrs)

    # Rate limit: burst 3 at 1 rps; two used above, so within a few more
    # requests a 429 with Retry-After must come.
    seen = None
    for _ in range(6):
        r = c.get("/echo", headers=[("X-API-Key", KEY_A)])
        if r.status == 429:
            seen = r
            break
    t.check(seen is not None, "rate limit: 429 after the burst", seen)
    if seen is not None:
        ra = seen.header("Retry-After")
        t.check(ra is not None and ra.isdigit() and int(ra) >= 1,
                "429 carries Retry-After", seen)
    r = c.get("/status/200", headers=[("X-API-Key", KEY_A)])
    t.check(r.status == 200, "another route is not limited by that one", r)

    r = c.get("/headers", headers=[("X-API-Key", KEY_A)])
    t.check(r.status == 403, "CIDR deny on a route: 403", r)
    r = c.get("/bytes/10", headers=[("X-API-Key", KEY_A)])
    t.check(r.status == 200 and len(r.body) == 10,
            "monitor mode: would deny (wrong consumer), forwards", r)

    time.sleep(0.3)
    log = gw.access_log()
    denied = [e for e in log if e.get("decision") == "deny"]
    t.check(any(e.get("status") == 401 for e in denied) and
            any(e.get("status") == 429 and e.get("consumer") == "dinkes"
                for e in denied),
            "access log: denials with consumer and rule", denied[:4])
    t.check(any(e.get("decision") == "monitor" for e in log),
            "access log: monitor decisions marked", log[-3:])
    t.check(all(KEY_A not in str(e) and KEY_B not in str(e) for e in log),
            "no API key in the access log")
    m = gw.metrics()
    t.check(any(k[0] == "gerbang_route_requests_total" and
                ("route", "echo-dinkes") in k[1] for k in m),
            "metrics count requests by policy route",
            [k for k in m if k[0] == "gerbang_route_requests_total"])

    # --explain: the decision for a described request, rule by rule.
    def explain(*extra):
        return subprocess.run([str(t.exe), "--explain", "-c",
                               str(gw.conf_path), "--ip", "127.0.0.1",
                               "--method", "GET", *extra],
                              capture_output=True, text=True, timeout=20)
    p = explain("--path", "/echo/x", "--api-key", KEY_A)
    t.check(p.returncode == 0 and "echo-dinkes" in p.stdout and
            "dinkes" in p.stdout, "--explain: allowed, names route and "
            "consumer", p.stdout + p.stderr)
    p = explain("--path", "/echo", "--api-key", KEY_B)
    t.check(p.returncode == 1 and "403" in p.stdout,
            "--explain: denied 403 for the other consumer",
            p.stdout + p.stderr)
    p = explain("--path", "/echo/../status/200", "--api-key", KEY_A)
    t.check(p.returncode == 0 and "status" in p.stdout,
            "--explain normalises the path like a request",
            p.stdout + p.stderr)
    t.check(KEY_A not in p.stdout, "--explain does not print the key")
    p = explain("--path", "/echo;x/x", "--api-key", KEY_A)
    t.check(p.returncode == 1 and "400" in p.stderr,
            "--explain refuses a ';' in the path like a request",
            p.stdout + p.stderr)

    # A key too short to sign with is a configuration error.
    short = t.path("short.key")
    short.write_text("pendek\n")
    conf3 = dict(conf)
    conf3["consumer_header"] = {"hmac_key": str(short)}
    conf3_path = t.path("short.yaml")
    conf3_path.write_text(gwtest.to_yaml(conf3) + "\n")
    p = subprocess.run([str(t.exe), "-t", "-c", str(conf3_path)],
                       capture_output=True, text=True, timeout=20)
    t.check(p.returncode == 1 and re.search(
            re.escape(str(conf3_path)) + r":\d+:\d+: error: hmac_key: .*"
            r"32 to 256 bytes", p.stderr) is not None,
            "-t: a short HMAC key is refused with its position", p.stderr)

    # -t reports policy errors as file:line:col and refuses.
    bad = t.path("bad-policy.yaml")
    bad.write_text(POLICY.replace("consumers: [dinkes, djp]",
                                  "consumers: [dinkes, pajak]"))
    conf2 = dict(conf)
    conf2["policy"] = str(bad)
    conf2_path = t.path("bad.yaml")
    conf2_path.write_text(gwtest.to_yaml(conf2) + "\n")
    p = subprocess.run([str(t.exe), "-t", "-c", str(conf2_path)],
                       capture_output=True, text=True, timeout=20)
    t.check(p.returncode == 1 and f"{bad}:" in p.stderr and
            "pajak" in p.stderr, "-t: policy error with its position",
            p.stderr)


if __name__ == "__main__":
    gwtest.run(main)
