#!/usr/bin/env python3
"""Passive health never leaves an upstream with no server to try: a
single-server upstream that failed max_fails times is tried again as soon
as it is back (no 503 for fail_timeout), while the failures are counted.

usage: test_gw_passive.py BUILD_DIR
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402


def main(t: gwtest.Test):
    up = t.upstream()
    port = up.port
    conf = t.config(upstreams=[upstream_conf(
        "up", [up], health={"max_fails": 2, "fail_timeout": "60s"})],
        routes=[{"name": "all", "path": "/"}])
    gw = t.gateway(conf)
    c = gw.conn()
    t.check(c.get("/status/200").status == 200, "served while up")
    up.stop()
    codes = []
    for _ in range(4):
        conn = gw.conn()
        codes.append(conn.get("/status/200").status)
        conn.close()
    t.check(all(s == 502 for s in codes),
            "server gone: 502, never 503 (there is a server to try)", codes)
    up2 = t.upstream(port=port)
    t.check(up2.port == port, "the server is back on its port")
    conn = gw.conn()
    r = conn.get("/status/200")
    t.check(r.status == 200, "back: served at once, not after fail_timeout",
            r)
    m = gw.metrics()
    fails = [v for k, v in m.items()
             if k[0] == "gerbang_upstream_server_failures_total"]
    t.check(fails and fails[0] >= 2, "the failures were counted", fails)


if __name__ == "__main__":
    gwtest.run(main)
