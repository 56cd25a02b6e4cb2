#!/usr/bin/env bash
# Generates the test PKI with the openssl CLI into DIR (used by the API tests and benchmarks):
#   ca.pem                 CA that signs the agent and the good clients (api.tls_client_ca)
#   server.{pem,key}       the agent: SAN DNS:localhost, DNS:agent.test, IP:127.0.0.1 (or
#                          $NG_CERT_SERVER_SANS, e.g. the lab's node addresses)
#   server2.{pem,key}      a renewed agent certificate (CN rotated), same names
#   controller.{pem,key}   client CN=controller, SAN DNS:controller.example and a SPIFFE URI
#   viewer.{pem,key}       client CN=viewer, SAN DNS:viewer.example (verified, not allowed)
#   rogue.{pem,key}        CN=controller, SAN DNS:controller.example, signed by another CA
#   expired.{pem,key}      client CN=controller signed by ca.pem, already expired
#   other-ca.pem           the rogue's CA
# Typed identities (api.allowed_clients entries match one certificate field each):
#   ctl-dns.{pem,key}      CN=ctl-dns, SAN DNS:nodeguard-controller.nodeguard.svc only
#   impostor.{pem,key}     CN=nodeguard-controller, SAN DNS:impostor.example (CN looks allowed)
#   impostor-cn.{pem,key}  CN=nodeguard-controller.nodeguard.svc (the allowed DNS name as CN),
#                          SAN DNS:impostor.example
#   log-reader.{pem,key}   CN=log-reader, SAN URI:spiffe://cluster/ns/ops/sa/log-reader only
# EC P-256 keys: fast to make. Valid for 2 days.
set -euo pipefail
dir=${1:?usage: gen_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ca() { openssl req -x509 "${ec[@]}" -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" 2>/dev/null; }
leaf() { # name cn san ca [days]
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -out "$1.pem" \
    -days "${5:-2}" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca nodeguard-test-ca
ca other-ca rogue-ca
sans=${NG_CERT_SERVER_SANS:-DNS:localhost,DNS:agent.test,IP:127.0.0.1}
leaf server agent "$sans" ca
leaf server2 agent-rotated "$sans" ca
leaf controller controller "DNS:controller.example,URI:spiffe://cluster/ns/nodeguard/sa/controller" ca
leaf viewer viewer "DNS:viewer.example" ca
leaf rogue controller "DNS:controller.example" other-ca
leaf ctl-dns ctl-dns "DNS:nodeguard-controller.nodeguard.svc" ca
leaf impostor nodeguard-controller "DNS:impostor.example" ca
leaf impostor-cn nodeguard-controller.nodeguard.svc "DNS:impostor.example" ca
leaf log-reader log-reader "URI:spiffe://cluster/ns/ops/sa/log-reader" ca
# Expired: valid for one day in 2020 (`openssl x509 -days` cannot go back; `openssl ca` can).
openssl req "${ec[@]}" -keyout expired.key -out expired.csr -subj "/CN=controller" 2>/dev/null
printf 'subjectAltName=DNS:controller.example\n' >expired.ext
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n' >ca.cnf
printf 'default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >>ca.cnf
: >index.txt
echo 01 >serial
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20200101000000Z -enddate 20200102000000Z -extfile expired.ext -notext >/dev/null 2>&1
rm -f expired.csr expired.ext ca.cnf index.txt* serial* ./*.srl ./0*.pem
chmod 600 ./*.key
