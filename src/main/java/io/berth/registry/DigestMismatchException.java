package io.berth.registry;

import io.berth.content.Digest;
import java.util.List;

/** The bytes received do not hash to the digest expected (or do not have the expected size). */
public final class DigestMismatchException extends RegistryException {
    private final Digest expected;
    private final Digest actual;

    public DigestMismatchException(String operation, Digest expected, Digest actual, String detail) {
        super(operation, 0, List.of(), detail, null);
        this.expected = expected;
        this.actual = actual;
    }

    public Digest expected() {
        return expected;
    }

    /** The digest of the bytes received; null when the size was already wrong. */
    public Digest actual() {
        return actual;
    }
}
