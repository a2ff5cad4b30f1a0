package io.berth.network;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The embedded DNS of user bridge networks: one server a network, at its gateway, answering
 * the names of the containers on it (and, for a container on several, those of its other
 * networks).
 */
final class EmbeddedDns implements AutoCloseable {
    private final int port;
    private final Supplier<List<InetSocketAddress>> upstream;
    private final Map<String, DnsServer> servers = new HashMap<>();

    EmbeddedDns(int port, Supplier<List<InetSocketAddress>> upstream) {
        this.port = port;
        this.upstream = upstream;
    }

    /** Whether containers on the network get the embedded DNS (user bridge networks do; the default bridge does not). */
    static boolean serves(Network n) {
        return n.isBridge() && !n.isDefaultBridge();
    }

    /** Starts the network's server at its gateway (bringing the bridge up to listen there); idempotent. */
    synchronized void ensure(Network n) throws IOException {
        if (servers.containsKey(n.id())) return;
        HostLinks.ensureBridge(n.bridgeName(), n.gateway(), n.subnet().prefix());
        DnsServer s = new DnsServer(n.name(), InetAddress.getByName(n.gateway()), port, upstream);
        s.peers(this::lookupOnOtherNetworks);
        servers.put(n.id(), s);
    }

    /** Registers the names of a container's endpoint on the network, with its links there and its --dns servers. */
    void register(Network n, AttachmentRecord r, Endpoint ep) throws IOException {
        if (!serves(n)) return;
        ensure(n);
        Map<String, String> links = new HashMap<>();
        for (AttachmentRecord.EndpointState e : r.endpoints()) {
            if (e.networkId().equals(n.id()) && e.request() != null) {
                for (Map.Entry<String, String> l : e.request().links().entrySet()) {
                    String target = l.getValue().startsWith("/") ? l.getValue().substring(1) : l.getValue();
                    links.put(l.getKey().toLowerCase(Locale.ROOT), target);
                }
            }
        }
        List<InetSocketAddress> containerUpstream = new ArrayList<>();
        for (String d : r.dns()) containerUpstream.add(new InetSocketAddress(InetAddress.getByName(d), 53));
        List<InetAddress> addresses = new ArrayList<>();
        addresses.add(InetAddress.ofLiteral(ep.ipAddress()));
        if (ep.ipv6Address() != null) addresses.add(InetAddress.ofLiteral(ep.ipv6Address()));
        DnsServer.Entry entry = new DnsServer.Entry(ep.dnsNames(), addresses, links, containerUpstream);
        synchronized (this) {
            servers.get(n.id()).register(key(r.containerId(), ep.ifName()), entry);
        }
    }

    synchronized void unregister(String networkId, String cid, String ifName) {
        DnsServer s = servers.get(networkId);
        if (s != null) s.unregister(key(cid, ifName));
    }

    /** Stops the network's server (the network goes). */
    synchronized void remove(String networkId) {
        DnsServer s = servers.remove(networkId);
        if (s != null) s.close();
    }

    synchronized Optional<InetSocketAddress> address(String networkId) {
        DnsServer s = servers.get(networkId);
        return s == null ? Optional.empty() : Optional.of(s.address());
    }

    /** A name asked on one network, answered from the asking container's other networks. */
    private List<InetAddress> lookupOnOtherNetworks(DnsServer asker, String containerId, String name) {
        List<DnsServer> all;
        synchronized (this) {
            all = new ArrayList<>(servers.values());
        }
        List<InetAddress> found = new ArrayList<>();
        for (DnsServer s : all) {
            if (s != asker && s.hasContainer(containerId)) found.addAll(s.lookupLocal(name));
        }
        return found;
    }

    private static String key(String cid, String ifName) {
        return cid + "/" + ifName;
    }

    @Override
    public synchronized void close() {
        for (DnsServer s : servers.values()) s.close();
        servers.clear();
    }
}
