package io.berth.sys;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes state files the one way DESIGN.md allows: a temp file in the same folder,
 * flushed to disk, then renamed over the old file. A crash leaves the old or the new
 * content, never half of either; a write that fails (a full disk) leaves no temp file
 * behind. State is root's alone: new files 0600, new folders 0700.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(Path target, byte[] content) throws IOException {
        write(target, content, true);
    }

    /**
     * Like {@link #write} (a reader sees the old content or the new, never half, and a
     * crash of the daemon loses nothing) but without the two fsyncs, which cost 5-10 ms here:
     * for state that a machine crash voids anyway, as runtime bundles, a container's
     * /etc files (made again at each start) or the record of a network namespace.
     */
    public static void writeForThisBoot(Path target, byte[] content) throws IOException {
        write(target, content, false);
    }

    private static void write(Path target, byte[] content, boolean durable) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        PrivateFiles.createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PrivateFiles.fileAttribute())) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) ch.write(buf);
                if (durable) ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + temp + " over " + target + " atomically", e);
            }
            if (durable) syncDirectory(dir);
        } catch (IOException e) {
            // a full disk is the likely cause; say which file could not be written
            throw DiskFull.describe("write", target, e);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Makes a rename or a new file in {@code dir} survive a machine crash. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some filesystems refuse fsync on a directory; the rename is still atomic.
        }
    }
}
