package io.berth.image;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/** No image answers to a name or ID; the message is Docker's {@code No such image: x:latest}. */
public final class ImageNotFoundException extends RuntimeException implements Kinded {
    public ImageNotFoundException(String message) {
        super(message);
    }

    public static ImageNotFoundException of(String name) {
        return new ImageNotFoundException("No such image: " + name);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NOT_FOUND;
    }
}
