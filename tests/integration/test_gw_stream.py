#!/usr/bin/env python3
"""gerbang-gateway streams bodies: a 100 MB request body (PUT /sink) and a
100 MB response (/bytes/104857600) pass through one worker whose peak RSS
(VmHWM) stays under 64 MB; both are checked with SHA-256.

usage: test_gw_stream.py BUILD_DIR
"""
import hashlib
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import gwtest  # noqa: E402
from gwtest import pattern, pattern_sha256, upstream_conf  # noqa: E402

SIZE = 100 * 1024 * 1024
LIMIT_KB = 64 * 1024


def vm_kb(status: dict, key: str) -> int:
    try:
        return int(status.get(key, "0 kB").split()[0])
    except ValueError:
        return 0


def main(t: gwtest.Test):
    up = t.upstream()
    conf = t.config(upstreams=[upstream_conf("up", [up])],
                    routes=[{"name": "main", "path": "/"}])
    # Under AddressSanitizer freed memory waits in a quarantine (256 MB by
    # default) that would dominate the peak RSS: keep it small.
    gw = t.gateway(conf, workers=1,
                   env={"ASAN_OPTIONS": "quarantine_size_mb=4"})
    pids = gw.serving()
    t.require(len(pids) == 1 and pids[0] in gw.live_workers(),
              "the worker is a child of the master", (pids,
                                                      gw.live_workers()))
    worker = pids[0]
    limit = LIMIT_KB
    expect = pattern_sha256(SIZE)
    before = gw.worker_status(worker)
    t.note(f"worker {worker} before: VmHWM {vm_kb(before, 'VmHWM')} kB, "
           f"VmRSS {vm_kb(before, 'VmRSS')} kB")

    # -- 100 MB up ------------------------------------------------------------
    t0 = time.monotonic()
    with gw.conn(timeout=30) as conn:
        conn.send(b"PUT /sink HTTP/1.1\r\nHost: a.test\r\n"
                  b"Content-Type: application/octet-stream\r\n"
                  b"Content-Length: %d\r\n\r\n" % SIZE)
        for off in range(0, SIZE, 65536):
            conn.send(pattern(off, min(65536, SIZE - off)))
        r = conn.read_final("PUT")
        j = r.json() if r.status == 200 else {}
        t.check(r.status == 200 and j.get("body_len") == SIZE and
                j.get("body_sha256") == expect,
                "100 MB request body arrives intact (sha256)", r)
        up_s = time.monotonic() - t0

        # -- 100 MB down (same connection: keep-alive after a big body) -------
        t0 = time.monotonic()
        r = conn.get(f"/bytes/{SIZE}", keep_body=False)
        t.check(r.status == 200 and r.body_len == SIZE and
                r.body_sha256 == expect and
                r.header("content-length") == str(SIZE),
                "100 MB response arrives intact (sha256)",
                (r.status, r.body_len, r.headers))
        down_s = time.monotonic() - t0
    t.note(f"up {SIZE / up_s / 1e6:.0f} MB/s, down "
           f"{SIZE / down_s / 1e6:.0f} MB/s")

    # A chunked response of the same size, and a chunked upload.
    with gw.conn(timeout=30) as conn:
        r = conn.get(f"/chunked/{SIZE // 4}", keep_body=False)
        t.check(r.status == 200 and r.chunked and r.body_len == SIZE // 4
                and r.body_sha256 == pattern_sha256(SIZE // 4),
                "25 MB chunked response intact", (r.status, r.body_len))
        conn.send(b"POST /sink HTTP/1.1\r\nHost: a.test\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        h = hashlib.sha256()
        n = SIZE // 4
        for off in range(0, n, 65536):
            piece = pattern(off, min(65536, n - off))
            h.update(piece)
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        r = conn.read_final("POST")
        j = r.json() if r.status == 200 else {}
        t.check(r.status == 200 and j.get("body_len") == n and
                j.get("body_sha256") == h.hexdigest(),
                "25 MB chunked request body intact", r)

    after = gw.worker_status(worker)
    hwm = vm_kb(after, "VmHWM")
    t.check(worker in gw.live_workers() and hwm > 0,
            "the same worker served everything", (worker,
                                                    gw.live_workers()))
    t.check(0 < hwm < limit, f"worker peak RSS {hwm // 1024} MB < "
            f"{limit // 1024} MB", after)
    e = [x for x in gw.access_log() if x.get("path") == "/sink"]
    t.check(e and e[0].get("bytes_in", 0) >= SIZE,
            "access log counts the 100 MB in", e[:1])


if __name__ == "__main__":
    gwtest.run(main)
