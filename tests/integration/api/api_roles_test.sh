#!/usr/bin/env bash
# Issue 17 (hostile neighbours): who may read the node's logs and who may repair, against the
# real agent and ngctl, with real log files and certificates made by gen_certs.sh.
#   - TailLogs (`ngctl logs`) needs the logs role: a verified viewer and the repair client are
#     refused (PERMISSION_DENIED), an anonymous TLS client too (UNAUTHENTICATED); the identity
#     in api.allowed_log_clients reads the lines. On the unix socket root reads them, an
#     allowed non-root uid (65534) may call read-only methods but not TailLogs.
#   - Typed identities: a certificate whose CN is the controller's name but whose SANs are not
#     allowed cannot Repair; the certificate with the allowed dns: SAN can.
#   - The config check refuses a TLS listener without client CA, and untyped identities,
#     naming the keys (exit non-zero).
# The agent runs in a network namespace of its own (TCP on its loopback).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_require_root
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl

node=$(ng_netns_add roles)
T=$NG_TMP
bash "$NG_SOURCE_DIR/tests/integration/api/gen_certs.sh" "$T/pki"
P=$T/pki
chmod 755 "$T"  # ngctl as uid 65534 runs from here

# --- The config check. ---
check() { "$NODEGUARD" --state-dir "$T/state" --grpc-socket "" --metrics-listen "" "$@" \
  --check-config 2>&1; }
set +e
out=$(check --grpc-listen 127.0.0.1:9748 --tls-cert "$P/server.pem" --tls-key "$P/server.key")
rc=$?
set -e
[[ $rc -ne 0 ]] || ng_fail "TLS listener without client CA accepted: $out"
for key in api.tls_client_ca grpc_listen --tls-client-ca; do
  [[ $out == *"$key"* ]] || ng_fail "no-client-CA error does not name $key: $out"
done
set +e
out=$(check --grpc-listen 127.0.0.1:9748 --tls-cert "$P/server.pem" --tls-key "$P/server.key" \
  --tls-client-ca "$P/ca.pem" --allowed-clients nodeguard-controller)
rc=$?
set -e
[[ $rc -ne 0 ]] || ng_fail "untyped identity accepted: $out"
[[ $out == *"allowed_clients"* && $out == *'"dns:nodeguard-controller"'* ]] ||
  ng_fail "untyped identity error does not name the key and the typed spelling: $out"
set +e
out=$(check --grpc-listen 127.0.0.1:9748 --tls-cert "$P/server.pem" --tls-key "$P/server.key" \
  --tls-client-ca "$P/ca.pem" --allowed-log-clients "spiffe://cluster/ns/ops/sa/log-reader")
rc=$?
set -e
[[ $rc -ne 0 && $out == *"allowed_log_clients"* && $out == *'"uri:spiffe://'* ]] ||
  ng_fail "untyped log identity: rc=$rc $out"
check --grpc-listen 127.0.0.1:9748 --tls-cert "$P/server.pem" --tls-key "$P/server.key" \
  --tls-client-ca "$P/ca.pem" --allowed-clients "dns:controller.example,cn:x" >/dev/null ||
  ng_fail "typed identities refused"

# --- A pod that prints a secret. ---
pod_dir=$T/pods/prod_web_uid-web/app
mkdir -p "$pod_dir" "$T/containers"
echo "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z) stdout F DB_PASSWORD=hunter2" >"$pod_dir/0.log"
ln -s "$pod_dir/0.log" "$T/containers/web_prod_app-$(printf web | sha256sum | cut -c1-64).log"

cat >"$T/nodeguard.yaml" <<YAML
node_name: roles-node
state_dir: $T/state
grpc_socket: $T/run/nodeguard.sock
grpc_listen: 127.0.0.1:9748
metrics_listen: ""
dry_run: true
api:
  tls_cert: $P/server.pem
  tls_key: $P/server.key
  tls_client_ca: $P/ca.pem
  allowed_clients: ["dns:nodeguard-controller.nodeguard.svc", "dns:controller.example"]
  allowed_log_clients: ["uri:spiffe://cluster/ns/ops/sa/log-reader"]
  allowed_uids: ["0", "65534"]
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
cni: {mode: "off"}
logs:
  container_dirs: [$T/containers]
  kubelet: ""
  read_from_head: true
YAML
ng_bg "$node" "$NODEGUARD" --config "$T/nodeguard.yaml" >"$T/agent.log" 2>&1
ng_wait_until 20 ng_in "$node" "$NGCTL" --socket "$T/run/nodeguard.sock" status >/dev/null ||
  { cat "$T/agent.log" >&2; ng_fail "agent not ready"; }

tls() { # who (a pki stem, or "" for no certificate), then ngctl arguments
  local who=$1
  shift
  local a=(--addr 127.0.0.1:9748 --tls-ca "$P/ca.pem" --tls-server-name agent.test)
  [[ -n $who ]] && a+=(--tls-cert "$P/$who.pem" --tls-key "$P/$who.key")
  ng_in "$node" "$NGCTL" "${a[@]}" "$@"
}
# Runs ngctl; prints "rc=N" and its output (stdout and stderr).
try() {
  set +e
  local out
  out=$("$@" 2>&1)
  local rc=$?
  set -e
  echo "  ${*: -3} -> rc=$rc ${out:0:160}" >&2  # what each client got, for the test log
  echo "rc=$rc $out"
}
as_nobody() {
  ng_in "$node" setpriv --reuid 65534 --regid 65534 --clear-groups \
    --inh-caps +dac_override --ambient-caps +dac_override "$NGCTL" \
    --socket "$T/run/nodeguard.sock" "$@"
}

# --- TailLogs needs the logs role. ---
# The agent answers status before its tailer has read the pod's file (seen once in a full run:
# rc=0 and no line yet): the allowed client gets the line within a bounded wait.
log_line_served() { [[ $(try tls log-reader logs --no-prefix 2>/dev/null) == "rc=0 DB_PASSWORD=hunter2" ]]; }
ng_wait_until 15 log_line_served || true
out=$(try tls log-reader logs --no-prefix)
[[ $out == "rc=0 DB_PASSWORD=hunter2" ]] || ng_fail "allowed log client: $out"
out=$(try ng_in "$node" "$NGCTL" --socket "$T/run/nodeguard.sock" logs --no-prefix)
[[ $out == "rc=0 DB_PASSWORD=hunter2" ]] || ng_fail "root on the unix socket: $out"
for who in viewer controller; do
  out=$(try tls "$who" logs --no-prefix)
  [[ $out != *hunter2* ]] || ng_fail "$who read the logs: $out"
  [[ $out == rc=3* && $out == *"refused the call"* && $out == *api.allowed_log_clients* ]] ||
    ng_fail "$who not refused with PERMISSION_DENIED: $out"
done
out=$(try tls "" logs --no-prefix)
[[ $out != *hunter2* && $out == rc=3* && $out == *"requires a client certificate"* ]] ||
  ng_fail "anonymous client: $out"
out=$(try as_nobody status)
[[ $out == rc=0* ]] || ng_fail "uid 65534 (allowed on the socket) cannot read status: $out"
out=$(try as_nobody logs --no-prefix)
[[ $out != *hunter2* && $out == rc=3* && $out == *api.allowed_log_uids* ]] ||
  ng_fail "uid 65534 read the logs or was not told why: $out"

# --- Typed identities: the CN is not a SAN. ---
# The netfilter guard (dry run, the namespace's own empty tables) may still be starting.
ng_wait_until 20 tls ctl-dns repair --dry-run >/dev/null ||
  ng_fail "the allowed dns: SAN could not repair: $(try tls ctl-dns repair --dry-run)"
for who in impostor impostor-cn; do
  out=$(try tls "$who" repair --dry-run)
  [[ $out == rc=3* && $out == *"refused the call"* && $out == *cn:nodeguard-controller* ]] ||
    ng_fail "$who could repair: $out"
done
echo "PASS: logs role and typed identities"
