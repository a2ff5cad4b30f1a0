package io.berth.network;

import io.berth.errdefs.ErrorKind;
import io.berth.sys.NetNamespaces;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sandboxes and their endpoints: a container's network namespace, pinned at
 * {@code <exec root>/netns/<id>}, and its interfaces on bridge networks, made and removed
 * through the CNI plugins. Every step that changes the host is recorded first (see
 * {@link AttachmentRecords}), so that {@link #reconcile} can undo what a crash left behind.
 */
final class Sandboxes {
    private static final Logger LOG = LoggerFactory.getLogger(Sandboxes.class);
    /** How long a removed namespace's veths may take to go before they are deleted one by one. */
    private static final Duration VETH_GONE_WAIT = Duration.ofSeconds(1);

    private final Path netnsDir;
    private final Path ipamDir;
    private final Cni cni;
    private final AttachmentRecords records;
    private final EmbeddedDns dns;
    private final PortReservations ports;
    private final BridgeHost bridges;
    /** A network by name or ID, or NotFound. */
    private final Function<String, Network> inspect;
    /** A network by full ID, or null. */
    private final Function<String, Network> byId;
    private final Map<String, ReentrantLock> containerLocks = new ConcurrentHashMap<>();

    Sandboxes(Path netnsDir, Path ipamDir, Cni cni, AttachmentRecords records, EmbeddedDns dns, PortReservations ports,
              BridgeHost bridges, Function<String, Network> inspect, Function<String, Network> byId) {
        this.netnsDir = netnsDir;
        this.ipamDir = ipamDir;
        this.cni = cni;
        this.records = records;
        this.dns = dns;
        this.ports = ports;
        this.bridges = bridges;
        this.inspect = inspect;
        this.byId = byId;
    }

    AttachResult attach(AttachRequest req, Consumer<String> namespaceReady) {
        String cid = req.containerId();
        if (cid == null || !cid.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]*")) throw NetworkException.invalid("invalid container ID " + cid);
        ReentrantLock lock = lockOf(cid);
        lock.lock();
        try {
            if (records.exists(cid)) {
                throw new NetworkException(ErrorKind.CONFLICT, "container " + cid + " already has its networking set up: detach it first");
            }
            List<Attachment> attachments = req.networks().isEmpty() ? List.of(Attachment.to("none")) : req.networks();
            List<Network> nets = new ArrayList<>();
            for (Attachment a : attachments) nets.add(inspect.apply(a.network()));
            boolean host = nets.stream().anyMatch(n -> n.driver().equals("host"));
            boolean none = nets.stream().anyMatch(n -> n.driver().equals("null"));
            if ((host || none) && nets.size() > 1) {
                throw new NetworkException(ErrorKind.INVALID_ARGUMENT,
                        "container cannot be connected to multiple networks with one of the networks in " + (host ? "host" : "private (none)") + " mode");
            }
            if (host) {
                AttachmentRecord r = new AttachmentRecord(cid, req.containerName(), null, true, List.of(), req.dns(), List.of());
                records.write(r);
                return resultOf(r);
            }
            Path netns = netnsDir.resolve(cid);
            AttachmentRecord record = new AttachmentRecord(cid, req.containerName(), netns.toString(), false, List.of(), req.dns(), List.of());
            records.write(record);
            try {
                NetNamespaces.remove(netns);
                NetNamespaces.create(netns); // with lo up
                namespaceReady.accept(netns.toString());
                if (!none) {
                    int portsOn = -1;
                    for (int i = 0; i < nets.size(); i++) if (portsOn < 0 && !nets.get(i).internal()) portsOn = i;
                    List<PortBinding> published = List.of();
                    if (portsOn >= 0 && !req.ports().isEmpty()) {
                        published = ports.reserve(req.ports());
                        record = record.withPorts(published);
                        records.write(record);
                    }
                    for (int i = 0; i < nets.size(); i++) {
                        record = addEndpoint(record, nets.get(i), attachments.get(i), "eth" + i, i == portsOn ? published : List.of());
                    }
                }
                return resultOf(record);
            } catch (IOException | RuntimeException e) {
                try {
                    teardown(cid, false);
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

    void detach(String containerId, boolean namespaceShared) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            teardown(containerId, namespaceShared);
        } finally {
            lock.unlock();
            containerLocks.remove(containerId, lock);
        }
    }

    Endpoint connect(String containerId, Attachment attachment) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            AttachmentRecord r = records.read(containerId)
                    .orElseThrow(() -> new NetworkException(ErrorKind.CONFLICT, "container " + containerId + " is not running"));
            Network n = inspect.apply(attachment.network());
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

    void disconnect(String containerId, String network) {
        ReentrantLock lock = lockOf(containerId);
        lock.lock();
        try {
            Network n = inspect.apply(network);
            AttachmentRecord r = records.read(containerId)
                    .orElseThrow(() -> new NetworkException(ErrorKind.CONFLICT, "container " + containerId + " is not connected to network " + n.name()));
            AttachmentRecord.EndpointState found = null;
            for (AttachmentRecord.EndpointState e : r.endpoints()) if (e.networkId().equals(n.id())) found = e;
            if (found == null) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "container " + containerId + " is not connected to network " + n.name());
            }
            try {
                boolean pinned = r.netns() != null && NetNamespaces.isPinned(Path.of(r.netns()));
                removeEndpoint(r, found, pinned, pinned);
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "failed to disconnect container " + containerId + " from network " + n.name() + ": " + e.getMessage(), e);
            }
            r = r.minus(found.ifName());
            records.write(r);
        } finally {
            lock.unlock();
        }
    }

    Optional<AttachResult> attachment(String containerId) {
        return records.read(containerId).map(Sandboxes::resultOf);
    }

    /** The containers on a network with their names, in the order their records are found. */
    List<NetworkService.Member> members(String networkId) {
        List<NetworkService.Member> out = new ArrayList<>();
        for (AttachmentRecord r : records.loadAll()) {
            for (AttachmentRecord.EndpointState e : r.endpoints()) {
                if (e.networkId().equals(networkId) && e.endpoint() != null) out.add(new NetworkService.Member(r.containerId(), r.containerName(), e.endpoint()));
            }
        }
        return out;
    }

    NetworkService.ReconcileReport reconcile(Set<String> liveContainerIds) {
        List<String> cleaned = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<String> removedNs = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (AttachmentRecord r : records.loadAll()) {
            known.add(r.containerId());
            if (liveContainerIds.contains(r.containerId())) {
                try {
                    ports.restore(r.ports());
                    for (AttachmentRecord.EndpointState e : r.endpoints()) {
                        if (e.endpoint() == null) continue;
                        Network n = byId.apply(e.networkId());
                        if (n != null) dns.register(n, r, e.endpoint());
                    }
                } catch (IOException | RuntimeException e) {
                    failures.add(r.containerId() + ": " + e.getMessage());
                }
                continue;
            }
            try {
                detach(r.containerId(), false);
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
        return new NetworkService.ReconcileReport(cleaned, removedNs, failures);
    }

    private void teardown(String cid, boolean namespaceShared) {
        Optional<AttachmentRecord> found = records.read(cid);
        if (found.isEmpty()) return;
        AttachmentRecord r = found.get();
        boolean pinned = r.netns() != null && NetNamespaces.isPinned(Path.of(r.netns()));
        // Deleting veths one DEL at a time is slow when many containers go at once: each
        // deletion takes the kernel's network lock and waits out a grace period. Unpinned
        // first, the namespace takes its interfaces along when the kernel frees it, in one
        // batch for all the namespaces freed together; the DELs then only release leases.
        boolean unpinFirst = pinned && !namespaceShared && r.endpoints().stream().noneMatch(Sandboxes::needsNamespaceForDel);
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
                records.write(r);
            } catch (IOException | RuntimeException ex) {
                failures.add(e.networkName() + ": " + ex.getMessage());
            }
        }
        if (unpinFirst) awaitVethsGone(hostEnds, cid);
        if (!failures.isEmpty()) {
            throw new NetworkException(ErrorKind.INTERNAL, "failed to tear down the network of container " + cid + ": " + String.join("; ", failures));
        }
        if (!unpinFirst) removeNamespace(r, cid);
        ports.release(r.ports());
        records.delete(cid);
    }

    private static void removeNamespace(AttachmentRecord r, String cid) {
        try {
            if (r.netns() != null) NetNamespaces.remove(Path.of(r.netns()));
        } catch (IOException e) {
            throw new NetworkException(ErrorKind.INTERNAL, "failed to remove the network namespace of container " + cid + ": " + e.getMessage(), e);
        }
    }

    private AttachmentRecord addEndpoint(AttachmentRecord record, Network n, Attachment a, String ifName, List<PortBinding> published) throws IOException {
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
        if (a.ipv6Address() != null) {
            if (!Ipv6.isAddress(a.ipv6Address())) throw NetworkException.invalid("invalid IPv6 address: " + a.ipv6Address());
            if (!n.hasIpv6() || !n.subnet6().contains(Ipv6.parse(a.ipv6Address()))) {
                throw NetworkException.invalid("invalid address " + a.ipv6Address() + ": it does not belong to any of network " + n.name() + "'s subnets");
            }
        }
        if (!a.aliases().isEmpty() && n.isDefaultBridge()) {
            throw NetworkException.invalid("network-scoped alias is supported only for containers in user defined networks");
        }
        bridges.ensure(n);
        if (EmbeddedDns.serves(n)) dns.ensure(n);
        ObjectNode conf = CniConfigs.bridge(n, ipamDir, !published.isEmpty());
        ObjectNode rc = NetJson.object();
        if (!published.isEmpty()) {
            ArrayNode pm = rc.putArray("portMappings");
            for (PortBinding p : published) {
                ObjectNode m = pm.addObject();
                m.put("hostPort", p.hostPort());
                m.put("containerPort", p.containerPort());
                m.put("protocol", p.protocol());
                if (!p.hostIp().isEmpty() && !p.hostIp().equals("0.0.0.0")) m.put("hostIP", p.hostIp());
            }
        }
        if (a.ipv4Address() != null || a.ipv6Address() != null) {
            ArrayNode ips = rc.putArray("ips");
            if (a.ipv4Address() != null) ips.add(a.ipv4Address());
            if (a.ipv6Address() != null) ips.add(a.ipv6Address());
        }
        if (a.macAddress() != null) rc.put("mac", a.macAddress());
        AttachmentRecord.EndpointState pending = new AttachmentRecord.EndpointState(n.id(), n.name(), ifName, a, conf, rc, null, null);
        record = record.plus(pending);
        records.write(record);
        JsonNode result;
        try {
            result = cni.add(conf, record.containerId(), record.netns(), ifName, rc);
        } catch (IOException e) {
            try {
                cni.del(conf, record.containerId(), record.netns(), ifName, rc, null);
                record = record.minus(ifName);
                records.write(record);
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
        records.write(record);
        dns.register(n, record, ep);
        return record;
    }

    /**
     * Runs the endpoint's DEL; {@code inNamespace} gives the plugins the namespace to delete
     * the interface in, else they only release what lives outside it (the address lease, port
     * rules). A namespace that was {@code pinned} no more is a crash's leftover: the rules the
     * plugins find through it are swept by their tags instead.
     */
    private void removeEndpoint(AttachmentRecord r, AttachmentRecord.EndpointState e, boolean pinned, boolean inNamespace) throws IOException {
        dns.unregister(e.networkId(), r.containerId(), e.ifName());
        cni.del(e.confList(), r.containerId(), inNamespace ? r.netns() : "", e.ifName(), e.runtimeConfig(), e.result());
        if (!pinned) IptablesSweep.removeTagged(e.confList().get("name").asString(), r.containerId());
    }

    private static Endpoint endpointOf(Network n, AttachmentRecord r, Attachment a, String ifName, JsonNode result) {
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
        String ip6 = null;
        int prefix6 = 0;
        JsonNode ips = result == null ? null : result.get("ips");
        if (ips != null) {
            for (JsonNode x : ips) {
                String addr = x.path("address").asString("");
                if (ifIndex >= 0 && x.has("interface") && x.get("interface").asInt() != ifIndex) continue;
                if (addr.contains(":")) {
                    if (ip6 != null) continue;
                    Ipv6.Cidr c = Ipv6.Cidr.parse(addr);
                    ip6 = Ipv6.format(Ipv6.parse(addr.substring(0, addr.indexOf('/'))));
                    prefix6 = c.prefix();
                } else if (ip == null) {
                    Ipv4.Cidr c = Ipv4.Cidr.parse(addr);
                    ip = addr.substring(0, addr.indexOf('/'));
                    prefix = c.prefix();
                }
            }
        }
        if (ip == null) throw new NetworkException(ErrorKind.INTERNAL, "the bridge plugin gave container " + r.containerId() + " no IPv4 address on network " + n.name());
        List<String> names = new ArrayList<>();
        if (EmbeddedDns.serves(n)) {
            Set<String> set = new LinkedHashSet<>();
            if (r.containerName() != null && !r.containerName().isEmpty()) set.add(r.containerName());
            set.addAll(a.aliases());
            set.add(r.containerId().substring(0, Math.min(12, r.containerId().length())));
            names.addAll(set);
        }
        return new Endpoint(n.id(), n.name(), NetworkService.newId(), ifName, ip, prefix, n.internal() ? null : n.gateway(), mac, a.aliases(), names,
                ip6, prefix6, ip6 == null || n.internal() ? null : n.gateway6());
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
        Set<String> bridgeNames = new HashSet<>();
        for (JsonNode plugin : e.confList().path("plugins")) bridgeNames.add(plugin.path("bridge").asString(""));
        for (JsonNode x : ifaces) {
            String name = x.path("name").asString("");
            if (x.path("sandbox").asString("").isEmpty() && name.startsWith("veth") && !bridgeNames.contains(name)) out.add(name);
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

    private static AttachResult resultOf(AttachmentRecord r) {
        List<Endpoint> eps = new ArrayList<>();
        for (AttachmentRecord.EndpointState e : r.endpoints()) if (e.endpoint() != null) eps.add(e.endpoint());
        return new AttachResult(r.netns(), r.hostNetwork(), eps, r.ports());
    }

    private ReentrantLock lockOf(String cid) {
        return containerLocks.computeIfAbsent(cid, k -> new ReentrantLock());
    }
}
