package io.berth.daemon;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import io.berth.sys.PrivateFiles;

/**
 * One berthd a data root (and one an exec root): an exclusive lock on {@code <data-root>/berthd.lock}, holding the
 * owner's pid so a second daemon can say who is in the way. The kernel drops the lock when
 * the process dies, however it dies.
 */
public final class DataRootLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataRootLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static DataRootLock acquire(Path dataRoot) throws IOException {
        return acquire(dataRoot, "berthd.lock", "data root", "--data-root");
    }

    /**
     * Locks {@code root} through the file {@code name} in it; a daemon in the way is named
     * with its pid, and {@code flag} is how to give this one another root.
     */
    public static DataRootLock acquire(Path root, String name, String what, String flag) throws IOException {
        PrivateFiles.makeRoot(root);
        Path file = root.resolve(name);
        FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                PrivateFiles.fileAttribute());
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
            channel.close();
            throw new IOException(what + " " + root + " is in use by another berthd"
                    + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                    + ": stop it first, or give this one another " + flag);
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        channel.force(true);
        return new DataRootLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        if (lock.isValid()) lock.release();
        channel.close();
    }
}
