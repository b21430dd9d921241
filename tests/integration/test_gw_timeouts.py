#!/usr/bin/env python3
"""gerbang-gateway timeouts (configured short, 1 s): slowloris, idle
keep-alive, slow request body, slow client reads, upstream read and connect
timeouts, upstream errors (not listening, dropped), TLS handshake.

usage: test_gw_timeouts.py BUILD_DIR
"""
import socket
import ssl
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

T = 1.0            # the configured timeouts
SLACK = 1.5        # how late a timeout may fire (sanitizer builds, load)


def within(dt, lo=T * 0.8, hi=T + SLACK):
    return lo <= dt <= hi


def blackhole():
    """A listener whose accept queue is full: connects to it hang."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)
    port = lsn.getsockname()[1]
    fill = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(s)
    return port, [lsn] + fill


def main(t: gwtest.Test):
    up = t.upstream()
    dead_port = gwtest.free_port()          # nothing listens there
    bh_port, bh_socks = blackhole()
    conf = t.config(
        upstreams=[
            upstream_conf("up", [up], health={"max_fails": 0}),
            upstream_conf("dead", [f"127.0.0.1:{dead_port}"],
                          health={"max_fails": 0}),
            upstream_conf("blackhole", [f"127.0.0.1:{bh_port}"],
                          health={"max_fails": 0}),
        ],
        routes=[{"name": "dead", "path": "/dead", "upstream": "dead"},
                {"name": "blackhole", "path": "/blackhole",
                 "upstream": "blackhole"},
                {"name": "main", "path": "/", "upstream": "up"}],
        timeouts={"handshake": "1s", "request_header": "1s",
                  "request_body": "1s", "keepalive": "1s", "send": "1s",
                  "upstream_connect": "1s", "upstream_read": "1s",
                  "upstream_send": "1s", "drain": "2s"})
    gw = t.gateway(conf, workers=1)
    to0 = gwtest.metric(gw.metrics(), "gerbang_timeouts_total") or 0

    # A TCP connection that never sends anything.  The listener uses
    # TCP_DEFER_ACCEPT (10 s): the kernel keeps such a connection from the
    # gateway for 10 s and more (SYN-ACK retransmits), then the handshake
    # timeout runs.  Measured in the background while the rest goes on.
    silent = {}

    def silent_conn():
        with socket.create_connection(("127.0.0.1", gw.port()),
                                      timeout=5) as s:
            s.settimeout(40)
            t0 = time.monotonic()
            try:
                silent["data"] = s.recv(100)
            except (ConnectionResetError, socket.timeout, TimeoutError) as e:
                silent["data"] = e
            silent["dt"] = time.monotonic() - t0

    th_silent = threading.Thread(target=silent_conn, daemon=True)
    th_silent.start()

    # -- slowloris while a normal client is served ----------------------------
    slow = {"closed_after": None, "data": b"", "sent": 0}

    def slowloris():
        conn = gw.conn()
        head = b"GET /echo HTTP/1.1\r\nHost: a.test\r\nX-Slow: " + b"a" * 100
        start = time.monotonic()
        try:
            for i in range(len(head)):
                try:
                    conn.send(head[i:i + 1])
                    slow["sent"] += 1
                except OSError:
                    break
                conn.sock.settimeout(0.2)
                try:
                    d = conn.sock.recv(4096)
                except (TimeoutError, socket.timeout):
                    continue
                except (ssl.SSLError, OSError):
                    d = b""
                if not d:
                    break
                slow["data"] += d
                if time.monotonic() - start > 6:
                    break
            slow["data"] += conn.read_until_close(2)
            slow["closed_after"] = time.monotonic() - start
        finally:
            conn.close()

    th = threading.Thread(target=slowloris, daemon=True)
    th.start()
    served = []
    time.sleep(0.2)
    with gw.conn() as conn:
        for i in range(4):
            t0 = time.monotonic()
            r = conn.get(f"/echo?i={i}")
            served.append((r.status, round(time.monotonic() - t0, 3)))
            time.sleep(0.15)
    th.join(10)
    t.check(all(s == 200 and dt < 0.5 for s, dt in served),
            "a normal client is served while the slowloris trickles",
            served)
    r, _ = gwtest.parse_one_response(slow["data"])
    ca = slow["closed_after"]
    t.check(ca is not None and within(ca) and
            (r is None and slow["data"] == b"" or
             r is not None and r.status == 408 and r.closes),
            "slowloris (a byte every 200 ms) closed at the header timeout "
            "(408 or close)", (ca, slow["sent"], slow["data"][:200]))

    # -- idle connections -----------------------------------------------------
    with gw.conn() as conn:
        r = conn.get("/echo")
        t0 = time.monotonic()
        closed = conn.wait_closed(T + 3)
        dt = time.monotonic() - t0
    t.check(r.status == 200 and closed and within(dt),
            f"idle keep-alive closed after the keepalive timeout "
            f"({dt:.2f}s)", (closed, dt))
    with gw.conn() as conn:
        t0 = time.monotonic()
        closed = conn.wait_closed(T + 3)
        dt = time.monotonic() - t0
    t.check(closed and within(dt), f"connection without a first request "
            f"closed after the header timeout ({dt:.2f}s)", (closed, dt))

    # -- slow request body ----------------------------------------------------
    with gw.conn() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\nHost: a.test\r\n"
                  b"Content-Length: 100\r\n\r\n" + b"x" * 10)
        t0 = time.monotonic()
        data = conn.read_until_close(T + 4)
        dt = time.monotonic() - t0
        r, _ = gwtest.parse_one_response(data)
        t.check(r is not None and r.status == 408 and r.closes and
                conn.eof and within(dt),
                f"slow request body -> 408 after the body timeout "
                f"({dt:.2f}s)", (r, dt))

    # -- upstream timeouts and errors -----------------------------------------
    def timed(target, method="GET", body=None):
        with gw.conn(timeout=10) as conn:
            t0 = time.monotonic()
            try:
                r = conn.request(method, target, body=body)
            except (EOFError, OSError, gwtest.ProtocolError) as e:
                r = e
            dt = time.monotonic() - t0
            closed = conn.wait_closed(2) if isinstance(r, gwtest.Response) \
                and r.closes else None
        return r, dt, closed

    r, dt, closed = timed("/slow/3000")
    t.check(isinstance(r, gwtest.Response) and r.status == 504 and
            r.closes and closed and within(dt),
            f"upstream slower than upstream_read -> 504 ({dt:.2f}s)", r)
    with gw.conn(timeout=10) as conn:
        t0 = time.monotonic()
        try:
            r = conn.get("/slow/3000?stage=body")
            res = r
        except (EOFError, OSError) as e:
            res = e
        dt = time.monotonic() - t0
    t.check(isinstance(res, EOFError) and within(dt),
            f"upstream stalls mid-body -> the client connection is cut "
            f"({dt:.2f}s)", (res, dt))
    r, dt, closed = timed("/dead/x")
    t.check(isinstance(r, gwtest.Response) and r.status == 502 and
            r.closes and closed and dt < T, "upstream not listening -> 502",
            (r, dt))
    r, dt, closed = timed("/blackhole/x")
    t.check(isinstance(r, gwtest.Response) and r.status == 504 and
            within(dt), f"upstream connect timeout -> 504 ({dt:.2f}s)",
            (r, dt))
    for s in bh_socks:
        s.close()
    for target, method in (("/drop", "GET"), ("/drop?rst=1", "GET"),
                           ("/drop", "POST")):
        # Counted per method: the GETs before may be logged late.
        n0 = len([x for x in up.requests()
                  if x[3].startswith("/drop") and x[2] == method])
        r, dt, closed = timed(target, method, b"x" if method == "POST"
                              else None)
        t.check(isinstance(r, gwtest.Response) and r.status == 502 and
                r.closes and closed and dt < T,
                f"{method} {target}: upstream closes without answering -> "
                "502", (r, dt))
        if method == "POST":
            def drops():
                return len([x for x in up.requests()
                            if x[3].startswith("/drop") and
                            x[2] == "POST"]) - n0
            # upstream.py logs after its lingering close (up to 2 s)
            gwtest.wait_until(lambda: drops() >= 1, 4)
            time.sleep(0.2)
            t.check(drops() == 1, "POST /drop is not retried", drops())
    with gw.conn() as conn:
        r = conn.get("/echo")
    t.check(r.status == 200, "the upstream still serves after all that")

    # -- slow reader: the send timeout ----------------------------------------
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    raw.settimeout(5)
    raw.connect(("127.0.0.1", gw.port()))
    s = gwtest.default_context().wrap_socket(raw, server_hostname="a.test")
    size = 64 << 20
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a.test\r\n\r\n" % size)
    time.sleep(T + SLACK + 0.5)      # send timeout 1 s: we do not read
    got, t0 = 0, time.monotonic()
    try:
        while time.monotonic() - t0 < 10:
            d = s.recv(1 << 20)
            if not d:
                break
            got += len(d)
    except (OSError, ssl.SSLError):
        pass
    s.close()
    t.check(0 < got < size // 2, f"a client that stops reading is cut "
            f"after the send timeout ({got} of {size} bytes)", got)

    # -- the TLS handshake ----------------------------------------------------
    with socket.create_connection(("127.0.0.1", gw.port()), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00")   # a ClientHello begins
        t0 = time.monotonic()
        try:
            d = s.recv(100)
        except (ConnectionResetError, socket.timeout, TimeoutError) as e:
            d = e
        dt = time.monotonic() - t0
    t.check(d == b"" and within(dt), f"stalled TLS handshake closed after "
            f"the handshake timeout ({dt:.2f}s)", (d, dt))

    th_silent.join(40)
    dt = silent.get("dt")
    t.check(silent.get("data") == b"" and dt is not None and dt < 35,
            f"a TCP connection that sends nothing is closed (after "
            f"{dt or 0:.1f}s: TCP_DEFER_ACCEPT, then the handshake timeout)",
            silent)

    m = gw.metrics()
    to1 = gwtest.metric(m, "gerbang_timeouts_total") or 0
    t.check(to1 - to0 >= 7, "gerbang_timeouts_total counts them",
            (to0, to1))
    ue = gwtest.metric(m, "gerbang_upstream_errors_total") or 0
    t.check(ue >= 5, "gerbang_upstream_errors_total counts 502/504", ue)
    codes = sorted({e.get("status") for e in gw.access_log()})
    t.check({408, 502, 504} <= set(codes), "access log has 408, 502, 504",
            codes)


if __name__ == "__main__":
    gwtest.run(main)
