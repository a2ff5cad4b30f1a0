package io.berth.build;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

/**
 * A Dockerfile that Berth cannot build as written: a syntax error, a bad flag, a bad
 * variable substitution. The message names the line, as Docker's does:
 * {@code Dockerfile parse error line 3: unknown instruction: FORM}.
 */
public final class DockerfileParseException extends Exception implements Kinded {
    private final int line;
    private final String detail;

    public DockerfileParseException(int line, String detail) {
        super(line > 0 ? "Dockerfile parse error line " + line + ": " + detail : detail);
        this.line = line;
        this.detail = detail;
    }

    /** The 1-based line where the instruction starts, or 0 when not tied to a line. */
    public int line() {
        return line;
    }

    /** The message without the line prefix. */
    public String detail() {
        return detail;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
