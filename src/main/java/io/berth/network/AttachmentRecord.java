package io.berth.network;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What is needed to undo a container's networking after anything, a daemon crash included:
 * the namespace, and for each network the exact CNI configuration list, runtime config and
 * cached result of its ADD. Written before each ADD, so a crash in the middle of one still
 * leaves the DEL to replay. Stored as {@code <data root>/network/attachments/<id>.json}.
 */
record AttachmentRecord(
        String containerId,
        String containerName,
        String netns,
        boolean hostNetwork,
        List<PortBinding> ports,
        List<String> dns,
        List<EndpointState> endpoints) {

    AttachmentRecord {
        ports = ports == null ? List.of() : List.copyOf(ports);
        dns = dns == null ? List.of() : List.copyOf(dns);
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
    }

    /** One network's part: the request, the CNI inputs, and (once ADD finished) result and endpoint. */
    record EndpointState(
            String networkId,
            String networkName,
            String ifName,
            Attachment request,
            ObjectNode confList,
            ObjectNode runtimeConfig,
            JsonNode result,
            Endpoint endpoint) {}

    AttachmentRecord withEndpoints(List<EndpointState> value) {
        return new AttachmentRecord(containerId, containerName, netns, hostNetwork, ports, dns, value);
    }

    AttachmentRecord withPorts(List<PortBinding> value) {
        return new AttachmentRecord(containerId, containerName, netns, hostNetwork, value, dns, endpoints);
    }

    AttachmentRecord plus(EndpointState e) {
        List<EndpointState> all = new ArrayList<>(endpoints);
        all.removeIf(x -> x.ifName().equals(e.ifName()));
        all.add(e);
        return withEndpoints(all);
    }

    AttachmentRecord minus(String ifName) {
        List<EndpointState> all = new ArrayList<>(endpoints);
        all.removeIf(x -> x.ifName().equals(ifName));
        return withEndpoints(all);
    }
}
