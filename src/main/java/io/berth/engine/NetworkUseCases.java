package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.Ipv4;
import io.berth.network.Network;
import io.berth.network.NetworkException;
import io.berth.network.NetworkService;
import io.berth.network.NetworkSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network use cases: the network box's verbs plus what dockerd adds around them (the
 * predefined names, the host side brought up at create, the events, and the container box's
 * part in connect, disconnect and removal).
 *
 * <p>The container box answers through the {@link ContainerNetworkHooks} given to the
 * constructor (read at each use: the container box is built after this one), and the daemon
 * works without them: connect and disconnect answer "No such container" while there are
 * none, and only when they tell the live containers ({@link ContainerNetworkHooks#liveContainers})
 * does {@link #start} reconcile the recorded networking (undo what belongs to containers that
 * are gone, remove unknown namespaces): without them the engine cannot tell a dead container
 * from one that outlived the daemon, so it leaves all alone.
 */
public final class NetworkUseCases implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkUseCases.class);

    private final NetworkService service;
    private final EventBus events;
    private final Supplier<ContainerNetworkHooks> hooks;
    /** Other owners of recorded networking (the CRI's pods), kept at start like live containers. */
    private final List<Supplier<Set<String>>> otherOwners = new java.util.concurrent.CopyOnWriteArrayList<>();

    NetworkUseCases(NetworkService service, EventBus events) {
        this(service, events, () -> null);
    }

    /** @param hooks the container box's answers, or null while there is none */
    NetworkUseCases(NetworkService service, EventBus events, Supplier<ContainerNetworkHooks> hooks) {
        this.service = service;
        this.events = events;
        this.hooks = hooks;
    }

    /** The network box on the settings' data root, exec root and address pools. */
    static NetworkUseCases open(EngineSettings settings, EventBus events, Supplier<ContainerNetworkHooks> hooks) {
        Path execRoot = Objects.requireNonNull(settings.execRoot(), "exec root");
        NetworkService.Options options = NetworkService.Options.defaults(settings.dataRoot(), execRoot)
                .withAddressPools(checkPools(settings.addressPools()))
                .withDefaultBridge(settings.defaultBridge());
        return new NetworkUseCases(new NetworkService(options), events, hooks);
    }

    /** Refuses default-address-pools entries the allocator could never use; returns them. */
    public static List<NetworkService.AddressPool> checkPools(List<NetworkService.AddressPool> pools) {
        for (NetworkService.AddressPool p : pools) {
            Ipv4.Cidr base;
            try {
                base = Ipv4.Cidr.parseStrict(p.base());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid default-address-pools base \"" + p.base() + "\": " + e.getMessage(), e);
            }
            if (p.size() < base.prefix() || p.size() > 30) {
                throw new IllegalArgumentException("invalid default-address-pools size " + p.size() + " for base " + p.base()
                        + ": it must be between the base's prefix length " + base.prefix() + " and 30");
            }
        }
        return pools;
    }

    public NetworkService service() {
        return service;
    }

    /** IDs whose networking is not a container's but must survive start-up reconciliation too (pods). */
    public void addLiveOwners(Supplier<Set<String>> value) {
        otherOwners.add(value);
    }

    /**
     * At daemon start: brings up the bridge and DNS of every user network (a failure is logged,
     * the daemon still starts), then reconciles container networking when the container box
     * gave the live containers.
     */
    public void start() {
        for (Network n : service.list()) {
            try {
                service.activate(n.id());
            } catch (RuntimeException e) {
                LOG.warn("network {}: {}", n.name(), e.getMessage());
            }
        }
        ContainerNetworkHooks h = hooks.get();
        Set<String> live = h == null ? null : h.liveContainers();
        if (live != null) {
            Set<String> keep = new java.util.HashSet<>(live);
            for (Supplier<Set<String>> owner : otherOwners) keep.addAll(owner.get());
            NetworkService.ReconcileReport r = service.reconcile(Set.copyOf(keep));
            if (!r.cleanedContainers().isEmpty() || !r.removedNamespaces().isEmpty()) {
                LOG.info("network reconcile: undid the networking of {} and removed namespaces {}", r.cleanedContainers(), r.removedNamespaces());
            }
        }
    }

    /** docker network create: the predefined names are refused as dockerd refuses them. */
    public Network create(NetworkSpec spec) {
        if (spec.name() != null && NetworkService.PREDEFINED.contains(spec.name())) {
            throw new NetworkException(ErrorKind.FORBIDDEN, "operation is not permitted on predefined " + spec.name() + " network ");
        }
        if ("overlay".equals(spec.driver())) {
            throw new NetworkException(ErrorKind.FORBIDDEN,
                    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.");
        }
        Network n = service.create(spec);
        try {
            service.activate(n.id());
        } catch (RuntimeException e) {
            try {
                service.remove(n.id(), id -> false);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        publish(n, "create", Map.of());
        return n;
    }

    public List<Network> list() {
        return service.list();
    }

    public Network inspect(String nameOrId) {
        return service.inspect(nameOrId);
    }

    public List<NetworkService.Member> members(Network n) {
        return service.members(n.id());
    }

    /** True when a container is on the network, or (the container box says) names it. */
    public boolean inUse(Network n) {
        return usedByConfig(n.id()) || !service.members(n.id()).isEmpty();
    }

    private boolean usedByConfig(String networkId) {
        ContainerNetworkHooks h = hooks.get();
        return h != null && h.usesNetwork(networkId);
    }

    /** docker network rm. */
    public void remove(String nameOrId) {
        Network n = service.inspect(nameOrId);
        service.remove(n.id(), this::usedByConfig);
        publish(n, "destroy", Map.of());
    }

    /** docker network prune: the unused user networks {@code select} picks; their names. */
    public List<String> prune(Predicate<Network> select) {
        List<String> removed = new ArrayList<>();
        for (Network n : service.list()) {
            if (n.isPredefined() || !select.test(n) || inUse(n)) continue;
            try {
                remove(n.id());
                removed.add(n.name());
            } catch (NetworkException e) {
                LOG.warn("network prune: could not remove {}: {}", n.name(), e.getMessage());
            }
        }
        events.publish("network", "prune", "", Map.of("reclaimed", "0"));
        return removed;
    }

    /**
     * docker network connect: a running container's namespace joins the network now; a
     * stopped one has it recorded by the container box for its next start.
     */
    public void connect(String network, String container, Attachment attachment) {
        Network n = service.inspect(network);
        ContainerNetworkHooks h = hooks.get();
        String id = resolve(h, container);
        Attachment a = attachment.withNetwork(n.id());
        if (!h.isRunning(id)) {
            if (n.driver().equals("host") || n.driver().equals("null")) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "container cannot be disconnected from host network or connected to host network");
            }
            h.connected(id, n, a, null);
            return;
        }
        Endpoint ep = service.connect(id, a);
        try {
            h.connected(id, n, a, ep);
        } catch (RuntimeException e) {
            try {
                service.disconnect(id, n.id());
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        publish(n, "connect", Map.of("container", id));
    }

    /** docker network disconnect. */
    public void disconnect(String network, String container, boolean force) {
        Network n = service.inspect(network);
        ContainerNetworkHooks h = hooks.get();
        String id = resolve(h, container);
        boolean wasOn = service.members(n.id()).stream().anyMatch(m -> m.containerId().equals(id));
        if (!wasOn && !h.namesNetwork(id, n.id())) {
            // dockerd's answers (500, forced or not): a running container says "network", a stopped one "the network"
            throw new NetworkException(ErrorKind.INTERNAL,
                    "container " + id + " is not connected to " + (h.isRunning(id) ? "network " : "the network ") + n.name());
        }
        if (h.isRunning(id) || wasOn) {
            try {
                service.disconnect(id, n.id());
            } catch (NetworkException e) {
                if (!force || e.kind() == ErrorKind.NOT_FOUND) throw e;
                LOG.warn("network disconnect --force of {} from {}: {}", id, n.name(), e.getMessage());
            }
        }
        h.disconnected(id, n);
        if (wasOn) publish(n, "disconnect", Map.of("container", id));
    }

    private static String resolve(ContainerNetworkHooks h, String container) {
        String id = h == null || container == null || container.isEmpty() ? null : h.resolveContainerId(container);
        if (id == null) throw new NetworkException(ErrorKind.NOT_FOUND, "No such container: " + container);
        return id;
    }

    private void publish(Network n, String action, Map<String, String> extra) {
        Map<String, String> attributes = new LinkedHashMap<>(extra);
        attributes.put("name", n.name());
        attributes.put("type", n.driver());
        events.publish("network", action, n.id(), attributes);
    }

    /** Stops the embedded DNS servers; containers keep their networking (they outlive the daemon). */
    @Override
    public void close() {
        service.close();
    }
}
