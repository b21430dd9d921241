#!/bin/sh
# Install the Debian 12 packages gerbang needs, only those missing.
#
# usage: deploy/install-deps.sh [run|build|test|bench]
#   run    what the quick start needs to build and run gerbang (default)
#   build  the same (kept as an alias)
#   test   plus clang (sanitizer and fuzz build), cmocka and test peers
#   bench  plus the peers the benchmarks compare against (nginx, haproxy, wrk;
#          PCRE2 and Vectorscan for bench_scan; tshark and ngrep beside
#          gerbang-sensor)
# Idempotent: when everything is installed it changes nothing and does not
# touch the network.
set -eu

profile=${1:-run}
pkgs="meson ninja-build pkg-config gcc libc6-dev libssl-dev libmaxminddb-dev
libpcap-dev liblmdb-dev libyaml-dev zlib1g-dev libcmocka-dev openssl curl
python3 ca-certificates"
# ISA-L (igzip) inflates bodies about 2.3x faster than zlib; Debian builds
# it for amd64 and arm64, and the build falls back to zlib without it.
case $(dpkg --print-architecture 2>/dev/null) in
amd64|arm64) pkgs="$pkgs libisal-dev" ;;
esac
case $profile in
run|build) ;;
test) pkgs="$pkgs clang lld llvm libclang-rt-14-dev procps libmaxmind-db-writer-perl" ;;
bench) pkgs="$pkgs clang nginx-light haproxy wrk procps libpcre2-dev libvectorscan-dev tshark ngrep time" ;;
*) echo "usage: $0 [run|build|test|bench]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
