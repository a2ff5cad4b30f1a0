package io.berth.container;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a container's verbs announce what happened (the engine's event bus). The container
 * box knows nothing of the bus; the engine hands it this sink when it opens the store.
 */
@FunctionalInterface
public interface ContainerEvents {
    /** An event of type "container" about {@code containerId}. */
    void publish(String action, String containerId, Map<String, String> attributes);

    /** For stores opened without an engine (tests, tools). */
    ContainerEvents NONE = (action, id, attributes) -> { };

    /** The attribute naming the pod of a pod's container: its events are the CRI's, not the Docker API's. */
    String POD = "io.berth.cri.pod";

    /** Docker's attributes of a container event: its labels, image and name, then what the action adds (signal, exitCode). */
    static Map<String, String> attributes(ContainerRecord r, Map<String, String> extra) {
        Map<String, String> attrs = new LinkedHashMap<>();
        if (r.settings() != null && r.settings().inPod()) attrs.put(POD, r.settings().pod().podId());
        if (r.config() != null && r.config().labels() != null) attrs.putAll(r.config().labels());
        attrs.put("image", r.imageName());
        attrs.put("name", r.plainName());
        attrs.putAll(extra);
        return attrs;
    }
}
