package io.berth.cri.stream;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SPDY/3.1 connection, the server's side, as Kubernetes' streaming clients use it
 * (kubectl exec/attach/port-forward, crictl, kubelet's proxy): the client opens streams
 * with SYN_STREAM and headers naming what each carries; each is answered with SYN_REPLY,
 * then both sides send DATA frames, and a frame flagged FIN ends one direction.
 *
 * <p>Flow control is not enforced in either direction, as the Go implementation these
 * clients use does not either; TCP's own window holds a slow reader back.
 */
final class SpdySession implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(SpdySession.class);

    static final int VERSION = 3;
    static final int SYN_STREAM = 1;
    static final int SYN_REPLY = 2;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int HEADERS = 8;
    static final int WINDOW_UPDATE = 9;
    static final int FLAG_FIN = 1;
    /** RST_STREAM status: the stream was cancelled. */
    static final int CANCEL = 5;
    /** The largest payload one frame carries (a 24-bit length). */
    static final int MAX_PAYLOAD = (1 << 24) - 1;
    /** Our DATA frames carry at most this much, so one large write does not hold the others back. */
    private static final int CHUNK = 32 * 1024;
    /** Header blocks larger than this once inflated are refused (a bomb, not headers). */
    private static final int MAX_HEADERS = 1 << 20;

    private final DataInputStream in;
    private final OutputStream out;
    private final Consumer<Stream> onStream;
    private final Map<Integer, Stream> streams = new ConcurrentHashMap<>();
    private final Inflater inflater = new Inflater();
    private final Deflater deflater = new Deflater();
    private volatile boolean closed;

    SpdySession(InputStream in, OutputStream out, Consumer<Stream> onStream) {
        this.in = new DataInputStream(in);
        this.out = out;
        this.onStream = onStream;
        deflater.setDictionary(SpdyDictionary.bytes());
    }

    /** Reads frames until the client leaves or says goodbye; each new stream goes to {@code onStream}. */
    void serve() {
        try {
            while (!closed) {
                int first = in.readInt();
                int flagsAndLength = in.readInt();
                int flags = flagsAndLength >>> 24;
                int length = flagsAndLength & 0xffffff;
                byte[] payload = in.readNBytes(length);
                if (payload.length < length) throw new EOFException();
                if (first < 0) {
                    int version = (first >>> 16) & 0x7fff;
                    if (version != VERSION) throw new IOException("SPDY version " + version + " is not spoken here");
                    control(first & 0xffff, flags, payload);
                } else {
                    data(first, flags, payload);
                }
            }
        } catch (EOFException e) {
            // the client closed the connection
        } catch (IOException | DataFormatException | RuntimeException e) {
            if (!closed) log.debug("SPDY session ended: {}", e.toString());
        } finally {
            endAll();
        }
    }

    private void control(int type, int flags, byte[] p) throws IOException, DataFormatException {
        switch (type) {
            case SYN_STREAM -> {
                int id = readInt(p, 0) & 0x7fffffff;
                Map<String, List<String>> headers = readHeaders(p, 10, p.length - 10);
                Stream s = new Stream(id, headers);
                if ((flags & FLAG_FIN) != 0) s.peerFinished();
                if (streams.putIfAbsent(id, s) != null) {
                    reset(id);
                    return;
                }
                writeControl(SYN_REPLY, 0, synReply(id));
                onStream.accept(s);
            }
            case RST_STREAM -> {
                Stream s = streams.remove(readInt(p, 0) & 0x7fffffff);
                if (s != null) s.peerReset();
            }
            case PING -> writeControl(PING, 0, p);
            case GOAWAY -> closed = true;
            case HEADERS -> readHeaders(p, 4, p.length - 4); // keeps the inflater in step; nothing to act on
            case SETTINGS, WINDOW_UPDATE, SYN_REPLY -> {
                // no flow control and nothing to set (see the class comment); a reply to a stream we never open
            }
            default -> log.debug("SPDY control frame {} ignored", type);
        }
    }

    private void data(int id, int flags, byte[] payload) throws IOException {
        Stream s = streams.get(id);
        if (s == null) return; // a stream already reset: its late data is dropped
        if (payload.length > 0) s.received(payload);
        if ((flags & FLAG_FIN) != 0) s.peerFinished();
    }

    private Map<String, List<String>> readHeaders(byte[] p, int offset, int length) throws IOException, DataFormatException {
        inflater.setInput(p, offset, length);
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (true) {
            int n = inflater.inflate(buf);
            if (n == 0) {
                if (!inflater.needsDictionary()) break; // all of this block's input is used
                inflater.setDictionary(SpdyDictionary.bytes());
                continue;
            }
            block.write(buf, 0, n);
            if (block.size() > MAX_HEADERS) throw new IOException("SPDY header block over " + MAX_HEADERS + " bytes");
        }
        byte[] b = block.toByteArray();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int count = readInt(b, 0);
        int at = 4;
        for (int i = 0; i < count; i++) {
            int nameLength = readInt(b, at);
            String name = new String(b, at + 4, nameLength, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
            at += 4 + nameLength;
            int valueLength = readInt(b, at);
            String value = new String(b, at + 4, valueLength, StandardCharsets.UTF_8);
            at += 4 + valueLength;
            headers.computeIfAbsent(name, k -> new ArrayList<>()).addAll(List.of(value.split("\0", -1)));
        }
        return headers;
    }

    /** SYN_REPLY: the stream ID and an empty (but compressed) header block. */
    private byte[] synReply(int id) {
        byte[] block;
        synchronized (deflater) {
            deflater.setInput(new byte[4]); // zero headers
            ByteArrayOutputStream compressed = new ByteArrayOutputStream();
            byte[] buf = new byte[256];
            int n;
            while ((n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) compressed.write(buf, 0, n);
            block = compressed.toByteArray();
        }
        byte[] p = new byte[4 + block.length];
        putInt(p, 0, id);
        System.arraycopy(block, 0, p, 4, block.length);
        return p;
    }

    private void reset(int id) throws IOException {
        byte[] p = new byte[8];
        putInt(p, 0, id);
        putInt(p, 4, CANCEL);
        writeControl(RST_STREAM, 0, p);
    }

    private void writeControl(int type, int flags, byte[] payload) throws IOException {
        byte[] head = new byte[8];
        putInt(head, 0, 0x80000000 | (VERSION << 16) | type);
        putInt(head, 4, (flags << 24) | payload.length);
        write(head, payload, 0, payload.length);
    }

    private void writeData(int id, int flags, byte[] b, int off, int len) throws IOException {
        byte[] head = new byte[8];
        putInt(head, 0, id & 0x7fffffff);
        putInt(head, 4, (flags << 24) | len);
        write(head, b, off, len);
    }

    private void write(byte[] head, byte[] b, int off, int len) throws IOException {
        synchronized (out) {
            out.write(head);
            out.write(b, off, len);
            out.flush();
        }
    }

    private void endAll() {
        closed = true;
        for (Stream s : streams.values()) s.peerReset();
        streams.clear();
        inflater.end();
        synchronized (deflater) {
            deflater.end();
        }
    }

    /** Stops reading; the connection itself belongs to whoever handed it over. */
    @Override
    public void close() {
        closed = true;
    }

    private static int readInt(byte[] b, int at) throws IOException {
        if (at + 4 > b.length) throw new IOException("SPDY frame too short");
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /** One stream the client opened: its headers, what it sends, and our side of it. */
    final class Stream {
        private static final byte[] END = new byte[0];
        private final int id;
        private final Map<String, List<String>> headers;
        private final BlockingQueue<byte[]> inbound = new ArrayBlockingQueue<>(256);
        private volatile boolean finishedOurs;

        Stream(int id, Map<String, List<String>> headers) {
            this.id = id;
            this.headers = headers;
        }

        int id() {
            return id;
        }

        /** The first value of a header (names are lower case), or "". */
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? "" : v.get(0);
        }

        private void received(byte[] data) {
            try {
                inbound.put(data); // a full queue holds the reader, and TCP holds the client
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void peerFinished() {
            inbound.offer(END);
        }

        private void peerReset() {
            inbound.clear();
            inbound.offer(END);
        }

        /** What the client sends on this stream; ends at its FIN or a reset. */
        InputStream input() {
            return new InputStream() {
                private byte[] current = new byte[0];
                private int at;
                private boolean ended;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) return 0;
                    while (at >= current.length) {
                        if (ended) return -1;
                        try {
                            current = inbound.take();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException();
                        }
                        at = 0;
                        if (current == END) {
                            ended = true;
                            inbound.offer(END); // later readers see the end too
                            return -1;
                        }
                    }
                    int n = Math.min(len, current.length - at);
                    System.arraycopy(current, at, b, off, n);
                    at += n;
                    return n;
                }
            };
        }

        /** Our side: each write is sent as DATA frames; close sends FIN. */
        OutputStream output() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (finishedOurs) throw new IOException("stream " + id + " is closed");
                    while (len > 0) {
                        int n = Math.min(len, CHUNK);
                        writeData(id, 0, b, off, n);
                        off += n;
                        len -= n;
                    }
                }

                @Override
                public void close() throws IOException {
                    finish();
                }
            };
        }

        /** Sends FIN: we send nothing more on this stream. Once only. */
        void finish() throws IOException {
            if (finishedOurs) return;
            finishedOurs = true;
            if (!closed) writeData(id, FLAG_FIN, new byte[0], 0, 0);
        }
    }
}
