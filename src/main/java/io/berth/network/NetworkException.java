package io.berth.network;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;

/**
 * A network operation refused or failed. Kinds in use: NOT_FOUND (no such network), CONFLICT
 * (a name taken, an address in use), FORBIDDEN (what Docker forbids: removing a predefined
 * network, overlapping pools, active endpoints), INVALID_ARGUMENT, INTERNAL (the plugins or
 * the system failed).
 */
public class NetworkException extends KindedException {
    public NetworkException(ErrorKind kind, String message) {
        super(kind, message);
    }

    public NetworkException(ErrorKind kind, String message, Throwable cause) {
        super(kind, message, cause);
    }

    static NetworkException notFound(String nameOrId) {
        return new NetworkException(ErrorKind.NOT_FOUND, "network " + nameOrId + " not found");
    }

    static NetworkException invalid(String message) {
        return new NetworkException(ErrorKind.INVALID_ARGUMENT, message);
    }
}
