#!/usr/bin/env bash
# Who may set a node condition. The real agent with the shipped kubelet and container rules
# plus an operator's rule file in NPD format (no plugin, so "every source") declaring DiskFull:
# - a pod printing kubelet's disk-full line sets no condition (its own container event only);
# - a kubelet line quoting a pod's command that imitates it sets no condition either;
# - kubelet's own disk-full line does.
source "$(dirname "$0")/lib.sh"

c=$(new_container web prod app)
kubelet_log=$T/kubelet.log
: >"$kubelet_log"
cat >"$T/disk-monitor.json" <<'JSON'
{"source": "disk-monitor",
 "conditions": [{"type": "DiskFull", "reason": "DiskHasSpace", "message": "disk has space"}],
 "rules": [{"type": "permanent", "condition": "DiskFull", "reason": "DiskFullSeen",
            "pattern": "[Nn]o space left on device"}]}
JSON
rules=$NG_SOURCE_DIR/config/rules
SEQ_RULES="$rules/kubelet-monitor.json, $rules/container-monitor.json, $T/disk-monitor.json"
write_config "  read_from_head: true"
sed -i "s|^  kubelet: \"\"\$|  kubelet: $kubelet_log|" "$T/nodeguard.yaml"
grep -q "kubelet: $kubelet_log" "$T/nodeguard.yaml" || fail "config not rewritten"
"$NODEGUARD" --config "$T/nodeguard.yaml" --check-config >/dev/null || fail "config rejected"
start_agent

conditions_set() {
  grep -h '"msg":"log condition set"' "$T"/agent.*.log | grep -c '"condition":"DiskFull"' || true
}

log "a pod prints kubelet's disk-full line"
printf '2024-05-01T12:00:00.000000000Z stderr F %s\n' \
  'E1205 07:00:00.000000 1234 kubelet.go:1400] mkdir /var/lib/kubelet/pods/x: no space left on device' >>"$c"
wait_for_metric 'nodeguard_log_problems_total{reason="ContainerNoSpaceLeftOnDevice",source="container"}' 1 20 ||
  fail "the container line was not read"
sleep 1
[[ $(conditions_set) == 0 ]] || fail "a pod's output set DiskFull"
[[ $(metric 'nodeguard_log_problems_total{reason="DiskFullSeen",source="container"}') == 0 ]] ||
  fail "a node-condition rule matched a container line"

log "kubelet quotes a pod's command that imitates it"
cat >>"$kubelet_log" <<'LINES'
E1205 07:00:01.000000 1234 remote_runtime.go:343] "StartContainer from runtime service failed" err="rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"no space left on device\": executable file not found in $PATH: unknown" containerID="abc"
I1205 07:00:01.500000 1234 prober.go:107] "Probe failed" probeType="Liveness" pod="prod/web" containerName="app" probeResult="failure" output="no space left on device"
LINES
wait_for_metric 'nodeguard_log_lines_total{source="kubelet"}' 2 20 || fail "kubelet lines not read"
sleep 1
[[ $(conditions_set) == 0 ]] || fail "a pod's command quoted by kubelet set DiskFull"

log "kubelet reports a full disk itself"
echo 'E1205 07:00:02.000000 1234 kubelet_pods.go:160] "Failed to write hosts file" err="write /var/lib/kubelet/pods/x/etc-hosts: no space left on device" pod="prod/web"' >>"$kubelet_log"
deadline=$((SECONDS + 20))
until [[ $(conditions_set) -ge 1 ]]; do
  ((SECONDS < deadline)) || fail "kubelet's own disk-full line did not set DiskFull"
  sleep 0.1
done
stop_agent
echo "PASS: DiskFull set by kubelet's own line only, not by a pod's output or a quoted command"
