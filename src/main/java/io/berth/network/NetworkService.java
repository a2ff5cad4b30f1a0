package io.berth.network;

import io.berth.errdefs.ErrorKind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network box's use cases: networks (create, list, inspect, remove, prune) and the
 * networking of containers (attach, detach, connect, disconnect, reconcile), plus the
 * /etc/hosts and /etc/resolv.conf a container gets and the embedded DNS of user networks.
 *
 * <p>This class holds the networks themselves and hands the rest to one class per concern:
 * {@link IpamPools} (a network's subnets), {@link Sandboxes} (containers' namespaces and
 * endpoints), {@link PortReservations} (published host ports), {@link EmbeddedDns} and
 * {@link BridgeHost} (a bridge's device and rules).
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

    private final Options options;
    private final NetworkStore store;
    private final Path ipamDir;
    private final Path netnsDir;
    private final IpamPools ipam;
    private final BridgeHost bridges;
    private final EmbeddedDns dns;
    private final AttachmentRecords records;
    private final Sandboxes sandboxes;
    private final Object state = new Object();
    private final Map<String, Network> networks = new LinkedHashMap<>();

    public NetworkService(Options options) {
        this.options = options;
        this.store = new NetworkStore(options.dataRoot());
        this.ipamDir = options.dataRoot().resolve("network").resolve("ipam");
        this.netnsDir = options.execRoot().resolve("netns");
        this.ipam = new IpamPools(options.addressPools());
        this.bridges = new BridgeHost(options.defaultBridge());
        this.dns = new EmbeddedDns(options.dnsPort(), options.dnsUpstream());
        this.records = new AttachmentRecords(options.dataRoot().resolve("network").resolve("attachments"));
        this.sandboxes = new Sandboxes(netnsDir, ipamDir, new Cni(options.cniPluginDirs()), records, dns, new PortReservations(),
                bridges, this::inspect, this::byId);
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
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put(Network.BRIDGE_NAME_OPTION, b.name());
        opts.put(Network.DEFAULT_BRIDGE_OPTION, "true");
        opts.put("com.docker.network.bridge.enable_icc", "true");
        opts.put("com.docker.network.bridge.enable_ip_masquerade", Boolean.toString(b.ipMasq()));
        opts.put("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
        opts.put("com.docker.network.driver.mtu", "1500");
        return new Network("bridge", newId(), now(), "local", "bridge", false,
                new Network.Ipam("default", Map.of(), List.of(IpamPools.defaultBridge(b))),
                false, false, opts, Map.of());
    }

    private void save(Network n) {
        store.save(n);
        networks.put(n.id(), n);
    }

    private Network byName(String name) {
        synchronized (state) {
            for (Network n : networks.values()) if (n.name().equals(name)) return n;
            return null;
        }
    }

    private Network byId(String id) {
        synchronized (state) {
            return networks.get(id);
        }
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
            List<Network.IpamConfig> pools = ipam.forNetwork(spec.pools(), spec.enableIPv6(), networks.values());
            Map<String, String> opts = new LinkedHashMap<>(spec.options());
            Network n = new Network(name, newId(), now(), "local", driver, spec.enableIPv6(),
                    new Network.Ipam("default", spec.ipamOptions(), pools), spec.internal(), spec.attachable(), opts, spec.labels());
            save(n);
            return n;
        }
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
        for (Member m : sandboxes.members(networkId)) out.put(m.containerId(), m.endpoint());
        return out;
    }

    /** A container on a network: its ID and name, and its endpoint there. */
    public record Member(String containerId, String containerName, Endpoint endpoint) {}

    /** The containers on a network with their names, in the order their records are found. */
    public List<Member> members(String networkId) {
        return sandboxes.members(networkId);
    }

    /**
     * Brings the host side of a user bridge network up before any container joins: the bridge
     * device with the gateway address, and the embedded DNS listening there, as dockerd makes
     * the bridge at create. The daemon calls it after create and for every user network at
     * start; other networks (the default bridge, host, none) are left alone. Idempotent.
     */
    public void activate(String nameOrId) {
        Network n = inspect(nameOrId);
        if (!EmbeddedDns.serves(n) || n.subnet() == null) return;
        try {
            bridges.ensure(n);
            dns.ensure(n);
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
            dns.remove(n.id());
            try {
                bridges.remove(n);
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
        bridges.remove(n);
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
    public AttachResult attach(AttachRequest req, Consumer<String> namespaceReady) {
        return sandboxes.attach(req, namespaceReady);
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
        sandboxes.detach(containerId, namespaceShared);
    }

    /** Joins a running container's namespace to one more network, on the next free ethN. */
    public Endpoint connect(String containerId, Attachment attachment) {
        return sandboxes.connect(containerId, attachment);
    }

    /** Takes a running container off one network. */
    public void disconnect(String containerId, String network) {
        sandboxes.disconnect(containerId, network);
    }

    /** A container's networking as recorded, if it has any. */
    public Optional<AttachResult> attachment(String containerId) {
        return sandboxes.attachment(containerId);
    }

    /**
     * At daemon start: undoes the networking of every recorded container that is not in
     * {@code liveContainerIds} (DEL replayed from the records, namespace removed), restores
     * the DNS names and port reservations of the live ones, and removes namespaces that no
     * record names.
     */
    public ReconcileReport reconcile(Set<String> liveContainerIds) {
        return sandboxes.reconcile(liveContainerIds);
    }

    /**
     * The container's /etc/hosts: its address on its first network, the --add-host entries
     * ({@code host-gateway} is the default bridge's gateway), and the links (default bridge).
     */
    public String hostsFile(String containerId, String hostname, String domainname, List<EtcFiles.ExtraHost> extraHosts, List<EtcFiles.Link> links) {
        Network bridge = byName("bridge");
        String hostGateway = bridge == null ? null : bridge.gateway();
        return EtcFiles.hosts(ownAddresses(containerId), hostname, domainname, extraHosts, links, hostGateway);
    }

    /** A live container's /etc/hosts {@code current} with its own lines brought up to date with its networks (see EtcFiles#withOwnAddresses). */
    public String hostsAfterNetworksChanged(String containerId, String current, String hostname, String domainname) {
        return EtcFiles.withOwnAddresses(current, ownAddresses(containerId), hostname, domainname);
    }

    /** The container's addresses, network by network: each one's IPv4, then its IPv6 if it has one. */
    private List<String> ownAddresses(String containerId) {
        List<String> out = new ArrayList<>();
        for (Endpoint ep : attachment(containerId).map(AttachResult::endpoints).orElse(List.of())) {
            if (ep.ipAddress() != null) out.add(ep.ipAddress());
            if (ep.ipv6Address() != null) out.add(ep.ipv6Address());
        }
        return out;
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
            Network n = byId(ep.networkId());
            if (n != null && EmbeddedDns.serves(n) && n.gateway() != null) {
                embedded = n.gateway();
                break;
            }
        }
        return EtcFiles.resolvConf(EtcFiles.HostResolv.read(), embedded, dns, dnsSearch, dnsOptions);
    }

    /** Stops the DNS servers. Namespaces, interfaces and rules stay: containers outlive the daemon. */
    @Override
    public void close() {
        dns.close();
    }

    /** The address the embedded DNS of a network listens on, when it runs. */
    public Optional<InetSocketAddress> dnsAddress(String network) {
        return dns.address(inspect(network).id());
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
