package io.berth.container;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a container's record in any format this daemon has written, so an upgrade keeps every
 * container. Format 1 (before the field existed) held Docker's HostConfig under "hostConfig";
 * it is mapped into {@link ContainerSettings} on load and written back in the current format at
 * the record's next save.
 */
public final class ContainerRecords {
    private ContainerRecords() {}

    public static ContainerRecord read(JsonMapper json, byte[] bytes) {
        JsonNode tree = json.readTree(bytes);
        if (!(tree instanceof ObjectNode o)) throw new IllegalArgumentException("a container record is a JSON object");
        int format = o.path("format").asInt(1);
        if (format > ContainerRecord.FORMAT) {
            throw new IllegalArgumentException("record format " + format + " is newer than this daemon's " + ContainerRecord.FORMAT);
        }
        if (format == 1) {
            HostConfig h = json.treeToValue(o.get("hostConfig"), HostConfig.class);
            // what today's create stored already had the defaults; applying them again fills what an older one left out
            HostConfig filled = h == null ? HostConfig.empty().withDefaults("runc")
                    : h.withDefaults(h.runtime() == null || h.runtime().isEmpty() ? "runc" : h.runtime());
            o.remove("hostConfig");
            o.set("settings", json.valueToTree(DockerHostConfig.toSettings(filled)));
            o.put("format", ContainerRecord.FORMAT);
        }
        return json.treeToValue(o, ContainerRecord.class);
    }
}
