package io.berth.archive;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/** The bytes are not a well-formed tar archive: bad checksum, bad number, truncation, unknown member type. */
public class TarFormatException extends IOException implements Kinded {
    public TarFormatException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
