package io.berth.grpc;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection of a gRPC client (RFC 9113, server side, cleartext with prior knowledge
 * as gRPC speaks it on a unix socket). Its thread reads frames; each request is handed whole
 * (headers, then its messages once the client has ended the stream) to {@link Streams}, whose
 * calls answer from threads of their own through {@link #respond}. Flow control: requests get
 * large windows, refilled as they arrive; responses wait for the client's windows.
 */
final class Http2Connection {
    private static final Logger LOG = LoggerFactory.getLogger(Http2Connection.class);

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    // frame types and flags (RFC 9113 section 6)
    static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5,
            PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;
    static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;
    // settings
    static final int ENABLE_PUSH = 2, INITIAL_WINDOW_SIZE = 4, MAX_FRAME_SIZE = 5;
    // error codes
    static final int NO_ERROR = 0, PROTOCOL_ERROR = 1, INTERNAL_ERROR = 2, FLOW_CONTROL_ERROR = 3, FRAME_SIZE_ERROR = 6,
            REFUSED_STREAM = 7, COMPRESSION_ERROR = 9;

    private static final int DEFAULT_WINDOW = 65_535;
    private static final int MAX_FRAME = 16_384; // what this side receives: the protocol's default, never raised
    /** Windows this side grants: a request up to this size is never held up by flow control. */
    private static final int STREAM_WINDOW = 1 << 20;
    private static final int CONNECTION_WINDOW = 16 << 20;
    private static final int MAX_HEADER_BLOCK = 256 << 10;

    /** What the connection hands its requests to. */
    interface Streams {
        /** A new request's headers; returns what receives the rest of it. */
        Request open(Http2Connection connection, int streamId, List<Hpack.Header> headers);
    }

    /** One request's side of a stream, called on the connection's reading thread. */
    interface Request {
        /** A DATA frame's payload; false if the request refused it (and answered, ending the stream). */
        boolean data(byte[] bytes, int offset, int length);

        /** The client ended its side of the stream: the request is whole. */
        void ended();

        /** The client reset the stream or the connection went away. */
        void cancelled();
    }

    private final SocketChannel channel;
    private final InputStream in;
    private final Streams streams;
    private final Hpack.Decoder decoder = new Hpack.Decoder(4096);
    private final Map<Integer, Stream> open = new ConcurrentHashMap<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock flow = new ReentrantLock();
    private final Condition windowOpened = flow.newCondition();
    private long connectionSendWindow = DEFAULT_WINDOW;
    private int initialSendWindow = DEFAULT_WINDOW;
    private volatile int peerMaxFrame = MAX_FRAME;
    private int connectionReceived;
    private int lastStreamId;
    private volatile boolean closed;
    private volatile boolean draining;

    private static final class Stream {
        final int id;
        final Request request;
        long sendWindow;
        int received;
        boolean remoteEnded;

        Stream(int id, Request request, long sendWindow) {
            this.id = id;
            this.request = request;
            this.sendWindow = sendWindow;
        }
    }

    Http2Connection(SocketChannel channel, Streams streams) {
        this.channel = channel;
        // reads straight from the channel: the calls' threads write to it meanwhile (a stream from
        // Channels.newInputStream may hold the channel's blocking lock while it waits)
        this.in = new java.io.BufferedInputStream(new InputStream() {
            @Override
            public int read() throws IOException {
                throw new UnsupportedOperationException("read through the buffer");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : channel.read(ByteBuffer.wrap(b, off, len));
            }
        }, 32 << 10);
        this.streams = streams;
    }

    /** Reads frames until the client leaves or breaks the protocol; then every open call is cancelled. */
    void serve() {
        try {
            byte[] preface = in.readNBytes(PREFACE.length);
            if (!Arrays.equals(preface, PREFACE)) throw new ProtocolException(PROTOCOL_ERROR, "not an HTTP/2 client preface");
            ByteBuffer settings = frame(SETTINGS, 0, 0, 12);
            settings.putShort((short) ENABLE_PUSH).putInt(0).putShort((short) INITIAL_WINDOW_SIZE).putInt(STREAM_WINDOW);
            ByteBuffer window = frame(WINDOW_UPDATE, 0, 0, 4).putInt(CONNECTION_WINDOW - DEFAULT_WINDOW);
            write(settings.flip(), window.flip());
            readFrames();
        } catch (ProtocolException e) {
            LOG.debug("gRPC connection: {}", e.getMessage());
            goAway(e.code, e.getMessage());
        } catch (Hpack.CompressionException e) {
            LOG.debug("gRPC connection: {}", e.getMessage());
            goAway(COMPRESSION_ERROR, e.getMessage());
        } catch (IOException e) {
            // the client left
        } catch (RuntimeException e) {
            LOG.warn("gRPC connection failed", e);
            goAway(INTERNAL_ERROR, e.toString());
        } finally {
            close();
        }
    }

    private void readFrames() throws IOException, ProtocolException, Hpack.CompressionException {
        byte[] header = new byte[9];
        byte[] payload = new byte[MAX_FRAME];
        while (true) {
            if (in.readNBytes(header, 0, 9) < 9) return; // the client left
            int length = ((header[0] & 0xFF) << 16) | ((header[1] & 0xFF) << 8) | (header[2] & 0xFF);
            int type = header[3] & 0xFF;
            int flags = header[4] & 0xFF;
            int streamId = ByteBuffer.wrap(header, 5, 4).getInt() & 0x7FFF_FFFF;
            if (length > MAX_FRAME) throw new ProtocolException(FRAME_SIZE_ERROR, "frame of " + length + " bytes");
            if (in.readNBytes(payload, 0, length) < length) throw new EOFException();
            switch (type) {
                case DATA -> data(streamId, flags, payload, length);
                case HEADERS -> headers(streamId, flags, payload, length, header);
                case RST_STREAM -> {
                    if (length != 4) throw new ProtocolException(FRAME_SIZE_ERROR, "RST_STREAM of " + length + " bytes");
                    Stream s = open.remove(streamId);
                    if (s != null) s.request.cancelled();
                    signalWindows();
                }
                case SETTINGS -> settings(flags, payload, length);
                case PING -> {
                    if (length != 8) throw new ProtocolException(FRAME_SIZE_ERROR, "PING of " + length + " bytes");
                    if ((flags & ACK) == 0) write(frame(PING, ACK, 0, 8).put(payload, 0, 8).flip());
                }
                case GOAWAY -> { } // the client sends no new streams; the ones open finish, then it closes
                case WINDOW_UPDATE -> windowUpdate(streamId, payload, length);
                case PUSH_PROMISE -> throw new ProtocolException(PROTOCOL_ERROR, "PUSH_PROMISE from a client");
                case CONTINUATION -> throw new ProtocolException(PROTOCOL_ERROR, "CONTINUATION without HEADERS");
                default -> { } // PRIORITY and unknown types are ignored
            }
        }
    }

    private void headers(int streamId, int flags, byte[] payload, int length, byte[] frameHeader)
            throws IOException, ProtocolException, Hpack.CompressionException {
        int from = 0;
        int end = length;
        if ((flags & PADDED) != 0) {
            if (length < 1) throw new ProtocolException(PROTOCOL_ERROR, "padded HEADERS without a pad length");
            end -= payload[0] & 0xFF;
            from = 1;
        }
        if ((flags & PRIORITY_FLAG) != 0) from += 5;
        if (from > end) throw new ProtocolException(PROTOCOL_ERROR, "HEADERS padding beyond the frame");
        byte[] block = Arrays.copyOfRange(payload, from, end);
        int blockLength = block.length;
        // CONTINUATION frames of the same stream follow until END_HEADERS
        while ((flags & END_HEADERS) == 0) {
            if (in.readNBytes(frameHeader, 0, 9) < 9) throw new EOFException();
            int len = ((frameHeader[0] & 0xFF) << 16) | ((frameHeader[1] & 0xFF) << 8) | (frameHeader[2] & 0xFF);
            int id = ByteBuffer.wrap(frameHeader, 5, 4).getInt() & 0x7FFF_FFFF;
            if ((frameHeader[3] & 0xFF) != CONTINUATION || id != streamId) throw new ProtocolException(PROTOCOL_ERROR, "header block interrupted");
            if (len > MAX_FRAME || blockLength + len > MAX_HEADER_BLOCK) throw new ProtocolException(FRAME_SIZE_ERROR, "header block too large");
            flags = (flags & ~END_HEADERS) | (frameHeader[4] & END_HEADERS);
            if (blockLength + len > block.length) block = Arrays.copyOf(block, Math.max(block.length * 2, blockLength + len));
            if (in.readNBytes(block, blockLength, len) < len) throw new EOFException();
            blockLength += len;
        }
        // the block is decoded whatever becomes of the stream: the table is the connection's
        List<Hpack.Header> headers = decoder.decode(block, blockLength);
        Stream s = open.get(streamId);
        if (s != null) { // trailers of a request: gRPC has none worth reading, but they end it
            if ((flags & END_STREAM) != 0) remoteEnded(s);
            return;
        }
        if (streamId == 0 || (streamId & 1) == 0 || streamId <= lastStreamId) {
            if (streamId <= lastStreamId && streamId != 0 && (streamId & 1) == 1) return; // a stream already closed
            throw new ProtocolException(PROTOCOL_ERROR, "bad stream id " + streamId);
        }
        lastStreamId = streamId;
        if (closed || draining) {
            reset(streamId, REFUSED_STREAM);
            return;
        }
        Request request = streams.open(this, streamId, headers);
        if (request == null) return; // answered already (an unknown method, say)
        long window;
        flow.lock();
        try {
            window = initialSendWindow;
        } finally {
            flow.unlock();
        }
        s = new Stream(streamId, request, window);
        open.put(streamId, s);
        if ((flags & END_STREAM) != 0) remoteEnded(s);
    }

    private void remoteEnded(Stream s) {
        if (s.remoteEnded) return;
        s.remoteEnded = true;
        s.request.ended();
    }

    private void data(int streamId, int flags, byte[] payload, int length) throws IOException, ProtocolException {
        if (streamId == 0) throw new ProtocolException(PROTOCOL_ERROR, "DATA on stream 0");
        int from = 0;
        int end = length;
        if ((flags & PADDED) != 0) {
            if (length < 1 || (payload[0] & 0xFF) >= length) throw new ProtocolException(PROTOCOL_ERROR, "bad DATA padding");
            end -= payload[0] & 0xFF;
            from = 1;
        }
        // the whole frame, padding too, counts against the windows: give it back as it is taken
        connectionReceived += length;
        List<ByteBuffer> updates = new ArrayList<>(2);
        if (connectionReceived >= CONNECTION_WINDOW / 2) {
            updates.add(frame(WINDOW_UPDATE, 0, 0, 4).putInt(connectionReceived).flip());
            connectionReceived = 0;
        }
        Stream s = open.get(streamId);
        if (s != null && !s.remoteEnded) {
            if (!s.request.data(payload, from, end - from)) {
                open.remove(streamId); // refused: the request has answered and ended the stream
            } else {
                s.received += length;
                if ((flags & END_STREAM) != 0) {
                    remoteEnded(s);
                } else if (s.received >= STREAM_WINDOW / 2) {
                    updates.add(frame(WINDOW_UPDATE, 0, streamId, 4).putInt(s.received).flip());
                    s.received = 0;
                }
            }
        }
        if (!updates.isEmpty()) write(updates.toArray(ByteBuffer[]::new));
    }

    private void settings(int flags, byte[] payload, int length) throws IOException, ProtocolException {
        if ((flags & ACK) != 0) return;
        if (length % 6 != 0) throw new ProtocolException(FRAME_SIZE_ERROR, "SETTINGS of " + length + " bytes");
        ByteBuffer b = ByteBuffer.wrap(payload, 0, length);
        while (b.hasRemaining()) {
            int id = b.getShort() & 0xFFFF;
            long value = b.getInt() & 0xFFFF_FFFFL;
            if (id == INITIAL_WINDOW_SIZE) {
                if (value > Integer.MAX_VALUE) throw new ProtocolException(FLOW_CONTROL_ERROR, "initial window " + value);
                flow.lock();
                try {
                    long delta = value - initialSendWindow;
                    initialSendWindow = (int) value;
                    for (Stream s : open.values()) s.sendWindow += delta;
                    windowOpened.signalAll();
                } finally {
                    flow.unlock();
                }
            } else if (id == MAX_FRAME_SIZE) {
                if (value < MAX_FRAME || value > 0xFF_FFFF) throw new ProtocolException(PROTOCOL_ERROR, "max frame size " + value);
                peerMaxFrame = (int) value;
            }
            // HEADER_TABLE_SIZE: this side's encoder keeps no table; the rest concern nothing here
        }
        write(frame(SETTINGS, ACK, 0, 0).flip());
    }

    private void windowUpdate(int streamId, byte[] payload, int length) throws ProtocolException {
        if (length != 4) throw new ProtocolException(FRAME_SIZE_ERROR, "WINDOW_UPDATE of " + length + " bytes");
        int increment = ByteBuffer.wrap(payload, 0, 4).getInt() & 0x7FFF_FFFF;
        flow.lock();
        try {
            if (streamId == 0) {
                connectionSendWindow += increment;
                if (connectionSendWindow > Integer.MAX_VALUE) throw new ProtocolException(FLOW_CONTROL_ERROR, "connection window overflow");
            } else {
                Stream s = open.get(streamId);
                if (s != null) s.sendWindow += increment;
            }
            windowOpened.signalAll();
        } finally {
            flow.unlock();
        }
    }

    private void signalWindows() {
        flow.lock();
        try {
            windowOpened.signalAll();
        } finally {
            flow.unlock();
        }
    }

    /**
     * Sends part of a response: a header block (may be null), then {@code data} as DATA frames as
     * the client's windows allow, then, if {@code trailers} is given, that block ending the stream.
     * Blocks while the windows are shut; false if the stream is gone (reset, or the connection).
     */
    boolean respond(int streamId, byte[] headerBlock, byte[] data, byte[] trailers) throws IOException {
        if (!open.containsKey(streamId)) return false; // reset by the client: it ignores what else comes for it
        List<ByteBuffer> frames = new ArrayList<>(4);
        if (headerBlock != null) headerFrames(frames, streamId, headerBlock, false);
        int sent = 0;
        while (sent < data.length) {
            int chunk = takeWindow(streamId, data.length - sent);
            if (chunk < 0) return false;
            frames.add(frame(DATA, 0, streamId, 0).flip());
            frames.add(ByteBuffer.wrap(data, sent, chunk));
            fixLength(frames.get(frames.size() - 2), chunk);
            sent += chunk;
            if (sent < data.length && frames.size() >= 16) { // a large message: send what is ready while waiting for more window
                write(frames.toArray(ByteBuffer[]::new));
                frames.clear();
            }
        }
        if (trailers != null) {
            headerFrames(frames, streamId, trailers, true);
            open.remove(streamId);
        }
        if (!frames.isEmpty()) write(frames.toArray(ByteBuffer[]::new));
        return true;
    }

    /** The trailers-only answer: one header block that ends the stream (also for streams never opened here). */
    void respondAndEnd(int streamId, byte[] block) throws IOException {
        List<ByteBuffer> frames = new ArrayList<>(2);
        headerFrames(frames, streamId, block, true);
        open.remove(streamId);
        write(frames.toArray(ByteBuffer[]::new));
    }

    /** Takes up to {@code wanted} bytes of send window for a stream, waiting while it is shut; -1 if the stream is gone. */
    private int takeWindow(int streamId, int wanted) throws IOException {
        flow.lock();
        try {
            while (true) {
                Stream s = open.get(streamId);
                if (s == null || closed) return -1;
                long available = Math.min(connectionSendWindow, s.sendWindow);
                if (available > 0) {
                    int chunk = (int) Math.min(Math.min(available, wanted), peerMaxFrame);
                    connectionSendWindow -= chunk;
                    s.sendWindow -= chunk;
                    return chunk;
                }
                windowOpened.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the client's flow-control window");
        } finally {
            flow.unlock();
        }
    }

    /** A header block as HEADERS plus CONTINUATION frames as the client's frame size needs. */
    private void headerFrames(List<ByteBuffer> frames, int streamId, byte[] block, boolean endStream) {
        int max = peerMaxFrame;
        int flags = endStream ? END_STREAM : 0;
        int type = HEADERS;
        int at = 0;
        do {
            int chunk = Math.min(max, block.length - at);
            boolean last = at + chunk == block.length;
            frames.add(frame(type, flags | (last ? END_HEADERS : 0), streamId, chunk).put(block, at, chunk).flip());
            at += chunk;
            type = CONTINUATION;
            flags = 0;
        } while (at < block.length);
    }

    void reset(int streamId, int code) {
        Stream s = open.remove(streamId);
        try {
            write(frame(RST_STREAM, 0, streamId, 4).putInt(code).flip());
        } catch (IOException ignored) {
            // the connection is gone: so is the stream
        }
        if (s != null) signalWindows();
    }

    private void goAway(int code, String why) {
        byte[] debug = why.getBytes(StandardCharsets.UTF_8);
        try {
            write(frame(GOAWAY, 0, 0, 8 + debug.length).putInt(lastStreamId).putInt(code).put(debug).flip());
        } catch (IOException ignored) {
            // it is leaving anyway
        }
    }

    /** Tells the client to open no more streams (GOAWAY); those open go on. */
    void drain() {
        if (draining) return;
        draining = true;
        goAway(NO_ERROR, "server shutting down");
    }

    /** Ends the connection: calls still running find their streams gone. */
    void shutdown() {
        drain();
        close();
    }

    private void close() {
        if (closed) return;
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closed either way
        }
        for (Integer id : List.copyOf(open.keySet())) {
            Stream s = open.remove(id);
            if (s != null) s.request.cancelled();
        }
        signalWindows();
    }

    private void write(ByteBuffer... buffers) throws IOException {
        writeLock.lock();
        try {
            long left = 0;
            for (ByteBuffer b : buffers) left += b.remaining();
            while (left > 0) left -= channel.write(buffers);
        } finally {
            writeLock.unlock();
        }
    }

    /** A frame's 9-byte header with room for {@code payload} bytes after it, positioned after the header. */
    private static ByteBuffer frame(int type, int flags, int streamId, int payload) {
        ByteBuffer b = ByteBuffer.allocate(9 + payload);
        b.put((byte) (payload >>> 16)).put((byte) (payload >>> 8)).put((byte) payload);
        b.put((byte) type).put((byte) flags).putInt(streamId);
        return b;
    }

    private static void fixLength(ByteBuffer header, int length) {
        header.put(0, (byte) (length >>> 16)).put(1, (byte) (length >>> 8)).put(2, (byte) length);
    }

    static final class ProtocolException extends Exception {
        final int code;

        ProtocolException(int code, String message) {
            super(message);
            this.code = code;
        }
    }
}
