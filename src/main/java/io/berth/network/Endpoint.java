package io.berth.network;

import java.util.List;

/**
 * A container's interface on one network, as {@code NetworkSettings.Networks.<name>} shows
 * it: the endpoint ID, the interface in the namespace, address and prefix length, gateway
 * (null on an internal network), MAC address, and the names the embedded DNS answers.
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
        List<String> dnsNames) {
    public Endpoint {
        aliases = aliases == null ? List.of() : List.copyOf(aliases);
        dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
    }
}
