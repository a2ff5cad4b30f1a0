package io.berth.container;

/**
 * A container operation refused, with Docker's message and what kind of refusal it is; the
 * API turns the kind into the status code dockerd uses.
 */
public final class ContainerException extends RuntimeException {
    public enum Kind {
        /** 404: no such container, image, exec instance. */
        NOT_FOUND,
        /** 409: the container's state or a name forbids it. */
        CONFLICT,
        /** 400: a bad parameter. */
        INVALID,
        /** 304: nothing to do (start of a running container, stop of a stopped one). */
        NOT_MODIFIED
    }

    private final Kind kind;

    public ContainerException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ContainerException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static ContainerException notFound(String message) {
        return new ContainerException(Kind.NOT_FOUND, message);
    }

    public static ContainerException conflict(String message) {
        return new ContainerException(Kind.CONFLICT, message);
    }

    public static ContainerException invalid(String message) {
        return new ContainerException(Kind.INVALID, message);
    }

    public static ContainerException notModified(String message) {
        return new ContainerException(Kind.NOT_MODIFIED, message);
    }

    public static ContainerException noSuchContainer(String ref) {
        return notFound("No such container: " + ref);
    }
}
