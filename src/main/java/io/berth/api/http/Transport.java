package io.berth.api.http;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** One accepted connection, whatever carries it: a unix socket, plain TCP or TLS over TCP. */
public interface Transport extends Closeable {
    InputStream input();

    OutputStream output();

    /** Half-closes our side: the peer reads end-of-stream while it may still send. */
    void shutdownOutput() throws IOException;

    /** Who is on the other end, for log lines. */
    String peer();
}
