package io.berth.volume;

/** A volume operation that cannot be done; {@link #kind} tells the API which status to answer. */
public final class VolumeException extends RuntimeException {
    public enum Kind { NOT_FOUND, CONFLICT, INVALID }

    private final Kind kind;

    public VolumeException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
