package io.berth.network;

import java.util.List;

/**
 * What a container got: the network namespace to give the runtime (null when it shares the
 * host's), its endpoints in attach order, and the published ports with host ports chosen.
 */
public record AttachResult(String netnsPath, boolean hostNetwork, List<Endpoint> endpoints, List<PortBinding> ports) {
    public AttachResult {
        endpoints = List.copyOf(endpoints);
        ports = List.copyOf(ports);
    }

    public Endpoint endpoint(String networkName) {
        for (Endpoint e : endpoints) {
            if (e.networkName().equals(networkName) || e.networkId().equals(networkName)) return e;
        }
        return null;
    }
}
