package io.berth.api;

import io.berth.api.http.ClientGoneException;
import io.berth.api.http.HttpProtocolException;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.ErrorKinds;
import tools.jackson.core.JacksonException;

/**
 * The one place where a failure becomes the status code dockerd answers: every box's
 * exceptions carry an {@link ErrorKind}, and this maps the kind. Routes throw and let it be.
 */
final class ApiErrors {
    private ApiErrors() {}

    /** An answer to send: the status and Docker's {@code message}. */
    record Answer(int status, String message) {}

    /** Docker's status for a kind, as moby's errdefs maps its own classes. */
    static int status(ErrorKind kind) {
        return switch (kind) {
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, CONFLICT -> 409;
            case INVALID_ARGUMENT -> 400;
            case NOT_MODIFIED -> 304;
            case UNAUTHORIZED -> 401;
            case FORBIDDEN -> 403;
            case UNAVAILABLE -> 503;
            case NOT_IMPLEMENTED -> 501;
            // Docker has no class for a failed precondition (the CRI has one): dockerd's
            // "system" errors are 500.
            case FAILED_PRECONDITION, INTERNAL -> 500;
        };
    }

    /** The answer to a failure a route threw; never called for a departed client or a framing error. */
    static Answer answer(Throwable failure) {
        return switch (failure) {
            case ApiException a -> new Answer(a.status(), a.getMessage());
            case JacksonException j -> new Answer(400, "malformed JSON: " + JsonErrors.describe(j));
            case StackOverflowError e -> new Answer(500, "the request was too deeply nested to handle (stack overflow)");
            case OutOfMemoryError e -> new Answer(500, "the daemon ran out of memory handling the request");
            // An UncheckedIOException's own message is its cause's toString: show the cause's words.
            case java.io.UncheckedIOException u when u.getCause() != null -> new Answer(status(ErrorKinds.of(u)), ErrorKinds.message(u.getCause()));
            default -> new Answer(status(ErrorKinds.of(failure)), ErrorKinds.message(failure));
        };
    }

    /** True when the failure is, or was caused by, the client having left: nothing can be answered. */
    static boolean clientGone(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ClientGoneException) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }

    /** A framing error in the request body: the HTTP layer answers it and closes the connection. */
    static HttpProtocolException framingError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpProtocolException p) return p;
            if (t.getCause() == t) break;
        }
        return null;
    }
}
