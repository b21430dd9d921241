#!/usr/bin/env python3
"""gerbang-gateway TLS: versions, ciphers, ALPN, SNI, certificate choice,
session resumption.

usage: test_gw_tls.py BUILD_DIR
"""
import re
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import Certs, listener, upstream_conf  # noqa: E402

AEAD = re.compile(r"GCM|CHACHA20|CCM")


def s_client(port, *args, timeout=15):
    """openssl s_client; returns (rc, stdout+stderr)."""
    p = subprocess.run(["openssl", "s_client", "-connect",
                        f"127.0.0.1:{port}", *args],
                       input="", capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def served_cert(out):
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  out, re.S)
    return ssl.PEM_cert_to_DER_cert(m.group(0)) if m else None


def main(t: gwtest.Test):
    c = t.certs
    up = t.upstream()
    conf = t.config(
        upstreams=[upstream_conf("up", [up])],
        routes=[{"name": "main", "path": "/"}],
        listeners=[listener("main", c.server_certs()),
                   listener("notickets", c.server_certs(),
                            session_tickets=False)])
    gw = t.gateway(conf, workers=2)
    port = gw.port("main")

    def handshake(ctx, sni="a.test", lname="main", session=None):
        conn = gw.conn(lname, ctx=ctx, sni=sni, session=session)
        return conn

    # -- versions and ciphers -------------------------------------------------
    for ver, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                      (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        ctx = gwtest.client_context(min_version=ver, max_version=ver)
        with handshake(ctx) as conn:
            r = conn.get("/echo")
            t.check(conn.sock.version() == name and r.status == 200,
                    f"{name} accepted and serves", (conn.sock.version(), r))
            cipher = conn.sock.cipher()[0]
            t.check(AEAD.search(cipher) is not None,
                    f"{name}: AEAD cipher negotiated ({cipher})")
    # Every TLS 1.2 cipher this client offers by default: the chosen one is
    # AEAD with ECDHE.
    ctx = gwtest.client_context(max_version=ssl.TLSVersion.TLSv1_2,
                                ciphers="ALL:@SECLEVEL=0")
    with handshake(ctx) as conn:
        cipher = conn.sock.cipher()[0]
        t.check(AEAD.search(cipher) and cipher.startswith("ECDHE-"),
                f"TLS 1.2 with every cipher offered picks ECDHE+AEAD "
                f"({cipher})")
    # A client offering only CBC (non-AEAD) suites is refused.
    for cbc in ("ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
                "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",
                "AES128-GCM-SHA256:AES256-SHA256"):
        ctx = gwtest.client_context(max_version=ssl.TLSVersion.TLSv1_2,
                                    ciphers=cbc + ":@SECLEVEL=0")
        try:
            with handshake(ctx) as conn:
                ok, info = False, conn.sock.cipher()
        except (ssl.SSLError, OSError) as e:
            ok, info = True, str(e)
        t.check(ok, f"TLS 1.2 refused with only {cbc.split(':')[0]}...",
                info)
    rc, out = s_client(port, "-tls1_3", "-ciphersuites",
                       "TLS_AES_128_CCM_SHA256", "-servername", "a.test")
    t.check(rc != 0 and "Cipher is (NONE)" in out,
            "TLS 1.3 with only TLS_AES_128_CCM_SHA256 refused", out[-600:])

    # TLS 1.1: the local client may refuse to even offer it.
    ctx = gwtest.client_context(min_version=ssl.TLSVersion.TLSv1_1,
                                max_version=ssl.TLSVersion.TLSv1_1,
                                ciphers="DEFAULT:@SECLEVEL=0")
    try:
        with handshake(ctx) as conn:
            res, err = conn.sock.version(), ""
    except ssl.SSLError as e:
        res, err = None, str(e)
    except OSError as e:
        res, err = None, str(e)
    if res is None and "NO_PROTOCOLS_AVAILABLE" in err.upper().replace(
            " ", "_"):
        t.skip("TLS 1.1 refused", f"the local OpenSSL client will not offer "
               f"TLS 1.1 ({err})")
    else:
        t.check(res is None, "TLS 1.1 refused by the gateway",
                res or err)
        if res is None:
            t.note(f"TLS 1.1 attempt: {err}")

    # -- ALPN -----------------------------------------------------------------
    for offer, want in ((["h2", "http/1.1"], "http/1.1"),
                        (["http/1.1"], "http/1.1"),
                        (["h2"], None), (None, None)):
        ctx = gwtest.client_context(alpn=offer)
        with handshake(ctx) as conn:
            got = conn.sock.selected_alpn_protocol()
            r = conn.get("/echo") if want or offer is None else None
        t.check(got == want and (r is None or r.status == 200),
                f"ALPN offer {offer}: selected {want}", got)

    # -- SNI and certificate choice -------------------------------------------
    def cert_for(ctx, sni):
        with handshake(ctx, sni=sni) as conn:
            return conn.sock.getpeercert(binary_form=True)

    plain = gwtest.client_context()
    for sni, pem, what in (("a.test", c.a_ec[0], "a.test ECDSA"),
                           ("b.test", c.b_ec[0], "b.test"),
                           ("B.TEST", c.b_ec[0], "b.test (SNI case)"),
                           ("unknown.test", c.a_ec[0], "the default"),
                           (None, c.a_ec[0], "the default (no SNI)")):
        t.check(cert_for(plain, sni) == Certs.der(pem),
                f"SNI {sni}: {what} certificate")
    for sni in ("a.test", "b.test"):
        vctx = gwtest.client_context(verify=c.ca)
        try:
            with handshake(vctx, sni=sni) as conn:
                ok = conn.get("/echo").status == 200
        except ssl.SSLError as e:
            ok = str(e)
        t.check(ok is True, f"SNI {sni}: chain verifies against the test CA "
                "with hostname check", ok)
    # RSA versus ECDSA for the same name.
    for ciphers, pem, what in (
            ("ECDHE-RSA-AES128-GCM-SHA256", c.a_rsa[0], "RSA"),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", c.a_ec[0], "ECDSA")):
        ctx = gwtest.client_context(max_version=ssl.TLSVersion.TLSv1_2,
                                    ciphers=ciphers)
        t.check(cert_for(ctx, "a.test") == Certs.der(pem),
                f"TLS 1.2 client with only {ciphers}: {what} certificate")
    for sigalgs, pem, what in (
            ("rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pkcs1_sha256",
             c.a_rsa[0], "RSA"),
            ("ecdsa_secp256r1_sha256", c.a_ec[0], "ECDSA")):
        for ver in ("-tls1_3", "-tls1_2"):
            rc, out = s_client(port, ver, "-sigalgs", sigalgs,
                               "-servername", "a.test")
            t.check(served_cert(out) == Certs.der(pem),
                    f"{ver[1:]} client with sigalgs {sigalgs.split(':')[0]}"
                    f"...: {what} certificate", out[-800:])

    # -- session resumption ---------------------------------------------------
    m0 = gw.metrics()
    resumed0 = gwtest.metric(m0, "gerbang_tls_resumed_total") or 0
    for ver, name in ((ssl.TLSVersion.TLSv1_3, "TLS 1.3"),
                      (ssl.TLSVersion.TLSv1_2, "TLS 1.2")):
        ctx = gwtest.client_context(min_version=ver, max_version=ver)
        with handshake(ctx) as conn:
            conn.get("/echo")       # reads the post-handshake ticket (1.3)
            sess = conn.sock.session
        t.check(sess is not None and sess.has_ticket,
                f"{name}: a session ticket is sent")
        reused = []
        for i in range(3):          # -w 2: the other worker too, likely
            with handshake(ctx, session=sess) as conn:
                r = conn.get("/echo")
                reused.append(conn.sock.session_reused and r.status == 200)
        t.check(all(reused), f"{name}: resumed with the ticket (3 times)",
                reused)
        # Tickets off.
        with handshake(ctx, lname="notickets") as conn:
            conn.get("/echo")
            sess = conn.sock.session
        t.check(sess is None or not sess.has_ticket,
                f"{name}: no ticket sent with session_tickets: false")
        with handshake(ctx, lname="notickets", session=sess) as conn:
            r = conn.get("/echo")
            t.check(not conn.sock.session_reused and r.status == 200,
                    f"{name}: no resumption with session_tickets: false")
    m1 = gw.metrics()
    resumed1 = gwtest.metric(m1, "gerbang_tls_resumed_total") or 0
    t.check(resumed1 - resumed0 == 6, "gerbang_tls_resumed_total counts the "
            "6 resumptions", (resumed0, resumed1))
    t.check((gwtest.metric(m1, "gerbang_tls_handshake_failures_total") or 0)
            >= 3, "gerbang_tls_handshake_failures_total counts refusals")


if __name__ == "__main__":
    gwtest.run(main)
