package io.berth.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where a fetched blob's bytes go. A fetch that resumes at an offset reads the bytes already held
 * back through {@link #existing(long)} to hash them, then appends from that offset.
 */
public interface BlobSink {
    /**
     * Opens for writing at {@code offset}: 0 starts over (dropping what was held), a larger value keeps the
     * first {@code offset} bytes and drops anything after them. The fetch closes the stream.
     */
    OutputStream open(long offset) throws IOException;

    /** The first {@code length} bytes held, to hash them again when resuming. */
    InputStream existing(long length) throws IOException;

    /** A sink writing to a file (created if missing). */
    static BlobSink ofFile(Path file) {
        return new BlobSink() {
            @Override
            public OutputStream open(long offset) throws IOException {
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                try {
                    ch.truncate(offset);
                    ch.position(offset);
                } catch (IOException e) {
                    ch.close();
                    throw e;
                }
                return Channels.newOutputStream(ch);
            }

            @Override
            public InputStream existing(long length) throws IOException {
                InputStream in = Files.newInputStream(file);
                return new java.io.FilterInputStream(in) {
                    long left = length;

                    @Override
                    public int read() throws IOException {
                        if (left <= 0) return -1;
                        int b = super.read();
                        if (b >= 0) left--;
                        return b;
                    }

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        if (left <= 0) return -1;
                        int r = super.read(buf, off, (int) Math.min(len, left));
                        if (r > 0) left -= r;
                        return r;
                    }
                };
            }
        };
    }
}
