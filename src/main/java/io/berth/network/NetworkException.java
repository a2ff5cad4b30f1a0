package io.berth.network;

/** A network operation refused or failed; {@link #kind()} tells the API which status Docker uses. */
public class NetworkException extends RuntimeException {
    public enum Kind {
        /** 404: no such network. */
        NOT_FOUND,
        /** 409: a name taken, an address in use. */
        CONFLICT,
        /** 403: what Docker forbids (removing a predefined network, overlapping pools, active endpoints). */
        FORBIDDEN,
        /** 400: a bad parameter. */
        INVALID,
        /** 500: the plugins or the system failed. */
        FAILED
    }

    private final Kind kind;

    public NetworkException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public NetworkException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    static NetworkException notFound(String nameOrId) {
        return new NetworkException(Kind.NOT_FOUND, "network " + nameOrId + " not found");
    }

    static NetworkException invalid(String message) {
        return new NetworkException(Kind.INVALID, message);
    }
}
