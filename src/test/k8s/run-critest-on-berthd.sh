#!/usr/bin/env bash
# critest (the CRI validation suite of cri-tools) against a private berthd, as root.
#
# usage: src/test/k8s/run-critest-on-berthd.sh preloaded|registry
#   preloaded  the stand-in images are loaded into berthd's store first (docker load through
#              its Docker API: the CRI shares the store); the pull tests are skipped
#   registry   berthd pulls registry.k8s.io, gcr.io and docker.io names from a local registry
#              on 127.0.0.1:5077 through daemon.json's registry-host-mirrors
#
# CI does not run this: critest and its stand-in images are built from fetched sources with
# Debian's Go (about 10 minutes here), which a commit may not carry. Build them first with the
# recipes of ../shared/k8s (build-cri-tools.sh, stand-in-images.sh), then run this script.
# environment: CRITEST (default /tmp/k8s/bin/critest), IMAGES (default /tmp/k8s/images),
#   K8S_SHARED (the recipes, default /work/shared/k8s), WORK (default /tmp/berth-critest),
#   FOCUS / EXTRA_SKIP passed on to the recipe's run-critest.sh.
# Everything it makes (berthd's data and exec roots, the pods' bridge, its iptables rules,
# cgroups, mounts, the registry) is taken away at the end, also when critest fails.
set -euo pipefail
MODE=${1:?usage: $0 preloaded|registry}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CRITEST=${CRITEST:-/tmp/k8s/bin/critest}
IMAGES=${IMAGES:-/tmp/k8s/images}
K8S_SHARED=${K8S_SHARED:-/work/shared/k8s}
WORK=${WORK:-/tmp/berth-critest}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
PORT=5077
[ -x "$CRITEST" ] || { echo "no critest at $CRITEST (see the header)"; exit 2; }
[ -f "$IMAGES/images.tsv" ] || { echo "no stand-in images in $IMAGES (see the header)"; exit 2; }
# the recipe's registry is filled by skopeo (a fresh machine lacks it; Debian packages it)
if [ "$MODE" = registry ] && ! command -v skopeo >/dev/null; then
  command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq skopeo >/dev/null
  command -v skopeo >/dev/null || { echo "registry mode needs skopeo"; exit 2; }
fi
[ -f "$ROOT/target/berth.jar" ] || (cd "$ROOT" && ./mvnw -B -q -DskipTests package)

rm -rf "$WORK"; mkdir -p "$WORK"
DOCKER_SOCK=$WORK/engine.sock
CRI_SOCK=$WORK/cri.sock
BRIDGE=bcrit0
had_cni_results=0; [ -d /var/lib/cni/results ] && had_cni_results=1
SUBNETS_RE='10[.]21[23][.]'   # the default bridge's and the pods' network

cat > "$WORK/daemon.json" <<EOF
{"bridge": "$BRIDGE", "bip": "10.212.0.1/24",
 "default-address-pools": [{"base": "10.213.0.0/16", "size": 24}],
 "registry-host-mirrors": {"registry.k8s.io": ["http://127.0.0.1:$PORT"], "gcr.io": ["http://127.0.0.1:$PORT"],
                           "docker.io": ["http://127.0.0.1:$PORT"]}}
EOF

. "$(dirname "$0")/host-cleanup.sh"
host_state_before

berthd_pid=
cleanup() {
  set +e
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    CONTAINER_RUNTIME_ENDPOINT=unix://$CRI_SOCK IMAGE_SERVICE_ENDPOINT=unix://$CRI_SOCK \
      "$(dirname "$CRITEST")/crictl" -t 60s rmp -fa >/dev/null 2>&1
    DOCKER_HOST=unix://$DOCKER_SOCK docker ps -aq | xargs -r env DOCKER_HOST=unix://$DOCKER_SOCK docker rm -f >/dev/null 2>&1
    kill -TERM "$berthd_pid"; wait "$berthd_pid" 2>/dev/null
  fi
  [ "$MODE" = registry ] && BASE=$WORK "$K8S_SHARED/serve-stand-ins.sh" stop >/dev/null 2>&1
  grep " $WORK/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  clean_host "$SUBNETS_RE"
  [ "$had_cni_results" = 0 ] && rm -rf /var/lib/cni/results
  rm -rf "$WORK"
}
trap cleanup EXIT

"$JAVA" -XX:+UseSerialGC -Xms8m --enable-native-access=ALL-UNNAMED -jar "$ROOT/target/berth.jar" daemon \
  --data-root "$WORK/root" --exec-root "$WORK/run" -H "unix://$DOCKER_SOCK" --cri-socket "$CRI_SOCK" \
  --config-file "$WORK/daemon.json" > "/tmp/critest-berthd-$MODE.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 300); do curl -sf --unix-socket "$DOCKER_SOCK" http://b/_ping >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf --unix-socket "$DOCKER_SOCK" http://b/_ping >/dev/null || { echo "berthd did not start: /tmp/critest-berthd-$MODE.log"; exit 1; }

if [ "$MODE" = preloaded ]; then
  for f in "$IMAGES"/*.tar; do DOCKER_HOST=unix://$DOCKER_SOCK docker load -q -i "$f" >/dev/null; done
else
  BASE=$WORK PORT=$PORT "$K8S_SHARED/serve-stand-ins.sh" start "$IMAGES" >/dev/null
fi

set +e
CRITEST=$CRITEST BASE=$WORK "$K8S_SHARED/run-critest.sh" "unix://$CRI_SOCK" "$MODE" 2>&1 | tee "/tmp/critest-$MODE.log" | grep -a -E '^(Ran |FAIL|SUCCESS|critest exit|\[FAIL\])|Passed|Failed'
rc=${PIPESTATUS[0]}
set -e
exit "$rc"
