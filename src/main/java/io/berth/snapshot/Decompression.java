package io.berth.snapshot;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
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
            case ZSTD -> throw new IOException("zstd-compressed layers need the zstd-jni library "
                    + "(com.github.luben:zstd-jni), which this build of Berth lacks; pull a gzip variant of the image instead");
            case NONE -> in;
        };
    }
}
