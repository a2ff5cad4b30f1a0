#!/usr/bin/env python3
"""berthd's CRI side by side with containerd's (the runtime kubelet is most often given).

Both run privately (own roots, sockets, pod subnets); crictl drives the same pod workload
against each, alternating engine by engine. Measured:
  * pod start: RunPodSandbox -> CreateContainer -> StartContainer of a busybox container,
    the time kubelet waits for a pod's first container;
  * pod removal: StopPodSandbox + RemovePodSandbox (with its stopped container);
  * memory per running pod: RSS the runtime adds on the host for each pod with one container
    (containerd: a shim and the pause process per pod, growth of containerd; berthd: a conmon
    per container, growth of berthd), the containers' own processes not counted;
  * berthd's idle RSS with the CRI on (after a first call started gRPC) and off.
  * critest -benchmark (when critest and the stand-ins of ../shared/k8s are there): its pod and
    container lifecycles over one connection, each operation timed; pod start is RunPodSandbox
    + CreateContainer + StartContainer there, kubelet's path without crictl's process and dial.
Needs root, crictl (PATH, $CRICTL or /tmp/k8s/bin/crictl), containerd 1.6+ with ctr, runc,
conmon and the CNI plugins; critest ($CRITEST, PATH or beside crictl) and the stand-in busybox
and pause images ($IMAGES, default /tmp/k8s/images) for the critest rows. Results: terminal and bench/results/<date>-<host>-cri.md.
Run it through `./berth bench-cri [--quick]`.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the Docker-API bench: its image builder, RSS and cleanup helpers)

POD_SUBNET = "10.78.0.0/24"  # containerd's pods; berthd's pods take their range from its own pools
PAUSE_SLEEP = "999999"       # the stand-in pause process, told apart from the workload's sleep
WORK_SLEEP = "888888"


def crictl_path():
    for p in (os.environ.get("CRICTL"), shutil.which("crictl"), "/tmp/k8s/bin/crictl"):
        if p and os.access(p, os.X_OK):
            return p
    return None


class CriEngine:
    def __init__(self, name, work, crictl):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.crictl_bin = crictl
        self.proc = None

    @property
    def endpoint(self):
        return "unix://" + self.cri_socket

    def crictl(self, *args, check=True, timeout=120):
        r = subprocess.run([self.crictl_bin, "-r", self.endpoint, "-i", self.endpoint, "-t", "60s", *args],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name}: crictl {' '.join(args)}: {r.stderr.strip()[-500:]}")
        return r.stdout.strip()

    def wait_ready(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.dir}/daemon.log")
            if os.path.exists(self.cri_socket) and self.crictl("version", check=False, timeout=10):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no CRI answer in 60 s")

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None


def workload_rss_under(pid):
    """RSS of the workload's sleep processes below a helper (conmon's children are the containers)."""
    total = 0
    for child in bench.pids_of(WORK_SLEEP):
        p = child
        while p > 1:
            if p == pid:
                total += bench.rss_kib([child])
                break
            try:
                with open(f"/proc/{p}/stat") as f:
                    p = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
    return total


class BerthCri(CriEngine):
    def __init__(self, work, crictl, cri=True):
        super().__init__("berthd" if cri else "berthd-no-cri", work, crictl)
        self.cri = cri
        self.cri_socket = os.path.join(self.dir, "cri.sock")
        self.docker_socket = os.path.join(self.dir, "engine.sock")

    def start(self):
        # the Docker-API bench's berthd (its JVM flags, folders under this engine's), with the CRI on or off
        cmd = bench.Berthd(self.name, os.path.dirname(self.dir)).command() + ["--cri-socket", self.cri_socket if self.cri else ""]
        log = open(os.path.join(self.dir, "daemon.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not bench.ping(self.docker_socket, 0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.dir}/daemon.log")
            time.sleep(0.01)
        if self.cri:
            self.wait_ready()

    def docker(self, *args):
        env = dict(os.environ, DOCKER_HOST="unix://" + self.docker_socket, DOCKER_CONFIG=os.path.join(self.dir, "cli"))
        return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=False)

    def load(self, tar):
        r = self.docker("load", "-i", tar)
        if r.returncode != 0:
            raise RuntimeError(f"berthd: docker load: {r.stderr.strip()}")

    def pod_helper_pids(self):
        # conmon per container, and a pod's PID-namespace init (unshare + catatonit) when its containers share one
        conmons = [p for p in bench.pids_of(self.dir) if p != self.proc.pid and comm(p) == "conmon"]
        inits = [p for p in children_of(self.proc.pid) if comm(p) == "unshare"]
        return conmons + inits + [c for p in inits for c in children_of(p)]


class Containerd(CriEngine):
    def __init__(self, work, crictl):
        super().__init__("containerd", work, crictl)
        self.cri_socket = os.path.join(self.dir, "containerd.sock")

    def start(self):
        conf_dir = os.path.join(self.dir, "cni")
        os.makedirs(conf_dir, exist_ok=True)
        with open(os.path.join(conf_dir, "10-bench.conflist"), "w") as f:
            json.dump({"cniVersion": "1.0.0", "name": "benchcri", "plugins": [
                {"type": "bridge", "bridge": "benchcri0", "isGateway": True, "ipMasq": False,
                 "ipam": {"type": "host-local", "dataDir": os.path.join(self.dir, "ipam"),
                          "ranges": [[{"subnet": POD_SUBNET}]], "routes": [{"dst": "0.0.0.0/0"}]}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}, f)
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            f.write(f"""version = 2
root = "{self.dir}/root"
state = "{self.dir}/state"
[grpc]
  address = "{self.cri_socket}"
[ttrpc]
  address = "{self.cri_socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{self.dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/bench/pause:latest"
  # without CAP_SYS_RESOURCE (as on the machine this was made on) its -998 for the pause process would fail
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{conf_dir}"
""")
        log = open(os.path.join(self.dir, "daemon.log"), "ab")
        self.proc = subprocess.Popen(["containerd", "--config", config], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.wait_ready()

    def load(self, tar):
        r = subprocess.run(["ctr", "-a", self.cri_socket, "-n", "k8s.io", "images", "import", tar],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"containerd: ctr import: {r.stderr.strip()}")

    def pod_helper_pids(self):
        shims = [p for p in bench.pids_of(self.cri_socket) if comm(p).startswith("containerd-shim")]
        return shims  # the pause processes are the shims' children, counted with them


def critest_path(crictl):
    for p in (os.environ.get("CRITEST"), shutil.which("critest"), os.path.join(os.path.dirname(crictl), "critest")):
        if p and os.access(p, os.X_OK):
            return p
    return None


def standin_images():
    """critest's busybox and pause images (../shared/k8s/stand-in-images.sh): $IMAGES or /tmp/k8s/images."""
    d = os.environ.get("IMAGES", "/tmp/k8s/images")
    tars = [os.path.join(d, t) for t in ("busybox.tar", "pause.tar")]
    return tars if all(os.path.isfile(t) for t in tars) else None


CRITEST_OPS = ("CreatePod", "CreateContainer", "StartContainer")


def critest_benchmark(e, critest, work, n):
    """critest -benchmark's pod and container lifecycles over one gRPC connection, as kubelet keeps
    one: the durations of each operation, by name (ms), from its output files."""
    out = tempfile.mkdtemp(prefix=f"critest-{e.name}.", dir=work)
    params = os.path.join(out, "params.yaml")
    with open(params, "w") as f:
        f.write(f"containersNumber: {n}\ncontainersNumberParallel: 1\npodsNumber: {n}\npodsNumberParallel: 1\n")
    r = subprocess.run([critest, "-benchmark", f"--runtime-endpoint={e.endpoint}", f"--image-endpoint={e.endpoint}",
                        f"--benchmarking-params-file={params}", f"--benchmarking-output-dir={out}",
                        "--ginkgo.focus=lifecycle of PodSandbox|basic operations on Container", "--ginkgo.no-color"],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"{e.name}: critest -benchmark failed: {r.stdout[-1500:]}")
    durations = {}
    for name in ("pod_benchmark_data.json", "container_benchmark_data.json"):
        with open(os.path.join(out, name)) as f:
            data = json.load(f)
        for i, op in enumerate(data["operationsNames"]):
            durations.setdefault(op, []).extend(p["operationsDurationsNs"][i] / 1e6 for p in data["datapoints"])
    return durations


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# kubelet's default: each container its own PID namespace (shareProcessNamespace: false)
KUBELET_NAMESPACES = {"namespace_options": {"pid": 1}}


def pod_config(work, name, i):
    os.makedirs(os.path.join(work, "logs", name, str(i)), exist_ok=True)
    return write_json(os.path.join(work, f"pod-{name}-{i}.json"), {
        "metadata": {"name": f"bench-{i}", "namespace": "bench", "uid": f"{name}-{i}-{time.monotonic_ns()}", "attempt": 0},
        "log_directory": os.path.join(work, "logs", name, str(i)),
        "linux": {"security_context": KUBELET_NAMESPACES}})


def container_config(work):
    return write_json(os.path.join(work, "container.json"), {
        "metadata": {"name": "app"}, "image": {"image": "docker.io/bench/busybox:latest"},
        "command": ["sleep", WORK_SLEEP], "log_path": "app.log", "linux": {"security_context": KUBELET_NAMESPACES}})


def median_ms(values):
    return statistics.median(values) * 1000


def main():
    p = argparse.ArgumentParser(description="berthd's CRI side by side with containerd's")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    crictl = crictl_path()
    if not crictl or not shutil.which("containerd") or not shutil.which("ctr"):
        print("bench-cri needs crictl (PATH, $CRICTL or /tmp/k8s/bin/crictl), containerd and ctr", file=sys.stderr)
        return 2
    reps = 4 if args.quick else 10
    pods = 5 if args.quick else 10
    work = tempfile.mkdtemp(prefix="berth-cri-bench.")
    iptables_before = {t: bench.run_text([t + "-save"]) for t in ("iptables", "ip6tables")}
    links_before = set(bench.link_names())
    # containerd's CRI makes /run/netns a mount of its own (as `ip netns` does) and leaves it
    netns_mounted_before = os.path.ismount("/run/netns")
    engines = []
    lines = []

    def report(what, unit, values, note=""):
        r = values["berthd"] / values["containerd"] if values.get("containerd") else float("nan")
        line = f"| {what} | {values['berthd']:.1f} {unit} | {values['containerd']:.1f} {unit} | {r:.2f} | {note} |"
        print(line, flush=True)
        lines.append(line)

    try:
        images = os.path.join(work, "images")
        os.makedirs(images)
        busybox = os.path.join(images, "busybox.tar")
        pause = os.path.join(images, "pause.tar")
        bench.docker_archive(busybox, "bench/busybox:latest", [bench.busybox_layer()], ["sh"])
        bench.docker_archive(pause, "bench/pause:latest", [bench.busybox_layer()], ["sleep", PAUSE_SLEEP])
        engines = [BerthCri(work, crictl), Containerd(work, crictl)]
        critest = critest_path(crictl)
        standins = standin_images()
        for e in engines:
            e.start()
            e.load(busybox)
            e.load(pause)
            if critest and standins:
                for t in standins:
                    e.load(t)
        ctr_json = container_config(work)

        def pod_start(e, i):
            """crictl run: RunPodSandbox, CreateContainer, StartContainer from one crictl process (its own start
            is paid once, as kubelet pays none); the pod's ID from the container's listing."""
            pod = pod_config(work, e.name, i)
            t0 = time.monotonic()
            cid = e.crictl("run", "--no-pull", ctr_json, pod)
            took = time.monotonic() - t0
            listed = json.loads(e.crictl("ps", "-a", "--id", cid, "-o", "json"))
            return listed["containers"][0]["podSandboxId"], took

        def pod_remove(e, pid):
            t0 = time.monotonic()
            e.crictl("stopp", pid)
            e.crictl("rmp", pid)
            return time.monotonic() - t0

        # a first pod each, not counted: containerd makes its bridge, berthd its pod network
        for e in engines:
            pid, _ = pod_start(e, 0)
            pod_remove(e, pid)
        starts = {e.name: [] for e in engines}
        removals = {e.name: [] for e in engines}
        for i in range(1, reps + 1):
            for e in engines:
                pid, took = pod_start(e, i)
                starts[e.name].append(took)
                removals[e.name].append(pod_remove(e, pid))
        overhead = {e.name: [] for e in engines}
        for _ in range(reps):
            for e in engines:
                t0 = time.monotonic()
                e.crictl("version")
                overhead[e.name].append(time.monotonic() - t0)
        report("pod start: crictl run", "ms", {k: median_ms(v) for k, v in starts.items()}, f"median of {reps}")
        report("crictl version (the tool's own cost)", "ms", {k: median_ms(v) for k, v in overhead.items()}, "in each line above once")
        report("pod start less crictl's own cost", "ms", {k: median_ms(starts[k]) - median_ms(overhead[k]) for k in starts},
               "RunPodSandbox to a started container")
        report("pod removal: stopp + rmp", "ms", {k: median_ms(v) for k, v in removals.items()}, f"median of {reps}")

        # critest's benchmark mode (what the CRI's own suite measures): one connection, each operation timed
        if critest and standins:
            n = 10 if args.quick else 20
            ops = {e.name: {} for e in engines}
            for _ in range(2):  # twice each, alternating
                for e in engines:
                    for op, vals in critest_benchmark(e, critest, work, n).items():
                        ops[e.name].setdefault(op, []).extend(vals)
            for op in ("CreatePod", "StatusPod", "StopPod", "RemovePod", "CreateContainer", "StartContainer",
                       "StatusContainer", "StopContainer", "RemoveContainer"):
                report(f"critest -benchmark: {op}", "ms", {k: statistics.median(v[op]) for k, v in ops.items()}, f"median of {2 * n}")
            report("pod start, critest -benchmark: RunPodSandbox + CreateContainer + StartContainer", "ms",
                   {k: sum(statistics.median(v[op]) for op in CRITEST_OPS) for k, v in ops.items()},
                   "sum of the medians above (CreateContainer includes critest's ImageStatus, as kubelet's)")
        else:
            bench.log("critest or its stand-in images not found (CRITEST, IMAGES): critest -benchmark rows left out")

        helpers, growth = {}, {}
        for e in engines:
            time.sleep(2)
            daemon_before = bench.rss_kib([e.proc.pid])
            ids = [pod_start(e, 100 + i)[0] for i in range(pods)]
            time.sleep(3)
            helpers[e.name] = sum(bench.rss_kib([p]) - workload_rss_under(p) for p in e.pod_helper_pids()) / 1024.0 / pods
            growth[e.name] = (bench.rss_kib([e.proc.pid]) - daemon_before) / 1024.0 / pods
            for pid in ids:
                pod_remove(e, pid)
        report("memory per running pod: its runtime processes", "MiB", helpers,
               f"{pods} pods of one container: conmon per container / shim and pause per pod")
        report("memory per running pod: the daemon's growth", "MiB", growth, "noisy: heap and page cache come and go")
        report("memory per running pod: both", "MiB", {k: helpers[k] + growth[k] for k in helpers})

        # berthd's idle RSS with the CRI (after a call started gRPC) against a berthd without it
        for e in engines:
            e.stop()
        idle = {}
        for cri in (True, False):
            b = BerthCri(work, crictl, cri=cri)
            engines.append(b)
            b.start()
            if cri:
                b.crictl("version")
            # idle: past berthd's 10 s quiet spell, after which it gives memory back (both alike)
            time.sleep(25)
            idle[b.name] = bench.rss_kib([b.proc.pid]) / 1024.0
            b.stop()
        line = (f"| berthd idle RSS, CRI on / off (25 s after) | {idle['berthd']:.1f} MiB | {idle['berthd-no-cri']:.1f} MiB (berthd, no CRI) | "
                f"+{idle['berthd'] - idle['berthd-no-cri']:.1f} MiB | after one CRI call, then 25 s idle |")
        print(line, flush=True)
        lines.append(line)
    finally:
        for e in engines:
            try:
                if e.proc and e.proc.poll() is None:
                    for pid in e.crictl("pods", "-q", check=False).split():
                        e.crictl("stopp", pid, check=False)
                        e.crictl("rmp", pid, check=False)
                    if isinstance(e, BerthCri):
                        e.docker("network", "rm", "berth-pods")
            except Exception as ex:  # cleanup goes on
                bench.log(f"removing {e.name}'s pods: {ex}")
            e.stop()
        for pid in bench.pids_of(work):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(f"grep -o ' {work}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l", shell=True, check=False)
        for tool, saved in iptables_before.items():
            if saved:
                subprocess.run([tool + "-restore"], input=saved, text=True, check=False)
        for link in set(bench.link_names()) - links_before:
            subprocess.run(["ip", "link", "del", link], check=False, capture_output=True)
        for ctl in os.listdir("/sys/fs/cgroup"):
            for name in ("berth", "k8s.io"):
                path = os.path.join("/sys/fs/cgroup", ctl, name)
                if os.path.isdir(path):
                    subprocess.run(["find", path, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"], capture_output=True)
        if not netns_mounted_before and os.path.ismount("/run/netns") and not os.listdir("/run/netns"):
            subprocess.run(["umount", "/run/netns"], check=False)
        shutil.rmtree(work, ignore_errors=True)

    os.makedirs(bench.RESULTS, exist_ok=True)
    out = os.path.join(bench.RESULTS, f"{datetime.date.today().isoformat()}-{socket.gethostname()}-cri.md")
    with open(out, "w") as f:
        f.write(f"# Berth CRI benchmark, {datetime.date.today().isoformat()}, {socket.gethostname()}\n\n")
        f.write(f"Machine: {bench.machine_description()}\n\n")
        f.write("berthd's CRI against containerd 1.6's (runc, CNI bridge), the same crictl and critest -benchmark workloads, alternating.\n\n")
        f.write("| workload | berthd | containerd | berthd/containerd | note |\n| --- | --- | --- | --- | --- |\n")
        f.write("\n".join(lines) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
