# Sourced by the API tests and benchmarks that run real agents on loopback.
#
#   source "$NG_SOURCE_DIR/tests/integration/api/agent_lab.sh"
#   ng_agent_yaml NAME DIR PKI >agent.yaml   # observe-only agent, TLS on 127.0.0.1:0
#   port=$(ng_agent_tcp_port agent.log)      # the port the kernel gave it (bounded wait)

# An agent that touches nothing on the node: dry-run, every component that reads or writes
# the node's network state off, mutual TLS with the test PKI (gen_certs.sh), a unix socket
# and state under DIR, no metrics endpoint. Extra YAML lines can follow on stdin's caller side.
ng_agent_yaml() {
  local name=$1 dir=$2 pki=$3
  cat <<YAML
node_name: $name
state_dir: $dir/state-$name
grpc_socket: $dir/$name.sock
grpc_listen: 127.0.0.1:0
metrics_listen: ""
health_listen: ""
dry_run: true
api:
  tls_cert: $pki/server.pem
  tls_key: $pki/server.key
  tls_client_ca: $pki/ca.pem
  allowed_clients: ["dns:controller.example"]
  max_requests_per_second: ${NG_AGENT_RPS:-200}
netfilter: {enabled: false}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
}

# Prints the TCP port an agent logged ("gRPC API listening ... tcp_port"); fails after 10 s.
ng_agent_tcp_port() {
  local log=$1 port=
  for _ in $(seq 1 200); do
    port=$(grep -o '"tcp_port":[0-9]*' "$log" 2>/dev/null | cut -d: -f2 || true)
    if [[ -n $port && $port != 0 ]]; then
      echo "$port"
      return 0
    fi
    sleep 0.05
  done
  echo "agent did not report its port; log $log:" >&2
  cat "$log" >&2
  return 1
}
