package io.berth.runtime;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps container logs the way dockerd's json-file driver does with {@code max-size} and
 * {@code max-file}: when a log passes {@code maxSize}, {@code log.(n-1)} is dropped, every
 * {@code log.i} becomes {@code log.(i+1)}, {@code log} becomes {@code log.1}, and conmon is
 * told (message {@code 2 0 0} on its ctl fifo) to reopen its log path, which it does by
 * making a new empty file there. With {@code maxFiles} 1 the log is kept as two files of
 * half the size: dropping the one file, as a rotation by looking every interval would, can
 * leave an empty log where dockerd's (which truncates before the write that would pass the
 * size) always holds the last lines; two halves keep both the cap and the last lines.
 *
 * <p>One platform thread checks every running container's log each {@link #INTERVAL}. A
 * log therefore passes {@code maxSize} by what the container writes in one interval before
 * it is rotated (dockerd rotates before the write that would pass it): a rotated file holds
 * about {@code maxSize} plus up to one interval's output.
 *
 * <p>Everything that matters is on disk, so a daemon restart loses nothing: the files and
 * their names are the state. While the daemon is away conmon's own {@code --log-size-max}
 * ({@link #hardCap}) bounds the log. conmon counts that limit in bytes written since it last
 * replaced the file on its own, and replacing it drops the old one; so the rotator keeps a
 * second name, {@code log.hold}, on the current file: when conmon replaced it, the held
 * file is rotated like any other and nothing is lost (unless conmon replaced it twice
 * between two looks, which needs {@code hardCap} bytes in one interval, or happens while
 * the daemon is away).
 */
public final class LogRotator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogRotator.class);
    public static final Duration INTERVAL = Duration.ofMillis(250);
    /** How long the log path may be missing under a running container before conmon is asked again to reopen it. */
    private static final Duration MISSING_GRACE = Duration.ofSeconds(1);

    /**
     * How a log is capped.
     *
     * @param maxSize rotate once the file is larger than this (bytes, positive)
     * @param maxFiles how many files to keep, the current one included (at least 1)
     */
    public record Limits(long maxSize, int maxFiles) {
        public Limits {
            if (maxSize <= 0) throw new IllegalArgumentException("max-size must be a positive number");
            if (maxFiles < 1) throw new IllegalArgumentException("max-file cannot be less than 1");
        }
    }

    /** A running container's log: conmon writes {@code log}, and reads its ctl fifo in {@code bundle}. */
    public record Target(String id, Path log, Path bundle, Limits limits) {}

    private final Supplier<? extends Collection<Target>> targets;
    private final ScheduledExecutorService timer;
    /** When the log path was first seen missing under a running container; only paces the reopen requests. */
    private final Map<String, Long> missingSince = new ConcurrentHashMap<>();

    /** @param targets the logs of the containers that run now, asked at every check */
    public LogRotator(Supplier<? extends Collection<Target>> targets) {
        this.targets = targets;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("log-rotator").unstarted(r));
    }

    public LogRotator start() {
        long ms = INTERVAL.toMillis();
        timer.scheduleWithFixedDelay(this::checkAll, ms, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * The {@code --log-size-max} to give conmon: four times {@code maxSize}, at least 8 MiB.
     * It only matters while the daemon is away (or if the rotator falls far behind): conmon
     * then empties the log each time it reaches this size instead of letting it grow without
     * bound. It must be well above {@code maxSize}, since conmon's count does not restart when
     * the rotator has it reopen the file, and each time conmon acts on it, the current file
     * is replaced at once rather than rotated at a line the rotator chose.
     */
    /** The limits the rotation applies: max-file 1 as two files of half the size (see the class comment). */
    static Limits effective(Limits asked) {
        return asked.maxFiles() == 1 ? new Limits(Math.max(1, asked.maxSize() / 2), 2) : asked;
    }

    public static long hardCap(Limits limits) {
        long fourTimes = limits.maxSize() > Long.MAX_VALUE / 4 ? Long.MAX_VALUE : limits.maxSize() * 4;
        return Math.max(fourTimes, 8L << 20);
    }

    private void checkAll() {
        Collection<Target> now;
        try {
            now = targets.get();
        } catch (RuntimeException e) {
            LOG.debug("log rotation: cannot list containers: {}", e.toString());
            return;
        }
        missingSince.keySet().retainAll(now.stream().map(Target::id).toList());
        for (Target t : now) {
            try {
                check(t, true);
            } catch (IOException | RuntimeException e) {
                // the container may be going away with its directory
                LOG.debug("log rotation of {}: {}", t.id(), e.toString());
            }
        }
    }

    /**
     * Looks at one log once: rotates it when it is over its size and asks conmon to reopen
     * it, and rotates a file conmon replaced on its own. Call it with {@code running} false
     * once conmon has ended: that only rotates a file conmon replaced and drops the held
     * name; the last file stays as it is (over its size by at most one interval's output;
     * with max-file 1, rotating it would delete every line kept), and a next start rotates it.
     */
    public void check(Target t, boolean running) throws IOException {
        Path log = t.log();
        Path hold = holdPath(log);
        Limits limits = effective(t.limits());
        int maxFiles = limits.maxFiles();
        BasicFileAttributes current = attributes(log);
        Object held = LogReader.key(hold);
        if (held != null && (current == null || !held.equals(current.fileKey()))) {
            if (held.equals(LogReader.key(rotated(log, 1)))) {
                Files.deleteIfExists(hold); // an earlier rotation stopped before dropping the name
            } else {
                // conmon replaced the log (its hard cap): the held file is the previous log
                LOG.debug("log of {} was replaced by conmon; rotating the previous file", t.id());
                rotate(hold, log, maxFiles);
            }
            held = null;
        }
        if (current == null) {
            if (!running) return;
            // Rotated, and conmon has not made the new file yet. If that lasts, the reopen
            // request was lost (a daemon stopped between the rename and the request): ask again.
            long nowMs = System.currentTimeMillis();
            long since = missingSince.computeIfAbsent(t.id(), k -> nowMs);
            if (nowMs - since > MISSING_GRACE.toMillis()) {
                missingSince.put(t.id(), nowMs);
                Conmon.reopenLog(t.bundle());
            }
            return;
        }
        missingSince.remove(t.id());
        if (running && current.size() > limits.maxSize()) {
            rotate(log, log, maxFiles);
            Files.deleteIfExists(hold);
            Conmon.reopenLog(t.bundle());
            return;
        }
        if (!running) {
            Files.deleteIfExists(hold);
        } else if (held == null) {
            try {
                Files.createLink(hold, log);
            } catch (FileAlreadyExistsException | NoSuchFileException e) {
                // a race with conmon; the next look sorts it out
            }
        }
    }

    /**
     * Rotates {@code log}: drops the oldest kept file, renames {@code log.i} to
     * {@code log.(i+1)} and {@code log} to {@code log.1}; with {@code maxFiles} 1, deletes
     * {@code log}. The files beyond {@code maxFiles} are deleted.
     */
    public static void rotate(Path log, int maxFiles) throws IOException {
        rotate(log, log, maxFiles);
    }

    /** Rotates with {@code newest} (the log itself, or another name of the previous log) becoming {@code log.1}. */
    private static void rotate(Path newest, Path log, int maxFiles) throws IOException {
        List<Path> old = rotatedFiles(log);
        for (int i = old.size(); i >= Math.max(1, maxFiles - 1); i--) Files.deleteIfExists(rotated(log, i));
        if (maxFiles <= 1) {
            Files.deleteIfExists(newest);
            return;
        }
        for (int i = Math.min(old.size(), maxFiles - 2); i >= 1; i--) {
            Files.move(rotated(log, i), rotated(log, i + 1), StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(newest, rotated(log, 1), StandardCopyOption.ATOMIC_MOVE);
    }

    /** {@code log.1, log.2, ...} as far as they exist without a gap: newest first. */
    public static List<Path> rotatedFiles(Path log) {
        List<Path> out = new ArrayList<>();
        for (int i = 1; ; i++) {
            Path p = rotated(log, i);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return out;
            out.add(p);
        }
    }

    static Path rotated(Path log, int n) {
        return log.resolveSibling(log.getFileName() + "." + n);
    }

    /** The rotator's second name for the file conmon writes now (see the class comment). */
    static Path holdPath(Path log) {
        return log.resolveSibling(log.getFileName() + ".hold");
    }

    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
