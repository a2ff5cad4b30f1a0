package io.berth.image;

import io.berth.content.ContentGc;
import io.berth.content.ContentStore;
import io.berth.content.Digest;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Tells {@link ContentGc} what a stored blob points at: a manifest its config and layers,
 * an index its manifests; anything else (layers, configs) nothing. Only blobs that start
 * with {@code {} and are at most 4 MiB are parsed.
 */
public final class ManifestReferences implements ContentGc.References {
    private static final long MAX_MANIFEST = 4L << 20;
    private final ContentStore store;

    public ManifestReferences(ContentStore store) {
        this.store = store;
    }

    @Override
    public List<Digest> children(Digest blob) throws IOException {
        if (store.size(blob) > MAX_MANIFEST) return List.of();
        try (InputStream in = store.open(blob)) {
            int first;
            do {
                first = in.read();
            } while (first == ' ' || first == '\n' || first == '\r' || first == '\t');
            if (first != '{') return List.of();
        }
        byte[] bytes = store.readAll(blob);
        try {
            return ManifestParser.parse(bytes, null).children().stream().map(Descriptor::digest).toList();
        } catch (InvalidManifestException e) {
            return List.of(); // a config or another JSON blob: a leaf
        }
    }
}
