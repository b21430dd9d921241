#!/usr/bin/env python3
"""Test upstream for gerbang's gateway integration tests.

A threaded HTTP/1.1 server on raw sockets, so that message framing is exactly
what this file says and not what a library chose: requests are parsed
strictly (CRLF line ends, token header names, no obs-fold, consistent
Content-Length, chunked decoded by hand) and responses are written byte by
byte as documented below.  Optional TLS (--tls-cert/--tls-key).

Endpoints (N is a decimal byte count, at most 1 GiB):

  /echo            any method: 200 JSON describing the request:
                   method, target, path, query (raw, undecoded), version,
                   headers [[name, value], ...] exactly as received and in
                   order (bytes decoded as ISO-8859-1), trailers (chunked
                   requests), body_len, body_sha256, conn_id (per TCP
                   connection, counting from 1), conn_requests (requests
                   served on this connection including this one), tls, client
  /headers         as /echo without the body fields (the body is consumed)
  /bytes/N         N bytes of pattern() with Content-Length, 64 KiB writes
  /chunked/N       N bytes of pattern() with Transfer-Encoding: chunked in
                   varied chunk sizes (CHUNK_SIZES); ?ext=1 adds a chunk
                   extension to every size line, ?trailer=1 sends a trailer
  /close/N         N bytes of pattern(), no Content-Length, Connection: close;
                   the body ends when the connection closes
  /overrun/N       as /bytes/N, then OVERRUN: bytes that belong to no
                   response, sent with the end of the body (N <= 64 KiB:
                   head, body and OVERRUN in one write); the connection
                   stays open
  /status/CODE     that status (200-599) with a small JSON body; 204 and 304
                   have no body
  /slow/MS         waits MS milliseconds (max 600000), then answers 200 JSON;
                   ?stage=body sends the headers and half the body first and
                   waits before the rest; ?stage=head sends the headers
                   alone first and waits before the whole body
  /drop            reads the request, then closes without answering
                   (?rst=1 closes with a TCP reset)
  /sink            POST/PUT: reads the body in 4 KiB reads and answers JSON
                   {"body_len", "body_sha256"}
  anything else    404 JSON

Connections are persistent for HTTP/1.1 unless the request says
"Connection: close" (HTTP/1.0 only with "Connection: keep-alive").  A
request with a body and "Expect: 100-continue" gets "100 Continue" first.
HEAD gets the headers a GET would get, without the body.  Malformed requests
get 400 (431 for oversized headers, 505 for other HTTP versions) and the
connection is closed.

The body pattern is ``pattern(offset, size)``: byte i is ``i % 251``; import
this module to compute expected content or digests.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import selectors
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from http import HTTPStatus

MAX_LINE = 16 * 1024          # request line, header line or chunk-size line
MAX_HEADER_BYTES = 64 * 1024  # the whole header block
MAX_HEADERS = 200
MAX_N = 1 << 30               # /bytes, /chunked, /close size limit
WRITE_SIZE = 64 * 1024
OVERRUN = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"   # /overrun
SINK_READ = 4 * 1024
LINGER_SECONDS = 2.0          # see Connection.close()
CHUNK_SIZES = (1, 7, 100, 4096, 65536, 13, 1000, 32768, 2, 16384, 517, 60000)

PERIOD = 251
_PATTERN = bytes(i % PERIOD for i in range(WRITE_SIZE + PERIOD))

_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_VERSION_RE = re.compile(rb"HTTP/([0-9])\.([0-9])")
_HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_NUM_RE = re.compile(r"/([a-z]+)/([0-9]{1,10})")


def pattern(offset: int, size: int) -> bytes:
    """Return ``size`` bytes of the body pattern starting at ``offset``.

    Byte i of every generated body is ``i % 251``; ``size`` is at most
    64 KiB per call.
    """
    if size > WRITE_SIZE:
        raise ValueError("pattern() returns at most 64 KiB per call")
    start = offset % PERIOD
    return _PATTERN[start:start + size]


def pattern_sha256(n: int) -> str:
    """SHA-256 hex digest of the first ``n`` pattern bytes."""
    h = hashlib.sha256()
    for off in range(0, n, WRITE_SIZE):
        h.update(pattern(off, min(WRITE_SIZE, n - off)))
    return h.hexdigest()


class BadRequest(Exception):
    """A malformed request: answered with ``status`` and a close."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class PeerClosed(Exception):
    """The client closed the connection (or reset it)."""


class Request:
    """A parsed request head; the body is read through Connection."""

    __slots__ = ("method", "target", "path", "query", "version", "headers",
                 "body_kind", "body_left", "trailers", "keep_alive",
                 "expect_continue", "close_after")

    def header(self, name: str) -> list:
        """All values of a header (case-insensitive), in order."""
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]


class Connection:
    """One client connection: buffered reads, strict parsing, writes."""

    def __init__(self, server: "Upstream", sock: socket.socket, conn_id: int,
                 client: tuple):
        self.server = server
        self.sock = sock
        self.conn_id = conn_id
        self.client = client
        self.requests = 0
        self.buf = bytearray()
        self.tls = isinstance(sock, ssl.SSLSocket)
        self.closed = False

    # -- reading ----------------------------------------------------------

    def _fill(self, size: int = 65536) -> None:
        try:
            data = self.sock.recv(size)
        except (ConnectionResetError, ssl.SSLEOFError) as e:
            raise PeerClosed() from e
        if not data:
            raise PeerClosed()
        self.buf += data

    def _readline(self, what: str, status: int = 400) -> bytes:
        """Return one CRLF-terminated line without its CRLF."""
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                break
            if len(self.buf) > MAX_LINE:
                raise BadRequest(f"{what} too long", status)
            start = len(self.buf)
            self._fill()
        if i > MAX_LINE:
            raise BadRequest(f"{what} too long", status)
        if i == 0 or self.buf[i - 1] != 0x0D:
            raise BadRequest(f"{what} not terminated by CRLF")
        line = bytes(self.buf[:i - 1])
        del self.buf[:i + 1]
        return line

    def _read_some(self, limit: int) -> bytes:
        """Return 1..limit bytes; an empty buffer is refilled by one recv of
        at most ``limit`` bytes, so small limits really mean small reads."""
        if not self.buf:
            self._fill(limit)
        data = bytes(self.buf[:limit])
        del self.buf[:len(data)]
        return data

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_head(self) -> Request | None:
        """Parse a request head; None on a clean close between requests."""
        # RFC 9112 2.2: ignore at least one empty line before a request.
        while True:
            try:
                if not self.buf:
                    self._fill()
            except PeerClosed:
                return None
            if self.buf.startswith(b"\r\n"):
                del self.buf[:2]
                continue
            break
        line = self._readline("request line", 414)
        parts = line.split(b" ")
        if len(parts) != 3 or not _TOKEN_RE.fullmatch(parts[0]) \
                or not _TARGET_RE.fullmatch(parts[1]):
            raise BadRequest("malformed request line")
        vm = _VERSION_RE.fullmatch(parts[2])
        if not vm:
            raise BadRequest("malformed HTTP version")
        if vm.group(0) not in (b"HTTP/1.0", b"HTTP/1.1"):
            raise BadRequest("unsupported HTTP version", 505)

        req = Request()
        req.method = parts[0].decode("ascii")
        req.target = parts[1].decode("ascii")
        req.version = parts[2].decode("ascii")
        path, sep, query = req.target.partition("?")
        req.path, req.query = path, query
        req.trailers = []
        req.headers = self._read_fields("header")

        conn_tokens = {t.strip().lower() for v in req.header("connection")
                       for t in v.split(",")}
        if req.version == "HTTP/1.1":
            req.keep_alive = "close" not in conn_tokens
        else:
            req.keep_alive = "keep-alive" in conn_tokens \
                and "close" not in conn_tokens
        req.close_after = False

        te = req.header("transfer-encoding")
        cl = req.header("content-length")
        if te:
            codings = [c.strip().lower() for v in te for c in v.split(",")]
            if req.version != "HTTP/1.1" or codings[-1] != "chunked":
                raise BadRequest("unsupported transfer-encoding")
            req.body_kind, req.body_left = "chunked", 0
            if cl:   # RFC 9112 6.3: TE wins, and the connection must close
                req.close_after = True
        elif cl:
            values = {x.strip() for v in cl for x in v.split(",")}
            if len(values) != 1:
                raise BadRequest("conflicting content-length")
            value = values.pop()
            if not value.isascii() or not value.isdigit() or len(value) > 18:
                raise BadRequest("malformed content-length")
            req.body_kind, req.body_left = "length", int(value)
        else:
            req.body_kind, req.body_left = "length", 0
        has_body = req.body_kind == "chunked" or req.body_left > 0
        req.expect_continue = has_body and req.version == "HTTP/1.1" and any(
            v.strip().lower() == "100-continue" for v in req.header("expect"))
        return req

    def _read_fields(self, what: str) -> list:
        """Read header (or trailer) lines up to the empty line."""
        fields = []
        total = 0
        while True:
            line = self._readline(f"{what} line", 431)
            if not line:
                return fields
            total += len(line) + 2
            if total > MAX_HEADER_BYTES or len(fields) >= MAX_HEADERS:
                raise BadRequest(f"{what}s too large", 431)
            if line[:1] in (b" ", b"\t"):
                raise BadRequest("obsolete line folding")
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN_RE.fullmatch(name):
                raise BadRequest(f"malformed {what} field")
            value = value.strip(b" \t")
            if b"\r" in value or b"\n" in value or b"\x00" in value:
                raise BadRequest(f"invalid character in {what} value")
            fields.append([name.decode("latin-1"), value.decode("latin-1")])

    def body(self, req: Request, read_size: int):
        """Yield the request body in pieces of at most ``read_size`` bytes."""
        if req.expect_continue:
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req.expect_continue = False
        if req.body_kind == "length":
            while req.body_left > 0:
                data = self._read_some(min(read_size, req.body_left))
                req.body_left -= len(data)
                yield data
            return
        while True:
            line = self._readline("chunk-size line")
            size_part = line.split(b";", 1)[0].rstrip(b" \t")
            if not _HEX_RE.fullmatch(size_part):
                raise BadRequest("malformed chunk size")
            left = int(size_part, 16)
            if left == 0:
                req.trailers = self._read_fields("trailer")
                req.body_kind, req.body_left = "length", 0
                return
            while left > 0:
                data = self._read_some(min(read_size, left))
                left -= len(data)
                yield data
            if self._read_exact(2) != b"\r\n":
                raise BadRequest("chunk data not followed by CRLF")

    def consume(self, req: Request, read_size: int = 65536) -> tuple:
        """Read the whole body; return (length, sha256 hex)."""
        h = hashlib.sha256()
        n = 0
        for piece in self.body(req, read_size):
            h.update(piece)
            n += len(piece)
        return n, h.hexdigest()

    # -- writing ----------------------------------------------------------

    def send_head(self, req: Request | None, status: int, headers: list,
                  close: bool, more: bytes = b"") -> None:
        """Write a status line and headers (Date, Server, Connection added),
        and `more` in the same write."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}",
                 "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                          time.gmtime()),
                 "Server: gerbang-test-upstream"]
        lines += [f"{n}: {v}" for n, v in headers]
        if close:
            lines.append("Connection: close")
        elif req is not None and req.version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") +
                          more)

    def send_full(self, req: Request | None, status: int, body: bytes,
                  ctype: str, close: bool, extra: list = ()) -> None:
        """Send a complete response with Content-Length (none for 204/304)."""
        headers = list(extra)
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            headers[:0] = [("Content-Type", ctype),
                           ("Content-Length", str(len(body)))]
        self.send_head(req, status, headers, close)
        if body and (req is None or req.method != "HEAD"):
            self.sock.sendall(body)

    def send_json(self, req, status: int, obj, close: bool,
                  extra: list = ()) -> None:
        body = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.send_full(req, status, body, "application/json", close, extra)

    # -- the connection loop -----------------------------------------------

    def run(self) -> None:
        try:
            while True:
                try:
                    req = self.read_head()
                except BadRequest as e:
                    self.send_json(None, e.status, {"error": str(e)}, True)
                    return
                if req is None:
                    return
                self.requests += 1
                try:
                    keep = self.server.dispatch(self, req)
                except BadRequest as e:
                    self.send_json(req, e.status, {"error": str(e)}, True)
                    return
                self.server.log(f"conn {self.conn_id} #{self.requests} "
                                f"{req.method} {req.target}")
                if not keep:
                    return
        except (PeerClosed, ConnectionError, TimeoutError, ssl.SSLError):
            pass
        except OSError as e:
            self.server.log(f"conn {self.conn_id}: {e}")
        finally:
            self.close()

    def close(self, reset: bool = False) -> None:
        """Close the connection: gracefully, or with a TCP reset.

        A graceful close sends TLS close_notify (so a close-delimited body
        ends authentically), then FIN, then reads and discards what the
        client still sends for a moment (a "lingering close"): closing a
        socket with unread input makes the kernel send RST, which can
        destroy a response the client has not read yet.
        """
        if self.closed:
            return
        self.closed = True
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            else:
                self.sock.settimeout(LINGER_SECONDS)
                if self.tls:
                    try:
                        self.sock = self.sock.unwrap()
                    except (OSError, ValueError):
                        pass
                self.sock.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + LINGER_SECONDS
                drained = 0
                while time.monotonic() < deadline and drained < (1 << 20):
                    data = self.sock.recv(65536)
                    if not data:
                        break
                    drained += len(data)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class Upstream:
    """The listening socket, the accept loop and the endpoint handlers."""

    def __init__(self, sock: socket.socket, tls: ssl.SSLContext | None,
                 idle_timeout: float, quiet: bool):
        self.listener = sock
        self.tls = tls
        self.idle_timeout = idle_timeout
        self.quiet = quiet
        self._ids = 0
        self._lock = threading.Lock()

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(f"upstream: {msg}", file=sys.stderr, flush=True)

    def serve(self, stop: threading.Event) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ)
        while not stop.is_set():
            if not sel.select(0.2):
                continue
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            with self._lock:
                self._ids += 1
                conn_id = self._ids
            threading.Thread(target=self._start, args=(sock, addr, conn_id),
                             name=f"conn-{conn_id}", daemon=True).start()
        sel.close()

    def _start(self, sock: socket.socket, addr: tuple, conn_id: int) -> None:
        sock.setblocking(True)
        sock.settimeout(self.idle_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError) as e:
                self.log(f"conn {conn_id}: TLS handshake failed: {e}")
                sock.close()
                return
        Connection(self, sock, conn_id, addr[:2]).run()

    # -- endpoints ----------------------------------------------------------

    def dispatch(self, c: Connection, req: Request) -> bool:
        """Answer one request; return False when the connection must close."""
        close = not req.keep_alive or req.close_after
        path = req.path
        m = _NUM_RE.fullmatch(path)

        if path in ("/echo", "/headers"):
            n, digest = c.consume(req)
            info = {"method": req.method, "target": req.target,
                    "path": req.path, "query": req.query,
                    "version": req.version, "headers": req.headers}
            if path == "/echo":
                info.update(trailers=req.trailers, body_len=n,
                            body_sha256=digest)
            info.update(conn_id=c.conn_id, conn_requests=c.requests,
                        tls=c.tls, client=list(c.client))
            c.send_json(req, 200, info, close)
            return not close

        if path == "/sink":
            if req.method not in ("POST", "PUT"):
                c.consume(req)
                c.send_json(req, 405, {"error": "method not allowed"}, close,
                            [("Allow", "POST, PUT")])
                return not close
            n, digest = c.consume(req, SINK_READ)
            c.send_json(req, 200, {"body_len": n, "body_sha256": digest},
                        close)
            return not close

        if path == "/drop":
            c.consume(req)
            c.close(reset=req.query == "rst=1")
            return False

        if m is None:
            c.consume(req)
            c.send_json(req, 404, {"error": "not found"}, close)
            return not close

        kind, num = m.group(1), int(m.group(2))
        c.consume(req)
        head = req.method == "HEAD"
        if kind in ("bytes", "chunked", "close", "overrun") and num > MAX_N:
            raise BadRequest(f"size above {MAX_N}")

        if kind == "bytes":
            c.send_head(req, 200, [("Content-Type", "application/octet-stream"),
                                   ("Content-Length", str(num))], close)
            if not head:
                for off in range(0, num, WRITE_SIZE):
                    c.sock.sendall(pattern(off, min(WRITE_SIZE, num - off)))
            return not close

        if kind == "overrun":
            # The response and the bytes after it leave in one segment:
            # with the default 16 KiB send buffer a write of more would be
            # cut, and a late tail could reach the gateway after it had
            # rightly pooled the connection as quiet.
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            c.send_head(req, 200, [("Content-Type", "application/octet-stream"),
                                   ("Content-Length", str(num))], close,
                        more=(pattern(0, num) + OVERRUN
                              if not head and num <= WRITE_SIZE else b""))
            if not head and num > WRITE_SIZE:
                off = 0
                while num - off > WRITE_SIZE:
                    c.sock.sendall(pattern(off, WRITE_SIZE))
                    off += WRITE_SIZE
                c.sock.sendall(pattern(off, num - off) + OVERRUN)
            return not close

        if kind == "chunked":
            ext = "ext=1" in req.query.split("&")
            trailer = "trailer=1" in req.query.split("&")
            hdrs = [("Content-Type", "application/octet-stream"),
                    ("Transfer-Encoding", "chunked")]
            if trailer:
                hdrs.append(("Trailer", "X-Upstream-Trailer"))
            c.send_head(req, 200, hdrs, close)
            if head:
                return not close
            off, i = 0, 0
            while off < num:
                size = min(CHUNK_SIZES[i % len(CHUNK_SIZES)], num - off)
                line = b"%x%s\r\n" % (size, b";ext=1" if ext else b"")
                c.sock.sendall(line + pattern(off, size) + b"\r\n")
                off += size
                i += 1
            c.sock.sendall(b"0\r\nX-Upstream-Trailer: done\r\n\r\n" if trailer
                           else b"0\r\n\r\n")
            return not close

        if kind == "close":
            c.send_head(req, 200, [("Content-Type", "application/octet-stream")],
                        True)
            if not head:
                for off in range(0, num, WRITE_SIZE):
                    c.sock.sendall(pattern(off, min(WRITE_SIZE, num - off)))
            return False

        if kind == "status":
            if not 200 <= num <= 599:
                raise BadRequest("status must be 200-599")
            c.send_json(req, num, {"status": num}, close)
            return not close

        if kind == "slow":
            if num > 600000:
                raise BadRequest("at most 600000 ms")
            body = (json.dumps({"slept_ms": num}) + "\n").encode()
            if req.query in ("stage=body", "stage=head"):
                c.send_head(req, 200, [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(body)))],
                            close)
                half = len(body) // 2 if req.query == "stage=body" else 0
                if not head:
                    c.sock.sendall(body[:half])
                time.sleep(num / 1000)
                if not head:
                    c.sock.sendall(body[half:])
            else:
                time.sleep(num / 1000)
                c.send_full(req, 200, body, "application/json", close)
            return not close

        c.send_json(req, 404, {"error": "not found"}, close)
        return not close


def parse_listen(value: str) -> tuple:
    """Parse ``HOST:PORT`` or ``[V6]:PORT`` into (host, port, family)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})", value) or \
        re.fullmatch(r"([^:\[\]]*):([0-9]{1,5})", value)
    if not m or int(m.group(2)) > 65535:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT or [IPV6]:PORT, got {value!r}")
    host = m.group(1) or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return host, int(m.group(2)), family


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="HTTP/1.1 test upstream for gerbang integration tests "
                    "(see the module docstring for the endpoints).")
    ap.add_argument("--listen", default="127.0.0.1:0", type=parse_listen,
                    metavar="HOST:PORT",
                    help="address to listen on; port 0 picks a free port "
                         "(default: %(default)s)")
    ap.add_argument("--port-file", metavar="PATH",
                    help="write the listening port to PATH once listening")
    ap.add_argument("--tls-cert", metavar="PEM",
                    help="serve HTTPS with this certificate chain")
    ap.add_argument("--tls-key", metavar="PEM",
                    help="private key for --tls-cert (default: in the cert file)")
    ap.add_argument("--idle-timeout", type=float, default=30.0, metavar="S",
                    help="close a connection after S seconds without progress "
                         "(default: %(default)s)")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args(argv)
    if args.tls_key and not args.tls_cert:
        ap.error("--tls-key needs --tls-cert")

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.set_alpn_protocols(["http/1.1"])
        try:
            tls.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print(f"upstream: cannot load TLS certificate: {e}", file=sys.stderr)
            return 1

    host, port, family = args.listen
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        print(f"upstream: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    sock.setblocking(False)
    port = sock.getsockname()[1]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    scheme = "https" if tls else "http"
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"upstream: listening on {scheme}://{shown}:{port}/", flush=True)
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)

    Upstream(sock, tls, args.idle_timeout, args.quiet).serve(stop)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
