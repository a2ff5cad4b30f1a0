package io.berth.network;

import java.util.List;

/**
 * Everything {@link NetworkService#attach} needs for one container: its ID and name, the
 * networks to join in order (the first one gets eth0 and the published ports), the ports
 * to publish, and the container's --dns servers (which the embedded DNS forwards to).
 */
public record AttachRequest(String containerId, String containerName, List<Attachment> networks, List<PortBinding> ports, List<String> dns) {
    public AttachRequest {
        networks = networks == null ? List.of() : List.copyOf(networks);
        ports = ports == null ? List.of() : List.copyOf(ports);
        dns = dns == null ? List.of() : List.copyOf(dns);
        if (containerName != null && containerName.startsWith("/")) containerName = containerName.substring(1);
    }

    public static AttachRequest of(String containerId, String containerName, Attachment... networks) {
        return new AttachRequest(containerId, containerName, List.of(networks), List.of(), List.of());
    }

    public AttachRequest withPorts(List<PortBinding> value) {
        return new AttachRequest(containerId, containerName, networks, value, dns);
    }
}
