package io.berth.image;

import java.util.List;
import java.util.Map;

/** A single-platform image manifest: Docker schema 2 or OCI. */
public record ImageManifest(
        int schemaVersion,
        String mediaType,
        String artifactType,
        Descriptor config,
        List<Descriptor> layers,
        Descriptor subject,
        Map<String, String> annotations) {

    public ImageManifest {
        layers = layers == null ? List.of() : List.copyOf(layers);
        annotations = annotations == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(annotations));
    }

    public static ImageManifest of(String mediaType, Descriptor config, List<Descriptor> layers) {
        return new ImageManifest(2, mediaType, null, config, layers, null, null);
    }
}
