package io.berth.cri.stream;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A SPDY/3.1 client as Kubernetes' tools behave (written apart from the server it tests):
 * upgrades an HTTP request, opens streams named by a {@code streamType} header, waits for
 * each SYN_REPLY, and gathers what the server sends until its FIN.
 */
public final class SpdyTestClient implements AutoCloseable {
    private final Socket socket;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final Deflater deflater = new Deflater();
    private final Inflater inflater = new Inflater();
    private final Map<Integer, ByteArrayOutputStream> received = new ConcurrentHashMap<>();
    private final Map<Integer, CountDownLatch> finished = new ConcurrentHashMap<>();
    private final Map<Integer, CountDownLatch> replied = new ConcurrentHashMap<>();
    private final String protocol;
    private int nextId = 1;

    private SpdyTestClient(Socket socket, String protocol) throws IOException {
        this.socket = socket;
        this.out = new DataOutputStream(socket.getOutputStream());
        this.in = new DataInputStream(socket.getInputStream());
        this.protocol = protocol;
        deflater.setDictionary(SpdyDictionary.bytes());
        Thread.ofVirtual().start(this::readFrames);
    }

    /** Upgrades a POST to {@code url} offering {@code protocols}; the server's choice is {@link #protocol()}. */
    public static SpdyTestClient connect(String url, String... protocols) throws IOException {
        URI u = URI.create(url);
        Socket s = new Socket(u.getHost(), u.getPort());
        StringBuilder head = new StringBuilder("POST " + u.getRawPath() + " HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort()
                + "\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n");
        for (String p : protocols) head.append("X-Stream-Protocol-Version: ").append(p).append("\r\n");
        s.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        InputStream raw = s.getInputStream();
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        while (!response.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = raw.read();
            if (b < 0) break;
            response.write(b);
        }
        String text = response.toString(StandardCharsets.ISO_8859_1);
        if (!text.startsWith("HTTP/1.1 101")) {
            s.close();
            throw new IOException("no upgrade: " + text);
        }
        String chosen = "";
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase().startsWith("x-stream-protocol-version:")) chosen = line.substring(line.indexOf(':') + 1).trim();
        }
        return new SpdyTestClient(s, chosen);
    }

    public String protocol() {
        return protocol;
    }

    /** Opens a stream with these headers and waits for the server's reply; returns its ID. */
    public synchronized int open(Map<String, String> headers) throws IOException, InterruptedException {
        int id = nextId;
        nextId += 2;
        received.put(id, new ByteArrayOutputStream());
        finished.put(id, new CountDownLatch(1));
        replied.put(id, new CountDownLatch(1));
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(block);
        b.writeInt(headers.size());
        for (Map.Entry<String, String> h : headers.entrySet()) {
            byte[] n = h.getKey().toLowerCase().getBytes(StandardCharsets.UTF_8);
            byte[] v = h.getValue().getBytes(StandardCharsets.UTF_8);
            b.writeInt(n.length);
            b.write(n);
            b.writeInt(v.length);
            b.write(v);
        }
        deflater.setInput(block.toByteArray());
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        byte[] buf = new byte[1024];
        int k;
        while ((k = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) compressed.write(buf, 0, k);
        byte[] c = compressed.toByteArray();
        synchronized (out) {
            out.writeInt(0x80030001); // control, version 3, SYN_STREAM
            out.writeInt(10 + c.length);
            out.writeInt(id);
            out.writeInt(0);
            out.writeShort(0);
            out.write(c);
            out.flush();
        }
        if (!replied.get(id).await(10, TimeUnit.SECONDS)) throw new IOException("no SYN_REPLY for stream " + id);
        return id;
    }

    public int open(String streamType) throws IOException, InterruptedException {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("streamType", streamType);
        return open(h);
    }

    public void send(int id, byte[] data, boolean fin) throws IOException {
        synchronized (out) {
            out.writeInt(id);
            out.writeInt((fin ? 1 << 24 : 0) | data.length);
            out.write(data);
            out.flush();
        }
    }

    /** What the server sent on the stream, once it sent FIN (or null after {@code seconds}). */
    public String awaitAll(int id, int seconds) throws InterruptedException {
        if (!finished.get(id).await(seconds, TimeUnit.SECONDS)) return null;
        return received.get(id).toString(StandardCharsets.UTF_8);
    }

    /** What the server sent so far on the stream. */
    public String sofar(int id) {
        return received.get(id).toString(StandardCharsets.UTF_8);
    }

    private void readFrames() {
        try {
            while (true) {
                int first = in.readInt();
                int flagsLength = in.readInt();
                byte[] p = in.readNBytes(flagsLength & 0xffffff);
                boolean fin = (flagsLength >>> 24 & 1) != 0;
                if (first < 0) {
                    int type = first & 0xffff;
                    if (type == 2) { // SYN_REPLY: inflate its block to keep the stream in step
                        int id = ((p[0] & 0x7f) << 24) | ((p[1] & 0xff) << 16) | ((p[2] & 0xff) << 8) | (p[3] & 0xff);
                        inflater.setInput(p, 4, p.length - 4);
                        byte[] buf = new byte[1024];
                        while (true) {
                            int n = inflater.inflate(buf);
                            if (n > 0) continue;
                            if (inflater.needsDictionary()) inflater.setDictionary(SpdyDictionary.bytes()); else break;
                        }
                        replied.get(id).countDown();
                    }
                } else {
                    ByteArrayOutputStream sink = received.get(first);
                    if (sink != null) synchronized (sink) { sink.write(p); }
                    if (fin && finished.get(first) != null) finished.get(first).countDown();
                }
            }
        } catch (Exception e) {
            finished.values().forEach(CountDownLatch::countDown);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        inflater.end();
        deflater.end();
    }
}
