#!/usr/bin/env python3
"""gerbang-gateway upstreams: round robin (plain and weighted), retry and
passive health when a server dies, active health checks, least_conn, TLS to
the upstream with verification, the idle timeout of the keep-alive pool.

usage: test_gw_upstreams.py BUILD_DIR
"""
import collections
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402


def main(t: gwtest.Test):
    c = t.certs
    a, b = t.upstream("a"), t.upstream("b")
    hc1, hc2 = t.upstream("hc1"), t.upstream("hc2")
    lc1, lc2 = t.upstream("lc1"), t.upstream("lc2")
    tu = t.upstream("tls", tls=True)
    ca, other = str(c.ca), str(c.other_ca)
    conf = t.config(
        upstreams=[
            upstream_conf("rr", [a, b], health={"max_fails": 2,
                                                "fail_timeout": "2s"}),
            upstream_conf("wrr", [{"address": a.addr, "weight": 3},
                                  {"address": b.addr, "weight": 1}]),
            upstream_conf("hc", [hc1, hc2], health={
                "max_fails": 0,
                "check": {"path": "/status/200", "interval": "200ms",
                          "timeout": "500ms"}}),
            upstream_conf("lc", [lc1, lc2], balance="least_conn"),
            upstream_conf("tls", [tu], tls={"verify": True, "ca": ca}),
            upstream_conf("tlssni", [tu], tls={"verify": True, "ca": ca,
                                               "sni": "upstream.test"}),
            upstream_conf("tlsbad", [tu], tls={"verify": True, "ca": other},
                          health={"max_fails": 0}),
            upstream_conf("tlsnoverify", [tu], tls={"verify": False}),
            upstream_conf("tlsdefault", [tu], tls=True,
                          health={"max_fails": 0}),
            upstream_conf("plain2tls", [tu], health={"max_fails": 0}),
        ],
        routes=[{"name": n, "host": f"{n}.test", "path": "/", "upstream": n}
                for n in ("rr", "wrr", "hc", "lc", "tls", "tlssni", "tlsbad",
                          "tlsnoverify", "tlsdefault", "plain2tls")])
    gw = t.gateway(conf, workers=1)

    def servers_of(host, n, target="/echo"):
        """Send n requests on one connection; [(status, server)]."""
        out = []
        with gw.conn() as conn:
            for _ in range(n):
                r = conn.get(target, host=host)
                e = gw.access_entry(r.header("x-request-id"))
                out.append((r.status, e.get("upstream") if e else None))
        return out

    # -- round robin ----------------------------------------------------------
    res = servers_of("rr.test", 10)
    cnt = collections.Counter(s for _, s in res)
    t.check(all(st == 200 for st, _ in res) and cnt[a.addr] == 5 and
            cnt[b.addr] == 5, "round robin: 10 requests, 5 on each server",
            res)
    res = servers_of("wrr.test", 8)
    cnt = collections.Counter(s for _, s in res)
    t.check(cnt[a.addr] == 6 and cnt[b.addr] == 2,
            "weighted round robin 3:1 -> 6 and 2 of 8", cnt)

    # -- a server dies: retry, passive health ---------------------------------
    m0 = gw.metrics()
    b.stop()
    res = servers_of("rr.test", 10)
    t.check(all(st == 200 for st, _ in res) and
            all(s == a.addr for _, s in res),
            "server b down: all 10 requests still answered (by a)", res)
    err = gw.stderr()
    t.check(f"upstream rr server {b.addr} marked down" in err,
            "passive health marks b down after max_fails", err[-800:])
    m1 = gw.metrics()
    retries = (gwtest.metric(m1, "gerbang_upstream_retries_total") or 0) - \
        (gwtest.metric(m0, "gerbang_upstream_retries_total") or 0)
    fails = gwtest.metric(m1, "gerbang_upstream_server_failures_total",
                          upstream="rr", server=b.addr)
    t.check(retries == 2 and fails == 2, "2 failed attempts on b, each "
            "retried on a; then b is skipped", (retries, fails))
    b.start()
    time.sleep(2.2)                     # fail_timeout
    res = servers_of("rr.test", 4)
    t.check(any(s == b.addr for _, s in res) and
            all(st == 200 for st, _ in res),
            "b back after fail_timeout: it gets requests again", res)

    # -- active health checks -------------------------------------------------
    def up_state(srv):
        return gwtest.metric(gw.metrics(), "gerbang_upstream_server_up",
                             upstream="hc", server=srv.addr)

    t.check(gwtest.wait_until(lambda: up_state(hc1) == 1 and
                              up_state(hc2) == 1, 3),
            "health check: both servers up")
    n_checks = gwtest.wait_until(
        lambda: len([x for x in hc1.requests() if x[3] == "/status/200"]) >= 2,
        3)
    t.check(n_checks, "the check path is requested every interval",
            hc1.requests()[-3:])
    hc2.stop()
    t0 = time.monotonic()
    down = gwtest.wait_until(lambda: up_state(hc2) == 0, 4)
    t.check(down, f"server stopped -> gerbang_upstream_server_up 0 "
            f"({time.monotonic() - t0:.1f}s)", up_state(hc2))
    t.check("upstream hc server " + hc2.addr + " is down" in gw.stderr(),
            "the change is logged")
    res = servers_of("hc.test", 6)
    t.check(all(st == 200 and s == hc1.addr for st, s in res),
            "requests go only to the healthy server", res)
    fails = gwtest.metric(gw.metrics(),
                          "gerbang_upstream_server_failures_total",
                          upstream="hc", server=hc2.addr)
    t.check(fails == 0, "no request was tried on the down server", fails)
    hc2.start()
    t0 = time.monotonic()
    back = gwtest.wait_until(lambda: up_state(hc2) == 1, 4)
    t.check(back, f"server back -> gerbang_upstream_server_up 1 "
            f"({time.monotonic() - t0:.1f}s)")
    t.check("upstream hc server " + hc2.addr + " is up" in gw.stderr(),
            "the recovery is logged")
    res = servers_of("hc.test", 4)
    t.check({s for _, s in res} == {hc1.addr, hc2.addr},
            "both servers used again", res)

    # -- least connections ----------------------------------------------------
    slow = {}

    def slow_req():
        with gw.conn(timeout=10) as conn:
            r = conn.get("/slow/1500", host="lc.test")
            slow["r"] = r

    th = threading.Thread(target=slow_req, daemon=True)
    th.start()
    time.sleep(0.4)
    res = servers_of("lc.test", 5)
    th.join(10)
    r = slow.get("r")
    e = gw.access_entry(r.header("x-request-id")) if r else None
    busy = e.get("upstream") if e else None
    t.check(r is not None and r.status == 200 and busy in (lc1.addr,
                                                           lc2.addr),
            "least_conn: the slow request is served", (r, e))
    t.check(all(st == 200 and s != busy for st, s in res),
            "least_conn: the 5 requests meanwhile all go to the idle server",
            (busy, res))
    res = servers_of("lc.test", 4)
    t.check({s for _, s in res} == {lc1.addr, lc2.addr},
            "least_conn: equal load is shared (ties round robin)", res)

    # -- a fully qualified Host (trailing dot) routes as the name ------------
    for host in ("lc.test.", "LC.TEST.:443"):
        with gw.conn() as conn:
            r = conn.get("/echo", host=host)
        t.check(r.status == 200, f"Host {host!r} routes as lc.test", r)

    # -- TLS to the upstream --------------------------------------------------
    for host, want, what in (
            ("tls.test", 200, "verify against the CA (IP SAN)"),
            ("tlssni.test", 200, "verify with sni: upstream.test"),
            ("tlsnoverify.test", 200, "verify: false"),
            ("tlsbad.test", 502, "verify against another CA fails"),
            ("tlsdefault.test", 502, "tls: true verifies against the "
             "system CAs and fails"),
            ("plain2tls.test", 502, "plain HTTP to a TLS server")):
        with gw.conn() as conn:
            r = conn.get("/echo", host=host)
        ok = r.status == want
        if ok and want == 200:
            ok = r.json().get("tls") is True
        t.check(ok, f"upstream TLS: {what} -> {want}", r)
    with gw.conn() as conn:
        rs = [conn.get("/echo", host="tls.test").json() for _ in range(3)]
    t.check(len({j["conn_id"] for j in rs}) == 1,
            "upstream TLS connections are kept alive and reused",
            [(j["conn_id"], j["conn_requests"]) for j in rs])
    t.check("TLS handshake failed" in gw.stderr(),
            "the failed upstream handshake is logged")

    # -- the idle pool's timer ------------------------------------------------
    # A pooled connection idle for upstream_idle is closed; one in use, or
    # back in the pool for less, is kept (its timer is not moved for every
    # request: it fires and looks, gateway/gw_upstream.c).
    p = t.upstream("pool")
    gw2 = t.gateway(t.config(upstreams=[upstream_conf("pool", [p])],
                             routes=[{"name": "pool", "path": "/"}],
                             timeouts={"upstream_idle": "500ms"}),
                    workers=1)
    with gw2.conn() as conn:
        ids = []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            ids.append(conn.get("/echo").json().get("conn_id"))
            time.sleep(0.1)
        t.check(len(ids) >= 5 and len(set(ids)) == 1,
                "a pooled connection used every 100 ms outlives "
                "upstream_idle (500 ms)", ids)
        time.sleep(1.2)
        j = conn.get("/echo").json()
        t.check(j.get("conn_id") not in ids,
                "idle for more than upstream_idle, it was closed",
                (ids[:1], j.get("conn_id")))


if __name__ == "__main__":
    gwtest.run(main)
