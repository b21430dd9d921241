#!/usr/bin/env python3
"""gerbang-gateway client certificates: client_auth required and optional,
the CRL, and the identity in the access log.

usage: test_gw_mtls.py BUILD_DIR
"""
import ssl
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import Certs, listener, upstream_conf  # noqa: E402


def attempt(gw, lname, cert=None, version=None):
    """Connect (optionally with a client certificate) and GET /echo.
    Returns (Response or None, error text)."""
    ctx = gwtest.client_context(cert=cert, min_version=version,
                                max_version=version)
    try:
        with gw.conn(lname, ctx=ctx) as conn:
            # In TLS 1.3 the server checks the client certificate after the
            # client thinks the handshake is done: the refusal arrives as an
            # alert on the first read.
            return conn.get("/echo"), ""
    except (ssl.SSLError, OSError, EOFError, gwtest.ProtocolError) as e:
        return None, f"{type(e).__name__}: {e}"


def main(t: gwtest.Test):
    c = t.certs
    up = t.upstream()
    common = {"client_ca": str(c.ca), "crl": str(c.crl)}
    conf = t.config(
        upstreams=[upstream_conf("up", [up])],
        routes=[{"name": "main", "path": "/"}],
        listeners=[
            listener("required", c.server_certs(), client_auth="required",
                     **common),
            listener("optional", c.server_certs(), client_auth="optional",
                     **common),
            listener("nocrl", c.server_certs(), client_auth="required",
                     client_ca=str(c.ca)),
        ])
    gw = t.gateway(conf, workers=1)
    subject = "CN=client1,O=Gerbang Test"
    fp = Certs.fingerprint(c.client[0])

    def identity_logged(r, want_cert: bool, what: str):
        rid = r.header("x-request-id")
        e = gw.access_entry(rid)
        t.require(e is not None, f"{what}: access-log entry for {rid}")
        if want_cert:
            cc = e.get("client_cert") or {}
            t.check(cc.get("subject") == subject and cc.get("sha256") == fp
                    and cc.get("san") == "client1@gerbang.test",
                    f"{what}: access log has the client_cert subject, san "
                    "and sha256", e)
        else:
            t.check("client_cert" not in e,
                    f"{what}: access log has no client_cert", e)

    for ver, vname in ((ssl.TLSVersion.TLSv1_3, "TLS 1.3"),
                       (ssl.TLSVersion.TLSv1_2, "TLS 1.2")):
        # required
        r, err = attempt(gw, "required", None, ver)
        t.check(r is None, f"required, {vname}: no certificate -> refused",
                r or err)
        r, err = attempt(gw, "required", c.client, ver)
        t.check(r is not None and r.status == 200,
                f"required, {vname}: valid certificate -> 200", r or err)
        if r is not None:
            identity_logged(r, True, f"required, {vname}")
            hdrs = [k.lower() for k, _ in r.json()["headers"]]
            t.check(all(not h.startswith("x-gerbang-") or h ==
                        "x-gerbang-consumer" for h in hdrs),
                    f"required, {vname}: no stray identity headers upstream",
                    hdrs)
        r, err = attempt(gw, "required", c.revoked, ver)
        t.check(r is None, f"required, {vname}: revoked certificate (CRL) "
                "-> refused", r or err)
        r, err = attempt(gw, "required", c.untrusted, ver)
        t.check(r is None, f"required, {vname}: certificate of an untrusted "
                "CA -> refused", r or err)
        # without a CRL the revoked certificate is just a valid one
        r, err = attempt(gw, "nocrl", c.revoked, ver)
        t.check(r is not None and r.status == 200,
                f"required without crl, {vname}: the revoked certificate "
                "is accepted (the CRL is what refuses it)", r or err)
        # optional
        r, err = attempt(gw, "optional", None, ver)
        t.check(r is not None and r.status == 200,
                f"optional, {vname}: no certificate -> 200", r or err)
        if r is not None:
            identity_logged(r, False, f"optional, {vname}, no certificate")
        r, err = attempt(gw, "optional", c.client, ver)
        t.check(r is not None and r.status == 200,
                f"optional, {vname}: valid certificate -> 200", r or err)
        if r is not None:
            identity_logged(r, True, f"optional, {vname}")
        r, err = attempt(gw, "optional", c.revoked, ver)
        t.check(r is None, f"optional, {vname}: revoked certificate -> "
                "refused", r or err)
        r, err = attempt(gw, "optional", c.untrusted, ver)
        t.check(r is None, f"optional, {vname}: untrusted certificate -> "
                "refused", r or err)

    # The identity of a keep-alive connection stays on every request.
    ctx = gwtest.client_context(cert=c.client)
    with gw.conn("required", ctx=ctx) as conn:
        rs = [conn.get("/echo") for _ in range(3)]
    ok = all(r.status == 200 for r in rs)
    t.check(ok, "required: three requests on one connection")
    if ok:
        entries = [gw.access_entry(r.header("x-request-id")) for r in rs]
        t.check(all(e and (e.get("client_cert") or {}).get("sha256") == fp
                    for e in entries),
                "required: every request of the connection logs the "
                "identity", entries)
    m = gw.metrics()
    t.check((gwtest.metric(m, "gerbang_tls_handshake_failures_total") or 0)
            >= 6, "refused handshakes are counted",
            gwtest.metric(m, "gerbang_tls_handshake_failures_total"))


if __name__ == "__main__":
    gwtest.run(main)
