#!/usr/bin/env python3
"""gerbang-sensor reads a capture file in place (a read-only mapping) when
it is a classic pcap file in the host's byte order, and through libpcap
otherwise; standard input always goes through libpcap. On one generated
capture and variants of it (nanosecond timestamps, a record longer than
the snapshot length in the middle, a file cut inside a record and inside a
record header, the other byte order, a BPF filter), "-r FILE" must give
exactly what "-r - < FILE" gives: the same transactions, the same error
and the same exit status.

usage: test_sensor_mapped.py BUILD_DIR
"""
import json
import pathlib
import re
import struct
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def records(data):
    """The global header and the records of a little-endian pcap file."""
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        out.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return data[:24], out


def swapped(data):
    """The same capture written big-endian (libpcap reads it swapped)."""
    hdr, recs = records(data)
    f = struct.unpack("<IHHiIII", hdr)
    out = [struct.pack(">IHHiIII", *f)]
    for r in recs:
        out.append(struct.pack(">IIII", *struct.unpack_from("<IIII", r)))
        out.append(r[16:])
    return b"".join(out)


def nano(data):
    hdr, recs = records(data)
    out = [struct.pack("<I", 0xA1B23C4D) + hdr[4:]]
    for r in recs:
        sec, usec, caplen, length = struct.unpack_from("<IIII", r)
        out.append(struct.pack("<IIII", sec, usec * 1000 + 999, caplen,
                               length))
        out.append(r[16:])
    return b"".join(out)


def oversized(data):
    """Snapshot length 65535 and, half way, a 70000-byte frame of no
    protocol the sensor reads (libpcap cuts it to the snapshot length)."""
    hdr, recs = records(data)
    f = list(struct.unpack("<IHHiIII", hdr))
    f[5] = 65535
    half = len(recs) // 2
    sec, usec = struct.unpack_from("<II", recs[half])
    frame = b"\xff" * 12 + b"\x88\xb5" + b"\x00" * (70000 - 14)
    big = struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    return (struct.pack("<IHHiIII", *f) + b"".join(recs[:half]) + big +
            b"".join(recs[half:]))


def run(exe, work, name, args, stdin_path=None, path=None):
    tx = work / (name + ".jsonl")
    cmd = [str(exe), "-r", "-" if stdin_path else str(path),
           "--transactions", str(tx), "--all", "--log-level", "error"] + args
    with open(stdin_path or "/dev/null", "rb") as fin:
        p = subprocess.run(cmd, stdin=fin, capture_output=True, timeout=120)
    errs = [re.sub(r"^\S+ gerbang-sensor\[\d+\] ", "", line)
            for line in p.stderr.decode(errors="replace").splitlines()]
    return p.returncode, tx.read_bytes() if tx.exists() else b"", errs


def main():
    build = pathlib.Path(sys.argv[1])
    exe = build / "detectors" / "gerbang-sensor"
    with tempfile.TemporaryDirectory(prefix="gerbang-mapped-") as tmp:
        work = pathlib.Path(tmp)
        base = work / "base.pcap"
        gen = subprocess.run([sys.executable, str(REPO / "tests" / "bench" /
                                                  "gen_bench_pcap.py"),
                              str(base), "2", "4"],
                             capture_output=True, text=True, timeout=120)
        check(gen.returncode == 0, "capture generated")
        info = json.loads(gen.stdout)
        data = base.read_bytes()
        hdr, recs = records(data)
        cut_rec = len(data) - len(recs[-1]) // 2
        variants = {
            "plain": (data, []),
            "nano": (nano(data), []),
            "oversized": (oversized(data), []),
            "cut-record": (data[:cut_rec], []),
            "cut-header": (data[:len(data) - len(recs[-1]) + 7], []),
            "swapped": (swapped(data), []),
            "filter": (data, ["-f", "tcp port 80 and len != 1514"]),
        }
        for name, (blob, args) in variants.items():
            path = work / (name + ".pcap")
            path.write_bytes(blob)
            rc_m, tx_m, err_m = run(exe, work, name + "-file", args,
                                    path=path)
            rc_s, tx_s, err_s = run(exe, work, name + "-stdin", args,
                                    stdin_path=path)
            n = tx_m.count(b"\n")
            check(rc_m == rc_s and err_m == err_s,
                  f"{name}: exit {rc_m} and errors {err_m} as from stdin")
            check(tx_m == tx_s and n > 0,
                  f"{name}: {n} transactions, as from stdin")
            if name == "plain":
                check(rc_m == 0 and err_m == [] and
                      n == info["txns"], f"plain: all {info['txns']} read")
            if name.startswith("cut"):
                check(rc_m != 0 and any("truncated" in e for e in err_m),
                      f"{name}: the cut is reported")
    if FAILS:
        print(f"{len(FAILS)} failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
