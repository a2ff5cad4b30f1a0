package io.berth.image;

import io.berth.content.Digest;

import java.util.Arrays;
import java.util.List;

/**
 * A manifest or index as fetched: its exact bytes (what its digest names, and what a
 * push sends), its media type, and the parsed form.
 */
public sealed interface ParsedManifest {
    String mediaType();

    byte[] bytes();

    /** The digest of the exact bytes: what {@code name@digest} pulls. */
    default Digest digest() {
        return Digest.sha256(bytes());
    }

    /** The descriptor a parent index or a tag would hold for this manifest. */
    default Descriptor descriptor() {
        return Descriptor.of(mediaType(), digest(), bytes().length);
    }

    /** The blobs this one points at: config and layers, or the index's manifests. */
    List<Descriptor> children();

    record Image(String mediaType, byte[] bytes, ImageManifest manifest) implements ParsedManifest {
        public Image {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public List<Descriptor> children() {
            var out = new java.util.ArrayList<Descriptor>();
            out.add(manifest.config());
            out.addAll(manifest.layers());
            return List.copyOf(out);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Image other && mediaType.equals(other.mediaType) && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Image[" + mediaType + ", " + digest() + "]";
        }
    }

    record Index(String mediaType, byte[] bytes, ManifestIndex index) implements ParsedManifest {
        public Index {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public List<Descriptor> children() {
            return index.manifests();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Index other && mediaType.equals(other.mediaType) && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Index[" + mediaType + ", " + digest() + "]";
        }
    }
}
