#!/usr/bin/env python3
"""Measurement and report helper for tests/bench/bench_gateway.sh.

Standard library only. Subcommands:

  freeport N                 print N free TCP ports on 127.0.0.1
  wait-port PORT [SECS]      wait until 127.0.0.1:PORT accepts connections
  children PID               print the child PIDs of PID (the workers)
  probe --port P             TLS parameters, tickets and resumption of a
                             server (one JSON line)
  run ...                    one wrk run with the proxy's CPU time and
                             counters read around it (appends a JSON line)
  idle ...                   open N idle TLS connections, read the
                             workers' RSS before and after (JSON line)
  report FILE                the tables, from the JSON lines in FILE

The shell script owns the processes; this file only measures and prints.
"""

import argparse
import collections
import json
import os
import re
import resource
import selectors
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROXIES = ("gerbang", "nginx", "haproxy")


# --------------------------------------------------------------- /proc

def children(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            out = [int(x) for x in f.read().split()]
    except OSError:
        pass
    if out:
        return out
    # Fallback: scan /proc for the parent field.
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[1]) == pid:
            out.append(int(d))
    return sorted(out)


def cpu_ticks(pids):
    """utime + stime (clock ticks) of the processes, all their threads."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        # Fields after the command name (which may hold spaces).
        rest = st[st.rindex(")") + 2:].split()
        # rest[0] is field 3 (state): utime is field 14, stime field 15.
        total += int(rest[11]) + int(rest[12])
    return total


def minflt(pids):
    """Minor page faults of the processes (all threads)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        total += int(st[st.rindex(")") + 2:].split()[7])  # field 10
    return total


def cpu_stat():
    """{cpu index: (busy, steal, total)} jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if not m:
                continue
            v = [int(x) for x in m.group(2).split()]
            # user nice system idle iowait irq softirq steal ...
            busy = v[0] + v[1] + v[2] + v[5] + v[6]
            out[int(m.group(1))] = (busy, v[7], sum(v[:8]))
    return out


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


# ------------------------------------------------------------ counters

def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


def gerbang_counters(admin):
    """connections_total, tls_handshakes_total, tls_resumed_total ..."""
    txt = http_get(f"http://{admin}/metrics")
    out = {}
    for line in txt.splitlines():
        m = re.match(r"gerbang_([a-z_]+) (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return {
        "conns": out.get("connections_total"),
        "handshakes": out.get("tls_handshakes_total"),
        "resumed": out.get("tls_resumed_total"),
    }


def haproxy_counters(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(b"show info\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    info = {}
    for line in buf.decode().splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    # CumSslConns counts frontend TLS connections; SslFrontendKeyRate
    # counts key computations (full handshakes) per second only, so the
    # resumption check relies on the server refusing resumption (probe).
    return {
        "conns": int(info.get("CumConns", 0)),
        "handshakes": int(info.get("CumSslConns", 0)),
        "resumed": None,
    }


def nginx_counters(status_url):
    """stub_status: accepts (client connections) of the front nginx."""
    txt = http_get(status_url)
    nums = txt.splitlines()[2].split()
    return {"conns": int(nums[0]), "handshakes": None, "resumed": None}


def upstream_accepts(status_url):
    txt = http_get(status_url)
    return int(txt.splitlines()[2].split()[0])


def counters(args):
    if args.gerbang_admin:
        return gerbang_counters(args.gerbang_admin)
    if args.haproxy_sock:
        return haproxy_counters(args.haproxy_sock)
    if args.nginx_status:
        return nginx_counters(args.nginx_status)
    return {}


# ----------------------------------------------------------------- run

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"bytes":%d,"duration_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,' ..
    '"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.mean,
    latency.max))
end
"""

# The latency scenario: each connection waits DELAY ms after a response
# before its next request (wrk times a request from its write, so the wait
# is not counted): a fixed, moderate rate instead of saturation.
WRK_DELAY_LUA = """
delay = function()
  return %d
end
"""


def cmd_run(args):
    lua = os.path.join(args.workdir, "wrk-report.lua")
    text = WRK_LUA
    if args.delay_ms:
        lua = os.path.join(args.workdir, f"wrk-delay-{args.delay_ms}.lua")
        text = WRK_LUA + WRK_DELAY_LUA % args.delay_ms
    if not os.path.exists(lua):
        with open(lua, "w") as f:
            f.write(text)
    pids = children(args.master) if args.workers_are_children else \
        [args.master]
    if not pids:
        sys.exit(f"run: no worker processes under {args.master}")
    cmd = ["taskset", "-c", args.load_cpu, "wrk", "-t", str(args.threads),
           "-c", str(args.conns), "-d", f"{args.duration:g}s", "--latency",
           "-s", lua]
    if args.close:
        cmd += ["-H", "Connection: close"]
    cmd.append(args.url)

    upids = children(args.upstream_master) if args.upstream_master else []
    c0 = counters(args)
    u0 = upstream_accepts(args.upstream_status)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = cpu_stat()
    ut0 = cpu_ticks(upids)
    f0 = minflt(pids)
    t0 = cpu_ticks(pids)
    w0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=args.duration + 60)
    w1 = time.monotonic()
    t1 = cpu_ticks(pids)
    f1 = minflt(pids)
    ut1 = cpu_ticks(upids)
    s1 = cpu_stat()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c1 = counters(args)
    u1 = upstream_accepts(args.upstream_status)

    m = re.search(r"^WRKJSON (\{.*\})$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit(f"run: wrk failed (exit {p.returncode})")
    w = json.loads(m.group(1))
    req = w["requests"]
    secs = w["duration_us"] / 1e6
    cpu_s = (t1 - t0) / CLK_TCK
    rec = {
        "proxy": args.proxy, "scenario": args.scenario,
        "round": args.round, "workers": pids,
        "duration_s": secs, "wall_s": w1 - w0,
        "requests": req, "bytes": w["bytes"],
        "rps": req / secs if secs else 0.0,
        "mbps": w["bytes"] / secs / 1e6 if secs else 0.0,
        "p50_ms": w["p50_us"] / 1000, "p90_ms": w["p90_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000, "p999_ms": w["p999_us"] / 1000,
        "max_ms": w["max_us"] / 1000, "delay_ms": args.delay_ms,
        "errors": {k[4:]: v for k, v in w.items()
                   if k.startswith("err_") and v},
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s * 1e6 / req if req else None,
        "cpu_util": cpu_s / (w1 - w0),
        "upstream_conns": u1 - u0,
        "minflt_per_req": (f1 - f0) / req if req else None,
        "wrk_cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime +
                                                    r0.ru_stime),
        "upstream_cpu_s": (ut1 - ut0) / CLK_TCK,
    }
    # How busy each core was, all processes (and how much the hypervisor
    # took): a proxy core busier than the proxy itself means something
    # else ran there.
    for name, cpu in (("proxy_core", args.proxy_cpu),
                      ("load_core", args.load_cpu)):
        try:
            i = int(cpu)
        except ValueError:
            continue
        if i in s0 and i in s1:
            tot = s1[i][2] - s0[i][2]
            if tot > 0:
                rec[name + "_busy"] = (s1[i][0] - s0[i][0]) / tot
                rec[name + "_steal"] = (s1[i][1] - s0[i][1]) / tot
    rec["load_cpu_util"] = (rec["wrk_cpu_s"] + rec["upstream_cpu_s"]) / \
        (w1 - w0)
    for k in ("conns", "handshakes", "resumed"):
        if c0.get(k) is not None and c1.get(k) is not None:
            rec[k] = c1[k] - c0[k]
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
    if not args.quiet:
        print(f"  {args.scenario:<10} {args.proxy:<8} r{args.round} "
              f"{rec['rps']:>9.0f} req/s {rec['mbps']:>8.1f} MB/s "
              f"p50 {rec['p50_ms']:.2f} ms p99 {rec['p99_ms']:.2f} ms  "
              f"cpu {rec['cpu_us_per_req'] or 0:.1f} us/req "
              f"({rec['cpu_util'] * 100:.0f}% of a core)"
              + (f"  ERRORS {rec['errors']}" if rec["errors"] else ""),
              flush=True)


# ---------------------------------------------------------------- idle

def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


class Conn:
    __slots__ = ("sock", "ss", "state", "out", "inbuf")


def open_idle(port, n, conc, deadline, request):
    """Open n TLS connections to 127.0.0.1:port; return (conns, failed).

    Non-blocking sockets on one epoll; at most conc connections are
    connecting or handshaking at a time (the listen backlogs stay far
    from full). With request, each connection also sends one GET and
    reads its whole response before it counts as idle.
    """
    ctx = client_ctx()
    sel = selectors.DefaultSelector()
    done, failed = [], 0
    started = inflight = 0
    req = (b"GET /small HTTP/1.1\r\nHost: localhost\r\n"
           b"User-Agent: bench-idle\r\n\r\n")

    def fail(c):
        nonlocal failed, inflight
        try:
            sel.unregister(c.ss or c.sock)
        except (KeyError, ValueError):
            pass
        (c.ss or c.sock).close()
        failed += 1
        inflight -= 1

    def finish(c):
        nonlocal inflight
        sel.unregister(c.ss)
        done.append(c)
        inflight -= 1

    def step(c):
        if c.state == "connect":
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return fail(c)
            sel.unregister(c.sock)
            c.ss = ctx.wrap_socket(c.sock, server_hostname="localhost",
                                   do_handshake_on_connect=False)
            c.sock = None
            sel.register(c.ss, selectors.EVENT_READ | selectors.EVENT_WRITE,
                         c)
            c.state = "hs"
        if c.state == "hs":
            try:
                c.ss.do_handshake()
            except ssl.SSLWantReadError:
                sel.modify(c.ss, selectors.EVENT_READ, c)
                return
            except ssl.SSLWantWriteError:
                sel.modify(c.ss, selectors.EVENT_WRITE, c)
                return
            except (ssl.SSLError, OSError):
                return fail(c)
            if not request:
                return finish(c)
            c.state, c.out, c.inbuf = "send", req, b""
        if c.state == "send":
            try:
                k = c.ss.send(c.out)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                sel.modify(c.ss, selectors.EVENT_WRITE, c)
                return
            except (ssl.SSLError, OSError):
                return fail(c)
            c.out = c.out[k:]
            if c.out:
                sel.modify(c.ss, selectors.EVENT_WRITE, c)
                return
            c.state = "recv"
            sel.modify(c.ss, selectors.EVENT_READ, c)
        if c.state == "recv":
            while True:
                try:
                    d = c.ss.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    return
                except (ssl.SSLError, OSError):
                    return fail(c)
                if not d:
                    return fail(c)
                c.inbuf += d
                h, sep, body = c.inbuf.partition(b"\r\n\r\n")
                if not sep:
                    continue
                m = re.search(rb"(?im)^content-length:\s*(\d+)", h)
                if not h.startswith(b"HTTP/1.1 200") or not m:
                    return fail(c)
                if len(body) >= int(m.group(1)):
                    c.inbuf = b""
                    return finish(c)

    while len(done) + failed < n and time.monotonic() < deadline:
        while inflight < conc and started < n:
            c = Conn()
            c.ss = None
            c.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.sock.setblocking(False)
            c.state = "connect"
            rc = c.sock.connect_ex(("127.0.0.1", port))
            started += 1
            inflight += 1
            if rc not in (0, 115):  # EINPROGRESS
                c.sock.close()
                failed += 1
                inflight -= 1
                continue
            sel.register(c.sock, selectors.EVENT_WRITE, c)
        for key, _ in sel.select(timeout=0.5):
            step(key.data)
    # Whatever is still in flight at the deadline counts as failed.
    for key in list(sel.get_map().values()):
        key.fileobj.close()
        failed += 1
    sel.close()
    return done, failed


def still_open(conns):
    alive = 0
    for c in conns:
        try:
            d = c.ss.recv(1)
            alive += 1 if d else 0
        except ssl.SSLWantReadError:
            alive += 1
        except (ssl.SSLError, OSError):
            pass
    return alive


def cmd_idle(args):
    pids = children(args.master) if args.workers_are_children else \
        [args.master]
    rss0 = rss_kib(pids)
    t0 = time.monotonic()
    conns, failed = open_idle(args.port, args.n, args.concurrency,
                              t0 + args.timeout, args.request)
    t1 = time.monotonic()
    time.sleep(args.settle)
    rss1 = rss_kib(pids)
    alive = still_open(conns)
    for c in conns:
        c.ss.close()
    rec = {
        "proxy": args.proxy, "scenario": "idle", "round": args.round,
        "workers": pids, "n": args.n, "opened": len(conns),
        "failed": failed, "alive": alive, "open_s": t1 - t0,
        "rss_before_kib": rss0, "rss_after_kib": rss1,
        "kib_per_conn": (rss1 - rss0) / alive if alive else None,
        "request": args.request,
    }
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
    print(f"  {'idle':<10} {args.proxy:<8} r{args.round} "
          f"{alive}/{args.n} open in {t1 - t0:.1f} s, RSS "
          f"{rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB, "
          f"{rec['kib_per_conn'] or 0:.2f} KiB/conn"
          + (f"  ({failed} FAILED)" if failed else ""), flush=True)


# --------------------------------------------------------------- probe

def cmd_probe(args):
    """Protocol, suite, group (openssl s_client), tickets, resumption."""
    rec = {"proxy": args.proxy, "scenario": "probe"}
    p = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{args.port}",
         "-servername", "localhost", "-msg", "-ign_eof"],
        input="GET /small HTTP/1.1\r\nHost: localhost\r\n"
              "Connection: close\r\n\r\n",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=20)
    out = p.stdout
    for key, rx in (("protocol", r"^(?:New|Reused), (\S+), Cipher is"),
                    ("cipher", r"^(?:New|Reused), \S+, Cipher is (\S+)"),
                    ("group", r"^Server Temp Key: (.+)$"),
                    ("peer_sig", r"^Peer signature type: (\S+)")):
        m = re.search(rx, out, re.M)
        rec[key] = m.group(1).strip() if m else None
    rec["tickets_sent"] = len(re.findall(r"<<< .*NewSessionTicket", out))

    # Resumption: keep the session of a first connection (after reading
    # a response, so post-handshake tickets have arrived), offer it on a
    # second one.
    ctx = client_ctx()
    sess, reused = None, None
    for i in range(2):
        with socket.create_connection(("127.0.0.1", args.port), 5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost",
                                 session=sess) as ss:
                ss.sendall(b"GET /small HTTP/1.1\r\nHost: localhost\r\n"
                           b"Connection: close\r\n\r\n")
                while ss.recv(65536):
                    pass
                if i == 0:
                    sess = ss.session
                else:
                    reused = ss.session_reused
    rec["resumption_offered"] = bool(sess is not None and sess.has_ticket)
    rec["resumed"] = reused
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
    print(f"  {args.proxy:<8} {rec['protocol']} {rec['cipher']} "
          f"group {rec['group']} sig {rec['peer_sig']}; "
          f"tickets sent {rec['tickets_sent']}, resumed on reuse: "
          f"{'YES' if reused else 'no'}", flush=True)


# -------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, nd):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}"


def ratio(g, o, higher_better):
    if higher_better is None:
        return ""
    if g is None or o is None or g == 0 or o == 0:
        return "-"
    return f"{(g / o if higher_better else o / g):.2f}"


def table(title, rows, recs, note=""):
    """rows: (label, key, decimals, higher_better)."""
    by = collections.defaultdict(list)
    for r in recs:
        by[r["proxy"]].append(r)
    names = [p for p in PROXIES if p in by]
    print(f"\n{title}")
    if note:
        print(note)
    hdr = f"  {'':<24}" + "".join(f"{p:>12}" for p in names)
    if "gerbang" in by:
        hdr += "".join(f"{'vs ' + p:>14}" for p in names if p != "gerbang")
    print(hdr)
    for label, key, nd, hb in rows:
        vals = {p: med([r.get(key) for r in by[p]]) for p in names}
        line = f"  {label:<24}" + "".join(f"{fmt(vals[p], nd):>12}"
                                         for p in names)
        if "gerbang" in by:
            line += "".join(
                f"{ratio(vals['gerbang'], vals[p], hb):>14}"
                for p in names if p != "gerbang")
        print(line)


def spread(recs, key, nd, unit):
    by = collections.defaultdict(list)
    for r in sorted(recs, key=lambda r: r["round"]):
        by[r["proxy"]].append(r.get(key))
    parts = []
    for p in PROXIES:
        if p in by:
            parts.append(f"{p} " + "/".join(fmt(v, nd) for v in by[p]))
    print(f"  per round ({unit}): " + ";  ".join(parts))


LOAD_ROWS = [
    ("proxy page faults/req", "minflt_per_req", 3, None),
    ("wrk CPU us/request", "wrk_us_per_req", 1, None),
    ("wrk+upstream core use %", "load_util_pct", 0, None),
    ("others on proxy core %", "proxy_core_other_pct", 0, None),
    ("others on load core %", "load_core_other_pct", 0, None),
    ("steal on proxy core %", "proxy_core_steal_pct", 1, None),
]
DISTURBED = 15  # % of the proxy core used by others: flag the run
STOLEN = 5      # % of the proxy core taken by the hypervisor: flag too


def cmd_report(args):
    recs = []
    with open(args.file) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    meta = next((r for r in recs if r.get("scenario") == "meta"), {})
    sc = collections.defaultdict(list)
    for r in recs:
        sc[r.get("scenario")].append(r)

    print("\n" + "=" * 78)
    print("gerbang-gateway benchmark: medians over "
          f"{meta.get('rounds', '?')} rounds, {meta.get('duration', '?')} s "
          f"per run, wrk -t{meta.get('threads', '?')} "
          f"-c{meta.get('conns', '?')}")
    print(f"proxies on CPU {meta.get('proxy_cpu', '?')}, wrk + upstream "
          f"nginx on CPU {meta.get('load_cpu', '?')}; "
          f"{meta.get('cpu_model', '')}")
    print(f"upstream keepalive (gerbang, nginx): "
          f"{meta.get('up_keepalive', '?')}; CPU busy before the start: "
          f"{meta.get('background', '?')}")
    for k in ("gerbang_version", "nginx_version", "haproxy_version",
              "openssl_version"):
        if meta.get(k):
            print(f"  {k.split('_')[0]}: {meta[k]}")
    print("Ratio columns 'vs X': > 1.00 means gerbang is better "
          "(throughput: gerbang/X;\nCPU, latency and memory: X/gerbang).")
    print("CPU = utime+stime of the proxy's worker process(es) over the run "
          "/ requests wrk\ncompleted; 'core use' = that CPU time / wall "
          "time (100% = the proxy saturated CPU 0).")

    if sc.get("probe"):
        print("\nTLS as negotiated (openssl s_client; Python resumption "
              "attempt):")
        for r in sc["probe"]:
            print(f"  {r['proxy']:<8} {r['protocol']} {r['cipher']} "
                  f"group={r['group']} sig={r['peer_sig']} "
                  f"NewSessionTicket msgs={r['tickets_sent']} "
                  f"resumed={'YES' if r['resumed'] else 'no'}")

    kinds = (
        ("small", "1. keep-alive, 200-byte body (GET /small)", [
            ("req/s", "rps", 0, True),
            ("CPU us/request", "cpu_us_per_req", 1, False),
            ("core use %", "cpu_util_pct", 0, None),
            ("latency p50 ms", "p50_ms", 2, False),
            ("latency p99 ms", "p99_ms", 2, False),
        ] + LOAD_ROWS, ("rps", 0, "req/s"), ("cpu_us_per_req", 1, "CPU us/req")),
        ("big", "2. keep-alive, 64 KiB body (GET /big)", [
            ("MB/s (10^6 B, wrk)", "mbps", 1, True),
            ("req/s", "rps", 0, True),
            ("CPU us/request", "cpu_us_per_req", 1, False),
            ("core use %", "cpu_util_pct", 0, None),
            ("latency p50 ms", "p50_ms", 2, False),
            ("latency p99 ms", "p99_ms", 2, False),
        ] + LOAD_ROWS, ("mbps", 1, "MB/s"), ("cpu_us_per_req", 1, "CPU us/req")),
        ("handshake", "3. new TLS 1.3 connection per request "
         "(Connection: close; 200-byte body)", [
             ("handshakes/s", "rps", 0, True),
             ("CPU us/handshake", "cpu_us_per_req", 1, False),
             ("core use %", "cpu_util_pct", 0, None),
             ("latency p50 ms", "p50_ms", 2, False),
             ("latency p99 ms", "p99_ms", 2, False),
             ("client conns/request", "conns_per_req", 3, None),
         ] + LOAD_ROWS, ("rps", 0, "handshakes/s"),
         ("cpu_us_per_req", 1, "CPU us/handshake")),
        ("latency", "5. latency at a fixed moderate rate (keep-alive, "
         "GET /small, each\n   connection waits %s ms between requests)", [
             ("req/s", "rps", 0, None),
             ("latency p50 ms", "p50_ms", 3, False),
             ("latency p90 ms", "p90_ms", 3, False),
             ("latency p99 ms", "p99_ms", 3, False),
             ("latency p99.9 ms", "p999_ms", 3, False),
             ("CPU us/request", "cpu_us_per_req", 1, False),
             ("core use %", "cpu_util_pct", 0, None),
         ] + LOAD_ROWS, ("p50_ms", 3, "p50 ms"), ("p99_ms", 3, "p99 ms")),
    )
    problems = []
    for key, title, rows, s1, s2 in kinds:
        rs = sc.get(key)
        if not rs:
            continue
        for r in rs:
            r["cpu_util_pct"] = r["cpu_util"] * 100
            r["load_util_pct"] = r.get("load_cpu_util", 0) * 100
            r["wrk_us_per_req"] = (r.get("wrk_cpu_s", 0) * 1e6 /
                                   r["requests"] if r["requests"] else None)
            if r.get("proxy_core_busy") is not None:
                r["proxy_core_other_pct"] = max(
                    0, (r["proxy_core_busy"] - r["cpu_util"]) * 100)
                r["proxy_core_steal_pct"] = r["proxy_core_steal"] * 100
                if r["proxy_core_other_pct"] > DISTURBED:
                    problems.append(
                        f"{key} {r['proxy']} round {r['round']}: other "
                        f"processes used {r['proxy_core_other_pct']:.0f}% "
                        f"of the proxy core (disturbed run)")
                if r["proxy_core_steal_pct"] > STOLEN:
                    problems.append(
                        f"{key} {r['proxy']} round {r['round']}: the "
                        f"hypervisor stole {r['proxy_core_steal_pct']:.0f}% "
                        f"of the proxy core (disturbed run)")
            if r.get("load_core_busy") is not None:
                r["load_core_other_pct"] = max(
                    0, (r["load_core_busy"] - r["load_cpu_util"]) * 100)
            if r.get("conns") is not None and r["requests"]:
                r["conns_per_req"] = r["conns"] / r["requests"]
            if r.get("errors"):
                problems.append(f"{key} {r['proxy']} round {r['round']}: "
                                f"wrk errors {r['errors']}")
        if "%s" in title:
            title = title % (rs[0].get("delay_ms") or "?")
        table(title, rows, rs)
        spread(rs, *s1)
        spread(rs, *s2)
        if key != "latency":
            spread(rs, "p99_ms", 2, "p99 ms")
        ups = collections.defaultdict(int)
        for r in rs:
            ups[r["proxy"]] += r.get("upstream_conns", 0)
        print("  upstream connections opened during the measured runs: "
              + ", ".join(f"{p} {ups[p]}" for p in PROXIES if p in ups))
        if key == "handshake":
            for r in rs:
                if r.get("handshakes") is not None and r["requests"]:
                    r["hs_per_req"] = r["handshakes"] / r["requests"]
            hs = [f"{p} {fmt(med([r.get('hs_per_req') for r in rs if r['proxy'] == p]), 3)}"
                  for p in ("gerbang", "haproxy")
                  if any(r["proxy"] == p for r in rs)]
            res = [r.get("resumed") for r in rs
                   if r["proxy"] == "gerbang" and r.get("resumed") is not None]
            print("  TLS handshakes counted by the proxy per request: "
                  + ", ".join(hs) + (f"; gerbang tls_resumed_total delta "
                                      f"{sum(res)}" if res else ""))

    idle = sc.get("idle")
    if idle:
        for r in idle:
            r["rss_before_mib"] = r["rss_before_kib"] / 1024
            r["rss_after_mib"] = r["rss_after_kib"] / 1024
            if r["alive"] < r["n"]:
                problems.append(f"idle {r['proxy']} round {r['round']}: "
                                f"only {r['alive']}/{r['n']} connections "
                                f"open ({r['failed']} failed)")
        n = idle[0]["n"]
        what = ("after one request each" if idle[0].get("request")
                else "handshake done, no request")
        table(f"4. memory for {n:,} idle TLS connections ({what})", [
            ("KiB/connection", "kib_per_conn", 2, False),
            ("worker RSS before MiB", "rss_before_mib", 1, None),
            ("worker RSS after MiB", "rss_after_mib", 1, None),
            ("connections open", "alive", 0, None),
        ], idle)
        spread(idle, "kib_per_conn", 2, "KiB/conn")

    if problems:
        print("\nPROBLEMS:")
        for p in problems:
            print("  " + p)
    print()


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("freeport")
    p.add_argument("n", type=int)

    p = sub.add_parser("wait-port")
    p.add_argument("port", type=int)
    p.add_argument("secs", type=float, nargs="?", default=10)

    p = sub.add_parser("busy")
    p.add_argument("secs", type=float, nargs="?", default=1)

    p = sub.add_parser("wait-quiet")
    p.add_argument("secs", type=float, nargs="?", default=60)

    p = sub.add_parser("children")
    p.add_argument("pid", type=int)

    def common(p):
        p.add_argument("--proxy", required=True)
        p.add_argument("--round", type=int, default=0)
        p.add_argument("--master", type=int, required=True,
                       help="the proxy's main PID")
        p.add_argument("--workers-are-children", action="store_true",
                       help="measure the children of --master")
        p.add_argument("--out")
        p.add_argument("--gerbang-admin")
        p.add_argument("--haproxy-sock")
        p.add_argument("--nginx-status")

    p = sub.add_parser("run")
    common(p)
    p.add_argument("--scenario", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--close", action="store_true")
    p.add_argument("--delay-ms", type=int, default=0,
                   help="each connection waits this long between requests")
    p.add_argument("--load-cpu", default="1")
    p.add_argument("--proxy-cpu", default="0")
    p.add_argument("--upstream-master", type=int,
                   help="the upstream nginx master (its worker's CPU)")
    p.add_argument("--workdir", required=True)
    p.add_argument("--upstream-status", required=True)
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("idle")
    common(p)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--settle", type=float, default=2)
    p.add_argument("--request", action="store_true")

    p = sub.add_parser("probe")
    p.add_argument("--proxy", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out")

    p = sub.add_parser("report")
    p.add_argument("file")

    args = ap.parse_args()
    if args.cmd == "freeport":
        socks = []
        for _ in range(args.n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
        for s in socks:
            s.close()
    elif args.cmd == "wait-port":
        end = time.monotonic() + args.secs
        while True:
            try:
                socket.create_connection(("127.0.0.1", args.port), 1).close()
                break
            except OSError:
                if time.monotonic() > end:
                    sys.exit(f"port {args.port}: nothing listening after "
                             f"{args.secs:g} s")
                time.sleep(0.05)
    elif args.cmd == "busy":
        a = cpu_stat()
        time.sleep(args.secs)
        b = cpu_stat()
        parts, hot = [], False
        for i in sorted(a):
            tot = b[i][2] - a[i][2]
            pct = 100 * (b[i][0] - a[i][0]) / tot if tot else 0
            hot |= pct > 10
            parts.append(f"cpu{i} {pct:.0f}%")
        print(", ".join(parts) + (" WARNING: busy" if hot else ""))
    elif args.cmd == "wait-quiet":
        # Before a run: wait (up to secs) until no core is more than 10%
        # busy over half a second, so that other work on a shared machine
        # (builds, test suites) is less likely to overlap the run.
        end = time.monotonic() + args.secs
        while True:
            a = cpu_stat()
            time.sleep(0.5)
            b = cpu_stat()
            worst = max((b[i][0] - a[i][0]) / max(1, b[i][2] - a[i][2])
                        for i in a)
            if worst <= 0.10:
                break
            if time.monotonic() > end:
                print(f"wait-quiet: still {worst * 100:.0f}% busy after "
                      f"{args.secs:g} s, running anyway", file=sys.stderr)
                break
    elif args.cmd == "children":
        print(" ".join(str(p) for p in children(args.pid)))
    elif args.cmd == "run":
        cmd_run(args)
    elif args.cmd == "idle":
        cmd_idle(args)
    elif args.cmd == "probe":
        cmd_probe(args)
    elif args.cmd == "report":
        cmd_report(args)


if __name__ == "__main__":
    main()
