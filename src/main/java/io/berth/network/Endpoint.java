package io.berth.network;

import java.util.List;

/**
 * A container's interface on one network, as {@code NetworkSettings.Networks.<name>} shows
 * it: the endpoint ID, the interface in the namespace, address and prefix length, gateway
 * (null on an internal network), MAC address, the names the embedded DNS answers, and on an
 * IPv6 network the IPv6 address, its prefix length and gateway (else null and 0).
 */
public record Endpoint(
        String networkId,
        String networkName,
        String endpointId,
        String ifName,
        String ipAddress,
        int prefixLen,
        String gateway,
        String macAddress,
        List<String> aliases,
        List<String> dnsNames,
        String ipv6Address,
        int ipv6PrefixLen,
        String ipv6Gateway) {
    public Endpoint {
        aliases = aliases == null ? List.of() : List.copyOf(aliases);
        dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
    }

    public Endpoint(String networkId, String networkName, String endpointId, String ifName, String ipAddress, int prefixLen, String gateway,
            String macAddress, List<String> aliases, List<String> dnsNames) {
        this(networkId, networkName, endpointId, ifName, ipAddress, prefixLen, gateway, macAddress, aliases, dnsNames, null, 0, null);
    }
}
