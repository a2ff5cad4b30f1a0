package io.berth.api.http;

import java.io.IOException;

/**
 * Reading from or writing to the client's connection failed: the peer closed it, reset it,
 * or stopped mid-body. The only failure answered with silence, since nobody is left to read
 * an answer; every other failure, IOExceptions of the engine included, gets a status line.
 */
public final class ClientGoneException extends IOException {
    public ClientGoneException(String message) {
        super(message);
    }

    public ClientGoneException(String message, IOException cause) {
        super(message + ": " + cause.getMessage(), cause);
    }
}
