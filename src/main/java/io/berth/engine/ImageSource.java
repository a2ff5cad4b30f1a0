package io.berth.engine;

import io.berth.image.ImageConfig;
import io.berth.snapshot.Snapshotter;

/** What containers need of the image store: an image by name, its config and top layer, and the snapshotter. */
public interface ImageSource {
    /**
     * An image as a container sees it.
     *
     * @param id             "sha256:..."
     * @param config         the image's container defaults (never null)
     * @param topSnapshotKey the snapshot key of its top layer, or null for an image without layers
     */
    record Resolved(String id, ImageConfig.ContainerConfig config, String topSnapshotKey, String platform) {}

    /** The image {@code name} names; {@code ContainerException} NOT_FOUND "No such image: name" otherwise. */
    Resolved resolve(String name);

    /** The snapshotter the image layers live in (a container's writable layer is prepared there). */
    Snapshotter snapshots();
}
