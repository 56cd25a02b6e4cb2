#!/usr/bin/env bash
# Prints an `nft -f` file for a kube-proxy-shaped table (the structure kube-proxy's nftables mode
# writes: kubernetes pkg/proxy/nftables/proxier.go): base chains at kube-proxy's hooks and
# priorities, the cluster-ips set, the service-ips / service-nodeports / no-endpoint-services
# verdict maps keyed by `ipv4_addr . inet_proto . inet_service`, one chain per service (masquerade
# mark, `numgen random mod N vmap` to its endpoints) and one per endpoint (DNAT), counters.
#
#   gen-kube-proxy-nft.sh SERVICES [ENDPOINTS_PER_SERVICE] > kube-proxy.nft
#
# Service i has ClusterIP 10.96.(i/250).(i%250+1), port 80/tcp; its endpoints are
# 10.244.(i/80).(3*(i%80)+2+k):8080, so service 0 (10.96.0.1:80) goes to 10.244.0.2-4:8080.
set -euo pipefail
n=${1:?services}
eps=${2:-3}
awk -v n="$n" -v eps="$eps" '
function hash(s,   h, i, c, a) {
  # 8 characters from the name, like kube-proxy'"'"'s base32 hash prefix (stable, not secure).
  h = 5381
  for (i = 1; i <= length(s); i++) { c = index("abcdefghijklmnopqrstuvwxyz0123456789/-._", substr(s, i, 1)); h = (h * 33 + c) % 2147483647 }
  a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; out = ""
  for (i = 0; i < 8; i++) { out = out substr(a, h % 32 + 1, 1); h = int(h / 32) + i * 7919 }
  return out
}
function cip(i) { return "10.96." int(i / 250) "." (i % 250 + 1) }
function eip(i, k) { return "10.244." int(i / 80) "." (3 * (i % 80) + 2 + k) }
BEGIN {
  print "table ip kube-proxy {"
  print "\tcomment \"rules for kube-proxy\""
  print "\tset cluster-ips {\n\t\ttype ipv4_addr\n\t\tcomment \"Active ClusterIPs\""
  printf "\t\telements = { "
  for (i = 0; i < n; i++) printf "%s%s", (i ? ", " : ""), cip(i)
  print " }\n\t}"
  print "\tset nodeport-ips {\n\t\ttype ipv4_addr\n\t\tcomment \"IPs that accept NodePort traffic\"\n\t}"
  print "\tmap no-endpoint-services {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tcomment \"vmap to drop or reject packets to services with no endpoints\"\n\t}"
  print "\tmap no-endpoint-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t}"
  print "\tmap firewall-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t}"
  print "\tmap service-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t}"
  print "\tchain filter-prerouting {\n\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n\t\tct state new jump firewall-check\n\t}"
  print "\tchain filter-input {\n\t\ttype filter hook input priority -110; policy accept;\n\t\tct state new jump nodeport-endpoints-check\n\t\tct state new jump service-endpoints-check\n\t}"
  print "\tchain filter-forward {\n\t\ttype filter hook forward priority -110; policy accept;\n\t\tct state new jump service-endpoints-check\n\t\tct state new jump cluster-ips-check\n\t}"
  print "\tchain filter-output {\n\t\ttype filter hook output priority -110; policy accept;\n\t\tct state new jump service-endpoints-check\n\t\tct state new jump firewall-check\n\t}"
  print "\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}"
  print "\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}"
  print "\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tjump masquerading\n\t}"
  print "\tchain firewall-check {\n\t\tip daddr . meta l4proto . th dport vmap @firewall-ips\n\t}"
  print "\tchain nodeport-endpoints-check {\n\t\tfib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports\n\t}"
  print "\tchain service-endpoints-check {\n\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services\n\t}"
  print "\tchain cluster-ips-check {\n\t\tip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"\n\t\tip daddr 10.96.0.0/12 drop comment \"Drop traffic to unallocated ClusterIPs\"\n\t}"
  print "\tchain mark-for-masquerade {\n\t\tmeta mark set meta mark | 0x00004000\n\t}"
  print "\tchain masquerading {\n\t\tmeta mark & 0x00004000 == 0x00000000 return\n\t\tmeta mark set meta mark ^ 0x00004000\n\t\tmasquerade fully-random\n\t}"
  print "\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t\tfib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n\t}"
  vm = ""
  for (i = 0; i < n; i++) {
    sname = "ns" int(i / 100) "/svc" i "/tcp/p80"
    svc = "service-" hash(sname) "-" sname
    vm = vm (i ? ", " : "") cip(i) " . tcp . 80 : goto " svc
    printf "\tchain %s {\n\t\tip daddr %s tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n", svc, cip(i)
    printf "\t\tnumgen random mod %d vmap { ", eps
    for (k = 0; k < eps; k++) {
      ep[k] = "endpoint-" hash(sname eip(i, k)) "-" sname "__" eip(i, k) "/8080"
      printf "%s%d : goto %s", (k ? ", " : ""), k, ep[k]
    }
    print " }\n\t}"
    for (k = 0; k < eps; k++) {
      printf "\tchain %s {\n\t\tip saddr %s jump mark-for-masquerade\n\t\tmeta l4proto tcp counter dnat to %s:8080\n\t}\n", ep[k], eip(i, k), eip(i, k)
    }
  }
  print "\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tcomment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\""
  print "\t\telements = { " vm " }\n\t}"
  print "}"
}'
