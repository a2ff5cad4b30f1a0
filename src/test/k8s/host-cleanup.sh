# Sourced by the scripts here: what a run takes away from the host at its end, and what it
# notes at its start to know which of the shared pieces were its own.
#   host_state_before           notes the host's cgroups and whether Berth's and CNI's shared
#                               iptables chains were there already
#   clean_host SUBNETS_RE       removes the bridges holding an address in the run's subnets (an
#                               extended regex such as '10[.]21[23][.]'), every rule naming them or
#                               a source in them, the shared chains when they were not there before
#                               and no other engine's rule is left in them, and the cgroup parents
#                               made since, if empty
# Only what the run made, told by its subnets: other engines' runs may share the host, and a
# "whatever bridge is new" clean-up takes theirs away in the middle of their run.

host_state_before() {
  berth_chains_before=$(iptables -S | grep -c '^-N BERTH' || true)
  hostport_before=$(iptables -t nat -S 2>/dev/null | grep -c '^-N CNI-HOSTPORT' || true)
  cgroups_before=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d | sort)
}

# every rule of table $1 that matches the extended regex $2, deleted
delete_rules() {
  iptables -t "$1" -S | grep -E -- "$2" | sed 's/^-A/-D/' | while read -r r; do eval "iptables -t $1 $r"; done
}

# every chain of table $1 whose name matches the extended regex $2, flushed and deleted
delete_chains() {
  local c
  for c in $(iptables -t "$1" -S | awk -v re="^-N $2" '$0 ~ re {print $2}'); do iptables -t "$1" -F "$c"; iptables -t "$1" -X "$c"; done
}

clean_host() {
  local subnets=$1 br t cg
  for br in $(ip -o -4 addr show | re="^$subnets" awk '$4 ~ ENVIRON["re"] {print $2}' | sort -u); do
    for t in filter nat; do delete_rules "$t" "(-i|-o) $br( |$)"; done
    ip link del "$br"
  done
  delete_rules nat "-s $subnets"
  if [ "$berth_chains_before" = 0 ] && ! iptables-save | grep -E '^-A BERTH' | grep -qE -- '(-i|-o|-s|-d) '; then
    for t in filter nat; do
      delete_rules "$t" '^-A .*BERTH'
      delete_chains "$t" 'BERTH'
    done
  fi
  if [ "$hostport_before" = 0 ] && ! iptables-save | grep -q '^:CNI-DN-'; then
    for t in nat filter; do
      delete_rules "$t" '^-A .*CNI-(HOSTPORT|DN-)'
      delete_chains "$t" 'CNI-(HOSTPORT|DN-)'
    done
  fi
  for cg in $(comm -13 <(echo "$cgroups_before") <(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d | sort)); do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}
