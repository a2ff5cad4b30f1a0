package io.berth.image;

/** No image answers to a name or ID; the message is Docker's {@code No such image: x:latest}. */
public final class ImageNotFoundException extends RuntimeException {
    public ImageNotFoundException(String message) {
        super(message);
    }

    public static ImageNotFoundException of(String name) {
        return new ImageNotFoundException("No such image: " + name);
    }
}
