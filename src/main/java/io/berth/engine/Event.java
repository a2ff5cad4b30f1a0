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

    public long timeSeconds() {
        return Math.floorDiv(timeNano, 1_000_000_000L);
    }
}
