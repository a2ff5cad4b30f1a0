package io.berth.snapshot;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Recognises a layer's compression by its magic bytes and returns the uncompressed stream. */
public final class Decompression {
    private Decompression() {}

    public enum Kind { GZIP, ZSTD, NONE }

    static final int BUFFER = 1 << 20;

    /** Peeks at the first bytes of a buffered stream (mark/reset) and names the compression. */
    public static Kind detect(BufferedInputStream in) throws IOException {
        in.mark(8);
        byte[] m = in.readNBytes(6);
        in.reset();
        if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) return Kind.GZIP;
        if (m.length >= 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd) {
            return Kind.ZSTD;
        }
        if (m.length >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') {
            throw new IOException("bzip2-compressed layers are not supported: Docker and OCI layers are tar, tar+gzip or tar+zstd");
        }
        if (m.length >= 6 && (m[0] & 0xff) == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) {
            throw new IOException("xz-compressed layers are not supported: Docker and OCI layers are tar, tar+gzip or tar+zstd");
        }
        return Kind.NONE;
    }

    /** The uncompressed tar stream of a layer blob, whatever its compression. */
    public static InputStream open(InputStream raw) throws IOException {
        BufferedInputStream in = raw instanceof BufferedInputStream b ? b : new BufferedInputStream(raw, BUFFER);
        return switch (detect(in)) {
            case GZIP -> new GZIPInputStream(in, 256 << 10);
            case ZSTD -> zstd(in);
            case NONE -> in;
        };
    }

    /**
     * zstd without a Java library: the {@code zstd} command decompresses through pipes (a
     * virtual thread feeds it). Its exit status is checked at the end of the stream.
     */
    static InputStream zstd(InputStream in) throws IOException {
        Path exe = io.berth.sys.Executables.find("zstd").orElse(null);
        if (exe == null) {
            throw new IOException("zstd-compressed layers need the zstd command (Debian package zstd) or the zstd-jni library; "
                    + "install zstd, or pull a gzip variant of the image");
        }
        Process p = new ProcessBuilder(exe.toString(), "-d", "-c", "-q").start();
        IOException[] feedError = new IOException[1];
        Thread feeder = Thread.ofVirtual().name("zstd-feed").start(() -> {
            try (OutputStream stdin = p.getOutputStream()) {
                in.transferTo(stdin);
            } catch (IOException e) {
                if (p.isAlive()) feedError[0] = e; // a broken pipe after zstd failed is reported by its status
            }
        });
        InputStream stdout = p.getInputStream();
        return new InputStream() {
            boolean checked;

            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = stdout.read(b, off, len);
                if (n < 0 && !checked) {
                    checked = true;
                    finish();
                }
                return n;
            }

            private void finish() throws IOException {
                try {
                    feeder.join();
                    int status = p.waitFor();
                    if (feedError[0] != null) throw new IOException("reading the zstd-compressed layer: " + feedError[0].getMessage(), feedError[0]);
                    if (status != 0) {
                        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                        throw new IOException("zstd failed to decompress the layer (exit " + status + "): " + err);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while decompressing a zstd layer", e);
                }
            }

            @Override
            public void close() throws IOException {
                p.destroy();
                stdout.close();
                in.close();
            }
        };
    }

}
