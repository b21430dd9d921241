#!/usr/bin/env python3
"""Write a large HTTP capture with personal data for bench_sensor.sh.

usage: gen_bench_pcap.py OUT.pcap MIB [INTERLEAVE]

Ethernet/IPv4/TCP, 1448-byte segments, many connections (keep-alive, 8
transactions each; INTERLEAVE of them at a time, their packets in turn,
default 1: one after the other). Response bodies are JSON records with
valid NIKs, phone numbers and e-mail addresses (deploy/demo/pii_gen.py);
a third of the
responses are chunked, a third gzip-compressed, a third plain. TCP
checksums are left zero (no tool here verifies them). Prints what it wrote
as one JSON line: bytes, packets, transactions, NIKs in plain bodies.
"""
import json
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "demo"))
import pii_gen  # noqa: E402

MSS = 1448


def bodies(rng, regions, n, records):
    out = []
    for _ in range(n):
        rows = []
        for i in range(records):
            rows.append({"id": rng.randrange(1 << 30),
                         "nama": "Warga %d" % i,
                         "nik": pii_gen.make_nik(rng, regions=regions),
                         "no_hp": pii_gen.make_phone(rng),
                         "alamat": "Jl. Merdeka No. %d" % rng.randrange(999),
                         "email": "warga%d@example.id" % rng.randrange(99999)})
        out.append(json.dumps({"data": rows}).encode())
    return out


def chunked(body, size=4096):
    out = []
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out.append(b"%x\r\n" % len(part) + part + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


def main():
    path, mib = sys.argv[1], float(sys.argv[2])
    interleave = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    target = int(mib * (1 << 20))
    rng = random.Random(42)
    regions = pii_gen.load_regions()
    plain = bodies(rng, regions, 24, 400)       # ~60 KB each
    responses = []
    for i, b in enumerate(plain):
        kind = i % 3
        if kind == 0:
            h = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
                b"Content-Length: %d\r\n\r\n" % len(b)
            responses.append((h + b, b.count(b'"nik"')))
        elif kind == 1:
            h = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
                b"Transfer-Encoding: chunked\r\n\r\n"
            responses.append((h + chunked(b), b.count(b'"nik"')))
        else:
            z = zlib.compressobj(6, zlib.DEFLATED, 31)
            gz = z.compress(b) + z.flush()
            h = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
                b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % \
                len(gz)
            responses.append((h + gz, 0))
    eth_c2s = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
    eth_s2c = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    written = pkts = txns = niks = 0
    ts = 1700000000.0
    conn = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

        def emit(link, src, dst, sport, dport, seq, ack, flags, data):
            nonlocal written, pkts, ts
            tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                              ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), 0,
                             0x4000, 64, 6, 0, src, dst)
            frame = link + ip + tcp + data
            ts += 0.00001
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6),
                                len(frame), len(frame)))
            f.write(frame)
            written += len(frame) + 16
            pkts += 1

        def connection(conn):
            nonlocal txns, niks
            c = bytes([10, 1, (conn >> 8) & 255, conn & 255])
            s = bytes([10, 2, 0, 1 + conn % 8])
            cp, sp = 1024 + conn % 60000, 80
            cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
            yield (eth_c2s, c, s, cp, sp, cseq, 0, 0x02, b"")
            yield (eth_s2c, s, c, sp, cp, sseq, cseq + 1, 0x12, b"")
            cseq += 1
            sseq += 1
            yield (eth_c2s, c, s, cp, sp, cseq, sseq, 0x10, b"")
            for _ in range(8):
                req = (b"GET /api/v1/penduduk?page=%d HTTP/1.1\r\nHost: "
                       b"api.example.go.id\r\nX-Gerbang-Consumer: bench\r\n"
                       b"\r\n" % rng.randrange(1000))
                yield (eth_c2s, c, s, cp, sp, cseq, sseq, 0x18, req)
                cseq += len(req)
                resp, n = responses[rng.randrange(len(responses))]
                for i in range(0, len(resp), MSS):
                    part = resp[i:i + MSS]
                    yield (eth_s2c, s, c, sp, cp, sseq, cseq, 0x10, part)
                    sseq += len(part)
                    if (i // MSS) % 2:
                        yield (eth_c2s, c, s, cp, sp, cseq, sseq, 0x10, b"")
                txns += 1
                niks += n
            yield (eth_c2s, c, s, cp, sp, cseq, sseq, 0x11, b"")
            yield (eth_s2c, s, c, sp, cp, sseq, cseq + 1, 0x11, b"")
            yield (eth_c2s, c, s, cp, sp, cseq + 1, sseq + 1, 0x10, b"")

        # `interleave` connections at a time, one packet each in turn
        # (1: one connection after the other).
        live = []
        while True:
            while len(live) < interleave and written < target:
                conn += 1
                live.append(connection(conn))
            if not live:
                break
            for g in list(live):
                try:
                    emit(*next(g))
                except StopIteration:
                    live.remove(g)
    print(json.dumps({"bytes": written, "packets": pkts, "txns": txns,
                      "plain_niks": niks, "connections": conn}))


if __name__ == "__main__":
    main()
