package io.berth.build;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/**
 * A build that cannot go on for a reason the user can fix: an unknown target stage, a
 * missing Dockerfile in the context, a COPY source that is not there, an unsafe context.
 */
public final class BuildException extends Exception implements Kinded {
    public BuildException(String message) {
        super(message);
    }

    public BuildException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
