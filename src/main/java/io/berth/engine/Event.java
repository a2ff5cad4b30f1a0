package io.berth.engine;

import java.util.Map;

/**
 * Something that happened to an object of the engine: a container started, an image was
 * pulled, the daemon reloaded its configuration.
 *
 * @param type     container, image, volume, network, daemon, ...
 * @param action   start, die, pull, reload, ...
 * @param actorId  the object's ID (the daemon's ID for daemon events)
 * @param attributes name, image, labels and whatever else describes the actor
 * @param timeNano nanoseconds since the epoch
 */
public record Event(String type, String action, String actorId, Map<String, String> attributes, String scope, long timeNano) {
    public Event {
        attributes = Map.copyOf(attributes);
    }

    /** The type of the events of a pod's containers: the CRI's stream tells them, the Docker API's does not. */
    public static final String POD_CONTAINER = "pod-container";

    /** "container", or {@link #POD_CONTAINER} for a container of a pod (its attributes name the pod). */
    public static String typeOfContainer(Map<String, String> attributes) {
        return attributes.containsKey(io.berth.container.ContainerEvents.POD) ? POD_CONTAINER : "container";
    }

    /** Whether the Docker API tells of it: not of pods' containers, as dockerd does not see containerd's k8s.io namespace. */
    public boolean forDockerApi() {
        return !type.equals(POD_CONTAINER);
    }

    public long timeSeconds() {
        return Math.floorDiv(timeNano, 1_000_000_000L);
    }
}
