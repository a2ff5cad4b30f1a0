package io.berth.image;

/** An image operation refused because of the image's state (in use, several references); HTTP 409. */
public final class ImageConflictException extends RuntimeException {
    public ImageConflictException(String message) {
        super(message);
    }
}
