package io.berth.snapshot;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;
import java.io.IOException;

/**
 * A snapshot verb refused: the key is unknown (NOT_FOUND), taken (ALREADY_EXISTS), or the
 * snapshot is in the wrong state or has children (FAILED_PRECONDITION).
 */
public class SnapshotException extends IOException implements Kinded {
    private final ErrorKind kind;

    public SnapshotException(ErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }
}
