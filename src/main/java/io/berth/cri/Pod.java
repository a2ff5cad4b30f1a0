package io.berth.cri;

import java.util.List;
import java.util.Map;

/**
 * A pod as berthd keeps it: who kubelet says it is, the namespaces it holds, and what its
 * containers share. Berth's own record (not the CRI's messages, not Docker's JSON); the
 * CRI layer maps its messages into it once, at RunPodSandbox.
 *
 * @param createdAt nanoseconds since the epoch, as the CRI reports times
 * @param netns the pinned network namespace (a bind-mounted nsfs file), null on the host's network
 * @param ip the pod's address on the pod network, empty on the host's network
 */
public record Pod(
        String id,
        Identity identity,
        State state,
        long createdAt,
        Map<String, String> labels,
        Map<String, String> annotations,
        String hostname,
        String logDirectory,
        Dns dns,
        List<Port> ports,
        String cgroupParent,
        Namespaces namespaces,
        Map<String, String> sysctls,
        String runtimeHandler,
        String netns,
        String ip) {

    public Pod {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        ports = ports == null ? List.of() : List.copyOf(ports);
        sysctls = sysctls == null ? Map.of() : Map.copyOf(sysctls);
        if (dns == null) dns = new Dns(List.of(), List.of(), List.of());
        if (namespaces == null) namespaces = new Namespaces(Mode.POD, Mode.POD, Mode.POD);
    }

    /** kubelet's name for the pod; (name, uid, namespace, attempt) is unique on a node. */
    public record Identity(String name, String uid, String namespace, int attempt) {
        /** The key that must be unique among pods. */
        public String key() {
            return namespace + "/" + name + "/" + uid + "/" + attempt;
        }
    }

    public enum State { READY, NOT_READY }

    /** Whose namespace a pod or container uses, as kubelet asks for it. */
    public enum Mode { POD, CONTAINER, NODE, TARGET }

    public record Namespaces(Mode network, Mode pid, Mode ipc) {}

    public record Dns(List<String> servers, List<String> searches, List<String> options) {
        public Dns {
            servers = servers == null ? List.of() : List.copyOf(servers);
            searches = searches == null ? List.of() : List.copyOf(searches);
            options = options == null ? List.of() : List.copyOf(options);
        }
    }

    /** A port of the pod published on the host (portmap). */
    public record Port(String protocol, int containerPort, int hostPort, String hostIp) {}

    public boolean hostNetwork() {
        return namespaces.network() == Mode.NODE;
    }

    public Pod withState(State s) {
        return new Pod(id, identity, s, createdAt, labels, annotations, hostname, logDirectory, dns, ports, cgroupParent, namespaces,
                sysctls, runtimeHandler, netns, ip);
    }

    public Pod withNetwork(String netnsPath, String address) {
        return new Pod(id, identity, state, createdAt, labels, annotations, hostname, logDirectory, dns, ports, cgroupParent, namespaces,
                sysctls, runtimeHandler, netnsPath, address);
    }
}
