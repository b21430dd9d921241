#!/usr/bin/env python3
"""Generate the sensor's golden captures (tests/pcap/TESTLIST) into a folder.

usage: gen_pcaps.py OUTDIR

Packets are built byte by byte with struct (IPv4, IPv6 and its extension
headers, TCP with real checksums, Ethernet, 802.1Q/QinQ, Linux cooked v1/v2,
BSD null) and written as pcap or pcapng, so every byte of a test input is
visible here. Personal data comes from deploy/demo/pii_gen.py with fixed
seeds; each scenario records what it put in the traffic, which is what the
expected files in tests/pcap/expected/ state.
"""
import base64
import hashlib
import hmac
import json
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "demo"))
import pii_gen  # noqa: E402

LINK_NULL, LINK_ETH, LINK_SLL, LINK_SLL2 = 0, 1, 113, 276
BASE_TS = 1700000000.0


# --- writers ---------------------------------------------------------------

def write_pcap(path, linktype, frames, snaplen=262144):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                            linktype))
        for ts, data in frames:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            cap = data[:snaplen]
            f.write(struct.pack("<IIII", sec, usec, len(cap), len(data)))
            f.write(cap)


def _block(btype, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return (struct.pack("<II", btype, total) + body + b"\0" * pad +
            struct.pack("<I", total))


def write_pcapng(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(_block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for ts, data in frames:
            t = int(round(ts * 1e6))
            f.write(_block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF,
                                          len(data), len(data)) + data))


# --- layers ----------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def addr(a):
    import ipaddress
    return ipaddress.ip_address(a).packed


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    fl = 0
    for ch, bit in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16)):
        if ch in flags:
            fl |= bit
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, 5 << 4, fl, 65535, 0, 0)
    seg = hdr + payload
    s, d = addr(src), addr(dst)
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip4(src, dst, payload, proto=6, ident=1, mf=False, off=0):
    fo = (0x2000 if mf else 0) | (off // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      fo, 64, proto, 0, addr(src), addr(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, payload, nh=6, ext=b""):
    return struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(payload), nh,
                       64, addr(src), addr(dst)) + ext + payload


def hop_by_hop(nh):
    # next header, length 0 (8 bytes), PadN option of 4 bytes
    return struct.pack("!BBBB4s", nh, 0, 1, 4, b"\0" * 4)


def eth(payload, ethertype, vlans=()):
    """dst, src, then (TPID, TCI) per VLAN tag, outer first, ethertype."""
    out = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    for tpid, vid in vlans:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def sll(payload, proto):
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0",
                       proto) + payload


def sll2(payload, proto):
    return struct.pack("!HHIHBB8s", proto, 0, 2, 1, 0, 6,
                       b"\x02\0\0\0\0\x01\0\0") + payload


def null(payload, af):
    return struct.pack("<I", af) + payload


# --- conversations ---------------------------------------------------------

class Conv:
    """One TCP connection; builds IP packets with running sequence numbers."""

    def __init__(self, c="10.0.0.1", s="10.0.0.2", cport=40000, sport=80,
                 isn_c=1000, isn_s=5000):
        self.c, self.s, self.cport, self.sport = c, s, cport, sport
        self.cseq, self.sseq = isn_c, isn_s
        self.v6 = ":" in c
        self.ident = 100

    def ip(self, src, dst, seg):
        self.ident += 1
        if self.v6:
            return ip6(src, dst, seg)
        return ip4(src, dst, seg, ident=self.ident)

    def handshake(self):
        out = [self.ip(self.c, self.s, tcp(self.c, self.s, self.cport,
                                           self.sport, self.cseq, 0, "S"))]
        out.append(self.ip(self.s, self.c, tcp(self.s, self.c, self.sport,
                                               self.cport, self.sseq,
                                               self.cseq + 1, "SA")))
        self.cseq += 1
        self.sseq += 1
        out.append(self.ip(self.c, self.s, tcp(self.c, self.s, self.cport,
                                               self.sport, self.cseq,
                                               self.sseq, "A")))
        return out

    def cseg(self, data, seq=None, advance=True, flags="PA"):
        s = self.cseq if seq is None else seq
        p = self.ip(self.c, self.s, tcp(self.c, self.s, self.cport,
                                        self.sport, s, self.sseq, flags,
                                        data))
        if advance:
            self.cseq += len(data)
        return p

    def sseg(self, data, seq=None, advance=True, flags="PA"):
        s = self.sseq if seq is None else seq
        p = self.ip(self.s, self.c, tcp(self.s, self.c, self.sport,
                                        self.cport, s, self.cseq, flags,
                                        data))
        if advance:
            self.sseq += len(data)
        return p

    def cack(self):
        return self.ip(self.c, self.s, tcp(self.c, self.s, self.cport,
                                           self.sport, self.cseq, self.sseq,
                                           "A"))

    def close(self):
        out = [self.cseg(b"", flags="FA")]
        self.cseq += 1
        out.append(self.sseg(b"", flags="FA"))
        self.sseq += 1
        out.append(self.cack())
        return out


def stamp(pkts, start=0.0):
    return [(BASE_TS + start + i * 0.001, p) for i, p in enumerate(pkts)]


# --- content -----------------------------------------------------------------

def people(seed, n):
    rng = random.Random(seed)
    # The built-in region list, not ../shared's table: the captures (and
    # the masked paths in expected/) must not depend on that file.
    regions = pii_gen.fallback_regions()
    return [pii_gen.make_nik(rng, regions=regions) for _ in range(n)]


def json_body(niks):
    return json.dumps({"data": [{"nama": "Warga %d" % i, "nik": n}
                                for i, n in enumerate(niks)]}).encode()


def request(path, host="api.example.go.id", method="GET", extra=b"",
            body=b""):
    h = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(),
                                             host.encode())
    if body:
        h += b"Content-Length: %d\r\n" % len(body)
    return h + extra + b"\r\n" + body


def response(body, status=200, extra=b"", chunked=False, no_body=False,
             length=None):
    h = b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n" % status
    if chunked:
        h += b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n"
        return h + chunk(body)
    n = len(body) if length is None else length
    h += b"Content-Length: %d\r\n" % n + extra + b"\r\n"
    return h if no_body else h + body


def chunk(body, size=37):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


def split(data, n):
    k = (len(data) + n - 1) // n
    return [data[i:i + k] for i in range(0, len(data), k)]


def simple(conv, req, resp, nresp=1):
    pkts = conv.handshake()
    pkts.append(conv.cseg(req))
    for part in split(resp, nresp):
        pkts.append(conv.sseg(part))
    pkts.append(conv.cack())
    pkts += conv.close()
    return pkts


# --- scenarios -----------------------------------------------------------------

def sc_basic():
    body = json_body(people(1, 3))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/penduduk"),
                             response(body), 3)]


def sc_chunked():
    body = json_body(people(2, 2))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/keluarga"),
                             response(body, chunked=True), 4)]


def sc_pipeline():
    c = Conv()
    a, b2 = json_body(people(3, 1)), json_body(people(4, 2))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/a") + request("/b", method="HEAD") +
                       request("/c")))
    pkts.append(c.sseg(response(a) + response(b"", length=5000,
                                              no_body=True) + response(b2)))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_reorder():
    c = Conv()
    body = json_body(people(5, 3))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/r")))
    parts = split(response(body), 3)
    segs = [c.sseg(p) for p in parts]
    pkts += [segs[0], segs[2], segs[1], c.cack()]
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_retrans():
    c = Conv()
    body = json_body(people(6, 2))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/t")))
    parts = split(response(body), 2)
    s0 = c.sseg(parts[0])
    s1 = c.sseg(parts[1])
    pkts += [s0, s0, s1, s1, c.cack()]
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_overlap():
    """Segment 3 arrives first, then a copy of it with other bytes, then 2:
    the first copy wins, the different copy is counted."""
    c = Conv()
    niks = people(7, 2)
    body = json_body(niks)
    resp = response(body)
    parts = split(resp, 3)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/o")))
    base = c.sseq
    p1 = c.sseg(parts[0])
    p2 = c.sseg(parts[1])
    off3 = len(parts[0]) + len(parts[1])
    p3 = c.sseg(parts[2])
    evil = parts[2].replace(b"Warga", b"XXXXX")
    assert evil != parts[2]
    p3x = c.sseg(evil, seq=base + off3, advance=False)
    pkts += [p1, p3, p3x, p2, c.cack()]
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_gap():
    """A lost segment inside a Content-Length body (the client's ACK passes
    it), then a lost segment inside a chunked body (the stream resyncs at
    the next response)."""
    c = Conv()
    b1 = json_body(people(8, 4))
    b2 = json_body(people(9, 2))
    b3 = json_body(people(10, 1))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/g1")))
    parts = split(response(b1), 4)
    segs = [c.sseg(p) for p in parts]
    pkts += [segs[0], segs[1], segs[3], c.cack()]     # segs[2] lost
    pkts.append(c.cseg(request("/g2") + request("/g3")))
    parts = split(response(b2, chunked=True), 3)
    segs = [c.sseg(p) for p in parts]
    pkts += [segs[0], segs[2]]                        # segs[1] lost
    pkts.append(c.sseg(response(b3)))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_ipv6():
    c = Conv(c="2001:db8::1", s="2001:db8::2")
    body = json_body(people(11, 2))
    pkts = simple(c, request("/v6"), response(body), 2)
    # the request goes with a hop-by-hop options header
    out = []
    for p in pkts:
        if b"GET /v6" in p:
            nh_payload = p[40:]
            p = ip6("2001:db8::1", "2001:db8::2", nh_payload, nh=0,
                    ext=hop_by_hop(6))
        out.append(eth(p, 0x86DD))
    return LINK_ETH, out


def sc_vlan():
    body = json_body(people(12, 2))
    pkts = simple(Conv(), request("/vlan"), response(body), 2)
    out = []
    for i, p in enumerate(pkts):
        if i % 2:
            out.append(eth(p, 0x0800, vlans=[(0x8100, 10)]))
        else:
            out.append(eth(p, 0x0800, vlans=[(0x88A8, 100), (0x8100, 10)]))
    return LINK_ETH, out


def sc_sll():
    body = json_body(people(13, 2))
    return LINK_SLL, [sll(p, 0x0800) for p in
                      simple(Conv(), request("/sll"), response(body), 2)]


def sc_sll2():
    c = Conv(c="2001:db8::10", s="2001:db8::20")
    body = json_body(people(14, 2))
    return LINK_SLL2, [sll2(p, 0x86DD) for p in
                       simple(c, request("/sll2"), response(body), 2)]


def sc_null():
    body = json_body(people(15, 1))
    return LINK_NULL, [null(p, 2) for p in
                       simple(Conv(c="127.0.0.1", s="127.0.0.1",
                                   sport=8080),
                              request("/lo", host="localhost:8080"),
                              response(body), 2)]


def frag4(pkt, sizes, order, overlap=None):
    """Cut IPv4 packet pkt into fragments of the given payload sizes
    (multiples of 8 but the last), emitted in order; overlap = (index,
    bytes) adds a copy of fragment index with other bytes after it."""
    hdr, payload = pkt[:20], pkt[20:]
    ident = struct.unpack("!H", hdr[4:6])[0]
    src = ".".join(str(b) for b in hdr[12:16])
    dst = ".".join(str(b) for b in hdr[16:20])
    frags, off = [], 0
    for i, n in enumerate(sizes):
        last = i == len(sizes) - 1
        part = payload[off:] if last else payload[off:off + n]
        frags.append(ip4(src, dst, part, ident=ident, mf=not last, off=off))
        off += n
    out = []
    for i in order:
        out.append(frags[i])
        if overlap and overlap[0] == i:
            o = 0 if i == 0 else sum(sizes[:i])
            part = overlap[1]
            out.append(ip4(src, dst, part, ident=ident, mf=True, off=o))
    return out


def sc_frag4():
    c = Conv()
    body = json_body(people(16, 2))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/frag")))
    resp = c.sseg(response(body))
    n = len(resp) - 20
    sizes = [96, 96, n - 192]
    orig = resp[20 + 96:20 + 192]
    evil = bytes(b ^ 0x20 if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A else b
                 for b in orig)
    pkts += frag4(resp, sizes, [2, 1, 0], overlap=(1, evil))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_frag6():
    c = Conv(c="2001:db8::1", s="2001:db8::2")
    body = json_body(people(17, 2))
    pkts = c.handshake()
    pkts.append(c.cseg(request("/frag6")))
    resp = c.sseg(response(body))
    upper = resp[40:]
    cut = 128
    out = []
    for i, (off, part) in enumerate(((cut, upper[cut:]), (0, upper[:cut]))):
        more = 1 if off == 0 else 0
        fh = struct.pack("!BBHI", 6, 0, off | more, 0xBEEF)
        out.append(ip6("2001:db8::2", "2001:db8::1", part, nh=44, ext=fh))
    pkts += out
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x86DD) for p in pkts]


def sc_port():
    body = json_body(people(18, 2))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(sport=8081, cport=51000),
                             request("/odd-port"), response(body), 1)]


def sc_raw():
    c = Conv(sport=7000)
    niks = people(19, 2)
    pkts = c.handshake()
    pkts.append(c.cseg(b"\x01\x02HELLO agency-sync v1\n"))
    pkts.append(c.sseg(b"\x00RECORD nik=%s\n\x00RECORD nik=%s\n" %
                       (niks[0].encode(), niks[1].encode())))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_pcapng():
    body = json_body(people(20, 1))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/ng"), response(body), 1)]


def sc_gzip():
    body = json_body(people(21, 3))
    z = zlib.compressobj(wbits=31)
    gz = z.compress(body) + z.flush()
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/gz"),
                             response(gz, extra=b"Content-Encoding: gzip\r\n"),
                             2)]


def sc_deflate():
    """Content-Encoding: deflate (zlib-wrapped), inflated and scanned."""
    body = json_body(people(22, 4))
    z = zlib.compressobj(wbits=15)
    zz = z.compress(body) + z.flush()
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/df"),
                             response(zz, extra=b"Content-Encoding: "
                                      b"deflate\r\n"), 2)]


def sc_escaped():
    """NIKs written as JSON \\u escapes and one in base64: still found."""
    niks = people(23, 3)
    esc = "".join("\\u%04x" % ord(c) for c in niks[0])
    b64 = base64.b64encode(('{"nik":"%s"}' % niks[2]).encode()).decode()
    body = ('{"data":[{"nik":"%s"},{"nik":"%s"}],"blob":"%s"}'
            % (esc, niks[1], b64)).encode()
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/esc"), response(body), 2)]


def sc_status():
    """100 Continue before the answer to a POST; a 204 and a 304 without a
    body; a response read until the server closes."""
    c = Conv()
    niks = people(22, 2)
    pkts = c.handshake()
    upload = json_body(niks[:1])
    pkts.append(c.cseg(request("/up", method="POST", body=upload,
                               extra=b"Expect: 100-continue\r\n")))
    pkts.append(c.sseg(b"HTTP/1.1 100 Continue\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
    pkts.append(c.cseg(request("/none") + request("/same")))
    pkts.append(c.sseg(b"HTTP/1.1 204 No Content\r\n\r\n"
                       b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n"
                       b"\r\n"))
    pkts.append(c.cseg(request("/close")))
    pkts.append(c.sseg(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" +
                       json_body(niks[1:])))
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="A"))
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_consumer():
    nik = people(23, 1)[0]
    body = json_body([nik])
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/warga?nik=" + nik,
                                             extra=b"X-Gerbang-Consumer: "
                                             b"dinkes-jabar\r\n"),
                             response(body), 1)]


# --- detection: alerts (run_pcaps.py passes --rules rules/ --json) ----------

# The consumer-header key of the signed scenarios (written to consumer.key
# next to the captures; the options' @KEY@ names it).
CONSUMER_KEY = b"0123456789abcdef" * 4


def consumer_header(consumer, rid, ts, key=CONSUMER_KEY):
    """X-Gerbang-Consumer as the gateway signs it (core/gb_idhdr.h)."""
    msg = ("gerbang-consumer-v1\n%s\n%s\n%d" % (consumer, rid, ts)).encode()
    sig = base64.urlsafe_b64encode(
        hmac.new(key, msg, hashlib.sha256).digest()).rstrip(b"=")
    return b"X-Gerbang-Consumer: %s; rid=%s; ts=%d; sig=%s\r\n" % (
        consumer.encode(), rid.encode(), ts, sig)


def sc_bulk():
    """One response carrying 30 distinct NIKs: nik-dump-in-response."""
    body = json_body(people(31, 30))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/penduduk?page=1"),
                             response(body), 4)]


def sc_scrape():
    """25 records asked one NIK at a time on one connection."""
    c = Conv()
    pkts = c.handshake()
    for nik in people(32, 25):
        pkts.append(c.cseg(request("/api/penduduk/" + nik)))
        pkts.append(c.sseg(response(json_body([nik]))))
        pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_signed():
    """A bulk response to a consumer the gateway signed for."""
    hdr = consumer_header("dinkes-jabar", "a1b2c3d4-1", int(BASE_TS))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/penduduk", extra=hdr),
                             response(json_body(people(33, 25))), 3)]


def sc_forged():
    """The same, signed with another key: not the gateway's."""
    hdr = consumer_header("dinkes-jabar", "a1b2c3d4-1", int(BASE_TS),
                          key=b"not-the-gateway-key-0123456789ab")
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/penduduk", extra=hdr),
                             response(json_body(people(34, 25))), 3)]


def sc_midstream():
    """Capture starts after the handshake and the request."""
    c = Conv()
    body = json_body(people(24, 2))
    c.handshake()
    c.cseg(request("/missed"))
    pkts = [c.sseg(p) for p in split(response(body), 2)]
    pkts.append(c.cack())
    pkts.append(c.cseg(request("/next")))
    pkts.append(c.sseg(response(json_body(people(25, 1)))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_wrap():
    """Server sequence numbers wrap past 2^32 inside the body."""
    c = Conv(isn_s=0xFFFFFF00)
    body = json_body(people(26, 3))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(c, request("/wrap"), response(body), 4)]


def sc_lenient():
    """What the gateway refuses but a sensor must follow: bare LF line ends
    and an obs-fold in a request, Content-Length beside chunked in a
    response (chunked frames it, as RFC 9112 6.3 says)."""
    c = Conv()
    body = json_body(people(27, 2))
    pkts = c.handshake()
    pkts.append(c.cseg(b"GET /lenient HTTP/1.1\nHost: api.example.go.id\n"
                       b"X-Note: folded\n  value\n\n"))
    pkts.append(c.sseg(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n" + chunk(body)))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_tunnel():
    """CONNECT, 200, then the tunnel's bytes are scanned raw."""
    c = Conv(sport=3128)
    niks = people(28, 2)
    pkts = c.handshake()
    pkts.append(c.cseg(b"CONNECT api.example.go.id:443 HTTP/1.1\r\n"
                       b"Host: api.example.go.id:443\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.1 200 Connection established\r\n\r\n"))
    pkts.append(c.cseg(b"\x16\x03\x01 not really tls nik=%s\n" %
                       niks[0].encode()))
    pkts.append(c.sseg(b"\x17\x03\x03 payload nik=%s\n" % niks[1].encode()))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_snap():
    """Written with a 150-byte snap length: each response segment loses its
    tail, the stream has gaps where the bytes were cut."""
    body = json_body(people(29, 6))
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/snap"), response(body), 2)]


def sc_evict():
    """Two connections interleaved; run with --max-flows 1."""
    a, b = Conv(cport=41000), Conv(cport=42000)
    pa = simple(a, request("/first"), response(json_body(people(30, 1))), 1)
    pb = simple(b, request("/second"), response(json_body(people(31, 1))),
                1)
    out = []
    for x, y in zip(pa, pb):
        out += [x, y]
    return LINK_ETH, [eth(p, 0x0800) for p in out]


# --- red-team regressions: TCP tracking ------------------------------------

def sc_forged_ack():
    """The client acknowledges 100 MB of server data never sent, then asks:
    the answer is still read (an ACK gaps only bytes seen)."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.ip(c.c, c.s, tcp(c.c, c.s, c.cport, c.sport, c.cseq,
                                   c.sseq + 100000000, "A")))
    pkts.append(c.cseg(request("/api/penduduk?all=1")))
    pkts.append(c.sseg(response(json_body(people(40, 30)))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_spoofed_rst():
    """A third of a response, an RST 500000 past the client's next byte
    (outside the window: ignored), then the rest."""
    c = Conv()
    parts = split(response(json_body(people(41, 60))), 3)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/spoof")))
    pkts.append(c.sseg(parts[0]))
    pkts.append(c.ip(c.c, c.s, tcp(c.c, c.s, c.cport, c.sport,
                                   c.cseq + 500000, 0, "R")))
    pkts += [c.sseg(parts[1]), c.sseg(parts[2]), c.cack()]
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_mid_raw():
    """Not HTTP, port 9000, picked up midstream with the server speaking
    first: the lower port is the server, its records are response data."""
    c = Conv(sport=9000)
    c.handshake()
    niks = people(42, 4)
    pkts = [c.sseg(b"".join(b"REC %s\n" % n.encode() for n in niks[:2]))]
    pkts.append(c.cack())
    pkts.append(c.cseg(b"NEXT\n"))
    pkts.append(c.sseg(b"".join(b"REC %s\n" % n.encode() for n in niks[2:])))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_reuse():
    """An unanswered SYN, then a SYN with an ISN 2^31 away (a new
    connection); then a connection the server half-closes, and the same
    5-tuple again with new ISNs."""
    c = Conv(cport=40001, isn_c=1000)
    pkts = [c.ip(c.c, c.s, tcp(c.c, c.s, c.cport, c.sport, 1000, 0, "S"))]
    c.cseq = 0x80000000
    pkts += simple(c, request("/newisn"), response(json_body(people(43, 3))))
    a = Conv(cport=40002, isn_c=1000, isn_s=5000)
    pkts += a.handshake() + [a.cseg(request("/one")),
                             a.sseg(response(json_body(people(44, 2)))),
                             a.cack(), a.sseg(b"", flags="FA")]
    b = Conv(cport=40002, isn_c=2100000000, isn_s=3900000000)
    pkts += simple(b, request("/two"), response(json_body(people(45, 3))))
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_fin_nodata():
    """A health check: handshake, FIN both ways, no data; then a request
    the server closes without answering."""
    c = Conv(cport=40001)
    pkts = c.handshake() + c.close()
    d = Conv(cport=40002)
    pkts += d.handshake() + [d.cseg(request("/noans"))]
    pkts.append(d.sseg(b"", flags="FA"))
    d.sseq += 1
    pkts.append(d.cseg(b"", flags="FA"))
    d.cseq += 1
    pkts.append(d.sseg(b"", flags="A"))
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


# --- red-team regressions: pairing, attribution, alert times ----------------

def sc_resp_only():
    """Midstream: two responses whose requests were not captured, 30 NIKs
    each: two alerts, at the responses' capture times, two incidents."""
    c = Conv()
    c.handshake()
    c.cseg(request("/x") + request("/y"))
    pkts = [c.sseg(response(json_body(people(47, 30))))]
    pkts.append(c.sseg(response(json_body(people(48, 30)))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_pipeline40():
    """40 pipelined requests in one segment, then 40 responses, the k-th
    with k + 1 NIKs: /qk pairs with k + 1."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(b"".join(request("/q%d" % k) for k in range(40))))
    for k in range(40):
        pkts.append(c.sseg(response(json_body(people(100 + k, k + 1)))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_pipelined_attrib():
    """Four times two signed requests for two consumers in one segment (one
    capture time), each asking one NIK in its path; the last two answered
    with 25 NIKs. Run with --scrape-distinct 5: 4 per consumer, no scraping
    alert (8 for one if the two shared an attribution); each bulk alert
    names its own consumer."""
    c = Conv()
    pkts = c.handshake()
    niks = people(51, 8)
    for i in range(4):
        h1 = consumer_header("cons-a", "a%d" % i, int(BASE_TS))
        h2 = consumer_header("cons-b", "b%d" % i, int(BASE_TS))
        pkts.append(c.cseg(request("/api/penduduk/" + niks[2 * i], extra=h1) +
                           request("/api/penduduk/" + niks[2 * i + 1],
                                   extra=h2)))
        if i < 3:
            pkts.append(c.sseg(response(b"{}") + response(b"{}")))
        else:
            pkts.append(c.sseg(response(json_body(people(49, 25))) +
                               response(json_body(people(50, 25)))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_canary():
    """The canary of rules_canary/ in a request path, a request body, and
    twice in a response: four alerts (docs/rules.md: seen anywhere, every
    time)."""
    nik = people(46, 1)[0]
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk/" + nik)))
    pkts.append(c.sseg(response(b"{}")))
    pkts.append(c.cseg(request("/api/upload", method="POST",
                               body=json_body([nik]))))
    pkts.append(c.sseg(response(b"{}")))
    pkts.append(c.cseg(request("/api/get")))
    pkts.append(c.sseg(response(json_body([nik, nik]))))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_nokey_malformed():
    """X-Gerbang-Consumer "Dinas Kesehatan" (not the signed grammar), run
    without --consumer-key: the id is used unverified, nothing rejected."""
    return LINK_ETH, [eth(p, 0x0800) for p in
                      simple(Conv(), request("/api/penduduk", extra=b"X-Gerbang-"
                                             b"Consumer: Dinas Kesehatan\r\n"),
                             response(json_body(people(52, 25))), 2)]


def sc_ts_glitch():
    """Frames with their own times: one unrelated frame stamped a day ahead
    inside a 25-NIK response (a glitch: taken at the clock's time, counted
    in clock_jumps, the connection is not expired); then a connection left
    open (its request stamped before the frame ahead of it: ts_backwards),
    and an hour later two frames of another (a real jump, confirmed by the
    second frame: the open one expires)."""
    c = Conv()
    pk = c.handshake() + [c.cseg(request("/glitch"))]
    parts = split(response(json_body(people(53, 25))), 3)
    fr = [(BASE_TS + i * 0.001, p) for i, p in enumerate(pk)]
    t = BASE_TS + 0.01
    fr.append((t, c.sseg(parts[0])))
    fr.append((t + 86400, ip4("10.9.9.9", "10.9.9.8", b"\0" * 16, proto=17)))
    fr.append((t + 0.002, c.sseg(parts[1])))
    fr.append((t + 0.003, c.sseg(parts[2])))
    fr += [(t + 0.004 + i * 0.001, p) for i, p in enumerate([c.cack()] +
                                                            c.close())]
    d = Conv(cport=40001)
    fr += [(t + 1 + i * 0.001, p) for i, p in enumerate(d.handshake())]
    # 0.5 ms older than the frame before it (newer than the last tick)
    fr.append((t + 1.0015, d.cseg(request("/open"))))
    e = Conv(cport=40002)
    fr += [(t + 3600 + i * 0.001, p) for i, p in enumerate(e.handshake())]
    fr.append((t + 3602, e.cseg(request("/later"))))
    return LINK_ETH, [(ts, eth(p, 0x0800)) for ts, p in fr]


def sc_sev_batched():
    """A 110-NIK response in four segments interleaved with another
    connection's small answers (so it is counted in four batches): one
    pii-dump-in-response alert at the rule's severity (high), as when the
    response comes alone, with the final counts."""
    c, d = Conv(cport=40001), Conv(cport=40002)
    pkts = c.handshake() + d.handshake()
    pkts.append(c.cseg(request("/api/penduduk?size=110")))
    parts = split(response(json_body(people(54, 110))), 4)
    for i, part in enumerate(parts):
        pkts.append(c.sseg(part))
        pkts.append(d.cseg(request("/d%d" % i)))
        pkts.append(d.sseg(response(json_body(people(55 + i, 1)))))
    pkts += [c.cack(), d.cack()] + c.close() + d.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_pend_many():
    """70 connections, each answered with 40 NIKs in two halves, every
    first half before any second: 70 alerts, each with the final 40 (more
    responses waiting for their end than the old table of 64 held)."""
    convs = [Conv(c="10.1.0.%d" % (i + 1), cport=35000 + i)
             for i in range(70)]
    pkts, halves = [], []
    for i, c in enumerate(convs):
        pkts += c.handshake() + [c.cseg(request("/api/penduduk?c=%d" % i))]
    for i, c in enumerate(convs):
        r = response(json_body(people(200 + i, 40)))
        cut = r.index(b"Warga 25")
        halves.append(r[cut:])
        pkts.append(c.sseg(r[:cut]))
    for i, c in enumerate(convs):
        pkts.append(c.sseg(halves[i]))
        pkts.append(c.cack())
    for c in convs:
        pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_scrape_variants():
    """Scraping spread over Host spellings (case, default port) and
    cache-busting query strings: still one origin and template. 25 NIKs
    in paths from one client, 25 in a query parameter from another; run
    with --scrape-distinct 20: two alerts, /api/penduduk/{nik} and
    /warga?nik={nik}."""
    rng = random.Random(5)
    hosts = ["api.example.go.id", "api.example.go.id:80", "API.Example.GO.ID"]
    c = Conv()
    pkts = c.handshake()
    for i, nik in enumerate(people(60, 25)):
        cb = "".join(rng.choice("abcdefghij") for _ in range(5))
        pkts.append(c.cseg(request("/api/penduduk/%s?_=%s" % (nik, cb),
                                   host=hosts[i % 3])))
        pkts.append(c.sseg(response(b"{}")))
    pkts.append(c.cack())
    pkts += c.close()
    d = Conv(c="10.0.0.3")
    pkts += d.handshake()
    for i, nik in enumerate(people(61, 25)):
        cb = "".join(rng.choice("abcdefghij") for _ in range(5))
        pkts.append(d.cseg(request("/warga?v=%d&nik=%s&_=%s" % (i, nik, cb),
                                   host=hosts[i % 3])))
        pkts.append(d.sseg(response(b"{}")))
    pkts.append(d.cack())
    pkts += d.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def sc_target_variants():
    """Identifiers in request targets written to be missed: a NIK
    percent-encoded in the path (found, and masked whole), and three NIKs
    in a query past the 256 bytes a transaction keeps of the target."""
    c = Conv()
    nik = people(62, 1)[0]
    niks = people(63, 3)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk/" +
                               "".join("%%%02X" % ord(ch) for ch in nik))))
    pkts.append(c.sseg(response(b"{}")))
    pkts.append(c.cseg(request("/api/cari?filter=" + "a" * 260 + "&nik=" +
                               ",".join(niks))))
    pkts.append(c.sseg(response(b"{}")))
    pkts.append(c.cack())
    pkts += c.close()
    return LINK_ETH, [eth(p, 0x0800) for p in pkts]


def stamped(frames):
    """(time, frame) pairs as they are, else frames 1 ms apart."""
    if frames and isinstance(frames[0], tuple):
        return frames
    return stamp(frames)


SCENARIOS = {
    "basic": sc_basic, "chunked": sc_chunked, "pipeline": sc_pipeline,
    "reorder": sc_reorder, "retrans": sc_retrans, "overlap": sc_overlap,
    "gap": sc_gap, "ipv6": sc_ipv6, "vlan": sc_vlan, "sll": sc_sll,
    "sll2": sc_sll2, "null": sc_null, "frag4": sc_frag4, "frag6": sc_frag6,
    "port": sc_port, "raw": sc_raw, "pcapng": sc_pcapng, "gzip": sc_gzip,
    "bulk": sc_bulk, "scrape": sc_scrape, "signed": sc_signed,
    "forged": sc_forged,
    "deflate": sc_deflate, "escaped": sc_escaped,
    "status": sc_status, "consumer": sc_consumer, "midstream": sc_midstream,
    "wrap": sc_wrap, "lenient": sc_lenient, "tunnel": sc_tunnel,
    "snap": sc_snap, "evict": sc_evict,
    "forged_ack": sc_forged_ack, "spoofed_rst": sc_spoofed_rst,
    "mid_raw": sc_mid_raw, "reuse": sc_reuse, "fin_nodata": sc_fin_nodata,
    "resp_only": sc_resp_only, "pipeline40": sc_pipeline40,
    "pipelined_attrib": sc_pipelined_attrib, "canary": sc_canary,
    "nokey_malformed": sc_nokey_malformed, "ts_glitch": sc_ts_glitch,
    "sev_batched": sc_sev_batched, "pend_many": sc_pend_many,
    "scrape_variants": sc_scrape_variants,
    "target_variants": sc_target_variants,
}


FUZZ_LINKS = {LINK_ETH: 0, LINK_SLL: 1, LINK_SLL2: 2, LINK_NULL: 3}


def write_fuzz_seed(path, link, frames):
    """tests/fuzz/fuzz_sensor.c input: link index, then per frame a
    big-endian u16 length, a u8 time step and the bytes."""
    out = bytes([FUZZ_LINKS[link]])
    for _, data in frames:
        out += struct.pack("!HB", len(data), 0) + data
    with open(path, "wb") as f:
        f.write(out)


def main():
    if sys.argv[1] == "--fuzz-seeds":
        os.makedirs(sys.argv[2], exist_ok=True)
        for name, fn in SCENARIOS.items():
            link, frames = fn()
            write_fuzz_seed(os.path.join(sys.argv[2], name), link,
                            stamped(frames))
        return 0
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "consumer.key"), "wb") as f:
        f.write(CONSUMER_KEY + b"\n")
    for name, fn in SCENARIOS.items():
        link, frames = fn()
        ts = stamped(frames)
        if name == "pcapng":
            write_pcapng(os.path.join(out, name + ".pcapng"), link, ts)
        elif name == "snap":
            write_pcap(os.path.join(out, name + ".pcap"), link, ts,
                       snaplen=150)
        else:
            write_pcap(os.path.join(out, name + ".pcap"), link, ts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
