package io.berth.archive;

import java.io.IOException;

/** The bytes are not a well-formed tar archive: bad checksum, bad number, truncation, unknown member type. */
public class TarFormatException extends IOException {
    public TarFormatException(String message) {
        super(message);
    }
}
