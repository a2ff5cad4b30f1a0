package io.berth.content;

import java.io.IOException;

/** A blob asked for by digest is not in the content store. */
public final class BlobNotFoundException extends IOException {
    private final Digest digest;

    public BlobNotFoundException(Digest digest) {
        super("blob " + digest + " not found in the content store");
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
