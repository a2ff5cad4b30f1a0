#!/usr/bin/env python3
"""Hostile and careless inputs against a Docker API engine, each answered how?

Sends each input below to one or more engines' unix sockets and sorts the answers:
  refused   a 4xx status line with a message (what a client can act on)
  accepted  a 2xx status line
  server    a 5xx status line (with its message)
  BAD       no status line at all (empty reply, reset, or nothing within the timeout)
Run as root with the engines already started, e.g.
  python3 bench/hostile.py --engine berthd=/run/berth/berth.sock --engine dockerd=/run/docker.sock --image busybox:latest
The image must exist in every engine (a few inputs create containers from it; they are removed after).
Prints one markdown row per input and the totals per engine.
"""
import argparse
import io
import json
import socket
import tarfile
import time

TIMEOUT = 15


def raw(sock_path, data, timeout=TIMEOUT):
    """Sends raw bytes; returns (status or None, first bytes of the answer or the failure)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        if callable(data):
            data(s)
        else:
            s.sendall(data)
        buf = b""
        t0 = time.time()
        while b"\r\n\r\n" not in buf and time.time() - t0 < timeout:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        # read a little of the body for the message
        try:
            s.settimeout(1)
            more = s.recv(4096)
            buf += more
        except (socket.timeout, OSError):
            pass
    except socket.timeout:
        return None, "timeout"
    except (ConnectionResetError, BrokenPipeError) as e:
        return None, type(e).__name__
    finally:
        s.close()
    if not buf.startswith(b"HTTP/1."):
        return None, "empty reply" if not buf else buf[:60].decode("latin-1")
    status = int(buf.split(b" ", 2)[1])
    body = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
    return status, body[:160].decode("utf-8", "replace").replace("\n", " ").strip()


def request(method, path, body=b"", headers=None, chunked=False):
    h = {"Host": "docker"}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    if chunked:
        h["Transfer-Encoding"] = "chunked"
    else:
        h["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "Connection: close\r\n\r\n"
    return head.encode() + body


def tar_of(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def create(image, host_config=None, **extra):
    body = {"Image": image, "Cmd": ["true"], "HostConfig": host_config or {}}
    body.update(extra)
    return request("POST", "/containers/create", body)


def build(files, query=""):
    return request("POST", "/build?" + query, tar_of(files), {"Content-Type": "application/x-tar"})


def inputs(image):
    big = b"A" * 70000
    nested = "${a:-" * 20000 + "x" + "}" * 20000
    chain = "ARG a0=" + "x" * 100 + "\n" + "".join(f"ARG a{i}=${{a{i-1}}}${{a{i-1}}}\n" for i in range(1, 24)) + "ENV big=${a23}\n"
    return [
        ("HTTP: malformed chunked body", request("POST", "/containers/create", b"zz\r\nxx\r\n0\r\n\r\n", {"Content-Type": "application/json"}, chunked=True)),
        ("HTTP: header line of 1 MiB", b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"),
        ("HTTP: request line of garbage", b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"),
        ("HTTP: Content-Length says more than is sent", b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{}"),
        ("HTTP: negative Content-Length", b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: -5\r\n\r\n"),
        ("HTTP: unknown method", request("BREW", "/_ping")),
        ("JSON: not JSON", request("POST", "/containers/create", b"{not json", {"Content-Type": "application/json"})),
        ("JSON: 20 MB body", request("POST", "/containers/create", b'{"Image":"' + b"a" * (20 << 20) + b'"}', {"Content-Type": "application/json"})),
        ("JSON: array for an object", request("POST", "/containers/create", [1, 2, 3])),
        ("JSON: 10000 nested arrays", request("POST", "/containers/create", b"[" * 10000 + b"]" * 10000, {"Content-Type": "application/json"})),
        ("create: no image", request("POST", "/containers/create", {"Cmd": ["true"]})),
        ("create: image name with spaces", create("no such image")),
        ("create: bad container name", request("POST", "/containers/create?name=../../x", {"Image": image})),
        ("create: Memory -1", create(image, {"Memory": -1})),
        ("create: ShmSize -1", create(image, {"ShmSize": -1})),
        ("create: NanoCpus -1", create(image, {"NanoCpus": -1})),
        ("create: CpuShares -5", create(image, {"CpuShares": -5})),
        ("create: Memory 1 byte", create(image, {"Memory": 1})),
        ("create: Memory near 2^63 (swap overflow)", create(image, {"Memory": (1 << 62) + 12345})),
        ("create: bind with Propagation bogus", create(image, {"Mounts": [{"Type": "bind", "Source": "/tmp", "Target": "/x", "BindOptions": {"Propagation": "bogus"}}]})),
        ("create: bind from a relative path", create(image, {"Binds": ["relative:/x"]})),
        ("create: mount target not absolute", create(image, {"Mounts": [{"Type": "volume", "Target": "x"}]})),
        ("create: CgroupParent with ..", create(image, {"CgroupParent": "../../escape"})),
        ("create: unknown restart policy", create(image, {"RestartPolicy": {"Name": "sometimes"}})),
        ("create: port 99999", create(image, {"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}}, ExposedPorts={"80/tcp": {}})),
        ("create: bad port spec", create(image, {"PortBindings": {"abc/tcp": [{"HostPort": "1"}]}})),
        ("create: unknown network", create(image, {"NetworkMode": "no-such-network"})),
        ("create: unknown capability", create(image, {"CapAdd": ["CAP_NOPE"]})),
        ("create: bad security opt", create(image, {"SecurityOpt": ["seccomp=/no/such/file"]})),
        ("create: device that does not exist", create(image, {"Devices": [{"PathOnHost": "/dev/nope", "PathInContainer": "/dev/nope", "CgroupPermissions": "rwm"}]})),
        ("create: ulimit nofile soft > hard", create(image, {"Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 10}]})),
        ("create: sysctl outside namespaces", create(image, {"Sysctls": {"kernel.panic": "1"}})),
        ("create: env with NUL", create(image, Env=["A=\u0000b"])),
        ("network: name with +", request("POST", "/networks/create", {"Name": "br+x", "Driver": "bridge"})),
        ("network: bridge name option -j", request("POST", "/networks/create", {"Name": "jnet", "Options": {"com.docker.network.bridge.name": "-jACCEPT"}})),
        ("network: subnet garbage", request("POST", "/networks/create", {"Name": "sub1", "IPAM": {"Config": [{"Subnet": "999.1.1.0/24"}]}})),
        ("network: gateway outside subnet", request("POST", "/networks/create", {"Name": "sub2", "IPAM": {"Config": [{"Subnet": "10.201.0.0/24", "Gateway": "10.202.0.1"}]}})),
        ("volume: name with slash", request("POST", "/volumes/create", {"Name": "a/b"})),
        ("volume: unknown driver", request("POST", "/volumes/create", {"Name": "v1", "Driver": "nope"})),
        ("archive: PUT to a missing container", request("PUT", "/containers/nope/archive?path=/", tar_of({"a": b"x"}), {"Content-Type": "application/x-tar"})),
        ("images: load garbage", request("POST", "/images/load", b"this is not a tar" * 100, {"Content-Type": "application/x-tar"})),
        ("images: import garbage", request("POST", "/images/create?fromSrc=-&repo=junk", b"\x00garbage" * 100)),
        ("images: tag with a bad repo", request("POST", f"/images/{image}/tag?repo=UPPER/Case")),
        ("images: pull a bad reference", request("POST", "/images/create?fromImage=a..b&tag=latest")),
        ("images: filters not JSON", request("GET", "/images/json?filters=%7Bnope")),
        ("containers: filters unknown key", request("GET", "/containers/json?filters=" + "%7B%22nope%22%3A%5B%22x%22%5D%7D")),
        ("containers: logs of a missing one", request("GET", "/containers/nope/logs?stdout=1")),
        ("containers: stop with t=abc", request("POST", "/containers/nope/stop?t=abc")),
        ("containers: kill with a bad signal", request("POST", "/containers/nope/kill?signal=SIGNOPE")),
        ("exec: on a missing container", request("POST", "/containers/nope/exec", {"Cmd": ["true"]})),
        ("exec: start a missing exec", request("POST", "/exec/nope/start", {"Detach": True})),
        ("events: since garbage", request("GET", "/events?since=yesterday&until=1")),
        ("build: BuildKit asked", build({"Dockerfile": b"FROM scratch\n"}, "version=2")),
        ("build: body not a tar", request("POST", "/build", b"not a tar at all" * 100, {"Content-Type": "application/x-tar"})),
        ("build: Dockerfile line over 64 KiB", build({"Dockerfile": b"FROM scratch\nLABEL a=" + big + b"\n"})),
        ("build: 20000 nested ${a:-...}", build({"Dockerfile": ("FROM scratch\nENV b=" + nested + "\n").encode()})),
        ("build: ARG chain doubling to 800 MB", build({"Dockerfile": ("FROM scratch\n" + chain).encode()})),
        ("build: .dockerignore backtracking glob", build({"Dockerfile": b"FROM scratch\nCOPY . /\n", ".dockerignore": b"*a*a*a*a*a*a*a*a*a*a*a*a*b\n",
                                                         "a" * 34: b"x"})),
        ("build: unknown instruction", build({"Dockerfile": b"FROM scratch\nFROB x\n"})),
        ("build: tag with a digest", build({"Dockerfile": b"FROM scratch\n"}, "t=x@sha256:" + "a" * 64)),
        ("build: platform of another arch", build({"Dockerfile": b"FROM scratch\n"}, "platform=linux/s390x")),
        ("build: COPY ../ out of the context", build({"Dockerfile": b"FROM scratch\nCOPY ../../etc/passwd /x\n"})),
        ("build: context entry ../escape", build({"Dockerfile": b"FROM scratch\n", "../escape": b"x"})),
        ("swarm: leave", request("POST", "/swarm/leave?force=1")),
        ("unknown route", request("GET", "/v1.41/nope/nope")),
        ("API version too new", request("GET", "/v9.99/version")),
    ]


def classify(status):
    if status is None:
        return "BAD"
    if 200 <= status < 300:
        return "accepted"
    if 400 <= status < 500:
        return "refused"
    return "server"


def cleanup(sock_path):
    for path in ["/containers/json?all=1"]:
        st, _ = raw(sock_path, request("GET", path))
    # remove what the inputs may have made: containers from the image, the test networks and volume
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
        s.sendall(request("GET", "/containers/json?all=1"))
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
        s.close()
        body = data.split(b"\r\n\r\n", 1)[1]
        if b"\r\n" in body[:10]:  # chunked
            out, rest = b"", body
            while rest:
                size, rest = rest.split(b"\r\n", 1)
                n = int(size, 16)
                if n == 0:
                    break
                out, rest = out + rest[:n], rest[n + 2:]
            body = out
        for c in json.loads(body):
            raw(sock_path, request("DELETE", f"/containers/{c['Id']}?force=1"))
    except Exception:
        pass
    for n in ["br+x", "jnet", "sub1", "sub2"]:
        raw(sock_path, request("DELETE", f"/networks/{n}"))
    raw(sock_path, request("DELETE", "/volumes/v1"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", action="append", required=True, help="NAME=SOCKET")
    p.add_argument("--image", default="busybox:latest")
    args = p.parse_args()
    engines = [e.split("=", 1) for e in args.engine]
    cases = inputs(args.image)
    totals = {n: {} for n, _ in engines}
    print("| input | " + " | ".join(n for n, _ in engines) + " |")
    print("| --- | " + " | ".join("---" for _ in engines) + " |")
    for name, data in cases:
        cells = []
        for n, sockp in engines:
            st, msg = raw(sockp, data)
            kind = classify(st)
            totals[n][kind] = totals[n].get(kind, 0) + 1
            cells.append(f"{kind} {st if st else ''} {msg[:70]}".replace("|", "/"))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    for n, sockp in engines:
        cleanup(sockp)
    print()
    for n, _ in engines:
        t = totals[n]
        print(f"{n}: {len(cases)} inputs: " + ", ".join(f"{k} {t.get(k, 0)}" for k in ["refused", "accepted", "server", "BAD"]))


if __name__ == "__main__":
    main()
