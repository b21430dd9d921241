#!/usr/bin/env python3
"""gerbang-gateway: what another hop could read differently.

A scripted upstream in this file records the head of every request the
gateway forwards and answers by path with fixed bytes, some of them wrong
on purpose.  Checked: headers named in Connection never pass, however the
Connection fields are spread; Upgrade passes only as a WebSocket upgrade
on a route that allows it, with a Sec-WebSocket-Key, and the tunnel opens
only on a 101 carrying the Sec-WebSocket-Accept due (h2c, or a 101 from
an endpoint that only sets a status, would turn the connection into a
tunnel past routing and policy); an absolute-form target whose query holds
a "/" is routed by its real path; a 204's Content-Length is not relayed;
a ';' in the path is refused unless path_parameters allows it; the
gateway's own error answers to HEAD carry no body; the headers the
gateway sets or removes are removed also when spelt with '_' for '-'; an
upstream connection that answered HEAD, 204 or 304 is not reused; an
HTTP/1.0 client never gets a chunked body; X-Gerbang-* sent by the
upstream never reaches the client; 1xx interim responses are dropped; and
for each path normalisation, the upstream receives the path the gateway
routed on; upstream responses that could be framed two ways are a 502, or
a cut connection once the head is out.

usage: test_gw_desync.py BUILD_DIR
"""
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# RFC 6455 1.3's example: this key's Sec-WebSocket-Accept is
# s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ANSWERS = {
    b"/x/204cl": b"HTTP/1.1 204 No Content\r\nContent-Length: 29\r\n\r\n",
    b"/x/hop": b"HTTP/1.1 200 OK\r\n" + b"Connection: a\r\n" * 8 +
    b"Connection: x-up-hop\r\nX-Up-Hop: 1\r\nContent-Length: 2\r\n\r\nok",
    b"/ws/101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
    b"Connection: Upgrade\r\n\r\n",
    b"/ws/101ws": b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    # a 101 from something that only sets a status: no handshake done
    b"/ws/101noaccept": b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"/ws/101badaccept": b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    b"/ws/101none": b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Connection: Upgrade\r\n\r\n",
    b"/x/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"/x/gerbang": b"HTTP/1.1 200 OK\r\nX-Gerbang-Consumer: partner-a\r\n"
    b"x-gerbang-role: admin\r\nX_Gerbang_Key: k\r\nX-Gerbang_Sig: s\r\n"
    b"X-Gerbangs: kept\r\nX-Request-Id: from-upstream\r\n"
    b"Content-Length: 2\r\n\r\nok",
    b"/x/100": b"HTTP/1.1 100 Continue\r\nX-Gerbang-Consumer: a\r\n\r\n" + OK,
    b"/x/102": b"HTTP/1.1 102 Processing\r\n\r\n" + OK,
    b"/x/103": b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n"
    b"\r\nHTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n" + OK,
}
# Upstream responses that could be framed two ways: each is a 502 and a
# closed connection, and nothing of it reaches the client.
BAD = {
    b"/x/r-clte": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"/x/r-tecl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 5\r\n\r\n0\r\n\r\n",
    b"/x/r-cl2": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
    b"Content-Length: 2\r\n\r\nok",
    b"/x/r-cllist": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
    b"/x/r-clplus": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    b"/x/r-cl_": b"HTTP/1.1 200 OK\r\nContent_Length: 9\r\n"
    b"Content-Length: 2\r\n\r\nok",
    b"/x/r-teid": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok",
    b"/x/r-tegz": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
    b"\r\n0\r\n\r\n",
    b"/x/r-te10": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    b"/x/r-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    b"/x/r-fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2"
    b"\r\n\r\nok",
    b"/x/r-status": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/x/r-http2": b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/x/r-wscolon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    b"/x/r-nul": b"HTTP/1.1 200 OK\r\nX-A: \x00\r\nContent-Length: 2\r\n"
    b"\r\nok",
}
# The head is out before the body goes wrong: the connection is cut, the
# client never sees the end of a response.
CUT = {
    b"/x/r-trailer-cl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n2\r\nok\r\n0\r\nContent-Length: 40\r\n\r\n",
    b"/x/r-badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n2\r\nok\r\n0x0\r\n\r\n",
}
ANSWERS.update(BAD)
ANSWERS.update(CUT)
# Answered with a head, then, a moment later, a forged response: a late
# body for a response that has none.
LATE = {
    b"/x/late": b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n",
    b"/x/204late": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"/x/304late": b"HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n",
}


class ScriptedUpstream(gwtest.RecordingUpstream):
    """Records request heads (bodies are read by Content-Length only) and
    answers ANSWERS[path] or OK; the listener is RecordingUpstream's."""

    def __init__(self):
        self.heads = []     # before the accepting thread starts
        super().__init__()

    def _serve(self, s):
        s.settimeout(0.5)
        buf = b""
        try:
            while not self.stop_ev.is_set():
                if b"\r\n\r\n" not in buf:
                    try:
                        d = s.recv(65536)
                    except (socket.timeout, TimeoutError):
                        continue
                    if not d:
                        return
                    buf += d
                    continue
                head, _, buf = buf.partition(b"\r\n\r\n")
                with self.lock:
                    self.heads.append(head)
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.lower() == b"content-length":
                        n = int(v)
                        while len(buf) < n:
                            buf += s.recv(65536)
                        buf = buf[n:]
                target = head.split(b" ")[1]
                if target in LATE:
                    # a HEAD, 204 or 304 answered with a body, the body a
                    # moment late
                    s.sendall(LATE[target])
                    time.sleep(0.05)
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                              b"\r\nforged")
                    continue
                s.sendall(ANSWERS.get(target.split(b"?")[0], OK))
        except OSError:
            pass
        finally:
            s.close()

    def last(self):
        with self.lock:
            return self.heads[-1] if self.heads else b""

    def count(self):
        with self.lock:
            return len(self.heads)

def names(head: bytes) -> list:
    return [ln.partition(b":")[0].lower() for ln in head.split(b"\r\n")[1:]]


def values(head: bytes, name: bytes) -> list:
    return [ln.partition(b":")[2].strip()
            for ln in head.split(b"\r\n")[1:]
            if ln.partition(b":")[0].lower() == name]


def main(t: gwtest.Test):
    up = ScriptedUpstream()
    t.upstreams.append(up)
    conf = t.config(upstreams=[upstream_conf("s", [up])],
                    routes=[{"name": "ws", "path": "/ws", "upgrade": True},
                            {"name": "x", "path": "/x"}])
    gw = t.gateway(conf, workers=1)

    # -- Connection, however it is spread -------------------------------------
    cases = [
        ("nine Connection fields, the last names the header",
         [("Connection", "a")] * 8 + [("Connection", "X-Evil-Hop")]),
        ("a 200-byte name named in Connection",
         [("Connection", "X-Evil-Hop" + "h" * 190)]),
        ("twenty tokens in Connection, the last names the header",
         [("Connection", ", ".join(f"t{i}" for i in range(20)) +
           ", x-evil-hop")]),
    ]
    for what, hdrs in cases:
        evil = hdrs[-1][1].split(", ")[-1]
        with gw.conn() as conn:
            r = conn.get("/x/a", headers=hdrs + [(evil, "1")])
        head = up.last()
        t.check(r.status == 200 and evil.lower().encode() not in names(head)
                and b"connection" not in names(head),
                f"{what}: not forwarded", head[:600])
    with gw.conn() as conn:
        r = conn.get("/x/hop")
        r2 = conn.get("/x/next")
    t.check(r.status == 200 and r.header("x-up-hop") is None and
            r.body == b"ok" and r2.status == 200,
            "an upstream's ninth Connection field is honoured too",
            r.headers)

    # -- '_' for '-': CGI-style servers read X_Gerbang_Consumer as
    # HTTP_X_GERBANG_CONSUMER, the same variable as X-Gerbang-Consumer
    spoof = [("X_Gerbang_Consumer", "admin"), ("X-Gerbang_Role", "root"),
             ("X_Forwarded_For", "6.6.6.6"), ("X-Forwarded_Proto", "http"),
             ("X_Real_IP", "6.6.6.6"), ("X_Request_Id", "evil"),
             ("X_Forwarded_Host", "evil.test"), ("Proxy_Authorization", "x"),
             ("X-Keep_Me", "1")]
    with gw.conn() as conn:
        r = conn.get("/x/underscore", headers=spoof)
    head = up.last()
    left = [n for n in names(head) if b"_" in n]
    t.check(r.status == 200 and left == [b"x-keep_me"],
            "identity and forwarding headers spelt with '_' are removed",
            head[:800])

    # -- Upgrade --------------------------------------------------------------
    h2c = [("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
           ("HTTP2-Settings", "AAMAAABkAAQAAP__")]
    with gw.conn() as conn:
        r = conn.get("/ws/a", headers=h2c)
        head = up.last()
        t.check(r.status == 200 and not values(head, b"upgrade") and
                not values(head, b"connection") and
                b"http2-settings" not in names(head),
                "h2c upgrade on an upgrade route: Upgrade not forwarded",
                head[:600])
        r = conn.get("/x/b")
        t.check(r.status == 200, "the connection goes on as HTTP/1.1", r)
    with gw.conn() as conn:
        r = conn.get("/ws/101", headers=h2c)
        t.check(r.status == 502 and r.closes,
                "a 101 to an h2c upgrade is not relayed (502)", r)
    for proto in ("websocket, h2c", "h2c, websocket", "WebSocket/13"):
        with gw.conn() as conn:
            r = conn.get("/ws/c", headers=[("Connection", "Upgrade"),
                                           ("Upgrade", proto)])
        head = up.last()
        t.check(r.status == 200 and not values(head, b"upgrade"),
                f"Upgrade: {proto} not forwarded", head[:600])
    with gw.conn() as conn:
        r = conn.get("/ws/d", headers=[("Connection", "Upgrade"),
                                       ("Upgrade", "WebSocket"),
                                       ("Sec-WebSocket-Version", "13"),
                                       ("Sec-WebSocket-Key", WS_KEY)])
    head = up.last()
    t.check(r.status == 200 and values(head, b"upgrade") == [b"WebSocket"]
            and values(head, b"connection") == [b"upgrade"] and
            values(head, b"sec-websocket-key") == [WS_KEY.encode()],
            "a WebSocket upgrade still passes on the upgrade route",
            head[:600])
    for key in (None, "short==", "dGhlIHNhbXBsZSBub25jZQ=!",
                "dGhlIHNhbXBsZSBub25jZQAA", [WS_KEY, WS_KEY]):
        keys = [] if key is None else key if isinstance(key, list) else [key]
        with gw.conn() as conn:
            r = conn.get("/ws/e", headers=[("Connection", "Upgrade"),
                                           ("Upgrade", "websocket")] +
                         [("Sec-WebSocket-Key", k) for k in keys])
        head = up.last()
        t.check(r.status == 200 and not values(head, b"upgrade"),
                f"Sec-WebSocket-Key {key}: Upgrade not forwarded",
                head[:600])
    for path in ("/ws/101", "/ws/101none", "/ws/101noaccept",
                 "/ws/101badaccept"):
        with gw.conn() as conn:
            r = conn.get(path, headers=[("Connection", "Upgrade"),
                                        ("Upgrade", "websocket"),
                                        ("Sec-WebSocket-Key", WS_KEY)])
            t.check(r.status == 502 and r.closes,
                    f"{path}: a 101 without the WebSocket handshake is not "
                    "relayed (502)", r)
    with gw.conn() as conn:
        r = conn.get("/ws/101ws", headers=[("Connection", "Upgrade"),
                                           ("Upgrade", "websocket")])
        t.check(r.status == 502 and r.closes,
                "a 101 to an upgrade without a key is not relayed (502)", r)
    with gw.conn() as conn:
        r = conn.get("/ws/101ws", headers=[("Connection", "Upgrade"),
                                           ("Upgrade", "websocket"),
                                           ("Sec-WebSocket-Key", WS_KEY)])
        ok = r.status == 101 and r.has_token("connection", "upgrade")
        if ok:
            # the tunnel passes bytes as they are: this upstream answers
            # an HTTP request sent through it
            conn.send(b"GET /in-tunnel HTTP/1.1\r\nX: y\r\n\r\n")
            r2 = conn.read_response()
            ok = r2.status == 200 and r2.body == b"ok" and \
                up.last() == b"GET /in-tunnel HTTP/1.1\r\nX: y"
        t.check(ok, "a 101 to a WebSocket upgrade opens the tunnel",
                (r, up.last()[:200]))
    with gw.conn() as conn:
        r = conn.get("/x/e", headers=[("Connection", "Upgrade"),
                                      ("Upgrade", "websocket")])
    head = up.last()
    t.check(r.status == 200 and not values(head, b"upgrade"),
            "and not on a route without upgrade", head[:600])

    # -- absolute-form with "/" in the query ---------------------------------
    n0 = up.count()
    with gw.conn() as conn:
        r = conn.request("GET", "http://a.test?/x/abs")
        t.check(r.status == 404 and up.count() == n0,
                "http://a.test?/x/abs is routed as /, not /x/abs", r)
        r = conn.request("GET", "https://a.test:443?/x/abs")
        t.check(r.status == 404 and up.count() == n0,
                "https://a.test:443?/x/abs too", r)
        r = conn.request("GET", "https://a.test/x/q?/ws/1")
        t.check(r.status == 200 and
                up.last().split(b"\r\n")[0] == b"GET /x/q?/ws/1 HTTP/1.1",
                "https://a.test/x/q?/ws/1 forwarded as /x/q?/ws/1",
                up.last()[:200])

    # -- 204 with Content-Length ----------------------------------------------
    with gw.conn() as conn:
        r = conn.get("/x/204cl")
        t.check(r.status == 204 and r.header("content-length") is None,
                "a 204's Content-Length is not relayed", r.headers)
        r = conn.get("/x/after")
        t.check(r.status == 200 and r.body == b"ok",
                "the next response on the connection is clean", r)


    # -- an upstream that sends a body after a HEAD response ---------------
    with gw.conn() as conn:
        conn.send(b"HEAD /x/late HTTP/1.1\r\nHost: a.test\r\n\r\n"
                  b"GET /x/after-late HTTP/1.1\r\nHost: a.test\r\n\r\n")
        r = conn.read_response("HEAD")
        try:
            r2 = conn.read_response("GET")
        except (gwtest.ProtocolError, EOFError, OSError) as e:
            r2 = e
        t.check(r.status == 200 and getattr(r2, "status", None) == 200 and
                r2.body == b"ok", "the upstream connection of a HEAD is not "
                "reused: its late body is nobody's response", (r, r2))

    # -- the same after a 204 and a 304: nginx and HAProxy pool these
    # connections, but a late body would be the next response
    for path in (b"/x/204late", b"/x/304late"):
        with gw.conn() as conn:
            conn.send(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n"
                      b"GET /x/after-late HTTP/1.1\r\nHost: a.test\r\n\r\n")
            r = conn.read_response("GET")
            try:
                r2 = conn.read_response("GET")
            except (gwtest.ProtocolError, EOFError, OSError) as e:
                r2 = e
        t.check(r.status in (204, 304) and
                getattr(r2, "status", None) == 200 and r2.body == b"ok",
                f"the upstream connection of a {r.status} is not reused: "
                "its late body is nobody's response", (r, r2))

    # -- upstream responses framed two ways ---------------------------------
    for path in BAD:
        with gw.conn() as conn:
            conn.send(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n"
                      b"GET /x/after-bad HTTP/1.1\r\nHost: a.test\r\n\r\n")
            data = conn.read_until_close(timeout=3)
        r, rest = gwtest.parse_one_response(data)
        t.check(r is not None and r.status == 502 and r.closes and
                not rest and b"ok" not in r.body,
                f"{path!r}: 502, closed, nothing relayed", data[:300])
    for path in CUT:
        with gw.conn() as conn:
            conn.send(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
            data = conn.read_until_close(timeout=3)
            closed = conn.eof
        t.check(closed and not data.endswith(b"0\r\n\r\n"),
                f"{path!r}: the body goes wrong after the head: cut, "
                "never a complete response", data[-100:])
    with gw.conn() as conn:
        r = conn.get("/x/after-bad-responses")
        t.check(r.status == 200 and r.body == b"ok",
                "and the next request is answered cleanly", r)

    # -- response heads the client must not see as sent -------------------
    with gw.conn() as conn:
        r = conn.request("GET", "/x/chunked", version="HTTP/1.0")
        t.check(r.status == 200 and r.body == b"hello world" and
                r.header("transfer-encoding") is None and r.closes and
                conn.wait_closed(3),
                "an HTTP/1.0 client gets a chunked body decoded, ended by "
                "the close", r.head_raw)
    with gw.conn() as conn:
        r = conn.get("/x/chunked")
        t.check(r.status == 200 and r.body == b"hello world" and r.chunked,
                "an HTTP/1.1 client still gets it chunked", r.head_raw)
    with gw.conn() as conn:
        r = conn.get("/x/gerbang")
        left = [k for k, _ in r.headers if k.lower().replace("_", "-")
                .startswith("x-gerbang-")]
        t.check(r.status == 200 and not left and
                r.header("x-gerbangs") == "kept",
                "X-Gerbang-* from the upstream (any case, '_' for '-') is "
                "not shown to the client", r.head_raw)
        ids = [v for k, v in r.headers if k.lower() == "x-request-id"]
        t.check(len(ids) == 1 and ids[0] != "from-upstream",
                "the client sees one X-Request-Id, the gateway's", ids)
    with gw.conn() as conn:
        for path in ("/x/100", "/x/102", "/x/103"):
            r = conn.get(path)
            t.check(r.status == 200 and r.body == b"ok" and
                    r.header("link") is None and
                    r.header("x-gerbang-consumer") is None,
                    f"{path}: the interim response is dropped, the final "
                    "one relayed", r.head_raw)
        r = conn.get("/x/after-1xx")
        t.check(r.status == 200 and r.body == b"ok",
                "and the connection goes on", r)

    # -- what the gateway decided on is what the upstream receives ---------
    for target, want in [
            (b"/x/a%2e/b", b"/x/a./b"), (b"/x/%7e%41%2D", b"/x/~A-"),
            (b"/x/a%3f", b"/x/a%3F"), (b"/x/a%3fb%23c", b"/x/a%3Fb%23c"),
            (b"/x//a//b/", b"/x/a/b/"), (b"/x/./a/../b", b"/x/b"),
            (b"/x/%2E%2E/x/c", b"/x/c"), (b"/x/%2e/c", b"/x/c"),
            (b"/x/a%25", b"/x/a%25"), (b"/x/a./b..", b"/x/a./b.."),
            (b"/x/a?b=%2f/../c", b"/x/a?b=%2f/../c"),
            (b"/ws/../x/d", b"/x/d"), (b"//x/e", b"/x/e"),
            (b"http://a.test//x/f?/ws", b"/x/f?/ws"),
            (b"/x/%C3%A9", b"/x/%C3%A9")]:
        n0 = up.count()
        with gw.conn() as conn:
            conn.send(b"GET " + target + b" HTTP/1.1\r\nHost: a.test\r\n"
                      b"Connection: close\r\n\r\n")
            r = conn.read_response()
        line = up.last().split(b"\r\n")[0] if up.count() > n0 else b""
        t.check(r.status == 200 and line == b"GET " + want + b" HTTP/1.1",
                f"{target!r} is routed and forwarded as {want!r}", line)
    for target in (b"/x/%2f", b"/x/%5c", b"/x/a\\b", b"/x/%00", b"/x/%zz",
                   b"/x/../../y", b"/x/%c0%ae%c0%ae/", b"/x/a#b",
                   # read as ';' by a server that decodes before it drops
                   # path parameters
                   b"/x/nik%3bv=1/1", b"/x/a%3B",
                   # double encoding: "..", "/" to a server that decodes
                   # twice
                   b"/x/%252e%252e/y", b"/x/a%252Fb", b"/x/a%25%32%66b"):
        n0 = up.count()
        with gw.conn() as conn:
            conn.send(b"GET " + target + b" HTTP/1.1\r\nHost: a.test\r\n"
                      b"\r\n")
            data = conn.read_until_close(timeout=3)
        t.check(data.startswith(b"HTTP/1.1 400 ") and up.count() == n0,
                f"{target!r}: 400, nothing forwarded", data[:100])

    # -- the gateway's own answers to HEAD ------------------------------------
    with gw.conn() as conn:
        conn.send(b"HEAD /nowhere HTTP/1.1\r\nHost: a.test\r\n\r\n"
                  b"GET /x/after-head HTTP/1.1\r\nHost: a.test\r\n\r\n")
        r = conn.read_response("HEAD")
        try:
            r2 = conn.read_response("GET")
        except (gwtest.ProtocolError, EOFError, OSError) as e:
            r2 = e
        t.check(r.status == 404 and not r.closes and
                r.header("content-length") is not None and
                getattr(r2, "status", None) == 200 and r2.body == b"ok",
                "a 404 to HEAD has no body: the next response is clean",
                (r, r2))
    with gw.conn() as conn:
        conn.send(b"HEAD /x/%2f HTTP/1.1\r\nHost: a.test\r\n\r\n")
        data = conn.read_until_close(timeout=3)
        t.check(data.startswith(b"HTTP/1.1 400 ") and
                data.endswith(b"\r\n\r\n"),
                "a 400 to HEAD has no body either", data)

    # -- path parameters ------------------------------------------------------
    n0 = up.count()
    with gw.conn() as conn:
        r = conn.get("/x/nik;v=1/1")
        t.check(r.status == 400 and r.closes and up.count() == n0,
                "a ';' in the path is refused by default", r)
    conf2 = t.config(upstreams=[upstream_conf("s", [up])],
                     routes=[{"name": "x", "path": "/x"}])
    conf2["path_parameters"] = True
    gw2 = t.gateway(conf2, workers=1)
    with gw2.conn() as conn:
        r = conn.get("/x/nik;v=1/1")
        t.check(r.status == 200 and up.last().split(b"\r\n")[0] ==
                b"GET /x/nik;v=1/1 HTTP/1.1",
                "path_parameters: true passes it on unchanged",
                up.last()[:200])
        r = conn.get("/x/nik%3bv=1/2")
        t.check(r.status == 200 and up.last().split(b"\r\n")[0] ==
                b"GET /x/nik%3Bv=1/2 HTTP/1.1",
                "and %3B too", up.last()[:200])
        r = conn.get("/x/a/..;/b")
        t.check(r.status == 400, "but never on a dot segment", r)
    gw2.stop()
    valid_requests(t)


def valid_requests(t: gwtest.Test):
    """Unusual but valid requests pass, as the upstream (upstream.py's
    /echo) reads them."""
    import json
    up = t.upstream()
    conf = t.config(upstreams=[upstream_conf("u", [up])],
                    routes=[{"name": "m", "path": "/"}],
                    timeouts={"request_body": "2s"})
    gw = t.gateway(conf, workers=1)
    H = b"Host: a.test\r\n"

    def echo(raw, pieces=1, method="GET"):
        with gw.conn() as conn:
            step = -(-len(raw) // pieces)
            for k in range(0, len(raw), step):
                conn.send(raw[k:k + step])
                time.sleep(0.05 if pieces > 1 else 0)
            r = conn.read_final(method)
        return r, (json.loads(r.body) if r.status == 200 and r.body else {})

    def hdr(j, name):
        return [v for k, v in j.get("headers", []) if k.lower() == name]

    for what, raw, pieces, check in [
            ("chunked in capitals, extensions and a trailer",
             b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: CHUNKED\r\n"
             b"\r\n5;a=b;c=\"d e\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", 1,
             lambda j: j["body_len"] == 5 and
             hdr(j, "transfer-encoding") == ["chunked"]),
            ("the same in three pieces (held until whole)",
             b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
             b"\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 3,
             lambda j: j["body_len"] == 11),
            ("Content-Length: 005",
             b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 005\r\n\r\n"
             b"hello", 1,
             lambda j: j["body_len"] == 5 and hdr(j, "content-length") ==
             ["5"]),
            ("a body on GET", b"GET /echo HTTP/1.1\r\n" + H +
             b"Content-Length: 5\r\n\r\nhello", 1,
             lambda j: j["method"] == "GET" and j["body_len"] == 5),
            ("a body on DELETE, in two pieces", b"DELETE /echo HTTP/1.1\r\n" +
             H + b"Content-Length: 5\r\n\r\nhello", 2,
             lambda j: j["method"] == "DELETE" and j["body_len"] == 5),
            ("an extension method", b"M-SEARCH /echo HTTP/1.1\r\n" + H +
             b"\r\n", 1, lambda j: j["method"] == "M-SEARCH"),
            ("obs-text and an empty value", b"GET /echo HTTP/1.1\r\n" + H +
             b"X-Obs: caf\xc3\xa9\r\nX-Empty:\r\n\r\n", 1,
             lambda j: hdr(j, "x-obs") == ["caf\xc3\xa9"] and
             hdr(j, "x-empty") == [""]),
            ("Expect: 100-continue", b"POST /echo HTTP/1.1\r\n" + H +
             b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", 1,
             lambda j: j["body_len"] == 5 and not hdr(j, "expect")),
            ("absolute form in capitals",
             b"GET HTTP://A.TEST/echo?q=1 HTTP/1.1\r\n" + H + b"\r\n", 1,
             lambda j: j["target"] == "/echo?q=1"),
            ("an IPv6 Host", b"GET /echo HTTP/1.1\r\nHost: [::1]:8443\r\n"
             b"\r\n", 1, lambda j: hdr(j, "host") == ["[::1]:8443"])]:
        r, j = echo(raw, pieces)
        try:
            ok = r.status == 200 and check(j)
        except (KeyError, TypeError):
            ok = False
        t.check(ok, f"valid: {what} passes", (r, j))
    with gw.conn() as conn:
        conn.send(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                  b"GET /echo HTTP/1.0\r\n\r\n")
        r1 = conn.read_response()
        r2 = conn.read_response()
        t.check(r1.status == 200 and r2.status == 200 and
                r1.has_token("connection", "keep-alive") and
                conn.wait_closed(3), "valid: HTTP/1.0 keep-alive, then close",
                (r1, r2))
    with gw.conn() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\n"
                  b"Content-Length: 5\r\n\r\n")
        r1 = conn.read_response()
        r2 = conn.read_response()
        t.check(r1.status == 100 and r2.status == 408 and r2.closes and
                conn.wait_closed(3),
                "100 Continue, then no body: 408 and closed", (r1, r2))
    gw.stop()


if __name__ == "__main__":
    gwtest.run(main)
