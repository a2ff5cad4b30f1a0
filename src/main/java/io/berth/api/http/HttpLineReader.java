package io.berth.api.http;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The buffered input of a connection, read as CRLF lines for heads and as bytes for bodies. */
final class HttpLineReader {
    private final BufferedInputStream in;

    HttpLineReader(InputStream raw) {
        this.in = new BufferedInputStream(raw, 64 * 1024);
    }

    BufferedInputStream stream() {
        return in;
    }

    /** Blocks until a byte can be read without consuming it; false at end-of-stream. */
    boolean awaitByte() throws IOException {
        in.mark(1);
        int c = in.read();
        if (c < 0) return false;
        in.reset();
        return true;
    }

    /**
     * Reads one line without its CRLF (a bare LF is accepted too). Returns null at
     * end-of-stream before any byte; throws 431 past {@code limit} bytes.
     */
    String readLine(int limit) throws IOException {
        byte[] buf = new byte[Math.min(limit, 256)];
        int len = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (len == 0) return null;
                throw new ClientGoneException("connection closed in the middle of a line");
            }
            if (c == '\n') {
                if (len > 0 && buf[len - 1] == '\r') len--;
                return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
            }
            if (len == limit) throw new HttpProtocolException(431, "request header fields too large");
            if (len == buf.length) buf = java.util.Arrays.copyOf(buf, Math.min(limit + 1, buf.length * 2));
            buf[len++] = (byte) c;
        }
    }
}
