package io.berth.image;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/** A manifest, index or config that Berth cannot read; the message says what and why. */
public class InvalidManifestException extends RuntimeException implements Kinded {
    public InvalidManifestException(String message) {
        super(message);
    }

    public InvalidManifestException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }
}
