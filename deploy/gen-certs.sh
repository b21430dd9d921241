#!/bin/sh
# Generate a private CA, a server certificate and a client certificate for
# trying gerbang (and for its tests). Never use these in production.
#
# usage: deploy/gen-certs.sh DIR [SERVER_NAME]
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key (ECDSA
# P-256, SAN SERVER_NAME, localhost and 127.0.0.1), DIR/client.pem,
# DIR/client.key (a consumer certificate, CN=demo-consumer). Existing files
# are kept: a second run changes nothing.
set -eu

dir=${1:?usage: gen-certs.sh DIR [SERVER_NAME]}
name=${2:-localhost}
mkdir -p "$dir"
cd "$dir"
umask 077

if [ ! -f ca.pem ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -days 825 -subj "/CN=gerbang demo CA" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
issue() { # name subject san extku
	[ -f "$1.pem" ] && return 0
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out "$1.pem" -days 825 -extfile "$1.ext" \
	    2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
issue server "/CN=$name" "DNS:$name,DNS:localhost,IP:127.0.0.1" serverAuth
issue client "/O=Dinas Kesehatan/CN=demo-consumer" \
    "URI:spiffe://gerbang.demo/consumer/demo" clientAuth
chmod 644 ca.pem server.pem client.pem
