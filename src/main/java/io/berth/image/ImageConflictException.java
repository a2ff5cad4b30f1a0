package io.berth.image;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/** An image operation refused because of the image's state (in use, several references); HTTP 409. */
public final class ImageConflictException extends RuntimeException implements Kinded {
    public ImageConflictException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.CONFLICT;
    }
}
