#!/bin/sh
# gerbang-sensor beside ngrep and tshark on one generated capture.
#
#	tests/bench/bench_sensor.sh            # 1024 MiB capture
#	QUICK=1 tests/bench/bench_sensor.sh    # 128 MiB
#	SIZE=4096 tests/bench/bench_sensor.sh  # any size in MiB
#	INTERLEAVE=16 ...                      # 16 connections at a time
#
# The capture (tests/bench/gen_bench_pcap.py) holds keep-alive HTTP/1.1
# connections whose JSON responses carry NIKs, phone numbers and e-mail
# addresses: a third plain, a third chunked, a third gzip. Each tool reads
# the same file from the page cache (warmed first), one after the other:
#   gerbang-sensor  full pipeline: decode, reassembly, HTTP, scanner on
#   ngrep           one regex for 16-digit runs over every packet payload
#   tshark          TCP reassembly and HTTP decoding (-Y http.response)
# It prints wall time, Gbit/s and packets/s (file bytes over wall time),
# CPU seconds, peak RSS, and each peer's time as a ratio of gerbang's.
# Builds a release copy in build-bench-sensor/ (SENSOR=path to use another
# binary). Run by hand; never a timed test in the suite.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
./deploy/install-deps.sh bench || true

size=${SIZE:-1024}
[ "${QUICK:-0}" = 1 ] && size=${SIZE:-128}
work=$(mktemp -d /tmp/gerbang-bench-sensor.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

if [ -z "${SENSOR:-}" ]; then
	b=build-bench-sensor
	[ -f "$b/build.ninja" ] || meson setup "$b" --buildtype=release \
	    -Db_ndebug=false -Dtests=disabled >/dev/null
	ninja -C "$b" detectors/gerbang-sensor >/dev/null
	SENSOR=$root/$b/detectors/gerbang-sensor
fi

echo "== generating ${size} MiB capture"
python3 tests/bench/gen_bench_pcap.py "$work/bench.pcap" "$size" \
    "${INTERLEAVE:-1}" >"$work/gen.json"
cat "$work/gen.json"
cat "$work/bench.pcap" >/dev/null	# page cache

# run NAME CMD...: time one tool, keep its /usr/bin/time -v report
run() {
	name=$1
	shift
	echo "== $name: $*"
	/usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" \
	    2>"$work/$name.err" || {
		echo "$name failed:"
		tail -5 "$work/$name.err"
	}
}

# Every detector on: the shipped rules (bulk thresholds), scraping,
# decoding layers, alerts as JSON lines and into a durable alert store.
run gerbang "$SENSOR" -r "$work/bench.pcap" --transactions /dev/null \
    --rules "$root/rules" --json "$work/alerts.jsonl" \
    --store "$work/alerts" --stats-json "$work/gerbang.stats" \
    --log-level warn
if command -v ngrep >/dev/null; then
	run ngrep ngrep -q -I "$work/bench.pcap" -W none '[0-9]{16}'
fi
if command -v tshark >/dev/null; then
	run tshark tshark -r "$work/bench.pcap" -n -Y http.response \
	    -T fields -e http.response.code
fi

python3 - "$work" <<'PY'
import json, os, re, sys
work = sys.argv[1]
gen = json.load(open(os.path.join(work, "gen.json")))

def tv(name):
    p = os.path.join(work, name + ".time")
    if not os.path.exists(p):
        return None
    t = open(p).read()
    def num(label):
        m = re.search(re.escape(label) + r": (.+)", t)
        return m.group(1).strip() if m else "0"
    el = num("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in el.split(":")]
    wall = 0.0
    for x in parts:
        wall = wall * 60 + x
    cpu = float(num("User time (seconds)")) + float(num("System time (seconds)"))
    rss = int(num("Maximum resident set size (kbytes)")) / 1024
    return wall, cpu, rss

rows = []
for name in ("gerbang", "ngrep", "tshark"):
    r = tv(name)
    if r:
        rows.append((name,) + r)
if not rows:
    sys.exit(1)
base = rows[0][1]
print()
print("capture: %.0f MiB, %d packets, %d transactions, %d connections" %
      (gen["bytes"] / 2**20, gen["packets"], gen["txns"], gen["connections"]))
print("%-8s %9s %9s %11s %11s %9s %9s" % ("tool", "wall s", "Gbit/s",
      "pkts/s", "Gbit/cpu-s", "RSS MiB", "x gerbang"))
for name, wall, cpu, rss in rows:
    wall = max(wall, 1e-3)
    print("%-8s %9.2f %9.2f %11.0f %11.2f %9.1f %9.2f" % (
        name, wall, gen["bytes"] * 8 / wall / 1e9, gen["packets"] / wall,
        gen["bytes"] * 8 / max(cpu, 1e-3) / 1e9, rss, wall / base))
st = os.path.join(work, "gerbang.stats")
if os.path.exists(st):
    s = json.load(open(st))
    print()
    print("gerbang: %d txns, %d NIKs found (%d in plain/chunked bodies), "
          "%d bodies not inspected (a coding other than gzip or deflate, or a decoder limit), "
          "gaps %d, kernel drops n/a (offline)" % (
              s["http"]["txns"], s["findings"]["nik"], gen["plain_niks"],
              s["http"]["not_inspected"], s["tcp"]["gaps"]))
PY
