#!/usr/bin/env bash
# Fleet-scale budget: a busy agent exposes at most ~300 `nodeguard_` series (5,000 nodes x
# 300 = 1.5 M series, one Prometheus shard). Runs a real agent in a lab namespace with every
# component at its defaults (except firewalld, whose D-Bus would be the host's), drives the
# API the way a controller and a careless client would (reads, watches, refused TLS clients,
# denied repairs, rate-limited bursts, too many streams), then parses /metrics and counts.
# The breakdown per metric family is printed so a growing family is easy to spot.
# Then a hostile neighbour (issue 17) sends 2,000 calls to made-up gRPC method names over both
# listeners (curl speaking gRPC's HTTP/2 framing): nodeguard_api_requests_total must not gain
# a single series (they all count as method="unknown").
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_require_root
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
BUDGET=${NG_SERIES_BUDGET:-300}

node=$(ng_netns_add node)
T=$NG_TMP
bash "$NG_SOURCE_DIR/tests/integration/api/gen_certs.sh" "$T/pki"
P=$T/pki
mkdir -p "$T/containers" "$T/cni"
cat >"$T/nodeguard.yaml" <<YAML
node_name: busy-node
state_dir: $T/state
grpc_socket: $T/run/nodeguard.sock
grpc_listen: 127.0.0.1:9748
metrics_listen: 127.0.0.1:9746
health_listen: ""
dry_run: true
api:
  tls_cert: $P/server.pem
  tls_key: $P/server.key
  tls_client_ca: $P/ca.pem
  allowed_clients: ["dns:controller.example"]
  max_requests_per_second: 50
  max_streams: 8
firewalld: {enabled: false}
cni: {cache_dir: $T/cni}
bgp: {bird_sockets: [$T/bird.ctl]}
logs: {container_dirs: [$T/containers]}
YAML
ng_bg "$node" "$NODEGUARD" --config "$T/nodeguard.yaml" >"$T/agent.log" 2>&1
ng_wait_until 20 ng_in "$node" curl -sf http://127.0.0.1:9746/readyz ||
  { cat "$T/agent.log" >&2; ng_fail "agent not ready"; }

as_controller=(--addr 127.0.0.1:9748 --tls-ca "$P/ca.pem" --tls-cert "$P/controller.pem"
               --tls-key "$P/controller.key" --tls-server-name agent.test)
as_viewer=(--addr 127.0.0.1:9748 --tls-ca "$P/ca.pem" --tls-cert "$P/viewer.pem"
           --tls-key "$P/viewer.key" --tls-server-name agent.test)
# Reads over both listeners, watchers, and the refusals a real fleet produces.
for _ in $(seq 1 20); do
  ng_in "$node" "$NGCTL" "${as_viewer[@]}" status -o json >/dev/null || true
  ng_in "$node" "$NGCTL" --socket "$T/run/nodeguard.sock" status >/dev/null || true
done
for _ in $(seq 1 10); do
  ng_in "$node" timeout 1 "$NGCTL" "${as_controller[@]}" watch >/dev/null 2>&1 || true
done
ng_in "$node" "$NGCTL" --addr 127.0.0.1:9748 --tls-ca "$P/ca.pem" --tls-server-name agent.test \
  status >/dev/null 2>&1 || true                                             # no certificate
ng_in "$node" "$NGCTL" --addr 127.0.0.1:9748 --tls-ca "$P/ca.pem" --tls-cert "$P/rogue.pem" \
  --tls-key "$P/rogue.key" --tls-server-name agent.test status >/dev/null 2>&1 || true  # wrong CA
burst=()
for _ in $(seq 1 120); do                                                   # over the rate
  ng_in "$node" "$NGCTL" "${as_viewer[@]}" status >/dev/null 2>&1 &
  burst+=($!)
done
for _ in $(seq 1 10); do                                                    # over max_streams
  ng_in "$node" timeout 2 "$NGCTL" "${as_viewer[@]}" watch --new >/dev/null 2>&1 &
  burst+=($!)
done
for p in "${burst[@]}"; do wait "$p" 2>/dev/null || true; done  # not the agent: it stays up

# Made-up method names: calls over the unix socket (h2c) and over TLS as the viewer, every
# call an empty gRPC message (5 bytes of framing) to a new name. One curl per call (curl 7.88
# cannot reuse a connection to a gRPC server: "Error in the HTTP2 framing layer"), 8 at once.
unknown_calls() { # tag unix-calls tls-calls (a TLS call is a handshake: the slow part)
  local tag=$1 n_unix=$2 n_tls=$3 n=$(($2 + $3))
  printf '\0\0\0\0\0' >"$T/empty.grpc"
  local grpc=(-sS -o /dev/null -H 'content-type: application/grpc' -H 'te: trailers'
              --data-binary "@$T/empty.grpc")
  # A refused call can end in an HTTP/2 stream reset that curl reports as an error (92): the
  # call still reached the agent. Most must get through.
  seq 1 "$n_unix" | sed "s|.*|$tag&.Svc/Made&|" |
    ng_in "$node" xargs -P 8 -I{} curl "${grpc[@]}" --http2-prior-knowledge \
      --unix-socket "$T/run/nodeguard.sock" "http://localhost/{}" 2>"$T/curl.err" || true
  seq 1 "$n_tls" | sed "s|.*|nodeguard.v1.Agent/${tag}No&|" |
    ng_in "$node" xargs -P 8 -I{} curl "${grpc[@]}" --http2 --resolve agent.test:9748:127.0.0.1 \
      --cacert "$P/ca.pem" --cert "$P/viewer.pem" --key "$P/viewer.key" \
      "https://agent.test:9748/{}" 2>>"$T/curl.err" || true
  local errors
  errors=$(grep -c '^curl:' "$T/curl.err" || true)
  (( errors < n )) ||
    ng_fail "curl could not make the calls to unknown methods: $(sort "$T/curl.err" | uniq -c | head)"
  echo "$tag: $n calls to unknown methods ($n_unix unix, $n_tls TLS), $errors ended in a curl error"
}
api_series() { ng_in "$node" curl -sf http://127.0.0.1:9746/metrics |
  grep -c '^nodeguard_api_requests_total{' || true; }
unknown_calls warmup 40 40  # the unknown label with each status code it can get
before=$(api_series)
SECONDS=0
unknown_calls evil 1800 200
echo "2,000 calls in $SECONDS s"
after=$(api_series)
echo "nodeguard_api_requests_total series: $before before 2,000 calls to unknown methods, $after after"
(( after == before )) || ng_fail "2,000 unknown method names added $((after - before)) series"

metrics=$(ng_in "$node" curl -sf http://127.0.0.1:9746/metrics) || ng_fail "scrape failed"
grep -Eq '^nodeguard_api_requests_total\{.*method="unknown".*\} [1-9]' <<<"$metrics" ||
  ng_fail "unknown methods not counted as method=\"unknown\""
series=$(grep -E '^nodeguard_' <<<"$metrics" || true)
count=$(wc -l <<<"$series")
echo "nodeguard_ series per family (busy agent):"
sed -E 's/[{ ].*//; s/_(bucket|sum|count)$//' <<<"$series" | sort | uniq -c | sort -rn
echo "total: $count nodeguard_ series (budget $BUDGET)"
# Every family follows the naming rules: one prefix, _total only on counters.
while read -r _ name type; do
  [[ $name == nodeguard_* ]] || continue
  if [[ $type == counter ]]; then
    [[ $name == *_total ]] || ng_fail "counter $name does not end in _total"
  elif [[ $name == *_total ]]; then
    ng_fail "$type $name ends in _total"
  fi
done < <(grep '^# TYPE ' <<<"$metrics" | sed 's/^# TYPE //' | awk '{print "x", $1, $2}')
grep -q '^nodeguard_api_requests_total{' <<<"$series" || ng_fail "API request series missing"
grep -q 'nodeguard_api_refused_total{reason="tls_handshake"} [1-9]' <<<"$series" ||
  ng_fail "refused TLS handshakes not counted"
(( count <= BUDGET )) || ng_fail "$count nodeguard_ series exceed the budget of $BUDGET"
echo "PASS: $count nodeguard_ series on a busy agent (budget $BUDGET)"
