#!/usr/bin/env python3
"""gerbang-gateway -t: good configurations pass, bad ones fail with exact
file:line:col errors.

Each tests/integration/conf_bad/NAME.yaml is checked with
"gerbang-gateway -t -c NAME.yaml" run in conf_bad/ (so messages name the
file as NAME.yaml): the exit status must be 1, stdout empty, and stderr
exactly the lines of NAME.expected, where "{*}" in an expected line matches
any text (used for OpenSSL's error strings, which change between versions).

usage: test_gw_config.py BUILD_DIR
"""
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import listener, to_yaml  # noqa: E402

BAD = gwtest.HERE / "conf_bad"


def run(t, *args, cwd=None):
    p = subprocess.run([str(t.exe), *args], cwd=cwd, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def line_matches(want: str, got: str) -> bool:
    rx = "^" + ".*".join(re.escape(x) for x in want.split("{*}")) + "$"
    return re.match(rx, got) is not None


def check_sanitizer(t, what, err):
    m = gwtest.SANITIZER_RE.search(err)
    if m:
        t.check(False, f"{what}: no sanitizer report", err[m.start():][:2000])


def main(t: gwtest.Test):
    c = t.certs

    # -- good configurations --------------------------------------------------
    full = {
        "workers": 2,
        "user": "nobody",
        "log": {"level": "notice", "format": "json",
                "file": str(t.path("gw.log")),
                "access_log": str(t.path("access.log")),
                "access_log_query": True},
        "admin": {"listen": "127.0.0.1:9901"},
        "limits": {"max_connections": 1000, "request_line": "4k",
                   "header_line": "4k", "headers": 50,
                   "header_size": "32k", "body_size": "10m"},
        "timeouts": {"handshake": "5s", "request_header": "5s",
                     "request_body": "30s", "keepalive": "75s",
                     "send": "30s", "upstream_connect": "2s",
                     "upstream_send": "10s", "upstream_read": "30s",
                     "upstream_idle": "20s", "drain": "15s"},
        "listeners": [
            listener("public", c.server_certs(), port=8443,
                     session_tickets=True, ticket_key_rotation="1h"),
            listener("partners", [c.a_ec], port=8444,
                     client_auth="required", client_ca=str(c.ca),
                     crl=str(c.crl), session_tickets=False),
        ],
        "upstreams": [
            {"name": "api", "balance": "least_conn", "keepalive": 16,
             "retries": 2,
             "servers": [{"address": "127.0.0.1:8080", "weight": 2},
                         "127.0.0.1:8081", "[::1]:8082"],
             "health": {"max_fails": 5, "fail_timeout": "30s",
                        "check": {"path": "/healthz", "interval": "2s",
                                  "timeout": "1s"}}},
            {"name": "secure", "servers": ["127.0.0.1:9443"],
             "tls": {"verify": True, "ca": str(c.ca),
                     "sni": "upstream.test"}},
            {"name": "plain", "servers": ["127.0.0.1:8090"], "tls": False},
        ],
        "routes": [
            {"name": "ws", "host": "a.test", "path": "/ws", "exact": True,
             "upstream": "api", "upgrade": True},
            {"name": "api", "host": "a.test", "path": "/api/",
             "upstream": "api"},
            {"name": "secure", "host": "*", "path": "/secure",
             "upstream": "secure"},
            {"name": "rest", "path": "/", "upstream": "plain"},
        ],
    }
    good = t.path("good.yaml")
    good.write_text(to_yaml(full) + "\n")
    rc, out, err = run(t, "-t", "-c", str(good))
    t.check(rc == 0 and out == f"gerbang-gateway: configuration {good} is "
            "valid\n" and err == "",
            "-t: a configuration using every setting is valid",
            (rc, out, err, good.read_text()))
    check_sanitizer(t, "-t good", err)
    minimal = t.path("minimal.yaml")
    minimal.write_text(to_yaml({
        "listeners": [listener("main", [c.a_ec], port=8443)],
        "upstreams": [{"name": "up", "servers": ["127.0.0.1:8080"]}],
        "routes": [{"name": "all", "path": "/", "upstream": "up"}],
    }) + "\n")
    rc, out, err = run(t, "-t", "-c", str(minimal))
    t.check(rc == 0 and err == "", "-t: a minimal configuration is valid",
            (rc, out, err))
    rc, out, err = run(t, "-t", "--from", "127.0.0.1:8443", "--to",
                       "http://127.0.0.1:8080", "--cert", str(c.a_ec[0]),
                       "--key", str(c.a_ec[1]))
    t.check(rc == 0 and "(command line) is valid" in out and err == "",
            "-t: one-route mode is valid", (rc, out, err))

    # -- bad configurations ---------------------------------------------------
    names = sorted(p.stem for p in BAD.glob("*.yaml"))
    t.check(len(names) >= 6, f"{len(names)} bad configurations", names)
    for name in names:
        exp = BAD / f"{name}.expected"
        if not exp.exists():
            t.check(False, f"conf_bad/{name}: {exp.name} exists")
            continue
        want = exp.read_text().splitlines()
        rc, out, err = run(t, "-t", "-c", f"{name}.yaml", cwd=BAD)
        got = err.splitlines()
        ok = rc == 1 and out == "" and len(got) == len(want) and \
            all(line_matches(w, g) for w, g in zip(want, got))
        t.check(ok, f"conf_bad/{name}.yaml: exit 1 with the expected errors",
                {"rc": rc, "stdout": out, "want": want, "got": got})
        check_sanitizer(t, name, err)

    # -- errors that need real files ------------------------------------------
    mism = t.path("mismatch.yaml")
    mism.write_text(to_yaml({
        "listeners": [listener("main", [(c.a_ec[0], c.b_ec[1])],
                               port=8443)],
        "upstreams": [{"name": "up", "servers": ["127.0.0.1:8080"]}],
        "routes": [{"name": "all", "path": "/", "upstream": "up"}],
    }) + "\n")
    rc, out, err = run(t, "-t", "-c", "mismatch.yaml", cwd=t.tmp)
    t.check(rc == 1 and re.match(
        r'mismatch\.yaml:\d+:\d+: error: key: ("[^"]*" does not match '
        r'certificate|cannot load)', err),
        "-t: a key that does not match its certificate", (rc, err))
    badca = t.path("badca.yaml")
    badca.write_text(to_yaml({
        "listeners": [listener("main", [c.a_ec], port=8443,
                               client_auth="optional",
                               client_ca=str(t.path("no-ca.pem")))],
        "upstreams": [{"name": "up", "servers": ["127.0.0.1:8080"],
                       "tls": {"ca": str(t.path("no-ca2.pem"))}}],
        "routes": [{"name": "all", "path": "/", "upstream": "up"}],
    }) + "\n")
    rc, out, err = run(t, "-t", "-c", "badca.yaml", cwd=t.tmp)
    t.check(rc == 1 and re.search(r'^badca\.yaml:\d+:\d+: error: client_ca: '
                                  r'cannot load "', err, re.M) and
            re.search(r'^badca\.yaml:\d+:\d+: error: tls\.ca: cannot load "',
                      err, re.M),
            "-t: missing CA bundles (listener and upstream)", (rc, err))
    rc, out, err = run(t, "-t", "-c", str(t.path("absent.yaml")))
    t.check(rc == 1 and "absent.yaml" in err and err.count("\n") <= 3,
            "-t: a missing configuration file", (rc, err))
    # Without -t a bad configuration stops the start with the same errors.
    rc, out, err = run(t, "-c", "unknown_upstream.yaml", cwd=BAD)
    want = (BAD / "unknown_upstream.expected").read_text()
    t.check(rc == 1 and err == want,
            "without -t: a bad configuration is refused the same way",
            (rc, err))


if __name__ == "__main__":
    gwtest.run(main)
