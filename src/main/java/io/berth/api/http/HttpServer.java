package io.berth.api.http;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server: one virtual thread a connection, keep-alive, chunked bodies both
 * ways, and hijacking for attach and exec. Written for the Docker API's needs rather than
 * taken from Jetty: the hijack is a plain hand-over of the socket, and the daemon starts
 * faster and idles smaller.
 */
public final class HttpServer implements Closeable {
    /** Heads larger than this get 431, as Go's net/http (and so dockerd) answers. */
    static final int MAX_HEAD_BYTES = 1 << 20;

    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    public interface Handler {
        void handle(HttpRequest request, HttpExchange exchange) throws Exception;
    }

    /**
     * What one client may hold. {@code headTimeout} bounds the wait for a request head, as
     * dockerd's ReadHeaderTimeout does (from the accept for the first request, from its first
     * byte for the next ones on a kept-alive connection); bodies, streams and hijacked
     * sessions are not bounded by it. Past {@code maxConnections} open connections a new one
     * is answered 503 and closed.
     */
    public record Limits(Duration headTimeout, int maxConnections) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(30), 1000);

        public Limits {
            if (headTimeout.isNegative() || headTimeout.isZero()) throw new IllegalArgumentException("head timeout must be positive");
            if (maxConnections < 1) throw new IllegalArgumentException("at least one connection must be allowed");
        }
    }

    /** Closes connections whose head is late; one thread for the whole daemon, idle almost always. */
    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "http-head-deadlines");
        t.setDaemon(true);
        return t;
    });

    private final Handler handler;
    private final Limits limits;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Set<Transport> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong requests = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closing;

    public HttpServer(Handler handler) {
        this(handler, Limits.DEFAULT);
    }

    public HttpServer(Handler handler, Limits limits) {
        this.handler = handler;
        this.limits = limits;
    }

    /** Starts accepting on {@code listener} in the background. */
    public void serve(Listener listener) {
        listeners.add(listener);
        Thread.ofVirtual().name("accept " + listener.address()).start(() -> acceptLoop(listener));
    }

    /** Requests read so far: a count that grows with work, for whoever watches for idleness. */
    public long requestsRead() {
        return requests.get();
    }

    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    private void acceptLoop(Listener listener) {
        while (!closing) {
            Transport transport;
            try {
                transport = listener.accept();
            } catch (ClosedChannelException | java.net.SocketException e) {
                if (closing) return;
                log.error("listener {} failed: {}", listener.address(), e.toString());
                return;
            } catch (IOException e) {
                if (closing) return;
                log.warn("accept on {} failed: {}", listener.address(), e.toString());
                continue;
            }
            if (connections.incrementAndGet() > limits.maxConnections()) {
                connections.decrementAndGet();
                Thread.ofVirtual().name("http refuse " + transport.peer()).start(() -> refuse(transport));
                continue;
            }
            open.add(transport);
            Thread.ofVirtual().name("http " + transport.peer()).start(() -> {
                try {
                    serveConnection(transport);
                } catch (Throwable e) { // never let a connection's thread die without closing it
                    log.error("connection {} failed", transport.peer(), e);
                } finally {
                    open.remove(transport);
                    connections.decrementAndGet();
                    closeQuietly(transport);
                }
            });
        }
    }

    /** Over the cap: a status line saying so, then the connection closed, as a proxy in front of dockerd would. */
    private void refuse(Transport transport) {
        log.warn("refusing a connection from {}: {} connections are open already", transport.peer(), limits.maxConnections());
        OutputStream out = HttpExchange.buffered(transport.output());
        writeProtocolError(out, new HttpProtocolException(503,
                "too many open connections: this daemon serves at most " + limits.maxConnections() + " at once; retry later"));
        try {
            transport.shutdownOutput();
        } catch (IOException ignored) {
            // gone already
        }
        ScheduledFuture<?> closer = DEADLINES.schedule(() -> closeQuietly(transport), 1, TimeUnit.SECONDS);
        try {
            transport.input().read(new byte[4096]); // let the client read our answer before the close resets it
        } catch (IOException ignored) {
            // closed by the timer, or gone
        } finally {
            closer.cancel(false);
            closeQuietly(transport);
        }
    }

    private void serveConnection(Transport transport) {
        HttpLineReader reader = new HttpLineReader(transport.input());
        OutputStream out = HttpExchange.buffered(transport.output());
        AtomicBoolean headLate = new AtomicBoolean();
        boolean first = true;
        try {
            while (!closing) {
                // A kept-alive connection may idle between requests; the head's clock starts
                // with its first byte, as Go's net/http does.
                if (!first && !reader.awaitByte()) return;
                first = false;
                HttpExchange exchange;
                ScheduledFuture<?> deadline = DEADLINES.schedule(() -> {
                    headLate.set(true);
                    closeQuietly(transport);
                }, limits.headTimeout().toMillis(), TimeUnit.MILLISECONDS);
                try {
                    exchange = readRequest(reader, transport, out);
                } catch (HttpProtocolException e) {
                    deadline.cancel(false);
                    writeProtocolError(out, e);
                    lingeringClose(transport, reader);
                    return;
                } finally {
                    deadline.cancel(false);
                }
                if (exchange == null) return; // the client closed between requests
                requests.incrementAndGet();
                if (!runHandler(exchange)) {
                    lingeringClose(transport, reader); // a framing error in the body: answered, now close
                    return;
                }
                if (exchange.abandonsBody()) {
                    lingeringClose(transport, reader);
                    return;
                }
                if (exchange.isHijacked() || exchange.closeAfter()) return;
                // Whatever the handler did not read of the body must go before the next request.
                exchange.request().body().transferTo(OutputStream.nullOutputStream());
            }
        } catch (SSLException e) {
            log.debug("TLS failure with {}: {}", transport.peer(), e.getMessage());
        } catch (IOException e) {
            if (headLate.get()) {
                log.debug("closed {}: no complete request head within {}", transport.peer(), limits.headTimeout());
            } else {
                log.debug("connection {} ended: {}", transport.peer(), e.toString());
            }
        } catch (HttpProtocolException e) {
            // The handler did not read the whole body and the rest is not HTTP: nothing to answer
            // on a connection whose framing is lost.
            log.debug("protocol error from {} inside a body: {}", transport.peer(), e.getMessage());
        }
    }

    /**
     * Runs the handler; false when the connection must close after the answer: the request's
     * body broke HTTP's framing, or the handler failed in a way it did not answer itself. Any other failure the handler did not answer itself is a
     * bug answered 500, Errors included; only a departed client gets no status line.
     */
    private boolean runHandler(HttpExchange exchange) throws IOException {
        try {
            handler.handle(exchange.request(), exchange);
            exchange.finish();
            return true;
        } catch (HttpProtocolException e) {
            log.debug("{} {}: malformed body: {}", exchange.request().method(), exchange.request().path(), e.getMessage());
            if (!exchange.isCommitted()) {
                exchange.setHeader("Connection", "close");
                exchange.send(e.status(), "application/json", errorJson(e.getMessage()));
            }
            return false;
        } catch (ClientGoneException e) {
            throw e; // the client went away; nothing to answer
        } catch (Throwable e) {
            log.error("{} {} failed", exchange.request().method(), exchange.request().path(), e);
            if (!exchange.isCommitted()) {
                exchange.setHeader("Connection", "close");
                exchange.send(500, "application/json", errorJson(e.getMessage() == null ? e.toString() : e.getMessage()));
                return false;
            }
            throw new IOException("handler failed after committing the response", e);
        }
    }

    private HttpExchange readRequest(HttpLineReader reader, Transport transport, OutputStream out) throws IOException {
        String requestLine;
        do {
            requestLine = reader.readLine(MAX_HEAD_BYTES);
            if (requestLine == null) return null;
        } while (requestLine.isEmpty()); // tolerate stray CRLFs between requests
        String[] parts = requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || parts[0].isEmpty() || !parts[1].startsWith("/")) {
            throw new HttpProtocolException(400, "malformed HTTP request line");
        }
        Map<String, String> headers = new TreeMap<>();
        int headBytes = requestLine.length();
        while (true) {
            String line = reader.readLine(MAX_HEAD_BYTES - headBytes);
            if (line == null) throw new IOException("connection closed inside the request head");
            if (line.isEmpty()) break;
            headBytes += line.length() + 2;
            if (headBytes > MAX_HEAD_BYTES) throw new HttpProtocolException(431, "request header fields too large");
            int colon = line.indexOf(':');
            if (colon <= 0) throw new HttpProtocolException(400, "malformed header line");
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        boolean http10 = parts[2].equals("HTTP/1.0");
        String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
        boolean closeAfter = connection.contains("close") || (http10 && !connection.contains("keep-alive"));
        InputStream body = bodyOf(headers, reader);
        if ("100-continue".equalsIgnoreCase(headers.get("expect"))) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        HttpRequest request = new HttpRequest(parts[0], parts[1], headers, body);
        return new HttpExchange(request, reader, transport, out, closeAfter);
    }

    private static InputStream bodyOf(Map<String, String> headers, HttpLineReader reader) {
        String transferEncoding = headers.get("transfer-encoding");
        if (transferEncoding != null) {
            if (!transferEncoding.equalsIgnoreCase("chunked")) {
                throw new HttpProtocolException(400, "unsupported Transfer-Encoding \"" + transferEncoding + "\"");
            }
            return new BodyStreams.ChunkedInput(reader);
        }
        String contentLength = headers.get("content-length");
        if (contentLength == null) return BodyStreams.EMPTY;
        long length;
        try {
            length = Long.parseLong(contentLength);
        } catch (NumberFormatException e) {
            throw new HttpProtocolException(400, "malformed Content-Length \"" + contentLength + "\"");
        }
        if (length < 0) throw new HttpProtocolException(400, "negative Content-Length");
        return length == 0 ? BodyStreams.EMPTY : new BodyStreams.FixedLengthInput(reader.stream(), length);
    }

    /**
     * After an early error answer the client may still be sending (a huge header): closing at
     * once would reset the connection and lose our answer. Half-close, read what still comes
     * for a moment, then close, as Go's net/http does.
     */
    private static void lingeringClose(Transport transport, HttpLineReader reader) {
        try {
            transport.shutdownOutput();
            Thread closer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(2000);
                    transport.close();
                } catch (InterruptedException | IOException ignored) {
                    // drained in time, or already closed
                }
            });
            byte[] sink = new byte[64 * 1024];
            long drained = 0;
            int n;
            while (drained < 64L * 1024 * 1024 && (n = reader.stream().read(sink)) >= 0) drained += n;
            closer.interrupt();
        } catch (IOException ignored) {
            // the client is gone; nothing to wait for
        }
    }

    private static void writeProtocolError(OutputStream out, HttpProtocolException e) {
        byte[] body = errorJson(e.getMessage());
        String head = "HTTP/1.1 " + e.status() + " " + HttpExchange.reason(e.status()) + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        try {
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
        } catch (IOException ignored) {
            // the client is gone already
        }
    }

    /** Docker's error body, {"message": "..."}, escaped by hand to keep this layer free of JSON libraries. */
    public static byte[] errorJson(String message) {
        StringBuilder json = new StringBuilder("{\"message\":\"");
        for (char c : message.toCharArray()) {
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
                    else json.append(c);
                }
            }
        }
        return json.append("\"}\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Stops accepting, then ends every open connection (streams and hijacked sessions too). */
    @Override
    public void close() {
        closing = true;
        for (Listener listener : listeners) closeQuietly(listener);
        for (Transport transport : open) closeQuietly(transport);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing on shutdown; nothing left to tell
        }
    }
}
