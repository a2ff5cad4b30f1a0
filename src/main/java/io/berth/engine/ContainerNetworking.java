package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerSettings;
import io.berth.container.ContainerStatus;
import io.berth.container.HostConfig;
import io.berth.network.AttachRequest;
import io.berth.network.AttachResult;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.EtcFiles;
import io.berth.network.Network;
import io.berth.network.NetworkException;
import io.berth.network.PortBinding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Optional;

/**
 * A container's networking, on the network box: which networks it joins (its network mode,
 * then the endpoints create or connect asked), the namespace set up at start and undone at
 * exit, the published ports, and the /etc/hosts, /etc/resolv.conf and /etc/hostname it sees.
 */
final class ContainerNetworking {
    private final NetworkUseCases networks;
    private final ContainerService containers;

    ContainerNetworking(NetworkUseCases networks, ContainerService containers) {
        this.networks = networks;
        this.containers = containers;
    }

    /**
     * Refuses a network mode naming no container, as dockerd does at create. A network that
     * does not exist is refused at start, as dockerd does too (a 404 at create would make the
     * CLI try to pull the image).
     */
    void check(HostConfig host) {
        String mode = host.network();
        if (mode.startsWith("container:")) {
            String ref = mode.substring("container:".length());
            if (ref.isEmpty()) throw ContainerException.invalid("Invalid network mode: invalid container format container:<name|id>");
            containers.get(ref);
        }
    }

    Network network(String nameOrId) {
        if (nameOrId.equals("default")) nameOrId = "bridge";
        try {
            return networks.inspect(nameOrId);
        } catch (NetworkException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) throw ContainerException.notFound("network " + nameOrId + " not found");
            throw e;
        }
    }

    /**
     * The networks a new container joins at start, in order: its network mode first (with the
     * endpoint settings asked for it), then the other endpoints asked. Network IDs are kept.
     */
    List<Attachment> create(ContainerRecord r, Map<String, Attachment> endpoints) {
        ContainerSettings.Networking h = r.settings().networking();
        String mode = h.mode();
        if (mode.startsWith("container:")) {
            if (!endpoints.isEmpty() || !h.portBindings().isEmpty()) {
                if (!endpoints.isEmpty()) throw ContainerException.invalid("conflicting options: container type network can't be used with other networks");
            }
            return List.of();
        }
        Network primary;
        try {
            primary = network(mode);
        } catch (ContainerException e) {
            // dockerd creates the container and refuses its start ("network X not found"): the
            // CLI takes a 404 at create for a missing image and would try to pull it
            if (e.kind() != ErrorKind.NOT_FOUND || !endpoints.isEmpty()) throw e;
            return List.of(Attachment.to(mode));
        }
        List<Attachment> out = new ArrayList<>();
        Attachment asked = null;
        Map<String, Attachment> rest = new LinkedHashMap<>();
        for (Map.Entry<String, Attachment> e : endpoints.entrySet()) {
            Network n = network(e.getKey());
            if (n.id().equals(primary.id())) asked = e.getValue();
            else rest.put(n.id(), e.getValue());
        }
        if (!primary.isBridge() && !rest.isEmpty()) {
            throw ContainerException.invalid("Container cannot be connected to network endpoints: " + mode + ", " + String.join(", ", endpoints.keySet()));
        }
        Map<String, String> links = new LinkedHashMap<>();
        if (asked != null) links.putAll(asked.links());
        if (!primary.isDefaultBridge() && primary.isBridge()) {
            for (String l : h.links()) {
                String[] p = parseLink(l);
                links.putIfAbsent(p[1], p[0]);
            }
        }
        if (primary.isDefaultBridge()) {
            for (String l : h.links()) {
                String target = parseLink(l)[0];
                if (containers.store().find(target).isEmpty()) {
                    throw ContainerException.notFound("could not get container for " + target + ": No such container: " + target);
                }
            }
        }
        out.add(attachment(primary, asked, links));
        for (Map.Entry<String, Attachment> e : rest.entrySet()) out.add(attachment(network(e.getKey()), e.getValue(), e.getValue().links()));
        return out;
    }

    private static Attachment attachment(Network n, Attachment asked, Map<String, String> links) {
        List<String> aliases = asked == null ? List.of() : asked.aliases();
        String ip = asked == null ? null : asked.ipv4Address();
        if (n.isDefaultBridge() || !n.isBridge()) {
            if (!aliases.isEmpty()) throw ContainerException.invalid("network-scoped alias is supported only for containers in user defined networks");
            if (ip != null) throw ContainerException.invalid("user specified IP address is supported on user defined networks only");
        }
        Attachment a = new Attachment(n.id(), aliases, ip, asked == null ? null : asked.macAddress(), n.isDefaultBridge() ? Map.of() : links);
        if (asked != null && asked.ipv6Address() != null && (n.isDefaultBridge() || !n.isBridge())) {
            throw ContainerException.invalid("user specified IP address is supported on user defined networks only");
        }
        return asked == null ? a : a.withEndpointExtras(asked.driverOpts(), asked.linkLocalIps()).withIpv6(asked.ipv6Address());
    }

    /** {@code name:alias} or {@code name} (alias = name); leading slashes and a /self/ part dropped. */
    static String[] parseLink(String link) {
        String[] p = link.split(":", 2);
        String name = strip(p[0]);
        String alias = p.length > 1 ? strip(p[1]) : name;
        int slash = alias.lastIndexOf('/');
        if (slash >= 0) alias = alias.substring(slash + 1);
        return new String[] {name, alias};
    }

    private static String strip(String s) {
        return s.startsWith("/") ? s.substring(1) : s;
    }

    // ================================================================ start and stop

    /** A start's networking: the namespace for the runtime, and the rest going on meanwhile. */
    record Starting(String netnsPath, CompletableFuture<Void> ready) {}

    /**
     * Joins the container's namespace to its networks (or records host networking), publishes
     * its ports and writes its /etc files. Returns once the namespace exists (its path for the
     * runtime; null for host networking and {@code container:} mode): joining the networks and
     * writing the files go on in {@code ready}, so the runtime's create runs beside the CNI
     * plugins. The /etc files exist (empty) on return, for the runtime's bind mounts, and are
     * written in place. A failure undoes what was done and fails {@code ready} (or throws).
     */
    Starting start(ContainerRecord r, List<Attachment> nets) throws IOException {
        ContainerSettings.Networking h = r.settings().networking();
        String mode = h.mode();
        if (mode.startsWith("container:")) {
            Container other = containers.get(mode.substring("container:".length()));
            if (!other.record().state().status().hasProcess()) {
                throw ContainerException.conflict("cannot join network namespace of a non running container: container " + other.id() + " is not running");
            }
            copy(containers.hostsPath(other.id()), containers.hostsPath(r.id()));
            copy(containers.resolvConfPath(other.id()), containers.resolvConfPath(r.id()));
            write(containers.hostnamePath(r.id()), EtcFiles.hostname(other.record().config().hostname()));
            return new Starting(null, CompletableFuture.completedFuture(null));
        }
        String id = r.id();
        networks.service().detach(id); // a leftover of a run the daemon did not see end
        List<EtcFiles.Link> links = bridgeLinks(r, nets);
        for (Path p : List.of(containers.hostnamePath(id), containers.hostsPath(id), containers.resolvConfPath(id))) {
            if (!Files.exists(p)) write(p, "");
        }
        AttachRequest request = new AttachRequest(id, r.plainName(), nets, ports(r), h.dns());
        CompletableFuture<String> namespace = new CompletableFuture<>();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread.ofVirtual().name("wire " + id.substring(0, 12)).start(() -> {
            try {
                AttachResult result;
                try {
                    result = networks.service().attach(request, namespace::complete);
                } catch (NetworkException e) {
                    throw switch (e.kind()) {
                        case NOT_FOUND -> ContainerException.notFound(e.getMessage());
                        case INVALID_ARGUMENT -> ContainerException.invalid(e.getMessage());
                        default -> e;
                    };
                }
                try {
                    writeEtcFiles(r, result, links);
                } catch (IOException | RuntimeException e) {
                    detachQuietly(id, e);
                    throw e;
                }
                for (Endpoint ep : result.endpoints()) publish(ep.networkId(), "connect", id);
                if (result.hostNetwork()) nets.forEach(a -> publish(a.network(), "connect", id));
                namespace.complete(result.hostNetwork() ? null : result.netnsPath());
                ready.complete(null);
            } catch (Throwable e) {
                namespace.completeExceptionally(e);
                ready.completeExceptionally(e);
            }
        });
        return new Starting(Futures.await(namespace), ready);
    }

    /** Undoes the container's networking; logs what it cannot undo. */
    void stop(String containerId) {
        Optional<AttachResult> was = networks.service().attachment(containerId);
        try {
            networks.service().detach(containerId, namespaceJoinedByOthers(containerId));
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(ContainerNetworking.class).warn("cannot undo the networking of container {}: {}", containerId, e.getMessage());
            return;
        }
        was.ifPresent(a -> a.endpoints().forEach(ep -> publish(ep.networkId(), "disconnect", containerId)));
    }

    /** Whether a running container lives in this one's network namespace (--network container:). */
    private boolean namespaceJoinedByOthers(String containerId) {
        for (Container c : containers.store().list()) {
            String mode = c.record().settings().networking().mode();
            if (c.id().equals(containerId) || mode == null || !mode.startsWith("container:") || !c.record().state().status().hasProcess()) continue;
            String ref = mode.substring("container:".length());
            try {
                if (ref.equals(containerId) || containers.store().find(ref).map(Container::id).filter(containerId::equals).isPresent()) return true;
            } catch (RuntimeException ambiguous) {
                // not this one's
            }
        }
        return false;
    }

    private void detachQuietly(String id, Exception cause) {
        try {
            networks.service().detach(id);
        } catch (RuntimeException cleanup) {
            cause.addSuppressed(cleanup);
        }
    }

    private void publish(String networkId, String action, String containerId) {
        Network n;
        try {
            n = networks.inspect(networkId);
        } catch (RuntimeException e) {
            return;
        }
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("container", containerId);
        attrs.put("name", n.name());
        attrs.put("type", n.driver());
        containers.events().publish("network", action, n.id(), attrs);
    }

    /** The ports to publish: -p bindings, and with -P every exposed port without one on a random host port. */
    static List<PortBinding> ports(ContainerRecord r) {
        ContainerSettings.Networking h = r.settings().networking();
        List<PortBinding> out = new ArrayList<>();
        Map<String, List<ContainerSettings.PortBinding>> bindings = h.portBindings();
        for (Map.Entry<String, List<ContainerSettings.PortBinding>> e : bindings.entrySet()) {
            int[] port = portKey(e.getKey());
            String proto = protocol(e.getKey());
            List<ContainerSettings.PortBinding> list = e.getValue() == null || e.getValue().isEmpty()
                    ? List.of(new ContainerSettings.PortBinding("", "")) : e.getValue();
            for (ContainerSettings.PortBinding b : list) {
                String hp = b.hostPort() == null ? "" : b.hostPort().trim();
                int lo = 0;
                int hi = 0;
                if (!hp.isEmpty()) {
                    int[] range = range(hp);
                    lo = range[0];
                    hi = range[1];
                }
                for (int p = port[0]; p <= port[1]; p++) {
                    try {
                        out.add(new PortBinding(b.hostIp() == null ? "" : b.hostIp(), lo, hi, p, proto));
                    } catch (NetworkException ex) {
                        throw ContainerException.invalid(ex.getMessage());
                    }
                }
            }
        }
        if (h.publishAllPorts() && r.config().exposedPorts() != null) {
            for (String key : r.config().exposedPorts().keySet()) {
                if (bindings.containsKey(key) || bindings.containsKey(key + "/tcp")) continue;
                int[] port = portKey(key);
                for (int p = port[0]; p <= port[1]; p++) out.add(new PortBinding("", 0, 0, p, protocol(key)));
            }
        }
        return out;
    }

    /** -p as dockerd checks it at create: container ports and host ports are numbers or ranges in 0-65535. */
    static void checkPorts(HostConfig h) {
        if (h.portBindings() == null) return;
        for (Map.Entry<String, List<HostConfig.PortBinding>> e : h.portBindings().entrySet()) {
            portKey(e.getKey());
            if (e.getValue() == null) continue;
            for (HostConfig.PortBinding b : e.getValue()) {
                String hp = b == null || b.hostPort() == null ? "" : b.hostPort().trim();
                if (!hp.isEmpty()) range(hp);
            }
        }
    }

    static int[] portKey(String key) {
        String p = key.contains("/") ? key.substring(0, key.indexOf('/')) : key;
        return range(p);
    }

    static String protocol(String key) {
        return key.contains("/") ? key.substring(key.indexOf('/') + 1) : "tcp";
    }

    private static int[] range(String text) {
        try {
            int dash = text.indexOf('-');
            int lo = Integer.parseInt(dash < 0 ? text : text.substring(0, dash));
            int hi = dash < 0 ? lo : Integer.parseInt(text.substring(dash + 1));
            if (lo < 0 || hi > 65535 || hi < lo) throw new NumberFormatException();
            return new int[] {lo, hi};
        } catch (NumberFormatException e) {
            throw ContainerException.invalid("invalid port specification: \"" + text + "\"");
        }
    }

    /** The --link entries on the default bridge, as /etc/hosts lines; a link to a stopped container refuses the start. */
    private List<EtcFiles.Link> bridgeLinks(ContainerRecord r, List<Attachment> nets) {
        List<EtcFiles.Link> out = new ArrayList<>();
        if (r.settings().networking().links().isEmpty() || nets.isEmpty()) return out;
        Network first = network(nets.getFirst().network());
        if (!first.isDefaultBridge()) return out;
        for (String l : r.settings().networking().links()) {
            String[] p = parseLink(l);
            Container target = containers.store().find(p[0])
                    .orElseThrow(() -> ContainerException.notFound("could not get container for " + p[0] + ": No such container: " + p[0]));
            ContainerRecord t = target.record();
            String ip = networks.service().attachment(t.id()).map(a -> a.endpoint(first.id())).map(Endpoint::ipAddress).orElse(null);
            if (!t.state().status().hasProcess() || ip == null) {
                throw ContainerException.conflict("Cannot link to a non running container: " + t.name() + " AS " + r.name() + "/" + p[1]);
            }
            out.add(new EtcFiles.Link(ip, p[1], t.plainName(), t.config().hostname()));
        }
        return out;
    }

    private void writeEtcFiles(ContainerRecord r, AttachResult result, List<EtcFiles.Link> links) throws IOException {
        ContainerSettings.Networking h = r.settings().networking();
        String id = r.id();
        write(containers.hostnamePath(id), EtcFiles.hostname(r.config().hostname()));
        List<EtcFiles.ExtraHost> extra = new ArrayList<>();
        for (String e : h.extraHosts()) {
            try {
                extra.add(EtcFiles.ExtraHost.parse(e));
            } catch (NetworkException ex) {
                throw ContainerException.invalid(ex.getMessage());
            }
        }
        String hosts;
        String resolv;
        if (result.hostNetwork()) {
            StringBuilder b = new StringBuilder(readOr(Path.of("/etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
            if (!b.isEmpty() && b.charAt(b.length() - 1) != '\n') b.append('\n');
            for (EtcFiles.ExtraHost x : extra) {
                String ip = x.ip().equals("host-gateway") ? hostGateway() : x.ip();
                b.append(ip).append('\t').append(x.host()).append('\n');
            }
            hosts = b.toString();
            boolean custom = notEmpty(h.dns()) || notEmpty(h.dnsSearch()) || notEmpty(h.dnsOptions());
            resolv = custom ? networks.service().resolvConf(id, nz(h.dns()), nz(h.dnsSearch()), nz(h.dnsOptions()))
                    : readOr(Path.of("/etc/resolv.conf"), "");
        } else {
            try {
                hosts = networks.service().hostsFile(id, r.config().hostname(), r.config().domainname(), extra, links);
            } catch (NetworkException e) {
                throw ContainerException.invalid(e.getMessage());
            }
            resolv = networks.service().resolvConf(id, nz(h.dns()), nz(h.dnsSearch()), nz(h.dnsOptions()));
        }
        write(containers.hostsPath(id), hosts);
        write(containers.resolvConfPath(id), resolv);
    }

    /**
     * Writes a running container's /etc/resolv.conf again after a network connect or
     * disconnect: joining a user network switches it to that network's embedded DNS, leaving
     * the last one switches it back. Its /etc/hosts gets the lines of its new addresses and
     * loses those of the network it left, as dockerd's. The files are the daemon's own (in the
     * container's directory, bound into the container), so they are rewritten in place, not
     * renamed over.
     */
    void networksChanged(ContainerRecord r) throws IOException {
        ContainerSettings.Networking h = r.settings().networking();
        if (h.mode().startsWith("container:")) return; // its files are a copy of the other container's
        if (networks.service().attachment(r.id()).map(AttachResult::hostNetwork).orElse(true)) return;
        write(containers.resolvConfPath(r.id()), networks.service().resolvConf(r.id(), nz(h.dns()), nz(h.dnsSearch()), nz(h.dnsOptions())));
        Path hostsPath = containers.hostsPath(r.id());
        if (Files.exists(hostsPath)) {
            String current = Files.readString(hostsPath);
            String updated = networks.service().hostsAfterNetworksChanged(r.id(), current, r.config().hostname(), r.config().domainname());
            if (!updated.equals(current)) write(hostsPath, updated);
        }
    }

    private String hostGateway() {
        String gw = network("bridge").gateway();
        if (gw == null) throw ContainerException.invalid("unable to derive the IP value for host-gateway");
        return gw;
    }

    private static boolean notEmpty(List<String> l) {
        return l != null && !l.isEmpty();
    }

    private static List<String> nz(List<String> l) {
        return l == null ? List.of() : l;
    }

    private static String readOr(Path p, String fallback) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return fallback;
        }
    }

    /**
     * The /etc files are made again at each start, so a machine crash loses nothing of them.
     * Written in place, not renamed over: the runtime may already have bind-mounted them.
     */
    private static void write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        Files.write(p, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void copy(Path from, Path to) throws IOException {
        write(to, readOr(from, ""));
    }

    // ================================================================ queries

    Wiring.NetworkView view(ContainerRecord r, List<Attachment> asked) {
        boolean running = r.state().status().hasProcess() || r.state().status() == ContainerStatus.PAUSED;
        Optional<AttachResult> live = running ? networks.service().attachment(r.id()) : Optional.empty();
        List<Wiring.EndpointView> eps = new ArrayList<>();
        for (Attachment a : asked) {
            Network n = networks.service().find(a.network()).orElse(null);
            if (n == null) continue;
            Endpoint ep = live.map(x -> x.endpoint(n.id())).orElse(null);
            eps.add(new Wiring.EndpointView(n, a, ep));
        }
        return new Wiring.NetworkView(live.map(AttachResult::netnsPath).orElse(null), eps, live.map(AttachResult::ports).orElse(List.of()), running);
    }
}
