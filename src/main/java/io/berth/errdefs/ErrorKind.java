package io.berth.errdefs;

/**
 * The one set of failure kinds every box speaks, after containerd's and moby's errdefs. A box
 * says what kind of failure it had; the edge (the Docker API, the CRI) alone decides which
 * status code that is.
 */
public enum ErrorKind {
    /** No such object: container, image, network, volume, exec, blob. */
    NOT_FOUND,
    /** The object to create is there already (a name taken). */
    ALREADY_EXISTS,
    /** A bad parameter: the caller must change the request. */
    INVALID_ARGUMENT,
    /** The object's state or another object forbids it (a running container, a network in use). */
    CONFLICT,
    /** The system is not in the state the operation needs (a missing plugin or kernel feature). */
    FAILED_PRECONDITION,
    /** Nothing to do: the object is already where it was asked to be. */
    NOT_MODIFIED,
    /** The caller's credentials were refused. */
    UNAUTHORIZED,
    /** The caller may not do this, whoever it is (removing a predefined network). */
    FORBIDDEN,
    /** Busy or overloaded for now: retrying later may succeed. */
    UNAVAILABLE,
    /** Not implemented by Berth. */
    NOT_IMPLEMENTED,
    /** Anything else: a bug, the disk, the kernel, a plugin that failed. */
    INTERNAL
}
