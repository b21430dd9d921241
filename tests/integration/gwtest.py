"""Shared harness of the gerbang-gateway integration tests (test_gw_*.py).

Standard library only, plus the ``openssl`` command-line tool.  A test
script does::

    import gwtest
    def main(t: gwtest.Test) -> None:
        up = t.upstream()                       # tests/integration/upstream.py
        gw = t.gateway(t.config(routes=[...]))  # gerbang-gateway -c FILE
        r = gw.conn().request("GET", "/echo")
        t.check(r.status == 200, "GET /echo", r)
    gwtest.run(main)                            # prints "N passed, N failed"

What it guarantees:

* every process it starts (upstreams, gateways with their workers) is
  killed at the end, on failure, on an exception, on SIGTERM/SIGINT (meson's
  timeout) and from atexit; gateways and upstreams run in their own process
  group so that workers left behind by a dead master are found too;
* every socket operation has a timeout and every wait loop a deadline; a
  watchdog ends the whole script after WATCHDOG seconds with a failure;
* a temporary directory per script holds the certificates (made with the
  openssl CLI: a CA, ECDSA P-256 and RSA server certificates for a.test,
  an ECDSA one for b.test, client certificates, a revoked client
  certificate and its CRL, an upstream certificate for 127.0.0.1, an
  untrusted CA), configurations, logs; it is removed unless something
  failed (or GWTEST_KEEP=1), and its path is printed when kept;
* when a gateway stops, its stderr is searched for sanitizer reports
  (AddressSanitizer, LeakSanitizer, UBSan "runtime error:") and for workers
  that died on a signal; the master must exit 0 after SIGTERM.  Each is a
  failed check.

Usage of a test script: test_gw_NAME.py BUILD_DIR (the meson build root).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import signal
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
sys.dont_write_bytecode = True
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import upstream as upstream_mod  # noqa: E402  (pattern(), pattern_sha256())

SOCK_TIMEOUT = 5.0      # default for every socket operation
START_TIMEOUT = 15.0    # a process becoming ready (sanitizer builds are slow)
STOP_TIMEOUT = 10.0     # a gateway draining after SIGTERM
WATCHDOG = float(os.environ.get("GWTEST_WATCHDOG", "110"))

SANITIZER_RE = re.compile(
    r"ERROR: (?:Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
    r"SUMMARY: \w+Sanitizer")
SERVING_RE = re.compile(r"worker (\d+) \(generation (\d+)\) serving")

pattern = upstream_mod.pattern
pattern_sha256 = upstream_mod.pattern_sha256

# Every live process of this script, for the cleanup paths.
_PROCS: list = []
_PROCS_LOCK = threading.Lock()


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the process group of proc (its own session: see _spawn)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """SIGKILL everything still running (last resort; idempotent)."""
    with _PROCS_LOCK:
        procs = list(_PROCS)
    for p in procs:
        _kill_group(p, signal.SIGKILL)
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass


atexit.register(kill_all)


def _spawn(argv, stdout, stderr, cwd=None, env=None) -> subprocess.Popen:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=stderr, cwd=cwd, env=env,
                         start_new_session=True)
    with _PROCS_LOCK:
        _PROCS.append(p)
    return p


def _forget(p: subprocess.Popen) -> None:
    with _PROCS_LOCK:
        if p in _PROCS:
            _PROCS.remove(p)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout: float, interval: float = 0.02):
    """Poll pred() until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


class Failed(Exception):
    """Raised by Test.require(): stops the scenario, counts as a failure."""


class Test:
    """Results, the temporary directory and the processes of one script."""

    def __init__(self, name: str, build: Path):
        self.name = name
        self.build = build
        self.exe = build / "gateway" / "gerbang-gateway"
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.tmp = Path(tempfile.mkdtemp(prefix=f"gwtest-{name}-"))
        self._certs = None
        self.gateways: list = []
        self.upstreams: list = []
        self._lock = threading.Lock()
        self._closed = False
        self._asan = None
        self.t0 = time.monotonic()

    # -- results --------------------------------------------------------------

    def check(self, cond, what: str, detail=None) -> bool:
        with self._lock:
            if self._closed:
                return bool(cond)
            at = f"[{time.monotonic() - self.t0:5.1f}s]"
            if cond:
                self.passed += 1
                print(f"ok   {at} {what}", flush=True)
            else:
                self.failed += 1
                extra = f"\n     {detail!r}"[:2000] if detail is not None \
                    else ""
                print(f"FAIL {at} {what}{extra}", flush=True)
        return bool(cond)

    def require(self, cond, what: str, detail=None) -> None:
        if not self.check(cond, what, detail):
            raise Failed(what)

    def skip(self, what: str, why: str) -> None:
        with self._lock:
            self.skipped += 1
        print(f"skip {what}: {why}", flush=True)

    def note(self, msg: str) -> None:
        print(f"note {msg}", flush=True)

    @property
    def sanitized(self) -> bool:
        """Is the gateway built with AddressSanitizer?"""
        if self._asan is None:
            try:
                self._asan = b"__asan_init" in self.exe.read_bytes()
            except OSError:
                self._asan = False
        return self._asan

    # -- files ----------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.tmp / name

    @property
    def certs(self) -> "Certs":
        if self._certs is None:
            self._certs = Certs(self.tmp / "pki")
        return self._certs

    # -- processes ------------------------------------------------------------

    def upstream(self, name: str | None = None, tls: bool = False,
                 port: int = 0) -> "Upstream":
        name = name or f"up{len(self.upstreams) + 1}"
        u = Upstream(self, name, tls=tls, port=port)
        self.upstreams.append(u)
        return u

    def recording_upstream(self, **kw) -> "RecordingUpstream":
        u = RecordingUpstream(**kw)
        self.upstreams.append(u)
        return u

    def gateway(self, conf: dict, workers: int = 1, name: str | None = None,
                args=(), wait: bool = True, env: dict | None = None
                ) -> "Gateway":
        """Start gerbang-gateway; env adds to the environment (a value for
        ASAN_OPTIONS is appended to the one inherited)."""
        name = name or f"gw{len(self.gateways) + 1}"
        g = Gateway(self, name, conf, workers=workers, args=args, env=env)
        self.gateways.append(g)
        if wait:
            g.wait_ready()
        return g

    def config(self, *, upstreams=None, routes=None, listeners=None,
               admin: bool = True, access_log: bool = True, **top) -> dict:
        """A gateway configuration with free ports filled in.

        Defaults: one TLS listener "main" with the a.test ECDSA and RSA and
        the b.test certificates; an admin listener; the access log in the
        temporary directory; upstreams and routes as given (a route's
        upstream defaults to the first upstream's name).
        """
        c = self.certs
        conf: dict = {}
        for k in ("workers", "user"):
            if k in top:
                conf[k] = top.pop(k)
        log = {"level": "info"}
        if access_log:
            log["access_log"] = str(self.path(
                f"access-{len(self.gateways) + 1}.log"))
        log.update(top.pop("log", {}))
        conf["log"] = log
        if admin:
            conf["admin"] = {"listen": f"127.0.0.1:{free_port()}"}
        for k in ("limits", "timeouts"):
            if k in top:
                conf[k] = top.pop(k)
        if top:
            raise TypeError(f"config(): unknown keys {sorted(top)}")
        if listeners is None:
            listeners = [listener("main", c.server_certs())]
        conf["listeners"] = listeners
        conf["upstreams"] = upstreams or []
        conf["routes"] = routes or []
        for r in conf["routes"]:
            if "upstream" not in r and conf["upstreams"]:
                r["upstream"] = conf["upstreams"][0]["name"]
        return conf

    # -- the end --------------------------------------------------------------

    def close(self) -> None:
        for g in list(self.gateways):
            try:
                g.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                self.check(False, f"{g.name}: stop", repr(e))
        for u in list(self.upstreams):
            u.stop()
        kill_all()
        with self._lock:
            self._closed = True


def listener(name: str, certs, port: int | None = None, **tls) -> dict:
    """A listener entry; certs is a list of (cert, key) paths."""
    t = {"certificates": [{"cert": str(c), "key": str(k)} for c, k in certs]}
    t.update(tls)
    return {"name": name, "listen": f"127.0.0.1:{port or free_port()}",
            "tls": t}


def upstream_conf(name: str, servers, **kw) -> dict:
    """An upstreams entry; servers are Upstream objects or "ip:port"."""
    out = []
    for s in servers:
        out.append(s if isinstance(s, (str, dict)) else s.addr)
    d = {"name": name, "servers": out}
    d.update(kw)
    return d


def run(main, name: str | None = None) -> None:
    """Run main(Test) with the watchdog and cleanup; exit with the status."""
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} BUILD_DIR", file=sys.stderr)
        sys.exit(2)
    name = name or Path(sys.argv[0]).stem
    t = Test(name, Path(sys.argv[1]).resolve())
    if not t.exe.exists():
        print(f"{t.exe}: not built")
        print("0 passed, 1 failed")
        sys.exit(1)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watchdog():
        print(f"FAIL watchdog: {name} still running after {WATCHDOG:.0f}s",
              flush=True)
        kill_all()
        print(f"{t.passed} passed, {t.failed + 1} failed", flush=True)
        print(f"kept {t.tmp}", flush=True)
        os._exit(1)

    wd = threading.Timer(WATCHDOG, watchdog)
    wd.daemon = True
    wd.start()
    started = time.monotonic()
    if t.sanitized:
        t.note("the gateway is built with AddressSanitizer")
    try:
        main(t)
    except Failed:
        pass
    except KeyboardInterrupt as e:
        t.check(False, "interrupted", str(e))
    except Exception:  # noqa: BLE001 - reported as a failure
        t.check(False, "exception", traceback.format_exc())
    finally:
        try:
            t.close()
        except Exception:  # noqa: BLE001
            t.check(False, "cleanup", traceback.format_exc())
        wd.cancel()
    print(f"time {time.monotonic() - started:.1f}s", flush=True)
    if t.failed or os.environ.get("GWTEST_KEEP"):
        print(f"kept {t.tmp}", flush=True)
    else:
        shutil.rmtree(t.tmp, ignore_errors=True)
    print(f"{t.passed} passed, {t.failed} failed", flush=True)
    sys.exit(1 if t.failed else 0)


# ---------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------


def openssl(*args, cwd=None, input_=None) -> str:
    p = subprocess.run(["openssl", *args], cwd=cwd, input=input_,
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr}")
    return p.stdout


class Certs:
    """Test PKI made with the openssl CLI (see the module docstring)."""

    def __init__(self, d: Path):
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self._serial = 0x1000
        self.ca, self.ca_key = self._ca("ca", "Gerbang Test CA")
        self.a_ec = self._leaf("a-ec", "a.test", "ec", "DNS:a.test",
                               "serverAuth")
        self.a_rsa = self._leaf("a-rsa", "a.test", "rsa", "DNS:a.test",
                                "serverAuth")
        self.b_ec = self._leaf("b-ec", "b.test", "ec", "DNS:b.test",
                               "serverAuth")
        self.upstream = self._leaf(
            "upstream", "upstream.test", "ec",
            "DNS:upstream.test,IP:127.0.0.1", "serverAuth")
        self.client = self._leaf("client1", "client1", "ec",
                                 "email:client1@gerbang.test", "clientAuth")
        self.revoked = self._leaf("client2", "client2", "ec",
                                  "email:client2@gerbang.test", "clientAuth")
        # A CA nobody trusts, and a client certificate it signed.
        self.other_ca, self.other_ca_key = self._ca("other-ca", "Other CA")
        self.untrusted = self._leaf("client3", "client3", "ec",
                                    "email:client3@gerbang.test",
                                    "clientAuth", ca="other-ca")
        self.crl = self._crl([self.revoked[0]])

    def _key(self, path: Path, kind: str) -> None:
        if kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", str(path))
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(path))

    def _ca(self, name: str, cn: str):
        key, pem = self.dir / f"{name}.key", self.dir / f"{name}.pem"
        self._key(key, "ec")
        openssl("req", "-x509", "-new", "-key", str(key), "-out", str(pem),
                "-days", "30", "-subj", f"/O=Gerbang Test/CN={cn}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash")
        return pem, key

    def _leaf(self, name: str, cn: str, kind: str, san: str, eku: str,
              ca: str = "ca"):
        key, csr = self.dir / f"{name}.key", self.dir / f"{name}.csr"
        pem, ext = self.dir / f"{name}.pem", self.dir / f"{name}.ext"
        self._key(key, kind)
        openssl("req", "-new", "-key", str(key), "-out", str(csr),
                "-subj", f"/O=Gerbang Test/CN={cn}")
        ku = "digitalSignature,keyEncipherment" if kind == "rsa" else \
            "digitalSignature"
        ext.write_text("basicConstraints=CA:FALSE\n"
                       f"keyUsage=critical,{ku}\n"
                       f"extendedKeyUsage={eku}\n"
                       f"subjectAltName={san}\n"
                       "subjectKeyIdentifier=hash\n"
                       "authorityKeyIdentifier=keyid\n")
        self._serial += 1
        openssl("x509", "-req", "-in", str(csr), "-CA",
                str(self.dir / f"{ca}.pem"), "-CAkey",
                str(self.dir / f"{ca}.key"), "-set_serial",
                str(self._serial), "-days", "30", "-sha256", "-extfile",
                str(ext), "-out", str(pem))
        return pem, key

    def _crl(self, revoked) -> Path:
        d = self.dir
        (d / "index.txt").write_text("")
        (d / "crlnumber").write_text("01\n")
        cnf = d / "ca.cnf"
        cnf.write_text(f"""[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {d}
database = $dir/index.txt
crlnumber = $dir/crlnumber
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 30
policy = any
[ any ]
commonName = supplied
""")
        for pem in revoked:
            openssl("ca", "-config", str(cnf), "-revoke", str(pem))
        out = d / "crl.pem"
        openssl("ca", "-config", str(cnf), "-gencrl", "-out", str(out))
        return out

    def server_certs(self):
        """The listener certificates: default first (a.test ECDSA)."""
        return [self.a_ec, self.a_rsa, self.b_ec]

    @staticmethod
    def der(pem: Path) -> bytes:
        return ssl.PEM_cert_to_DER_cert(pem.read_text())

    @classmethod
    def fingerprint(cls, pem: Path) -> str:
        return sha256(cls.der(pem))


# ---------------------------------------------------------------------------
# YAML (block style, for configurations)
# ---------------------------------------------------------------------------


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, dict)):
        return "[]" if isinstance(v, list) else "{}"
    return json.dumps(str(v))


def to_yaml(obj, indent: int = 0) -> str:
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = to_yaml(item, indent + 1).split("\n")
                sub[0] = pad + "- " + sub[0].lstrip()
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(obj))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# HTTP over TLS (raw)
# ---------------------------------------------------------------------------


def client_context(*, verify: Path | None = None, cert=None,
                   alpn=("http/1.1",), min_version=None, max_version=None,
                   ciphers: str | None = None) -> ssl.SSLContext:
    """A client SSLContext; no verification unless verify (a CA file)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify is not None:
        ctx.load_verify_locations(str(verify))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


_DEFAULT_CTX = None


def default_context() -> ssl.SSLContext:
    global _DEFAULT_CTX
    if _DEFAULT_CTX is None:
        _DEFAULT_CTX = client_context()
    return _DEFAULT_CTX


class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers: list = []
        self.body = b""
        self.body_len = 0
        self.body_sha256 = ""
        self.chunked = False
        self.head_raw = b""

    def header(self, name: str):
        """The first value of a header (case-insensitive), or None."""
        v = self.all(name)
        return v[0] if v else None

    def all(self, name: str) -> list:
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def has_token(self, name: str, token: str) -> bool:
        return any(token.lower() == t.strip().lower()
                   for v in self.all(name) for t in v.split(","))

    @property
    def closes(self) -> bool:
        return self.has_token("connection", "close")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"<Response {self.status} {self.headers!r} "
                f"{self.body[:300]!r}>")


class ProtocolError(Exception):
    pass


class Conn:
    """One client connection to a gateway listener: TLS, raw HTTP/1.1."""

    def __init__(self, port: int, sni: str | None = "a.test",
                 ctx: ssl.SSLContext | None = None,
                 timeout: float = SOCK_TIMEOUT, session=None,
                 host: str = "127.0.0.1", source: str | None = None):
        self.timeout = timeout
        # source: the client's address (any 127.x.y.z works on loopback).
        raw = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        raw.settimeout(timeout)
        try:
            self.sock = (ctx or default_context()).wrap_socket(
                raw, server_hostname=sni, session=session)
        except BaseException:
            raw.close()
            raise
        self.buf = bytearray()
        self.eof = False
        self.requests = 0
        self.received = 0       # bytes read from the connection, ever

    # -- plumbing -------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int = 65536) -> bool:
        if self.eof:
            return False
        try:
            data = self.sock.recv(n)
        except (ConnectionResetError, ssl.SSLEOFError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.received += len(data)
        self.buf += data
        return True

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > 1 << 20:
                raise ProtocolError("line too long")
            if not self._fill():
                raise EOFError("connection closed in a head")

    def _exact(self, n: int, sink) -> None:
        while n > 0:
            if not self.buf and not self._fill():
                raise EOFError(f"connection closed, {n} body bytes missing")
            k = min(n, len(self.buf))
            sink(bytes(self.buf[:k]))
            del self.buf[:k]
            n -= k

    # -- HTTP -----------------------------------------------------------------

    def read_response(self, method: str = "GET", keep_body: bool = True,
                      max_keep: int = 64 << 20) -> Response:
        """Read one response (1xx included) and its body."""
        r = Response()
        line = self._line()
        head = [line]
        if not line.endswith(b"\r\n"):
            raise ProtocolError(f"status line without CRLF: {line!r}")
        parts = line[:-2].decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ProtocolError(f"bad status line {line!r}")
        r.version, r.status = parts[0], int(parts[1])
        r.reason = parts[2] if len(parts) > 2 else ""
        while True:
            line = self._line()
            head.append(line)
            if line == b"\r\n":
                break
            if not line.endswith(b"\r\n") or b":" not in line:
                raise ProtocolError(f"bad header line {line!r}")
            k, _, v = line[:-2].decode("latin-1").partition(":")
            r.headers.append((k, v.strip()))
        r.head_raw = b"".join(head)
        h = hashlib.sha256()
        kept = []
        total = [0]

        def sink(b):
            h.update(b)
            total[0] += len(b)
            if keep_body and total[0] <= max_keep:
                kept.append(b)

        if method == "HEAD" or r.status < 200 or r.status in (204, 304):
            pass
        elif r.has_token("transfer-encoding", "chunked"):
            r.chunked = True
            while True:
                sl = self._line()
                if not sl.endswith(b"\r\n"):
                    raise ProtocolError(f"chunk line {sl!r}")
                size = int(sl[:-2].split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"\r\n":
                        pass
                    break
                self._exact(size, sink)
                crlf = bytearray()
                self._exact(2, crlf.extend)
                if crlf != b"\r\n":
                    raise ProtocolError("chunk without CRLF")
        elif r.header("content-length") is not None:
            self._exact(int(r.header("content-length")), sink)
        else:
            while True:
                if self.buf:
                    b = bytes(self.buf)
                    self.buf.clear()
                    sink(b)
                if not self._fill():
                    break
        r.body = b"".join(kept)
        r.body_len = total[0]
        r.body_sha256 = h.hexdigest()
        return r

    def read_final(self, method: str = "GET", **kw) -> Response:
        """Read responses until a final (non-1xx) one."""
        while True:
            r = self.read_response(method, **kw)
            if r.status >= 200 or r.status == 101:
                return r

    @staticmethod
    def build(method: str, target: str, headers=(), body: bytes | None = None,
              host: str | None = "a.test", version: str = "HTTP/1.1") -> bytes:
        lines = [f"{method} {target} {version}"]
        if host is not None:
            lines.append(f"Host: {host}")
        names = {k.lower() for k, _ in headers}
        lines += [f"{k}: {v}" for k, v in headers]
        if body is not None and "content-length" not in names and \
                "transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + \
            (body or b"")

    def request(self, method: str, target: str, headers=(),
                body: bytes | None = None, host: str | None = "a.test",
                version: str = "HTTP/1.1", **kw) -> Response:
        self.send(self.build(method, target, headers, body, host, version))
        self.requests += 1
        return self.read_final(method, **kw)

    def get(self, target: str, **kw) -> Response:
        return self.request("GET", target, **kw)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """True when the peer closes (EOF or reset) within timeout, with
        nothing more than what is already buffered."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(min(left, self.timeout))
            try:
                got = self._fill()
            except (socket.timeout, TimeoutError):
                self.sock.settimeout(self.timeout)
                return False
            except (ssl.SSLError, OSError):
                self.eof = True
                got = False
            finally:
                if not self.eof:
                    self.sock.settimeout(self.timeout)
            if not got:
                return True
            if self.buf:
                return False

    def read_until_close(self, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            try:
                if not self._fill():
                    break
            except (ssl.SSLError, OSError):
                break
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def parse_one_response(data: bytes, method: str = "GET"):
    """Parse the first response in data (bytes received up to a close);
    returns (Response, rest) or (None, data)."""
    class _Fake(Conn):
        def __init__(self, d):  # noqa: D401 - no socket
            self.buf = bytearray(d)
            self.eof = True
    f = _Fake(data)
    try:
        r = f.read_response(method)
    except (EOFError, ProtocolError, ValueError):
        return None, data
    return r, bytes(f.buf)


# ---------------------------------------------------------------------------
# Upstreams
# ---------------------------------------------------------------------------

_UP_LOG_RE = re.compile(r"^upstream: conn (\d+) #(\d+) (\S+) (\S+)$")


class Upstream:
    """tests/integration/upstream.py on a free port; its request log (not
    --quiet: one line per answered request) is read by requests()."""

    def __init__(self, t: Test, name: str, tls: bool = False, port: int = 0):
        self.t = t
        self.name = name
        self.tls = tls
        self.log_path = t.path(f"{name}.log")
        self._port = 0
        self._ready = False
        self._want_port = port
        self.proc = None
        self.start()

    def start(self) -> None:
        """Spawn; the port is waited for on first use (self.port), so that
        several upstreams start in parallel."""
        self._port_file = self.t.path(f"{self.name}.port")
        if self._port_file.exists():
            self._port_file.unlink()
        argv = [sys.executable, str(HERE / "upstream.py"), "--listen",
                f"127.0.0.1:{self._want_port or self._port or 0}",
                "--port-file", str(self._port_file), "--idle-timeout", "20"]
        if self.tls:
            cert, key = self.t.certs.upstream
            argv += ["--tls-cert", str(cert), "--tls-key", str(key)]
        log = open(self.log_path, "ab")
        self.proc = _spawn(argv, log, log)
        log.close()
        self._ready = False

    @property
    def port(self) -> int:
        if not self._ready:
            pf = self._port_file
            wait_until(lambda: pf.exists() or self.proc.poll() is not None,
                       START_TIMEOUT)
            if not pf.exists():
                raise RuntimeError(f"upstream {self.name} did not start: "
                                   f"{self.log_path.read_text()[-2000:]}")
            self._port = int(pf.read_text())
            self._ready = True
        return self._port

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if not self._ready:
            try:
                self.port   # let it finish starting: a clean stop
            except RuntimeError:
                pass
        _kill_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc, signal.SIGKILL)
            self.proc.wait(timeout=5)
        _forget(self.proc)

    def requests(self) -> list:
        """[(conn_id, n, method, target)] of every answered request."""
        out = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            m = _UP_LOG_RE.match(line)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), m.group(3),
                            m.group(4)))
        return out


class RecordingUpstream:
    """An in-process upstream that records every byte it receives.

    Each connection is served by a thread that answers every request whose
    head it can parse (no body expected: GET/HEAD only) with 200 and the
    body "ok <target>" (or body_size bytes of pattern()); anything else is
    recorded and answered with nothing.  Used to prove that the gateway
    forwarded nothing.  With close=True every response says "Connection:
    close" and the connection is closed right after it (FIN).
    """

    def __init__(self, body_size: int | None = None, close: bool = False):
        self.body_size = body_size
        self.close = close
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = 0
        self.data = bytearray()      # everything, in arrival order
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self):
        while not self.stop_ev.is_set():
            try:
                s, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            with self.lock:
                self.conns += 1
            threading.Thread(target=self._serve, args=(s,),
                             daemon=True).start()

    def _serve(self, s: socket.socket):
        s.settimeout(0.5)
        buf = bytearray()
        try:
            while not self.stop_ev.is_set():
                try:
                    d = s.recv(65536)
                except (socket.timeout, TimeoutError):
                    continue
                if not d:
                    return
                with self.lock:
                    self.data += d
                buf += d
                while b"\r\n\r\n" in buf:
                    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
                    buf = bytearray(rest)
                    first = head.split(b"\r\n", 1)[0].split(b" ")
                    target = first[1] if len(first) > 1 else b"?"
                    if self.body_size is None:
                        body = b"ok " + target
                    else:
                        body = b"".join(
                            pattern(o, min(65536, self.body_size - o))
                            for o in range(0, self.body_size, 65536))
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                              b"%s\r\n" % (len(body), b"Connection: close\r\n"
                                           if self.close else b"") + body)
                    if self.close:
                        s.shutdown(socket.SHUT_WR)
                        return
        except OSError:
            pass
        finally:
            s.close()

    def snapshot(self):
        with self.lock:
            return len(self.data), self.conns

    def since(self, mark) -> bytes:
        with self.lock:
            return bytes(self.data[mark[0]:])

    def stop(self):
        self.stop_ev.set()
        self.sock.close()


# ---------------------------------------------------------------------------
# The gateway
# ---------------------------------------------------------------------------


class Gateway:
    """gerbang-gateway -c CONF -w N, its ports, logs and workers."""

    def __init__(self, t: Test, name: str, conf: dict, workers: int = 1,
                 args=(), env: dict | None = None):
        self.t = t
        self.name = name
        self.conf = conf
        self.workers = workers
        self.conf_path = t.path(f"{name}.yaml")
        self.stderr_path = t.path(f"{name}.stderr")
        self.stdout_path = t.path(f"{name}.stdout")
        self.write_conf(conf)
        self.gen = 0
        argv = [str(t.exe), "-c", str(self.conf_path), "-w", str(workers),
                *args]
        environ = None
        if env:
            environ = dict(os.environ)
            for k, v in env.items():
                if k == "ASAN_OPTIONS" and environ.get(k):
                    v = environ[k] + ":" + v
                environ[k] = v
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        self.proc = _spawn(argv, out, err, env=environ)
        out.close()
        err.close()
        self.stopped = False
        self.start_failed = False

    def write_conf(self, conf: dict) -> None:
        self.conf = conf
        tmp = self.conf_path.with_suffix(".tmp")
        tmp.write_text(to_yaml(conf) + "\n")
        os.replace(tmp, self.conf_path)

    # -- addresses ------------------------------------------------------------

    def port(self, listener_name: str | None = None) -> int:
        for li in self.conf["listeners"]:
            if listener_name is None or li["name"] == listener_name:
                return int(li["listen"].rsplit(":", 1)[1])
        raise KeyError(listener_name)

    @property
    def admin_port(self) -> int:
        return int(self.conf["admin"]["listen"].rsplit(":", 1)[1])

    @property
    def access_log_path(self) -> Path:
        return Path(self.conf["log"]["access_log"])

    def conn(self, listener_name: str | None = None, **kw) -> Conn:
        return Conn(self.port(listener_name), **kw)

    # -- state ----------------------------------------------------------------

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def serving(self, gen: int | None = None) -> list:
        """PIDs of the workers of generation gen that said "serving"."""
        gen = self.gen if gen is None else gen
        return [int(m.group(1)) for m in SERVING_RE.finditer(self.stderr())
                if int(m.group(2)) == gen]

    def live_workers(self) -> list:
        """Children of the master (from /proc)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/"
                      "children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def wait_ready(self, gen: int = 0) -> None:
        # "serving" is logged once a worker watches the listeners, which
        # the master bound before forking: no probe connection needed (it
        # would show in the counters).
        def ready():
            return self.proc.poll() is not None or \
                len(set(self.serving(gen))) >= self.workers
        wait_until(ready, START_TIMEOUT)
        if self.proc.poll() is not None:
            self.start_failed = True
            self.t.require(False, f"{self.name}: gateway started",
                           f"exit {self.proc.returncode}: "
                           f"{self.stderr()[-3000:]}")
        self.t.require(len(set(self.serving(gen))) >= self.workers,
                       f"{self.name}: {self.workers} workers serving",
                       self.stderr()[-3000:])

    def reload(self, conf: dict | None = None, expect_ok: bool = True,
               timeout: float = START_TIMEOUT) -> bool:
        """Write conf (if given), SIGHUP, wait for the outcome."""
        if conf is not None:
            self.write_conf(conf)
        before = self.stderr()
        n_reloaded = before.count("reloaded: generation")
        n_refused = before.count("reload refused")
        self.proc.send_signal(signal.SIGHUP)

        def done():
            s = self.stderr()
            return s.count("reloaded: generation") > n_reloaded or \
                s.count("reload refused") > n_refused

        wait_until(done, timeout)
        s = self.stderr()
        ok = s.count("reloaded: generation") > n_reloaded
        if ok:
            self.gen += 1
            wait_until(lambda: len(set(self.serving())) >= self.workers,
                       timeout)
        return ok

    def worker_status(self, pid: int) -> dict:
        out = {}
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    out[k] = v.strip()
        except OSError:
            pass
        return out

    # -- admin ----------------------------------------------------------------

    def admin(self, path: str, method: str = "GET", raw: bytes | None = None,
              timeout: float = SOCK_TIMEOUT) -> Response:
        with socket.create_connection(("127.0.0.1", self.admin_port),
                                      timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(raw or f"{method} {path} HTTP/1.1\r\nHost: admin\r\n"
                      f"Connection: close\r\n\r\n".encode())
            data = bytearray()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        r, _ = parse_one_response(bytes(data), method)
        if r is None:
            raise ProtocolError(f"admin {path}: {bytes(data)[:200]!r}")
        return r

    def metrics(self) -> dict:
        """{(name, ((label, value), ...)): float} from /metrics."""
        r = self.admin("/metrics")
        if r.status != 200:
            raise ProtocolError(f"/metrics: {r.status}")
        return parse_metrics(r.body.decode())

    # -- access log -----------------------------------------------------------

    def access_log(self) -> list:
        out = []
        try:
            text = self.access_log_path.read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"unparsable": line})
        return out

    def access_entry(self, request_id: str, timeout: float = 3.0):
        """The access-log entry of a request id (waits for the flush)."""
        def find():
            for e in self.access_log():
                if e.get("request_id") == request_id:
                    return e
            return None
        return wait_until(find, timeout)

    # -- stopping -------------------------------------------------------------

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """SIGTERM the master, wait for the drain, check the stderr."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        running = self.proc.poll() is None
        if running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.t.check(False, f"{self.name}: master exits within "
                             f"{STOP_TIMEOUT:.0f}s of SIGTERM")
                _kill_group(self.proc, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Workers outliving their master would be orphans: kill and count.
        try:
            os.killpg(self.proc.pid, 0)
            alive = True
        except (ProcessLookupError, PermissionError):
            alive = False
        if alive:
            wait_until(lambda: not _group_alive(self.proc.pid), 3.0)
            if _group_alive(self.proc.pid):
                self.t.check(False, f"{self.name}: no worker outlives the "
                             "master")
                _kill_group(self.proc, signal.SIGKILL)
        _forget(self.proc)
        rc = self.proc.returncode
        self.check_stderr()
        if running:
            self.t.check(rc == 0, f"{self.name}: master exit status 0 after "
                         f"SIGTERM", f"returncode {rc}: "
                         f"{self.stderr()[-1500:]}")
        elif not self.start_failed:
            self.t.check(False, f"{self.name}: the master ran until stopped",
                         f"returncode {rc}: {self.stderr()[-1500:]}")
        return rc

    def check_stderr(self) -> None:
        err = self.stderr()
        m = SANITIZER_RE.search(err)
        self.t.check(m is None, f"{self.name}: no sanitizer report",
                     err[max(0, m.start() - 200):m.start() + 3000]
                     if m else None)
        died = re.findall(r"worker \d+ exited on signal \d+", err)
        self.t.check(not died, f"{self.name}: no worker died on a signal",
                     died)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def parse_metrics(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$",
                     line)
        if not m:
            out[("__unparsable__", (("line", line),))] = 0.0
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"',
                                         m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(m: dict, name: str, **labels) -> float | None:
    return m.get((name, tuple(sorted(labels.items()))))
