#!/usr/bin/env python3
"""Self-test of the integration-test helpers: upstream.py and the demo API.

Starts tests/integration/upstream.py (plain and, if openssl is installed,
TLS) and deploy/demo/demo_api.py on free 127.0.0.1 ports, then checks every
endpoint with raw sockets and http.client: framing (Content-Length, chunked,
close-delimited), keep-alive and pipelining, error handling, and that every
record the demo API serves is valid according to deploy/demo/pii_gen.py,
whose validators are in turn checked against known-bad values.

Every socket operation has a timeout and a watchdog ends the run after
WATCHDOG seconds; started processes are always terminated.  Prints one line
per check and a final "N passed, N failed"; exits 1 if anything failed.

Standard library only.  Usage: python3 tests/integration/test_upstream_selftest.py
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEMO_DIR = REPO / "deploy" / "demo"
sys.path[:0] = [str(HERE), str(DEMO_DIR)]
sys.dont_write_bytecode = True      # keep __pycache__ out of the source tree

import pii_gen  # noqa: E402
import upstream  # noqa: E402

SOCK_TIMEOUT = 5.0        # every socket operation
START_TIMEOUT = 8.0       # waiting for a server's port file
WATCHDOG = 19.0           # the whole run
DEMO_SEED = 42
DEMO_RECORDS = 10000

RESULTS = {"passed": 0, "failed": 0}
#: Held while recording a result; the watchdog takes it for good, so no
#: check reports after the watchdog's final line.
REPORT_LOCK = threading.Lock()
PROCS: list = []
TMP = Path(tempfile.mkdtemp(prefix="gerbang-selftest-"))


# ---------------------------------------------------------------------------
# Process handling
# ---------------------------------------------------------------------------


class Server:
    """A helper server started as a subprocess on a free port."""

    def __init__(self, name: str, script: Path, *args: str):
        self.name = name
        self.log_path = TMP / f"{name}.log"
        port_file = TMP / f"{name}.port"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--listen", "127.0.0.1:0",
             "--port-file", str(port_file), "--quiet", *args],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        PROCS.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.output()}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; return the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)
        self.log.close()
        return self.proc.returncode


def kill_all() -> None:
    for s in PROCS:
        if s.proc.poll() is None:
            s.proc.kill()
            try:
                s.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass


def watchdog() -> None:
    REPORT_LOCK.acquire()
    print(f"FAIL watchdog: run exceeded {WATCHDOG:.0f} s", flush=True)
    kill_all()
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed'] + 1} failed",
          flush=True)
    os._exit(1)


# ---------------------------------------------------------------------------
# A raw HTTP/1.1 client that shows the framing
# ---------------------------------------------------------------------------


class Response:
    def __init__(self):
        self.status = 0
        self.headers: list = []
        self.body = b""
        self.framing = "none"     # none | length | chunked | close
        self.chunks: list = []    # chunk sizes, for chunked
        self.exts: list = []      # chunk extensions, for chunked
        self.trailers: list = []

    def header(self, name: str) -> str | None:
        vals = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    def json(self):
        return json.loads(self.body)


class Raw:
    """One TCP (or TLS) connection; requests are written byte for byte."""

    def __init__(self, port: int, timeout: float = SOCK_TIMEOUT,
                 tls: ssl.SSLContext | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock,
                                        server_hostname="127.0.0.1")
        self.buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by peer")
        self.buf += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _to_eof(self) -> bytes:
        while True:
            try:
                self._fill()
            except EOFError:
                break
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def _fields(self) -> list:
        out = []
        while True:
            line = self._line()
            if not line:
                return out
            name, _, value = line.decode("latin-1").partition(":")
            out.append((name, value.strip()))

    def response(self, method: str = "GET") -> Response:
        """Read one response (a 1xx interim response counts as one)."""
        r = Response()
        status_line = self._line().decode("latin-1")
        m = re.fullmatch(r"HTTP/1\.[01] ([0-9]{3}) .*", status_line)
        assert m, f"bad status line {status_line!r}"
        r.status = int(m.group(1))
        r.headers = self._fields()
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        if method == "HEAD" or r.status in (204, 304) or r.status < 200:
            return r
        if te is not None:
            assert te.lower() == "chunked", f"unexpected TE {te!r}"
            r.framing = "chunked"
            body = bytearray()
            while True:
                size_line = self._line().decode("latin-1")
                size_hex, _, ext = size_line.partition(";")
                size = int(size_hex, 16)
                if size == 0:
                    r.trailers = self._fields()
                    break
                r.chunks.append(size)
                r.exts.append(ext)
                body += self._exact(size)
                assert self._exact(2) == b"\r\n", "chunk not followed by CRLF"
            r.body = bytes(body)
        elif cl is not None:
            r.framing = "length"
            r.body = self._exact(int(cl))
        else:
            r.framing = "close"
            r.body = self._to_eof()
        return r

    def request(self, method: str, target: str, headers=(),
                body: bytes = b"") -> Response:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for n, v in headers:
            head += f"{n}: {v}\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        self.send(head.encode("latin-1") + b"\r\n" + body)
        return self.response(method)

    def at_eof(self) -> bool:
        """True if the peer has closed (nothing buffered, recv gives b"")."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def chunk_encode(data: bytes, sizes, ext: str = "") -> bytes:
    """Encode ``data`` as chunked with the given chunk sizes (cycled)."""
    out = bytearray()
    off, i = 0, 0
    while off < len(data):
        n = min(sizes[i % len(sizes)], len(data) - off)
        out += b"%x%s\r\n" % (n, ext.encode()) + data[off:off + n] + b"\r\n"
        off += n
        i += 1
    return bytes(out)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

CHECKS: list = []


def check(fn):
    CHECKS.append(fn)
    return fn


def run_check(fn, *args) -> None:
    t0 = time.monotonic()
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 (report every failure)
        where = traceback.extract_tb(e.__traceback__)[-1]
        with REPORT_LOCK:
            RESULTS["failed"] += 1
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {e} "
                  f"(line {where.lineno})", flush=True)
        return
    with REPORT_LOCK:
        RESULTS["passed"] += 1
        print(f"PASS {fn.__name__} ({time.monotonic() - t0:.2f} s)",
              flush=True)


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


# -- upstream ---------------------------------------------------------------


@check
def up_echo_headers_exact(up):
    c = Raw(up.port)
    c.send(b"GET /echo?a=1&b=%20x HTTP/1.1\r\nHost: up.test\r\nX-Dup: 1\r\n"
           b"x-dup: 2\r\nX-Empty:\r\nX-Pad:   padded value \t\r\n\r\n")
    r = c.response()
    e = r.json()
    expect(r.status == 200 and r.framing == "length", "status/framing")
    expect(e["method"] == "GET" and e["path"] == "/echo"
           and e["query"] == "a=1&b=%20x", f"request line {e}")
    expect(e["headers"] == [["Host", "up.test"], ["X-Dup", "1"],
                            ["x-dup", "2"], ["X-Empty", ""],
                            ["X-Pad", "padded value"]],
           f"headers {e['headers']}")
    expect(e["body_len"] == 0 and e["body_sha256"] == sha(b""), "empty body")
    c.close()


@check
def up_echo_content_length_body(up):
    body = random.Random(1).randbytes(300000)
    c = Raw(up.port)
    e = c.request("POST", "/echo", body=body).json()
    expect(e["body_len"] == len(body) and e["body_sha256"] == sha(body),
           "body digest")
    c.close()


@check
def up_echo_chunked_body(up):
    body = random.Random(2).randbytes(150001)
    c = Raw(up.port)
    c.send(b"PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n" + chunk_encode(body, (1, 10, 4096, 70000), ";n=v")
           + b"0\r\nX-Trailer: yes\r\n\r\n")
    e = c.response().json()
    expect(e["body_len"] == len(body) and e["body_sha256"] == sha(body),
           "chunked body digest")
    expect(e["trailers"] == [["X-Trailer", "yes"]], f"trailers {e['trailers']}")
    # The connection stays in sync after a chunked body.
    e2 = c.request("GET", "/echo").json()
    expect(e2["conn_id"] == e["conn_id"] and e2["conn_requests"] == 2,
           "reuse after chunked")
    c.close()


@check
def up_keepalive_conn_id(up):
    a = Raw(up.port)
    ids = [a.request("GET", "/echo").json() for _ in range(3)]
    expect(len({x["conn_id"] for x in ids}) == 1, "same conn_id on one socket")
    expect([x["conn_requests"] for x in ids] == [1, 2, 3], "conn_requests")
    b = Raw(up.port)
    other = b.request("GET", "/echo").json()
    expect(other["conn_id"] != ids[0]["conn_id"]
           and other["conn_requests"] == 1, "new socket -> new conn_id")
    a.close()
    b.close()


@check
def up_pipelining(up):
    c = Raw(up.port)
    c.send(b"GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
           b"POST /echo?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
           b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n")
    r1, r2, r3 = c.response().json(), c.response().json(), c.response()
    expect(r1["query"] == "n=1" and r2["query"] == "n=2", "order")
    expect(r2["body_len"] == 3 and r2["conn_requests"] == 2, "second body")
    expect(r3.body == upstream.pattern(0, 10), "third response")
    c.close()


@check
def up_connection_close(up):
    c = Raw(up.port)
    r = c.request("GET", "/echo", [("Connection", "close")])
    expect(r.header("Connection") == "close", "Connection: close echoed")
    expect(c.at_eof(), "server closed")
    c.close()
    # HTTP/1.0: closes by default, stays open with keep-alive.
    c = Raw(up.port)
    c.send(b"GET /echo HTTP/1.0\r\n\r\n")
    r = c.response()
    expect(r.status == 200 and c.at_eof(), "HTTP/1.0 closes")
    c.close()
    c = Raw(up.port)
    c.send(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = c.response()
    expect(r.header("Connection") == "keep-alive", "1.0 keep-alive")
    c.send(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    expect(c.response().json()["conn_requests"] == 2, "1.0 reuse")
    c.close()


@check
def up_expect_continue(up):
    c = Raw(up.port)
    c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           b"Content-Length: 5\r\n\r\n")
    interim = c.response()
    expect(interim.status == 100, f"interim {interim.status}")
    c.send(b"hello")
    r = c.response()
    expect(r.status == 200 and r.json()["body_len"] == 5, "final response")
    c.close()


@check
def up_bytes(up):
    c = Raw(up.port)
    for n in (0, 1, 251, 252, 3_000_000):
        r = c.request("GET", f"/bytes/{n}")
        expect(r.framing == "length" and r.header("Content-Length") == str(n),
               f"framing for {n}")
        expect(sha(r.body) == upstream.pattern_sha256(n), f"content for {n}")
    expect(r.body[:3] == b"\x00\x01\x02" and r.body[251] == 0, "pattern")
    r = c.request("HEAD", "/bytes/1000")
    expect(r.header("Content-Length") == "1000" and r.body == b"", "HEAD")
    expect(c.request("GET", "/echo").json()["conn_requests"] == 7,
           "connection in sync after HEAD")
    c.close()


@check
def up_chunked(up):
    c = Raw(up.port)
    n = 1_000_000
    r = c.request("GET", f"/chunked/{n}")
    expect(r.framing == "chunked" and r.header("Content-Length") is None,
           "chunked framing")
    expect(sha(r.body) == upstream.pattern_sha256(n), "content")
    expect(len(set(r.chunks)) >= 8 and 1 in r.chunks and 65536 in r.chunks,
           f"varied chunk sizes {sorted(set(r.chunks))}")
    r = c.request("GET", "/chunked/300?ext=1&trailer=1")
    expect(all(e == "ext=1" for e in r.exts), "extensions")
    expect(r.trailers == [("X-Upstream-Trailer", "done")], "trailer")
    r = c.request("GET", "/chunked/0")
    expect(r.framing == "chunked" and r.body == b"", "empty chunked")
    c.close()


@check
def up_close_delimited(up):
    c = Raw(up.port)
    n = 500_000
    r = c.request("GET", f"/close/{n}")
    expect(r.framing == "close" and r.header("Connection") == "close",
           "close-delimited framing")
    expect(sha(r.body) == upstream.pattern_sha256(n), "content")
    c.close()


@check
def up_status(up):
    c = Raw(up.port)
    for code in (204, 304):
        r = c.request("GET", f"/status/{code}")
        expect(r.status == code and r.body == b""
               and r.header("Content-Length") is None, f"{code} without body")
    for code in (200, 418, 503):
        r = c.request("GET", f"/status/{code}")
        expect(r.status == code and r.json() == {"status": code}, f"{code}")
    expect(c.request("GET", "/echo").json()["conn_requests"] == 6,
           "in sync after bodiless responses")
    r = c.request("GET", "/status/99")
    expect(r.status == 400, "1xx refused")
    c.close()


@check
def up_slow(up):
    c = Raw(up.port)
    t0 = time.monotonic()
    r = c.request("GET", "/slow/300")
    expect(time.monotonic() - t0 >= 0.3 and r.json() == {"slept_ms": 300},
           "waited before answering")
    c.close()
    # A client read timeout fires while the upstream is still waiting.
    c = Raw(up.port, timeout=0.1)
    try:
        c.request("GET", "/slow/1000")
        raise AssertionError("expected a read timeout")
    except TimeoutError:
        pass
    c.close()
    # stage=body: headers and part of the body arrive before the delay.
    c = Raw(up.port, timeout=0.15)
    c.send(b"GET /slow/500?stage=body HTTP/1.1\r\nHost: x\r\n\r\n")
    head = c._line()
    expect(head.startswith(b"HTTP/1.1 200"), "headers before the delay")
    c.close()


@check
def up_drop(up):
    c = Raw(up.port)
    c.send(b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(c.at_eof(), "closed without a response")
    c.close()
    c = Raw(up.port)
    c.send(b"GET /drop?rst=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = c.sock.recv(10)
        expect(data == b"", "no response bytes")
    except ConnectionResetError:
        pass
    c.close()


@check
def up_sink(up):
    body = random.Random(3).randbytes(8 << 20)
    c = Raw(up.port)
    c.send(b"PUT /sink HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
           % len(body))
    for off in range(0, len(body), 65536):
        c.send(body[off:off + 65536])
    e = c.response().json()
    expect(e == {"body_len": len(body), "body_sha256": sha(body)}, "PUT")
    small = body[:1 << 20]
    c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
           b"\r\n\r\n" + chunk_encode(small, (5000, 1, 77777)) + b"0\r\n\r\n")
    e = c.response().json()
    expect(e == {"body_len": len(small), "body_sha256": sha(small)},
           "POST chunked")
    r = c.request("GET", "/sink")
    expect(r.status == 405 and r.header("Allow") == "POST, PUT", "GET 405")
    c.close()


@check
def up_headers(up):
    c = Raw(up.port)
    e = c.request("POST", "/headers", [("X-Test", "a")], b"ignored").json()
    expect("body_len" not in e and ["X-Test", "a"] in e["headers"],
           "headers only")
    expect(c.request("GET", "/echo").json()["conn_requests"] == 2,
           "body consumed")
    c.close()


@check
def up_errors(up):
    cases = [
        (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, False),
        (b"GET /echo HTTP/1.1\nHost: x\n\n", 400, True),
        (b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505, True),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
         b"Content-Length: 2\r\n\r\nab", 400, True),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
         400, True),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
         400, True),
        (b"GET /echo HTTP/1.1\r\nHost : x\r\n\r\n", 400, True),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
         b"\r\nzz\r\n", 400, True),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000
         + b"\r\n\r\n", 431, True),
    ]
    for raw, status, closes in cases:
        c = Raw(up.port)
        c.send(raw)
        r = c.response()
        expect(r.status == status, f"{raw[:40]!r}: {r.status} != {status}")
        if closes:
            expect(c.at_eof(), f"{raw[:40]!r}: connection closed")
        c.close()


def make_cert() -> tuple | None:
    """Self-signed certificate for 127.0.0.1, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = TMP / "cert.pem", TMP / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def up_tls(tls_up, cert):
    ctx = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection("127.0.0.1", tls_up.port,
                                       timeout=SOCK_TIMEOUT, context=ctx)
    conn.request("POST", "/echo", body=b"x" * 1000)
    e = json.loads(conn.getresponse().read())
    sock = conn.sock
    conn.request("GET", "/echo")
    e2 = json.loads(conn.getresponse().read())
    expect(e["tls"] and e["body_len"] == 1000, "TLS echo")
    expect(conn.sock is sock and e2["conn_id"] == e["conn_id"]
           and e2["conn_requests"] == 2, "TLS keep-alive")
    conn.close()
    c = Raw(tls_up.port, tls=ctx)
    r = c.request("GET", "/close/100000")
    expect(r.framing == "close"
           and sha(r.body) == upstream.pattern_sha256(100000),
           "TLS close-delimited body")
    c.close()


# -- demo API -----------------------------------------------------------------

DEMO = {}     # filled by demo_paging: records in API order


def demo_get(conn: http.client.HTTPConnection, target: str):
    conn.request("GET", target)
    resp = conn.getresponse()
    body = resp.read()
    return resp, body


@check
def demo_healthz_and_keepalive(demo):
    conn = http.client.HTTPConnection("127.0.0.1", demo.port,
                                      timeout=SOCK_TIMEOUT)
    resp, body = demo_get(conn, "/healthz")
    expect(resp.status == 200 and body == b"ok\n"
           and resp.getheader("Content-Length") == "3", "healthz")
    sock = conn.sock
    for target in ("/api/penduduk?per_page=5", "/nope", "/api/penduduk/1"):
        resp, body = demo_get(conn, target)
        expect(resp.getheader("Content-Length") == str(len(body)),
               f"Content-Length on {target}")
        expect(resp.getheader("Content-Type").startswith("application/json"),
               "JSON content type")
    expect(conn.sock is sock, "one connection for all requests")
    conn.close()


@check
def demo_paging(demo):
    conn = http.client.HTTPConnection("127.0.0.1", demo.port,
                                      timeout=SOCK_TIMEOUT)
    records = []
    page = 1
    while True:
        resp, body = demo_get(conn, f"/api/penduduk?page={page}&per_page=1000")
        doc = json.loads(body)
        expect(resp.status == 200 and doc["page"] == page
               and doc["per_page"] == 1000, "page fields")
        expect(doc["total"] == DEMO_RECORDS, f"total {doc['total']}")
        if not doc["data"]:
            break
        records += doc["data"]
        page += 1
    expect(len(records) == DEMO_RECORDS and page == 11, "all records paged")
    expect(len({r["nik"] for r in records}) == DEMO_RECORDS, "unique NIKs")
    expect(all(list(r) == list(pii_gen.FIELDS) for r in records),
           "field names and order")
    doc = json.loads(demo_get(conn, "/api/penduduk")[1])
    expect(doc["per_page"] == 50 and len(doc["data"]) == 50
           and doc["data"] == records[:50], "default page")
    DEMO["records"] = records
    conn.close()


@check
def demo_filter(demo):
    records = DEMO["records"]
    conn = http.client.HTTPConnection("127.0.0.1", demo.port,
                                      timeout=SOCK_TIMEOUT)
    code = records[123]["kode_wilayah"]
    totals = []
    for n in (2, 4, 6):
        prefix = code[:n]
        resp, body = demo_get(
            conn, f"/api/penduduk?kode_wilayah={prefix}&per_page=1000")
        doc = json.loads(body)
        want = [r for r in records if r["kode_wilayah"].startswith(prefix)]
        expect(doc["total"] == len(want) and doc["data"] == want[:1000],
               f"filter {prefix}")
        totals.append(doc["total"])
    expect(totals[0] >= totals[1] >= totals[2] >= 1, f"totals {totals}")
    doc = json.loads(demo_get(conn, "/api/penduduk?kode_wilayah=99")[1])
    expect(doc["total"] == sum(r["kode_wilayah"].startswith("99")
                               for r in records), "other province")
    for q in ("kode_wilayah=317", "kode_wilayah=abcd", "kode_wilayah=",
              "per_page=1001", "per_page=0", "page=0", "page=x",
              "kode_wilayah=31711234"):
        resp, body = demo_get(conn, f"/api/penduduk?{q}")
        expect(resp.status == 400 and "error" in json.loads(body),
               f"400 for {q}")
    conn.close()


@check
def demo_lookup(demo):
    records = DEMO["records"]
    conn = http.client.HTTPConnection("127.0.0.1", demo.port,
                                      timeout=SOCK_TIMEOUT)
    for rec in records[::997]:
        resp, body = demo_get(conn, f"/api/penduduk/{rec['nik']}")
        expect(resp.status == 200 and json.loads(body) == rec,
               f"lookup {rec['nik']}")
    known = {r["nik"] for r in records}
    missing = next(n for n in ("3171015708450001", "3171015708450002")
                   if n not in known)
    resp, body = demo_get(conn, f"/api/penduduk/{missing}")
    expect(resp.status == 404 and json.loads(body) == {"error": "not found"},
           "unknown NIK 404")
    for bad in ("123", "31710157084500011", "317101570845000x", "%20"):
        resp, body = demo_get(conn, f"/api/penduduk/{bad}")
        expect(resp.status == 400, f"400 for {bad}")
    conn.close()


@check
def demo_export_csv(demo):
    records = DEMO["records"]
    c = Raw(demo.port)
    r = c.request("GET", "/api/penduduk/export.csv")
    expect(r.status == 200 and r.framing == "chunked"
           and r.header("Content-Length") is None, "chunked export")
    expect(len(r.chunks) > 10, f"streamed in {len(r.chunks)} chunks")
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
    expect(tuple(rows[0]) == pii_gen.FIELDS, f"header {rows[0]}")
    want = [["" if rec[f] is None else rec[f] for f in pii_gen.FIELDS]
            for rec in records]
    expect(rows[1:] == want, "CSV rows equal the JSON records")
    code = records[0]["kode_wilayah"][:4]
    r = c.request("GET", f"/api/penduduk/export.csv?kode_wilayah={code}")
    n = sum(rec["kode_wilayah"].startswith(code) for rec in records)
    expect(r.body.count(b"\r\n") == n + 1, "filtered export")
    expect(c.request("GET", "/healthz").body == b"ok\n",
           "connection reusable after export")
    r = c.request("GET", "/api/penduduk/export.csv?kode_wilayah=1")
    expect(r.status == 400, "bad filter on export")
    c.close()


@check
def demo_methods_and_404(demo):
    c = Raw(demo.port)
    r = c.request("POST", "/api/penduduk", body=b'{"nik":"1"}')
    expect(r.status == 405 and r.header("Allow") == "GET"
           and r.json() == {"error": "method not allowed"}, "POST 405")
    r = c.request("DELETE", "/api/penduduk/3171015708450001")
    expect(r.status == 405 and r.header("Allow") == "GET", "DELETE 405")
    r = c.request("GET", "/nope")
    expect(r.status == 404 and r.json() == {"error": "not found"}, "404")
    expect(c.request("GET", "/healthz").status == 200,
           "connection in sync after a drained body")
    c.close()


@check
def demo_records_valid(demo):
    records = DEMO["records"]
    regions = pii_gen.load_regions()
    current = {code for code, _ in regions.current}
    npwp_old_re = re.compile(r"\d\d\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}")
    forms = {"0": 0, "62": 0, "+62": 0}
    npwp_kinds = {"old": 0, "nik": 0, "none": 0}
    for r in records:
        nik = r["nik"]
        expect(pii_gen.is_valid_nik(nik, regions), f"NIK {nik}")
        expect(nik[:6] in current and r["kode_wilayah"] in current,
               f"current district {nik}")
        expect(pii_gen.is_valid_kk(r["no_kk"], regions)
               and r["no_kk"][:6] == r["kode_wilayah"], f"KK {r['no_kk']}")
        f = pii_gen.parse_nik(nik)
        y, m, d = (int(x) for x in r["tanggal_lahir"].split("-"))
        expect((f["day"], f["month"], f["yy"]) == (d, m, y % 100),
               f"birth date {nik} {r['tanggal_lahir']}")
        expect(r["jenis_kelamin"] == ("PEREMPUAN" if f["female"]
                                      else "LAKI-LAKI"), f"gender {nik}")
        npwp = r["npwp"]
        if npwp is None:
            npwp_kinds["none"] += 1
        elif npwp == nik:
            npwp_kinds["nik"] += 1
        else:
            expect(npwp_old_re.fullmatch(npwp)
                   and pii_gen.is_valid_npwp_old(npwp), f"NPWP {npwp}")
            npwp_kinds["old"] += 1
        hp = r["no_hp"]
        if hp is not None:
            expect(pii_gen.is_valid_phone(hp), f"phone {hp}")
            forms["+62" if hp[0] == "+" else hp[:2].replace("08", "0")] += 1
        if r["email"] is not None:
            expect(pii_gen.is_valid_email(r["email"])
                   and r["email"].split("@")[1] in pii_gen.EMAIL_DOMAINS,
                   f"email {r['email']}")
        expect(r["nama"] and r["nama"] == r["nama"].upper(), "name")
    expect(all(v > 100 for v in forms.values()), f"phone forms {forms}")
    expect(all(v > 100 for v in npwp_kinds.values()), f"npwp {npwp_kinds}")
    kk_sizes = {}
    for r in records:
        kk_sizes[r["no_kk"]] = kk_sizes.get(r["no_kk"], 0) + 1
    expect(sum(v > 1 for v in kk_sizes.values()) > 1000,
           "families share a KK")


@check
def demo_deterministic(demo):
    regions = pii_gen.load_regions()
    t0 = time.perf_counter()
    again = pii_gen.generate_population(DEMO_RECORDS, DEMO_SEED, regions)
    ms = (time.perf_counter() - t0) * 1000
    expect(again == DEMO["records"], "same seed -> same data as the API")
    other = pii_gen.generate_population(50, DEMO_SEED + 1, regions)
    expect(other != again[:50], "another seed -> other data")
    print(f"     info: {DEMO_RECORDS} records generated in {ms:.0f} ms")


@check
def validators_accept_and_reject():
    regions = pii_gen.load_regions()
    good_nik = "3171015708450001"          # spec / python-stdnum example
    expect(pii_gen.is_valid_nik(good_nik, regions), "spec example NIK")
    expect(pii_gen.is_valid_nik("31.7101.570845.0001"), "separators")
    bad_niks = {
        "day 32": "3171013208450001", "day 00": "3171010008450001",
        "day 72": "3171017208450001", "month 13": "3171011713450001",
        "month 00": "3171011700450001", "serial 0000": "3171015708450000",
        "province 20": "2071015708450001", "province 00": "0071015708450001",
        "regency 70": "3170015708450001", "district 00": "3171005708450001",
        "30 Feb": "3171013002450001", "29 Feb 2001": "3171012902010001",
        "15 digits": "317101570845000", "letters": "31710157084500O1",
        "not in table": "3171995708450001",
    }
    for why, nik in bad_niks.items():
        regs = regions if why == "not in table" else None
        expect(not pii_gen.is_valid_nik(nik, regs), f"NIK {why} rejected")
    expect(pii_gen.is_valid_nik("3171012902000001"), "29 Feb 2000 accepted")
    expect(not pii_gen.is_valid_kk(good_nik), "KK day > 31 rejected")
    expect(pii_gen.is_valid_kk("3171011708450001"), "KK accepted")
    expect(pii_gen.is_valid_npwp_old("01.312.166.0-091.000"), "stdnum NPWP")
    expect(pii_gen.is_valid_npwp_old("013121660091000"), "plain NPWP")
    for why, npwp in {"bad Luhn": "01.451.869.7-054.000",
                      "bad Luhn 2": "01.312.166.1-091.000",
                      "serial 000000": "01.000.000.1-091.000",
                      "14 digits": "01.312.166.0-091.00"}.items():
        expect(not pii_gen.is_valid_npwp_old(npwp), f"NPWP {why} rejected")
    expect(pii_gen.luhn_check_digit("12345678") == "2", "Luhn example")
    expect(pii_gen.luhn_valid("4111111111111111")
           and not pii_gen.luhn_valid("4111111111111112"), "Luhn PAN")
    for p in ("081234567890", "+6281234567890", "6281234567890",
              "0812-3456-7890", "+62 812-3456-7890", "(+62) 812-3456-7890",
              "0811234567"):
        expect(pii_gen.is_valid_phone(p), f"phone {p} accepted")
    for p in ("0841234567890", "0212345678", "081234567", "08123456789012",
              "+6512345678", "62081234567890", "0879123456789", "+62-ab",
              "1812345678"):
        expect(not pii_gen.is_valid_phone(p), f"phone {p} rejected")
    expect(pii_gen.is_valid_phone("0879123456789", strict=False),
           "0879 accepted in loose mode")


@check
def generators_roundtrip():
    rng = random.Random(7)
    for regions in (pii_gen.load_regions(), pii_gen.fallback_regions()):
        for _ in range(2000):
            expect(pii_gen.is_valid_nik(pii_gen.make_nik(rng, regions=regions),
                                        regions), "make_nik")
            expect(pii_gen.is_valid_kk(pii_gen.make_kk(rng, regions=regions),
                                       regions), "make_kk")
            expect(pii_gen.is_valid_npwp_old(pii_gen.make_npwp_old(rng)),
                   "make_npwp_old")
            expect(pii_gen.is_valid_npwp_old(pii_gen.make_npwp_old(rng, False)),
                   "make_npwp_old plain")
            expect(pii_gen.is_valid_phone(pii_gen.make_phone(rng)),
                   "make_phone")
    nik = pii_gen.make_nik(rng, True)
    expect(int(nik[6:8]) > 40, "female day + 40")


@check
def fallback_regions_real():
    fb = pii_gen.load_regions("/nonexistent/regions.tsv")
    expect(fb.source == "builtin fallback" and len(fb) >= 30,
           "fallback used when the file is missing")
    full = pii_gen.load_regions()
    if full.source != "builtin fallback":
        current = {code for code, _ in full.current}
        expect(set(fb.districts) <= current,
               "every fallback district is a current district in regions.tsv")
        for regency, name in fb.regency_names.items():
            expect(full.regency_names[regency] == name, f"name of {regency}")
    people = pii_gen.generate_population(500, 3, fb)
    expect(all(p["nik"][:6] in fb for p in people), "generation on fallback")


def help_flags():
    for script in (HERE / "upstream.py", DEMO_DIR / "demo_api.py"):
        out = subprocess.run([sys.executable, str(script), "--help"],
                             capture_output=True, timeout=10, text=True)
        expect(out.returncode == 0 and "--listen" in out.stdout
               and "--port-file" in out.stdout, f"{script.name} --help")


def clean_shutdown(servers):
    for s in servers:
        rc = s.stop()     # SIGTERM; SIGKILL (rc -9) if it hangs for 5 s
        expect(rc == 0, f"{s.name} exit status {rc} after SIGTERM")
        out = s.log_path.read_text(errors="replace")
        expect("Traceback" not in out, f"{s.name} logged a traceback:\n{out}")


# ---------------------------------------------------------------------------


def main() -> int:
    timer = threading.Timer(WATCHDOG, watchdog)
    timer.daemon = True
    timer.start()
    t0 = time.monotonic()
    servers = []
    try:
        up = Server("upstream", HERE / "upstream.py")
        demo = Server("demo", DEMO_DIR / "demo_api.py", "--seed",
                      str(DEMO_SEED), "--records", str(DEMO_RECORDS))
        servers = [up, demo]
        cert = make_cert()
        tls_up = None
        if cert is not None:
            tls_up = Server("upstream-tls", HERE / "upstream.py",
                            "--tls-cert", str(cert[0]),
                            "--tls-key", str(cert[1]))
            servers.append(tls_up)
        for fn in CHECKS:
            if fn.__name__.startswith("up_"):
                run_check(fn, up)
            elif fn.__name__.startswith("demo_"):
                run_check(fn, demo)
            else:
                run_check(fn)
        if tls_up is not None:
            run_check(up_tls, tls_up, cert[0])
        else:
            print("SKIP up_tls: openssl not found")
        run_check(help_flags)
        run_check(clean_shutdown, servers)
    except Exception as e:  # noqa: BLE001 (a server failed to start)
        with REPORT_LOCK:
            RESULTS["failed"] += 1
            print(f"FAIL setup: {e}", flush=True)
    finally:
        timer.cancel()
    with REPORT_LOCK:
        kill_all()
        shutil.rmtree(TMP, ignore_errors=True)
        print(f"     total {time.monotonic() - t0:.1f} s")
        print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed",
              flush=True)
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
