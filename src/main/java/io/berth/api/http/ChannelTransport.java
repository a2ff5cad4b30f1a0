package io.berth.api.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A blocking socket channel (unix or TCP) seen as two streams. The JDK's
 * {@code Channels.newInputStream} takes the channel's blocking lock on every read, so a
 * hijacked connection that reads stdin while it writes output would stall; these streams
 * call {@code read} and {@code write} directly, which a socket channel allows at once.
 * Their failures are {@link ClientGoneException}s: the peer left or reset.
 */
final class ChannelTransport implements Transport {
    private final SocketChannel channel;
    private final String peer;
    private final InputStream input;
    private final OutputStream output;

    ChannelTransport(SocketChannel channel, String peer) {
        this.channel = channel;
        this.peer = peer;
        this.input = new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                try {
                    return channel.read(ByteBuffer.wrap(b, off, len));
                } catch (IOException e) {
                    throw new ClientGoneException("reading from " + peer, e);
                }
            }
        };
        this.output = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                try {
                    while (buf.hasRemaining()) channel.write(buf);
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
        if (channel.isOpen()) channel.shutdownOutput();
    }

    @Override
    public String peer() {
        return peer;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
