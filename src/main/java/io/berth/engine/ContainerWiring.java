package io.berth.engine;

import io.berth.container.ContainerRecord;
import io.berth.container.HostConfig;
import io.berth.network.Attachment;
import io.berth.runtime.ContainerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;

/**
 * What the container use cases call to give a container its networks and mounts (see
 * {@link Wiring}); each step of a container's life has its hook. {@link #NONE} does nothing:
 * a container box without it runs containers without networking or mounts.
 */
public interface ContainerWiring {
    ContainerWiring NONE = new ContainerWiring() {};

    /** Before anything is made for a create: refuses an unknown network (404) or a bad mount (400). */
    default void check(HostConfig host) {}

    /**
     * After the record of a new container was stored: resolves and records its networks and
     * mounts (making the named and anonymous volumes it needs). A throw undoes the create.
     *
     * @param endpoints NetworkingConfig.EndpointsConfig by network name (aliases, --ip, links)
     */
    default void created(ContainerRecord r, Map<String, Attachment> endpoints) throws IOException {}

    /**
     * At start, with the rootfs mounted: mounts held, the network namespace made; joining the
     * networks and writing the /etc files go on in {@link Started#ready()}.
     */
    default Started starting(ContainerRecord r, Path rootfs) throws IOException {
        return new Started(null, List.of(), CompletableFuture.completedFuture(null));
    }

    /** The process ended, or its start failed: undoes the networking, releases the volumes. Never throws. */
    default void stopped(ContainerRecord r) {}

    /** The container is being removed; {@code removeVolumes} also removes its anonymous volumes. Never throws. */
    default void removed(ContainerRecord r, boolean removeVolumes) {}

    /**
     * What a start gets: the network namespace to join (null: a new private one, or what the
     * network mode says), the runtime mounts for volumes, binds and tmpfs, and the rest of the
     * wiring (joining networks, /etc files) running meanwhile: the runtime may create the
     * container, but its process must not start before {@code ready} completes. Whatever
     * happens, {@code ready} is awaited before the wiring is undone.
     */
    record Started(String netnsPath, List<ContainerSpec.Mount> mounts, CompletableFuture<Void> ready) {
        public Started {
            mounts = List.copyOf(mounts);
        }
    }
}
