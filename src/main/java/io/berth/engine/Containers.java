package io.berth.engine;

import io.berth.container.ContainerException;
import io.berth.container.ContainerStore;
import io.berth.image.ImageConfig;
import io.berth.image.ImageNotFoundException;
import io.berth.image.ImageStore;
import io.berth.image.ImageUsage;
import io.berth.image.InvalidReferenceException;
import io.berth.snapshot.Snapshotter;
import io.berth.runtime.RuntimeProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Wires the container box into the engine. */
final class Containers {
    private Containers() {}

    /**
     * The container box on the data root, with the networks and mounts {@code wiring} gives,
     * running containers through conmon and the OCI runtimes of the settings. Nothing runs yet:
     * the engine calls {@code lifecycle().start()} once the rest is built.
     */
    static ContainerService open(Path dataRoot, Supplier<EngineSettings> settings, EventBus events, ImageSource images,
                                 java.util.function.Function<ContainerService, ContainerWiring> wiring) throws IOException {
        return open(dataRoot, events, settings, images, wiring, ContainerLifecycle.conmonRuntimes(settings),
                ContainerHost.real(images::snapshots));
    }

    /** As above, on the given runtimes and host side (tests pass fakes). */
    static ContainerService open(Path dataRoot, EventBus events, Supplier<EngineSettings> settings, ImageSource images,
                                 java.util.function.Function<ContainerService, ContainerWiring> wiring, RuntimeProvider runtimes,
                                 ContainerHost host) throws IOException {
        ContainerStore store = new ContainerStore(dataRoot, (action, id, attributes) -> events.publish(Event.typeOfContainer(attributes), action, id, attributes));
        return new ContainerService(settings, events, store, images, wiring, runtimes, host);
    }

    /** Which containers use an image (ImageStore asks before a delete or prune); {@code containers} is read at each ask. */
    static ImageUsage imageUsage(Supplier<ContainerService> containers) {
        return id -> {
            ContainerService s = containers.get();
            if (s == null) return java.util.List.of();
            return s.store().list().stream()
                    .filter(c -> c.record().image().equals(id.toString()))
                    .map(c -> new ImageUsage.User(c.id(), c.record().state().running()))
                    .toList();
        };
    }

    /** What the network use cases ask of containers: lookup, running, which network a container names. */
    static ContainerNetworkHooks networkHooks(ContainerService s) {
        return new ContainerNetworkHooks() {
            @Override
            public String resolveContainerId(String nameOrId) {
                try {
                    return s.store().find(nameOrId).map(io.berth.container.Container::id).orElse(null);
                } catch (ContainerException e) {
                    return null;
                }
            }

            @Override
            public boolean isRunning(String containerId) {
                return s.store().find(containerId).map(c -> c.record().state().running()).orElse(false);
            }
        };
    }

    static ImageSource imageSource(ImageStore store) {
        return new StoreSource(store);
    }

    private record StoreSource(ImageStore store) implements ImageSource {
        @Override
        public Resolved resolve(String name) {
            ImageStore.Image image;
            try {
                image = store.resolve(name);
            } catch (ImageNotFoundException e) {
                throw ContainerException.notFound(e.getMessage());
            } catch (InvalidReferenceException e) {
                throw ContainerException.invalid(e.getMessage());
            }
            ImageConfig.ContainerConfig config = image.config().config();
            if (config == null) config = ImageConfig.ContainerConfig.empty();
            var top = image.record().topChainId();
            return new Resolved(image.id().toString(), config, top == null ? null : ImageStore.snapshotKey(top),
                    image.config().platform().toString());
        }

        @Override
        public Snapshotter snapshots() {
            return store.snapshots();
        }
    }
}
