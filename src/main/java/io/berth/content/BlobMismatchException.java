package io.berth.content;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/**
 * The bytes written for a blob do not hash to, or are not as long as, what the writer
 * was opened with. The ingested bytes have been discarded when this is thrown from
 * {@link ContentStore.Writer#commit()}.
 */
public final class BlobMismatchException extends IOException implements Kinded {
    private final Digest expectedDigest;
    private final Digest actualDigest;
    private final long expectedSize;
    private final long actualSize;

    public BlobMismatchException(String message, Digest expectedDigest, Digest actualDigest, long expectedSize, long actualSize) {
        super(message);
        this.expectedDigest = expectedDigest;
        this.actualDigest = actualDigest;
        this.expectedSize = expectedSize;
        this.actualSize = actualSize;
    }

    /** May be null when the writer was opened without an expected digest. */
    public Digest expectedDigest() {
        return expectedDigest;
    }

    /** Null when the size check failed before the digest was finished. */
    public Digest actualDigest() {
        return actualDigest;
    }

    /** -1 when the writer was opened without an expected size. */
    public long expectedSize() {
        return expectedSize;
    }

    public long actualSize() {
        return actualSize;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }
}
