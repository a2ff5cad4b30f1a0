package io.berth.network;

import java.util.List;
import java.util.Map;

/**
 * One network a container joins: the network's name or ID, its aliases on that network,
 * a static IPv4 address (--ip), IPv6 address (--ip6) and MAC address (--mac-address) when asked, and the links
 * (alias to container name) whose aliases the embedded DNS answers for this container.
 * The endpoint's driver options and link-local addresses are kept as asked and shown in
 * inspect, as dockerd keeps them (the bridge driver does nothing with either).
 */
public record Attachment(String network, List<String> aliases, String ipv4Address, String macAddress, Map<String, String> links,
        Map<String, String> driverOpts, List<String> linkLocalIps, String ipv6Address) {
    public Attachment {
        aliases = aliases == null ? List.of() : List.copyOf(aliases);
        links = links == null ? Map.of() : Map.copyOf(links);
        driverOpts = driverOpts == null || driverOpts.isEmpty() ? null : Map.copyOf(driverOpts);
        linkLocalIps = linkLocalIps == null || linkLocalIps.isEmpty() ? null : List.copyOf(linkLocalIps);
        if (ipv4Address != null && ipv4Address.isEmpty()) ipv4Address = null;
        if (macAddress != null && macAddress.isEmpty()) macAddress = null;
        if (ipv6Address != null && ipv6Address.isEmpty()) ipv6Address = null;
    }

    public Attachment(String network, List<String> aliases, String ipv4Address, String macAddress, Map<String, String> links) {
        this(network, aliases, ipv4Address, macAddress, links, null, null, null);
    }

    public static Attachment to(String network) {
        return new Attachment(network, List.of(), null, null, Map.of());
    }

    public Attachment withAliases(String... value) {
        return new Attachment(network, List.of(value), ipv4Address, macAddress, links, driverOpts, linkLocalIps, ipv6Address);
    }

    public Attachment withIp(String value) {
        return new Attachment(network, aliases, value, macAddress, links, driverOpts, linkLocalIps, ipv6Address);
    }

    public Attachment withMac(String value) {
        return new Attachment(network, aliases, ipv4Address, value, links, driverOpts, linkLocalIps, ipv6Address);
    }

    public Attachment withLinks(Map<String, String> value) {
        return new Attachment(network, aliases, ipv4Address, macAddress, value, driverOpts, linkLocalIps, ipv6Address);
    }

    public Attachment withNetwork(String value) {
        return new Attachment(value, aliases, ipv4Address, macAddress, links, driverOpts, linkLocalIps, ipv6Address);
    }

    public Attachment withEndpointExtras(Map<String, String> driverOptions, List<String> linkLocal) {
        return new Attachment(network, aliases, ipv4Address, macAddress, links, driverOptions, linkLocal, ipv6Address);
    }

    public Attachment withIpv6(String value) {
        return new Attachment(network, aliases, ipv4Address, macAddress, links, driverOpts, linkLocalIps, value);
    }
}
