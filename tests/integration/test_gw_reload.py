#!/usr/bin/env python3
"""gerbang-gateway reloads and stops: SIGHUP with a changed configuration
under load loses no request; SIGHUP with a broken configuration keeps the
old one and logs file:line:col errors; SIGTERM lets requests in flight
finish.

The load clients behave like browsers: keep-alive, and a request whose
reused connection was closed before any byte of the response arrived is
sent again once on a new connection (RFC 9110 9.2.2, an idempotent GET).
Anything else (an error status, a reset mid-response, a retry that fails
too) is a failed request.

usage: test_gw_reload.py BUILD_DIR
"""
import re
import ssl
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

THREADS = 3
DURATION = 2.0


class Client:
    def __init__(self, gw):
        self.gw = gw
        self.conn = None
        self.ok = 0
        self.retried = 0
        self.failed = []

    def get(self, target):
        for attempt in (1, 2):
            reused = self.conn is not None
            if not reused:
                try:
                    self.conn = self.gw.conn()
                except (OSError, ssl.SSLError) as e:
                    self.failed.append(f"connect: {e}")
                    return None
            rx0 = self.conn.received
            try:
                r = self.conn.get(target)
            except (EOFError, OSError, ssl.SSLError,
                    gwtest.ProtocolError) as e:
                nothing = self.conn.received == rx0
                self.conn.close()
                self.conn = None
                if reused and nothing and attempt == 1:
                    self.retried += 1
                    continue
                self.failed.append(f"{target}: {type(e).__name__}: {e} "
                                   f"(reused={reused}, nothing={nothing})")
                return None
            if r.closes:
                self.conn.close()
                self.conn = None
            return r
        return None

    def close(self):
        if self.conn is not None:
            self.conn.close()


def main(t: gwtest.Test):
    up = t.upstream()
    base = dict(upstreams=[upstream_conf("up", [up])],
                timeouts={"drain": "10s"})
    conf0 = t.config(routes=[{"name": "echo", "path": "/echo"}], **base)
    gw = t.gateway(conf0, workers=2)
    gen0 = set(gw.serving(0))

    with gw.conn() as conn:
        r = conn.get("/status/200")
    t.check(r.status == 404, "before the reload /status is not routed", r)

    # -- SIGHUP under load ----------------------------------------------------
    stop = threading.Event()
    clients = [Client(gw) for _ in range(THREADS)]

    def load(cl):
        i = 0
        while not stop.is_set():
            r = cl.get(f"/echo?i={i}")
            if r is not None:
                if r.status == 200:
                    cl.ok += 1
                else:
                    cl.failed.append(f"status {r.status}")
            i += 1
        cl.close()

    threads = [threading.Thread(target=load, args=(cl,), daemon=True)
               for cl in clients]
    for th in threads:
        th.start()
    time.sleep(0.5)
    conf1 = dict(conf0)
    conf1["routes"] = [{"name": "echo", "path": "/echo", "upstream": "up"},
                       {"name": "status", "path": "/status",
                        "upstream": "up"}]
    t0 = time.monotonic()
    ok = gw.reload(conf1)
    t.check(ok, f"SIGHUP with a new route: reloaded "
            f"({time.monotonic() - t0:.2f}s)", gw.stderr()[-1500:])
    with gw.conn() as conn:
        r = conn.get("/status/200")
    t.check(r.status == 200, "the new route serves right after the reload",
            r)
    time.sleep(max(0.0, DURATION - 0.5 - (time.monotonic() - t0)))
    stop.set()
    for th in threads:
        th.join(10)
    total = sum(cl.ok for cl in clients)
    failed = [f for cl in clients for f in cl.failed]
    retried = sum(cl.retried for cl in clients)
    t.check(total > 50 and not failed,
            f"load during the reload: {total} requests, {len(failed)} "
            f"failed, {retried} retried on a new connection", failed[:10])
    gen1 = set(gw.serving(1))
    t.check(len(gen1) == 2 and not gen1 & gen0,
            "two new workers (generation 1)", (gen0, gen1))
    gone = gwtest.wait_until(lambda: not set(gw.live_workers()) & gen0, 5)
    t.check(gone, "the old workers drained and exited",
            (gw.live_workers(), gen0))
    m = gw.metrics()
    t.check(gwtest.metric(m, "gerbang_route_requests_total", route="status",
                          status="2xx") == 1 and
            (gwtest.metric(m, "gerbang_route_requests_total", route="echo",
                           status="2xx") or 0) >= total,
            "per-route counters survive the reload and count the new route",
            {k: v for k, v in m.items()
             if k[0] == "gerbang_route_requests_total"})
    t.check(gwtest.metric(m, "gerbang_workers") == 2, "gerbang_workers 2",
            gwtest.metric(m, "gerbang_workers"))

    # -- SIGHUP with broken configurations ------------------------------------
    path = str(gw.conf_path)
    broken = dict(conf1)
    broken["routes"] = [{"name": "echo", "path": "/echo", "upstream": "up"},
                        {"name": "status", "path": "/status",
                         "upstream": "upp"}]
    broken["limits"] = {"max_conections": 10}
    workers_before = set(gw.live_workers())
    ok = gw.reload(broken)
    err = gw.stderr()
    t.check(not ok and "reload refused" in err,
            "SIGHUP with a broken configuration is refused", err[-1500:])
    want = [rf'{re.escape(path)}:\d+:\d+: error: unknown key '
            rf'"max_conections" in limits \(did you mean "max_connections"'
            rf'\?\)',
            rf'{re.escape(path)}:\d+:\d+: error: upstream: unknown upstream '
            rf'"upp" \(did you mean "up"\?\)']
    for w in want:
        t.check(re.search(w, err), f"logged: {w[len(re.escape(path)):]}",
                err[-1500:])
    with gw.conn() as conn:
        r1, r2 = conn.get("/status/200"), conn.get("/echo")
    t.check(r1.status == 200 and r2.status == 200 and
            set(gw.live_workers()) == workers_before,
            "the old configuration keeps serving with the same workers",
            (r1.status, r2.status, gw.live_workers(), workers_before))

    missing = dict(conf1)
    missing["listeners"] = [gwtest.listener(
        "main", [(t.path("nope.pem"), t.path("nope.key"))],
        port=gw.port())]
    ok = gw.reload(missing)
    err = gw.stderr()
    t.check(not ok and re.search(
        rf'{re.escape(path)}:\d+:\d+: error: cert: cannot read certificate '
        rf'"{re.escape(str(t.path("nope.pem")))}"', err),
        "SIGHUP with a missing certificate is refused with file:line:col",
        err[-1000:])
    with gw.conn() as conn:
        r = conn.get("/status/200")
    t.check(r.status == 200, "still serving the old configuration", r)

    ok = gw.reload(conf1)
    t.check(ok, "SIGHUP with the good configuration again: reloaded")
    with gw.conn() as conn:
        r = conn.get("/status/200")
    t.check(r.status == 200, "serving generation 2", r)

    # -- SIGTERM drains requests in flight ------------------------------------
    res = {}

    def slow():
        try:
            with gw.conn(timeout=10) as conn:
                conn.get("/echo")               # a keep-alive connection
                res["started"] = time.monotonic()
                res["slow"] = conn.get("/slow/1000")
                res["closed"] = conn.wait_closed(3)
        except (EOFError, OSError, ssl.SSLError) as e:
            res["err"] = e

    # /slow is not routed in conf1: route it for this part.
    conf2 = dict(conf1)
    conf2["routes"] = conf1["routes"] + [{"name": "slow", "path": "/slow",
                                          "upstream": "up"}]
    t.require(gw.reload(conf2), "reload with a /slow route")
    th = threading.Thread(target=slow, daemon=True)
    th.start()
    gwtest.wait_until(lambda: "started" in res, 3)
    time.sleep(0.3)                   # the /slow/1000 request is in flight
    t0 = time.monotonic()
    rc = gw.stop()
    dt = time.monotonic() - t0
    th.join(10)
    r = res.get("slow")
    t.check(r is not None and r.status == 200 and r.closes and
            res.get("closed"),
            "SIGTERM: the request in flight completes with 200 and "
            "Connection: close", res)
    t.check(rc == 0 and 0.3 < dt < 5, f"SIGTERM: the master exits once the "
            f"request is done ({dt:.2f}s)", (rc, dt))
    t.check("stopped" in gw.stderr(), "the master logs that it stopped")


if __name__ == "__main__":
    gwtest.run(main)
