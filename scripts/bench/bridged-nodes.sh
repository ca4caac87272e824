# Sourced by the namespace benchmarks: nodes that stand for hosts, each a network namespace with one veth on a bridge.
#   bridged_nodes NAME COUNT NET   creates namespaces NAME-0 … NAME-(COUNT-1) and the bridge's NAME-hub, node n at
#                                  NET.(n+1)/24 on its veth v<n>NAME (NAME starts with a letter); `bridged_nodes_remove
#                                  NAME COUNT` deletes them.
#   node_addr NET n; node_bytes NAME n tx|rx (its interface's own counter).
bridged_nodes() {
  local name=$1 count=$2 net=$3 n
  ip netns add "$name-hub"; ip -n "$name-hub" link add br0 type bridge; ip -n "$name-hub" link set br0 up
  for n in $(seq 0 $((count - 1))); do
    ip netns add "$name-$n"
    ip link add "v$n$name" type veth peer name "p$n$name"
    ip link set "v$n$name" netns "$name-$n"; ip link set "p$n$name" netns "$name-hub"
    ip -n "$name-hub" link set "p$n$name" master br0; ip -n "$name-hub" link set "p$n$name" up
    ip -n "$name-$n" addr add "$net.$((n + 1))/24" dev "v$n$name"
    ip -n "$name-$n" link set "v$n$name" up; ip -n "$name-$n" link set lo up
  done
}
bridged_nodes_remove() { local n; for n in $(seq 0 $(($2 - 1))); do ip netns del "$1-$n" 2>/dev/null || true; done; ip netns del "$1-hub" 2>/dev/null || true; }
node_addr() { echo "$1.$(($2 + 1))"; }
node_bytes() { ip netns exec "$1-$2" cat "/sys/class/net/v$2$1/statistics/$3_bytes"; }
