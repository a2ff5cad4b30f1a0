package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.volume.Volume;
import io.berth.volume.VolumeException;
import io.berth.volume.VolumeStore;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The volume use cases: the store's verbs plus the events dockerd emits for them. */
public final class VolumeService {
    private final VolumeStore store;
    private final EventBus events;

    VolumeService(VolumeStore store, EventBus events) {
        this.store = store;
        this.events = events;
    }

    public VolumeStore store() {
        return store;
    }

    public Volume create(String name, String driver, Map<String, String> labels, Map<String, String> options) throws IOException {
        if (driver != null && !driver.isEmpty() && !driver.equals("local")) {
            throw new VolumeException(ErrorKind.NOT_FOUND, "error looking up volume plugin " + driver + ": plugin \"" + driver + "\" not found");
        }
        boolean existed = name != null && store.find(name).isPresent();
        Volume v = store.create(name, labels, options);
        if (!existed) events.publish("volume", "create", v.name(), Map.of("driver", "local"));
        return v;
    }

    public Volume get(String name) {
        return store.get(name);
    }

    public List<Volume> list() {
        return store.list();
    }

    public boolean inUse(Volume v) {
        return !store.usersOf(v.name()).isEmpty();
    }

    public void remove(String name, boolean force) throws IOException {
        store.remove(name, force);
        events.publish("volume", "destroy", name, Map.of("driver", "local"));
    }

    /** Removes unused volumes that {@code selected} accepts; returns name to bytes freed. */
    public Map<String, Long> prune(Predicate<Volume> selected) throws IOException {
        Map<String, Long> removed = store.prune(selected::test);
        for (String name : removed.keySet()) events.publish("volume", "destroy", name, Map.of("driver", "local"));
        if (!removed.isEmpty()) events.publish("volume", "prune", "", Map.of("reclaimed", Long.toString(removed.values().stream().mapToLong(Long::longValue).sum())));
        return removed;
    }

    public long sizeOf(Volume v) {
        return store.sizeOf(v);
    }
}
