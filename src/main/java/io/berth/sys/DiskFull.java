package io.berth.sys;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Recognises a full file system (ENOSPC, or EDQUOT for a quota) in the JDK's exceptions,
 * which carry only strerror's words, and words it as dockerd does ("write PATH: no space
 * left on device"), so a user sees what failed and where.
 */
public final class DiskFull {
    private DiskFull() {}

    private static final String NO_SPACE = "no space left on device";
    private static final String QUOTA = "disk quota exceeded";

    /** True when {@code failure} or one of its causes says the file system is full. */
    public static boolean causes(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String m = t instanceof FileSystemException f ? f.getReason() : t.getMessage();
            if (m != null) {
                String lower = m.toLowerCase(Locale.ROOT);
                if (lower.contains(NO_SPACE) || lower.contains(QUOTA)) return true;
            }
            if (t.getCause() == t) break;
        }
        return false;
    }

    /**
     * {@code failure} as "OP PATH: no space left on device" when the disk is full (the
     * original kept as the cause), else {@code failure} itself.
     */
    public static IOException describe(String op, Path path, IOException failure) {
        if (!causes(failure)) return failure;
        if (failure.getMessage() != null && failure.getMessage().startsWith(op + " " + path + ":")) return failure;
        return new IOException(op + " " + path + ": " + NO_SPACE, failure);
    }
}
