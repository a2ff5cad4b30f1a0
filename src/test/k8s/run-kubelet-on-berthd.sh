#!/usr/bin/env bash
# A real kubelet (v1.28, standalone: static pods, no API server) on a private berthd, as root.
# Each step asserts what a Kubernetes user expects; the script exits non-zero at the first miss.
#
#  1. the static pod web (writer + httpd server sharing an emptyDir, HTTP liveness probe)
#     starts and serves the writer's page at its pod IP
#  2. a failing liveness probe restarts the server container
#  3. a SIGKILL of the server gives a back-off and a restart
#  4. a Guaranteed pod runs (kubelet asks oom_score_adj -997; this host cannot lower it)
#  5. crictl logs, crictl exec -it and crictl port-forward work
#  6. kill -9 of berthd with the pods running, then a restart: no container restarts, no log
#     line of the writer is lost
#  7. removing the manifests removes the pods, and nothing of them is left on the host
#
# CI does not run this: kubelet and crictl are built from fetched sources with Debian's Go
# (10-17 minutes here), which a commit may not carry. Build them with ../shared/k8s's recipes
# (build-kubelet.sh, build-cri-tools.sh, stand-in-images.sh), then run this script.
# environment: BIN (default /tmp/k8s/bin: kubelet, crictl), IMAGES (default /tmp/k8s/images),
#   K8S_SHARED (default /work/shared/k8s), WORK (default /tmp/berth-kubelet)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BIN:-/tmp/k8s/bin}
IMAGES=${IMAGES:-/tmp/k8s/images}
K8S_SHARED=${K8S_SHARED:-/work/shared/k8s}
WORK=${WORK:-/tmp/berth-kubelet}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
for b in kubelet crictl; do [ -x "$BIN/$b" ] || { echo "no $BIN/$b (see the header)"; exit 2; }; done
[ -f "$IMAGES/images.tsv" ] || { echo "no stand-in images in $IMAGES (see the header)"; exit 2; }
[ -f "$ROOT/target/berth.jar" ] || (cd "$ROOT" && ./mvnw -B -q -DskipTests package)

[ "${1:-}" = cleanup ] || rm -rf "$WORK"
mkdir -p "$WORK/manifests"
export BASE=$WORK
DOCKER_SOCK=$WORK/engine.sock
CRI_SOCK=$WORK/cri.sock
BRIDGE=bkube0
step() { echo "== $*"; }
fail() { echo "FAILED: $*"; exit 1; }
in_ns() { nsenter -t "$(cat "$WORK/mntns.pid")" -m -- "$@"; }
crictl() { in_ns "$BIN/crictl" --config "$WORK/crictl.yaml" -r "unix://$CRI_SOCK" -i "unix://$CRI_SOCK" -t 60s "$@"; }
docker_() { DOCKER_HOST=unix://$DOCKER_SOCK docker "$@"; }
# waits up to $1 seconds for the command after it to succeed
until_ok() { local t=$1; shift; for _ in $(seq "$t"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }

berth_chains_before=$(iptables -S | grep -c '^-N BERTH' || true)
hostport_before=$(iptables -t nat -S | grep -c '^-N CNI-HOSTPORT' || true)
cgroups_before=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d | sort)
netns_before=$(ip netns list 2>/dev/null | sort)

berthd_pid=
start_berthd() {
  # nsenter execs java: $! is berthd itself
  nsenter -t "$(cat "$WORK/mntns.pid")" -m -- "$JAVA" -XX:+UseSerialGC -Xms8m --enable-native-access=ALL-UNNAMED -jar "$ROOT/target/berth.jar" daemon \
    --data-root "$WORK/root" --exec-root "$WORK/run" -H "unix://$DOCKER_SOCK" --cri-socket "$CRI_SOCK" \
    --config-file "$WORK/daemon.json" >> /tmp/kubelet-berthd.log 2>&1 &
  berthd_pid=$!
  until_ok 60 curl -sf --unix-socket "$DOCKER_SOCK" http://b/_ping || fail "berthd did not start (/tmp/kubelet-berthd.log)"
}

cleanup() {
  set +e
  echo "== cleaning up"
  kpid=$(cat "$WORK/kubelet.pid" 2>/dev/null)
  "$K8S_SHARED/kubelet-standalone.sh" stop >/dev/null 2>&1
  [ -n "$kpid" ] && { sleep 2; kill -9 "$kpid" 2>/dev/null; }
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    crictl rmp -fa >/dev/null 2>&1
    docker_ ps -aq | xargs -r env DOCKER_HOST=unix://$DOCKER_SOCK docker rm -f >/dev/null 2>&1
    kill -TERM "$berthd_pid"
    for _ in $(seq 20); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$berthd_pid" 2>/dev/null; wait "$berthd_pid" 2>/dev/null
  fi
  "$K8S_SHARED/mntns.sh" stop >/dev/null 2>&1
  sleep 1
  grep " $WORK/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  # the bridges of this run's subnets (the default one and the pods' network) and every rule naming
  # them; other engines' bridges (a test daemon, another run beside this one) are left alone
  for br in $(ip -o -4 addr show | awk '$4 ~ /^10\.21[45]\./ {print $2}' | sort -u); do
    for t in filter nat; do
      iptables -t $t -S | grep -E -- "(-i|-o) $br( |$)" | sed 's/^-A/-D/' | while read -r r; do eval "iptables -t $t $r"; done
    done
    ip link del "$br"
  done
  # Berth's own chains go only when no bridge is left in them (the host had none, and no other berthd runs)
  if [ "$berth_chains_before" = 0 ] && ! iptables -S | grep -E '^-A BERTH' | grep -qE -- '(-i|-o) '; then
    for t in filter nat; do
      iptables -t $t -S | grep -E '^-A .*BERTH' | sed 's/^-A/-D/' | while read -r r; do eval "iptables -t $t $r"; done
      for c in $(iptables -t $t -S | awk '/^-N BERTH/ {print $2}'); do iptables -t $t -F "$c"; iptables -t $t -X "$c"; done
    done
  fi
  if [ "$hostport_before" = 0 ] && ! iptables -t nat -S | grep -q "^-N CNI-DN-"; then
    for t in nat filter; do
      iptables -t $t -S | grep -E '^-A .*CNI-(HOSTPORT|DN-)' | sed 's/^-A/-D/' | while read -r r; do eval "iptables -t $t $r"; done
      for c in $(iptables -t $t -S | awk '/^-N CNI-(HOSTPORT|DN-)/ {print $2}'); do iptables -t $t -F "$c"; iptables -t $t -X "$c"; done
    done
  fi
  for cg in $(comm -13 <(echo "$cgroups_before") <(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d | sort)); do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$WORK"
}
# KEEP=1 leaves everything running after a failure, to look at (then run the script's cleanup by hand: KEEP=0)
on_exit() { local rc=$?; if [ "$rc" != 0 ] && [ "${KEEP:-0}" = 1 ]; then echo "kept: $WORK, berthd $berthd_pid"; return; fi; cleanup; }
trap on_exit EXIT
if [ "${1:-}" = cleanup ]; then  # what KEEP=1 left
  berthd_pid=$(pgrep -f -- "--data-root $WORK/root" | head -1 || true)
  exit 0
fi

touch "$WORK/crictl.yaml"
cat > "$WORK/daemon.json" <<EOF
{"bridge": "$BRIDGE", "bip": "10.214.0.1/24", "default-address-pools": [{"base": "10.215.0.0/16", "size": 24}]}
EOF

step "a private mount namespace (kubelet 1.28 writes /var/log/pods), berthd in it, the stand-in images"
"$K8S_SHARED/mntns.sh" start >/dev/null
start_berthd
for f in "$IMAGES"/busybox*.tar "$IMAGES"/pause*.tar; do [ -f "$f" ] && docker_ load -q -i "$f" >/dev/null; done
docker_ image inspect busybox:1.28 >/dev/null || fail "no busybox:1.28 stand-in in $IMAGES"

step "kubelet standalone with the static pod web"
cp "$K8S_SHARED/manifests/web-pod.yaml" "$WORK/manifests/"
CRI_ENDPOINT=unix://$CRI_SOCK IN_MNTNS=1 KUBELET=$BIN/kubelet "$K8S_SHARED/kubelet-standalone.sh" start
pod_ready() { [ "$(crictl pods --name web --state ready -q | wc -l)" = 1 ]; }
until_ok 120 pod_ready || fail "pod web not ready (kubelet log: $WORK/kubelet.log)"
POD=$(crictl pods --name web --state ready -q)
running() { [ "$(crictl ps --pod "$POD" --name "$1" --state running -q | wc -l)" = 1 ]; }
until_ok 60 running writer || fail "writer not running"
until_ok 60 running server || fail "server not running"
IP=$(crictl inspectp "$POD" | sed -n 's/.*"ip": "\([0-9.]*\)".*/\1/p' | head -1)
[ -n "$IP" ] || fail "no pod IP"
page() { curl -sf --max-time 3 "http://$IP:8080/index.html"; }
until_ok 30 page || fail "nothing served at http://$IP:8080"
page | grep -q "hello from writer" || fail "unexpected page: $(page)"
echo "   served at $IP: $(page)"

# the highest attempt of a container of pod web (JSON leaves a zero out)
attempt() {
  local a
  a=$(crictl ps -a --pod "$POD" --name "$1" -o json | grep -o '"attempt": *[0-9]*' | awk '{print $2}' | sort -n | tail -1)
  echo "${a:-0}"
}
step "a failing liveness probe restarts server"
before=$(attempt server)
crictl exec "$(crictl ps --pod "$POD" --name writer -q)" touch /www/.stop
restarted() { [ "$(attempt server)" -gt "$1" ]; }
until_ok 90 restarted "$before" || fail "server not restarted after its probe failed (attempt $(attempt server))"
crictl exec "$(crictl ps --pod "$POD" --name writer -q)" rm -f /www/.stop
until_ok 60 running server || fail "server not running again"
echo "   server attempt $before -> $(attempt server)"

step "a SIGKILL of server: back-off, then a restart"
before=$(attempt server)
SPID=$(crictl inspect "$(crictl ps --pod "$POD" --name server --state running -q)" | sed -n 's/^ *"pid": \([0-9]*\).*/\1/p' | head -1)
[ -n "$SPID" ] || fail "no pid for server"
kill -9 "$SPID"
until_ok 90 restarted "$before" || fail "server not restarted after SIGKILL"
until_ok 60 running server || fail "server not running after the back-off"
until_ok 30 page || fail "page not served after the restart"
echo "   server attempt $before -> $(attempt server)"

step "a Guaranteed pod (kubelet asks oom_score_adj -997)"
cat > "$WORK/manifests/guaranteed.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: guaranteed, namespace: default}
spec:
  containers:
  - name: app
    image: busybox:1.28
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "cat /proc/self/oom_score_adj; sleep 3600"]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 100m, memory: 64Mi}
EOF
gpod_ready() { [ "$(crictl pods --name guaranteed --state ready -q | wc -l)" = 1 ]; }
until_ok 90 gpod_ready || fail "pod guaranteed not ready"
GPOD=$(crictl pods --name guaranteed --state ready -q)
grunning() { [ "$(crictl ps --pod "$GPOD" --state running -q | wc -l)" = 1 ]; }
until_ok 60 grunning || fail "the Guaranteed pod's container does not run"
GID_=$(crictl ps --pod "$GPOD" -q)
echo "   its oom_score_adj: $(crictl logs "$GID_" 2>&1 | head -1); memory limit $(crictl exec "$GID_" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo '?')"

step "crictl logs, exec -it, port-forward"
WRITER=$(crictl ps --pod "$POD" --name writer --state running -q)
crictl exec "$WRITER" sh -c 'echo logged-by-exec > /proc/1/fd/1'
until_ok 10 sh -c "nsenter -t $(cat "$WORK/mntns.pid") -m -- $BIN/crictl --config $WORK/crictl.yaml -r unix://$CRI_SOCK logs $WRITER 2>&1 | grep -q logged-by-exec" \
  || fail "crictl logs does not show the line"
tty_out=$(script -qec "nsenter -t $(cat "$WORK/mntns.pid") -m -- $BIN/crictl --config $WORK/crictl.yaml -r unix://$CRI_SOCK exec -it $WRITER sh -c 'tty; echo it-works'" /dev/null)
echo "$tty_out" | grep -q "/dev/pts/" || fail "exec -it has no terminal: $tty_out"
echo "$tty_out" | grep -q "it-works" || fail "exec -it: $tty_out"
crictl port-forward "$POD" 18090:8080 >/dev/null 2>&1 &
pf=$!
fwd() { curl -sf --max-time 3 http://127.0.0.1:18090/index.html | grep -q "hello from writer"; }
until_ok 20 fwd || { kill $pf; fail "port-forward does not reach the server"; }
kill $pf; wait $pf 2>/dev/null || true
echo "   logs, exec -it (a terminal), port-forward: fine"

step "kill -9 of berthd with the pods running, then a restart"
ids_before=$(crictl ps --state running -q | sort)
w_before=$(attempt writer); s_before=$(attempt server)
# numbered requests to the server from before the kill until after the restart: httpd logs each
# one to stdout, which conmon writes to the CRI log while berthd is away; none may be missing
# (httpd -v logs each response with the client's address and port: request n comes from port 41000+n)
( for n in $(seq 1 24); do curl -s --max-time 2 --local-port $((41000 + n)) -o /dev/null "http://$IP:8080/index.html"; sleep 0.5; done ) &
requests=$!
sleep 1
kill -9 "$berthd_pid"; wait "$berthd_pid" 2>/dev/null || true
sleep 5
start_berthd
wait "$requests"
until_ok 60 pod_ready || fail "pod web not found again after the restart"
sleep 15 # kubelet's next syncs: nothing may restart
[ "$(crictl ps --state running -q | sort)" = "$ids_before" ] || fail "running containers changed: $(crictl ps -a)"
[ "$(attempt writer)" = "$w_before" ] && [ "$(attempt server)" = "$s_before" ] || fail "a container restarted"
SERVER=$(crictl ps --pod "$POD" --name server --state running -q)
crictl logs "$SERVER" > "$WORK/server.log" 2>&1 || true
for n in $(seq 1 24); do grep -q "]:$((41000 + n)): response:200" "$WORK/server.log" || fail "request $n is missing from the server's log"; done
echo "   same containers, same attempts; the server's log holds all 24 requests made across the kill and restart"

step "removing the manifests removes the pods and leaves nothing behind"
rm -f "$WORK/manifests/"*.yaml
gone() { [ "$(crictl pods -q | wc -l)" = 0 ]; }
until_ok 120 gone || fail "pods still there: $(crictl pods)"
[ "$(crictl ps -a -q | wc -l)" = 0 ] || fail "containers left: $(crictl ps -a)"
[ "$(in_ns grep -c " $WORK/run/cri/pods/" /proc/self/mountinfo || true)" = 0 ] || fail "pod namespaces still pinned"
[ -z "$(ip -o link show type veth | grep -v '@if' || true)" ] || true
[ "$(ip netns list 2>/dev/null | sort)" = "$netns_before" ] || fail "network namespaces left"
echo "PASSED: kubelet v1.28 standalone on berthd"
