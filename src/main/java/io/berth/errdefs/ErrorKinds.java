package io.berth.errdefs;

import java.io.UncheckedIOException;

/** Reads the kind of any throwable, for the edges that turn kinds into status codes. */
public final class ErrorKinds {
    private ErrorKinds() {}

    /**
     * The kind a failure declares; a JDK {@link IllegalArgumentException} is a bad parameter,
     * an {@link UncheckedIOException} is its cause's kind, anything else is {@link ErrorKind#INTERNAL}.
     */
    public static ErrorKind of(Throwable failure) {
        return switch (failure) {
            case Kinded k -> k.kind();
            case UncheckedIOException u when u.getCause() != null -> of(u.getCause());
            case IllegalArgumentException ignored -> ErrorKind.INVALID_ARGUMENT;
            default -> ErrorKind.INTERNAL;
        };
    }

    /** The failure's message, or its class name when it has none (a NullPointerException). */
    public static String message(Throwable failure) {
        String m = failure.getMessage();
        return m == null || m.isBlank() ? failure.toString() : m;
    }
}
