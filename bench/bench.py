#!/usr/bin/env python3
"""Side-by-side benchmark of berthd against dockerd and Podman.

Every engine runs on its own socket and data root; the same docker-CLI workload runs against
each, alternating engine by engine (A B C A B C ...) so that the machine's drift hits all alike.
Results: a table per workload on the terminal and in bench/results/<date>-<host>.md, plus an
SVG chart of berthd's ratios. Run it through `./berth bench [--quick] [--only NAME...]`.
"""
import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def ping(sock, timeout=1.0):
    """GET /_ping over a unix socket; True when it answers 200."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(sock)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = s.recv(64)
        s.close()
        return data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def rss_kib(pids):
    """Sum of VmRSS of the given pids and all their descendants."""
    seen, todo, total = set(), list(pids), 0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return total


def run_text(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def link_names():
    return [line.split()[0].split("@")[0] for line in run_text(["ip", "-br", "link"]).splitlines() if line.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def monitor_rss(engine):
    """KiB of the processes that watch an engine's containers (their command line names the
    engine's folder), not counting the daemon itself."""
    total = 0
    for pid in pids_of(engine.dir):
        if engine.proc and pid == engine.proc.pid:
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            if comm not in ("conmon", "containerd-shim", "containerd-shim-runc-v2"):
                continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Registry:
    """Debian's docker-registry on 127.0.0.1 with a temp storage folder."""

    def __init__(self, work):
        self.dir = os.path.join(work, "registry")
        self.port = free_port()
        self.proc = None

    def start(self):
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
                    f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def wipe(self):
        self.stop()
        shutil.rmtree(os.path.join(self.dir, "data"), ignore_errors=True)
        self.start()

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def pids_of(command_substring):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            if command_substring in cmd:
                out.append(int(d))
        except OSError:
            pass
    return out


class Engine:
    """One daemon under test: how to start it, stop it, and point the docker CLI at it."""

    def __init__(self, name, workdir):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "engine.sock")
        self.proc = None
        self.start_seconds = None

    def env(self):
        e = dict(os.environ)
        e["DOCKER_HOST"] = "unix://" + self.sock
        e["DOCKER_CONFIG"] = os.path.join(self.dir, "cli")
        e.pop("DOCKER_CONTEXT", None)
        e["DOCKER_BUILDKIT"] = "0"
        return e

    def docker(self, *args, check=True, stdin=None, timeout=600):
        r = subprocess.run(["docker", *args], env=self.env(), capture_output=True, text=True,
                           input=stdin, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name}: docker {' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def command(self):
        raise NotImplementedError

    def daemon_env(self):
        return {}

    def start(self):
        logf = open(os.path.join(self.dir, "daemon.log"), "ab")
        t0 = time.monotonic()
        env = dict(os.environ)
        env.update(self.daemon_env())
        self.proc = subprocess.Popen(self.command(), stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        deadline = t0 + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.dir}/daemon.log")
            if ping(self.sock, 0.2):
                self.start_seconds = time.monotonic() - t0
                return
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer /_ping in 60 s")

    def daemon_pids(self):
        return [self.proc.pid] if self.proc else []

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None


class Berthd(Engine):
    def command(self):
        java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
        opts = ["-XX:+UseSerialGC", "-XX:-ShrinkHeapInSteps", "-Xms8m", "-Xss512k", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
                "-XX:TrimNativeHeapInterval=5000",
                "--enable-native-access=ALL-UNNAMED"]
        aot = os.path.join(ROOT, "target", "berth.aot")
        jar = os.path.join(ROOT, "target", "berth.jar")
        if os.path.exists(aot) and os.path.getmtime(aot) >= os.path.getmtime(jar):
            opts.append("-XX:AOTCache=" + aot)
        return [java, *opts, "-jar", jar, "daemon", "--data-root", os.path.join(self.dir, "root"),
                "--exec-root", os.path.join(self.dir, "run"), "-H", "unix://" + self.sock,
                "--config-file", "/dev/null"]


class Dockerd(Engine):
    def command(self):
        return ["dockerd", "--data-root", os.path.join(self.dir, "root"),
                "--exec-root", os.path.join(self.dir, "run"), "--pidfile", os.path.join(self.dir, "docker.pid"),
                "-H", "unix://" + self.sock, "--config-file", os.path.join(self.dir, "daemon.json")]

    def start(self):
        with open(os.path.join(self.dir, "daemon.json"), "w") as f:
            json.dump({"insecure-registries": ["127.0.0.0/8"]}, f)
        super().start()


class Podman(Engine):
    registry_port = None

    def daemon_env(self):
        # Podman reads insecure registries from registries.conf only.
        conf = os.path.join(self.dir, "registries.conf")
        with open(conf, "w") as f:
            f.write('unqualified-search-registries = []\n')
            if self.registry_port:
                f.write(f'[[registry]]\nlocation = "127.0.0.1:{self.registry_port}"\ninsecure = true\n')
        # No systemd here, and crun 1.8 refuses hybrid cgroup hosts: runc through cgroupfs.
        engine_conf = os.path.join(self.dir, "containers.conf")
        runtime = "runc" if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers") else "crun"
        with open(engine_conf, "w") as f:
            f.write(f'[engine]\nruntime = "{runtime}"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
        return {"CONTAINERS_REGISTRIES_CONF": conf, "CONTAINERS_CONF": engine_conf}

    def command(self):
        return ["podman", "--root", os.path.join(self.dir, "root"), "--runroot", os.path.join(self.dir, "run"),
                "system", "service", "--time=0", "unix://" + self.sock]


# ---------------------------------------------------------------------------------------------
# Test images, made without the internet: busybox-static as a root filesystem.

def tar_add_bytes(tar, name, data, mode=0o644, mtime=0):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = mtime
    tar.addfile(info, io.BytesIO(data))


def busybox_layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "etc", "tmp", "root", "proc", "sys", "dev"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        with open("/bin/busybox", "rb") as f:
            tar_add_bytes(tar, "bin/busybox", f.read(), 0o755)
        applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split()
        for a in applets:
            if a == "busybox":
                continue
            info = tarfile.TarInfo("bin/" + a)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        tar_add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        tar_add_bytes(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def random_layer(index, size):
    buf = io.BytesIO()
    chunk = 1 << 20
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = bytearray()
        seed = hashlib.sha256(f"layer{index}".encode()).digest()
        # Half random, half repetitive: compressible like real layers, not trivially so.
        while len(data) < size:
            seed = hashlib.sha256(seed).digest()
            data += (os.urandom(chunk // 2) + seed * (chunk // 64))
        tar_add_bytes(tar, f"data/layer{index}.bin", bytes(data[:size]))
    return buf.getvalue()


def docker_archive(path, tag, layers, cmd):
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = {
        "architecture": "amd64" if platform.machine() == "x86_64" else "arm64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "bench"} for _ in layers],
        "created": "2026-01-01T00:00:00Z",
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    with tarfile.open(path, "w") as tar:
        tar_add_bytes(tar, config_name, config_bytes)
        names = []
        for i, layer in enumerate(layers):
            name = f"layer{i}/layer.tar"
            tar_add_bytes(tar, name, layer)
            names.append(name)
        manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": names}]
        tar_add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
    return "sha256:" + hashlib.sha256(config_bytes).hexdigest()


# ---------------------------------------------------------------------------------------------
# Workloads. Each returns a list of seconds (or a figure with its unit) per engine and round.

def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="berth-bench.")
        self.engines = []
        self.results = []  # (workload, unit, {engine: [values]}, note)
        self.jmh_rows = []  # (benchmark, time per op, throughput)
        self.idle_measured = False
        self.images_dir = os.path.join(self.work, "images")
        os.makedirs(self.images_dir)
        # dockerd rewrites iptables (FORWARD DROP, DOCKER chains) and leaves docker0 behind:
        # remember the host's state to put it back afterwards.
        self.iptables_before = {t: run_text([t + "-save"]) for t in ("iptables", "ip6tables")}
        self.links_before = set(link_names())
        self.cgroups_before = {os.path.join("/sys/fs/cgroup", c, n) for c in os.listdir("/sys/fs/cgroup")
                               for n in ("berth", "berth-build", "docker", "libpod_parent")
                               if os.path.isdir(os.path.join("/sys/fs/cgroup", c, n))}
        self.registry = Registry(self.work)
        Podman.registry_port = self.registry.port

    def add(self, workload, unit, values, note=""):
        self.results.append((workload, unit, values, note))
        self.print_one(workload, unit, values, note)

    def print_one(self, workload, unit, values, note):
        line = f"{workload:28s}"
        for e in self.engines:
            v = values.get(e.name)
            line += f" {e.name}={fmt(statistics.median(v), unit) if v else 'n/a':>12s}"
        r = ratios(values)
        line += "  " + " ".join(f"berthd/{k}={v:.2f}" for k, v in r.items())
        if note:
            line += f"  ({note})"
        print(line, flush=True)

    def idle_after_workload(self):
        """Memory the workload took and did not give back: idle again, then a minute later (once a run)."""
        if self.idle_measured or not self.want("idle-rss") or (self.args.only and len(self.args.only) == 1):
            return
        self.idle_measured = True
        time.sleep(5)
        self.add("idle daemon RSS after the workload", "MiB", self.idle_rss(), "5 s after the last workload")
        time.sleep(60)
        self.add("idle daemon RSS after the workload and 60 s idle", "MiB", self.idle_rss())

    def idle_rss(self):
        return {e.name: [rss_kib(e.daemon_pids()) / 1024.0] for e in self.engines if e.proc}

    def engines_for(self, names):
        return [e for e in self.engines if e.name in names]

    def rounds(self, n, fn, engines=None):
        """Runs fn(engine) n times per engine, alternating engines round by round."""
        engines = engines or self.engines
        values = {e.name: [] for e in engines}
        failed = {}
        for _ in range(n):
            for e in engines:
                if e.name in failed:
                    continue
                try:
                    values[e.name].append(fn(e))
                except Exception as ex:  # an engine that cannot do it yet is reported, not fatal
                    failed[e.name] = str(ex).splitlines()[0][:160]
        for name, why in failed.items():
            log(f"{name}: {why}")
            values[name] = []
        return values, failed

    def run(self):
        reps = 3 if self.args.quick else 10
        names = ["berthd", "dockerd", "podman"]
        if self.args.engines:
            names = self.args.engines
        for n in names:
            cls = {"berthd": Berthd, "dockerd": Dockerd, "podman": Podman}[n]
            if n == "dockerd" and not shutil.which("dockerd"):
                log("dockerd not installed; skipping it")
                continue
            if n == "podman" and not shutil.which("podman"):
                log("podman not installed; skipping it")
                continue
            self.engines.append(cls(n, self.work))

        if self.args.only and "jmh" in self.args.only:
            self.jmh()
        if self.want("start"):
            vals = {e.name: [] for e in self.engines}
            for _ in range(reps if not self.args.quick else 2):
                for e in self.engines:
                    e.start()
                    vals[e.name].append(e.start_seconds)
                    e.stop()
            self.add("daemon start to /_ping", "s", vals)

        for e in self.engines:
            e.start()
        time.sleep(2)
        if self.want("idle-rss"):
            self.add("idle daemon RSS, fresh", "MiB", self.idle_rss(), "daemon and its children")

        if self.want("version"):
            v, _ = self.rounds(reps * 2, lambda e: timed(lambda: e.docker("version")))
            self.add("docker version", "s", v)
        if self.want("info"):
            v, _ = self.rounds(reps * 2, lambda e: timed(lambda: e.docker("info")))
            self.add("docker info", "s", v)

        busybox = os.path.join(self.images_dir, "busybox.tar")
        docker_archive(busybox, "bench/busybox:latest", [busybox_layer()], ["sh"])
        self.loaded = []
        for e in self.engines:
            r = e.docker("load", "-i", busybox, check=False)
            if r.returncode == 0:
                self.loaded.append(e)
            else:
                log(f"{e.name}: cannot load the test image: {r.stderr.strip()[:160]}")
        runners = [e for e in self.loaded if e.docker("run", "--rm", "bench/busybox", "true", check=False).returncode == 0]
        for e in self.loaded:
            if e not in runners:
                log(f"{e.name}: cannot run containers yet")

        if self.want("run"):
            v, _ = self.rounds(reps * 2, lambda e: timed(lambda: e.docker("run", "--rm", "bench/busybox", "true")), runners)
            self.add("run --rm true", "s", v)
        if self.want("exec"):
            for e in runners:
                e.docker("run", "-d", "--name", "bench-exec", "bench/busybox", "sleep", "1000", check=False)
            v, _ = self.rounds(reps * 2, lambda e: timed(lambda: e.docker("exec", "bench-exec", "true")), runners)
            self.add("exec true", "s", v)
            for e in runners:
                e.docker("rm", "-f", "bench-exec", check=False)
        if self.want("many"):
            self.many_containers(runners, 20 if self.args.quick else 50)
        if self.want("container-rss"):
            self.container_rss(runners, 10)
        if self.want("network"):
            self.network_cycle(runners, reps)
        if self.want("port"):
            self.port_throughput(runners, 2 if self.args.quick else 3)
        if self.want("build"):
            self.build(self.loaded, 2 if self.args.quick else 3)
        if self.want("pull") or self.want("push"):
            self.registry_workloads(self.loaded, 2 if self.args.quick else 3)
        self.idle_after_workload()

    # -- workloads needing containers -----------------------------------------------------------

    def many_containers(self, engines, n):
        def sequential(e):
            t = timed(lambda: [e.docker("run", "-d", "--name", f"bench-m{i}", "bench/busybox", "sleep", "1000") for i in range(n)])
            return t

        def remove(e):
            names = [f"bench-m{i}" for i in range(n)]
            return timed(lambda: e.docker("rm", "-f", *names))

        def parallel(e):
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                t0 = time.monotonic()
                list(pool.map(lambda i: e.docker("run", "-d", "--name", f"bench-p{i}", "bench/busybox", "sleep", "1000"), range(n)))
                return time.monotonic() - t0

        def remove_parallel(e):
            # one `docker rm -f NAME` a container, 8 at a time (the row above is one command: the CLI sends all at once)
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                t0 = time.monotonic()
                list(pool.map(lambda i: e.docker("rm", "-f", f"bench-p{i}"), range(n)))
                return time.monotonic() - t0

        seq, rm_times, par, rm_par, listing = {}, {}, {}, {}, {}
        for e in engines:
            try:
                seq[e.name] = [sequential(e)]
                listing.setdefault("ps", {})[e.name] = [statistics.median(timed(lambda: e.docker("ps")) for _ in range(5))]
                listing.setdefault("images", {})[e.name] = [statistics.median(timed(lambda: e.docker("images")) for _ in range(5))]
                listing.setdefault("inspect", {})[e.name] = [statistics.median(timed(lambda: e.docker("inspect", "bench-m0")) for _ in range(5))]
                rm_times[e.name] = [remove(e)]
                par[e.name] = [parallel(e)]
                rm_par[e.name] = [remove_parallel(e)]
            except Exception as ex:
                log(f"{e.name}: many containers: {str(ex)[:160]}")
                e.docker("rm", "-f", *[f"bench-m{i}" for i in range(n)], *[f"bench-p{i}" for i in range(n)], check=False)
        self.add(f"{n} x run -d, sequential", "s", seq)
        self.add(f"rm -f of {n} containers", "s", rm_times)
        self.add(f"{n} x run -d, 8 at a time", "s", par)
        self.add(f"rm -f of {n} containers, 8 at a time", "s", rm_par)
        for what, vals in listing.items():
            self.add(f"{what} with {n} containers", "s", vals)

    def container_rss(self, engines, n):
        """RSS the engine adds per running container: its monitor processes (conmon, shims)."""
        vals = {}
        for e in engines:
            before = monitor_rss(e)
            for i in range(n):
                e.docker("run", "-d", "--name", f"bench-rss{i}", "bench/busybox", "sleep", "1000", check=False)
            time.sleep(2)
            after = monitor_rss(e)
            vals[e.name] = [(after - before) / n / 1024.0]
            e.docker("rm", "-f", *[f"bench-rss{i}" for i in range(n)], check=False)
        self.add("RSS added per container", "MiB", vals, "monitor processes: conmon or containerd-shim")

    def network_cycle(self, engines, reps):
        ok = []
        for e in engines:
            if e.docker("network", "create", "bench-net", check=False).returncode == 0:
                ok.append(e)

        def cycle(e):
            def once():
                e.docker("run", "-d", "--name", "bench-n", "--network", "bench-net", "bench/busybox", "sleep", "1000")
                e.docker("rm", "-f", "bench-n")
            return timed(once)

        v, _ = self.rounds(reps, cycle, ok)
        self.add("create+start+rm on a user network", "s", v)
        for e in ok:
            e.docker("rm", "-f", "bench-n", check=False)
            e.docker("network", "rm", "bench-net", check=False)

    def port_throughput(self, engines, reps):
        size = 200 * 1024 * 1024
        started = []
        for i, e in enumerate(engines):
            port = free_port()
            r = e.docker("run", "-d", "--name", "bench-http", "-p", f"127.0.0.1:{port}:80", "bench/busybox", "sh", "-c",
                         f"mkdir -p /www && head -c {size} /dev/zero > /www/big && httpd -f -p 80 -h /www", check=False)
            if r.returncode == 0:
                started.append((e, port))
            else:
                log(f"{e.name}: cannot publish a port: {r.stderr.strip()[:160]}")
        time.sleep(3)

        def fetch(pair):
            e, port = pair
            t0 = time.monotonic()
            r = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", f"http://127.0.0.1:{port}/big"],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0 or int(float(r.stdout or 0)) != size:
                raise RuntimeError(f"download failed: {r.returncode} {r.stdout}")
            return size / (time.monotonic() - t0) / (1 << 20)

        vals = {e.name: [] for e, _ in started}
        for _ in range(reps):
            for pair in started:
                try:
                    vals[pair[0].name].append(fetch(pair))
                except Exception as ex:
                    log(f"{pair[0].name}: {ex}")
        self.add("200 MB through a published port", "MiB/s", vals, "higher is better")
        for e, _ in started:
            e.docker("rm", "-f", "bench-http", check=False)

    def build(self, engines, reps):
        ctx = os.path.join(self.work, "build-context")
        os.makedirs(ctx, exist_ok=True)
        with open(os.path.join(ctx, "data.bin"), "wb") as f:
            f.write(os.urandom(50 * 1024 * 1024))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM bench/busybox\nENV APP=bench\nCOPY data.bin /data/\nRUN echo built > /built.txt\n"
                    "WORKDIR /data\nCMD [\"sh\"]\n")
        first, cached = {}, {}
        for rnd in range(reps):
            for e in engines:
                try:
                    t = timed(lambda: e.docker("build", "--no-cache", "-q", "-t", "bench/built", ctx))
                    first.setdefault(e.name, []).append(t)
                    t = timed(lambda: e.docker("build", "-q", "-t", "bench/built", ctx))
                    cached.setdefault(e.name, []).append(t)
                except Exception as ex:
                    log(f"{e.name}: build: {str(ex)[:160]}")
        self.add("build, 6 steps, 50 MB context", "s", first)
        self.add("build again, all cached", "s", cached)

    def registry_workloads(self, engines, reps):
        reg = self.registry
        try:
            reg.start()
            layers = [random_layer(i, 50 * 1024 * 1024) for i in range(4)]
            big = os.path.join(self.images_dir, "big.tar")
            docker_archive(big, "bench/big:latest", layers, ["sh"])
            del layers
            ref = f"127.0.0.1:{reg.port}/bench/big:latest"
            seeded = False
            pushers = []
            for e in engines:
                if e.docker("load", "-i", big, check=False).returncode != 0:
                    log(f"{e.name}: cannot load the big image")
                    continue
                e.docker("tag", "bench/big:latest", ref, check=False)
                pushers.append(e)
                if not seeded:
                    seeded = e.docker("push", ref, check=False).returncode == 0
            if self.want("pull") and seeded:
                def pull(e):
                    e.docker("rmi", "-f", ref, "bench/big:latest", check=False)
                    e.docker("image", "prune", "-f", check=False)
                    return timed(lambda: e.docker("pull", ref))
                v, _ = self.rounds(reps, pull, pushers)
                self.add("pull 200 MB, 4 layers", "s", v)
            if self.want("push"):
                def push(e):
                    reg.wipe()
                    return timed(lambda: e.docker("push", ref))
                v, _ = self.rounds(reps, push, pushers)
                self.add("push 200 MB again (berthd reuses its gzip blobs)", "s", v)
                self.idle_after_workload()  # before the first-push rounds restart the daemons
                # What a user pushing a freshly built image meets: layers never pushed (no gzip
                # blob kept from an earlier push or pull), on a daemon just started.
                first = {e.name: [] for e in pushers}
                for r in range(reps):
                    fresh_layers = [random_layer(1000 + 4 * r + i, 50 * 1024 * 1024) for i in range(4)]
                    fresh = os.path.join(self.images_dir, f"fresh{r}.tar")
                    docker_archive(fresh, f"bench/fresh{r}:latest", fresh_layers, ["sh"])
                    del fresh_layers
                    fresh_ref = f"127.0.0.1:{reg.port}/bench/fresh{r}:latest"
                    for e in pushers:
                        e.docker("load", "-i", fresh, check=False)
                        e.docker("tag", f"bench/fresh{r}:latest", fresh_ref, check=False)
                    os.remove(fresh)
                    for e in pushers:
                        e.stop()
                        e.start()
                        reg.wipe()
                        try:
                            first[e.name].append(timed(lambda: e.docker("push", fresh_ref)))
                        except Exception as ex:
                            log(f"{e.name}: first push: {str(ex)[:160]}")
                        e.docker("rmi", "-f", fresh_ref, f"bench/fresh{r}:latest", check=False)
                self.add("first push of a new 200 MB image, fresh daemon", "s", first)

        finally:
            reg.stop()

    def jmh(self):
        """The hot inner paths under JMH (src/test/java/io/berth/bench), berthd's code only."""
        mvn = [os.path.join(ROOT, "mvnw"), "-q", "-B"]
        subprocess.run(mvn + ["test-compile"], cwd=ROOT, check=True)
        cp_file = os.path.join(ROOT, "target", "jmh-classpath.txt")
        subprocess.run(mvn + ["dependency:build-classpath", "-Dmdep.includeScope=test", f"-Dmdep.outputFile={cp_file}"],
                       cwd=ROOT, check=True, capture_output=True)
        with open(cp_file) as f:
            cp = ":".join([os.path.join(ROOT, "target", "test-classes"), os.path.join(ROOT, "target", "classes"), f.read().strip()])
        out = os.path.join(self.work, "jmh.json")
        java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
        iterations = ["-wi", "1", "-i", "3", "-w", "2s", "-r", "2s"] if self.args.quick else ["-wi", "3", "-i", "5", "-w", "2s", "-r", "3s"]
        subprocess.run([java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, "org.openjdk.jmh.Main", "-f", "1", *iterations,
                        "-rf", "json", "-rff", out, "HotPathsBenchmark"], check=True)
        with open(out) as f:
            for r in json.load(f):
                name = r["benchmark"].rsplit(".", 1)[1]
                ms = r["primaryMetric"]["score"]
                err = r["primaryMetric"].get("scoreError", 0.0)
                rate = f"{32 / (ms / 1000):.0f} MiB/s" if "32MiB" in name else f"{1000 / ms:.0f} ops/s"
                self.jmh_rows.append((name, f"{ms:.2f} ms ± {err:.2f}", rate))
                print(f"jmh {name:24s} {ms:8.2f} ms/op  {rate}", flush=True)

    def want(self, name):
        return not self.args.only or name in self.args.only

    def cleanup(self):
        for e in self.engines:
            try:
                # Containers outlive berthd by design: remove them before stopping any engine.
                if e.proc and e.proc.poll() is None:
                    ids = e.docker("ps", "-aq", check=False, timeout=60).stdout.split()
                    if ids:
                        e.docker("rm", "-f", *ids, check=False, timeout=300)
                    e.docker("network", "prune", "-f", check=False, timeout=60)
                    e.docker("volume", "prune", "-f", check=False, timeout=60)
            except Exception as ex:
                log(f"removing {e.name}'s containers: {ex}")
            try:
                e.stop()
            except Exception as ex:
                log(f"stopping {e.name}: {ex}")
        # Anything still running from our folders (monitors, containers' processes) goes too.
        for pid in pids_of(self.work):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # dockerd leaves mounts under its data root when killed; unmount before deleting.
        subprocess.run(f"grep -o ' {self.work}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l",
                       shell=True, check=False)
        shutil.rmtree(self.work, ignore_errors=True)
        for tool, saved in self.iptables_before.items():
            if saved:
                subprocess.run([tool + "-restore"], input=saved, text=True, check=False)
        for ctl in os.listdir("/sys/fs/cgroup"):
            for name in ("berth", "berth-build", "docker", "libpod_parent"):
                path = os.path.join("/sys/fs/cgroup", ctl, name)
                if os.path.isdir(path) and path not in self.cgroups_before:
                    subprocess.run(["find", path, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"], capture_output=True)
        for link in set(link_names()) - self.links_before:
            subprocess.run(["ip", "link", "del", link], check=False, capture_output=True)

    def write_results(self):
        os.makedirs(RESULTS, exist_ok=True)
        stamp = datetime.date.today().isoformat()
        host = socket.gethostname()
        # A JMH-only run gets its own file rather than replacing the day's engine comparison.
        suffix = "-jmh" if self.jmh_rows and not self.results else ""
        md = os.path.join(RESULTS, f"{stamp}-{host}{suffix}.md")
        svg = os.path.join(RESULTS, f"{stamp}-{host}{suffix}.svg")
        lines = [f"# Berth benchmark, {stamp}, {host}", "",
                 f"Machine: {machine_description()}", "",
                 f"Command: `./berth bench{' --quick' if self.args.quick else ''}"
                 f"{' --only ' + ' '.join(self.args.only) if self.args.only else ''}`", "",
                 "Medians (min-max); ratio = berthd / peer, below 1 means berthd is faster or smaller.", "",
                 "| workload | " + " | ".join(e.name for e in self.engines) + " | ratios |",
                 "| --- | " + " | ".join("---" for _ in self.engines) + " | --- |"]
        for workload, unit, values, note in self.results:
            cells = []
            for e in self.engines:
                v = values.get(e.name)
                cells.append(f"{fmt(statistics.median(v), unit)} ({fmt(min(v), unit)}-{fmt(max(v), unit)})" if v else "n/a")
            r = ratios(values)
            lines.append(f"| {workload} | " + " | ".join(cells) + " | " +
                         ", ".join(f"vs {k}: {v:.2f}" for k, v in r.items()) + " |")
        lines += ["", "Which figures reuse caches: `run --rm`, `exec`, the container rows and `build` start from an image "
                  "already loaded; `build again, all cached` reuses the build cache; `pull` starts after `rmi` and "
                  "`image prune` (nothing cached); `first push` pushes layers no engine has pushed or pulled, on a daemon "
                  "restarted just before; `push again` pushes an image pushed before, and berthd keeps the gzip blobs it "
                  "made then (dockerd compresses again). The idle RSS rows are the daemon and its children: fresh, "
                  "5 s after the last workload, and a minute later."]
        if self.jmh_rows:
            lines += ["", "## Hot inner paths (JMH, berthd's code, one fork)", "",
                      "| benchmark | time per operation | throughput |", "| --- | --- | --- |"]
            lines += [f"| {n} | {t} | {r} |" for n, t, r in self.jmh_rows]
        lines += ["", f"![ratios]({os.path.basename(svg)})", ""]
        with open(md, "w") as f:
            f.write("\n".join(lines))
        with open(svg, "w") as f:
            f.write(chart(self.results))
        log(f"results in {md}")


def ratios(values):
    b = values.get("berthd")
    out = {}
    if not b:
        return out
    for k, v in values.items():
        if k != "berthd" and v:
            out[k] = statistics.median(b) / statistics.median(v)
    return out


def fmt(value, unit):
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:.1f} {unit}"


def machine_description():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    return f"{os.cpu_count()} cores ({cpu}), {mem:.1f} GiB, kernel {platform.release()}"


def chart(results):
    """A horizontal bar chart of berthd's ratio to each peer, with a line at 1."""
    rows = []
    for workload, _, values, _ in results:
        for peer, r in ratios(values).items():
            rows.append((f"{workload} vs {peer}", r))
    width, left, bar_h, gap = 760, 300, 18, 6
    height = 40 + len(rows) * (bar_h + gap)
    scale = (width - left - 40) / max([2.0] + [r for _, r in rows])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14">berthd time or memory relative to each peer (below 1 is better)</text>']
    for i, (label, r) in enumerate(rows):
        y = 34 + i * (bar_h + gap)
        colour = "#2a9d8f" if r <= 1 else "#e76f51"
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{r * scale:.1f}" height="{bar_h}" fill="{colour}"/>')
        out.append(f'<text x="{left + r * scale + 4:.1f}" y="{y + 13}">{r:.2f}</text>')
    x1 = left + scale
    out.append(f'<line x1="{x1:.1f}" y1="28" x2="{x1:.1f}" y2="{height - 4}" stroke="#333" stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description="berthd side by side with dockerd and Podman")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.add_argument("--only", nargs="*", default=[], help="workloads: start idle-rss version info run exec many container-rss network port build pull push jmh (jmh runs only when named)")
    p.add_argument("--engines", nargs="*", default=[], help="berthd dockerd podman")
    p.add_argument("--make-busybox-image", metavar="TAR", help="only write the busybox test image (a docker-archive) and exit")
    args = p.parse_args()
    if args.make_busybox_image:
        docker_archive(args.make_busybox_image, "berth/busybox:latest", [busybox_layer()], ["sh"])
        return
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the engines need it)")
    b = Bench(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        b.run()
        b.write_results()
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
