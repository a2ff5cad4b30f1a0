package io.berth.network;

import java.util.List;
import java.util.Map;

/**
 * One network a container joins: the network's name or ID, its aliases on that network,
 * a static IPv4 address (--ip) and MAC address (--mac-address) when asked, and the links
 * (alias to container name) whose aliases the embedded DNS answers for this container.
 */
public record Attachment(String network, List<String> aliases, String ipv4Address, String macAddress, Map<String, String> links) {
    public Attachment {
        aliases = aliases == null ? List.of() : List.copyOf(aliases);
        links = links == null ? Map.of() : Map.copyOf(links);
        if (ipv4Address != null && ipv4Address.isEmpty()) ipv4Address = null;
        if (macAddress != null && macAddress.isEmpty()) macAddress = null;
    }

    public static Attachment to(String network) {
        return new Attachment(network, List.of(), null, null, Map.of());
    }

    public Attachment withAliases(String... value) {
        return new Attachment(network, List.of(value), ipv4Address, macAddress, links);
    }

    public Attachment withIp(String value) {
        return new Attachment(network, aliases, value, macAddress, links);
    }

    public Attachment withMac(String value) {
        return new Attachment(network, aliases, ipv4Address, value, links);
    }

    public Attachment withLinks(Map<String, String> value) {
        return new Attachment(network, aliases, ipv4Address, macAddress, value);
    }
}
