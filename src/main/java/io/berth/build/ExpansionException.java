package io.berth.build;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/** A word whose variable substitution failed, e.g. {@code ${A} } unterminated or {@code ${A:?must be set}}. */
public final class ExpansionException extends Exception implements Kinded {
    public ExpansionException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
