package io.berth.image;

import io.berth.content.Digest;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/** An OCI content descriptor: what a manifest or index says about a blob it points at. */
public record Descriptor(
        String mediaType,
        Digest digest,
        long size,
        List<String> urls,
        Map<String, String> annotations,
        Platform platform,
        String artifactType) {

    /** The annotation BuildKit puts on attestation manifests in an index. */
    public static final String DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type";

    public Descriptor {
        Objects.requireNonNull(digest, "descriptor without a digest");
        urls = urls == null ? null : List.copyOf(urls);
        annotations = annotations == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(annotations));
    }

    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, null, null, null, null);
    }

    public Descriptor withPlatform(Platform p) {
        return new Descriptor(mediaType, digest, size, urls, annotations, p, artifactType);
    }

    public Descriptor withAnnotations(Map<String, String> a) {
        return new Descriptor(mediaType, digest, size, urls, a, platform, artifactType);
    }

    /** An attestation (provenance, SBOM) that BuildKit lists in an index beside the images. */
    public boolean isAttestation() {
        return annotations != null && "attestation-manifest".equals(annotations.get(DOCKER_REFERENCE_TYPE));
    }
}
