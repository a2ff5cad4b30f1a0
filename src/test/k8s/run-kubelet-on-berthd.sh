#!/usr/bin/env bash
# A real kubelet (v1.28, standalone: static pods, no API server) on a private berthd, as root,
# through the scenario of the issue "kubelet v1.28.7 in standalone mode on berthd":
#   1. the web pod (../shared/k8s/manifests/web-pod.yaml: writer + httpd server sharing an emptyDir,
#      HTTP liveness probe) starts and serves the writer's page at its pod IP;
#   2. a failing liveness probe restarts "server";
#   3. a SIGKILL of "server" gives a back-off, then a restart;
#   4. a Guaranteed pod (guaranteed-pod.yaml; kubelet asks oom_score_adj -997) runs, clamped;
#   5. crictl logs, crictl exec -it and crictl port-forward work;
#   6. kill -9 of berthd with the pods running, then a restart: no container restarts, no log line
#      is lost; a container that ends while berthd is away restarts, with its true end time;
#   7. removing the manifests removes the pods and leaves no network namespace, veth, iptables rule
#      or mount behind.
# Each outcome is asserted; the script exits non-zero at the first one that fails.
#
# CI does not run this: kubelet and crictl are built from fetched sources with Debian's Go
# (kubelet: 10-17 minutes here), which a commit may not carry. Build them first with the recipes
# of ../shared/k8s (build-kubelet.sh, build-cri-tools.sh, stand-in-images.sh), then run this.
# environment: KUBELET (default /tmp/k8s/bin/kubelet), CRICTL (default /tmp/k8s/bin/crictl),
#   IMAGES (default /tmp/k8s/images), K8S_SHARED (the recipes, default /work/shared/k8s),
#   WORK (default /tmp/berth-kubelet-run; refused while a berthd of another run answers there),
#   KPORT / KHEALTHZ (kubelet's ports, default 10360 / 10358), HOLD (seconds a failed run stays up),
#   STOP_AFTER=N (end, as a failure, after step N: with HOLD, to look at a live run).
# berthd, kubelet, conmon and the containers run inside the private mount namespace of mntns.sh
# (kubelet 1.28 hard-codes /var/log/pods and /var/lib/kubelet). Everything made (berthd's data and
# exec roots, the pods' bridge, its iptables rules, cgroups, mounts, the namespace) is taken away
# at the end, also when a step fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
KUBELET=${KUBELET:-/tmp/k8s/bin/kubelet}
CRICTL=${CRICTL:-/tmp/k8s/bin/crictl}
IMAGES=${IMAGES:-/tmp/k8s/images}
K8S_SHARED=${K8S_SHARED:-/work/shared/k8s}
WORK=${WORK:-/tmp/berth-kubelet-run}
KPORT=${KPORT:-10360}
KHEALTHZ=${KHEALTHZ:-10358}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
NODE=berth-node
[ -x "$KUBELET" ] || { echo "no kubelet at $KUBELET (see the header)"; exit 2; }
[ -x "$CRICTL" ] || { echo "no crictl at $CRICTL (see the header)"; exit 2; }
[ -f "$IMAGES/busybox.tar" ] || { echo "no stand-in images in $IMAGES (see the header)"; exit 2; }
[ -f "$ROOT/target/berth.jar" ] || (cd "$ROOT" && ./mvnw -B -q -DskipTests package)

# never wipe the folder of a run still going (its berthd or its mount namespace alive)
if curl -sf --max-time 2 --unix-socket "$WORK/engine.sock" http://b/_ping >/dev/null 2>&1 \
   || { [ -f "$WORK/mntns.pid" ] && kill -0 "$(cat "$WORK/mntns.pid")" 2>/dev/null; }; then
  echo "$WORK is in use by another run; set WORK"; exit 2
fi
rm -rf "$WORK"; mkdir -p "$WORK/manifests"
DOCKER_SOCK=$WORK/engine.sock
CRI_SOCK=$WORK/cri.sock
BRIDGE=bkub0
LOG=$WORK/berthd.log
OUT=${OUT:-/tmp/kubelet-on-berthd}   # logs kept after the run
rm -rf "$OUT"; mkdir -p "$OUT"
# subnets no other run here uses (critest's 10.212/10.213, docker's 172.17, berthd's default 10.89)
SUBNETS_RE='10[.]21[67][.]'
cat > "$WORK/daemon.json" <<EOF
{"bridge": "$BRIDGE", "bip": "10.216.0.1/24", "default-address-pools": [{"base": "10.217.0.0/16", "size": 24}]}
EOF
cat > "$WORK/crictl.yaml" <<EOF
runtime-endpoint: unix://$CRI_SOCK
image-endpoint: unix://$CRI_SOCK
timeout: 60
EOF

. "$(dirname "$0")/host-cleanup.sh"
host_state_before

export BASE=$WORK   # for mntns.sh and kubelet-standalone.sh
in_ns() { "$K8S_SHARED/mntns.sh" exec "$@"; }
crictl() { "$CRICTL" --config "$WORK/crictl.yaml" "$@"; }
kubelet_ctl() {
  KUBELET=$KUBELET CRI_ENDPOINT=unix://$CRI_SOCK IN_MNTNS=1 NODE_NAME=$NODE PORT=$KPORT HEALTHZ_PORT=$KHEALTHZ \
    "$K8S_SHARED/kubelet-standalone.sh" "$@"
}
say() { echo "[$(date +%T)] $*"; case "$*" in "${STOP_AFTER:-x}. "*) fail "stopped after step $STOP_AFTER (STOP_AFTER)";; esac; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls the command every second
wait_for() {
  local t=$1 what=$2; shift 2
  for _ in $(seq "$t"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  fail "$what (not within ${t}s)"
}

berthd_pid=
start_berthd() {
  "$K8S_SHARED/mntns.sh" exec "$JAVA" -XX:+UseSerialGC -Xms8m --enable-native-access=ALL-UNNAMED -jar "$ROOT/target/berth.jar" \
    daemon --data-root "$WORK/root" --exec-root "$WORK/run" -H "unix://$DOCKER_SOCK" --cri-socket "$CRI_SOCK" \
    --config-file "$WORK/daemon.json" >> "$LOG" 2>&1 &
  berthd_pid=$!
  for _ in $(seq 300); do curl -sf --unix-socket "$DOCKER_SOCK" http://b/_ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

cleanup() {
  local rc=$?
  set +e
  # HOLD=SECONDS keeps a failed run up that long for a look (it is cleaned up after)
  [ "$rc" != 0 ] && [ -n "${HOLD:-}" ] && { echo "holding ${HOLD}s: BASE=$WORK, crictl --config $WORK/crictl.yaml"; sleep "$HOLD"; }
  cp "$LOG" "$OUT/berthd.log" 2>/dev/null; cp "$WORK/kubelet.log" "$OUT/kubelet.log" 2>/dev/null
  local kpid; kpid=$(cat "$WORK/kubelet.pid" 2>/dev/null)
  kubelet_ctl stop >/dev/null 2>&1
  [ -n "$kpid" ] && { sleep 2; kill -9 "$kpid" 2>/dev/null; }
  # a berthd killed by step 6 and not back: started again, so that it removes its pods itself
  if [ -n "$berthd_pid" ] && ! kill -0 "$berthd_pid" 2>/dev/null; then start_berthd >/dev/null 2>&1; fi
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    crictl rmp -fa >/dev/null 2>&1
    kill -TERM "$berthd_pid"
    for _ in $(seq 20); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$berthd_pid" 2>/dev/null; wait "$berthd_pid" 2>/dev/null
  fi
  "$K8S_SHARED/mntns.sh" stop >/dev/null 2>&1
  grep " $WORK/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  clean_host "$SUBNETS_RE"
  rm -rf "$WORK"
  if [ "$rc" = 0 ]; then echo "PASS: kubelet on berthd (logs in $OUT)"; else echo "FAILED (rc $rc; logs in $OUT)"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- helpers on the pods
pod_id() { crictl pods --name "^$1-$NODE\$" --state ready -q | head -1; }
# the running container NAME of pod $1
ctr_id() { crictl ps --pod "$1" --name "^$2\$" --state running -q | head -1; }
attempt_of() { crictl inspect "$1" | jq -r '.status.metadata.attempt // 0'; }
# kubelet's own view: restartCount of container $2 in pod $1
restarts() {
  curl -sk "https://127.0.0.1:$KPORT/pods" | jq -r --arg p "$1-$NODE" --arg c "$2" \
    '.items[] | select(.metadata.name==$p) | .status.containerStatuses[]? | select(.name==$c) | .restartCount'
}
# copied beside, then renamed: kubelet's watch would read a half-written file and log an error
put_manifest() { cp "$1" "$WORK/manifests/.$(basename "$1")" && mv "$WORK/manifests/.$(basename "$1")" "$WORK/manifests/$(basename "$1")"; }
serves() { curl -sf --max-time 3 "http://$1:8080/index.html" | grep -q 'hello from writer'; }
running() { [ -n "$(ctr_id "$1" "$2")" ]; }
restarted_to() { [ "$(restarts "$1" "$2")" -ge "$3" ] && running "$(pod_id "$1")" "$2"; }

# ---------------------------------------------------------------- set-up
BASE=$WORK "$K8S_SHARED/mntns.sh" start >/dev/null
start_berthd || fail "berthd did not start: $LOG"
for f in busybox pause; do DOCKER_HOST=unix://$DOCKER_SOCK docker load -q -i "$IMAGES/$f.tar" >/dev/null; done
kubelet_ctl start
curl -sf "http://127.0.0.1:$KHEALTHZ/healthz" >/dev/null || fail "kubelet is not healthy: $WORK/kubelet.log"
say "kubelet $("$KUBELET" --version) on berthd, pid $berthd_pid"

# ---------------------------------------------------------------- 1. the web pod
put_manifest "$K8S_SHARED/manifests/web-pod.yaml"
t0=$(date +%s.%N)
for _ in $(seq 120); do
  WEB=$(pod_id web); [ -n "$WEB" ] && running "$WEB" writer && running "$WEB" server && break; sleep 0.5
done
[ -n "$WEB" ] && running "$WEB" server || fail "web pod did not start"
t1=$(date +%s.%N)
IP=$(crictl inspectp "$WEB" | jq -r .status.network.ip)
wait_for 30 "web pod serves at $IP:8080" serves "$IP"
say "1. web pod $WEB running in $(echo "$t1 - $t0" | bc) s, serves at $IP:8080: $(curl -s "http://$IP:8080/index.html")"

# ---------------------------------------------------------------- 2. liveness probe failure
# kept failing for two restarts, as in the containerd reference: kubelet's back-off for a
# container starts counting from its second exit
crictl exec "$(ctr_id "$WEB" writer)" touch /www/.stop
wait_for 90 "server restarted by its failing liveness probe" restarted_to web server 1
wait_for 90 "server restarted a second time by its liveness probe" restarted_to web server 2
crictl exec "$(ctr_id "$WEB" writer)" rm -f /www/.stop
grep -q 'failed liveness probe, will be restarted' "$WORK/kubelet.log" || fail "kubelet did not log the liveness failure"
wait_for 30 "web pod serves again" serves "$IP"
say "2. liveness failure: server restartCount $(restarts web server), serving again"

# ---------------------------------------------------------------- 3. SIGKILL: back-off, restart
before=$(restarts web server)
SRV=$(ctr_id "$WEB" server)
pid=$(crictl inspect "$SRV" | jq -r .info.pid)
[ -n "$pid" ] && [ "$pid" -gt 1 ] || fail "no pid for server in crictl inspect"
kill -9 "$pid"
wait_for 30 "server seen exited 137" sh -c "[ \"\$($CRICTL --config $WORK/crictl.yaml inspect $SRV | jq -r .status.exitCode)\" = 137 ]"
wait_for 120 "server restarted after SIGKILL" restarted_to web server $((before + 1))
grep -q 'CrashLoopBackOff' "$WORK/kubelet.log" || fail "kubelet logged no back-off"
finished=$(crictl inspect "$SRV" | jq -r .status.finishedAt)
started=$(crictl inspect "$(ctr_id "$WEB" server)" | jq -r .status.startedAt)
backoff=$(( $(date -d "$started" +%s) - $(date -d "$finished" +%s) ))
[ "$backoff" -ge 8 ] || fail "server restarted ${backoff}s after its SIGKILL: no back-off"
say "3. SIGKILL: exit 137, kubelet: \"$(grep -o 'back-off [0-9a-z]* restarting failed container=server' "$WORK/kubelet.log" | tail -1)\", restarted ${backoff} s after the kill, restartCount $(restarts web server)"
wait_for 30 "web pod serves after the SIGKILL restart" serves "$IP"

# ---------------------------------------------------------------- 4. a Guaranteed pod
put_manifest "$HERE/guaranteed-pod.yaml"
for _ in $(seq 120); do G=$(pod_id guaranteed); [ -n "$G" ] && running "$G" ticker && break; sleep 0.5; done
[ -n "$G" ] && running "$G" ticker || fail "Guaranteed pod did not start"
TICK=$(ctr_id "$G" ticker)
wait_for 10 "ticker's first log line" sh -c "ls $WORK/varlog/pods/default_guaranteed-${NODE}_*/ticker/0.log"
GLOG=$(ls "$WORK"/varlog/pods/default_guaranteed-${NODE}_*/ticker/0.log)
wait_for 10 "ticker printed its oom_score_adj" grep -q oom_score_adj "$GLOG"
adj=$(grep -o 'oom_score_adj -\?[0-9]*' "$GLOG" | awk '{print $2}')
own=$(cat /proc/"$berthd_pid"/oom_score_adj)
[ "$adj" = "$own" ] || fail "Guaranteed container has oom_score_adj $adj, berthd $own"
mem=$(crictl exec "$TICK" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || crictl exec "$TICK" cat /sys/fs/cgroup/memory.max)
[ "$mem" = 67108864 ] || fail "Guaranteed container's memory limit is $mem, not 64Mi"
say "4. Guaranteed pod $G running, oom_score_adj $adj (kubelet asked -997, clamped to berthd's $own), memory limit $mem"

# ---------------------------------------------------------------- 5. crictl logs, exec -it, port-forward
logs=$(in_ns "$CRICTL" --config "$WORK/crictl.yaml" logs --tail 2 "$TICK" 2>&1)
echo "$logs" | grep -q '^tick [0-9]' || fail "crictl logs: $logs"
# script(1) with stdin at EOF makes the session's tty echo a NUL as "^@" (dockerd too: moby/moby#53701)
tty=$(script -qc "$CRICTL --config $WORK/crictl.yaml exec -it $(ctr_id "$WEB" server) sh -c 'tty; echo in-\$HOSTNAME'" /dev/null </dev/null | tr -d '\r' | sed 's/\^@//g')
echo "$tty" | grep -q '^/dev/pts/' || fail "crictl exec -it: $tty"
crictl port-forward "$WEB" 18480:8080 > "$WORK/pf.log" 2>&1 & pf=$!
wait_for 15 "port-forward serves the page" sh -c "curl -sf --max-time 3 http://127.0.0.1:18480/index.html | grep -q 'hello from writer'"
kill "$pf"; wait "$pf" 2>/dev/null || true
say "5. crictl logs: $(echo "$logs" | tail -1); exec -it: $(echo "$tty" | tr '\n' ' '); port-forward 127.0.0.1:18480 -> $WEB:8080 served the page"

# ---------------------------------------------------------------- 6. kill -9 of berthd
# every container with its state and times, as kubelet reads them (an adopted container keeps its start)
snapshot() {
  for id in $(crictl ps -a -q); do
    crictl inspect "$id" | jq -r '.status | "\(.id[0:12]) \(.metadata.name) \(.metadata.attempt) \(.state) \(.startedAt) \(.finishedAt) \(.exitCode)"'
  done | sort
}
s_before=$(snapshot); r_before="$(restarts web writer) $(restarts web server) $(restarts guaranteed ticker)"
# numbered requests to the server from before the kill until after the restart: httpd -v logs each
# one (request n comes from port 41000+n) to stdout, which conmon writes to the CRI log while
# berthd is away; none may be missing
( for n in $(seq 1 30); do curl -s --max-time 2 --local-port $((41000 + n)) -o /dev/null "http://$IP:8080/index.html"; sleep 0.5; done ) &
requests=$!
sleep 1
kill -9 "$berthd_pid"; wait "$berthd_pid" 2>/dev/null || true
say "6. berthd killed (-9); the pods run on under conmon for 10 s"
sleep 10
serves "$IP" || fail "the web pod stopped serving while berthd was down"
start_berthd || fail "berthd did not start: $LOG"
wait "$requests"
sleep 25   # more than two of kubelet's sync periods (10 s) and relist
s_after=$(snapshot); r_after="$(restarts web writer) $(restarts web server) $(restarts guaranteed ticker)"
[ "$s_before" = "$s_after" ] || fail "containers changed across berthd's restart:
before: $s_before
after:  $s_after"
[ "$r_before" = "$r_after" ] || fail "restart counts changed: $r_before -> $r_after"
gaps=$(grep -o 'tick [0-9]*' "$GLOG" | awk '{n=$2} NR>1 && n!=p+1 {print p "->" n} {p=n}')
[ -z "$gaps" ] || fail "ticker's log lost lines across berthd's restart: $gaps"
last=$(grep -o 'tick [0-9]*' "$GLOG" | tail -1 | awk '{print $2}')
SLOG=$(ls "$WORK"/varlog/pods/default_web-${NODE}_*/server/"$(attempt_of "$(ctr_id "$WEB" server)")".log)
for n in $(seq 1 30); do
  grep -q "]:$((41000 + n)): response:200" "$SLOG" || fail "request $n is missing from the server's log $SLOG"
done
serves "$IP" || fail "the web pod does not serve after berthd's restart"
say "   after the restart: same containers, times and restart counts ($r_after); ticker's log 1..$last without a gap; the server's log holds all 30 requests made across the kill"

# a container that ends while berthd is away: restarted once berthd is back, and kubelet sees it
# end when it did (kubelet counts its back-off from that time), not at berthd's restart
WRI=$(ctr_id "$WEB" writer)
wpid=$(crictl inspect "$WRI" | jq -r .info.pid)
kill -9 "$berthd_pid"; wait "$berthd_pid" 2>/dev/null || true
kill -9 "$wpid"; killed=$(date +%s)
sleep 8
start_berthd || fail "berthd did not start: $LOG"
wait_for 60 "writer restarted after ending while berthd was away" restarted_to web writer 1
finished=$(curl -sk "https://127.0.0.1:$KPORT/pods" | jq -r '.items[] | select(.metadata.name=="web-'$NODE'") | .status.containerStatuses[] | select(.name=="writer") | .lastState.terminated.finishedAt')
code=$(crictl inspect "$WRI" | jq -r .status.exitCode)
skew=$(( $(date -d "$finished" +%s) - killed ))
[ "$code" = 137 ] && [ "${skew#-}" -le 1 ] || fail "writer, killed at $(date -d @$killed +%T) while berthd was away: exit $code, kubelet says it finished at $finished"
say "   writer SIGKILLed while berthd was away: exit 137, restarted after berthd's return; kubelet's lastState finishedAt $finished (the kill, ${skew} s off; berthd came back 8 s later)"

# ---------------------------------------------------------------- 7. removing the manifests
rm -f "$WORK/manifests/web-pod.yaml" "$WORK/manifests/guaranteed-pod.yaml"
# kubelet stops the pods at once and removes their sandboxes in its next container GC (every minute)
wait_for 60 "kubelet stopped the pods" sh -c "[ -z \"\$($CRICTL --config $WORK/crictl.yaml pods --state ready -q)\" ]"
wait_for 150 "kubelet removed the pods" sh -c "[ -z \"\$($CRICTL --config $WORK/crictl.yaml pods -q)\" ]"
[ -z "$(crictl ps -a -q)" ] || fail "containers left: $(crictl ps -a)"
# this run's bridges (told by their subnets) must have no port left
veths_left=$(for br in $(ip -o -4 addr show | awk -v re="^$SUBNETS_RE" '$4 ~ re {print $2}'); do ip -o link show master "$br"; done)
[ -z "$veths_left" ] || fail "veths left: $veths_left"
mounts_left=$(in_ns cat /proc/self/mountinfo | awk '{print $5}' | grep -E "^$WORK/(run|root)/" || true)
[ -z "$mounts_left" ] || fail "mounts left in the namespace: $mounts_left"
rules_left=$(iptables-save | grep -E -- "$IP|CNI-DN-" || true)
[ -z "$rules_left" ] || fail "iptables rules left: $rules_left"
ns_left=$(find "$WORK/run/netns" -mindepth 1 2>/dev/null | head)
say "7. manifests removed: no pod, container, veth, mount or rule of the pods left (netns files: ${ns_left:-none})"
[ -z "$ns_left" ] || fail "network namespace files left: $ns_left"
