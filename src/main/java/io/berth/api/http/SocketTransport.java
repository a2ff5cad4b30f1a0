package io.berth.api.http;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
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
        String peer = peer();
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        // Failures of the socket itself are the peer leaving (or a broken TLS session).
        this.input = new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                try {
                    return in.read();
                } catch (IOException e) {
                    throw new ClientGoneException("reading from " + peer, e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return in.read(b, off, len);
                } catch (IOException e) {
                    throw new ClientGoneException("reading from " + peer, e);
                }
            }
        };
        this.output = new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                } catch (IOException e) {
                    throw new ClientGoneException("writing to " + peer, e);
                }
            }

            @Override
            public void flush() throws IOException {
                try {
                    out.flush();
                } catch (IOException e) {
                    throw new ClientGoneException("writing to " + peer, e);
                }
            }
        };
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
