package io.berth.image;

import io.berth.content.Digest;

import java.util.List;

/**
 * Tells the image store which containers use an image, so that {@code docker rmi} refuses
 * to delete it (the container box implements this; until then nothing is in use).
 */
@FunctionalInterface
public interface ImageUsage {
    ImageUsage NONE = id -> List.of();

    /** The containers made from image {@code imageId}. */
    List<User> users(Digest imageId);

    /** A container using an image: its ID and whether it runs (a running one blocks even a forced delete). */
    record User(String containerId, boolean running) {}
}
