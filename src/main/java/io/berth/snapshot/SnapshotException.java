package io.berth.snapshot;

import java.io.IOException;

/** A snapshot verb refused: the key is unknown, taken, or the snapshot is in the wrong state or has children. */
public class SnapshotException extends IOException {
    public enum Reason { NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION }

    private final Reason reason;

    public SnapshotException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
