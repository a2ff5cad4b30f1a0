package io.berth.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a blob's bytes for upload, from the start; may be called again when a request is retried. */
@FunctionalInterface
public interface BlobSource {
    InputStream open() throws IOException;

    static BlobSource ofFile(Path file) {
        return () -> Files.newInputStream(file);
    }

    static BlobSource ofBytes(byte[] bytes) {
        return () -> new java.io.ByteArrayInputStream(bytes);
    }
}
