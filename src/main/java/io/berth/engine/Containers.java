package io.berth.engine;

import io.berth.container.ContainerException;
import io.berth.container.ContainerStore;
import io.berth.snapshot.Snapshotter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Wires the container box into the engine. */
final class Containers {
    private Containers() {}

    static ContainerService open(Path dataRoot, Supplier<EngineSettings> settings, EventBus events, ImageSource images) throws IOException {
        ContainerService s = new ContainerService(settings, events, new ContainerStore(dataRoot), images);
        new ContainerLifecycle(s);
        return s;
    }

    /** Until the image store is wired in: no image is found. */
    static ImageSource noImages(Path dataRoot) throws IOException {
        Snapshotter snapshots = new Snapshotter(dataRoot);
        return new ImageSource() {
            @Override
            public Resolved resolve(String name) {
                throw ContainerException.notFound("No such image: " + name);
            }

            @Override
            public Snapshotter snapshots() {
                return snapshots;
            }
        };
    }
}
