package io.berth.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Resolves a path as a process inside a container would, with {@code root} as "/": symlinks
 * are followed, but an absolute target or a ".." climbs no higher than the root. What
 * comes back is always inside {@code root}, so nothing written through it escapes.
 */
public final class ScopedPath {
    private static final int MAX_LINKS = 255;

    private ScopedPath() {}

    /** Resolves every component, the last one included. */
    public static Path resolve(Path root, String path) throws IOException {
        return resolve(root, path, true);
    }

    /**
     * Resolves the parents of {@code path}; the last component is followed only when
     * {@code followLast} (docker cp stats a symlink itself, not its target).
     */
    public static Path resolve(Path root, String path, boolean followLast) throws IOException {
        Deque<String> pending = new ArrayDeque<>();
        pushComponents(pending, path);
        Deque<String> resolved = new ArrayDeque<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String part = pending.pop();
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                if (!resolved.isEmpty()) resolved.removeLast();
                continue;
            }
            Path candidate = join(root, resolved).resolve(part);
            boolean last = pending.stream().allMatch(p -> p.isEmpty() || p.equals("."));
            if ((followLast || !last) && Files.isSymbolicLink(candidate)) {
                if (++links > MAX_LINKS) throw new IOException("too many levels of symbolic links resolving " + path);
                String target = Files.readSymbolicLink(candidate).toString();
                if (target.startsWith("/")) resolved.clear();
                pushComponents(pending, target);
                continue;
            }
            resolved.addLast(part);
        }
        return join(root, resolved);
    }

    private static void pushComponents(Deque<String> pending, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) pending.push(parts[i]);
    }

    private static Path join(Path root, Deque<String> parts) {
        Path p = root;
        for (String s : parts) p = p.resolve(s);
        return p;
    }

    /** Whether {@code p} is a symlink, a directory, ... without following a final link. */
    public static boolean isDirectoryNoFollow(Path p) {
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
    }
}
