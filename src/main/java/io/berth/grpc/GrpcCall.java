package io.berth.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gRPC call on an HTTP/2 stream, as grpc-java's handlers see it ({@link ServerCall}): the
 * request is gathered on the connection's thread, then the handler runs on a virtual thread of
 * its own. A unary answer (headers, message, status) leaves in one write when it closes; a
 * streamed message leaves at once. The client's deadline is the client's to keep: when it
 * passes, the client resets the stream, which cancels the call here.
 */
final class GrpcCall<Q, A> extends ServerCall<Q, A> implements Http2Connection.Request {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcCall.class);

    private static final byte[] RESPONSE_HEADERS = new Hpack.Encoder()
            .header(":status", "200").header("content-type", "application/grpc").toBytes();

    /** Opens calls for the streams of a connection. */
    static final class Opener implements Http2Connection.Streams {
        private final Function<String, ServerMethodDefinition<?, ?>> methods;
        private final int maxMessageSize;
        private final AtomicLong served;
        private final AtomicInteger running;

        Opener(Function<String, ServerMethodDefinition<?, ?>> methods, int maxMessageSize, AtomicLong served, AtomicInteger running) {
            this.methods = methods;
            this.maxMessageSize = maxMessageSize;
            this.served = served;
            this.running = running;
        }

        @Override
        public Http2Connection.Request open(Http2Connection connection, int streamId, List<Hpack.Header> headers) {
            String method = null, path = null, contentType = null, encoding = null, authority = null;
            Metadata metadata = new Metadata();
            for (Hpack.Header h : headers) {
                switch (h.name()) {
                    case ":method" -> method = h.value();
                    case ":path" -> path = h.value();
                    case ":authority" -> authority = h.value();
                    case "content-type" -> contentType = h.value();
                    case "grpc-encoding" -> encoding = h.value();
                    default -> {
                        if (!h.name().startsWith(":")) addMetadata(metadata, h);
                    }
                }
            }
            try {
                if (!"POST".equals(method)) {
                    connection.respondAndEnd(streamId, new Hpack.Encoder().header(":status", "405").toBytes());
                    return null;
                }
                if (contentType == null || !contentType.startsWith("application/grpc")) {
                    connection.respondAndEnd(streamId, new Hpack.Encoder().header(":status", "415").toBytes());
                    return null;
                }
                ServerMethodDefinition<?, ?> definition;
                try {
                    definition = path == null || path.length() < 2 ? null : methods.apply(path.substring(1));
                } catch (RuntimeException e) { // a method of a kind this server does not serve (client streaming, say)
                    connection.respondAndEnd(streamId, trailers(true, Status.UNIMPLEMENTED.withDescription(e.getMessage())));
                    return null;
                }
                if (definition == null) {
                    connection.respondAndEnd(streamId, trailers(true, Status.UNIMPLEMENTED.withDescription("Method not found: "
                            + (path == null ? "" : path.substring(Math.min(1, path.length()))))));
                    return null;
                }
                return new GrpcCall<>(connection, streamId, definition, metadata, authority, encoding, maxMessageSize, served, running);
            } catch (IOException e) {
                return null; // the connection is gone
            }
        }

        private static void addMetadata(Metadata metadata, Hpack.Header h) {
            try {
                if (h.name().endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                    metadata.put(Metadata.Key.of(h.name(), Metadata.BINARY_BYTE_MARSHALLER), Base64.getDecoder().decode(h.value()));
                } else {
                    metadata.put(Metadata.Key.of(h.name(), Metadata.ASCII_STRING_MARSHALLER), h.value());
                }
            } catch (IllegalArgumentException e) {
                // a name or value gRPC does not accept: not metadata for the handler
            }
        }
    }

    private final Http2Connection connection;
    private final int streamId;
    private final ServerMethodDefinition<Q, A> definition;
    private final MethodDescriptor<Q, A> method;
    private final Metadata metadata;
    private final String authority;
    private final String encoding;
    private final int maxMessageSize;
    private final AtomicLong served;
    private final AtomicInteger running;
    private final ByteArrayOutputStream request = new ByteArrayOutputStream();
    private final AtomicBoolean completed = new AtomicBoolean();
    private volatile boolean cancelled;
    /** Guards the listener's hand-over, apart from the answer's lock (held while waiting for the client's window, which the connection's thread opens). */
    private final Object listenerLock = new Object();
    private boolean cancelDelivered;
    private Listener<Q> listener;
    // the answer, gathered until it can leave (guarded by this)
    private boolean headersPending;
    private boolean anythingSent;
    private boolean closed;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    private GrpcCall(Http2Connection connection, int streamId, ServerMethodDefinition<Q, A> definition, Metadata metadata,
                     String authority, String encoding, int maxMessageSize, AtomicLong served, AtomicInteger running) {
        this.connection = connection;
        this.streamId = streamId;
        this.definition = definition;
        this.method = definition.getMethodDescriptor();
        this.metadata = metadata;
        this.authority = authority;
        this.encoding = encoding;
        this.maxMessageSize = maxMessageSize;
        this.served = served;
        this.running = running;
    }

    // ---- the request, on the connection's thread

    @Override
    public boolean data(byte[] bytes, int offset, int length) {
        if (request.size() + length > maxMessageSize + 5L) {
            cancelled = true;
            try {
                connection.respondAndEnd(streamId, trailers(true, Status.RESOURCE_EXHAUSTED.withDescription(
                        "request larger than " + maxMessageSize + " bytes")));
            } catch (IOException ignored) {
                // the connection is gone
            }
            return false;
        }
        request.write(bytes, offset, length);
        return true;
    }

    @Override
    public void ended() {
        Thread.ofVirtual().name("grpc-call").start(this::run);
    }

    @Override
    public void cancelled() {
        Listener<Q> l;
        synchronized (listenerLock) {
            cancelled = true;
            if (listener == null || cancelDelivered) return;
            cancelDelivered = true;
            l = listener;
        }
        l.onCancel();
    }

    private void run() {
        served.incrementAndGet();
        running.incrementAndGet();
        try {
            handle();
        } finally {
            running.decrementAndGet();
        }
    }

    private void handle() {
        try {
            Listener<Q> l = definition.getServerCallHandler().startCall(this, metadata);
            boolean cancelNow;
            synchronized (listenerLock) {
                listener = l;
                cancelNow = cancelled && !cancelDelivered;
                cancelDelivered |= cancelNow;
            }
            if (cancelNow) {
                l.onCancel();
                return;
            }
            l.onReady();
            byte[] body = request.toByteArray();
            int at = 0;
            while (at < body.length) {
                if (body.length - at < 5) {
                    close(Status.INTERNAL.withDescription("request message cut short"), new Metadata());
                    return;
                }
                boolean compressed = body[at] != 0;
                int length = ((body[at + 1] & 0xFF) << 24) | ((body[at + 2] & 0xFF) << 16) | ((body[at + 3] & 0xFF) << 8) | (body[at + 4] & 0xFF);
                if (length < 0 || length > body.length - at - 5) {
                    close(Status.INTERNAL.withDescription("request message cut short"), new Metadata());
                    return;
                }
                InputStream message = new ByteArrayInputStream(body, at + 5, length);
                if (compressed) {
                    if (!"gzip".equals(encoding)) {
                        close(Status.UNIMPLEMENTED.withDescription("message compressed with " + encoding + ", which is not supported"), new Metadata());
                        return;
                    }
                    message = new GZIPInputStream(message);
                }
                Q parsed;
                try {
                    parsed = method.parseRequest(message);
                } catch (RuntimeException e) {
                    close(Status.INTERNAL.withDescription("invalid request message: " + e.getMessage()), new Metadata());
                    return;
                }
                l.onMessage(parsed);
                at += 5 + length;
            }
            l.onHalfClose();
        } catch (IOException | RuntimeException | Error e) {
            if (e instanceof Error err && !(e instanceof StackOverflowError)) throw err;
            LOG.warn("gRPC {} failed", method.getFullMethodName(), e);
            Status status = Status.fromThrowable(e);
            close(status.getCode() == Status.Code.UNKNOWN && status.getDescription() == null
                    ? status.withDescription(e.toString()) : status, new Metadata());
        }
    }

    // ---- the answer, from the handler's threads

    @Override
    public void request(int numMessages) {
        // the request is whole before the call starts: nothing to ask for
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
        if (closed || anythingSent) return;
        headersPending = true;
    }

    @Override
    public void sendMessage(A message) {
        byte[] bytes;
        try (InputStream in = method.streamResponse(message)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize " + method.getFullMethodName() + "'s answer", e);
        }
        synchronized (this) {
            if (closed) return;
            pending.write(0);
            pending.write(bytes.length >>> 24);
            pending.write(bytes.length >>> 16);
            pending.write(bytes.length >>> 8);
            pending.write(bytes.length);
            pending.writeBytes(bytes);
            if (method.getType().serverSendsOneMessage()) return; // leaves with the status
            flush(null);
        }
    }

    @Override
    public void close(Status status, Metadata trailers) {
        synchronized (this) {
            if (closed) return;
            closed = true;
            try {
                if (!anythingSent && !headersPending && pending.size() == 0) {
                    connection.respondAndEnd(streamId, trailers(true, status));
                } else {
                    flush(trailers(false, status));
                }
            } catch (IOException e) {
                // the client left: nobody to tell
            }
        }
        if (completed.compareAndSet(false, true) && !cancelled) {
            Listener<Q> l;
            synchronized (listenerLock) {
                l = listener;
            }
            if (l != null) l.onComplete();
        }
    }

    /** Sends what is gathered (headers first if not yet sent), then the trailers if given. Holds this. */
    private void flush(byte[] trailerBlock) {
        try {
            byte[] data = pending.toByteArray();
            byte[] headers = anythingSent ? null : RESPONSE_HEADERS;
            anythingSent = true;
            headersPending = false;
            pending.reset();
            if (!connection.respond(streamId, headers, data, trailerBlock)) cancelled = true;
        } catch (IOException e) {
            cancelled = true;
        }
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public boolean isReady() {
        return !cancelled;
    }

    @Override
    public MethodDescriptor<Q, A> getMethodDescriptor() {
        return method;
    }

    @Override
    public String getAuthority() {
        return authority;
    }

    /** A status as trailers; {@code alone}: the whole answer (a trailers-only response carries the headers too). */
    static byte[] trailers(boolean alone, Status status) {
        Hpack.Encoder e = new Hpack.Encoder();
        if (alone) e.header(":status", "200").header("content-type", "application/grpc");
        e.header("grpc-status", Integer.toString(status.getCode().value()));
        String description = status.getDescription();
        if (description != null && !description.isEmpty()) e.header("grpc-message", percentEncode(description));
        return e.toBytes();
    }

    /** gRPC's encoding of grpc-message: UTF-8, with every byte outside printable ASCII, and '%', as %XX. */
    static String percentEncode(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 0x20 && c <= 0x7E && c != '%') out.append((char) c);
            else out.append('%').append(Character.toUpperCase(Character.forDigit(c >>> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
        }
        return out.toString();
    }
}
