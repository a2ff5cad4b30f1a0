package io.berth.api.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** A TLS (or any classic) socket; its streams may be read and written at the same time. */
final class SocketTransport implements Transport {
    private final Socket socket;
    private final InputStream input;
    private final OutputStream output;

    SocketTransport(Socket socket) throws IOException {
        this.socket = socket;
        this.input = socket.getInputStream();
        this.output = socket.getOutputStream();
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public void shutdownOutput() throws IOException {
        try {
            socket.shutdownOutput();
        } catch (UnsupportedOperationException e) {
            // Older TLS stacks cannot half-close; the caller closes the whole socket later.
        }
    }

    @Override
    public String peer() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
