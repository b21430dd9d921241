#!/usr/bin/env bash
# Benchmark gerbang-gateway against nginx and HAProxy as TLS-terminating
# reverse proxies on this machine. Run by hand (not part of the test
# suite); see tests/bench/README.md for the rig and how to read the tables.
#
# usage: tests/bench/bench_gateway.sh            (3 rounds x 10 s per run)
#        QUICK=1 tests/bench/bench_gateway.sh    (3 s per run)
#
# Environment (defaults in brackets):
#   DURATION [10]  seconds per measured wrk run (QUICK=1: 3)
#   ROUNDS [3]     rounds; each round runs every scenario on every proxy
#   WARMUP [1]     seconds of unmeasured wrk load before each measured run
#   CONNS [50]     wrk connections;  THREADS [1] wrk threads
#   MEM_CONNS [10000]  idle TLS connections for the memory scenario
#   MEM_REQUEST [0]    1: each idle connection first sends one request
#   SCENARIOS ["small big handshake latency idle"]  which scenarios to run
#   LAT_DELAY [10] latency scenario: ms each connection waits between
#                  requests (50 connections: ~5,000 req/s, far from
#                  saturating any of the proxies)
#   PROXIES ["gerbang nginx haproxy"]        which proxies; round r starts
#                  with the r-th of them (the order rotates each round)
#   UP_KEEPALIVE [64 with CONNS=50]  idle upstream connections kept by
#                  gerbang (keepalive:) and nginx (keepalive); must exceed
#                  CONNS or both close and reopen upstream connections
#   PROXY_CPU [0]  the core the proxies run on
#   LOAD_CPU [1]   the core wrk, the idle client and the upstream run on
#   GATEWAY        the binary [build-bench/gateway/gerbang-gateway, which
#                  is configured (release) and rebuilt when GATEWAY is unset]
#   PROFILE [0]    1: after the rounds, extra (unrecorded) gerbang runs
#                  under `perf record`, and their top symbols
#   QUIET_WAIT [60]  before each run wait up to this many seconds for the
#                  CPUs to be idle (0: don't)
#   KEEP [0]       1: keep the work directory (configs, logs, results)
#   OUT            also copy the raw results (JSON lines) here
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
helper="$here/bench_gateway.py"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then DURATION=${DURATION:-3}; fi
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-50}
THREADS=${THREADS:-1}
MEM_CONNS=${MEM_CONNS:-10000}
MEM_REQUEST=${MEM_REQUEST:-0}
SCENARIOS=${SCENARIOS:-"small big handshake latency idle"}
LAT_DELAY=${LAT_DELAY:-10}
PROXIES=${PROXIES:-"gerbang nginx haproxy"}
UP_KEEPALIVE=${UP_KEEPALIVE:-$((CONNS > 32 ? CONNS + 14 : 32))}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}
QUIET_WAIT=${QUIET_WAIT:-60}
OUT=${OUT:-}

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------ prerequisites

"$root/deploy/install-deps.sh" bench ||
	die "deploy/install-deps.sh bench failed (run it as root once)"
for t in nginx haproxy wrk openssl curl taskset setsid python3; do
	command -v "$t" >/dev/null || die "$t not found"
done
ncpu=$(nproc)
if [ "$PROXY_CPU" -ge "$ncpu" ] || [ "$LOAD_CPU" -ge "$ncpu" ]; then
	die "PROXY_CPU=$PROXY_CPU / LOAD_CPU=$LOAD_CPU: only $ncpu CPUs"
fi
[ "$PROXY_CPU" != "$LOAD_CPU" ] ||
	log "warning: proxies and load share CPU $PROXY_CPU"

if [ -z "${GATEWAY:-}" ]; then
	bdir="$root/build-bench"
	if [ ! -f "$bdir/build.ninja" ]; then
		log "configuring $bdir (release)"
		meson setup "$bdir" "$root" --buildtype=release \
		    -Db_ndebug=false >/dev/null
	fi
	log "building $bdir"
	blog=$(mktemp /tmp/bench-gateway-build.XXXXXX)
	if ! ninja -C "$bdir" gateway/gerbang-gateway >"$blog" 2>&1; then
		tail -n 30 "$blog" >&2
		rm -f "$blog"
		die "building gerbang-gateway in $bdir failed"
	fi
	rm -f "$blog"
	GATEWAY="$bdir/gateway/gerbang-gateway"
fi
[ -x "$GATEWAY" ] || die "$GATEWAY: not an executable"

# 10k idle connections: client and proxy each need more than 10k fds.
need=$((MEM_CONNS + 1024))
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
NOFILE=$(ulimit -n)
[ "$NOFILE" -ge "$need" ] ||
	die "ulimit -n is $NOFILE, need $need (MEM_CONNS=$MEM_CONNS)"
MAXCONN=$((MEM_CONNS + 1000))

# ------------------------------------------------------------ work dir, trap

W=$(mktemp -d /tmp/bench-gateway.XXXXXX)
chmod 755 "$W"		# workers that dropped to nobody read nothing here,
			# but nginx wants to stat its prefix
declare -A PID=()	# name -> pid (also the process group: setsid)

stop() { # name
	local p=${PID[$1]:-} st
	[ -n "$p" ] || return 0
	unset "PID[$1]"
	kill -TERM -- "-$p" 2>/dev/null || return 0
	for _ in $(seq 100); do	# gone, or a zombie waiting for `wait`
		st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || break
		case $st in Z*) break ;; esac
		sleep 0.1
	done
	kill -KILL -- "-$p" 2>/dev/null || :
	wait "$p" 2>/dev/null || :
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
	local rc=$? n
	trap - EXIT INT TERM
	for n in "${!PID[@]}"; do stop "$n"; done
	if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
		log "work directory kept: $W"
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ ports, cert

read -r P_UP P_GB P_GB_ADMIN P_NGX P_NGX_STATUS P_HAP <<<"$(python3 "$helper" freeport 6)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$W/server.key" -out "$W/server.pem" -days 30 \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
cat "$W/server.pem" "$W/server.key" >"$W/combined.pem"
chmod 644 "$W/server.key" "$W/combined.pem"	# a throwaway test key

TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
TIMEOUT=300s	# idle connections must outlive the memory scenario

# ------------------------------------------------------------ upstream

mkdir -p "$W/up/www" "$W/up/logs"
python3 - "$W/up/www" <<'EOF'
import sys
d = sys.argv[1]
open(d + "/small", "wb").write((b"0123456789abcdef" * 13)[:199] + b"\n")
open(d + "/big", "wb").write(bytes((i * 7 + 13) % 251 for i in range(65536)))
EOF
cat >"$W/up/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $W/up/nginx.pid;
error_log $W/up/logs/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    etag off;
    open_file_cache max=16;
    open_file_cache_valid 3600s;
    keepalive_requests 1000000000;
    keepalive_timeout $TIMEOUT;
    client_body_temp_path $W/up/tmp;
    proxy_temp_path $W/up/tmp;
    server {
        listen 127.0.0.1:$P_UP;
        root $W/up/www;
        location = /nginx_status { stub_status; }
    }
}
EOF

# ------------------------------------------------------------ the proxies

cat >"$W/gerbang.yaml" <<EOF
workers: 1
log:
  level: warn
  access_log: off
admin:
  listen: 127.0.0.1:$P_GB_ADMIN
limits:
  max_connections: $MAXCONN
timeouts:
  request_header: $TIMEOUT
  keepalive: $TIMEOUT
listeners:
  - name: bench
    listen: 127.0.0.1:$P_GB
    tls:
      certificates:
        - cert: $W/server.pem
          key: $W/server.key
      session_tickets: false
upstreams:
  - name: up
    servers: ["127.0.0.1:$P_UP"]
    keepalive: $UP_KEEPALIVE
routes:
  - name: all
    path: /
    upstream: up
EOF

mkdir -p "$W/nginx/logs"
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $MAXCONN; }
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout $TIMEOUT;
    client_header_timeout $TIMEOUT;
    client_body_temp_path $W/nginx/tmp;
    proxy_temp_path $W/nginx/tmp;
    upstream up {
        server 127.0.0.1:$P_UP;
        keepalive $UP_KEEPALIVE;
        keepalive_requests 1000000000;
        keepalive_timeout $TIMEOUT;
    }
    server {
        listen 127.0.0.1:$P_NGX ssl;
        ssl_certificate $W/server.pem;
        ssl_certificate_key $W/server.key;
        ssl_protocols TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites $TLS13_SUITES;
        # nginx 1.22 still sends 2 (useless) TLS 1.3 tickets with
        # tickets and cache off; gerbang sends none.
        ssl_conf_command NumTickets 0;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # 64 KiB fits the buffers: no temp file on disk.
            proxy_buffer_size 16k;
            proxy_buffers 8 16k;
            proxy_max_temp_file_size 0;
        }
    }
    server {
        listen 127.0.0.1:$P_NGX_STATUS;
        location = /nginx_status { stub_status; }
    }
}
EOF

cat >"$W/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $MAXCONN
    # HAProxy wants 2 fds per connection (client + server); idle clients
    # need one. Where the fd limit cannot be raised to 2 x maxconn, run
    # with what there is instead of refusing to start.
    no strict-limits
    tune.ssl.cachesize 0
    ssl-default-bind-ciphersuites $TLS13_SUITES
    ssl-default-bind-curves X25519:P-256:P-384
    ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets
    stats socket $W/haproxy.sock mode 600 level admin

defaults
    mode http
    maxconn $MAXCONN
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client $TIMEOUT
    timeout server $TIMEOUT
    timeout http-request $TIMEOUT
    timeout http-keep-alive $TIMEOUT

frontend fe
    bind 127.0.0.1:$P_HAP ssl crt $W/combined.pem ssl-min-ver TLSv1.3
    default_backend be

backend be
    server up 127.0.0.1:$P_UP
EOF

declare -A PORT=([gerbang]=$P_GB [nginx]=$P_NGX [haproxy]=$P_HAP)

start() { # name
	local n=$1 p
	case $n in
	upstream)
		setsid taskset -c "$LOAD_CPU" nginx -c "$W/up/nginx.conf" \
		    -p "$W/up/" -e "$W/up/logs/error.log" \
		    >>"$W/up/logs/stderr" 2>&1 &
		p=$!; PID[$n]=$p
		python3 "$helper" wait-port "$P_UP" ||
			die "upstream nginx did not start; see $W/up/logs" ;;
	gerbang)
		setsid taskset -c "$PROXY_CPU" "$GATEWAY" -c "$W/gerbang.yaml" \
		    >>"$W/gerbang.log" 2>&1 &
		p=$!; PID[$n]=$p ;;
	nginx)
		setsid taskset -c "$PROXY_CPU" nginx -c "$W/nginx/nginx.conf" \
		    -p "$W/nginx/" -e "$W/nginx/logs/error.log" \
		    >>"$W/nginx/logs/stderr" 2>&1 &
		p=$!; PID[$n]=$p ;;
	haproxy)
		setsid taskset -c "$PROXY_CPU" haproxy -f "$W/haproxy.cfg" -db \
		    >>"$W/haproxy.log" 2>&1 &
		p=$!; PID[$n]=$p ;;
	esac
	[ "$n" = upstream ] && return 0
	python3 "$helper" wait-port "${PORT[$n]}" ||
		die "$n did not start; see $W"
	if [ "$n" = gerbang ]; then
		python3 "$helper" wait-port "$P_GB_ADMIN" ||
			die "gerbang admin listener did not start"
	fi
	if [ "$n" != haproxy ]; then	# master + worker: wait for the worker
		for _ in $(seq 100); do
			[ -n "$(python3 "$helper" children "$p")" ] && break
			sleep 0.05
		done
	fi
	check "$n"
}

check() { # name: both bodies arrive whole through the proxy
	local n=$1 path want got
	for path in small:200 big:65536; do
		want=${path#*:}
		got=$(curl -sk --max-time 5 "https://127.0.0.1:${PORT[$n]}/${path%:*}" |
		    wc -c) || got=0
		[ "$got" -eq "$want" ] ||
			die "$n: GET /${path%:*} gave $got bytes, want $want; see $W"
	done
}

# What `run` and `idle` need to find the worker(s) and counters.
margs() { # name
	case $1 in
	gerbang) echo "--master ${PID[gerbang]} --workers-are-children" \
	    "--gerbang-admin 127.0.0.1:$P_GB_ADMIN" ;;
	nginx) echo "--master ${PID[nginx]} --workers-are-children" \
	    "--nginx-status http://127.0.0.1:$P_NGX_STATUS/nginx_status" ;;
	haproxy) echo "--master ${PID[haproxy]} --haproxy-sock $W/haproxy.sock" ;;
	esac
}

RES="$W/results.jsonl"
: >"$RES"

wrkrun() { # name scenario round duration [run options...]
	local n=$1 sc=$2 r=$3 d=$4 path=/small
	local -a a
	shift 4
	read -ra a <<<"$(margs "$n")"
	[ "$sc" = big ] && path=/big
	[ "$sc" = handshake ] && set -- --close "$@"
	[ "$sc" = latency ] && set -- --delay-ms "$LAT_DELAY" "$@"
	python3 "$helper" run --proxy "$n" --scenario "$sc" --round "$r" \
	    "${a[@]}" --url "https://127.0.0.1:${PORT[$n]}$path" \
	    --duration "$d" --conns "$CONNS" --threads "$THREADS" \
	    --load-cpu "$LOAD_CPU" --proxy-cpu "$PROXY_CPU" \
	    --upstream-master "${PID[upstream]}" --workdir "$W" \
	    --upstream-status "http://127.0.0.1:$P_UP/nginx_status" "$@"
}

run() { # name scenario round
	[ "$QUIET_WAIT" = 0 ] || python3 "$helper" wait-quiet "$QUIET_WAIT"
	[ "$WARMUP" = 0 ] || wrkrun "$1" "$2" "$3" "$WARMUP" --quiet
	wrkrun "$1" "$2" "$3" "$DURATION" --out "$RES"
}

idle() { # name round
	local n=$1 r=$2 req=
	local -a a
	[ "$MEM_REQUEST" = 1 ] && req=--request
	# A fresh process, so memory freed by earlier rounds is not reused,
	# warmed by a second of keep-alive traffic; then the baseline.
	stop "$n"
	start "$n"
	[ "$QUIET_WAIT" = 0 ] || python3 "$helper" wait-quiet "$QUIET_WAIT"
	wrkrun "$n" small "$r" 1 --quiet
	sleep 1
	read -ra a <<<"$(margs "$n")"
	taskset -c "$LOAD_CPU" python3 "$helper" idle --proxy "$n" \
	    --round "$r" "${a[@]}" --port "${PORT[$n]}" \
	    --n "$MEM_CONNS" $req --out "$RES"
	# And fresh again: the next round must not run on a heap shaped by
	# 10k connections (it hides, for one, allocator trim/refault costs).
	stop "$n"
	start "$n"
}

# ------------------------------------------------------------ go

# Other load on the machine skews throughput and, less, CPU per request.
busy=$(python3 "$helper" busy 2)
log "CPU busy before starting (2 s, all processes): $busy"
case $busy in *WARNING*)
	log "warning: the machine is not idle; expect noisy numbers" ;;
esac

meta() {
	python3 - "$RES" <<EOF
import json, sys
m = {"scenario": "meta", "proxy": "-", "round": 0,
     "rounds": $ROUNDS, "duration": $DURATION, "conns": $CONNS,
     "threads": $THREADS, "up_keepalive": $UP_KEEPALIVE,
     "background": "$busy", "proxy_cpu": "$PROXY_CPU", "load_cpu": "$LOAD_CPU",
     "cpu_model": """$(lscpu | sed -n 's/^Model name: *//p' | head -1)""",
     "gerbang_version": """$("$GATEWAY" -V 2>&1 | head -1) ($GATEWAY)""",
     "nginx_version": """$(nginx -v 2>&1)""",
     "haproxy_version": """$(haproxy -v | head -1)""",
     "openssl_version": """$(openssl version)"""}
open(sys.argv[1], "a").write(json.dumps(m) + "\n")
EOF
}
meta

start upstream
for n in $PROXIES; do start "$n"; done
log "work directory $W; upstream :$P_UP;" \
    "gerbang :$P_GB nginx :$P_NGX haproxy :$P_HAP"
log "TLS parameters:"
for n in $PROXIES; do
	python3 "$helper" probe --proxy "$n" --port "${PORT[$n]}" --out "$RES"
done

log "$ROUNDS rounds x ($SCENARIOS) x ($PROXIES), ${DURATION} s per run" \
    "(+${WARMUP} s warm-up)"
# Each round starts with the next proxy (gerbang nginx haproxy, then
# nginx haproxy gerbang, ...): a disturbance that follows the run order
# (the first run after a scenario change, a neighbour's periodic load)
# falls on each proxy in turn, not on the same one every round.
for r in $(seq "$ROUNDS"); do
	log "round $r"
	set -- $PROXIES
	k=$(( (r - 1) % $# ))
	while [ "$k" -gt 0 ]; do
		first=$1; shift; set -- "$@" "$first"; k=$((k - 1))
	done
	order="$*"
	for sc in $SCENARIOS; do
		[ "$sc" = idle ] && continue
		for n in $order; do run "$n" "$sc" "$r"; done
	done
	case " $SCENARIOS " in *" idle "*)
		for n in $PROXIES; do idle "$n" "$r"; done ;;
	esac
done

if [ "$PROFILE" = 1 ] && case " $PROXIES " in *" gerbang "*) true ;; *) false ;; esac; then
	command -v perf >/dev/null || die "PROFILE=1: perf not found"
	log "profiling gerbang (extra runs, not in the tables)"
	for sc in small big handshake; do
		w=$(python3 "$helper" children "${PID[gerbang]}")
		perf record -q -e cpu-clock -F 2999 -p "${w// /,}" \
		    -o "$W/perf-$sc.data" -- sleep "$DURATION" 2>/dev/null &
		ppid=$!
		wrkrun gerbang "$sc" 0 "$DURATION" --quiet
		wait "$ppid" || :
		{
			echo
			echo "perf: gerbang worker, scenario $sc," \
			    "top symbols (cpu-clock samples)"
			perf report -i "$W/perf-$sc.data" --no-children \
			    --sort dso -F overhead,dso --stdio 2>/dev/null |
			    grep -v -e '^#' -e '^$' | sort -rn | sed -n 1,8p
			echo
			perf report -i "$W/perf-$sc.data" --no-children \
			    --sort dso,sym -F overhead,dso,sym --stdio \
			    2>/dev/null | grep -v -e '^#' -e '^$' | sort -rn | sed -n 1,30p
		} >>"$W/perf-top.txt"
	done
fi

python3 "$helper" report "$RES"
[ -f "$W/perf-top.txt" ] && cat "$W/perf-top.txt"
[ -n "$OUT" ] && cp "$RES" "$OUT" && log "raw results: $OUT"
exit 0
