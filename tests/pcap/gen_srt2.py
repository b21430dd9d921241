#!/usr/bin/env python3
"""Red team 2: generated captures for cases gen_pcaps.py does not cover.

usage: gen_srt2.py OUTDIR

Builds on gen_pcaps.py's byte-level layers (Python 3 standard library only:
no scapy, so the suite gains no dependency) and adds what those lack: TCP
options (window scale, timestamps), several pcapng interfaces with their
own if_tsresol, nanosecond and big-endian pcap, a file cut inside its last
record, IPv4/IPv6 fragment trains, long IPv6 extension chains, gzip
members, raw deflate, chunk extensions and trailers, identifiers cut across
segments, chunks and deflate blocks, windows of many small answers, and the
consumer header signed, bare, badly signed and replayed. Each scenario's
docstring says what a correct sensor reports; TESTLIST.srt2 (passing) and
TESTLIST.pending (fails today, with the reason) hold the expectations.
"""
import base64
import gzip
import json
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as g  # noqa: E402
from gen_pcaps import (BASE_TS, LINK_ETH, LINK_SLL2, Conv, chunk,  # noqa
                       consumer_header, eth, ip4, ip6, json_body, people,
                       request, response, simple, split, sll2, stamp)


# --- writers -----------------------------------------------------------------

def pcap_bytes(linktype, frames, nano=False, big=False, snaplen=262144):
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for ts, data in frames:
        sec = int(ts)
        frac = int(round((ts - sec) * (1e9 if nano else 1e6)))
        out += struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data
    return out


def opt(code, val):
    return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def pcapng_multi(ifaces, frames):
    """ifaces: [(linktype, tsresol byte or None)]; frames: (ifidx, ts,
    data). if_tsresol 0x80|n is 2^-n, n is 10^-n."""
    out = g._block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for link, res in ifaces:
        opts = b""
        if res is not None:
            opts = opt(9, bytes([res])) + opt(0, b"")
        out += g._block(1, struct.pack("<HHI", link, 0, 262144) + opts)
    for idx, ts, data in frames:
        res = ifaces[idx][1]
        if res is None:
            units = 1e6
        elif res & 0x80:
            units = float(2 ** (res & 0x7F))
        else:
            units = float(10 ** res)
        t = int(round(ts * units))
        out += g._block(6, struct.pack("<IIIII", idx, t >> 32,
                                       t & 0xFFFFFFFF, len(data),
                                       len(data)) + data)
    return out


# --- TCP with options --------------------------------------------------------

def tcp_o(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"",
          win=65535):
    fl = 0
    for ch, bit in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16)):
        if ch in flags:
            fl |= bit
    opts += b"\x01" * (-len(opts) % 4)
    hl = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, hl << 4, fl, win, 0, 0) + opts
    seg = hdr + payload
    s, d = g.addr(src), g.addr(dst)
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), 6)
    c = g.csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def o_ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val, ecr)


def o_ws(shift):
    return struct.pack("!BBB", 3, 3, shift)


def o_mss(n):
    return struct.pack("!BBH", 2, 4, n)


def ethl(pkts):
    return [eth(p, 0x86DD if p[0] >> 4 == 6 else 0x0800) for p in pkts]


# --- IP fragments ------------------------------------------------------------

def frag4_at(pkt, pieces):
    """pieces: [(offset, length or None for the rest, mf, data or None)]
    fragments of IPv4 packet pkt with its ident; data replaces the bytes."""
    hdr, payload = pkt[:20], pkt[20:]
    ident = struct.unpack("!H", hdr[4:6])[0]
    src = ".".join(str(b) for b in hdr[12:16])
    dst = ".".join(str(b) for b in hdr[16:20])
    out = []
    for off, n, mf, data in pieces:
        part = payload[off:] if n is None else payload[off:off + n]
        if data is not None:
            part = data
        out.append(ip4(src, dst, part, ident=ident, mf=mf, off=off))
    return out


def frag6_at(src, dst, upper, pieces, chain=b"", chain_nh=None, ident=7):
    """IPv6 fragments of upper (TCP) with an unfragmentable chain in front
    of the fragment header. pieces: [(offset, length or None, more)]."""
    out = []
    for off, n, more in pieces:
        part = upper[off:] if n is None else upper[off:off + n]
        fh = struct.pack("!BBHI", 6, 0, off | (1 if more else 0), ident)
        nh = 44 if chain_nh is None else chain_nh
        out.append(ip6(src, dst, part, nh=nh, ext=chain + fh))
    return out


def ext(nh, kind_len=0):
    """An 8-byte extension header (hop-by-hop or destination options with a
    PadN option) whose next header is nh."""
    return struct.pack("!BBBB4s", nh, kind_len, 1, 4, b"\0" * 4)


def routing0(nh):
    """A routing header type 0 with segments left 0 (ignored by a host)."""
    return struct.pack("!BBBBI", nh, 0, 0, 0, 0)


# --- scenarios: link layer and capture files ---------------------------------

def sc_qinq6():
    """IPv6 in 802.1ad + 802.1Q (QinQ): 2 NIKs found."""
    c = Conv(c="2001:db8::1", s="2001:db8::2")
    pkts = simple(c, request("/qinq6"), response(json_body(people(301, 2))),
                  2)
    out = []
    for p in pkts:
        out.append(eth(p, 0x86DD, vlans=[(0x88A8, 200), (0x8100, 20)]))
    return "pcap", LINK_ETH, stamp(out)


def sc_sll2_v4():
    """Linux cooked v2 (the 'any' interface) carrying IPv4: 2 NIKs."""
    pkts = simple(Conv(), request("/sll2v4"),
                  response(json_body(people(302, 2))), 2)
    return "pcap", LINK_SLL2, stamp([sll2(p, 0x0800) for p in pkts])


def sc_ng_multi():
    """pcapng, two Ethernet interfaces: #0 in microseconds (no option),
    #1 with if_tsresol 9 (nanoseconds). The request comes on #0, the
    response on #1 (a tap per direction): one transaction at the response's
    true time, no clock jump."""
    c = Conv()
    pkts = simple(c, request("/ngmulti"),
                  response(json_body(people(303, 3))), 2)
    frames = []
    for i, p in enumerate(pkts):
        src_is_server = p[12:16] == g.addr("10.0.0.2")
        frames.append((1 if src_is_server else 0, BASE_TS + 0.5 + i * 0.001,
                       eth(p, 0x0800)))
    return "pcapng", [(LINK_ETH, None), (LINK_ETH, 9)], frames


def sc_ng_tsres2():
    """pcapng, one interface with if_tsresol 0x8a (2^-10 s): times are
    read as binary fractions; the transaction's time is the response's."""
    pkts = simple(Conv(), request("/ngres2"),
                  response(json_body(people(304, 1))), 1)
    frames = [(0, BASE_TS + 0.25 + i * 0.125, eth(p, 0x0800))
              for i, p in enumerate(pkts)]
    return "pcapng", [(LINK_ETH, 0x8A)], frames


def sc_nano():
    """Nanosecond pcap (magic a1b23c4d): same traffic, time kept."""
    pkts = simple(Conv(), request("/nano"),
                  response(json_body(people(305, 2))), 2)
    fr = [(BASE_TS + 0.000123456 + i * 0.001, eth(p, 0x0800))
          for i, p in enumerate(pkts)]
    return "pcap-nano", LINK_ETH, fr


def sc_bigend():
    """A big-endian pcap (another machine's byte order): 2 NIKs."""
    pkts = simple(Conv(), request("/bigend"),
                  response(json_body(people(306, 2))), 2)
    return "pcap-big", LINK_ETH, stamp([eth(p, 0x0800) for p in pkts])


def sc_trunc_last():
    """A capture whose last record is cut (the writer was killed): the
    bulk response before it is still reported and alerted. Today the run
    then exits 1 (libpcap's "truncated dump file"); TESTLIST.pending
    expects exit 0 with a warning (a decision for the lead)."""
    pkts = simple(Conv(), request("/api/penduduk?trunc=1"),
                  response(json_body(people(307, 25))), 3)
    pkts.append(ip4("10.0.0.9", "10.0.0.8", b"\0" * 200, proto=17))
    return "pcap-trunc", LINK_ETH, stamp([eth(p, 0x0800) for p in pkts])


# --- scenarios: IP fragments -------------------------------------------------

def _resp_pkt(seed, n, path):
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request(path)))
    resp = c.sseg(response(json_body(people(seed, n))))
    return c, pkts, resp


def sc_frag4_tiny():
    """A response datagram in 8-byte fragments (the TCP header itself split
    over three of them), sent last to first, the middle one twice with the
    same bytes: reassembled, 2 NIKs, no frag_overlap_diff."""
    c, pkts, resp = _resp_pkt(310, 2, "/tiny")
    n = len(resp) - 20
    pieces = []
    for off in range(0, n, 8):
        last = off + 8 >= n
        pieces.append((off, None if last else 8, not last, None))
    fr = frag4_at(resp, pieces)
    fr = fr[::-1]
    fr.insert(len(fr) // 2, fr[len(fr) // 2])
    pkts += fr + [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_frag4_overlap_shift():
    """Partial overlaps at offsets that do not match fragment starts: the
    datagram in 3 fragments [0,64) [56,160) [152,end) with the overlapped
    bytes equal, in the order 2, 0, 1 (Linux drops such a datagram, and so
    does the sensor: frag_discarded 1), then the segment again
    unfragmented (TCP's retransmission after Linux's drop): 2 NIKs."""
    c, pkts, resp = _resp_pkt(311, 2, "/shift")
    pkts += frag4_at(resp, [(152, None, False, None), (0, 64, True, None),
                            (56, 104, True, None)])
    pkts.append(resp)
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_frag4_dup_diff():
    """Three fragments A B C of a 2-NIK response; B comes first as a copy
    with its digits replaced, then the real B at the same offset and
    length, then C and A. Documented rule: the bytes that came first are
    kept, the copy with other bytes is counted (frag_overlap 1,
    frag_overlap_diff 1), one datagram reassembled. (A host keeps the
    first of two exact duplicates too; the partial overlap is
    frag4_overlap_decoy.) Only the counters are asserted."""
    c, pkts, resp = _resp_pkt(312, 2, "/dupdiff")
    n = len(resp) - 20
    a = (n // 3) // 8 * 8
    b = (2 * n // 3) // 8 * 8
    hend = resp.index(b"\r\n\r\n")
    evil = bytes(0x78 if 0x30 <= x <= 0x39 and 20 + a + i > hend else x
                 for i, x in enumerate(resp[20 + a:20 + b]))
    pkts += frag4_at(resp, [(a, b - a, True, evil), (a, b - a, True, None),
                            (b, None, False, None), (0, a, True, None)])
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_frag6_chain():
    """IPv6: hop-by-hop, destination options, routing (type 0, segments
    left 0), then the fragment header; fragments of the response in
    reverse order, 3 of them: 2 NIKs."""
    cc, ss = "2001:db8::1", "2001:db8::2"
    c = Conv(c=cc, s=ss)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/f6chain")))
    resp = c.sseg(response(json_body(people(313, 2))))
    upper = resp[40:]
    chain = ext(60) + ext(43) + routing0(44)
    fr = frag6_at(ss, cc, upper, [(0, 96, True), (96, 96, True),
                                  (192, None, False)], chain=chain,
                  chain_nh=0)
    pkts += fr[::-1] + [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_frag6_atomic():
    """An IPv6 'atomic fragment' (offset 0, M=0, RFC 6946) carrying the
    whole response segment: processed as it is, 2 NIKs."""
    cc, ss = "2001:db8::1", "2001:db8::2"
    c = Conv(c=cc, s=ss)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/atomic")))
    resp = c.sseg(response(json_body(people(314, 2))))
    pkts += frag6_at(ss, cc, resp[40:], [(0, None, False)])
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_ext6_long():
    """IPv6 response segments behind nine destination-options headers (a
    host processes them all; the sensor walks at most 8): the data is
    still the connection's. A correct sensor finds the 2 NIKs; one that
    stops at 8 loses the segments (ip6_ext_bad) and the response."""
    cc, ss = "2001:db8::1", "2001:db8::2"
    c = Conv(c=cc, s=ss)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/ext9")))
    resp = c.sseg(response(json_body(people(315, 2))))
    chain = b"".join(ext(60) for _ in range(8)) + ext(6)
    pkts.append(ip6(ss, cc, resp[40:], nh=60, ext=chain))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


# --- scenarios: TCP ----------------------------------------------------------

class OConv(Conv):
    """A connection with window scaling and timestamps on every segment."""

    def __init__(self, *a, wscale=7, **k):
        super().__init__(*a, **k)
        self.tsc, self.tss = 1000, 900000
        self.ws = wscale

    def seg(self, frm_client, seq, ack, flags, data=b"", ts=None, win=512):
        if frm_client:
            src, dst, sp, dp = self.c, self.s, self.cport, self.sport
            tsv = self.tsc if ts is None else ts
            ecr = self.tss
        else:
            src, dst, sp, dp = self.s, self.c, self.sport, self.cport
            tsv = self.tss if ts is None else ts
            ecr = self.tsc
        o = o_ts(tsv, ecr)
        if "S" in flags:
            o = o_mss(1460) + b"\x01" + o_ws(self.ws) + b"\x01\x01" + o
            win = 65535
        return self.ip(src, dst, tcp_o(src, dst, sp, dp, seq, ack, flags,
                                       data, o, win))

    def handshake(self):
        out = [self.seg(True, self.cseq, 0, "S")]
        out.append(self.seg(False, self.sseq, self.cseq + 1, "SA"))
        self.cseq += 1
        self.sseq += 1
        self.tsc += 1
        out.append(self.seg(True, self.cseq, self.sseq, "A"))
        return out

    def cseg(self, data, seq=None, advance=True, flags="PA"):
        self.tsc += 1
        p = self.seg(True, self.cseq if seq is None else seq, self.sseq,
                     flags, data)
        if advance:
            self.cseq += len(data)
        return p

    def sseg(self, data, seq=None, advance=True, flags="PA", ts=None):
        if ts is None:
            self.tss += 1
        p = self.seg(False, self.sseq if seq is None else seq, self.cseq,
                     flags, data, ts=ts)
        if advance:
            self.sseq += len(data)
        return p

    def cack(self):
        self.tsc += 1
        return self.seg(True, self.cseq, self.sseq, "A")


def sc_paws_decoy():
    """Timestamps on: before each response segment, a copy of it with the
    digits replaced and a timestamp far older than the last one seen from
    the server (RFC 7323 PAWS: the client drops it). The receiver reads
    the real bytes: a correct sensor finds the 25 NIKs and alerts
    (nik-dump-in-response); one that keeps the first copy sees none."""
    c = OConv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?paws=1")))
    resp = response(json_body(people(320, 25)))
    for part in split(resp, 4):
        decoy = bytes(0x78 if 0x30 <= x <= 0x39 else x for x in part)
        pkts.append(c.sseg(decoy, advance=False, ts=c.tss - 100000))
        pkts.append(c.sseg(part))
    pkts.append(c.cack())
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    pkts.append(c.cack())
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_wscale_rst():
    """Window scale 7 on both SYNs and windows of 512 (64 KiB scaled): an
    RST 40000 bytes past the client's next byte lies in the scaled window
    but not at the next byte, so a receiver only answers it with a
    challenge ACK (RFC 5961 3.2) and so does the sensor (ended_rst 0,
    rst_ignored 1); the response before it is reported."""
    c = OConv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/wsrst")))
    pkts.append(c.sseg(response(json_body(people(321, 2)))))
    pkts.append(c.cack())
    pkts.append(c.seg(True, c.cseq + 40000, 0, "R"))
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_wrap_ooo():
    """Client and server ISNs just below 2^32 (0xFFFFFFF0, 0xFFFFFFFF: the
    server's SYN takes the last number); the response's segments cross the
    wrap and come out of order: 3 NIKs, no gap."""
    c = Conv(isn_c=0xFFFFFFF0, isn_s=0xFFFFFFFF)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/wrapooo?pad=" + "x" * 40)))
    segs = [c.sseg(p) for p in split(response(json_body(people(322, 3))), 4)]
    pkts += [segs[1], segs[3], segs[0], segs[2], c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_onebyte():
    """The response in 1-byte segments, every NIK cut in all its places:
    3 NIKs."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/onebyte")))
    resp = response(json_body(people(323, 3)))
    pkts += [c.sseg(resp[i:i + 1]) for i in range(len(resp))]
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


# --- scenarios: HTTP framing -------------------------------------------------

def sc_expect_keepalive():
    """Keep-alive: a POST with Expect: 100-continue answered 100, its body,
    a 200 with 2 NIKs; a second POST (Content-Length: 0) with Expect that
    the server answers at once with a final 417; then a GET with 3 NIKs:
    three transactions paired right."""
    c = Conv()
    pkts = c.handshake()
    up = b'{"q":"x"}'
    pkts.append(c.cseg(b"POST /up1 HTTP/1.1\r\nHost: a\r\nContent-Length: "
                       b"%d\r\nExpect: 100-continue\r\n\r\n" % len(up)))
    pkts.append(c.sseg(b"HTTP/1.1 100 Continue\r\n\r\n"))
    pkts.append(c.cseg(up))
    pkts.append(c.sseg(response(json_body(people(330, 2)))))
    pkts.append(c.cseg(b"POST /up2 HTTP/1.1\r\nHost: a\r\nContent-Length: "
                       b"0\r\nExpect: 100-continue\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.1 417 Expectation Failed\r\n"
                       b"Content-Length: 0\r\n\r\n"))
    pkts.append(c.cseg(request("/after")))
    pkts.append(c.sseg(response(json_body(people(331, 3)))))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_http10_close():
    """HTTP/1.0 request, HTTP/1.0 response without Content-Length, body
    until the server's FIN (close-delimited), in 3 segments: 3 NIKs."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(b"GET /old HTTP/1.0\r\nHost: a\r\n\r\n"))
    resp = (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" +
            json_body(people(332, 3)))
    pkts += [c.sseg(p) for p in split(resp, 3)]
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="A"))
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_http10_rst():
    """A close-delimited answer ended by the server's RST (in window) after
    its last byte: the body is complete as far as anyone can know: 2 NIKs
    found and reported."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(b"GET /rst HTTP/1.0\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.0 200 OK\r\n\r\n" +
                       json_body(people(333, 2))))
    pkts.append(c.sseg(b"", flags="RA"))
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_chunk_ext_trailer():
    """Chunked with chunk extensions (';name=value', a quoted one) and a
    trailer section, chunk sizes in upper- and lower-case hex with leading
    zeros, cut so every NIK spans two chunks: 4 NIKs."""
    body = json_body(people(334, 4))
    out, i, k = b"", 0, 0
    sizes = [7, 13, 5, 29, 11]
    while i < len(body):
        n = sizes[k % len(sizes)]
        part = body[i:i + n]
        size = ("%04X" if k % 2 else "%x") % len(part)
        e = ';ext=1;q="a;b"' if k % 3 == 0 else ";x"
        out += size.encode() + e.encode() + b"\r\n" + part + b"\r\n"
        i += n
        k += 1
    out += b"0;end\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n"
    head = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Trailer: X-Checksum\r\n\r\n")
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/chext")))
    pkts += [c.sseg(p) for p in split(head + out, 5)]
    pkts.append(c.cseg(request("/next")))
    pkts.append(c.sseg(response(json_body(people(335, 1)))))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def _gz(data, **k):
    z = zlib.compressobj(wbits=31, **k)
    return z.compress(data) + z.flush()


def sc_gzip_members():
    """Content-Encoding: gzip, a body of three gzip members (what
    'cat a.gz b.gz c.gz' gives, and gunzip reads whole), 2 NIKs in each:
    6 NIKs."""
    niks = people(336, 6)
    body = b"".join(_gz(json_body(niks[i:i + 2])) for i in (0, 2, 4))
    pkts = simple(Conv(), request("/members"),
                  response(body, extra=b"Content-Encoding: gzip\r\n"), 3)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_deflate_raw():
    """Content-Encoding: deflate sent as raw deflate (RFC 1951, no zlib
    wrapper, as some servers do): inflated, 4 NIKs."""
    z = zlib.compressobj(wbits=-15)
    body = z.compress(json_body(people(337, 4))) + z.flush()
    pkts = simple(Conv(), request("/rawdefl"),
                  response(body, extra=b"Content-Encoding: deflate\r\n"), 2)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_xgzip_chunked():
    """Content-Encoding: x-gzip on a chunked body whose gzip stream is cut
    in 17-byte chunks: 5 NIKs."""
    gz = _gz(json_body(people(338, 5)))
    pkts = simple(Conv(), request("/xgz"),
                  b"HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunk(gz, 17), 4)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_gzip_flush_split():
    """gzip with a full flush (a new deflate block, byte-aligned) in the
    middle of each NIK, then cut in segments at those flush points: 4
    NIKs."""
    niks = people(339, 4)
    body = json_body(niks)
    z = zlib.compressobj(wbits=31)
    out, pos = b"", 0
    for n in niks:
        i = body.index(n.encode(), pos) + 7
        out += z.compress(body[pos:i]) + z.flush(zlib.Z_FULL_FLUSH)
        pos = i
    out += z.compress(body[pos:]) + z.flush()
    pkts = simple(Conv(), request("/gzflush"),
                  response(out, extra=b"Content-Encoding: gzip\r\n"), 5)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_gzip_no_header():
    """A gzip body sent with no Content-Encoding (a file download,
    application/octet-stream): found by its magic bytes, 3 NIKs."""
    pkts = simple(Conv(), request("/dl"),
                  response(gzip.compress(json_body(people(340, 3)),
                                         mtime=0)), 2)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_json_escdigits():
    """NIKs with only some of their digits written as JSON escapes in
    upper-case hex (\\u0033), in a chunked body cut every 37 bytes, so
    chunks end inside escapes: 3 NIKs."""
    niks = people(341, 3)

    def esc(n, every):
        return "".join("\\u%04X" % ord(ch) if i % every == 0 else ch
                       for i, ch in enumerate(n))
    body = ('{"data":[{"nik":"%s"},{"nik":"%s"},{"nik":"%s"}]}' %
            (esc(niks[0], 2), esc(niks[1], 5), esc(niks[2], 16))).encode()
    pkts = simple(Conv(), request("/escd"),
                  response(body, chunked=True), 3)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_big_response():
    """One 3 MiB Content-Length response (past the 1 MiB --stream-queue)
    with 30 NIKs spread over it, in order, 1448-byte segments, every third
    window delivered out of order (second before first): 30 NIKs and the
    alert."""
    niks = people(342, 30)
    filler = b" " * 100000
    rows = [json.dumps({"nik": n}).encode() for n in niks]
    body = b"[" + b",".join(r + filler for r in rows) + b"]"
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?big=1")))
    resp = response(body)
    segs = [c.sseg(resp[i:i + 1448]) for i in range(0, len(resp), 1448)]
    for i in range(0, len(segs) - 1, 2):
        if i % 6 == 0:
            segs[i], segs[i + 1] = segs[i + 1], segs[i]
    pkts += segs + [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_resp_noreq_close():
    """Capture starts after a HTTP/1.0 request: the close-delimited
    response (no Content-Length) with 25 NIKs is still read to the FIN and
    alerted (NO_REQUEST)."""
    c = Conv()
    c.handshake()
    c.cseg(b"GET /x HTTP/1.0\r\n\r\n")
    pkts = [c.sseg(p) for p in
            split(b"HTTP/1.0 200 OK\r\n\r\n" + json_body(people(343, 25)),
                  3)]
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="A"))
    return "pcap", LINK_ETH, stamp(ethl(pkts))


# --- scenarios: windows and consumers ----------------------------------------

def _small_answers(conv, niks, per, t0, dt, hdr=lambda i: b""):
    """Requests each answered with `per` NIKs, one every dt seconds."""
    out = [(t0 + i * 0.001, p) for i, p in enumerate(conv.handshake())]
    t = t0 + 0.01
    for k, i in enumerate(range(0, len(niks), per)):
        out.append((t, conv.cseg(request("/api/penduduk?p=%d" % k,
                                         extra=hdr(k)))))
        out.append((t + 0.001, conv.sseg(response(json_body(
            niks[i:i + per])))))
        out.append((t + 0.002, conv.cack()))
        t += dt
    out += [(t + i * 0.001, p) for i, p in enumerate(conv.close())]
    return out


def sc_window_source():
    """One client, 21 answers of 10 NIKs, one every 20 s (7 minutes): 210
    distinct within 10 minutes: nik-harvest-by-source once."""
    fr = _small_answers(Conv(), people(350, 210), 10, BASE_TS, 20.0)
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_window_slide():
    """One client: 150 NIKs at t=0, then 60 more at t=10 min 50 s: no 10-
    minute window holds more than 150: no alert (a window cut in sixths
    that keeps its oldest sixth too long would add them up)."""
    niks = people(351, 210)
    c = Conv()
    fr = _small_answers(c, niks[:150], 10, BASE_TS, 1.0)
    d = Conv(cport=40001)
    fr += _small_answers(d, niks[150:], 10, BASE_TS + 650.0, 1.0)
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_window_edge():
    """One client: 120 NIKs at t=0, 90 more at t=9 min 50 s (within 10
    minutes of the first): 210 in one window: nik-harvest-by-source."""
    niks = people(352, 210)
    c = Conv()
    fr = _small_answers(c, niks[:120], 10, BASE_TS, 0.5)
    d = Conv(cport=40001)
    fr += _small_answers(d, niks[120:], 10, BASE_TS + 590.0, 0.5)
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_consumers_pooled():
    """One gateway address, one pooled upstream connection, two signed
    consumers taking turns, each answered 10 NIKs at a time for 35 minutes
    (cons-a 510 distinct, cons-b 190): nik-harvest-by-consumer for cons-a
    only (verified). A verified consumer counts for its consumer alone, not
    for the gateway's address or its pooled connection (docs/sensor.md),
    so nik-harvest-by-source (700 > 200) does not fire on ordinary
    traffic."""
    a, b = people(353, 510), people(354, 190)
    c = Conv(c="10.0.0.50")
    fr = [(BASE_TS + i * 0.001, p) for i, p in enumerate(c.handshake())]
    t = BASE_TS + 0.01
    ia = ib = k = 0
    while ia < len(a) or ib < len(b):
        for who, lst, idx in (("cons-a", a, ia), ("cons-b", b, ib)):
            if idx >= len(lst):
                continue
            h = consumer_header(who, "r%d" % k, int(t))
            fr.append((t, c.cseg(request("/api/penduduk?k=%d" % k,
                                         extra=h))))
            fr.append((t + 0.001, c.sseg(response(json_body(
                lst[idx:idx + 10])))))
            t += 20.0
            k += 1
        ia += 10
        ib += 10
    fr.append((t, c.cack()))
    fr += [(t + 0.001 * (i + 1), p) for i, p in enumerate(c.close())]
    return "pcap", LINK_ETH, [(tt, eth(p, 0x0800)) for tt, p in fr]


def _hdr_one(hdr, seed, path="/api/penduduk"):
    return simple(Conv(), request(path, extra=hdr),
                  response(json_body(people(seed, 25))), 2)


def sc_cons_bare_keyed():
    """With --consumer-key, a bare 'X-Gerbang-Consumer: dinkes-jabar' (the
    gateway signs every one it sets: a client wrote it): consumer-header-
    rejected, then the bulk alert unattributed."""
    pkts = _hdr_one(b"X-Gerbang-Consumer: dinkes-jabar\r\n", 360)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_cons_replayed():
    """A header the gateway signed two hours before the capture time
    (replayed from an old request): a good signature, a stale time: used
    unverified, not rejected; the bulk alert names the consumer,
    consumer_verified false."""
    hdr = consumer_header("dinkes-jabar", "old-1", int(BASE_TS) - 7200)
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 361)))


def sc_cons_future():
    """Signed 4 minutes ahead of the capture time (clock skew inside the 5
    minutes allowed): verified."""
    hdr = consumer_header("dinkes-jabar", "fut-1", int(BASE_TS) + 240)
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 362)))


def sc_cons_two_headers():
    """Two X-Gerbang-Consumer headers: a good signature for cons-a, then a
    bare 'cons-b' a client slipped in. The gateway sets exactly one; two
    are not the gateway's: consumer-header-rejected (or at least never
    cons-b), the bulk alert not attributed to cons-b."""
    hdr = (consumer_header("cons-a", "two-1", int(BASE_TS)) +
           b"X-Gerbang-Consumer: cons-b\r\n")
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 363)))


def sc_cons_sig_other():
    """A good signature of cons-a's header with the id changed to cons-b
    (the rest kept): the signature does not match: rejected."""
    hdr = consumer_header("cons-a", "sw-1", int(BASE_TS))
    hdr = hdr.replace(b"cons-a", b"cons-b", 1)
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 364)))


def sc_frag4_overlap_decoy():
    """The insider's decoy: a response segment with 25 NIKs sent as three
    IPv4 fragments, the middle one first as a copy with the digits
    replaced, then the real middle one overlapping it by 8 bytes at each
    end. The receiver (Linux since 4.19, RFC 5722's rule that IPv4 stacks
    follow) drops a datagram with overlapping fragments; TCP sends the
    segment again, unfragmented, with the real bytes. A correct sensor
    reads the real bytes: 25 NIKs and the alert. Today the reassembled
    decoy is kept and the retransmission's bytes are 'again' (overlap_diff)."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?decoy=1")))
    seq = c.sseq
    data = response(json_body(people(370, 25)))
    resp = c.sseg(data)
    n = len(resp) - 20
    a = (n // 3) // 8 * 8
    b = (2 * n // 3) // 8 * 8
    payload = resp[20:]
    decoy = bytes(0x78 if 0x30 <= x <= 0x39 else x for x in payload[a:b])
    pkts += frag4_at(resp, [(a, b - a, True, decoy), (0, a + 8, True, None),
                            (a - 8, b - a + 16, True, None),
                            (b, None, False, None)])
    pkts.append(c.sseg(data, seq=seq, advance=False))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_gzip_ratio():
    """gzip: 2 MB of spaces (JSON whitespace) in front of 25 NIKs: the
    body inflates at about 1000:1, but its output (2 MB) is far under the
    64 MiB cap. A correct sensor finds the 25 NIKs (a bomb is stopped by
    the output cap); one that stops at ratio 100 loses them and flags
    NOT_INSPECTED."""
    body = b'{"pad":"' + b" " * 2000000 + b'",' + json_body(
        people(371, 25))[1:]
    pkts = simple(Conv(), request("/api/penduduk?gz=ratio"),
                  response(_gz(body, level=9),
                           extra=b"Content-Encoding: gzip\r\n"), 3)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_window_edge2():
    """One client: 120 NIKs at t=95 s, 90 more at t=605 s (8.5 minutes
    later, inside one 10-minute window): 210 distinct in a 10-minute
    window: nik-harvest-by-source. The window slides in sixths (100 s)
    aligned on the clock: at t=605 the window kept is [100, 700) and the
    first 120 fell out: no alert."""
    niks = people(372, 210)
    fr = _small_answers(Conv(), niks[:120], 10, BASE_TS + 95.0, 0.3)
    fr += _small_answers(Conv(cport=40001), niks[120:], 10,
                         BASE_TS + 605.0, 0.3)
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_cons_two_rev():
    """A bare 'X-Gerbang-Consumer: cons-b' before the gateway's signed
    cons-a (the gateway removes every client copy, so two mean a request
    that did not come through it, or a gateway bug): consumer-header-
    rejected. Today the first is taken alone: rejected too, but the
    signed-first order (cons_two_headers) is taken as verified cons-a."""
    hdr = (b"X-Gerbang-Consumer: cons-b\r\n" +
           consumer_header("cons-a", "two-2", int(BASE_TS)))
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 373)))


def sc_cons_rid_replay():
    """One signed header (rid r-1) sent by the gateway once, then copied
    onto a request from another address a minute later (within the 5
    minutes a time may be off): the same rid twice is a replay, not a
    second request of the gateway's (rids are unique per request)."""
    hdr = consumer_header("cons-a", "r-1", int(BASE_TS))
    fr = [(BASE_TS + i * 0.001, p) for i, p in enumerate(
        simple(Conv(), request("/api/penduduk?q=1", extra=hdr),
               response(json_body(people(374, 2))), 1))]
    fr += [(BASE_TS + 60 + i * 0.001, p) for i, p in enumerate(
        simple(Conv(c="10.0.0.66"), request("/api/penduduk", extra=hdr),
               response(json_body(people(375, 25))), 2))]
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_frag6_overlap_decoy():
    """IPv6 version of frag4_overlap_decoy: RFC 5722 says a datagram with
    overlapping fragments MUST be silently discarded (every IPv6 stack
    does); the segment comes again unfragmented with the real bytes: 25
    NIKs and the alert."""
    cc, ss = "2001:db8::1", "2001:db8::2"
    c = Conv(c=cc, s=ss)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?decoy=6")))
    seq = c.sseq
    data = response(json_body(people(376, 25)))
    upper = c.sseg(data)[40:]
    n = len(upper)
    a = (n // 3) // 8 * 8
    b = (2 * n // 3) // 8 * 8
    decoy = bytes(0x78 if 0x30 <= x <= 0x39 else x for x in upper)
    fr = frag6_at(ss, cc, decoy, [(a, b - a, True)])
    fr += frag6_at(ss, cc, upper, [(0, a + 8, True), (a - 8, b - a + 16, True),
                                   (b, None, False)])
    pkts += fr
    pkts.append(c.sseg(data, seq=seq, advance=False))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_tcp_ofo_cover():
    """Out of order: a short decoy of the response's middle (digits
    replaced), then the real middle from the same sequence number and one
    byte longer, then the start and the end. Linux's out-of-order queue
    replaces a queued segment that a new one covers from the same start
    (tcp_data_queue_ofo), so the client reads the real bytes: 25 NIKs and
    the alert. A sensor that keeps the first copy loses the middle."""
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?cover=1")))
    parts = split(response(json_body(people(380, 25))), 3)
    s0 = c.sseq
    s1 = s0 + len(parts[0])
    s2 = s1 + len(parts[1])
    decoy = bytes(0x78 if 0x30 <= x <= 0x39 else x for x in parts[1][:-1])
    pkts.append(c.sseg(decoy, seq=s1, advance=False))
    pkts.append(c.sseg(parts[1], seq=s1, advance=False))
    pkts.append(c.sseg(parts[0], seq=s0, advance=False))
    pkts.append(c.sseg(parts[2], seq=s2, advance=False))
    c.sseq = s2 + len(parts[2])
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_urg_insert():
    """The server sends each NIK in its own segment with one extra byte in
    the middle marked urgent (URG, pointer just past it): a receiver
    without SO_OOBINLINE (every ordinary socket, the gateway's too) takes
    that byte out of the stream, the client reads the 25 NIKs whole: the
    alert. A sensor that reads the urgent byte in line sees 17-digit runs
    and no NIK."""
    c = Conv()
    niks = people(381, 25)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?urg=1")))
    body = json_body(niks)
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    pos = 0
    chunks = []
    for n in niks:
        i = body.index(n.encode(), pos) + 8
        chunks.append(body[pos:i])
        pos = i
    chunks.append(body[pos:])
    pkts.append(c.sseg(head + chunks[0]))
    pkts.append(c.cack())
    for ch in chunks[1:]:
        data = b"7" + ch
        seg = tcp_o(c.s, c.c, c.sport, c.cport, c.sseq, c.cseq, "PA", data)
        # URG flag and an urgent pointer of 1: the urgent byte is data[0]
        seg = bytearray(seg)
        seg[13] |= 0x20
        seg[18:20] = struct.pack("!H", 1)
        seg[16:18] = b"\0\0"
        pseudo = (g.addr(c.s) + g.addr(c.c) +
                  struct.pack("!BBH", 0, 6, len(seg)))
        seg[16:18] = struct.pack("!H", g.csum(pseudo + bytes(seg)))
        pkts.append(c.ip(c.s, c.c, bytes(seg)))
        c.sseq += len(data)
        pkts.append(c.cack())
    pkts += c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_tfo():
    """TCP Fast Open: the signed request rides on the SYN (and its
    cookie option), the response on its own: the request is read, the
    transaction paired and attributed (verified consumer)."""
    c = Conv()
    hdr = consumer_header("dinkes-jabar", "tfo-1", int(BASE_TS))
    req = request("/api/penduduk?tfo=1", extra=hdr)
    syn = c.ip(c.c, c.s, tcp_o(c.c, c.s, c.cport, c.sport, c.cseq, 0, "S",
                               req, o_mss(1460) + struct.pack(
                                   "!BB8s", 34, 10, b"cookie!!")))
    c.cseq += 1 + len(req)
    sa = c.ip(c.s, c.c, tcp_o(c.s, c.c, c.sport, c.cport, c.sseq, c.cseq,
                              "SA"))
    c.sseq += 1
    pkts = [syn, sa, c.cack()]
    pkts.append(c.sseg(response(json_body(people(382, 25)))))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_ce_twice():
    """Content-Encoding given twice (two field lines: 'gzip, gzip', RFC
    9110 5.3) on a body gzip'd twice: inflated twice, 25 NIKs, or at the
    least flagged NOT_INSPECTED; never a clean transaction with nothing."""
    body = _gz(_gz(json_body(people(383, 25))))
    pkts = simple(Conv(), request("/api/penduduk?ce=2"),
                  response(body, extra=b"Content-Encoding: gzip\r\n"
                           b"Content-Encoding: gzip\r\n"), 2)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_hdr_niks():
    """25 NIKs in a response header (X-Export-Ids: a list), an empty body:
    the gateway passes response headers on, so they leave the agency: the
    alert (headers are not scanned today)."""
    niks = people(384, 25)
    h = b"X-Export-Ids: " + ",".join(niks).encode() + b"\r\n"
    pkts = simple(Conv(), request("/api/penduduk?hdr=1"),
                  response(b"{}", extra=h), 1)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_ng_sections():
    """Two pcapng sections one after the other (what 'cat a.pcapng
    b.pcapng' makes, valid pcapng), each with its Ethernet interface and
    one connection: both transactions."""
    a = simple(Conv(cport=41000), request("/sec1"),
               response(json_body(people(385, 1))), 1)
    b = simple(Conv(cport=41001), request("/sec2"),
               response(json_body(people(386, 2))), 1)
    fa = [(0, BASE_TS + i * 0.001, eth(p, 0x0800)) for i, p in enumerate(a)]
    fb = [(0, BASE_TS + 1 + i * 0.001, eth(p, 0x0800))
          for i, p in enumerate(b)]
    return "pcapng-raw", (pcapng_multi([(LINK_ETH, None)], fa) +
                          pcapng_multi([(LINK_ETH, None)], fb)), None


def sc_ng_tsoffset():
    """pcapng, an interface with if_tsoffset = 1700000000 s and packet
    times counted from it: the transaction's time is absolute."""
    pkts = simple(Conv(), request("/tsoff"),
                  response(json_body(people(387, 1))), 1)
    out = g._block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += g._block(1, struct.pack("<HHI", LINK_ETH, 0, 262144) +
                    opt(14, struct.pack("<q", int(BASE_TS))) + opt(0, b""))
    for i, p in enumerate(pkts):
        t = int(round((0.5 + i * 0.001) * 1e6))
        d = eth(p, 0x0800)
        out += g._block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF,
                                       len(d), len(d)) + d)
    return "pcapng-raw", out, None


def sc_vlan9100():
    """An outer tag with the pre-standard QinQ TPID 0x9100 (Cisco and
    others), then 802.1Q: IPv4 inside, 2 NIKs."""
    pkts = simple(Conv(), request("/v9100"),
                  response(json_body(people(388, 2))), 2)
    return "pcap", LINK_ETH, stamp([eth(p, 0x0800, vlans=[(0x9100, 7),
                                                          (0x8100, 8)])
                                    for p in pkts])


def sc_cons_lower():
    """The consumer header in lower case with spaces around the fields
    (HTTP names are case-insensitive): still verified."""
    hdr = consumer_header("dinkes-jabar", "lc-1", int(BASE_TS))
    hdr = hdr.replace(b"X-Gerbang-Consumer:", b"x-gerbang-consumer:  ")
    hdr = hdr.replace(b"\r\n", b"  \r\n")
    return "pcap", LINK_ETH, stamp(ethl(_hdr_one(hdr, 389)))


def sc_big_hole():
    """A 3 MiB response (30 NIKs, one per 100 KB) whose second segment is
    never captured and no ACK is seen: past the 1 MiB --stream-queue the
    hole is given up as a gap (queue_full) and reading goes on inside the
    Content-Length body: at least the 29 NIKs after the hole, GAP, and the
    alert."""
    niks = people(390, 30)
    filler = b" " * 100000
    body = b"[" + b",".join(json.dumps({"nik": n}).encode() + filler
                            for n in niks) + b"]"
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?hole=1")))
    resp = response(body)
    segs = [c.sseg(resp[i:i + 1448]) for i in range(0, len(resp), 1448)]
    del segs[1]
    pkts += segs
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_oow_decoy():
    """No window scaling, the client advertises 65535: the server first
    sends a decoy of the response's tail 100 KB ahead of the client's
    next byte (out of the window: the receiver drops it, RFC 9293
    3.10.7.4), then the whole response in order. A correct sensor reads
    the real tail: 25 NIKs and the alert."""
    niks = people(391, 25)
    filler = b" " * 120000
    body = b'{"pad":"' + filler + b'",' + json_body(niks)[1:]
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?oow=1")))
    resp = response(body)
    tail = len(resp) - 1400
    decoy = bytes(0x78 if 0x30 <= x <= 0x39 else x for x in resp[tail:])
    pkts.append(c.sseg(decoy, seq=c.sseq + tail, advance=False))
    for i in range(0, len(resp), 1448):
        pkts.append(c.sseg(resp[i:i + 1448]))
        if (i // 1448) % 20 == 19:
            pkts.append(c.cack())
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_b64_gzip():
    """A JSON answer carrying a gzip'd JSON export in base64 (a file field,
    "H4sI..."): 25 NIKs inside, found through base64 then gzip: the alert."""
    inner = base64.b64encode(_gz(json_body(people(392, 25)))).decode()
    body = json.dumps({"file": inner, "name": "export.json.gz"}).encode()
    pkts = simple(Conv(), request("/api/penduduk?b64gz=1"), response(body),
                  2)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_gzip_cut():
    """A close-delimited gzip body the server stops sending half-way (no
    end block, no trailer; FIN): what was inflated is scanned: the NIKs
    in the first half (at least 10 of the 25, 'TRUNCATED' or a decode
    error, never nothing)."""
    niks = people(393, 25)
    gz = _gz(json_body(niks), level=0)
    cut = gz[:len(gz) // 2]
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(b"GET /api/penduduk?cut=1 HTTP/1.1\r\nHost: a\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                       b"Connection: close\r\n\r\n" + cut))
    pkts.append(c.sseg(b"", flags="FA"))
    c.sseq += 1
    pkts.append(c.cseg(b"", flags="FA"))
    c.cseq += 1
    pkts.append(c.sseg(b"", flags="A"))
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_http10_keepalive():
    """HTTP/1.0 with Connection: keep-alive and Content-Length, two
    requests on one connection, then a HEAD answered with
    Transfer-Encoding: chunked and no body, then a GET: four transactions
    paired right."""
    c = Conv()
    pkts = c.handshake()
    b1, b2, b3 = (json_body(people(394 + k, k + 1)) for k in range(3))
    pkts.append(c.cseg(b"GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(b1) + b1))
    pkts.append(c.cseg(b"GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    pkts.append(c.sseg(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(b2) + b2))
    pkts.append(c.cseg(request("/h", method="HEAD")))
    pkts.append(c.sseg(b"HTTP/1.1 200 OK\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n"))
    pkts.append(c.cseg(request("/k3")))
    pkts.append(c.sseg(response(b3)))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_form_pct():
    """A form-encoded response body (application/x-www-form-urlencoded)
    with every digit of 3 NIKs percent-encoded (%33%31...): 3 NIKs."""
    niks = people(397, 3)
    body = "&".join("nik%d=%s" % (i, "".join("%%%02X" % ord(ch) for ch in n))
                    for i, n in enumerate(niks)).encode()
    pkts = simple(Conv(), request("/form"),
                  b"HTTP/1.1 200 OK\r\nContent-Type: application/"
                  b"x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                  % len(body) + body, 1)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_cons_two_gw():
    """One consumer through two gateway addresses (two gateway hosts),
    260 distinct NIKs each, 10 per answer, within the hour: 520 for the
    consumer: nik-harvest-by-consumer (verified); the gateway addresses
    count nothing for a verified consumer (no nik-harvest-by-source)."""
    fr = []
    for gi, (gw, seed) in enumerate((("10.0.0.50", 398), ("10.0.0.51", 399))):
        niks = people(seed, 260)
        c = Conv(c=gw)
        t0 = BASE_TS + gi * 300.0
        fr += _small_answers(c, niks, 10, t0, 10.0, hdr=lambda k, gi=gi:
                             consumer_header("cons-a", "g%d-%d" % (gi, k),
                                             int(t0 + k * 10)))
    fr.sort(key=lambda x: x[0])
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def sc_gzip_hdr_fields():
    """A gzip member with every optional header field (FEXTRA, FNAME,
    FCOMMENT, FHCRC, RFC 1952 2.3.1), the head of the body in 1-byte
    segments so each field is cut in all its places: 4 NIKs."""
    raw = zlib.compressobj(wbits=-15)
    data = json_body(people(400, 4))
    defl = raw.compress(data) + raw.flush()
    extra = b"AP" + struct.pack("<H", 4) + b"\x01\x02\x03\x04"
    hdr = (b"\x1f\x8b\x08\x1e" + struct.pack("<I", 0) + b"\x00\x03" +
           struct.pack("<H", len(extra)) + extra + b"export.json\x00" +
           b"made by srt2\x00")
    hdr += struct.pack("<H", zlib.crc32(hdr) & 0xFFFF)
    gz = hdr + defl + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF,
                                  len(data) & 0xFFFFFFFF)
    resp = response(gz, extra=b"Content-Encoding: gzip\r\n")
    c = Conv()
    pkts = c.handshake()
    pkts.append(c.cseg(request("/gzhdr")))
    start = resp.index(b"\r\n\r\n") + 4
    pkts.append(c.sseg(resp[:start]))
    for i in range(start, start + len(hdr) + 4):
        pkts.append(c.sseg(resp[i:i + 1]))
    pkts.append(c.sseg(resp[start + len(hdr) + 4:]))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_cons_reject_rate():
    """With the key, three requests with a badly signed header from one
    address in 2 minutes, then one 11 minutes later: consumer-header-
    rejected at most once per address per 10 minutes: two alerts."""
    bad = consumer_header("cons-x", "b1", int(BASE_TS),
                          key=b"not-the-gateway-key-0123456789ab")
    fr = []
    for k, dt in enumerate((0.0, 60.0, 120.0, 780.0)):
        c = Conv(cport=42000 + k)
        fr += [(BASE_TS + dt + i * 0.001, p) for i, p in enumerate(
            simple(c, request("/api/x%d" % k, extra=bad), response(b"{}"),
                   1))]
    return "pcap", LINK_ETH, [(t, eth(p, 0x0800)) for t, p in fr]


def _ce_answers(bodies):
    c = Conv()
    pkts = c.handshake()
    for path, b, ce in bodies:
        pkts.append(c.cseg(request(path)))
        pkts.append(c.sseg(response(b, extra=b"Content-Encoding: " + ce +
                                    b"\r\n")))
    pkts += [c.cack()] + c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_ce_mislabel():
    """Content-Encoding that does not match or is spelt oddly: 'gzip' on
    plain JSON (a misconfigured server; curl without --compressed shows
    the body as it is): scanned as written, 3 NIKs; 'GZIP' in capitals
    (codings are case-insensitive): 5 NIKs."""
    return _ce_answers([("/mis0", json_body(people(401, 3)), b"gzip"),
                        ("/mis2", _gz(json_body(people(403, 5))), b"GZIP")])


def sc_ce_deflate_gzip():
    """'Content-Encoding: deflate' on a gzip member (1f 8b magic): docs
    say gzip bodies are found by their magic bytes and inflated: 4 NIKs.
    Today: NOT_INSPECTED (a decode error), 0 NIKs."""
    return _ce_answers([("/mis1", _gz(json_body(people(402, 4))),
                         b"deflate")])

def sc_rst_inexact():
    """A third of a 25-NIK response, then an RST from the client side
    1000 bytes past the client's next byte (inside the window, not at
    it), then the rest. RFC 5961 3.2 (Linux since 3.6): only an RST at
    exactly the next expected sequence number resets; one elsewhere in
    the window gets a challenge ACK and the connection goes on. A correct
    sensor reads on: 25 NIKs and the alert."""
    c = Conv()
    parts = split(response(json_body(people(404, 25))), 3)
    pkts = c.handshake()
    pkts.append(c.cseg(request("/api/penduduk?rst=1")))
    pkts.append(c.sseg(parts[0]))
    pkts.append(c.ip(c.c, c.s, g.tcp(c.c, c.s, c.cport, c.sport,
                                     c.cseq + 1000, 0, "R")))
    pkts += [c.sseg(parts[1]), c.sseg(parts[2]), c.cack()]
    pkts += c.close()
    return "pcap", LINK_ETH, stamp(ethl(pkts))


def sc_layers_all():
    """Every layer at once: NIKs with every digit a JSON \\u escape,
    gzip'd, sent chunked in 7-byte chunks over 9 segments: 4 NIKs."""
    niks = people(405, 4)
    body = ('{"data":[%s]}' % ",".join(
        '{"nik":"%s"}' % "".join("\\u%04x" % ord(ch) for ch in n)
        for n in niks)).encode()
    resp = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunk(_gz(body), 7))
    pkts = simple(Conv(), request("/layers"), resp, 9)
    return "pcap", LINK_ETH, stamp(ethl(pkts))


SCENARIOS = {
    "qinq6": sc_qinq6, "sll2_v4": sc_sll2_v4, "ng_multi": sc_ng_multi,
    "ng_tsres2": sc_ng_tsres2, "nano": sc_nano, "bigend": sc_bigend,
    "trunc_last": sc_trunc_last,
    "frag4_tiny": sc_frag4_tiny, "frag4_overlap_shift":
    sc_frag4_overlap_shift, "frag4_dup_diff": sc_frag4_dup_diff,
    "frag6_chain": sc_frag6_chain, "frag6_atomic": sc_frag6_atomic,
    "ext6_long": sc_ext6_long,
    "paws_decoy": sc_paws_decoy, "wscale_rst": sc_wscale_rst,
    "wrap_ooo": sc_wrap_ooo, "onebyte": sc_onebyte,
    "expect_keepalive": sc_expect_keepalive, "http10_close": sc_http10_close,
    "http10_rst": sc_http10_rst, "chunk_ext_trailer": sc_chunk_ext_trailer,
    "gzip_members": sc_gzip_members, "deflate_raw": sc_deflate_raw,
    "xgzip_chunked": sc_xgzip_chunked, "gzip_flush_split":
    sc_gzip_flush_split, "gzip_no_header": sc_gzip_no_header,
    "json_escdigits": sc_json_escdigits, "big_response": sc_big_response,
    "resp_noreq_close": sc_resp_noreq_close,
    "window_source": sc_window_source, "window_slide": sc_window_slide,
    "window_edge": sc_window_edge, "consumers_pooled": sc_consumers_pooled,
    "cons_bare_keyed": sc_cons_bare_keyed,
    "cons_replayed": sc_cons_replayed, "cons_future": sc_cons_future,
    "cons_two_headers": sc_cons_two_headers,
    "cons_sig_other": sc_cons_sig_other,
    "frag4_overlap_decoy": sc_frag4_overlap_decoy,
    "gzip_ratio": sc_gzip_ratio, "window_edge2": sc_window_edge2,
    "cons_two_rev": sc_cons_two_rev, "cons_rid_replay": sc_cons_rid_replay,
    "frag6_overlap_decoy": sc_frag6_overlap_decoy,
    "tcp_ofo_cover": sc_tcp_ofo_cover, "urg_insert": sc_urg_insert,
    "tfo": sc_tfo, "ce_twice": sc_ce_twice, "hdr_niks": sc_hdr_niks,
    "ng_sections": sc_ng_sections, "ng_tsoffset": sc_ng_tsoffset,
    "vlan9100": sc_vlan9100, "cons_lower": sc_cons_lower,
    "big_hole": sc_big_hole, "oow_decoy": sc_oow_decoy,
    "b64_gzip": sc_b64_gzip, "gzip_cut": sc_gzip_cut,
    "http10_keepalive": sc_http10_keepalive, "form_pct": sc_form_pct,
    "cons_two_gw": sc_cons_two_gw, "gzip_hdr_fields": sc_gzip_hdr_fields,
    "cons_reject_rate": sc_cons_reject_rate, "ce_mislabel": sc_ce_mislabel,
    "ce_deflate_gzip": sc_ce_deflate_gzip, "rst_inexact": sc_rst_inexact,
    "layers_all": sc_layers_all,
}


def write(out, name, fmt, link, frames):
    if fmt == "pcapng-raw":
        with open(os.path.join(out, name + ".pcapng"), "wb") as f:
            f.write(link)
        return
    if fmt == "pcapng":
        path = os.path.join(out, name + ".pcapng")
        data = pcapng_multi(link, frames)
    else:
        path = os.path.join(out, name + ".pcap")
        data = pcap_bytes(link, frames, nano=fmt == "pcap-nano",
                          big=fmt == "pcap-big")
        if fmt == "pcap-trunc":
            data = data[:-100]
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    only = set(sys.argv[2:])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "consumer.key"), "wb") as f:
        f.write(g.CONSUMER_KEY + b"\n")
    for name, fn in SCENARIOS.items():
        if only and name not in only:
            continue
        fmt, link, frames = fn()
        write(out, name, fmt, link, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
