package io.berth.container;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;

/**
 * A container operation refused, with Docker's message and what kind of refusal it is; the
 * API turns the kind into the status code dockerd uses.
 */
public final class ContainerException extends KindedException {
    public ContainerException(ErrorKind kind, String message) {
        super(kind, message);
    }

    public ContainerException(ErrorKind kind, String message, Throwable cause) {
        super(kind, message, cause);
    }

    public static ContainerException notFound(String message) {
        return new ContainerException(ErrorKind.NOT_FOUND, message);
    }

    public static ContainerException conflict(String message) {
        return new ContainerException(ErrorKind.CONFLICT, message);
    }

    public static ContainerException invalid(String message) {
        return new ContainerException(ErrorKind.INVALID_ARGUMENT, message);
    }

    /** Nothing to do (start of a running container, stop of a stopped one): dockerd's 304. */
    public static ContainerException notModified(String message) {
        return new ContainerException(ErrorKind.NOT_MODIFIED, message);
    }

    public static ContainerException noSuchContainer(String ref) {
        return notFound("No such container: " + ref);
    }
}
