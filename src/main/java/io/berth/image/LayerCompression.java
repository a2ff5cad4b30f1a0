package io.berth.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Gzip for pushed layers: {@code igzip} (Debian isal) or {@code pigz} when on PATH, else the
 * JDK's Deflater. The tools are several times faster; igzip at level 1 (about 1 GB/s a core
 * here) is faster than any registry takes a layer in, so with it a layer is compressed whole
 * before its upload, and the upload is a plain one with a known digest.
 */
public final class LayerCompression {
    private LayerCompression() {}

    /** The external compressor used, or "deflater". */
    public static String tool() {
        Path p = external();
        return p == null ? "deflater" : p.getFileName().toString();
    }

    /**
     * Whether compressing a layer costs little beside uploading it (igzip is on PATH): then a
     * push compresses first ({@link #gzipInto}) and uploads the stored blob; else it uploads as
     * the compressor goes, so the two overlap.
     */
    public static boolean compressesFasterThanUploads() {
        Path p = external();
        return p != null && p.getFileName().toString().equals("igzip");
    }

    /**
     * Gzips the file {@code tar} into the ingest {@code w} (not committed): with an external
     * compressor, its output goes straight onto the ingest's file.
     */
    public static void gzipInto(Path tar, io.berth.content.ContentStore.Writer w) throws IOException {
        Path exe = external();
        if (exe == null) {
            gzip(tar, w);
            return;
        }
        try {
            w.appendFrom(new ProcessBuilder(command(exe)).redirectInput(tar.toFile()), exe.getFileName() + " compressing a layer");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while compressing a layer");
        }
    }

    private static List<String> command(Path exe) {
        return exe.getFileName().toString().equals("igzip") ? List.of(exe.toString(), "-c", "-1") : List.of(exe.toString(), "-c");
    }

    private static Path external() {
        for (String name : List.of("igzip", "pigz")) {
            Path p = io.berth.sys.Executables.find(name).orElse(null);
            if (p != null) return p;
        }
        return null;
    }

    /**
     * Gzips the file {@code tar} into {@code out} (not closed). An external compressor reads the
     * file itself, so its 50 MB do not cross the JVM on their way in.
     */
    public static void gzip(Path tar, OutputStream out) throws IOException {
        if (external() == null) {
            try (InputStream in = java.nio.file.Files.newInputStream(tar)) {
                gzip(in, out);
            }
            return;
        }
        gzip(null, tar, out);
    }

    /** Gzips {@code in} into {@code out} (neither is closed). */
    public static void gzip(InputStream in, OutputStream out) throws IOException {
        gzip(in, null, out);
    }

    /** From the stream {@code in}, or when it is null from the file {@code file}. */
    private static void gzip(InputStream in, Path file, OutputStream out) throws IOException {
        Path exe = external();
        if (exe == null) {
            GZIPOutputStream gz = new GZIPOutputStream(nonClosing(out), 1 << 16) {
                {
                    def.setLevel(Deflater.DEFAULT_COMPRESSION);
                }
            };
            in.transferTo(gz);
            gz.finish();
            gz.flush();
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(command(exe)).redirectError(ProcessBuilder.Redirect.PIPE);
        if (file != null) pb.redirectInput(file.toFile());
        Process p = pb.start();
        IOException[] feedError = new IOException[1];
        Thread feeder = in == null ? null : Thread.ofVirtual().name("gzip-feed").start(() -> {
            try (OutputStream stdin = p.getOutputStream()) {
                in.transferTo(stdin);
            } catch (IOException e) {
                feedError[0] = e;
            }
        });
        try (InputStream stdout = p.getInputStream()) {
            stdout.transferTo(out);
        } finally {
            try {
                if (feeder != null) feeder.join();
                int status = p.waitFor();
                if (feedError[0] != null && status == 0) throw feedError[0];
                if (status != 0) {
                    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                    throw new IOException(exe.getFileName() + " failed to compress the layer (exit " + status + "): " + err);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while compressing a layer", e);
            }
        }
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

}
