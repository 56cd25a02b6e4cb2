# The five incidents tools/lab plays, in order, on the running lab (sourced after cluster.sh).
# Each prints what happens in plain sentences with the real ngctl output, measures what it can,
# and records one row for the summary: lab_result ID TITLE DETECTED REPAIRED VALUE, where
# DETECTED is yes/no and REPAIRED is yes/no or n/a (nothing for nodeguard or the operator to
# put back).

LAB_RESULTS=()
lab_result() { LAB_RESULTS+=("$1|$2|$3|$4|$5"); }

# ms since the epoch
lab_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# lab_ngctl_shown NODE ARGS...: ngctl's output for the story, with the command a reader can
# copy (the ngctl binary named as on the PATH of an installed agent).
lab_show_ngctl() {
  local n=$1
  shift
  ui_cmd "ngctl --socket $(lab_sock "$n") $*" lab_ngctl "$n" "$@" || true
}

# lab_status_brief NODE ARGS...: `ngctl status` without the condition rows that are False (a
# healthy node reports every condition it knows, False), so the story fits a screen.
lab_status_brief() {
  lab_ngctl "$@" | awk '
    /^CONDITION / { in_c = 1; print; next }
    in_c && /^$/ { in_c = 0; if (hidden) printf "(%d more conditions, all False)\n", hidden }
    in_c && $2 == "False" { hidden++; next }
    { print }'
}
lab_show_status() {
  ui_cmd "ngctl --socket $(lab_sock "$1") status ${*:2}   # conditions that are False left out" \
    lab_status_brief "$1" status "${@:2}" || true
}

# --- 1 -----------------------------------------------------------------------------------------
# lab_prober_up OUT: the prober's latest state is up.
lab_prober_up() { [[ $(grep -E '^(up|down) ' "$1" | tail -n 1) == up* ]]; }

incident_firewalld_reload() {
  local title="firewalld reload wipes the hostPort DNAT rules"
  ui_title "1/5  $title"
  ui_say "Pod web-0 runs on node-a with hostPort $LAB_HOSTPORT: the CNI portmap plugin wrote \
DNAT rules (CNI-HOSTPORT-DNAT and a CNI-DN-... chain) that send $RL_A_IP:$LAB_HOSTPORT to the \
pod at $LAB_POD_IP:80. firewalld runs on node-a too (nftables backend, its own D-Bus, zones \
that allow BGP, VXLAN and nodeguard's ports). A 'firewall-cmd --reload' flushes every iptables \
table; the portmap plugin never looks again, so without a guard the hostPort stays dead until \
the pod is recreated. A prober in the router namespace connects to the hostPort every 10 ms."
  UI_MAX_LINES=8 lab_show_ngctl A rules --table nat
  local out=$NG_TMP/prober.out seq lines t0 t1
  # A connect not up within 500 ms failed (the kernel resends a lost SYN only after 1 s).
  ng_bg_to "$out" "$RL_R" "$PROBER" --target "$RL_A_IP:$LAB_HOSTPORT" --expect "hello" \
    --interval 10ms --timeout 500ms --answer-timeout 2s
  local prober=$NG_LAST_PID
  ng_wait_until 10 grep -q '^up ' "$out" || ng_fail "the hostPort does not answer before the reload"
  seq=$(lab_event_seq A)
  lines=$(wc -l <"$(lab_dir A)/agent.log")
  t0=$(lab_now_ms)
  ui_cmd "ip netns exec $RL_A firewall-cmd --reload" lab_firewall_cmd --reload || true
  t1=$(lab_now_ms)
  local detected=no repaired=no
  if ng_wait_until 30 lab_event_since A "$seq" NetfilterRepaired; then detected=yes; fi
  # Let the prober see the hostPort answer for a moment, then read its account.
  ng_wait_until 15 lab_prober_up "$out" || true
  sleep 0.5
  kill -TERM "$prober" 2>/dev/null || true
  wait "$prober" 2>/dev/null || true
  local summary total outages failed reason
  summary=$(tail -n 1 "$out")
  total=$(jq -r '.total_outage_ms' <<<"$summary")
  outages=$(jq -r '.outages | length' <<<"$summary")
  failed=$(jq -r '.failures' <<<"$summary")
  reason=$(jq -r '.outages[0].reason // "-"' <<<"$summary")
  local answer
  answer=$(lab_hostport_answer "$RL_R")
  [[ $(jq -r .open <<<"$summary") == false && $answer == hello* && $detected == yes ]] &&
    repaired=yes
  # The agent's own account of each repair (its log: one JSON line per repair).
  local repairs n_rep
  repairs=$(tail -n +"$((lines + 1))" "$(lab_dir A)/agent.log" | grep '^{' |
    jq -c 'select(.msg == "repair applied")' 2>/dev/null || true)
  n_rep=$(grep -c . <<<"$repairs" || true)
  echo
  ui_say "firewall-cmd --reload took $(ui_seconds $((t1 - t0)))."
  if [[ $detected == yes && $n_rep -gt 0 ]]; then
    local first
    first=$(head -1 <<<"$repairs")
    ui_ok "detected: nodeguard saw $n_rep flush(es) of $(jq -r .table <<<"$first") during the \
reload (trigger: $(jq -r .trigger <<<"$first"); $(jq -r .why <<<"$first"))"
    ui_ok "repaired: each time $(jq -r .rules_written <<<"$first") rules restored in one \
commit, $(jq -r '.detect_to_commit_ms | floor' <<<"$repairs" | paste -sd/ -) ms after detection \
(chains $(jq -r .chains <<<"$first" | sed 's/,/, /g'))"
  else
    ui_bad "nodeguard did not report a repair within 30 s (see $(lab_dir A)/agent.log)"
  fi
  if ((failed > 0)); then
    ui_ok "measured: the hostPort was down $total ms in $outages outage(s): $failed of \
$(jq -r .attempts <<<"$summary") connects failed, the first with '$reason'"
    # Where the outage came from: firewalld drops all traffic while it reloads (its
    # ReloadPolicy); if the last repair was committed before the outage ended, the rules were
    # back first and the reload itself set the length.
    local last_ts last_ms end_ms
    last_ts=$(tail -n 1 <<<"$repairs" | jq -r '.ts // empty')
    end_ms=$(jq -r '.outages[-1].end_ms // 0' <<<"$summary")
    if [[ -n $last_ts ]] && last_ms=$(date -d "$last_ts" +%s%3N 2>/dev/null) &&
      ((end_ms > 0 && last_ms <= end_ms)); then
      ui_say_in "The rules were back $((end_ms - last_ms)) ms before the hostPort answered: the \
rest is firewalld's own reload window, during which it drops all traffic (ReloadPolicy). \
Without nodeguard the hostPort would stay down after it."
    fi
  else
    ui_ok "measured: no connect failed ($(jq -r .attempts <<<"$summary") connects): the rules \
were back before the next connect"
  fi
  [[ $answer == hello* ]] && ui_ok "the hostPort answers again: '$answer'" ||
    ui_bad "the hostPort does not answer after the reload"
  local fw
  fw=$(lab_events_since A "$seq" | jq -r 'select(.source == "firewalld") | "\(.reason): \(.message)"' | head -2)
  if [[ -n $fw ]]; then
    while IFS= read -r l; do ui_ok "firewalld watcher (D-Bus): $l"; done <<<"$fw"
  else
    ui_note "(this build has no firewalld watcher; the guard's own netlink detection did the work)"
  fi
  UI_MAX_LINES=8 lab_show_ngctl A rules --table nat
  ui_cmd "curl -s $(lab_metrics_url A) | grep ^nodeguard_netfilter_repairs_total" \
    bash -c "curl -s '$(lab_metrics_url A)' | grep '^nodeguard_netfilter_repairs_total'" || true
  lab_result 1 "$title" "$detected" "$repaired" \
    "hostPort down $total ms ($failed failed connects); $n_rep repair(s), $(jq -r '.detect_to_commit_ms | floor' <<<"$repairs" | paste -sd/ -) ms after detection"
}

# --- 2 -----------------------------------------------------------------------------------------
lab_c_via_gateway() { ng_in "$RL_A" ip route show "$RL_C_BLOCK" | ng_grep "via $RL_GW1"; }

incident_cross_subnet() {
  local title="node in another subnet under BGP without encapsulation"
  ui_title "2/5  A new node in another subnet, BGP without encapsulation"
  ui_say "node-c joins the cluster from subnet $RL_C_IP/$RL_LEN2, behind a router that knows no \
pod addresses. calico-node starts BIRD on node-c and adds it to every node's full mesh \
($(rl_mesh_name "$RL_C_IP") on node-a). The cluster runs BGP without encapsulation: BIRD resolves \
node-c's next hop through the default route, so node-a sends node-c's pods to the gateway \
$RL_GW1, which drops them."
  local t0 detected=no repaired=no value
  t0=$(lab_now_ms)
  rl_start_bird C A B C
  rl_configure_bird A A B C
  rl_configure_bird B A B C
  ng_wait_until 60 lab_c_via_gateway || true
  if ng_wait_until 60 lab_verdict_is A "$RL_C_BLOCK" PodRouteViaGateway; then detected=yes; fi
  local t1 detect_ms
  t1=$(lab_now_ms)
  detect_ms=$((t1 - t0))
  ui_cmd "ip netns exec $RL_A ip route show $RL_C_BLOCK" ng_in "$RL_A" ip route show "$RL_C_BLOCK" || true
  UI_MAX_LINES=12 lab_show_ngctl A routes
  local answer
  answer=$(lab_pod_c_answer)
  if [[ $detected == yes ]]; then
    ui_ok "detected: $(lab_verdict A "$RL_C_BLOCK" kind) for $RL_C_BLOCK, $(ui_seconds "$detect_ms") after node-c's BIRD started"
    ui_say_in "why: $(lab_verdict A "$RL_C_BLOCK" reason)"
    ui_say_in "fix: $(lab_verdict A "$RL_C_BLOCK" fix)"
  else
    ui_bad "nodeguard on node-a did not report $RL_C_BLOCK via the gateway"
  fi
  [[ -z $answer ]] && ui_ok "and indeed: node-a cannot reach pod $RL_C_POD on node-c" ||
    ui_bad "pod $RL_C_POD answered through the gateway: the lab did not reproduce the failure"
  echo
  ui_say "Following the fix: the cluster switches to VXLAN CrossSubnet. BIRD keeps the sessions; \
each node gets vxlan.calico; peers in the same subnet are routed directly, node-c over VXLAN. \
The controller tells each agent the expected peers (ngctl peers set)."
  t0=$(lab_now_ms)
  rl_vxlan_crosssubnet A B C
  local n
  for n in A B C; do
    rl_expected_peers $n vxlan-crosssubnet A B C | lab_ngctl $n peers set --file - >/dev/null ||
      ui_bad "ngctl peers set on node-${n,,} failed"
  done
  local healthy=yes
  for n in A B C; do ng_wait_until 60 lab_all_routes_healthy $n || healthy=no; done
  t1=$(lab_now_ms)
  UI_MAX_LINES=12 lab_show_ngctl A routes
  answer=$(lab_pod_c_answer)
  [[ $healthy == yes ]] && ui_ok "every pod block healthy on node-a, node-b and node-c, \
$(ui_seconds $((t1 - t0))) after the switch" || ui_bad "not every node reports healthy routes"
  [[ -n $answer ]] && ui_ok "node-a reaches pod $RL_C_POD on node-c over vxlan.calico: '$answer'" ||
    ui_bad "node-a still cannot reach pod $RL_C_POD"
  [[ $healthy == yes && -n $answer ]] && repaired=yes
  value="PodRouteViaGateway after $(ui_seconds "$detect_ms"); healthy $(ui_seconds $((t1 - t0))) after CrossSubnet"
  lab_result 2 "$title" "$detected" "$repaired" "$value"
}

# --- 3 -----------------------------------------------------------------------------------------
lab_session_c_established() {
  birdc -s "$NG_TMP/bird-a.ctl" show protocols 2>/dev/null |
    ng_grep "^$(rl_mesh_name "$RL_C_IP") .*Established"
}

incident_peer_down() {
  local title="BGP peer stops"
  ui_title "3/5  A BGP peer stops"
  ui_say "BIRD on node-c crashes (kill -9). node-a's session $(rl_mesh_name "$RL_C_IP") goes \
down; nodeguard polls BIRD's control socket every second and says so."
  local t0 t1 detected=no
  t0=$(lab_now_ms)
  rl_stop_bird C KILL
  if ng_wait_until 30 lab_condition_is A BGPPeerDown True; then detected=yes; fi
  t1=$(lab_now_ms)
  UI_MAX_LINES=10 lab_show_ngctl A peers
  ui_cmd "ngctl --socket $(lab_sock A) status | grep -E '^(CONDITION|BGPPeerDown)'" \
    bash -c "'$NGCTL' --socket '$(lab_sock A)' status | grep -E '^(CONDITION|BGPPeerDown)'" || true
  [[ $detected == yes ]] && ui_ok "detected: BGPPeerDown on node-a $(ui_seconds $((t1 - t0))) after BIRD died" ||
    ui_bad "node-a did not report BGPPeerDown within 30 s"
  RL_KERNEL_EXPORT='source = RTS_STATIC' rl_start_bird C A B C
  if ng_wait_until 60 lab_session_c_established && ng_wait_until 30 lab_condition_is A BGPPeerDown False; then
    ui_ok "BIRD restarted on node-c: the session is Established again and the condition cleared"
  else
    ui_bad "after BIRD restarted on node-c the session or the condition did not recover"
  fi
  lab_result 3 "$title" "$detected" "n/a" "BGPPeerDown reported $(ui_seconds $((t1 - t0))) after BIRD died"
}

# --- 4 -----------------------------------------------------------------------------------------
incident_sandbox_failure() {
  local title="CNI sandbox failure in the kubelet log"
  ui_title "4/5  A CNI sandbox failure in the kubelet log"
  ui_say "containerd on node-a was killed while pods were deleted, so the host-local IPAM plugin \
never got their DEL and kept their addresses. The lab leaks them for real (host-local ADD \
without DEL) until node-a's pod range $RL_A_BLOCK is full, then the kubelet starts pod web-1: \
the real bridge plugin fails, and the kubelet logs it. nodeguard tails the kubelet log \
($(lab_dir A)/logs/kubelet.log)."
  local net=$NG_TMP/net-$LAB_POD_CID.json i=0 leaked=0 err
  while ((i < 300)); do
    i=$((i + 1))
    ng_nf_cni "$RL_A" "$LAB_POD_A" nft "leak$i" host-local ADD <"$net" >/dev/null 2>&1 || break
    leaked=$i
  done
  local sbx cid
  sbx=$(ng_netns_add pod-web-1)
  cid=$(printf 'web-1 %s' "$NG_RUN_ID" | sha256sum | cut -c1-64)
  err=$(ng_nf_cni "$RL_A" "$sbx" nft "$cid" bridge ADD <"$net" 2>&1) && err=""
  err=$(jq -r '.msg // empty' <<<"$err" 2>/dev/null || echo "$err")
  ng_netns_del "$sbx"
  ui_note "leaked $leaked addresses; bridge ADD for web-1 answered: ${err:-(nothing)}"
  [[ -n $err ]] || err="failed to allocate for range 0: no IP addresses available in range set"
  local seq t0 t1 detected=no
  seq=$(lab_event_seq A)
  t0=$(lab_now_ms)
  # The line exactly as kubelet (klog) writes it when RunPodSandbox fails.
  printf 'E%s    4242 log.go:32] "RunPodSandbox from runtime service failed" err="rpc error: code = Unknown desc = failed to setup network for sandbox \\"%s\\": plugin type=\\"bridge\\" name=\\"k8s-pod-network\\" failed (add): %s"\n' \
    "$(date -u +'%m%d %H:%M:%S.%6N')" "$cid" "$err" >>"$(lab_dir A)/logs/kubelet.log"
  ui_cmd "tail -n 1 $(lab_dir A)/logs/kubelet.log" tail -n 1 "$(lab_dir A)/logs/kubelet.log" || true
  if ng_wait_until 30 lab_condition_is A PodIPAllocationFailing True; then detected=yes; fi
  t1=$(lab_now_ms)
  UI_MAX_LINES=30 lab_show_status A --events 3
  [[ $detected == yes ]] && ui_ok "detected: condition PodIPAllocationFailing raised on node-a \
$(ui_seconds $((t1 - t0))) after the line was written" ||
    ui_bad "no PodIPAllocationFailing condition on node-a within 30 s"
  lab_event_since A "$seq" CNISandboxSetupFailed &&
    ui_ok "and an event CNISandboxSetupFailed for the sandbox itself"
  for ((i = 1; i <= leaked; i++)); do
    ng_nf_cni "$RL_A" "$LAB_POD_A" nft "leak$i" host-local DEL <"$net" >/dev/null 2>&1 || true
  done
  ui_note "The leaked addresses are released again (host-local DEL); the condition stays until \
logs.condition_clear_after passes without a matching line."
  lab_result 4 "$title" "$detected" "n/a" "PodIPAllocationFailing raised $(ui_seconds $((t1 - t0))) after the log line"
}

# --- 5 -----------------------------------------------------------------------------------------
incident_fleet() {
  local title="ngctl fleet over all lab nodes"
  ui_title "5/5  The fleet, as the central controller sees it"
  ui_say "The controller (here: the router namespace, with a client certificate from the lab's \
throwaway CA) asks every node's agent over mutual TLS on port $LAB_GRPC_PORT, worst first."
  local out rc=0 t0 t1
  t0=$(lab_now_ms)
  out=$(ng_in "$RL_R" "$NGCTL" $(lab_tls_flags) --timeout 3s -o json fleet --targets "$NG_TMP/fleet.txt") || rc=$?
  t1=$(lab_now_ms)
  ui_cmd "ip netns exec $RL_R ngctl --tls-ca $NG_TMP/pki/ca.pem --tls-cert $NG_TMP/pki/controller.pem --tls-key $NG_TMP/pki/controller.key fleet --targets $NG_TMP/fleet.txt" \
    ng_in "$RL_R" "$NGCTL" $(lab_tls_flags) --timeout 3s fleet --targets "$NG_TMP/fleet.txt" || true
  local answered
  answered=$(jq '[.[] | select(.reachable and .ok)] | length' <<<"$out" 2>/dev/null || echo 0)
  local detected=no
  if [[ $rc -eq 0 && $answered -eq 3 ]] &&
    jq -e '[.[] | select(.node == "node-a")][0].verdict != "Healthy"' <<<"$out" >/dev/null; then
    detected=yes
    ui_ok "all 3 agents answered; node-a stands out with $(jq -r '[.[] | select(.node == "node-a")][0].failing_conditions | map(.type) | join(", ")' <<<"$out")"
  else
    ui_bad "the fleet view is incomplete (exit $rc, $answered of 3 answered)"
  fi
  lab_result 5 "$title" "$detected" "n/a" "$answered/3 agents answered in $(ui_seconds $((t1 - t0)))"
}

# --- summary -----------------------------------------------------------------------------------

# lab_summary [FILE]: the table; with FILE, the same as JSON. Returns 1 if an incident was not
# detected, or not repaired where a repair applies.
lab_summary() {
  local file=${1:-} row id title det rep val bad=0 json='[]'
  ui_title "Summary"
  printf '  %-3s %-54s %-9s %-9s %s\n' "#" "INCIDENT" "DETECTED" "REPAIRED" "MEASURED"
  for row in "${LAB_RESULTS[@]}"; do
    IFS='|' read -r id title det rep val <<<"$row"
    printf '  %-3s %-54s %-9s %-9s %s\n' "$id" "$title" "$det" "$rep" "$val"
    [[ $det == yes && $rep != no ]] || bad=1
    json=$(jq -c --arg id "$id" --arg t "$title" --arg d "$det" --arg r "$rep" --arg v "$val" \
      '. + [{id: ($id | tonumber), incident: $t, detected: ($d == "yes"),
             repaired: (if $r == "n/a" then null else ($r == "yes") end), measured: $v}]' <<<"$json")
  done
  [[ -z $file ]] || jq . <<<"$json" >"$file"
  return $bad
}
