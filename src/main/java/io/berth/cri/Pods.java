package io.berth.cri;

import io.berth.engine.NetworkUseCases;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import io.berth.network.AttachRequest;
import io.berth.network.AttachResult;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.NetworkSpec;
import io.berth.network.PortBinding;
import java.io.IOException;
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
    private final SecureRandom random = new SecureRandom();
    private final Object lock = new Object();

    public Pods(PodStore store, NetworkUseCases networks) {
        this.store = store;
        this.networks = networks;
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
        try {
            if (!pod.hostNetwork()) pod = joinNetwork(pod);
            pod = pod.withState(Pod.State.READY);
            store.save(pod);
            return pod;
        } catch (IOException | RuntimeException e) {
            try {
                networks.service().detach(pod.id());
                store.delete(pod.id());
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
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
        store.save(pod.withNetwork(null, pod.ip()).withState(Pod.State.NOT_READY));
    }

    /** Stops and forgets the pod; a pod that is not there is already removed. */
    public void remove(String id) throws IOException {
        if (store.get(id).isEmpty()) return;
        stop(id);
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
