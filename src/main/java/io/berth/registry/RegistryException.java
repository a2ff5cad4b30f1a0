package io.berth.registry;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A failure talking to a registry: what was being done, the HTTP status (0 when no answer came)
 * and the registry's own {@code errors[]}. Its kind is INTERNAL (dockerd's "unknown") unless a
 * subclass knows better.
 */
public sealed class RegistryException extends RuntimeException implements Kinded
        permits UnauthorizedException, NotFoundException, DigestMismatchException, RegistryUnreachableException {

    private final String operation;
    private final int status;
    private final List<RegistryError> errors;

    public RegistryException(String operation, int status, List<RegistryError> errors, String detail, Throwable cause) {
        super(compose(operation, detail, errors, status), cause);
        this.operation = operation;
        this.status = status;
        this.errors = List.copyOf(errors);
    }

    public RegistryException(String operation, int status, List<RegistryError> errors) {
        this(operation, status, errors, null, null);
    }

    private static String compose(String operation, String detail, List<RegistryError> errors, int status) {
        String reason;
        if (detail != null && !detail.isEmpty()) {
            reason = detail;
        } else if (!errors.isEmpty()) {
            reason = errors.stream().map(RegistryError::describe).collect(Collectors.joining("; "));
        } else if (status > 0) {
            reason = "unexpected HTTP status " + status;
        } else {
            reason = "failed";
        }
        return operation + ": " + reason;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }

    /** What was being done, e.g. {@code fetching manifest localhost:5000/x:latest}. */
    public String operation() {
        return operation;
    }

    /** The HTTP status of the answer, 0 if none came. */
    public int status() {
        return status;
    }

    public List<RegistryError> errors() {
        return errors;
    }

    /** The registry's own words, e.g. {@code manifest unknown: manifest unknown}; empty if it gave none. */
    public String registryMessage() {
        return errors.stream().map(RegistryError::describe).collect(Collectors.joining("; "));
    }
}
