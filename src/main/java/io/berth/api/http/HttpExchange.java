package io.berth.api.http;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to one request. Three shapes: a whole body ({@link #send}), a chunked stream
 * flushed as it is written ({@link #startStream}), or the raw connection after
 * {@code 101 UPGRADED} ({@link #hijack}).
 */
public final class HttpExchange {
    private final HttpRequest request;
    private final HttpLineReader reader;
    private final Transport transport;
    private final OutputStream out;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private boolean committed;
    private boolean closeAfter;
    private boolean hijacked;
    private boolean abandonBody;
    private BodyStreams.ChunkedOutput stream;

    HttpExchange(HttpRequest request, HttpLineReader reader, Transport transport, OutputStream out, boolean closeAfter) {
        this.request = request;
        this.reader = reader;
        this.transport = transport;
        this.out = out;
        this.closeAfter = closeAfter;
    }

    public HttpRequest request() {
        return request;
    }

    /** Sets a response header; only before the response is committed. */
    public void setHeader(String name, String value) {
        if (committed) throw new IllegalStateException("response already committed");
        headers.put(name, value);
    }

    public boolean isCommitted() {
        return committed;
    }

    public void send(int status, String contentType, byte[] body) throws IOException {
        if (contentType != null) headers.put("Content-Type", contentType);
        headers.put("Content-Length", Integer.toString(body.length));
        writeHead(status);
        if (!"HEAD".equals(request.method())) out.write(body);
        out.flush();
    }

    /** An empty answer such as 204 No Content or 304. */
    public void sendEmpty(int status) throws IOException {
        if (status != 204 && status != 304) headers.put("Content-Length", "0");
        writeHead(status);
        out.flush();
    }

    /**
     * Commits a chunked response and flushes its head at once (the CLI waits for the head
     * of {@code /containers/{id}/wait} before it starts the container). Each write to the
     * stream is one chunk; call {@code flush} to push it out, {@code close} to end it.
     */
    public OutputStream startStream(int status, String contentType) throws IOException {
        if (contentType != null) headers.put("Content-Type", contentType);
        headers.put("Transfer-Encoding", "chunked");
        writeHead(status);
        out.flush();
        stream = new BodyStreams.ChunkedOutput(out);
        return stream;
    }

    /**
     * Answers {@code 101 UPGRADED} and hands over the connection. The handler owns it until
     * it returns; then the connection is closed.
     */
    public Hijacked hijack(String contentType) throws IOException {
        headers.put("Content-Type", contentType);
        headers.put("Connection", "Upgrade");
        headers.put("Upgrade", "tcp");
        writeHead(101);
        out.flush();
        hijacked = true;
        return new Hijacked(reader.stream(), transport.output(), transport);
    }

    /**
     * Answers {@code 101} switching to {@code protocol} (with the headers set before, such as
     * the sub-protocol chosen) and hands over the connection, as {@link #hijack} does.
     */
    public Hijacked upgrade(String protocol) throws IOException {
        headers.put("Connection", "Upgrade");
        headers.put("Upgrade", protocol);
        writeHead(101);
        out.flush();
        hijacked = true;
        return new Hijacked(reader.stream(), transport.output(), transport);
    }

    /**
     * Calls {@code onGone} when the client closes its side. Only for requests whose body
     * is fully read (streams such as events and logs): it reads the connection to notice.
     */
    public void onClientGone(Runnable onGone) {
        closeAfter = true;
        Thread.ofVirtual().name("client-watch").start(() -> {
            try {
                InputStream in = reader.stream();
                byte[] sink = new byte[512];
                while (in.read(sink) >= 0) {
                    // A client of a stream sends nothing more; whatever comes is dropped.
                }
            } catch (IOException ignored) {
                // a reset is a departure too
            }
            onGone.run();
        });
    }

    /**
     * Answers this request and then closes the connection without reading the rest of its
     * body (a body refused as too large): the close lingers so the client reads the answer.
     */
    public void closeWithoutBody() {
        closeAfter = true;
        abandonBody = true;
    }

    boolean abandonsBody() {
        return abandonBody;
    }

    boolean isHijacked() {
        return hijacked;
    }

    boolean closeAfter() {
        return closeAfter;
    }

    /** Ends a chunked stream the handler left open. */
    void finish() throws IOException {
        if (stream != null) stream.close();
        out.flush();
    }

    private void writeHead(int status) throws IOException {
        if (committed) throw new IllegalStateException("response already committed");
        committed = true;
        StringBuilder head = new StringBuilder(256);
        head.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        if (closeAfter && status != 101) headers.putIfAbsent("Connection", "close");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    static String reason(int status) {
        return switch (status) {
            case 101 -> "UPGRADED";
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            default -> "Status " + status;
        };
    }

    static OutputStream buffered(OutputStream raw) {
        return new BufferedOutputStream(raw, 64 * 1024);
    }

    /** A hijacked connection: what the client sends, what we send, and a half-close. */
    public record Hijacked(InputStream input, OutputStream output, Transport transport) {
        /** How long {@link #finish} waits for the client to close its side. */
        static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);

        /** Tells the client we will send nothing more, while still reading its input. */
        public void closeOutput() throws IOException {
            output.flush();
            transport.shutdownOutput();
        }

        /**
         * Ends the session: half-closes, then reads and drops what the client still sends until
         * it closes its side (at most {@link #LINGER}), then closes. Closing a unix or TCP socket
         * with input unread resets it, and the client's read of our last output (or of its end)
         * would fail with "connection reset by peer": a {@code docker run -i} whose container
         * exits before reading all of its stdin.
         */
        public void finish() {
            try {
                closeOutput();
                Thread closer = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(LINGER);
                        transport.close();
                    } catch (InterruptedException | IOException ignored) {
                        // the client closed in time, or the connection is gone
                    }
                });
                byte[] sink = new byte[64 * 1024];
                while (input.read(sink) >= 0) {
                    // dropped: nobody reads stdin any more
                }
                closer.interrupt();
            } catch (IOException ignored) {
                // the client left, or the linger ran out
            }
        }
    }
}
