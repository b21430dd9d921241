#!/usr/bin/env python3
"""gerbang-gateway proxying: keep-alive on both sides, pipelining, chunked
and close-delimited bodies, 100-continue, header hygiene, path
normalisation, routing, HEAD, 204/304.

usage: test_gw_proxy.py BUILD_DIR
"""
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import pattern_sha256, sha256, upstream_conf  # noqa: E402


def chunked(body: bytes, sizes, ext=False, trailer=None) -> bytes:
    out, off, i = [], 0, 0
    while off < len(body):
        n = min(sizes[i % len(sizes)], len(body) - off)
        out.append(b"%x%s\r\n" % (n, b";foo=bar" if ext else b"") +
                   body[off:off + n] + b"\r\n")
        off += n
        i += 1
    out.append(b"0\r\n" + (trailer or b"") + b"\r\n")
    return b"".join(out)


def hdrs_of(j) -> list:
    return [(k.lower(), v) for k, v in j["headers"]]


def values(j, name):
    return [v for k, v in hdrs_of(j) if k == name]


def main(t: gwtest.Test):
    up = t.upstream()
    small = t.recording_upstream(body_size=10, close=True)
    big = t.recording_upstream(body_size=100000, close=True)
    conf = t.config(
        # max_fails 0: one failed check must not mark the server down for
        # the checks after it (passive health is test_gw_upstreams.py's).
        upstreams=[upstream_conf("up", [up], health={"max_fails": 0}),
                   upstream_conf("small", [small], health={"max_fails": 0}),
                   upstream_conf("big", [big], health={"max_fails": 0})],
        routes=[{"name": "small", "host": "a.test", "path": "/small",
                 "upstream": "small"},
                {"name": "big", "host": "a.test", "path": "/big",
                 "upstream": "big"},
                {"name": "main", "host": "a.test", "path": "/"}])
    gw = t.gateway(conf, workers=1)

    # -- keep-alive on both sides ---------------------------------------------
    with gw.conn() as conn:
        r1, r2 = conn.get("/echo"), conn.get("/echo")
    j1, j2 = r1.json(), r2.json()
    t.check(r1.status == r2.status == 200 and not r1.closes,
            "two requests on one client connection", (r1, r2))
    t.check(j1["conn_id"] == j2["conn_id"] and
            j2["conn_requests"] == j1["conn_requests"] + 1,
            "upstream connection reused (same conn_id, conn_requests + 1)",
            (j1["conn_id"], j1["conn_requests"], j2["conn_id"],
             j2["conn_requests"]))
    with gw.conn() as conn:
        j3 = conn.get("/echo").json()
    t.check(j3["conn_id"] == j2["conn_id"] and
            j3["conn_requests"] == j2["conn_requests"] + 1,
            "a new client connection gets the pooled upstream connection",
            (j3["conn_id"], j3["conn_requests"]))
    t.check(values(j1, "host") == ["a.test"], "Host passed on", j1)

    # -- pipelining -----------------------------------------------------------
    with gw.conn() as conn:
        body = os.urandom(3000)
        conn.send(conn.build("GET", "/echo?n=1") +
                  conn.build("POST", "/echo?n=2", body=body) +
                  conn.build("GET", "/bytes/10") +
                  conn.build("HEAD", "/bytes/77") +
                  conn.build("GET", "/echo?n=5"))
        rs = [conn.read_final(m) for m in
              ("GET", "POST", "GET", "HEAD", "GET")]
    ok = [r.status for r in rs] == [200] * 5 and \
        rs[0].json()["query"] == "n=1" and \
        rs[1].json()["query"] == "n=2" and \
        rs[1].json()["body_sha256"] == sha256(body) and \
        rs[2].body == gwtest.pattern(0, 10) and \
        rs[3].header("content-length") == "77" and rs[3].body == b"" and \
        rs[4].json()["query"] == "n=5"
    t.check(ok, "5 pipelined requests answered in order", rs)
    ids = [r.header("x-request-id") for r in rs]
    t.check(len(set(ids)) == 5 and None not in ids,
            "every response has its own X-Request-Id", ids)

    # -- bodies ---------------------------------------------------------------
    rnd = random.Random(7)
    body = bytes(rnd.getrandbits(8) for _ in range(300000))
    with gw.conn() as conn:
        r = conn.request("POST", "/echo",
                         headers=[("Transfer-Encoding", "chunked")],
                         body=chunked(body, (1, 5000, 17, 65536, 333, 100000),
                                      ext=True,
                                      trailer=b"X-Trailer: yes\r\n"))
        j = r.json()
        t.check(r.status == 200 and j["body_len"] == len(body) and
                j["body_sha256"] == sha256(body),
                "chunked request body (with extensions, trailer) arrives "
                "intact", (j["body_len"], j["body_sha256"]))
        t.check(values(j, "transfer-encoding") == ["chunked"] and
                not values(j, "content-length"),
                "upstream sees the chunked framing", hdrs_of(j))
        r = conn.request("PUT", "/echo", body=body[:100000])
        t.check(r.status == 200 and r.json()["body_sha256"] ==
                sha256(body[:100000]), "Content-Length request body intact")
        r = conn.get("/chunked/300000")
        t.check(r.status == 200 and r.chunked and r.body_len == 300000 and
                r.body_sha256 == pattern_sha256(300000),
                "chunked response decoded and re-chunked intact",
                (r.status, r.chunked, r.body_len))
        r = conn.get("/chunked/5000?ext=1&trailer=1")
        t.check(r.status == 200 and r.body_len == 5000 and
                r.body_sha256 == pattern_sha256(5000),
                "chunked response with extensions and trailer")
        r = conn.get("/close/200000")
        t.check(r.status == 200 and r.chunked and r.body_len == 200000 and
                r.body_sha256 == pattern_sha256(200000) and not r.closes,
                "close-delimited upstream response reframed as chunked for "
                "HTTP/1.1", (r.status, r.headers, r.body_len))
        r = conn.get("/echo")
        t.check(r.status == 200,
                "client connection still usable after it")
    with gw.conn() as conn:
        r = conn.request("GET", "/close/5000", version="HTTP/1.0")
        t.check(r.status == 200 and not r.chunked and r.closes and
                r.body_sha256 == pattern_sha256(5000) and
                conn.wait_closed(3),
                "HTTP/1.0: close-delimited response stays close-delimited",
                r)

    # An upstream that sends bytes beyond a Content-Length body (here a
    # forged second response): they reach no client, and that upstream
    # connection is not used again. 16384 - head: the response fills the
    # gateway's first 16 KiB read exactly (upstream.py's head for it).
    head = len("HTTP/1.1 200 OK\r\nDate: Sun, 01 Jan 2026 00:00:00 GMT\r\n"
               "Server: gerbang-test-upstream\r\n"
               "Content-Type: application/octet-stream\r\n"
               "Content-Length: 16xxx\r\n\r\n")
    for size in (100, 16384 - head, 200000):
        with gw.conn() as conn:
            r = conn.get(f"/overrun/{size}")
            whole = (r.status == 200 and r.body_len == size and
                     r.body_sha256 == pattern_sha256(size))
            r2 = conn.get("/echo")
            # The upstream logs a request after answering it, from its
            # connection's thread: wait for the line.
            ids = gwtest.wait_until(
                lambda: [x[0] for x in up.requests()
                         if x[3] == f"/overrun/{size}"], 2)
            t.check(whole and r2.status == 200 and ids and
                    r2.json()["conn_id"] != ids[-1],
                    f"/overrun/{size}: the body whole, the bytes after it "
                    "dropped with their upstream connection",
                    (r.status, r.body_len, r2.status, ids,
                     r2.json().get("conn_id") if r2.status == 200 else None))

    # An upstream that closes right after its response: the response and
    # the close often arrive together; the response must still be whole.
    for path, size in (("/close/100", 100), ("/close/5000", 5000),
                       ("/small/x", 10), ("/big/x", 100000)):
        res = []
        for i in range(6):
            try:
                with gw.conn() as conn:
                    r = conn.get(path)
                    res.append((r.status, r.body_len,
                                r.body_sha256 == pattern_sha256(size)))
            except (EOFError, OSError, gwtest.ProtocolError) as e:
                res.append(f"{type(e).__name__}: {e}")
        t.check(all(x == (200, size, True) for x in res),
                f"{path}: upstream closes right after the response: 6/6 "
                "whole responses", res)

    # -- Expect: 100-continue -------------------------------------------------
    with gw.conn() as conn:
        conn.send(conn.build("POST", "/echo",
                             headers=[("Expect", "100-continue"),
                                      ("Content-Length", "11")]))
        first = conn.read_response("POST")
        t.check(first.status == 100, "Expect: 100-continue -> 100 first",
                first)
        conn.send(b"hello world")
        r = conn.read_final("POST")
        j = r.json()
        t.check(r.status == 200 and j["body_sha256"] == sha256(b"hello world")
                and not values(j, "expect"),
                "then the response; Expect not forwarded", j)

    # -- header hygiene -------------------------------------------------------
    hop = [("Connection", "keep-alive, X-Hop-A"), ("X-Hop-A", "1"),
           ("Connection", "x-hop-b"), ("X-Hop-B", "2"),
           ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"),
           ("TE", "trailers"), ("Trailer", "X-T"),
           ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
           ("X-Keep", "yes"), ("x-keep-2", "Yes, too")]
    with gw.conn() as conn:
        r = conn.get("/echo", headers=hop)
    j = r.json()
    names = {k for k, _ in hdrs_of(j)}
    gone = {"connection", "x-hop-a", "x-hop-b", "keep-alive",
            "proxy-connection", "te", "trailer", "proxy-authorization"}
    t.check(r.status == 200 and not names & gone,
            "hop-by-hop headers and those named in Connection removed",
            sorted(names & gone))
    t.check(values(j, "x-keep") == ["yes"] and
            values(j, "x-keep-2") == ["Yes, too"],
            "end-to-end headers kept as sent", hdrs_of(j))

    spoof = [("X-Gerbang-Consumer", "admin"), ("x-gerbang-role", "root"),
             ("X-Forwarded-For", "6.6.6.6"), ("x-forwarded-for", "7.7.7.7"),
             ("X-Request-Id", "evil-id"), ("Forwarded", "for=6.6.6.6"),
             ("X-Real-IP", "6.6.6.6"), ("X-Forwarded-Host", "evil.test"),
             ("X-Forwarded-Proto", "http")]
    with gw.conn() as conn:
        r = conn.get("/echo", headers=spoof)
    j = r.json()
    t.check(r.status == 200 and
            not [k for k, _ in hdrs_of(j) if k.startswith("x-gerbang-")],
            "client X-Gerbang-* headers dropped", hdrs_of(j))
    t.check(values(j, "x-forwarded-for") == ["127.0.0.1"],
            "X-Forwarded-For replaced", values(j, "x-forwarded-for"))
    t.check(values(j, "x-request-id") == [r.header("x-request-id")] and
            "evil-id" not in values(j, "x-request-id"),
            "X-Request-Id replaced by the gateway's",
            (values(j, "x-request-id"), r.header("x-request-id")))
    t.check(values(j, "x-forwarded-proto") == ["https"] and
            values(j, "forwarded") == ["for=127.0.0.1;proto=https"] and
            not values(j, "x-real-ip") and not values(j, "x-forwarded-host"),
            "Forwarded, X-Forwarded-Proto set; X-Real-IP, X-Forwarded-Host "
            "dropped", hdrs_of(j))

    with gw.conn() as conn:
        r = conn.get("/echo", headers=[("Connection", "Upgrade"),
                                       ("Upgrade", "websocket"),
                                       ("Sec-WebSocket-Version", "13"),
                                       ("Sec-WebSocket-Key",
                                        "dGhlIHNhbXBsZSBub25jZQ==")])
        j = r.json()
        t.check(r.status == 200 and not values(j, "upgrade") and
                not values(j, "connection"),
                "Upgrade stripped on a route without upgrade", hdrs_of(j))
        r = conn.get("/echo")
        t.check(r.status == 200, "connection goes on as plain HTTP after")

    # -- path normalisation ---------------------------------------------------
    with gw.conn() as conn:
        for raw, want in (("/x/./y/../../echo", "/echo"),
                          ("//echo", "/echo"),
                          ("/%65cho", "/echo"),
                          ("/echo?q=%2F..%2F&x=/../",
                           "/echo?q=%2F..%2F&x=/../"),
                          ("/echo/", "/echo/")):
            r = conn.get(raw)
            if want == "/echo/":
                # upstream.py has no /echo/: its 404 proves the slash stayed
                t.check(r.status == 404 and b"not found" in r.body,
                        f"{raw} reaches the upstream as {want}", r)
                continue
            t.check(r.status == 200 and r.json()["target"] == want,
                    f"{raw} reaches the upstream as {want}",
                    r.json().get("target") if r.status == 200 else r)
        n0 = len(up.requests())
        r = conn.get("/a/./b/../echo")
        # The upstream logs a request after answering it: the previous
        # request's entry may still land after n0 was taken.
        got = gwtest.wait_until(lambda: [q for q in up.requests()[n0:]
                                         if q[3] == "/a/echo"], 3)
        t.check(r.status == 404 and bool(got),
                "/a/./b/../echo reaches the upstream as /a/echo",
                up.requests()[n0:])
    for raw in ("/a%2Fb", "/a%2fb", "/%2e%2e/echo", "/echo/../../x",
                "/a%5Cb", "/a%00b", "/a%zzb"):
        n0 = len(up.requests())
        with gw.conn() as conn:
            r = conn.get(raw)
            closed = conn.wait_closed(3)
        t.check(r.status == 400 and r.closes and closed and
                r.json().get("status") == 400,
                f"{raw} refused with 400 and closed", r)
    t.check(all(x[3] not in ("/a/b",) for x in up.requests()),
            "none of them reached the upstream")

    # -- routing --------------------------------------------------------------
    with gw.conn() as conn:
        r = conn.get("/echo", host="other.test")
        j = r.json() if r.header("content-type") == "application/json" \
            else {}
        t.check(r.status == 404 and j.get("error") == "no route" and
                j.get("status") == 404 and
                j.get("request_id") == r.header("x-request-id") and
                r.header("content-length") == str(len(r.body)),
                "no route -> 404 JSON", r)
    with gw.conn() as conn:
        r = conn.get("/echo", host="A.TEST:443")
        t.check(r.status == 200, "Host matched case-insensitively, port "
                "ignored", r)
        r = conn.request("GET", "http://a.test/echo?abs=1", host="a.test")
        t.check(r.status == 200 and r.json()["target"] == "/echo?abs=1" and
                values(r.json(), "host") == ["a.test"],
                "absolute-form target forwarded in origin form", r)
        r = conn.request("GET", "/echo", version="HTTP/1.0")
        t.check(r.status == 200 and r.closes and conn.wait_closed(3),
                "HTTP/1.0 without keep-alive: answered, then closed", r)
    with gw.conn() as conn:
        r = conn.request("GET", "/echo", version="HTTP/1.0",
                         headers=[("Connection", "keep-alive")])
        t.check(r.status == 200 and r.has_token("connection", "keep-alive"),
                "HTTP/1.0 keep-alive honoured", r.headers)
        r = conn.request("GET", "/echo", version="HTTP/1.0",
                         headers=[("Connection", "keep-alive")])
        t.check(r.status == 200, "second HTTP/1.0 request on the connection")

    # -- HEAD, 204, 304 -------------------------------------------------------
    with gw.conn() as conn:
        r = conn.request("HEAD", "/bytes/1000")
        t.check(r.status == 200 and r.header("content-length") == "1000" and
                r.body == b"", "HEAD keeps Content-Length, no body", r)
        r = conn.request("HEAD", "/chunked/1000")
        t.check(r.status == 200 and r.body == b"", "HEAD of a chunked "
                "resource: no body", r)
        r = conn.get("/status/204")
        t.check(r.status == 204 and r.header("content-length") is None and
                r.header("transfer-encoding") is None, "204 without body",
                r)
        r = conn.get("/status/304")
        t.check(r.status == 304 and r.header("transfer-encoding") is None,
                "304 without body", r)
        r = conn.get("/bytes/10")
        t.check(r.status == 200 and r.body == gwtest.pattern(0, 10) and
                not conn.buf, "no stray bytes after HEAD/204/304 (next "
                "response is clean)", r)
        conn.sock.settimeout(0.3)
        try:
            extra = conn.sock.recv(100)
        except (TimeoutError, OSError):
            extra = b""
        t.check(extra == b"", "nothing more on the wire", extra)

    # -- a small response's head waits for its body: one TLS record -------
    # Python's SSL recv() returns one record at most: the first one holds
    # the whole response only if the head was not sent alone.
    for query, whole in (("stage=head", True), ("stage=body", False)):
        with gw.conn() as conn:
            conn.send(b"GET /slow/150?" + query.encode() +
                      b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
            first = conn.sock.recv(65536)
            head, _, body = first.partition(b"\r\n\r\n")
            got = body.endswith(b"}\n")
            t.check(head.startswith(b"HTTP/1.1 200") and got == whole,
                    f"/slow?{query}: the first record holds "
                    f"{'the whole response' if whole else 'head and half the body'}",
                    first)

    # -- the access log -------------------------------------------------------
    with gw.conn() as conn:
        r = conn.get("/echo?secret=1")
    e = gw.access_entry(r.header("x-request-id"))
    t.check(e is not None and e.get("status") == 200 and
            e.get("route") == "main" and e.get("path") == "/echo" and
            "query" not in e and e.get("tls") in ("TLSv1.3", "TLSv1.2") and
            e.get("upstream") == up.addr and e.get("method") == "GET",
            "access log entry (no query by default)", e)


if __name__ == "__main__":
    gwtest.run(main)
