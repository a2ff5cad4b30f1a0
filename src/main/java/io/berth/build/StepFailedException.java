package io.berth.build;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/**
 * A RUN step whose command ended with a non-zero status: Docker's message
 * {@code The command '/bin/sh -c exit 3' returned a non-zero code: 3} and the code, which
 * the CLI exits with.
 */
public final class StepFailedException extends Exception implements Kinded {
    private final int code;

    public StepFailedException(String message, int code) {
        super(message);
        this.code = code;
    }

    public int code() {
        return code;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }
}
