#!/usr/bin/env python3
"""A burst of new TLS clients does not hold up an established connection.

gerbang-gateway queues the costly first step of a TLS handshake (the
ClientHello and the server's flight) and runs it after the established
connections of the loop turn, GW_HS_PER_TURN at a time (gateway/gw_conn.c).
Here, with the worker stopped (SIGSTOP) so that everything waits for one
loop turn, BURST connections send their ClientHellos and then a request
goes out on a keep-alive connection that is already open; the worker
continues (SIGCONT). The response must come before most of the burst's
ServerHellos (run inline, every handshake of the turn went first), and
every connection of the burst must still get its ServerHello and finish
its handshake.

usage: test_gw_burst.py BUILD_DIR
"""
import os
import select
import signal
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

BURST = 48
DEADLINE = 60.0


class Hello:
    """One client of the burst: a socket and an in-memory TLS client."""

    def __init__(self, port: int, ctx: ssl.SSLContext):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="a.test")
        self.first = None       # when the first byte of the server came
        self.done = False
        self.step()

    def step(self) -> None:
        """Run the handshake as far as it goes; keep what it sends."""
        try:
            self.tls.do_handshake()
            self.done = True
        except ssl.SSLWantReadError:
            pass
        self.pending = self.out.read()

    def flush(self) -> None:
        if self.pending:
            self.sock.sendall(self.pending)
            self.pending = b""

    def feed(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        if self.first is None:
            self.first = time.monotonic()
        self.inc.write(data)
        self.step()
        self.flush()
        return True


def main(t: gwtest.Test):
    up = t.upstream()
    conf = t.config(upstreams=[upstream_conf("up", [up])],
                    routes=[{"name": "main", "path": "/"}])
    gw = t.gateway(conf, workers=1)
    port = gw.port()
    pids = gw.serving()
    t.require(len(pids) == 1, "one worker", pids)
    ctx = gwtest.client_context()

    ka = gw.conn()
    r = ka.request("GET", "/echo")
    t.require(r.status == 200, "keep-alive connection answers", r)

    # Connected first (accepted, nothing to do yet), then, while the worker
    # is stopped, every ClientHello and the request on the open connection.
    burst = [Hello(port, ctx) for _ in range(BURST)]
    time.sleep(0.2)
    os.kill(pids[0], signal.SIGSTOP)
    try:
        for h in burst:
            h.flush()
        ka.send(b"GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n")
        time.sleep(0.1)
    finally:
        os.kill(pids[0], signal.SIGCONT)
    sent = time.monotonic()

    answered = None
    waiting = {h.sock.fileno(): h for h in burst}
    end = sent + DEADLINE
    while (waiting or answered is None) and time.monotonic() < end:
        fds = list(waiting) + ([ka.sock.fileno()] if answered is None
                               else [])
        ready, _, _ = select.select(fds, [], [], 1.0)
        now = time.monotonic()
        for fd in ready:
            if answered is None and fd == ka.sock.fileno():
                answered = now
                continue
            h = waiting[fd]
            if not h.feed() or h.done:
                del waiting[fd]
    t.require(answered is not None, "the open connection is answered")
    r = ka.read_final("GET")
    t.check(r.status == 200, "its response is whole", r)
    before = sum(1 for h in burst if h.first is not None and
                 h.first < answered)
    t.check(before < BURST // 2,
            f"it came before most ServerHellos of the burst "
            f"({before} of {BURST} came first)")
    # The burst completes: some already, the rest here.
    for h in burst:
        h.sock.settimeout(10)
        while not h.done and time.monotonic() < end:
            if not h.feed():
                break
    t.check(all(h.first is not None for h in burst),
            f"every connection of the burst got its ServerHello "
            f"({sum(1 for h in burst if h.first is not None)} of {BURST})")
    t.check(all(h.done for h in burst),
            f"every handshake of the burst completes "
            f"({sum(1 for h in burst if h.done)} of {BURST})")
    for h in burst:
        h.sock.close()
    ka.close()
    m = gw.metrics()
    n = m.get(("gerbang_tls_handshakes_total", ()), 0)
    t.check(n >= BURST + 1, "the gateway counted the handshakes", n)


if __name__ == "__main__":
    gwtest.run(main)
