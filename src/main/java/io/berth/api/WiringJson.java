package io.berth.api;

import io.berth.container.ContainerRecord;
import io.berth.engine.MountPoint;
import io.berth.engine.Wiring;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.PortBinding;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Docker's JSON for a container's networks and mounts: NetworkingConfig read at create,
 * NetworkSettings and Mounts in inspect and in the list entries.
 */
final class WiringJson {
    private WiringJson() {}

    /** NetworkingConfig.EndpointsConfig of a create: network name to the endpoint asked (aliases, --ip, --link, MAC). */
    static Map<String, Attachment> endpoints(JsonNode root) {
        Map<String, Attachment> out = new LinkedHashMap<>();
        JsonNode eps = root.path("NetworkingConfig").path("EndpointsConfig");
        // no early return without EndpointsConfig: the top-level MacAddress below still applies
        for (Map.Entry<String, JsonNode> e : eps.isObject() ? eps.properties() : java.util.Set.<Map.Entry<String, JsonNode>>of()) {
            JsonNode ep = e.getValue();
            List<String> aliases = new ArrayList<>();
            for (JsonNode a : ep.path("Aliases")) aliases.add(a.asString());
            Map<String, String> links = new LinkedHashMap<>();
            for (JsonNode l : ep.path("Links")) {
                String[] p = l.asString().split(":", 2);
                String name = p[0].startsWith("/") ? p[0].substring(1) : p[0];
                String alias = p.length > 1 ? p[1] : name;
                if (alias.contains("/")) alias = alias.substring(alias.lastIndexOf('/') + 1);
                links.put(alias, name);
            }
            String ip = ep.path("IPAMConfig").path("IPv4Address").asString("");
            String mac = ep.path("MacAddress").asString("");
            String ip6 = ep.path("IPAMConfig").path("IPv6Address").asString("");
            out.put(e.getKey(), new Attachment(e.getKey(), aliases, ip, mac, links).withEndpointExtras(driverOpts(ep), linkLocalIps(ep)).withIpv6(ip6));
        }
        JsonNode mac = root.path("MacAddress");
        if (mac.isString() && !mac.asString().isEmpty() && out.isEmpty()) {
            String mode = root.path("HostConfig").path("NetworkMode").asString("");
            String net = mode.isEmpty() || mode.equals("default") ? "bridge" : mode;
            out.put(net, new Attachment(net, List.of(), null, mac.asString(), Map.of()));
        }
        return out;
    }

    /** EndpointSettings.DriverOpts: kept as given. */
    static Map<String, String> driverOpts(JsonNode ep) {
        JsonNode n = ep.path("DriverOpts");
        if (!n.isObject()) return null;
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) out.put(e.getKey(), e.getValue().asString());
        return out;
    }

    /** EndpointSettings.IPAMConfig.LinkLocalIPs: kept as given. */
    static List<String> linkLocalIps(JsonNode ep) {
        List<String> out = new ArrayList<>();
        for (JsonNode ip : ep.path("IPAMConfig").path("LinkLocalIPs")) out.add(ip.asString());
        return out;
    }

    /** Replaces the NetworkSettings and Mounts of an inspect answer with the container's real ones. */
    static void inspect(Wiring wiring, ContainerRecord r, Map<String, Object> m) {
        Wiring.NetworkView v = wiring.networkView(r);
        Map<String, Object> ns = new LinkedHashMap<>();
        ns.put("Bridge", "");
        ns.put("SandboxID", v.sandboxKey() == null ? "" : r.id());
        ns.put("SandboxKey", v.sandboxKey() == null ? "" : v.sandboxKey());
        ns.put("Ports", v.running() ? ports(r, v.published()) : Map.of());
        ns.put("HairpinMode", false);
        ns.put("LinkLocalIPv6Address", "");
        ns.put("LinkLocalIPv6PrefixLen", 0);
        ns.put("SecondaryIPAddresses", null);
        ns.put("SecondaryIPv6Addresses", null);
        Endpoint bridge = null;
        for (Wiring.EndpointView e : v.endpoints()) {
            if (e.network().isDefaultBridge() && e.live() != null) bridge = e.live();
        }
        ns.put("EndpointID", bridge == null ? "" : bridge.endpointId());
        ns.put("Gateway", bridge == null || bridge.gateway() == null ? "" : bridge.gateway());
        ns.put("GlobalIPv6Address", bridge == null || bridge.ipv6Address() == null ? "" : bridge.ipv6Address());
        ns.put("GlobalIPv6PrefixLen", bridge == null ? 0 : bridge.ipv6PrefixLen());
        ns.put("IPAddress", bridge == null ? "" : bridge.ipAddress());
        ns.put("IPPrefixLen", bridge == null ? 0 : bridge.prefixLen());
        ns.put("IPv6Gateway", bridge == null || bridge.ipv6Gateway() == null ? "" : bridge.ipv6Gateway());
        ns.put("MacAddress", bridge == null || bridge.macAddress() == null ? "" : bridge.macAddress());
        ns.put("Networks", networks(v));
        m.put("NetworkSettings", ns);
        m.put("Mounts", mounts(wiring.mounts(r.id())));
    }

    /** Replaces Ports, NetworkSettings and Mounts of a list entry. */
    static void listEntry(Wiring wiring, ContainerRecord r, Map<String, Object> m) {
        Wiring.NetworkView v = wiring.networkView(r);
        List<Map<String, Object>> ports = new ArrayList<>();
        java.util.Set<String> published = new java.util.HashSet<>();
        if (v.running()) {
            for (PortBinding p : v.published()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("IP", p.hostIp().isEmpty() ? "0.0.0.0" : p.hostIp());
                e.put("PrivatePort", p.containerPort());
                e.put("PublicPort", p.hostPort());
                e.put("Type", p.protocol());
                ports.add(e);
                published.add(p.containerPort() + "/" + p.protocol());
            }
        }
        if (r.config().exposedPorts() != null) {
            for (String key : r.config().exposedPorts().keySet()) {
                String k = key.contains("/") ? key : key + "/tcp";
                if (published.contains(k)) continue;
                Map<String, Object> e = new LinkedHashMap<>();
                try {
                    e.put("PrivatePort", Integer.parseInt(k.substring(0, k.indexOf('/'))));
                } catch (NumberFormatException ex) {
                    continue;
                }
                e.put("Type", k.substring(k.indexOf('/') + 1));
                ports.add(e);
            }
        }
        m.put("Ports", ports);
        m.put("NetworkSettings", Map.of("Networks", networks(v)));
        m.put("Mounts", mounts(wiring.mounts(r.id())));
    }

    /** NetworkSettings.Ports: every exposed or published port, with its host bindings or null. */
    static Map<String, Object> ports(ContainerRecord r, List<PortBinding> published) {
        Map<String, Object> out = new java.util.TreeMap<>();
        if (r.config().exposedPorts() != null) {
            for (String key : r.config().exposedPorts().keySet()) out.put(key.contains("/") ? key : key + "/tcp", null);
        }
        for (PortBinding p : published) {
            String key = p.containerPort() + "/" + p.protocol();
            @SuppressWarnings("unchecked")
            List<Map<String, String>> list = (List<Map<String, String>>) out.get(key);
            if (list == null) {
                list = new ArrayList<>();
                out.put(key, list);
            }
            Map<String, String> b = new LinkedHashMap<>();
            b.put("HostIp", p.hostIp().isEmpty() ? "0.0.0.0" : p.hostIp());
            b.put("HostPort", Integer.toString(p.hostPort()));
            list.add(b);
        }
        return out;
    }

    static Map<String, Object> networks(Wiring.NetworkView v) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Wiring.EndpointView e : v.endpoints()) {
            Attachment a = e.asked();
            Endpoint live = e.live();
            Map<String, Object> n = new LinkedHashMap<>();
            Map<String, Object> ipam = new LinkedHashMap<>();
            if (a.ipv4Address() != null) ipam.put("IPv4Address", a.ipv4Address());
            if (a.ipv6Address() != null) ipam.put("IPv6Address", a.ipv6Address());
            if (a.linkLocalIps() != null) ipam.put("LinkLocalIPs", a.linkLocalIps());
            n.put("IPAMConfig", ipam.isEmpty() ? null : ipam);
            List<String> links = new ArrayList<>();
            a.links().forEach((alias, name) -> links.add(name + ":" + alias));
            n.put("Links", links.isEmpty() ? null : links);
            n.put("Aliases", a.aliases().isEmpty() ? null : a.aliases());
            n.put("MacAddress", live != null && live.macAddress() != null ? live.macAddress() : a.macAddress() == null ? "" : a.macAddress());
            n.put("DriverOpts", a.driverOpts() == null ? null : new java.util.TreeMap<>(a.driverOpts()));
            n.put("GwPriority", 0);
            n.put("NetworkID", e.network().id());
            n.put("EndpointID", live == null ? "" : live.endpointId());
            n.put("Gateway", live == null || live.gateway() == null ? "" : live.gateway());
            n.put("IPAddress", live == null ? "" : live.ipAddress());
            n.put("IPPrefixLen", live == null ? 0 : live.prefixLen());
            n.put("IPv6Gateway", live == null || live.ipv6Gateway() == null ? "" : live.ipv6Gateway());
            n.put("GlobalIPv6Address", live == null || live.ipv6Address() == null ? "" : live.ipv6Address());
            n.put("GlobalIPv6PrefixLen", live == null ? 0 : live.ipv6PrefixLen());
            n.put("DNSNames", live == null || live.dnsNames().isEmpty() ? null : live.dnsNames());
            out.put(e.network().name(), n);
        }
        return out;
    }

    static List<Map<String, Object>> mounts(List<MountPoint> mounts) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (MountPoint mp : mounts) {
            if (!mp.listed()) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Type", mp.type());
            if (mp.isVolume()) m.put("Name", mp.name());
            m.put("Source", mp.source() == null ? "" : mp.source());
            m.put("Destination", mp.destination());
            if (mp.isVolume()) m.put("Driver", "local");
            m.put("Mode", mp.mode());
            m.put("RW", mp.rw());
            m.put("Propagation", mp.propagation());
            out.add(m);
        }
        return out;
    }
}
