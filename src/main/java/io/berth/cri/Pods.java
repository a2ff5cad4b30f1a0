package io.berth.cri;

import io.berth.engine.Futures;
import io.berth.engine.NetworkUseCases;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import io.berth.network.AttachRequest;
import io.berth.network.AttachResult;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.NetworkSpec;
import io.berth.network.PortBinding;
import io.berth.sys.AtomicFiles;
import io.berth.sys.HostInfo;
import io.berth.sys.Namespaces;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of pods: a pod is its namespaces, and here that is a network namespace pinned
 * by a bind mount of its nsfs file (as CRI-O's pinns does) and joined to berthd's pod
 * network through the CNI bridge plugin. No pause process: a pinned namespace lives
 * without one, costs no memory, and survives berthd's restarts as a mount under the exec
 * root. Stop takes the networking down; remove forgets the pod.
 */
public final class Pods {
    private static final Logger log = LoggerFactory.getLogger(Pods.class);
    /** The bridge network pods join; its subnet comes from the daemon's address pools. */
    public static final String POD_NETWORK = "berth-pods";
    static final String CRI_LABEL = "io.berth.cri";

    private final PodStore store;
    private final NetworkUseCases networks;
    /** Per pod, under the exec root: its pinned UTS and IPC namespaces, resolv.conf and hostname. */
    private final Path runDir;
    private final SecureRandom random = new SecureRandom();
    private final Object lock = new Object();

    public Pods(PodStore store, NetworkUseCases networks, Path runDir) {
        this.store = store;
        this.networks = networks;
        this.runDir = runDir;
    }

    /** The pod's folder under the exec root. */
    public Path dir(String podId) {
        return runDir.resolve(podId);
    }

    /** The file holding the pod's UTS namespace (absent on the host's network). */
    public Path utsNamespace(String podId) {
        return dir(podId).resolve("uts");
    }

    /** The pod's own PID namespace, held by its init, when its containers share one and it still lives. */
    public Optional<Path> pidNamespace(String podId) {
        Path dir = dir(podId);
        return PodPidNamespace.live(dir) ? Optional.of(PodPidNamespace.file(dir)) : Optional.empty();
    }

    /** The file holding the pod's IPC namespace (absent when the pod uses the host's). */
    public Path ipcNamespace(String podId) {
        return dir(podId).resolve("ipc");
    }

    /** The resolv.conf the pod's containers see. */
    public Path resolvConf(String podId) {
        return dir(podId).resolve("resolv.conf");
    }

    /** The hosts file the pod's containers see (kubelet mounts its own over it in most pods). */
    public Path hostsFile(String podId) {
        return dir(podId).resolve("hosts");
    }

    /** The hostname file the pod's containers see. */
    public Path hostnameFile(String podId) {
        return dir(podId).resolve("hostname");
    }

    /** What RunPodSandbox asks for, in Berth's terms. */
    public record RunRequest(Pod.Identity identity, Map<String, String> labels, Map<String, String> annotations, String hostname,
                             String logDirectory, Pod.Dns dns, List<Pod.Port> ports, String cgroupParent, Pod.Namespaces namespaces,
                             Map<String, String> sysctls, String runtimeHandler) {}

    public Pod run(RunRequest req) throws IOException {
        if (req.identity().name().isEmpty() || req.identity().uid().isEmpty() || req.identity().namespace().isEmpty()) {
            throw new KindedException(ErrorKind.INVALID_ARGUMENT, "pod metadata needs a name, a uid and a namespace");
        }
        if (!req.runtimeHandler().isEmpty()) {
            throw new KindedException(ErrorKind.INVALID_ARGUMENT, "runtime handler \"" + req.runtimeHandler() + "\" is not known to berthd");
        }
        checkSysctls(req);
        Pod pod;
        synchronized (lock) {
            for (Pod p : store.list()) {
                if (p.identity().key().equals(req.identity().key())) {
                    throw new KindedException(ErrorKind.ALREADY_EXISTS, "pod " + req.identity().key() + " is already there as " + p.id());
                }
            }
            pod = new Pod(newId(), req.identity(), Pod.State.NOT_READY, CriImages.nowNanos(), req.labels(), req.annotations(),
                    req.hostname(), req.logDirectory(), req.dns(), req.ports(), req.cgroupParent(), req.namespaces(), req.sysctls(),
                    req.runtimeHandler(), null, "");
            // Recorded before the namespace exists: a crash in between leaves a record that
            // start-up reconciliation and RemovePodSandbox can clean, never an orphan mount.
            store.save(pod);
        }
        // The PID namespace's init needs nothing of the network: it starts beside it.
        java.util.concurrent.CompletableFuture<Void> pidInit = null;
        try {
            if (pod.namespaces().pid() == Pod.Mode.POD) pidInit = startPidInit(dir(pod.id()));
            if (!pod.hostNetwork()) pod = joinNetwork(pod);
            pinNamespaces(pod);
            writeFiles(pod);
            if (pidInit != null) Futures.await(pidInit);
            pod = pod.withState(Pod.State.READY);
            store.save(pod);
            return pod;
        } catch (IOException | RuntimeException e) {
            if (pidInit != null) {
                try {
                    Futures.await(pidInit); // done one way or the other before it is undone
                } catch (IOException | RuntimeException ignored) {
                    // its own failure, if any, is not the one to tell
                }
            }
            try {
                networks.service().detach(pod.id());
                unpinNamespaces(pod.id());
                PodPidNamespace.stop(dir(pod.id()));
                io.berth.sys.FileTrees.deleteTree(dir(pod.id()));
                store.delete(pod.id());
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static java.util.concurrent.CompletableFuture<Void> startPidInit(Path podDir) throws IOException {
        io.berth.sys.PrivateFiles.createDirectories(podDir);
        java.util.concurrent.CompletableFuture<Void> started = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().name("pod-pid-init").start(() -> {
            try {
                PodPidNamespace.start(podDir);
                started.complete(null);
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        return started;
    }

    /** Only namespaced sysctls, and only in a namespace the pod has of its own, as runc allows them. */
    private static void checkSysctls(RunRequest req) {
        for (String name : req.sysctls().keySet()) {
            Namespaces.SysctlScope scope = Namespaces.scopeOf(name);
            if (scope == null) {
                throw new KindedException(ErrorKind.INVALID_ARGUMENT, "sysctl \"" + name + "\" is not namespaced: a pod cannot set it");
            }
            Pod.Mode owner = scope == Namespaces.SysctlScope.NETWORK ? req.namespaces().network() : req.namespaces().ipc();
            if (owner == Pod.Mode.NODE) {
                throw new KindedException(ErrorKind.INVALID_ARGUMENT, "sysctl \"" + name + "\" is not allowed: the pod shares the host's "
                        + (scope == Namespaces.SysctlScope.NETWORK ? "network" : "IPC") + " namespace");
            }
        }
    }

    /**
     * The pod's own UTS namespace (with its hostname; none on the host's network, as the
     * pod then has the node's name) and IPC namespace (unless it shares the host's), pinned
     * like its network namespace; its sysctls are written in them.
     */
    private void pinNamespaces(Pod pod) throws IOException {
        Path uts = pod.hostNetwork() ? null : utsNamespace(pod.id());
        Path ipc = pod.namespaces().ipc() == Pod.Mode.NODE ? null : ipcNamespace(pod.id());
        Path netns = pod.netns() == null ? null : Path.of(pod.netns());
        Namespaces.pin(new Namespaces.Pin(uts, ipc, pod.hostname(), netns, pod.sysctls()));
    }

    private void unpinNamespaces(String podId) throws IOException {
        Namespaces.unpin(utsNamespace(podId));
        Namespaces.unpin(ipcNamespace(podId));
    }

    /**
     * resolv.conf from the pod's DNS config, or the host's when kubelet gives none (as
     * containerd does); the hostname file with the pod's name, or the node's on its network.
     */
    private void writeFiles(Pod pod) throws IOException {
        io.berth.sys.PrivateFiles.createDirectories(dir(pod.id()));
        byte[] resolv;
        Pod.Dns dns = pod.dns();
        if (dns.servers().isEmpty() && dns.searches().isEmpty() && dns.options().isEmpty()) {
            Path host = Path.of("/etc/resolv.conf");
            resolv = Files.isReadable(host) ? Files.readAllBytes(host) : new byte[0];
        } else {
            StringBuilder b = new StringBuilder();
            if (!dns.searches().isEmpty()) b.append("search ").append(String.join(" ", dns.searches())).append('\n');
            for (String server : dns.servers()) b.append("nameserver ").append(server).append('\n');
            if (!dns.options().isEmpty()) b.append("options ").append(String.join(" ", dns.options())).append('\n');
            resolv = b.toString().getBytes(StandardCharsets.UTF_8);
        }
        AtomicFiles.writeForThisBoot(resolvConf(pod.id()), resolv);
        String hostname = pod.hostname().isEmpty() || pod.hostNetwork() ? HostInfo.hostname() : pod.hostname();
        AtomicFiles.writeForThisBoot(hostnameFile(pod.id()), (hostname + "\n").getBytes(StandardCharsets.UTF_8));
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if (!pod.hostNetwork() && !pod.ip().isEmpty()) hosts.append(pod.ip()).append('\t').append(hostname).append('\n');
        AtomicFiles.writeForThisBoot(hostsFile(pod.id()), hosts.toString().getBytes(StandardCharsets.UTF_8));
        // the files are bind-mounted into containers, which read them as any user
        Files.setPosixFilePermissions(resolvConf(pod.id()), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(hostnameFile(pod.id()), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(hostsFile(pod.id()), PosixFilePermissions.fromString("rw-r--r--"));
    }

    private Pod joinNetwork(Pod pod) {
        ensurePodNetwork();
        List<PortBinding> ports = new ArrayList<>();
        for (Pod.Port p : pod.ports()) {
            if (p.hostPort() <= 0) continue; // a port kubelet only declares is not published
            ports.add(PortBinding.of(p.hostIp(), p.hostPort(), p.containerPort(), p.protocol()));
        }
        AttachRequest req = new AttachRequest(pod.id(), pod.identity().name(), List.of(Attachment.to(POD_NETWORK)), ports, pod.dns().servers());
        AttachResult r = networks.service().attach(req);
        Endpoint e = r.endpoint(POD_NETWORK);
        return pod.withNetwork(r.netnsPath(), e == null ? "" : e.ipAddress());
    }

    private void ensurePodNetwork() {
        synchronized (lock) {
            if (networks.service().find(POD_NETWORK).isPresent()) return;
            networks.create(NetworkSpec.named(POD_NETWORK).withLabels(Map.of(CRI_LABEL, "pods")));
            log.info("CRI: created the pod network {}", POD_NETWORK);
        }
    }

    /** Stops the pod: its networking is undone and its namespace unpinned. Stopping twice is fine. */
    public void stop(String id) throws IOException {
        Optional<Pod> found = store.get(id);
        if (found.isEmpty()) return;
        Pod pod = found.get();
        networks.service().detach(pod.id());
        unpinNamespaces(pod.id());
        PodPidNamespace.stop(dir(pod.id()));
        store.save(pod.withNetwork(null, pod.ip()).withState(Pod.State.NOT_READY));
    }

    /** Stops and forgets the pod; a pod that is not there is already removed. */
    public void remove(String id) throws IOException {
        if (store.get(id).isEmpty()) return;
        stop(id);
        io.berth.sys.FileTrees.deleteTree(dir(id));
        store.delete(id);
    }

    /** The pod an ID or a unique ID prefix names. */
    public Pod get(String idOrPrefix) {
        return find(idOrPrefix).orElseThrow(() -> new KindedException(ErrorKind.NOT_FOUND, "pod sandbox " + idOrPrefix + " not found"));
    }

    public Optional<Pod> find(String idOrPrefix) {
        Optional<Pod> exact = store.get(idOrPrefix);
        if (exact.isPresent() || idOrPrefix.isEmpty()) return exact;
        List<Pod> hits = store.list().stream().filter(p -> p.id().startsWith(idOrPrefix)).toList();
        if (hits.size() > 1) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "pod ID prefix " + idOrPrefix + " is ambiguous");
        return hits.stream().findFirst();
    }

    public List<Pod> list() {
        return store.list();
    }

    private String newId() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
