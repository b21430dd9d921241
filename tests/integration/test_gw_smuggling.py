#!/usr/bin/env python3
"""gerbang-gateway against malformed and request-smuggling input.

Each case of the table is sent in one write on a fresh TLS connection.  The
gateway must answer the expected status with "Connection: close" and close
the connection, and the upstream must receive nothing.  The upstream is an
in-process recorder (gwtest.RecordingUpstream) that keeps every byte the
gateway sends it: after each case a marker request (GET /marker/N) goes
through the gateway on a new connection, and the bytes recorded since the
case began must be exactly that one marker request.  Cases whose fault is
in the body are sent again one byte per TLS record: nothing may reach the
upstream either.

usage: test_gw_smuggling.py BUILD_DIR
"""
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import upstream_conf  # noqa: E402

H = b"Host: a.test\r\n"


def req(head: bytes, body: bytes = b"", line=b"POST /echo HTTP/1.1") -> bytes:
    return line + b"\r\n" + head + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"

# (name, raw request, accepted statuses)
CASES = [
    # -- Content-Length and Transfer-Encoding together ------------------------
    ("CL + TE", req(H + b"Content-Length: 6\r\n" + CHUNKED,
                    b"0\r\n\r\nX"), {400}),
    ("TE + CL", req(H + CHUNKED + b"Content-Length: 6\r\n",
                    b"0\r\n\r\nX"), {400}),
    ("TE + CL: 0", req(H + CHUNKED + b"Content-Length: 0\r\n",
                       b"5\r\nhello\r\n0\r\n\r\n"), {400}),
    # -- Transfer-Encoding spellings ------------------------------------------
    ("TE: chunked by obs-fold", req(H + b"Transfer-Encoding:\r\n chunked\r\n",
                                    b"0\r\n\r\n"), {400}),
    ("TE: chunked then folded line",
     req(H + CHUNKED + b" identity\r\n", b"0\r\n\r\n"), {400}),
    ("TE: xchunked", req(H + b"Transfer-Encoding: xchunked\r\n",
                         b"0\r\n\r\n"), {501}),
    ("TE: identity", req(H + b"Transfer-Encoding: identity\r\n",
                         b"0\r\n\r\n"), {501}),
    ("TE: chunked, chunked", req(H + b"Transfer-Encoding: chunked, chunked"
                                 b"\r\n", b"0\r\n\r\n"), {400, 501}),
    ("TE: gzip, chunked", req(H + b"Transfer-Encoding: gzip, chunked\r\n",
                              b"0\r\n\r\n"), {400, 501}),
    ("TE twice", req(H + CHUNKED + CHUNKED, b"0\r\n\r\n"), {400}),
    ("TE: \"chunked\" (quoted)", req(H + b'Transfer-Encoding: "chunked"\r\n',
                                     b"0\r\n\r\n"), {400}),
    ("TE: VT chunked", req(H + b"Transfer-Encoding: \x0bchunked\r\n",
                           b"0\r\n\r\n"), {400}),
    ("TE in HTTP/1.0", req(H + CHUNKED, b"0\r\n\r\n",
                           line=b"POST /echo HTTP/1.0"), {400}),
    ("Transfer_Encoding (underscore)",
     req(H + b"Transfer_Encoding: chunked\r\n", b"0\r\n\r\n"), {400}),
    ("TE with space before colon",
     req(H + b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), {400}),
    ("TE with tab before colon",
     req(H + b"Transfer-Encoding\t: chunked\r\n", b"0\r\n\r\n"), {400}),
    # -- Content-Length spellings ---------------------------------------------
    ("duplicate CL (equal)", req(H + b"Content-Length: 5\r\n"
                                 b"Content-Length: 5\r\n", b"hello"), {400}),
    ("duplicate CL (different)", req(H + b"Content-Length: 5\r\n"
                                     b"Content-Length: 6\r\n", b"hello!"),
     {400}),
    ("CL: 5, 5", req(H + b"Content-Length: 5, 5\r\n", b"hello"), {400}),
    ("CL: +5", req(H + b"Content-Length: +5\r\n", b"hello"), {400}),
    ("CL: -1", req(H + b"Content-Length: -1\r\n"), {400}),
    ("CL: 0x5", req(H + b"Content-Length: 0x5\r\n", b"hello"), {400}),
    ("CL: empty", req(H + b"Content-Length: \r\n"), {400}),
    ("CL: 5 0", req(H + b"Content-Length: 5 0\r\n", b"hello"), {400}),
    ("CL: 20 digits", req(H + b"Content-Length: 00000000000000000005\r\n",
                          b"hello"), {400}),
    ("CL: 2^63", req(H + b"Content-Length: 9223372036854775808\r\n"),
     {400}),
    ("Content_Length (underscore)", req(H + b"Content_Length: 5\r\n",
                                        b"hello"), {400}),
    ("CL with space before colon", req(H + b"Content-Length : 5\r\n",
                                       b"hello"), {400}),
    # -- line endings and bytes -----------------------------------------------
    ("bare LF after request line", b"GET /echo HTTP/1.1\n" + H + b"\r\n",
     {400}),
    ("bare LF after a header", b"GET /echo HTTP/1.1\r\nHost: a.test\n"
     b"X-A: b\r\n\r\n", {400}),
    ("bare LF ends the head", b"GET /echo HTTP/1.1\r\nHost: a.test\n\n",
     {400}),
    ("bare CR in a value", req(H + b"X-A: b\rc\r\n",
                               line=b"GET /echo HTTP/1.1"), {400}),
    ("NUL in a value", req(H + b"X-A: b\x00c\r\n",
                           line=b"GET /echo HTTP/1.1"), {400}),
    ("NUL in a name", req(H + b"X-\x00A: b\r\n",
                          line=b"GET /echo HTTP/1.1"), {400}),
    ("control 0x01 in a value", req(H + b"X-A: b\x01\r\n",
                                    line=b"GET /echo HTTP/1.1"), {400}),
    ("DEL in a value", req(H + b"X-A: b\x7f\r\n",
                           line=b"GET /echo HTTP/1.1"), {400}),
    ("obs-fold in another header", req(H + b"X-A: b\r\n c\r\n",
                                       line=b"GET /echo HTTP/1.1"), {400}),
    ("whitespace before the first header", b"GET /echo HTTP/1.1\r\n"
     b" Host: a.test\r\n\r\n", {400}),
    ("space in a header name", req(H + b"X Foo: bar\r\n",
                                   line=b"GET /echo HTTP/1.1"), {400}),
    ("empty header name", req(H + b": bar\r\n",
                              line=b"GET /echo HTTP/1.1"), {400}),
    ("header line without colon", req(H + b"X-Foo bar\r\n",
                                      line=b"GET /echo HTTP/1.1"), {400}),
    ("nine empty lines before the request", b"\r\n" * 9 +
     b"GET /echo HTTP/1.1\r\n" + H + b"\r\n", {400}),
    # -- chunked bodies -------------------------------------------------------
    ("chunk size zz", req(H + CHUNKED, b"zz\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk size with leading space", req(H + CHUNKED,
                                          b" 5\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("chunk size with space before ext", req(H + CHUNKED,
                                             b"5 ;a=b\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("chunk size of 17 digits", req(H + CHUNKED, b"00000000000000005\r\n"
                                    b"hello\r\n0\r\n\r\n"), {400}),
    ("chunk size -5", req(H + CHUNKED, b"-5\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk size 0x5", req(H + CHUNKED, b"0x5\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("chunk data longer than its size", req(H + CHUNKED,
                                            b"5\r\nhelloXX\r\n0\r\n\r\n"),
     {400}),
    ("bare LF after chunk size", req(H + CHUNKED, b"5\nhello\r\n0\r\n\r\n"),
     {400}),
    ("empty chunk extension", req(H + CHUNKED, b"5;\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("malformed trailer", req(H + CHUNKED,
                              b"5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n"),
     {400}),
    # -- sizes ----------------------------------------------------------------
    ("request line over 8 KiB", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" +
     H + b"\r\n", {414}),
    ("header line over 8 KiB", req(H + b"X-Big: " + b"a" * 9000 + b"\r\n",
                                   line=b"GET /echo HTTP/1.1"), {431}),
    ("101 headers", req(H + b"".join(b"X-N%d: n\r\n" % i for i in range(101)),
                        line=b"GET /echo HTTP/1.1"), {431}),
    ("head over 64 KiB", req(H + b"".join(b"X-B%d: " % i + b"b" * 8000 +
                                          b"\r\n" for i in range(9)),
                             line=b"GET /echo HTTP/1.1"), {431}),
    ("Content-Length over body_size (413)",
     req(H + b"Content-Length: 2000\r\n", b"x" * 2000), {413}),
    ("Expect: 100-continue over body_size: 413, no 100",
     req(H + b"Content-Length: 2000\r\nExpect: 100-continue\r\n"), {413}),
    ("chunked body over body_size (413)",
     req(H + CHUNKED, b"800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n"), {413}),
    # -- request line and target ----------------------------------------------
    ("HTTP/2.0", b"GET /echo HTTP/2.0\r\n" + H + b"\r\n", {505}),
    ("HTTP/1.2", b"GET /echo HTTP/1.2\r\n" + H + b"\r\n", {505}),
    ("http/1.1 in lower case", b"GET /echo http/1.1\r\n" + H + b"\r\n",
     {400}),
    ("HTTP/0.9 request line", b"GET /echo\r\n\r\n", {400}),
    ("two spaces in the request line", b"GET  /echo HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("space after the version", b"GET /echo HTTP/1.1 \r\n" + H + b"\r\n",
     {400}),
    ("NUL in the request line", b"GET /ec\x00ho HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("bad method character", b"GE(T /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("fragment in the target", b"GET /echo#x HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("backslash in the target", b"GET /a\\..\\echo HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("byte 0xff in the target", b"GET /ech\xff HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("target without leading slash", b"GET echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("%2F in the path", b"GET /a%2Fecho HTTP/1.1\r\n" + H + b"\r\n", {400}),
    (".. above the root", b"GET /../echo HTTP/1.1\r\n" + H + b"\r\n", {400}),
    # Tomcat and Spring drop ";params" and then read ".." (and ".")
    ("..; segment", b"GET /x/..;/echo HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("..;p=1 segment", b"GET /x/..;p=1/echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("%2e%2e; segment", b"GET /x/%2e%2e;/echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    (".; segment", b"GET /x/.;/echo HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("..%3B segment", b"GET /x/..%3B/echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    # Java servers drop ";params": /echo;x/../admin, /admin;x past a rule
    ("; in a segment", b"GET /x;p=1/echo HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("; at the end", b"GET /echo;jsessionid=1 HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("bare ;", b"GET /echo; HTTP/1.1\r\n" + H + b"\r\n", {400}),
    # overlong UTF-8 for '.', '/' and '\\'
    ("overlong %c0%ae%c0%ae", b"GET /x/%c0%ae%c0%ae/echo HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("overlong %C0%AF", b"GET /x%C0%AF..%C0%AFecho HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("overlong %c1%9c", b"GET /x%c1%9c HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("overlong %e0%80%ae", b"GET /x/%e0%80%ae%e0%80%ae/echo HTTP/1.1\r\n" +
     H + b"\r\n", {400}),
    ("overlong %f0%80%80%af", b"GET /x%f0%80%80%afecho HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("GET *", b"GET * HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("GET in authority form", b"GET a.test:443 HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("CONNECT", b"CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
     {400, 405}),
    ("CONNECT with a body", b"CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443"
     b"\r\nContent-Length: 5\r\n\r\nhello", {400, 405}),
    ("OPTIONS * (no route)", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", {404}),
    # -- Host -----------------------------------------------------------------
    ("absolute form, other host", b"GET http://b.test/echo HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("absolute form, other port", b"GET http://a.test:8443/echo HTTP/1.1\r\n"
     + H + b"\r\n", {400}),
    ("absolute form with userinfo", b"GET http://u@a.test/echo HTTP/1.1\r\n" +
     H + b"\r\n", {400}),
    ("absolute form, other scheme", b"GET ftp://a.test/echo HTTP/1.1\r\n" + H
     + b"\r\n", {400}),
    ("no Host in HTTP/1.1", b"GET /echo HTTP/1.1\r\nX-A: b\r\n\r\n", {400}),
    ("two Host headers", b"GET /echo HTTP/1.1\r\n" + H + H + b"\r\n", {400}),
    ("two different Host headers", b"GET /echo HTTP/1.1\r\n" + H +
     b"Host: b.test\r\n\r\n", {400}),
    ("empty Host", b"GET /echo HTTP/1.1\r\nHost: \r\n\r\n", {400}),
    ("Host with a path", b"GET /echo HTTP/1.1\r\nHost: a.test/x\r\n\r\n",
     {400}),
    ("Host with userinfo", b"GET /echo HTTP/1.1\r\nHost: u@a.test\r\n\r\n",
     {400}),
    ("Host with port 70000", b"GET /echo HTTP/1.1\r\nHost: a.test:70000"
     b"\r\n\r\n", {400}),
    ("Host list", b"GET /echo HTTP/1.1\r\nHost: a.test, b.test\r\n\r\n",
     {400}),
    # -- second red team: Transfer-Encoding variants --------------------------
    ("TE: chunked,", req(H + b"Transfer-Encoding: chunked,\r\n",
                         b"0\r\n\r\n"), {400}),
    ("TE: , chunked", req(H + b"Transfer-Encoding: , chunked\r\n",
                          b"0\r\n\r\n"), {400}),
    ("TE: chunked NEL (0x85)", req(H + b"Transfer-Encoding: chunked\x85\r\n",
                                   b"0\r\n\r\n"), {400}),
    ("TE: NEL chunked", req(H + b"Transfer-Encoding: \x85chunked\r\n",
                            b"0\r\n\r\n"), {400}),
    ("TE: chunked VT", req(H + b"Transfer-Encoding: chunked\x0b\r\n",
                           b"0\r\n\r\n"), {400}),
    ("TE: chunked FF", req(H + b"Transfer-Encoding: \x0cchunked\r\n",
                           b"0\r\n\r\n"), {400}),
    ("TE: chunked;q=1", req(H + b"Transfer-Encoding: chunked;q=1\r\n",
                            b"0\r\n\r\n"), {400, 501}),
    ("TE: identity, chunked", req(H + b"Transfer-Encoding: identity, chunked"
                                  b"\r\n", b"0\r\n\r\n"), {400, 501}),
    ("TE: chunked, identity", req(H + b"Transfer-Encoding: chunked, identity"
                                  b"\r\n", b"0\r\n\r\n"), {400, 501}),
    ("TE: chunked then TE: identity", req(H + CHUNKED +
                                          b"Transfer-Encoding: identity\r\n",
                                          b"0\r\n\r\n"), {400}),
    ("TE: empty", req(H + b"Transfer-Encoding: \r\n", b"0\r\n\r\n"), {400}),
    ("TE name with 0xff", req(H + b"Transfer-Encoding\xff: chunked\r\n",
                              b"0\r\n\r\n"), {400}),
    ("TE: chunk", req(H + b"Transfer-Encoding: chunk\r\n", b"0\r\n\r\n"),
     {400, 501}),
    ("TE in a trailer", req(H + CHUNKED, b"5\r\nhello\r\n0\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n"), {400}),
    ("CL in a trailer", req(H + CHUNKED, b"5\r\nhello\r\n0\r\n"
                            b"Content-Length: 50\r\n\r\n"), {400}),
    ("Content_Length in a trailer", req(H + CHUNKED, b"0\r\n"
                                        b"content_length: 5\r\n\r\n"),
     {400}),
    ("Host in a trailer", req(H + CHUNKED, b"0\r\nHost: evil.test\r\n\r\n"),
     {400}),
    ("trailer with obs-fold", req(H + CHUNKED, b"0\r\nX-T: a\r\n b\r\n\r\n"),
     {400}),
    ("trailer ends with bare LF", req(H + CHUNKED, b"0\r\nX-T: a\n\r\n"),
     {400}),
    ("NUL in a trailer", req(H + CHUNKED, b"0\r\nX-T: a\x00\r\n\r\n"),
     {400}),
    # -- Content-Length variants ----------------------------------------------
    ("CL: 5,", req(H + b"Content-Length: 5,\r\n", b"hello"), {400}),
    ("CL: ,5", req(H + b"Content-Length: ,5\r\n", b"hello"), {400}),
    ("CL: 5.0", req(H + b"Content-Length: 5.0\r\n", b"hello"), {400}),
    ("CL: 5e0", req(H + b"Content-Length: 5e0\r\n", b"hello"), {400}),
    ("CL: 5 then VT", req(H + b"Content-Length: 5\x0b\r\n", b"hello"), {400}),
    ("CL: 20 nines", req(H + b"Content-Length: 99999999999999999999\r\n"),
     {400}),
    ("CL: Arabic-Indic digit", req(H + b"Content-Length: \xd9\xa5\r\n",
                                   b"hello"), {400}),
    ("CL: whitespace only", req(H + b"Content-Length:  \t \r\n"), {400}),
    ("CL in HTTP/1.0 with TE", req(H + b"Content-Length: 5\r\n" + CHUNKED,
                                   b"hello", line=b"POST /echo HTTP/1.0"),
     {400}),
    # -- chunk lines ----------------------------------------------------------
    ("chunk size +5", req(H + CHUNKED, b"+5\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk size 5 then tab", req(H + CHUNKED, b"5\t\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("chunk size of 19 digits", req(H + CHUNKED, b"0000000000000000005\r\n"
                                    b"hello\r\n0\r\n\r\n"), {400}),
    ("chunk ext with CR LF in quotes", req(H + CHUNKED, b"5;a=\"b\r\nc\"\r\n"
                                           b"hello\r\n0\r\n\r\n"), {400}),
    ("chunk ext with LF in quotes", req(H + CHUNKED, b"5;a=\"b\nc\"\r\n"
                                        b"hello\r\n0\r\n\r\n"), {400}),
    ("chunk ext, unterminated quote", req(H + CHUNKED, b"5;a=\"b\r\nhello"
                                          b"\r\n0\r\n\r\n"), {400}),
    ("chunk ext ;=b", req(H + CHUNKED, b"5;=b\r\nhello\r\n0\r\n\r\n"),
     {400}),
    ("chunk ext ends with bare LF", req(H + CHUNKED, b"5;a=b\nhello\r\n"
                                        b"0\r\n\r\n"), {400}),
    ("chunk ext with bare CR", req(H + CHUNKED, b"5;a\rb\r\nhello\r\n"
                                   b"0\r\n\r\n"), {400}),
    ("chunk line with CR CR LF", req(H + CHUNKED, b"5\r\r\nhello\r\n"
                                     b"0\r\n\r\n"), {400}),
    ("chunk data ends with bare LF", req(H + CHUNKED, b"5\r\nhello\n0\r\n"
                                         b"\r\n"), {400}),
    ("last chunk ends with bare LF", req(H + CHUNKED, b"0\r\n\n"), {400}),
    ("chunk data shorter than its size", req(H + CHUNKED, b"6\r\nhello\r\n"
                                             b"0\r\n\r\n"), {400}),
    # -- request line ---------------------------------------------------------
    ("lower-case method get", b"get /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("mixed-case method Get", b"Get /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("lower-case method head", b"head /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("lower-case post with a body", req(H + b"Content-Length: 5\r\n", b"hello",
                                       line=b"post /echo HTTP/1.1"), {400}),
    ("tab after the method", b"GET\t/echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("tab before the version", b"GET /echo\tHTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("space before the method", b" GET /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("HTTP/1.10", b"GET /echo HTTP/1.10\r\n" + H + b"\r\n", {400}),
    ("HTTP/01.1", b"GET /echo HTTP/01.1\r\n" + H + b"\r\n", {400}),
    ("HTTP/1", b"GET /echo HTTP/1\r\n" + H + b"\r\n", {400}),
    ("PRI * HTTP/2.0 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
     {400, 505}),
    ("space inside the target", b"GET /echo?a b HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("raw UTF-8 in the target", b"GET /\xc3\xa9cho HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    ("DEL in the target", b"GET /ec\x7fho HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("request line ends with bare CR", b"GET /echo HTTP/1.1\r" + H + b"\r\n",
     {400}),
    ("NUL before the request", b"\x00GET /echo HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("absolute form with userinfo and @ host",
     b"GET http://a.test@b.test/echo HTTP/1.1\r\nHost: b.test\r\n\r\n",
     {400}),
    ("absolute form with a fragment", b"GET http://a.test/echo#f HTTP/1.1\r\n"
     + H + b"\r\n", {400}),
    ("absolute form, IPv6 host, other Host", b"GET http://[::1]/echo HTTP/1.1"
     b"\r\n" + H + b"\r\n", {400}),
    ("absolute form, empty port", b"GET http://a.test:/echo HTTP/1.1\r\n" +
     H + b"\r\n", {400}),
    ("%00 in the query", b"GET /echo?a=%00 HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("malformed % in the query", b"GET /echo?a=%g0 HTTP/1.1\r\n" + H +
     b"\r\n", {400}),
    # -- Host -----------------------------------------------------------------
    ("Host with a bracket left open", b"GET /echo HTTP/1.1\r\nHost: [::1\r\n"
     b"\r\n", {400}),
    ("Host with an empty port", b"GET /echo HTTP/1.1\r\nHost: a.test:\r\n"
     b"\r\n", {400}),
    ("Host with two ports", b"GET /echo HTTP/1.1\r\nHost: a.test:1:2\r\n"
     b"\r\n", {400}),
    ("Host with a 6-digit port", b"GET /echo HTTP/1.1\r\nHost: a.test:000443"
     b"\r\n\r\n", {400}),
    ("Host with 0xff", b"GET /echo HTTP/1.1\r\nHost: a\xff.test\r\n\r\n",
     {400}),
    ("Host with a space inside", b"GET /echo HTTP/1.1\r\nHost: a .test\r\n"
     b"\r\n", {400}),
    # -- fields ---------------------------------------------------------------
    ("header name with 0x80", req(H + b"X-\x80: b\r\n",
                                  line=b"GET /echo HTTP/1.1"), {400}),
    ("header name with '@'", req(H + b"X@Y: b\r\n",
                                 line=b"GET /echo HTTP/1.1"), {400}),
    ("header line with CR CR LF", req(H + b"X-A: b\r\r\n",
                                      line=b"GET /echo HTTP/1.1"), {400}),
    ("tab before the first header", b"GET /echo HTTP/1.1\r\n\tHost: a.test"
     b"\r\n\r\n", {400}),
    ("form feed in a value", req(H + b"X-A: b\x0cc\r\n",
                                 line=b"GET /echo HTTP/1.1"), {400}),
    ("ESC in a value", req(H + b"X-A: \x1b[0m\r\n",
                           line=b"GET /echo HTTP/1.1"), {400}),
    # -- after an error: nothing more is read ---------------------------------
    ("pipelined request after a bad one", req(H + b"Content-Length: x\r\n",
                                              b"GET /smuggled HTTP/1.1\r\n" +
                                              H + b"\r\n"), {400}),
    ("a whole second request in a bad chunked body",
     req(H + CHUNKED, b"5\r\nhello\r\n0x\r\n\r\nGET /smuggled HTTP/1.1\r\n" +
         H + b"\r\n"), {400}),
]


# Cases whose fault is in the body, sent again one byte per TLS record: the
# head is whole and valid long before the fault arrives, and still nothing
# may reach the upstream (the gateway holds a body until it is whole).
BYTEWISE = [
    "chunk size zz", "chunk size 0x5", "chunk data longer than its size",
    "bare LF after chunk size", "empty chunk extension", "malformed trailer",
    "TE in a trailer", "CL in a trailer", "Host in a trailer",
    "trailer with obs-fold", "chunk ext with LF in quotes",
    "chunk ext with CR LF in quotes", "chunk size of 19 digits",
    "chunk data ends with bare LF", "last chunk ends with bare LF",
    "chunked body over body_size (413)",
    "a whole second request in a bad chunked body",
]


def main(t: gwtest.Test):
    rec = t.recording_upstream()
    conf = t.config(upstreams=[upstream_conf("rec", [rec])],
                    routes=[{"name": "main", "path": "/"}],
                    limits={"body_size": "1k"},
                    timeouts={"request_header": "3s", "request_body": "3s"})
    gw = t.gateway(conf, workers=1)
    t.check(len(CASES) >= 40, f"{len(CASES)} cases")
    bad0 = gwtest.metric(gw.metrics(), "gerbang_bad_requests_total")

    # The marker works and is recorded exactly.
    with gw.conn() as conn:
        r = conn.get("/marker/start")
    t.require(r.status == 200 and r.body == b"ok /marker/start",
              "marker request through the gateway", r)

    for i, (name, raw, want) in enumerate(CASES):
        mark = rec.snapshot()
        data, err, closed = b"", "", False
        try:
            with gw.conn() as conn:
                try:
                    conn.send(raw)
                except OSError as e:       # refused mid-send: read anyway
                    err = f"send: {e}"
                data = conn.read_until_close(timeout=5)
                closed = conn.eof
        except OSError as e:
            err += f" {type(e).__name__}: {e}"
        r, rest = gwtest.parse_one_response(data)
        status = r.status if r else None
        ok = r is not None and status in want and r.closes and closed and \
            not rest
        t.check(ok, f"{name}: {status} + Connection: close + closed",
                {"want": sorted(want), "response": r, "closed": closed,
                 "rest": rest[:200], "err": err, "raw": data[:300]})
        if r is not None and status in want and r.header("content-type") == \
                "application/json":
            try:
                j = r.json()
                t.check(j.get("status") == status and
                        j.get("request_id") == r.header("x-request-id"),
                        f"{name}: JSON error body", j)
            except ValueError:
                t.check(False, f"{name}: JSON error body", r.body)
        # The marker, then what the upstream got since the case began.
        marker = f"/marker/{i}".encode()
        try:
            with gw.conn() as conn:
                m = conn.get(marker.decode())
            mok = m.status == 200 and m.body == b"ok " + marker
        except (OSError, EOFError, gwtest.ProtocolError) as e:
            mok, m = False, e
        time.sleep(0.01)
        got = rec.since(mark)
        heads = re.findall(rb"(?m)^[A-Za-z]+ \S+ HTTP/1\.1\r$", got)
        t.check(mok and got.startswith(b"GET " + marker + b" HTTP/1.1\r\n")
                and len(heads) == 1 and got.count(b"\r\n\r\n") == 1 and
                got.endswith(b"\r\n\r\n"),
                f"{name}: the upstream received nothing",
                {"marker": m, "upstream got": got[:600]})
    table = {name: (raw, want) for name, raw, want in CASES}
    for name in BYTEWISE:
        raw, want = table[name]
        mark = rec.snapshot()
        data, closed = b"", False
        try:
            with gw.conn() as conn:
                try:
                    for k in range(len(raw)):
                        conn.send(raw[k:k + 1])
                        time.sleep(0.0005)
                except OSError:
                    pass
                data = conn.read_until_close(timeout=5)
                closed = conn.eof
        except OSError:
            pass
        r, rest = gwtest.parse_one_response(data)
        time.sleep(0.05)
        got = rec.since(mark)
        t.check(r is not None and r.status in want and r.closes and closed
                and not got, f"{name}, byte by byte: "
                f"{r.status if r else None}, closed, nothing forwarded",
                {"raw": data[:300], "upstream got": got[:300]})
    m = gw.metrics()
    bad1 = gwtest.metric(m, "gerbang_bad_requests_total")
    t.check(bad0 is not None and bad1 is not None and bad1 - bad0 >= 60,
            "gerbang_bad_requests_total counts the refused requests",
            (bad0, bad1))


if __name__ == "__main__":
    gwtest.run(main)
