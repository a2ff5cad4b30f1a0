package io.berth.image;

import java.util.Map;
import java.util.Optional;

/**
 * What a layer's media type says: how it is compressed, and whether it is "foreign"
 * (Docker) / "non-distributable" (OCI): such a layer may live outside the registry (its
 * descriptor's {@code urls}) and is never pushed to another registry.
 */
public record LayerMediaType(String mediaType, Compression compression, boolean foreign, boolean oci) {
    public enum Compression { NONE, GZIP, ZSTD }

    private static final Map<String, LayerMediaType> KNOWN = Map.ofEntries(
            entry(MediaTypes.DOCKER_LAYER, Compression.NONE, false, false),
            entry(MediaTypes.DOCKER_LAYER_GZIP, Compression.GZIP, false, false),
            entry(MediaTypes.DOCKER_LAYER_ZSTD, Compression.ZSTD, false, false),
            entry(MediaTypes.DOCKER_FOREIGN_LAYER, Compression.NONE, true, false),
            entry(MediaTypes.DOCKER_FOREIGN_LAYER_GZIP, Compression.GZIP, true, false),
            entry(MediaTypes.OCI_LAYER, Compression.NONE, false, true),
            entry(MediaTypes.OCI_LAYER_GZIP, Compression.GZIP, false, true),
            entry(MediaTypes.OCI_LAYER_ZSTD, Compression.ZSTD, false, true),
            entry(MediaTypes.OCI_NONDISTRIBUTABLE_LAYER, Compression.NONE, true, true),
            entry(MediaTypes.OCI_NONDISTRIBUTABLE_LAYER_GZIP, Compression.GZIP, true, true),
            entry(MediaTypes.OCI_NONDISTRIBUTABLE_LAYER_ZSTD, Compression.ZSTD, true, true));

    private static Map.Entry<String, LayerMediaType> entry(String mt, Compression c, boolean foreign, boolean oci) {
        return Map.entry(mt, new LayerMediaType(mt, c, foreign, oci));
    }

    /** Empty when the media type is not a layer type Berth knows. */
    public static Optional<LayerMediaType> of(String mediaType) {
        return Optional.ofNullable(mediaType == null ? null : KNOWN.get(mediaType));
    }

    /** The media type for a layer of this compression, in the Docker or OCI family. */
    public static String forCompression(Compression compression, boolean oci) {
        return switch (compression) {
            case NONE -> oci ? MediaTypes.OCI_LAYER : MediaTypes.DOCKER_LAYER;
            case GZIP -> oci ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.DOCKER_LAYER_GZIP;
            case ZSTD -> oci ? MediaTypes.OCI_LAYER_ZSTD : MediaTypes.DOCKER_LAYER_ZSTD;
        };
    }
}
