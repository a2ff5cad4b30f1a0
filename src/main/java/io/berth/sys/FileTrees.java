package io.berth.sys;

import org.slf4j.LoggerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Whole folder trees: the one place that removes them. */
public final class FileTrees {
    private FileTrees() {}

    /**
     * Deletes a tree, deepest first, never following a symlink (a link is removed, not its
     * target). A missing path, or an entry someone else removed meanwhile, is fine.
     */
    public static void deleteTree(Path top) throws IOException {
        if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Deletes, in the background, a tree its owner has already renamed out of sight (an
     * atomic rename is what makes the removal durable): removing a container or snapshot
     * then costs one rename instead of an unlink per file. Owners delete such leftovers of
     * a crash when they open.
     */
    public static void deleteLater(Path doomed) {
        Thread.ofVirtual().name("delete " + doomed.getFileName()).start(() -> {
            try {
                deleteTree(doomed);
            } catch (IOException | RuntimeException e) {
                LoggerFactory.getLogger(FileTrees.class).warn("cannot delete {}: {}", doomed, e.toString());
            }
        });
    }
}
