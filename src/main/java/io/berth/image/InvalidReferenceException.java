package io.berth.image;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/** An image reference that does not follow Docker's grammar; the message is Docker's wording. */
public final class InvalidReferenceException extends IllegalArgumentException implements Kinded {
    public InvalidReferenceException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
