package io.berth.runtime;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/** The OCI runtime or conmon failed; the message carries the runtime's own words. */
public class OciRuntimeException extends IOException implements Kinded {
    public OciRuntimeException(String message) {
        super(message);
    }

    public OciRuntimeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The runtime does not know the container (never created, or deleted). */
    public static final class NoSuchContainer extends OciRuntimeException {
        public NoSuchContainer(String message) {
            super(message);
        }
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }
}
