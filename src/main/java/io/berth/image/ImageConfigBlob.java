package io.berth.image;

import io.berth.content.Digest;
import tools.jackson.core.JacksonException;

/**
 * A config blob's exact bytes beside their parsed form. The image ID is the sha256 of
 * {@link #bytes()}, byte for byte as stored and pulled; the parsed form is for reading.
 */
public record ImageConfigBlob(byte[] bytes, ImageConfig config) {
    public ImageConfigBlob {
        bytes = bytes.clone();
    }

    public static ImageConfigBlob parse(byte[] bytes) {
        try {
            ImageConfig config = ImageJson.MAPPER.readValue(bytes, ImageConfig.class);
            if (config == null) throw new InvalidManifestException("invalid image config: the JSON is null");
            return new ImageConfigBlob(bytes, config);
        } catch (JacksonException e) {
            throw new InvalidManifestException("invalid image config: " + e.getOriginalMessage(), e);
        }
    }

    /** Serialises a config Berth made (a build, a commit); the bytes are what the ID names from then on. */
    public static ImageConfigBlob of(ImageConfig config) {
        return new ImageConfigBlob(ImageJson.toBytes(config), config);
    }

    /** The image ID: {@code sha256:} of the exact config bytes. */
    public Digest id() {
        return Digest.sha256(bytes);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageConfigBlob other && java.util.Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "ImageConfigBlob[" + id() + ", " + bytes.length + " bytes]";
    }
}
