#!/usr/bin/env python3
"""gerbang-gateway admin listener: /healthz, /readyz, /metrics (the series
of docs/operations.md, counts by route and status class, summed over the
workers), strict handling of other requests.

usage: test_gw_admin.py BUILD_DIR
"""
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import metric, upstream_conf  # noqa: E402

DOCUMENTED = {
    "gerbang_requests_total": "counter",
    "gerbang_route_requests_total": "counter",
    "gerbang_request_duration_seconds": "histogram",
    "gerbang_active_connections": "gauge",
    "gerbang_workers": "gauge",
    "gerbang_connections_total": "counter",
    "gerbang_connections_refused_total": "counter",
    "gerbang_tls_handshakes_total": "counter",
    "gerbang_tls_handshake_failures_total": "counter",
    "gerbang_tls_resumed_total": "counter",
    "gerbang_bad_requests_total": "counter",
    "gerbang_timeouts_total": "counter",
    "gerbang_upstream_errors_total": "counter",
    "gerbang_upstream_retries_total": "counter",
    "gerbang_upstream_server_up": "gauge",
    "gerbang_upstream_server_failures_total": "counter",
    "gerbang_received_bytes_total": "counter",
    "gerbang_sent_bytes_total": "counter",
}


def raw_admin(port, data: bytes, timeout=3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(data)
        out = bytearray()
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        except (TimeoutError, socket.timeout):
            out += b"<timeout>"
        except ConnectionResetError:
            out += b"<reset>"
    return bytes(out)


def main(t: gwtest.Test):
    up = t.upstream()
    conf = t.config(upstreams=[upstream_conf("up", [up])],
                    routes=[{"name": "other", "host": "b.test", "path": "/"},
                            {"name": "main", "host": "a.test", "path": "/"}],
                    timeouts={"drain": "5s"})
    gw = t.gateway(conf, workers=2)

    # A request that never ends (checked later; the admin timeout is 5 s).
    unfinished = {}

    def never_ends():
        t0 = time.monotonic()
        unfinished["data"] = raw_admin(gw.admin_port,
                                       b"GET /healthz HTTP/1.1\r\n",
                                       timeout=8)
        unfinished["dt"] = time.monotonic() - t0

    th_unfinished = threading.Thread(target=never_ends, daemon=True)
    th_unfinished.start()

    # -- health ---------------------------------------------------------------
    r = gw.admin("/healthz")
    t.check(r.status == 200 and r.body == b"ok\n" and r.closes,
            "/healthz 200", r)
    r = gw.admin("/readyz")
    t.check(r.status == 200 and r.body == b"ready\n", "/readyz 200", r)
    r = gw.admin("/healthz?probe=1")
    t.check(r.status == 200, "/healthz with a query", r)

    # -- traffic with known outcomes ------------------------------------------
    plan = [("a.test", "/status/200", 5), ("a.test", "/status/404", 2),
            ("a.test", "/status/503", 3), ("a.test", "/status/302", 1),
            ("b.test", "/echo", 2), ("c.test", "/echo", 1)]
    conns = []
    for host, target, n in plan:
        for _ in range(n):
            conn = gw.conn()            # one connection each: both workers
            r = conn.get(target, host=host)
            if r.closes:
                conn.close()
            else:
                conns.append(conn)
    total = sum(n for _, _, n in plan)
    m = gw.metrics()

    # every documented series, with its HELP and TYPE
    text = gw.admin("/metrics").body.decode()
    for name, typ in DOCUMENTED.items():
        t.check(re.search(rf"^# HELP {name} \S", text, re.M) and
                re.search(rf"^# TYPE {name} {typ}$", text, re.M) and
                re.search(rf"^{name}(_bucket|_sum|_count)?(\{{| )", text,
                          re.M),
                f"/metrics has {name} ({typ})")
    t.check(not [k for k in m if k[0] == "__unparsable__"],
            "every /metrics line parses",
            [k for k in m if k[0] == "__unparsable__"][:5])

    def rr(route, cls):
        return metric(m, "gerbang_route_requests_total", route=route,
                      status=cls)

    got = {(rt, cl): rr(rt, cl) for rt in ("main", "other")
           for cl in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")}
    want = {("main", "2xx"): 5, ("main", "4xx"): 2, ("main", "5xx"): 3,
            ("main", "3xx"): 1, ("other", "2xx"): 2}
    t.check(all(got[k] == want.get(k) for k in got),
            "requests counted by route and status class (2 workers summed)",
            got)
    t.check(metric(m, "gerbang_requests_total") == total,
            f"gerbang_requests_total {total} (no-route 404 included)",
            metric(m, "gerbang_requests_total"))
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in m.items()
                      if k[0] == "gerbang_request_duration_seconds_bucket"),
                     key=lambda x: x[0])
    count = metric(m, "gerbang_request_duration_seconds_count")
    t.check(buckets and buckets[-1] == (float("inf"), count) and
            count == total and
            all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])) and
            (metric(m, "gerbang_request_duration_seconds_sum") or -1) >= 0,
            "duration histogram: cumulative buckets, +Inf = count = "
            "requests", (buckets, count))
    t.check(metric(m, "gerbang_workers") == 2, "gerbang_workers 2")
    t.check(metric(m, "gerbang_active_connections") == len(conns),
            f"gerbang_active_connections {len(conns)} (open keep-alive)",
            metric(m, "gerbang_active_connections"))
    t.check(metric(m, "gerbang_connections_total") == total and
            metric(m, "gerbang_tls_handshakes_total") == total,
            "connections and handshakes counted",
            (metric(m, "gerbang_connections_total"),
             metric(m, "gerbang_tls_handshakes_total")))
    t.check((metric(m, "gerbang_received_bytes_total") or 0) > 0 and
            (metric(m, "gerbang_sent_bytes_total") or 0) > 0,
            "byte counters move")
    t.check(metric(m, "gerbang_upstream_server_up", upstream="up",
                   server=up.addr) == 1 and
            metric(m, "gerbang_upstream_server_failures_total",
                   upstream="up", server=up.addr) == 0,
            "per-server series")
    for c in conns:
        c.close()
    t.check(gwtest.wait_until(lambda: metric(gw.metrics(),
                              "gerbang_active_connections") == 0, 3),
            "gerbang_active_connections back to 0")

    # -- other requests -------------------------------------------------------
    r = gw.admin("/metrics", method="POST")
    t.check(r.status == 405, "POST /metrics -> 405", r)
    r = gw.admin("/nope")
    t.check(r.status == 404, "/nope -> 404", r)
    data = raw_admin(gw.admin_port, b"GET /healthz HTTP/1.1\r\n\r\n")
    t.check(data.startswith(b"HTTP/1.1 400 "), "no Host -> 400",
            data[:100])
    data = raw_admin(gw.admin_port, b"GET /healthz HTTP/1.1\nHost: x\n\n")
    t.check(data.startswith(b"HTTP/1.1 400 "), "bare LF -> 400", data[:100])
    data = raw_admin(gw.admin_port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
                     b"\r\n")
    r, rest = gwtest.parse_one_response(data, "HEAD")
    t.check(r is not None and r.status == 200 and rest == b"",
            "HEAD /healthz: a head without a body", data)
    th_unfinished.join(10)
    dt = unfinished.get("dt", 99)
    t.check(dt < 7.5, f"a request that never ends is closed by the admin "
            f"timeout ({dt:.1f}s)", unfinished)

    # -- many workers start together: each has its own counter slot -----------
    many = t.gateway(t.config(upstreams=[upstream_conf("up", [up])],
                              routes=[{"name": "main", "path": "/"}]),
                     workers=32, name="many")
    t.check(metric(many.metrics(), "gerbang_workers") == 32,
            "32 workers started at once: gerbang_workers 32",
            metric(many.metrics(), "gerbang_workers"))
    many.stop()

    # -- draining: /readyz 503 ------------------------------------------------
    res = {}

    def slow():
        with gw.conn(timeout=10) as conn:
            res["r"] = conn.get("/slow/1500")

    th = threading.Thread(target=slow, daemon=True)
    th.start()
    time.sleep(0.3)
    gw.proc.send_signal(15)
    time.sleep(0.2)
    try:
        r = gw.admin("/readyz", timeout=1.0)
        got = (r.status, r.body)
    except (OSError, gwtest.ProtocolError) as e:
        got = f"{type(e).__name__}: {e}"
    t.check(got == (503, b"draining\n"),
            "/readyz while draining -> 503 (docs/operations.md)", got)
    th.join(10)
    t.check(res.get("r") is not None and res["r"].status == 200,
            "the request in flight completes")
    # This test stopped the gateway itself: wait for it here, so the
    # harness does not take an early exit for a crash.
    try:
        rc = gw.proc.wait(timeout=10)
    except Exception:  # noqa: BLE001 - reported below
        rc = None
    t.check(rc == 0, "the master exits 0 after the drain", rc)
    gw.stopped = True
    gw.check_stderr()


if __name__ == "__main__":
    gwtest.run(main)
