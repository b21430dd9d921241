#!/usr/bin/env python3
"""Warm keep-alive connections (gateway/gw_conn.c, WARM_MS and WARM_MAX).

A keep-alive connection answered a moment ago keeps its buffers for the
next request; after a second of idleness, or beyond 64 per worker, an idle
connection holds none. The gauge gerbang_warm_connections counts the warm
ones. Checked here: a connection that made no request is not warm; one
that did is, and still is after another request; it cools after a second
and then serves requests as before (pipelined ones too), also after a body
too large for the buffers it keeps; a closed one is no longer counted; and
no more than 64 are warm at once.

usage: test_gw_warm.py BUILD_DIR
"""
import hashlib
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

WARM_MAX = 64


def main(t: gwtest.Test):
    up = t.upstream()
    conf = t.config(upstreams=[upstream_conf("up", [up])],
                    routes=[{"name": "main", "path": "/"}])
    gw = t.gateway(conf, workers=1)

    def warm() -> int:
        return int(gw.metrics().get(("gerbang_warm_connections", ()), -1))

    def settle(want: int, within: float = 5.0) -> int:
        end = time.monotonic() + within
        n = warm()
        while n != want and time.monotonic() < end:
            time.sleep(0.05)
            n = warm()
        return n

    t.check(warm() == 0, "no connection is warm at start")
    idle = gw.conn()
    time.sleep(0.2)
    t.check(warm() == 0, "a connection that asked nothing is not warm")

    c = gw.conn()
    r = c.request("GET", "/echo")
    t.check(r.status == 200, "GET /echo", r)
    t.check(settle(1) == 1, "the answered connection is warm")
    port = c.sock.getsockname()[1]
    log = [e for e in gw.access_log() if e.get("client_port") == port]
    t.check(len(log) == 1 and log[0].get("client") == "127.0.0.1" and
            log[0].get("status") == 200,
            "the access log names its address and port", gw.access_log())
    r = c.request("GET", "/echo")
    t.check(r.status == 200 and warm() == 1,
            "a second request on it: answered, still warm", r)

    time.sleep(1.5)
    t.check(warm() == 0, "idle for a second, it has cooled")
    r = c.request("GET", "/echo")
    t.check(r.status == 200, "a cooled connection serves the next request",
            r)
    c.send(b"GET /echo?a=1 HTTP/1.1\r\nHost: a.test\r\n\r\n"
           b"GET /echo?a=2 HTTP/1.1\r\nHost: a.test\r\n\r\n")
    r1 = c.read_final("GET")
    r2 = c.read_final("GET")
    t.check(r1.status == 200 and r2.status == 200 and
            r1.json().get("target", "").endswith("a=1") and
            r2.json().get("target", "").endswith("a=2"),
            "pipelined requests on it are answered in order", (r1, r2))
    t.check(warm() == 1, "and it is warm again")
    # A large body grows the buffers past what a warm connection keeps
    # (WARM_BUF): they go, the connection stays warm and serves on.
    r = c.request("GET", "/bytes/200000")
    t.check(r.status == 200 and hashlib.sha256(r.body).hexdigest() ==
            gwtest.pattern_sha256(200000),
            "a 200 kB body on the warm connection", r.status)
    r = c.request("GET", "/echo")
    t.check(r.status == 200 and warm() == 1,
            "then a small one: answered, still warm", r)
    c.close()
    t.check(settle(0) == 0, "a closed connection is not counted")

    many = []
    for i in range(WARM_MAX + 6):
        k = gw.conn()
        r = k.request("GET", "/echo")
        if not t.check(r.status == 200, f"connection {i}: GET /echo", r):
            break
        many.append(k)
    t.check(warm() == WARM_MAX,
            f"at most {WARM_MAX} connections are warm at once", warm())
    for k in many:
        k.close()
    idle.close()
    t.check(settle(0) == 0, "none is warm once they are closed")


if __name__ == "__main__":
    gwtest.run(main)
