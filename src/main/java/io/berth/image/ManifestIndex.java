package io.berth.image;

import java.util.List;
import java.util.Map;

/** A multi-platform index: a Docker manifest list or an OCI image index. */
public record ManifestIndex(
        int schemaVersion,
        String mediaType,
        String artifactType,
        List<Descriptor> manifests,
        Descriptor subject,
        Map<String, String> annotations) {

    public ManifestIndex {
        manifests = manifests == null ? List.of() : List.copyOf(manifests);
        annotations = annotations == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(annotations));
    }

    public static ManifestIndex of(String mediaType, List<Descriptor> manifests) {
        return new ManifestIndex(2, mediaType, null, manifests, null, null);
    }
}
