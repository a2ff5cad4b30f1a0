package io.berth.errdefs;

import java.io.IOException;

/** A checked I/O failure of a given kind, for code whose callers catch IOException (a refused overwrite). */
public class KindedIOException extends IOException implements Kinded {
    private final ErrorKind kind;

    public KindedIOException(ErrorKind kind, String message) {
        super(message);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }
}
