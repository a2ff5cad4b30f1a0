package io.berth.snapshot;

import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/** Builds test layers with Berth's own TarWriter. */
final class Layers {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final TarWriter w = new TarWriter(buf);

    Layers dir(String name) {
        return entry(TarEntry.dir(name), "");
    }

    Layers file(String name, String content) {
        return entry(TarEntry.file(name, content.getBytes(StandardCharsets.UTF_8).length), content);
    }

    Layers symlink(String name, String target) {
        return entry(TarEntry.symlink(name, target), "");
    }

    Layers hardlink(String name, String target) {
        return entry(TarEntry.hardlink(name, target), "");
    }

    Layers entry(TarEntry e, String content) {
        try {
            w.writeEntry(e, content.getBytes(StandardCharsets.UTF_8));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    byte[] tar() {
        try {
            w.finish();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return buf.toByteArray();
    }

    byte[] gzip() {
        byte[] t = tar();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(t);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }
}
