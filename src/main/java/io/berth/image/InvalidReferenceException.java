package io.berth.image;

/** An image reference that does not follow Docker's grammar; the message is Docker's wording. */
public final class InvalidReferenceException extends IllegalArgumentException {
    public InvalidReferenceException(String message) {
        super(message);
    }
}
