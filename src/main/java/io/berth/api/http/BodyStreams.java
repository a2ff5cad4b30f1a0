package io.berth.api.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** The framings of HTTP/1.1 bodies: fixed length and chunked, both ways. */
final class BodyStreams {
    private BodyStreams() {}

    static final InputStream EMPTY = InputStream.nullInputStream();

    /** Reads exactly {@code length} bytes of the connection, then reports end-of-stream. */
    static final class FixedLengthInput extends InputStream {
        private final InputStream in;
        private long remaining;

        FixedLengthInput(InputStream in, long length) {
            this.in = in;
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) throw new ClientGoneException("client closed the connection with " + remaining + " bytes of the body unsent");
            remaining -= n;
            return n;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), remaining);
        }
    }

    /** Decodes {@code Transfer-Encoding: chunked}; trailers are read and dropped. */
    static final class ChunkedInput extends InputStream {
        private final HttpLineReader in;
        private long chunkRemaining;
        private boolean done;
        private HttpProtocolException failed;

        ChunkedInput(HttpLineReader in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (failed != null) throw failed; // the framing is lost: every later read fails the same way
            try {
                return readChunked(b, off, len);
            } catch (HttpProtocolException e) {
                failed = e;
                throw e;
            }
        }

        private int readChunked(byte[] b, int off, int len) throws IOException {
            if (done) return -1;
            if (chunkRemaining == 0) {
                String sizeLine = line(4096, "chunk size line too long");
                if (sizeLine == null) throw new ClientGoneException("client closed the connection inside a chunked body");
                int semi = sizeLine.indexOf(';');
                String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim();
                if (hex.isEmpty() || hex.length() > 15 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    throw new HttpProtocolException(400, "malformed chunked encoding: bad chunk size \"" + printable(hex) + "\"");
                }
                chunkRemaining = Long.parseLong(hex, 16);
                if (chunkRemaining == 0) {
                    String trailer;
                    int trailerBytes = 0;
                    do {
                        trailer = line(8192, "chunked trailer too long");
                        if (trailer != null && (trailerBytes += trailer.length()) > HttpServer.MAX_HEAD_BYTES) {
                            throw new HttpProtocolException(400, "malformed chunked encoding: trailers too large");
                        }
                    } while (trailer != null && !trailer.isEmpty());
                    done = true;
                    return -1;
                }
            }
            int n = in.stream().read(b, off, (int) Math.min(len, chunkRemaining));
            if (n < 0) throw new ClientGoneException("client closed the connection inside a chunk");
            chunkRemaining -= n;
            if (chunkRemaining == 0) {
                String end = line(16, "chunk not followed by CRLF");
                if (end == null) throw new ClientGoneException("client closed the connection inside a chunked body");
                if (!end.isEmpty()) throw new HttpProtocolException(400, "malformed chunked encoding: chunk not followed by CRLF");
            }
            return n;
        }

        /** A framing line; too long is a malformed body (400), not a header problem (431). */
        private String line(int limit, String tooLong) throws IOException {
            try {
                return in.readLine(limit);
            } catch (HttpProtocolException e) {
                throw new HttpProtocolException(400, "malformed chunked encoding: " + tooLong);
            }
        }

        private static String printable(String s) {
            String cut = s.length() > 32 ? s.substring(0, 32) + "..." : s;
            return cut.replaceAll("[^\\x20-\\x7e]", "?");
        }
    }

    /** Writes each {@code write} call as one chunk; {@code close} writes the last chunk. */
    static final class ChunkedOutput extends OutputStream {
        private final OutputStream out;
        private boolean closed;

        ChunkedOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (closed) throw new IOException("response already finished");
            if (len == 0) return;
            out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b, off, len);
            out.write('\r');
            out.write('\n');
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }
}
