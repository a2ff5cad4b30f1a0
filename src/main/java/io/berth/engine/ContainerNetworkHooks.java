package io.berth.engine;

import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.Network;

/**
 * What the network use cases need from the container box: finding containers, knowing which
 * run, which name a network, and recording connects and disconnects in their configuration.
 * The network use cases get it at construction (as a supplier: the container box comes
 * later); while there is none no container exists, so connect and disconnect answer "No
 * such container".
 */
public interface ContainerNetworkHooks {
    /** The full ID of the container with this name, ID or unique ID prefix; null when there is none. */
    String resolveContainerId(String nameOrId);

    /** True when the container is running (its network namespace is set up). */
    boolean isRunning(String containerId);

    /**
     * True when some container, running or not, names the network in its configuration:
     * {@code docker network rm} and prune leave such networks alone, as dockerd does.
     */
    default boolean usesNetwork(String networkId) {
        return false;
    }

    /** True when the container's configuration names the network (it joins it when it runs). */
    default boolean namesNetwork(String containerId, String networkId) {
        return false;
    }

    /**
     * Tells the container box that a container joined a network: for a running container after
     * its namespace joined it ({@code endpoint} is its interface there); for a stopped one only
     * to record it in its configuration ({@code endpoint} null), to be joined at its next start.
     */
    default void connected(String containerId, Network network, Attachment attachment, Endpoint endpoint) {}

    /** Tells the container box that a container left a network (running or not). */
    default void disconnected(String containerId, Network network) {}

    /**
     * The IDs of the containers whose processes still run, or null when unknown (then the
     * recorded networking is not reconciled at start: a container may have outlived the daemon).
     */
    default java.util.Set<String> liveContainers() {
        return null;
    }
}
