package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.HostConfig;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.Network;
import io.berth.network.PortBinding;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Gives containers their networks and mounts: the {@link ContainerWiring} hooks the container
 * use cases call (create, start, exit, remove), and the {@link ContainerNetworkHooks} the
 * network use cases call (connect, disconnect, which containers run). What a container asked
 * for is kept beside its record, in {@code containers/<id>/wiring.json}: the networks to join
 * (network IDs, aliases, addresses, links) and the resolved mount points.
 */
public final class Wiring implements ContainerWiring, ContainerNetworkHooks {
    private static final Logger LOG = LoggerFactory.getLogger(Wiring.class);
    private static final JsonMapper JSON = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final String FILE = "wiring.json";

    /** What {@code wiring.json} holds. */
    record Saved(List<Attachment> networks, List<MountPoint> mounts) {
        Saved {
            networks = networks == null ? List.of() : List.copyOf(networks);
            mounts = mounts == null ? List.of() : List.copyOf(mounts);
        }
    }

    /** One network of a container: what was asked, and the live endpoint while it runs (else null). */
    public record EndpointView(Network network, Attachment asked, Endpoint live) {}

    /** A container's networking as inspect shows it: namespace, endpoints, published ports (host ports chosen). */
    public record NetworkView(String sandboxKey, List<EndpointView> endpoints, List<PortBinding> published, boolean running) {}

    private final ContainerService containers;
    private final NetworkUseCases networks;
    private final ContainerNetworking net;
    private final ContainerMounts mounts;

    /** References every existing container's volumes again; the network use cases reach it as their container hooks. */
    public Wiring(ContainerService containers, NetworkUseCases networks, VolumeService volumes) {
        this.containers = containers;
        this.networks = networks;
        this.net = new ContainerNetworking(networks, containers);
        this.mounts = new ContainerMounts(volumes);
        for (Container c : containers.store().list()) mounts.restore(c.id(), read(c.id()).mounts());
    }

    @Override
    public Set<String> liveContainers() {
        return containers.store().list().stream()
                .filter(c -> c.record().state().status().hasProcess())
                .map(Container::id)
                .collect(Collectors.toSet());
    }

    // ================================================================ side file

    private Path file(String id) {
        return containers.store().directory(id).resolve(FILE);
    }

    /** Side files as last read or written: `docker ps` reads one per container otherwise. */
    private final Map<String, Saved> cache = new java.util.concurrent.ConcurrentHashMap<>();

    Saved read(String id) {
        Saved cached = cache.get(id);
        if (cached != null) return cached;
        Path f = file(id);
        if (!Files.exists(f)) return new Saved(List.of(), List.of());
        try {
            Saved s = JSON.readValue(Files.readAllBytes(f), Saved.class);
            cache.put(id, s);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    private synchronized void save(String id, Saved s) throws IOException {
        if (!Files.isDirectory(containers.store().directory(id))) return; // removed meanwhile
        AtomicFiles.write(file(id), JSON.writeValueAsBytes(s));
        cache.put(id, s);
    }

    // ================================================================ container hooks

    @Override
    public void check(HostConfig host) {
        net.check(host);
    }

    @Override
    public void created(ContainerRecord r, Map<String, Attachment> endpoints) throws IOException {
        // a pod's container lives in its pod's network namespace: the pod joined the networks
        List<Attachment> nets = r.settings().inPod() ? List.of() : net.create(r, endpoints == null ? Map.of() : endpoints);
        List<MountPoint> mps = mounts.create(r.id(), r.config(), r.hostConfig(), ref -> read(containers.get(ref).id()).mounts());
        try {
            save(r.id(), new Saved(nets, mps));
        } catch (IOException | RuntimeException e) {
            mounts.removed(r.id(), mps, true);
            throw e;
        }
    }

    @Override
    public Started starting(ContainerRecord r, Path rootfs) throws IOException {
        Saved s = read(r.id());
        List<io.berth.runtime.ContainerSpec.Mount> m = mounts.start(r.id(), s.mounts(), rootfs);
        if (r.settings().inPod()) return new Started(null, m, CompletableFuture.completedFuture(null));
        try {
            ContainerNetworking.Starting n = net.start(r, s.networks());
            return new Started(n.netnsPath(), m, n.ready());
        } catch (IOException | RuntimeException e) {
            mounts.stopped(r.id(), s.mounts());
            throw e;
        }
    }

    @Override
    public void stopped(ContainerRecord r) {
        try {
            if (!r.settings().inPod()) net.stop(r.id());
            mounts.stopped(r.id(), read(r.id()).mounts());
        } catch (RuntimeException e) {
            LOG.warn("cannot release the networks and volumes of container {}: {}", r.id(), e.toString());
        }
    }

    @Override
    public void removed(ContainerRecord r, boolean removeVolumes) {
        try {
            if (!r.settings().inPod()) net.stop(r.id());
            mounts.removed(r.id(), read(r.id()).mounts(), removeVolumes);
            cache.remove(r.id());
        } catch (RuntimeException e) {
            LOG.warn("cannot release the networks and volumes of removed container {}: {}", r.id(), e.toString());
        }
    }

    // ================================================================ network hooks

    @Override
    public String resolveContainerId(String nameOrId) {
        try {
            return containers.store().find(nameOrId).map(Container::id).orElse(null);
        } catch (ContainerException e) {
            return null;
        }
    }

    @Override
    public boolean isRunning(String containerId) {
        return containers.store().find(containerId).map(c -> c.record().state().status().hasProcess()).orElse(false)
                && networks.service().attachment(containerId).isPresent();
    }

    @Override
    public boolean usesNetwork(String networkId) {
        for (Container c : containers.store().list()) {
            for (Attachment a : read(c.id()).networks()) if (a.network().equals(networkId)) return true;
        }
        return false;
    }

    @Override
    public boolean namesNetwork(String containerId, String networkId) {
        return read(containerId).networks().stream().anyMatch(a -> a.network().equals(networkId));
    }

    @Override
    public synchronized void connected(String containerId, Network network, Attachment attachment, Endpoint endpoint) {
        Saved s = read(containerId);
        String mode = containers.get(containerId).record().settings().networking().mode();
        if (mode.startsWith("container:") || mode.equals("host") || mode.equals("none")) {
            throw new io.berth.network.NetworkException(ErrorKind.FORBIDDEN,
                    "container cannot be disconnected from host network or connected to host network");
        }
        List<Attachment> nets = new ArrayList<>();
        for (Attachment a : s.networks()) if (!a.network().equals(network.id())) nets.add(a);
        if (endpoint == null && s.networks().stream().anyMatch(a -> a.network().equals(network.id()))) {
            throw new io.berth.network.NetworkException(ErrorKind.FORBIDDEN,
                    "endpoint with name " + containers.get(containerId).record().plainName() + " already exists in network " + network.name());
        }
        nets.add(attachment.withNetwork(network.id()));
        try {
            save(containerId, new Saved(nets, s.mounts()));
            if (endpoint != null) net.networksChanged(containers.get(containerId).record());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void disconnected(String containerId, Network network) {
        Saved s = read(containerId);
        List<Attachment> nets = new ArrayList<>();
        for (Attachment a : s.networks()) if (!a.network().equals(network.id())) nets.add(a);
        try {
            save(containerId, new Saved(nets, s.mounts()));
            ContainerRecord r = containers.get(containerId).record();
            if (r.state().status().hasProcess()) net.networksChanged(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ================================================================ queries

    /** The container's networks and published ports, for inspect and docker port. */
    public NetworkView networkView(ContainerRecord r) {
        return net.view(r, read(r.id()).networks());
    }

    /** The container's mount points, for inspect's Mounts and docker cp. */
    public List<MountPoint> mounts(String containerId) {
        return read(containerId).mounts();
    }
}
