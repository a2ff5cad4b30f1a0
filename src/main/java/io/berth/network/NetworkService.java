package io.berth.network;

import io.berth.errdefs.ErrorKind;
import io.berth.sys.AtomicFiles;
import io.berth.sys.NetNamespaces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The network box's use cases: networks (create, list, inspect, remove, prune) and the
 * networking of containers (attach, detach, connect, disconnect, reconcile), plus the
 * /etc/hosts and /etc/resolv.conf a container gets and the embedded DNS of user networks.
 *
 * <p>Containers get a network namespace pinned at {@code <exec root>/netns/<id>}, joined
 * to bridge networks through the CNI plugins. Every step that changes the host is recorded
 * first in {@code <data root>/network/attachments/<id>.json}, so that {@link #reconcile}
 * can undo what a crash left behind.
 */
public final class NetworkService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkService.class);
    public static final Set<String> PREDEFINED = Set.of("bridge", "host", "none");
    /** dockerd takes any name ("my net", "a:b"); only control characters are refused (they would garble logs and listings). */
    private static final Pattern NAME = Pattern.compile("[^\\p{Cntrl}]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A pool that network subnets are carved from: base {@code 10.90.0.0/16}, size 24. */
    public record AddressPool(String base, int size) {}

    /**
     * Settings: the roots, the default address pools, the default bridge's device and
     * subnet, where the CNI plugins are, the upstream resolvers of the embedded DNS (the
     * host's by default) and its port (53).
     */
    public record Options(Path dataRoot, Path execRoot, List<AddressPool> addressPools, DefaultBridge defaultBridge,
                          List<Path> cniPluginDirs, Supplier<List<InetSocketAddress>> dnsUpstream, int dnsPort) {
        public static final List<AddressPool> DEFAULT_POOLS = List.of(new AddressPool("10.90.0.0/16", 24));
        public static final String DEFAULT_BRIDGE = DefaultBridge.NAME;
        public static final String DEFAULT_BRIDGE_SUBNET = DefaultBridge.SUBNET;

        public Options {
            addressPools = addressPools == null || addressPools.isEmpty() ? DEFAULT_POOLS : List.copyOf(addressPools);
            cniPluginDirs = cniPluginDirs == null || cniPluginDirs.isEmpty() ? Cni.DEFAULT_PLUGIN_DIRS : List.copyOf(cniPluginDirs);
            if (dnsUpstream == null) dnsUpstream = NetworkService::hostResolvers;
            if (defaultBridge == null) defaultBridge = DefaultBridge.defaults();
            if (dnsPort == 0) dnsPort = 53;
        }

        public static Options defaults(Path dataRoot, Path execRoot) {
            return new Options(dataRoot, execRoot, null, null, null, null, 53);
        }

        public Options withAddressPools(List<AddressPool> value) {
            return new Options(dataRoot, execRoot, value, defaultBridge, cniPluginDirs, dnsUpstream, dnsPort);
        }

        public Options withDefaultBridge(String name, String subnet) {
            return withDefaultBridge(new DefaultBridge(name, subnet, null, null, true, true, true));
        }

        public Options withDefaultBridge(DefaultBridge value) {
            return new Options(dataRoot, execRoot, addressPools, value, cniPluginDirs, dnsUpstream, dnsPort);
        }

        public Options withDnsUpstream(Supplier<List<InetSocketAddress>> value) {
            return new Options(dataRoot, execRoot, addressPools, defaultBridge, cniPluginDirs, value, dnsPort);
        }
    }

    /** What {@link #reconcile} did: containers whose networking it undid, and what it could not undo. */
    public record ReconcileReport(List<String> cleanedContainers, List<String> removedNamespaces, List<String> failures) {}

    /** How long a removed namespace's veths may take to go before they are deleted one by one. */
    private static final Duration VETH_GONE_WAIT = Duration.ofSeconds(1);

    private final Options options;
    private final NetworkStore store;
    private final Cni cni;
    private final Path ipamDir;
    private final Path attachmentsDir;
    private final Path netnsDir;
    private final Object state = new Object();
    private final Map<String, Network> networks = new LinkedHashMap<>();
    private final Map<String, DnsServer> dnsServers = new HashMap<>();
    private final Set<String> reservedPorts = new HashSet<>();
    private final Map<String, ReentrantLock> containerLocks = new ConcurrentHashMap<>();
    /** Attachment records as last written or read: `docker ps` and inspect read them per container. */
    private final Map<String, AttachmentRecord> recordCache = new ConcurrentHashMap<>();
    /** Networks whose bridge and rules this daemon run has made sure of (see ensureHostSide). */
    private final Set<String> hostSideReady = ConcurrentHashMap.newKeySet();

    public NetworkService(Options options) {
        this.options = options;
        this.store = new NetworkStore(options.dataRoot());
        this.cni = new Cni(options.cniPluginDirs());
        this.ipamDir = options.dataRoot().resolve("network").resolve("ipam");
        this.attachmentsDir = options.dataRoot().resolve("network").resolve("attachments");
        this.netnsDir = options.execRoot().resolve("netns");
        for (Network n : store.loadAll()) networks.put(n.id(), n);
        ensurePredefined();
    }

    public Path ipamDirectory() {
        return ipamDir;
    }

    public Path netnsDirectory() {
        return netnsDir;
    }

    /** The CNI plugins a bridge network needs that none of the plugin folders holds (empty: ready). */
    public List<String> missingPlugins() {
        List<String> missing = new ArrayList<>();
        for (String type : List.of("bridge", "host-local", "portmap")) {
            if (options.cniPluginDirs().stream().noneMatch(d -> Files.isExecutable(d.resolve(type)))) missing.add(type);
        }
        return missing;
    }

    // ---------------------------------------------------------------- networks

    private void ensurePredefined() {
        synchronized (state) {
            // Made from the flags at each start, as dockerd makes docker0's network.
            Network wanted = defaultBridgeNetwork();
            Network had = byName("bridge");
            if (had == null) {
                save(wanted);
            } else if (!had.options().equals(wanted.options()) || !had.ipam().equals(wanted.ipam())) {
                save(new Network(had.name(), had.id(), had.created(), had.scope(), had.driver(), had.enableIPv6(), wanted.ipam(),
                        had.internal(), had.attachable(), wanted.options(), had.labels()));
            }
            if (byName("host") == null) {
                save(new Network("host", newId(), now(), "local", "host", false, new Network.Ipam("default", Map.of(), List.of()), false, false, Map.of(), Map.of()));
            }
            if (byName("none") == null) {
                save(new Network("none", newId(), now(), "local", "null", false, new Network.Ipam("default", Map.of(), List.of()), false, false, Map.of(), Map.of()));
            }
        }
    }

    private Network defaultBridgeNetwork() {
        DefaultBridge b = options.defaultBridge();
        Ipv4.Cidr subnet = Ipv4.Cidr.parseStrict(b.subnet());
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put(Network.BRIDGE_NAME_OPTION, b.name());
        opts.put(Network.DEFAULT_BRIDGE_OPTION, "true");
        opts.put("com.docker.network.bridge.enable_icc", "true");
        opts.put("com.docker.network.bridge.enable_ip_masquerade", Boolean.toString(b.ipMasq()));
        opts.put("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
        opts.put("com.docker.network.driver.mtu", "1500");
        return new Network("bridge", newId(), now(), "local", "bridge", false,
                new Network.Ipam("default", Map.of(), List.of(new Network.IpamConfig(subnet.toString(), b.ipRange(), b.gatewayAddress()))),
                false, false, opts, Map.of());
    }

    private void save(Network n) {
        store.save(n);
        networks.put(n.id(), n);
    }

    private Network byName(String name) {
        for (Network n : networks.values()) if (n.name().equals(name)) return n;
        return null;
    }

    /** Creates a network; the bridge device is made when the first container joins. */
    public Network create(NetworkSpec spec) {
        String name = spec.name();
        if (name == null || name.isEmpty()) throw NetworkException.invalid("network name is required");
        if (!NAME.matcher(name).matches()) {
            throw NetworkException.invalid("invalid network name: control characters are not allowed");
        }
        String driver = spec.driver() == null || spec.driver().isEmpty() ? "bridge" : spec.driver();
        if (driver.equals("host") || driver.equals("null")) {
            throw new NetworkException(ErrorKind.FORBIDDEN, "only one instance of \"" + driver + "\" network is allowed");
        }
        if (!driver.equals("bridge")) throw new NetworkException(ErrorKind.NOT_FOUND, "plugin \"" + driver + "\" not found");
        if (spec.enableIPv6()) throw NetworkException.invalid("IPv6 networks are not supported by berth yet");
        if (spec.pools().size() > 1) throw NetworkException.invalid("berth supports one IPv4 subnet a network");
        synchronized (state) {
            if (byName(name) != null) throw new NetworkException(ErrorKind.CONFLICT, "network with name " + name + " already exists");
            String bridgeOpt = spec.options().get(Network.BRIDGE_NAME_OPTION);
            if (bridgeOpt != null) {
                String problem = BridgeNames.problem(bridgeOpt);
                if (problem != null) throw NetworkException.invalid("invalid bridge name \"" + bridgeOpt + "\": " + problem);
                for (Network n : networks.values()) {
                    if (n.isBridge() && n.bridgeName().equals(bridgeOpt)) {
                        throw new NetworkException(ErrorKind.CONFLICT, "bridge name " + bridgeOpt + " is used by network " + n.name());
                    }
                }
            }
            Network.IpamConfig pool = spec.pools().isEmpty() ? autoPool() : explicitPool(spec.pools().getFirst());
            Map<String, String> opts = new LinkedHashMap<>(spec.options());
            Network n = new Network(name, newId(), now(), "local", driver, false,
                    new Network.Ipam("default", spec.ipamOptions(), List.of(pool)), spec.internal(), spec.attachable(), opts, spec.labels());
            save(n);
            return n;
        }
    }

    private Network.IpamConfig explicitPool(NetworkSpec.Pool p) {
        if (p.subnet() == null || p.subnet().isEmpty()) {
            if (p.gateway() != null || p.ipRange() != null) throw NetworkException.invalid("a gateway or IP range needs a subnet");
            return autoPool();
        }
        if (p.subnet().contains(":")) throw NetworkException.invalid("IPv6 subnets are not supported by berth yet: " + p.subnet());
        Ipv4.Cidr subnet;
        try {
            subnet = Ipv4.Cidr.parseStrict(p.subnet());
        } catch (IllegalArgumentException e) {
            throw NetworkException.invalid("invalid subnet " + p.subnet() + ": " + e.getMessage());
        }
        if (subnet.prefix() > 30) throw NetworkException.invalid("subnet " + subnet + " is too small: use a prefix of /30 or shorter");
        String gateway = p.gateway();
        if (gateway == null || gateway.isEmpty()) {
            gateway = Ipv4.format(subnet.base() + 1);
        } else {
            int gw;
            try {
                gw = Ipv4.parse(gateway);
            } catch (IllegalArgumentException e) {
                throw NetworkException.invalid("invalid gateway " + gateway);
            }
            if (!subnet.contains(gw)) throw NetworkException.invalid("no matching subnet for gateway " + gateway);
        }
        String range = p.ipRange();
        if (range != null && !range.isEmpty()) {
            Ipv4.Cidr r;
            try {
                r = Ipv4.Cidr.parseStrict(range);
            } catch (IllegalArgumentException e) {
                throw NetworkException.invalid("invalid ip-range " + range + ": " + e.getMessage());
            }
            if (!subnet.contains(r)) throw NetworkException.invalid("no matching subnet for range " + range);
            range = r.toString();
        } else {
            range = null;
        }
        for (Network n : networks.values()) {
            Ipv4.Cidr other = n.subnet();
            if (other != null && other.overlaps(subnet)) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "invalid pool request: Pool overlaps with other one on this address space");
            }
        }
        // the auxiliary addresses are checked and kept as dockerd shows them (host-local does not hand them out differently)
        Map<String, String> aux = p.auxAddresses() == null ? null : new LinkedHashMap<>(p.auxAddresses());
        if (aux != null) {
            for (Map.Entry<String, String> e : aux.entrySet()) {
                int ip;
                try {
                    ip = Ipv4.parse(e.getValue());
                } catch (IllegalArgumentException ex) {
                    throw NetworkException.invalid("invalid auxiliary address " + e.getKey() + "=" + e.getValue());
                }
                if (!subnet.contains(ip)) throw NetworkException.invalid("no matching subnet for aux-address " + e.getValue());
            }
        }
        return new Network.IpamConfig(subnet.toString(), range, gateway, aux);
    }

    private Network.IpamConfig autoPool() {
        List<Ipv4.Cidr> taken = new ArrayList<>();
        for (Network n : networks.values()) if (n.subnet() != null) taken.add(n.subnet());
        List<Ipv4.Cidr> routes = HostLinks.routes();
        for (AddressPool pool : options.addressPools()) {
            Ipv4.Cidr base = Ipv4.Cidr.parse(pool.base());
            if (pool.size() < base.prefix() || pool.size() > 30) continue;
            long count = 1L << (pool.size() - base.prefix());
            long step = 1L << (32 - pool.size());
            for (long i = 0; i < count; i++) {
                Ipv4.Cidr candidate = new Ipv4.Cidr(base.base() + (int) (i * step), pool.size());
                if (taken.stream().anyMatch(candidate::overlaps) || routes.stream().anyMatch(candidate::overlaps)) continue;
                return new Network.IpamConfig(candidate.toString(), null, Ipv4.format(candidate.base() + 1));
            }
        }
        throw new NetworkException(ErrorKind.FORBIDDEN,
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    }

    public List<Network> list() {
        synchronized (state) {
            List<Network> all = new ArrayList<>(networks.values());
            all.sort(Comparator.comparing(Network::name));
            return all;
        }
    }

    /** By full ID, then name, then a unique ID prefix, as Docker looks networks up. */
    public Optional<Network> find(String nameOrId) {
        if (nameOrId == null || nameOrId.isEmpty()) return Optional.empty();
        synchronized (state) {
            Network n = networks.get(nameOrId);
            if (n != null) return Optional.of(n);
            n = byName(nameOrId);
            if (n != null) return Optional.of(n);
            Network match = null;
            for (Network x : networks.values()) {
                if (x.id().startsWith(nameOrId.toLowerCase(Locale.ROOT))) {
                    if (match != null) {
                        throw new NetworkException(ErrorKind.INVALID_ARGUMENT, "network " + nameOrId + " is ambiguous (2 matches found based on ID prefix)");
                    }
                    match = x;
                }
            }
            return Optional.ofNullable(match);
        }
    }

    public Network inspect(String nameOrId) {
        return find(nameOrId).orElseThrow(() -> NetworkException.notFound(nameOrId));
    }

    /** The containers on a network and their endpoints, for the Containers field of inspect. */
    public Map<String, Endpoint> endpointsOn(String networkId) {
        Map<String, Endpoint> out = new LinkedHashMap<>();
        for (AttachmentRecord r : loadRecords()) {
            for (AttachmentRecord.EndpointState e : r.endpoints()) {
                if (e.networkId().equals(networkId) && e.endpoint() != null) out.put(r.containerId(), e.endpoint());
            }
        }
        return out;
    }

    /** A container on a network: its ID and name, and its endpoint there. */
    public record Member(String containerId, String containerName, Endpoint endpoint) {}

    /** The containers on a network with their names, in the order their records are found. */
    public List<Member> members(String networkId) {
        List<Member> out = new ArrayList<>();
        for (AttachmentRecord r : loadRecords()) {
            for (AttachmentRecord.EndpointState e : r.endpoints()) {
                if (e.networkId().equals(networkId) && e.endpoint() != null) out.add(new Member(r.containerId(), r.containerName(), e.endpoint()));
            }
        }
        return out;
    }

    /**
     * Brings the host side of a user bridge network up before any container joins: the bridge
     * device with the gateway address, and the embedded DNS listening there, as dockerd makes
     * the bridge at create. The daemon calls it after create and for every user network at
     * start; other networks (the default bridge, host, none) are left alone. Idempotent.
     */
    public void activate(String nameOrId) {
        Network n = inspect(nameOrId);
        if (!usesEmbeddedDns(n) || n.subnet() == null) return;
        try {
            ensureHostSide(n);
            ensureDns(n);
        } catch (IOException e) {
            throw new NetworkException(ErrorKind.INTERNAL, "cannot bring up bridge " + n.bridgeName() + " of network " + n.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes a network. Refused for the predefined ones and while a container uses it:
     * {@code inUse} is asked about the network's ID (the container box knows stopped
     * containers that still name it) and so are the attachments recorded here.
     */
    public void remove(String nameOrId, Predicate<String> inUse) {
        Network n = inspect(nameOrId);
        if (n.isPredefined()) {
            throw new NetworkException(ErrorKind.FORBIDDEN, n.name() + " is a pre-defined network and cannot be removed");
        }
        if ((inUse != null && inUse.test(n.id())) || !endpointsOn(n.id()).isEmpty()) {
            throw new NetworkException(ErrorKind.FORBIDDEN, "error while removing network: network " + n.name() + " id " + n.id() + " has active endpoints");
        }
        synchronized (state) {
            DnsServer dns = dnsServers.remove(n.id());
            if (dns != null) dns.close();
            try {
                removeHostSide(n);
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "error while removing network " + n.name() + ": " + e.getMessage(), e);
            }
            deleteTree(ipamDir.resolve(CniConfigs.cniName(n)));
            store.delete(n.id());
            networks.remove(n.id());
        }
    }

    /**
     * Deletes the default bridge's device and iptables rules, which otherwise stay (as docker0
     * and its rules outlive dockerd): for a host handing the bridge back, as tests do. Refused
     * while a container is attached to it.
     */
    public void removeDefaultBridge() throws IOException {
        Network n = inspect("bridge");
        if (!endpointsOn(n.id()).isEmpty()) {
            throw new NetworkException(ErrorKind.FORBIDDEN, "the default bridge has active endpoints");
        }
        removeHostSide(n);
    }

    /** Removes the unused user networks that {@code select} picks; their names. */
    public List<String> prune(Predicate<Network> select, Predicate<String> inUse) {
        List<String> removed = new ArrayList<>();
        for (Network n : list()) {
            if (n.isPredefined() || (select != null && !select.test(n))) continue;
            if ((inUse != null && inUse.test(n.id())) || !endpointsOn(n.id()).isEmpty()) continue;
            try {
                remove(n.id(), inUse);
                removed.add(n.name());
            } catch (NetworkException e) {
                LOG.warn("prune: {}", e.getMessage());
            }
        }
        return removed;
    }

    // ---------------------------------------------------------------- containers

    /**
     * Gives a container its networking: a new namespace joined to each network in order
     * (eth0, eth1, ...), the ports published on the first bridge network that is not
     * internal, the names registered in the networks' DNS. Network {@code host} gives no
     * namespace; {@code none} a namespace with loopback only. On failure everything done is
     * undone and the plugin's message is thrown.
     */
    public AttachResult attach(AttachRequest req) {
        return attach(req, netns -> { });
    }

    /**
     * {@link #attach(AttachRequest)}, telling {@code namespaceReady} the namespace's path as
     * soon as it exists with its loopback up, before the networks are joined: the runtime can
     * create the container in it meanwhile (the process must not start before attach returns).
     */
    public AttachResult attach(AttachRequest req, java.util.function.Consumer<String> namespaceReady) {
        String cid = req.containerId();
        if (cid == null || !cid.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]*")) throw NetworkException.invalid("invalid container ID " + cid);
        ReentrantLock lock = lockOf(cid);
        lock.lock();
        try {
            if (Files.exists(recordPath(cid))) {
                throw new NetworkException(ErrorKind.CONFLICT, "container " + cid + " already has its networking set up: detach it first");
            }
            List<Attachment> attachments = req.networks().isEmpty() ? List.of(Attachment.to("none")) : req.networks();
            List<Network> nets = new ArrayList<>();
            for (Attachment a : attachments) nets.add(inspect(a.network()));
            boolean host = nets.stream().anyMatch(n -> n.driver().equals("host"));
            boolean none = nets.stream().anyMatch(n -> n.driver().equals("null"));
            if ((host || none) && nets.size() > 1) {
                throw new NetworkException(ErrorKind.INVALID_ARGUMENT,
                        "container cannot be connected to multiple networks with one of the networks in " + (host ? "host" : "private (none)") + " mode");
            }
            if (host) {
                AttachmentRecord r = new AttachmentRecord(cid, req.containerName(), null, true, List.of(), req.dns(), List.of());
                writeRecord(r);
                return resultOf(r);
            }
            Path netns = netnsDir.resolve(cid);
            AttachmentRecord record = new AttachmentRecord(cid, req.containerName(), netns.toString(), false, List.of(), req.dns(), List.of());
            writeRecord(record);
            try {
                NetNamespaces.remove(netns);
                NetNamespaces.create(netns); // with lo up
                namespaceReady.accept(netns.toString());
                if (!none) {
                    int portsOn = -1;
                    for (int i = 0; i < nets.size(); i++) if (portsOn < 0 && !nets.get(i).internal()) portsOn = i;
                    List<PortBinding> ports = List.of();
                    if (portsOn >= 0 && !req.ports().isEmpty()) {
                        ports = reservePorts(req.ports());
                        record = record.withPorts(ports);
                        writeRecord(record);
                    }
                    for (int i = 0; i < nets.size(); i++) {
                        record = addEndpoint(record, nets.get(i), attachments.get(i), "eth" + i, i == portsOn ? ports : List.of());
                    }
                }
                return resultOf(record);
            } catch (IOException | RuntimeException e) {
                try {
                    teardown(cid);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                if (e instanceof NetworkException ne) throw ne;
                throw new NetworkException(ErrorKind.INTERNAL, "failed to set up the network of container " + cid + ": " + e.getMessage(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Undoes a container's networking; nothing to undo is fine. */
    public void detach(String containerId) {
        detach(containerId, false);
    }

    /**
     * {@link #detach(String)}; {@code namespaceShared}: processes of other containers live in
     * its namespace (they joined it with {@code --network container:}), so unpinning it does
     * not free it and the plugins delete the interfaces in it, as they do on disconnect.
     */
    public void detach(String containerId, boolean namespaceShared) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            teardown(containerId, namespaceShared);
        } finally {
            lock.unlock();
            containerLocks.remove(containerId, lock);
        }
    }

    /** Joins a running container's namespace to one more network, on the next free ethN. */
    public Endpoint connect(String containerId, Attachment attachment) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            AttachmentRecord r = readRecord(containerId)
                    .orElseThrow(() -> new NetworkException(ErrorKind.CONFLICT, "container " + containerId + " is not running"));
            Network n = inspect(attachment.network());
            if (r.hostNetwork() || !n.isBridge()) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "container cannot be disconnected from host network or connected to host network");
            }
            for (AttachmentRecord.EndpointState e : r.endpoints()) {
                if (e.networkId().equals(n.id())) {
                    throw new NetworkException(ErrorKind.FORBIDDEN, "endpoint with name " + r.containerName() + " already exists in network " + n.name());
                }
            }
            Set<String> used = new HashSet<>();
            for (AttachmentRecord.EndpointState e : r.endpoints()) used.add(e.ifName());
            int i = 0;
            while (used.contains("eth" + i)) i++;
            try {
                r = addEndpoint(r, n, attachment, "eth" + i, List.of());
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "failed to connect container " + containerId + " to network " + n.name() + ": " + e.getMessage(), e);
            }
            return r.endpoints().getLast().endpoint();
        } finally {
            lock.unlock();
        }
    }

    /** Takes a running container off one network. */
    public void disconnect(String containerId, String network) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            Network n = inspect(network);
            AttachmentRecord r = readRecord(containerId)
                    .orElseThrow(() -> new NetworkException(ErrorKind.CONFLICT, "container " + containerId + " is not connected to network " + n.name()));
            AttachmentRecord.EndpointState found = null;
            for (AttachmentRecord.EndpointState e : r.endpoints()) if (e.networkId().equals(n.id())) found = e;
            if (found == null) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "container " + containerId + " is not connected to network " + n.name());
            }
            try {
                removeEndpoint(r, found);
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "failed to disconnect container " + containerId + " from network " + n.name() + ": " + e.getMessage(), e);
            }
            r = r.minus(found.ifName());
            writeRecord(r);
        } finally {
            lock.unlock();
        }
    }

    /** A container's networking as recorded, if it has any. */
    public Optional<AttachResult> attachment(String containerId) {
        return readRecord(containerId).map(this::resultOf);
    }

    /**
     * At daemon start: undoes the networking of every recorded container that is not in
     * {@code liveContainerIds} (DEL replayed from the records, namespace removed), restores
     * the DNS names and port reservations of the live ones, and removes namespaces that no
     * record names.
     */
    public ReconcileReport reconcile(Set<String> liveContainerIds) {
        List<String> cleaned = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<String> removedNs = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (AttachmentRecord r : loadRecords()) {
            known.add(r.containerId());
            if (liveContainerIds.contains(r.containerId())) {
                try {
                    synchronized (state) {
                        for (PortBinding p : r.ports()) reservedPorts.add(portKey(p));
                    }
                    for (AttachmentRecord.EndpointState e : r.endpoints()) {
                        if (e.endpoint() == null) continue;
                        Network n = networks.get(e.networkId());
                        if (n != null) registerDns(n, r, e.endpoint());
                    }
                } catch (IOException | RuntimeException e) {
                    failures.add(r.containerId() + ": " + e.getMessage());
                }
                continue;
            }
            try {
                detach(r.containerId());
                cleaned.add(r.containerId());
            } catch (RuntimeException e) {
                failures.add(r.containerId() + ": " + e.getMessage());
            }
        }
        if (Files.isDirectory(netnsDir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(netnsDir)) {
                for (Path f : files) {
                    String id = f.getFileName().toString();
                    if (known.contains(id) || liveContainerIds.contains(id)) continue;
                    try {
                        NetNamespaces.remove(f);
                        removedNs.add(id);
                    } catch (IOException e) {
                        failures.add("namespace " + f + ": " + e.getMessage());
                    }
                }
            } catch (IOException e) {
                failures.add("cannot list " + netnsDir + ": " + e.getMessage());
            }
        }
        for (String f : failures) LOG.warn("network reconcile: {}", f);
        return new ReconcileReport(cleaned, removedNs, failures);
    }

    /**
     * The container's /etc/hosts: its address on its first network, the --add-host entries
     * ({@code host-gateway} is the default bridge's gateway), and the links (default bridge).
     */
    public String hostsFile(String containerId, String hostname, String domainname, List<EtcFiles.ExtraHost> extraHosts, List<EtcFiles.Link> links) {
        String ip = null;
        Optional<AttachResult> r = attachment(containerId);
        if (r.isPresent() && !r.get().endpoints().isEmpty()) ip = r.get().endpoints().getFirst().ipAddress();
        Network bridge = byName("bridge");
        String hostGateway = bridge == null ? null : bridge.gateway();
        return EtcFiles.hosts(ip, hostname, domainname, extraHosts, links, hostGateway);
    }

    /**
     * The container's /etc/resolv.conf: on a user network the embedded DNS at the gateway of
     * its first user network (that server also answers the names of its other networks); on
     * the default bridge alone (or none) the --dns servers or the host's. A container on the
     * default bridge that was connected to a user network uses the embedded DNS, as dockerd's.
     */
    public String resolvConf(String containerId, List<String> dns, List<String> dnsSearch, List<String> dnsOptions) {
        String embedded = null;
        Optional<AttachResult> r = attachment(containerId);
        for (Endpoint ep : r.map(AttachResult::endpoints).orElse(List.of())) {
            Network n = networks.get(ep.networkId());
            if (n != null && usesEmbeddedDns(n) && n.gateway() != null) {
                embedded = n.gateway();
                break;
            }
        }
        return EtcFiles.resolvConf(EtcFiles.HostResolv.read(), embedded, dns, dnsSearch, dnsOptions);
    }

    /** Stops the DNS servers. Namespaces, interfaces and rules stay: containers outlive the daemon. */
    @Override
    public void close() {
        synchronized (state) {
            for (DnsServer s : dnsServers.values()) s.close();
            dnsServers.clear();
        }
    }

    /** The address the embedded DNS of a network listens on, when it runs. */
    public Optional<InetSocketAddress> dnsAddress(String network) {
        Network n = inspect(network);
        synchronized (state) {
            DnsServer s = dnsServers.get(n.id());
            return s == null ? Optional.empty() : Optional.of(s.address());
        }
    }

    // ---------------------------------------------------------------- internals

    /**
     * The bridge device and the network's iptables rules, made once a daemon run: checking
     * them costs three {@code ip} and five {@code iptables} runs, too dear for every start.
     * A bridge deleted behind our back is made again.
     */
    private void ensureHostSide(Network n) throws IOException {
        if (hostSideReady.contains(n.id()) && HostLinks.exists(n.bridgeName())) return;
        synchronized (hostSideReady) {
            if (hostSideReady.contains(n.id()) && HostLinks.exists(n.bridgeName())) return;
            HostLinks.ensureBridge(n.bridgeName(), n.gateway(), n.subnet().prefix());
            if (options.defaultBridge().ipForward()) enableIpForwarding();
            if (options.defaultBridge().iptables()) BridgeRules.ensure(n);
            hostSideReady.add(n.id());
        }
    }

    /** Undoes {@link #ensureHostSide}: the network's rules, then its bridge device. */
    private void removeHostSide(Network n) throws IOException {
        synchronized (hostSideReady) {
            hostSideReady.remove(n.id());
            if (options.defaultBridge().iptables()) BridgeRules.remove(n);
            HostLinks.deleteLink(n.bridgeName());
        }
    }

    /** dockerd's --ip-forward: containers reach past the host only when it forwards. */
    private static void enableIpForwarding() throws IOException {
        Path flag = Path.of("/proc/sys/net/ipv4/ip_forward");
        if (!Files.readString(flag).trim().equals("1")) Files.writeString(flag, "1\n");
    }

    private static boolean usesEmbeddedDns(Network n) {
        return n.isBridge() && !n.isDefaultBridge();
    }

    private AttachmentRecord addEndpoint(AttachmentRecord record, Network n, Attachment a, String ifName, List<PortBinding> ports) throws IOException {
        if (!n.isBridge()) {
            throw NetworkException.invalid("container cannot be connected to network " + n.name() + " together with others");
        }
        Ipv4.Cidr subnet = n.subnet();
        if (a.ipv4Address() != null) {
            if (!Ipv4.isAddress(a.ipv4Address())) throw NetworkException.invalid("invalid IPv4 address: " + a.ipv4Address());
            if (subnet == null || !subnet.contains(Ipv4.parse(a.ipv4Address()))) {
                throw NetworkException.invalid("invalid address " + a.ipv4Address() + ": it does not belong to any of network " + n.name() + "'s subnets");
            }
        }
        if (!a.aliases().isEmpty() && n.isDefaultBridge()) {
            throw NetworkException.invalid("network-scoped alias is supported only for containers in user defined networks");
        }
        ensureHostSide(n);
        if (usesEmbeddedDns(n)) ensureDns(n);
        ObjectNode conf = CniConfigs.bridge(n, ipamDir, !ports.isEmpty());
        ObjectNode rc = NetJson.object();
        if (!ports.isEmpty()) {
            ArrayNode pm = rc.putArray("portMappings");
            for (PortBinding p : ports) {
                ObjectNode m = pm.addObject();
                m.put("hostPort", p.hostPort());
                m.put("containerPort", p.containerPort());
                m.put("protocol", p.protocol());
                if (!p.hostIp().isEmpty() && !p.hostIp().equals("0.0.0.0")) m.put("hostIP", p.hostIp());
            }
        }
        if (a.ipv4Address() != null) rc.putArray("ips").add(a.ipv4Address());
        if (a.macAddress() != null) rc.put("mac", a.macAddress());
        AttachmentRecord.EndpointState pending = new AttachmentRecord.EndpointState(n.id(), n.name(), ifName, a, conf, rc, null, null);
        record = record.plus(pending);
        writeRecord(record);
        JsonNode result;
        try {
            result = cni.add(conf, record.containerId(), record.netns(), ifName, rc);
        } catch (IOException e) {
            try {
                cni.del(conf, record.containerId(), record.netns(), ifName, rc, null);
                record = record.minus(ifName);
                writeRecord(record);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            String msg = e.getMessage();
            if (msg != null && msg.contains("requested IP address") || msg != null && msg.contains("already reserved")) {
                throw new NetworkException(ErrorKind.CONFLICT, "Address already in use: " + msg, e);
            }
            throw new NetworkException(ErrorKind.INTERNAL, "failed to attach container " + record.containerId() + " to network " + n.name() + ": " + msg, e);
        }
        Endpoint ep = endpointOf(n, record, a, ifName, result);
        record = record.plus(new AttachmentRecord.EndpointState(n.id(), n.name(), ifName, a, conf, rc, result, ep));
        writeRecord(record);
        if (usesEmbeddedDns(n)) registerDns(n, record, ep);
        return record;
    }

    /** Takes one endpoint off a live namespace (disconnect): the plugins delete its interface in there. */
    private void removeEndpoint(AttachmentRecord r, AttachmentRecord.EndpointState e) throws IOException {
        boolean pinned = r.netns() != null && NetNamespaces.isPinned(Path.of(r.netns()));
        removeEndpoint(r, e, pinned, pinned);
    }

    /**
     * Runs the endpoint's DEL; {@code inNamespace} gives the plugins the namespace to delete
     * the interface in, else they only release what lives outside it (the address lease, port
     * rules). A namespace that was {@code pinned} no more is a crash's leftover: the rules the
     * plugins find through it are swept by their tags instead.
     */
    private void removeEndpoint(AttachmentRecord r, AttachmentRecord.EndpointState e, boolean pinned, boolean inNamespace) throws IOException {
        synchronized (state) {
            DnsServer s = dnsServers.get(e.networkId());
            if (s != null) s.unregister(dnsKey(r.containerId(), e.ifName()));
        }
        cni.del(e.confList(), r.containerId(), inNamespace ? r.netns() : "", e.ifName(), e.runtimeConfig(), e.result());
        if (!pinned) IptablesSweep.removeTagged(e.confList().get("name").asString(), r.containerId());
    }

    /** Whether a DEL needs the namespace for more than deleting the interface (per-container masquerade rules). */
    private static boolean needsNamespaceForDel(AttachmentRecord.EndpointState e) {
        for (JsonNode plugin : e.confList().path("plugins")) {
            if (plugin.path("ipMasq").asBoolean(false)) return true;
        }
        return false;
    }

    /** The host ends of the endpoint's veth pair, as its ADD result names them (those without a sandbox). */
    private static List<String> hostInterfaces(AttachmentRecord.EndpointState e) {
        List<String> out = new ArrayList<>();
        JsonNode ifaces = e.result() == null ? null : e.result().get("interfaces");
        if (ifaces == null) return out;
        Set<String> bridges = new HashSet<>();
        for (JsonNode plugin : e.confList().path("plugins")) bridges.add(plugin.path("bridge").asString(""));
        for (JsonNode x : ifaces) {
            String name = x.path("name").asString("");
            if (x.path("sandbox").asString("").isEmpty() && name.startsWith("veth") && !bridges.contains(name)) out.add(name);
        }
        return out;
    }

    /**
     * Waits for the host ends of veth pairs to go with their namespace (the kernel deletes the
     * devices of a namespace it frees, asynchronously); deletes those still there after a while
     * (a process of another PID namespace may still hold the network namespace).
     */
    private static void awaitVethsGone(List<String> hostEnds, String cid) {
        long deadline = System.nanoTime() + VETH_GONE_WAIT.toNanos();
        for (String dev : hostEnds) {
            while (HostLinks.exists(dev) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            try {
                HostLinks.deleteLink(dev);
            } catch (IOException e) {
                LOG.warn("cannot delete interface {} of container {}: {}", dev, cid, e.getMessage());
            }
        }
    }

    private void teardown(String cid) {
        teardown(cid, false);
    }

    private void teardown(String cid, boolean namespaceShared) {
        Optional<AttachmentRecord> found = readRecord(cid);
        if (found.isEmpty()) return;
        AttachmentRecord r = found.get();
        boolean pinned = r.netns() != null && NetNamespaces.isPinned(Path.of(r.netns()));
        // Deleting veths one DEL at a time is slow when many containers go at once: each
        // deletion takes the kernel's network lock and waits out a grace period. Unpinned
        // first, the namespace takes its interfaces along when the kernel frees it, in one
        // batch for all the namespaces freed together; the DELs then only release leases.
        boolean unpinFirst = pinned && !namespaceShared && r.endpoints().stream().noneMatch(NetworkService::needsNamespaceForDel);
        List<String> hostEnds = new ArrayList<>();
        if (unpinFirst) {
            for (AttachmentRecord.EndpointState e : r.endpoints()) hostEnds.addAll(hostInterfaces(e));
            removeNamespace(r, cid);
        }
        List<String> failures = new ArrayList<>();
        for (AttachmentRecord.EndpointState e : r.endpoints().reversed()) {
            try {
                removeEndpoint(r, e, pinned, pinned && !unpinFirst);
                r = r.minus(e.ifName());
                writeRecord(r);
            } catch (IOException | RuntimeException ex) {
                failures.add(e.networkName() + ": " + ex.getMessage());
            }
        }
        if (unpinFirst) awaitVethsGone(hostEnds, cid);
        if (!failures.isEmpty()) {
            throw new NetworkException(ErrorKind.INTERNAL, "failed to tear down the network of container " + cid + ": " + String.join("; ", failures));
        }
        if (!unpinFirst) removeNamespace(r, cid);
        synchronized (state) {
            for (PortBinding p : r.ports()) reservedPorts.remove(portKey(p));
        }
        try {
            recordCache.remove(cid);
            Files.deleteIfExists(recordPath(cid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void removeNamespace(AttachmentRecord r, String cid) {
        try {
            if (r.netns() != null) NetNamespaces.remove(Path.of(r.netns()));
        } catch (IOException e) {
            throw new NetworkException(ErrorKind.INTERNAL, "failed to remove the network namespace of container " + cid + ": " + e.getMessage(), e);
        }
    }

    private Endpoint endpointOf(Network n, AttachmentRecord r, Attachment a, String ifName, JsonNode result) {
        String mac = null;
        int ifIndex = -1;
        JsonNode ifaces = result == null ? null : result.get("interfaces");
        if (ifaces != null) {
            for (int i = 0; i < ifaces.size(); i++) {
                JsonNode x = ifaces.get(i);
                if (ifName.equals(x.path("name").asString("")) && !x.path("sandbox").asString("").isEmpty()) {
                    ifIndex = i;
                    mac = x.path("mac").asString(null);
                }
            }
        }
        String ip = null;
        int prefix = 0;
        JsonNode ips = result == null ? null : result.get("ips");
        if (ips != null) {
            for (JsonNode x : ips) {
                String addr = x.path("address").asString("");
                if (addr.contains(":")) continue;
                if (ifIndex >= 0 && x.has("interface") && x.get("interface").asInt() != ifIndex) continue;
                Ipv4.Cidr c = Ipv4.Cidr.parse(addr);
                ip = addr.substring(0, addr.indexOf('/'));
                prefix = c.prefix();
                break;
            }
        }
        if (ip == null) throw new NetworkException(ErrorKind.INTERNAL, "the bridge plugin gave container " + r.containerId() + " no IPv4 address on network " + n.name());
        List<String> names = new ArrayList<>();
        if (usesEmbeddedDns(n)) {
            Set<String> set = new LinkedHashSet<>();
            if (r.containerName() != null && !r.containerName().isEmpty()) set.add(r.containerName());
            set.addAll(a.aliases());
            set.add(r.containerId().substring(0, Math.min(12, r.containerId().length())));
            names.addAll(set);
        }
        return new Endpoint(n.id(), n.name(), newId(), ifName, ip, prefix, n.internal() ? null : n.gateway(), mac, a.aliases(), names);
    }

    private void ensureDns(Network n) throws IOException {
        synchronized (state) {
            if (dnsServers.containsKey(n.id())) return;
            HostLinks.ensureBridge(n.bridgeName(), n.gateway(), n.subnet().prefix());
            DnsServer s = new DnsServer(n.name(), InetAddress.getByName(n.gateway()), options.dnsPort(), options.dnsUpstream());
            s.peers(this::lookupOnOtherNetworks);
            dnsServers.put(n.id(), s);
        }
    }

    private void registerDns(Network n, AttachmentRecord r, Endpoint ep) throws IOException {
        if (!usesEmbeddedDns(n)) return;
        ensureDns(n);
        Map<String, String> links = new HashMap<>();
        for (AttachmentRecord.EndpointState e : r.endpoints()) {
            if (e.networkId().equals(n.id()) && e.request() != null) {
                for (Map.Entry<String, String> l : e.request().links().entrySet()) {
                    String target = l.getValue().startsWith("/") ? l.getValue().substring(1) : l.getValue();
                    links.put(l.getKey().toLowerCase(Locale.ROOT), target);
                }
            }
        }
        List<InetSocketAddress> upstream = new ArrayList<>();
        for (String d : r.dns()) upstream.add(new InetSocketAddress(InetAddress.getByName(d), 53));
        synchronized (state) {
            DnsServer s = dnsServers.get(n.id());
            s.register(dnsKey(r.containerId(), ep.ifName()),
                    new DnsServer.Entry(ep.dnsNames(), InetAddress.getByName(ep.ipAddress()), links, upstream));
        }
    }

    /** A name asked on one network, answered from the asking container's other networks. */
    private List<InetAddress> lookupOnOtherNetworks(DnsServer asker, String containerId, String name) {
        List<DnsServer> servers;
        synchronized (state) {
            servers = new ArrayList<>(dnsServers.values());
        }
        List<InetAddress> found = new ArrayList<>();
        for (DnsServer s : servers) {
            if (s != asker && s.hasContainer(containerId)) found.addAll(s.lookupLocal(name));
        }
        return found;
    }

    private static String dnsKey(String cid, String ifName) {
        return cid + "/" + ifName;
    }

    private List<PortBinding> reservePorts(List<PortBinding> wanted) {
        synchronized (state) {
            List<PortBinding> out = new ArrayList<>();
            try {
                for (PortBinding p : wanted) {
                    int port;
                    if (p.hostPort() == 0) {
                        port = freePort(p.hostIp(), p.protocol());
                    } else if (p.hostPortEnd() > p.hostPort()) {
                        port = -1;
                        for (int c = p.hostPort(); c <= p.hostPortEnd() && port < 0; c++) {
                            PortBinding cand = PortBinding.of(p.hostIp(), c, p.containerPort(), p.protocol());
                            if (!reservedPorts.contains(portKey(cand)) && bindable(p.hostIp(), c, p.protocol())) port = c;
                        }
                        if (port < 0) {
                            throw new NetworkException(ErrorKind.CONFLICT, "Bind for " + hostLabel(p.hostIp()) + ":" + p.hostPort() + "-" + p.hostPortEnd()
                                    + " failed: port is already allocated");
                        }
                    } else {
                        port = p.hostPort();
                        if (reservedPorts.contains(portKey(p)) || !bindable(p.hostIp(), port, p.protocol())) {
                            throw new NetworkException(ErrorKind.CONFLICT, "Bind for " + hostLabel(p.hostIp()) + ":" + port + " failed: port is already allocated");
                        }
                    }
                    PortBinding chosen = PortBinding.of(p.hostIp(), port, p.containerPort(), p.protocol());
                    reservedPorts.add(portKey(chosen));
                    out.add(chosen);
                }
            } catch (RuntimeException e) {
                for (PortBinding p : out) reservedPorts.remove(portKey(p));
                throw e;
            }
            return out;
        }
    }

    private static String hostLabel(String ip) {
        return ip.isEmpty() ? "0.0.0.0" : ip;
    }

    private static String portKey(PortBinding p) {
        return p.protocol() + "/" + p.hostPort();
    }

    private int freePort(String hostIp, String proto) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port;
            try {
                InetAddress addr = hostIp.isEmpty() ? null : InetAddress.getByName(hostIp);
                if (proto.equals("udp")) {
                    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr, 0))) {
                        port = s.getLocalPort();
                    }
                } else {
                    try (ServerSocket s = new ServerSocket(0, 1, addr)) {
                        port = s.getLocalPort();
                    }
                }
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "cannot find a free " + proto + " port on " + hostLabel(hostIp) + ": " + e.getMessage(), e);
            }
            if (!reservedPorts.contains(proto + "/" + port)) return port;
        }
        throw new NetworkException(ErrorKind.CONFLICT, "no free " + proto + " port on " + hostLabel(hostIp));
    }

    private static boolean bindable(String hostIp, int port, String proto) {
        if (hostIp.contains(":")) return true;
        try {
            InetAddress addr = hostIp.isEmpty() ? null : InetAddress.getByName(hostIp);
            if (proto.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr, port))) {
                    return true;
                }
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(addr, port), 1);
                return true;
            }
        } catch (IOException e) {
            return false;
        }
    }

    private AttachResult resultOf(AttachmentRecord r) {
        List<Endpoint> eps = new ArrayList<>();
        for (AttachmentRecord.EndpointState e : r.endpoints()) if (e.endpoint() != null) eps.add(e.endpoint());
        return new AttachResult(r.netns(), r.hostNetwork(), eps, r.ports());
    }

    private ReentrantLock lockOf(String cid) {
        return containerLocks.computeIfAbsent(cid, k -> new ReentrantLock());
    }

    private Path recordPath(String cid) {
        return attachmentsDir.resolve(cid + ".json");
    }

    /**
     * Namespaces, links and rules die with the machine; only the IPAM leases outlive it. So
     * the record is made durable only while an endpoint is being added (its lease may exist
     * before its result is known, and the record is what lets reconcile release it); the
     * other writes survive a daemon crash, which is what they are for.
     */
    private void writeRecord(AttachmentRecord r) {
        boolean pending = r.endpoints().stream().anyMatch(e -> e.result() == null);
        try {
            byte[] json = NetJson.MAPPER.writeValueAsBytes(r);
            if (pending) AtomicFiles.write(recordPath(r.containerId()), json);
            else AtomicFiles.writeForThisBoot(recordPath(r.containerId()), json);
            recordCache.put(r.containerId(), r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the network record of container " + r.containerId(), e);
        }
    }

    private Optional<AttachmentRecord> readRecord(String cid) {
        AttachmentRecord cached = recordCache.get(cid);
        if (cached != null) return Optional.of(cached);
        Path p = recordPath(cid);
        if (!Files.exists(p)) return Optional.empty();
        try {
            AttachmentRecord r = NetJson.MAPPER.readValue(Files.readAllBytes(p), AttachmentRecord.class);
            recordCache.put(cid, r);
            if (!Files.exists(p)) recordCache.remove(cid, r); // deleted while we read it
            return Optional.of(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    private List<AttachmentRecord> loadRecords() {
        List<AttachmentRecord> out = new ArrayList<>();
        if (!Files.isDirectory(attachmentsDir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(attachmentsDir, "*.json")) {
            for (Path f : files) {
                try {
                    out.add(NetJson.MAPPER.readValue(Files.readAllBytes(f), AttachmentRecord.class));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("skipping unreadable network attachment record {}: {}", f, e.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + attachmentsDir, e);
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        try {
            io.berth.sys.FileTrees.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        }
    }

    static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String now() {
        return Instant.now().toString();
    }

    /** The host's resolvers from /etc/resolv.conf (loopback ones included: the daemon runs on the host). */
    public static List<InetSocketAddress> hostResolvers() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String ns : EtcFiles.HostResolv.read().nameservers()) {
            try {
                out.add(new InetSocketAddress(InetAddress.getByName(ns), 53));
            } catch (IOException ignored) {
                // not an address
            }
        }
        return out;
    }
}
