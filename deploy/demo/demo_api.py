#!/usr/bin/env python3
"""Demo agency API: a synthetic population registry ("data penduduk").

A small HTTP/1.1 JSON API that stands in for an Indonesian government agency
behind gerbang in the quick start and the integration tests.  Every record is
synthetic (see pii_gen.py) but structurally valid: real district codes, NIKs
with the birth date encoded, Luhn-valid old NPWPs, allocated mobile prefixes.

Endpoints (GET only; anything else is 405 with ``Allow: GET``):

  /healthz                               200 "ok"
  /api/penduduk/{nik}                    one record, 404 if unknown, 400 if
                                         the NIK is not 16 digits
  /api/penduduk?kode_wilayah=&page=&per_page=
                                         paged list filtered by a 2, 4 or
                                         6-digit region prefix
  /api/penduduk/export.csv[?kode_wilayah=]
                                         all matching records as CSV,
                                         streamed with chunked encoding

Standard library only (Python 3.11).  Run with --help for the flags.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import signal
import socket
import socketserver
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True      # keep __pycache__ out of the source tree
import pii_gen  # noqa: E402  (sibling module, path set just above)

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 50
#: Request bodies up to this size are read and discarded to keep the
#: connection usable; larger or chunked bodies make us close instead.
MAX_DRAIN = 1 << 20
#: CSV rows are buffered up to about this many bytes per chunk.
CSV_CHUNK = 32 * 1024

_NIK_RE = re.compile(r"[0-9]{16}")
_REGION_RE = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")


class Dataset:
    """The generated records plus lookup indexes (read-only after init)."""

    def __init__(self, records: list):
        self.records = records
        self.by_nik = {r["nik"]: r for r in records}
        # Region prefix (2, 4 or 6 digits) -> records, in generation order.
        self.by_prefix: dict = {}
        for r in records:
            code = r["kode_wilayah"]
            for n in (2, 4, 6):
                self.by_prefix.setdefault(code[:n], []).append(r)

    def select(self, prefix: str | None) -> list:
        """Records whose kode_wilayah starts with ``prefix`` (all if None)."""
        if prefix is None:
            return self.records
        return self.by_prefix.get(prefix, [])


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with the given status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    """Request handler; the server object carries ``dataset`` and ``quiet``."""

    protocol_version = "HTTP/1.1"
    server_version = "demo-penduduk/1.0"
    sys_version = ""
    timeout = 60            # idle keep-alive connections are closed after this
    # Headers and body go out in separate writes; without TCP_NODELAY the
    # second one waits for the client's delayed ACK (~40 ms per response).
    disable_nagle_algorithm = True

    # -- plumbing ---------------------------------------------------------

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 (stdlib signature)
        if not self.server.quiet:
            super().log_message(format, *args)

    def __getattr__(self, name: str):
        # BaseHTTPRequestHandler dispatches to do_<METHOD> and answers 501
        # when it is missing; every method other than GET is a 405 here.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok and self.request_version == "HTTP/0.9":   # "GET /x", no version
            self.send_error(505, "HTTP/0.9 is not supported")
            return False
        return ok

    def send_error(self, code, message=None, explain=None):
        """JSON error body instead of the stdlib HTML page.

        Used by the stdlib for malformed requests (400, 414, 431, 505), after
        which the stream position is unknown, so the connection is closed.
        """
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # The stdlib's default before a version is parsed; it would
            # suppress the status line and headers.
            self.request_version = "HTTP/1.1"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send_json(code, {"error": message or phrase.lower()})

    def _send_json(self, status: int, obj, extra=()) -> None:
        body = json.dumps(obj, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self._connection_header()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _connection_header(self) -> None:
        """Announce a close, or keep-alive to an HTTP/1.0 client that asked."""
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")

    def _drain_body(self) -> None:
        """Consume a request body we do not use, or decide to close.

        Bodies are unexpected on this API, but leaving one unread would make
        its bytes parse as the next request on a keep-alive connection.
        """
        te = self.headers.get("Transfer-Encoding")
        cl = self.headers.get_all("Content-Length") or []
        if te is not None or len(cl) > 1:
            self.close_connection = True
            return
        if not cl:
            return
        if not cl[0].isascii() or not cl[0].isdigit() or int(cl[0]) > MAX_DRAIN:
            self.close_connection = True
            return
        remaining = int(cl[0])
        while remaining > 0:
            data = self.rfile.read(min(remaining, 65536))
            if not data:
                self.close_connection = True
                return
            remaining -= len(data)

    def _method_not_allowed(self) -> None:
        self._drain_body()
        self._send_json(405, {"error": "method not allowed"},
                        extra=(("Allow", "GET"),))

    # -- GET ----------------------------------------------------------------

    def do_GET(self) -> None:
        self._drain_body()
        url = urlsplit(self.path)
        path = url.path
        try:
            query = parse_qs(url.query, keep_blank_values=True,
                             strict_parsing=False, max_num_fields=50)
        except ValueError:
            query = None
        try:
            if query is None:
                raise ApiError(400, "malformed query string")
            if path == "/healthz":
                self._send_text(200, "ok\n")
            elif path == "/api/penduduk":
                self._list(query)
            elif path == "/api/penduduk/export.csv":
                self._export(query)
            elif path.startswith("/api/penduduk/"):
                self._one(path[len("/api/penduduk/"):])
            else:
                raise ApiError(404, "not found")
        except ApiError as e:
            self._send_json(e.status, {"error": e.message})

    def _send_text(self, status: int, text: str) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self._connection_header()
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def _param(query: dict, name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    def _region(self, query: dict) -> str | None:
        code = self._param(query, "kode_wilayah")
        if code is not None and not _REGION_RE.fullmatch(code):
            raise ApiError(400, "kode_wilayah must be 2, 4 or 6 digits")
        return code

    def _int_param(self, query: dict, name: str, default: int, lo: int,
                   hi: int) -> int:
        raw = self._param(query, name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise ApiError(400, f"{name} must be an integer {lo}..{hi}")
        value = int(raw)
        if not lo <= value <= hi:
            raise ApiError(400, f"{name} must be an integer {lo}..{hi}")
        return value

    def _one(self, nik: str) -> None:
        if not _NIK_RE.fullmatch(nik):
            raise ApiError(400, "nik must be 16 digits")
        rec = self.server.dataset.by_nik.get(nik)
        if rec is None:
            raise ApiError(404, "not found")
        self._send_json(200, rec)

    def _list(self, query: dict) -> None:
        prefix = self._region(query)
        page = self._int_param(query, "page", 1, 1, 10 ** 9 - 1)
        per_page = self._int_param(query, "per_page", DEFAULT_PER_PAGE, 1,
                                   MAX_PER_PAGE)
        rows = self.server.dataset.select(prefix)
        start = (page - 1) * per_page
        self._send_json(200, {"total": len(rows), "page": page,
                              "per_page": per_page,
                              "data": rows[start:start + per_page]})

    def _export(self, query: dict) -> None:
        """Stream the CSV; chunked for HTTP/1.1, close-delimited for 1.0."""
        rows = self.server.dataset.select(self._region(query))
        chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Disposition",
                         'attachment; filename="penduduk.csv"')
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True    # the body ends at the close
        self._connection_header()
        self.end_headers()

        def emit(text: str) -> None:
            data = text.encode("utf-8")
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(pii_gen.FIELDS)
        for rec in rows:
            writer.writerow(["" if rec[f] is None else rec[f]
                             for f in pii_gen.FIELDS])
            if buf.tell() >= CSV_CHUNK:
                emit(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        if buf.tell():
            emit(buf.getvalue())
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class DemoServer(ThreadingHTTPServer):
    """Threaded server; handler threads never block shutdown."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, dataset: Dataset, quiet: bool, family: int):
        self.address_family = family
        self.dataset = dataset
        self.quiet = quiet
        super().__init__(address, Handler)

    def handle_error(self, request, client_address) -> None:
        # A client that goes away mid-response is routine, not a bug.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can
        # stall on hosts without a resolver; the name is unused here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port


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


def write_port_file(path: str, port: int) -> None:
    """Write the port atomically so a poller never reads a partial file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


class _Terminate(Exception):
    """Raised from the SIGTERM handler to leave serve_forever()."""


def _on_signal(signum, frame):
    raise _Terminate()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="Demo agency API serving a synthetic population "
                    "registry (all personal data is fake).")
    ap.add_argument("--listen", default="127.0.0.1:8080", type=parse_listen,
                    metavar="HOST:PORT",
                    help="address to listen on; port 0 picks a free port "
                         "(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1,
                    help="seed for the deterministic data (default: %(default)s)")
    ap.add_argument("--records", type=int, default=10000, metavar="N",
                    help="number of records to generate (default: %(default)s)")
    ap.add_argument("--regions", metavar="PATH",
                    default=str(pii_gen.default_regions_path()),
                    help="Kemendagri region table (regions.tsv); a built-in "
                         "list of district codes is used if it is missing "
                         "(default: %(default)s)")
    ap.add_argument("--port-file", metavar="PATH",
                    help="write the listening port to PATH once listening")
    ap.add_argument("--quiet", action="store_true",
                    help="do not log requests")
    args = ap.parse_args(argv)
    if args.records < 0:
        ap.error("--records must be >= 0")

    t0 = time.perf_counter()
    regions = pii_gen.load_regions(args.regions)
    if regions.source == "builtin fallback" and not args.quiet:
        print(f"demo_api: {args.regions} not readable, using the built-in "
              f"district list", file=sys.stderr)
    dataset = Dataset(pii_gen.generate_population(args.records, args.seed,
                                                  regions))
    gen_ms = (time.perf_counter() - t0) * 1000

    host, port, family = args.listen
    try:
        server = DemoServer((host, port), dataset, args.quiet, family)
    except OSError as e:
        print(f"demo_api: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    port = server.server_address[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"demo_api: listening on http://{shown}:{port}/ "
          f"({len(dataset.records)} records, seed {args.seed}, "
          f"generated in {gen_ms:.0f} ms)", flush=True)
    if args.port_file:
        write_port_file(args.port_file, port)
    try:
        server.serve_forever()
    except _Terminate:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
