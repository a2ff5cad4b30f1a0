package io.berth.build;

/** A word whose variable substitution failed, e.g. {@code ${A} } unterminated or {@code ${A:?must be set}}. */
public final class ExpansionException extends Exception {
    public ExpansionException(String message) {
        super(message);
    }
}
