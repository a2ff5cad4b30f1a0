package io.berth.build;

import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.Platform;
import java.io.IOException;

/** What a build asks of the engine: pulling base images (progress goes to the build's stream) and tagging. */
public interface BuildHost {
    /** Pulls {@code ref} for {@code platform} and returns the image. */
    ImageStore.Image pull(ImageReference ref, Platform platform) throws IOException;

    /** Points {@code tag} at image {@code id}, with the engine's events. */
    void tag(io.berth.content.Digest id, ImageReference tag) throws IOException;
}
