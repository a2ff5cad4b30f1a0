package io.berth.content;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/** A blob asked for by digest is not in the content store. */
public final class BlobNotFoundException extends IOException implements Kinded {
    private final Digest digest;

    public BlobNotFoundException(Digest digest) {
        super("blob " + digest + " not found in the content store");
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NOT_FOUND;
    }
}
