package io.berth.runtime;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches conmon's exit directory: conmon writes {@code DIR/ID} (the exit code as decimal
 * text) when container ID ends, atomically (a temp file renamed into place). Each exit is
 * reported once to the listener and to {@link #await} futures; exit files already present at
 * {@link #start()} (containers that ended while the daemon was away) are reported first.
 * inotify (through WatchService) gives the events; a rescan every few seconds covers an
 * overflowed event queue. Beside the directory conmon writes to now, it may watch older
 * ones that conmons started by an earlier daemon still write to.
 */
public final class ExitWatcher implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ExitWatcher.class);
    /** g_file_set_contents writes "NAME.XXXXXX" first, then renames it to NAME. */
    private static final Pattern TEMP = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_+-]*\\.[A-Za-z0-9]{6}");
    private static final long RESCAN_MILLIS = 3000;

    private final Path dir;
    /** Older exit directories, read as well as {@code dir}. */
    private final List<Path> legacy;
    private final Consumer<ContainerExit> listener;
    private final Map<String, ContainerExit> reported = new ConcurrentHashMap<>();
    private final Map<String, List<CompletableFuture<ContainerExit>>> waiters = new ConcurrentHashMap<>();
    private volatile WatchService watch;
    private volatile boolean closed;
    private Thread thread;

    /** @param listener called once per exit, on the watcher's thread */
    public ExitWatcher(Path dir, Consumer<ContainerExit> listener) {
        this(dir, List.of(), listener);
    }

    /** @param legacy exit directories of an earlier layout, watched while they exist */
    public ExitWatcher(Path dir, List<Path> legacy, Consumer<ContainerExit> listener) {
        this.dir = dir.toAbsolutePath();
        this.legacy = legacy.stream().map(Path::toAbsolutePath).filter(p -> !p.equals(this.dir)).toList();
        this.listener = listener == null ? e -> { } : listener;
    }

    private List<Path> dirs() {
        List<Path> all = new ArrayList<>(1 + legacy.size());
        all.add(dir);
        all.addAll(legacy);
        return all;
    }

    /** The exit file of {@code id} in the first directory that holds one, else null. */
    private ContainerExit readAny(String id) {
        for (Path d : dirs()) {
            ContainerExit e = readExitFile(d.resolve(id), id);
            if (e != null) return e;
        }
        return null;
    }

    /** Reports the exit files already there, then watches for new ones. */
    public synchronized ExitWatcher start() throws IOException {
        if (thread != null) return this;
        io.berth.sys.PrivateFiles.createDirectories(dir);
        watch = FileSystems.getDefault().newWatchService();
        dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        for (Path d : legacy) {
            if (Files.isDirectory(d)) d.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        }
        scan();
        thread = Thread.ofVirtual().name("exit-watcher " + dir).start(this::loop);
        return this;
    }

    /** The exit of container {@code id}: completes when its exit file appears (or at once if it is there). */
    public CompletableFuture<ContainerExit> await(String id) {
        CompletableFuture<ContainerExit> f = new CompletableFuture<>();
        waiters.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(f);
        ContainerExit known = reported.get(id);
        if (known == null) {
            known = readAny(id);
            if (known != null) report(known);
        }
        if (known != null) f.complete(known);
        return f;
    }

    /**
     * Forgets a container's reported exit (after deleting it). A new exit file of the same ID
     * (a restart) is reported again anyway, as its time differs.
     */
    public void forget(String id) {
        reported.remove(id);
    }

    private void loop() {
        long lastScan = System.currentTimeMillis();
        while (!closed) {
            try {
                WatchKey key = watch.poll(RESCAN_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    for (var event : key.pollEvents()) {
                        if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                            scan();
                            continue;
                        }
                        Path name = (Path) event.context();
                        consider((Path) key.watchable(), name.toString());
                    }
                    key.reset();
                }
                if (System.currentTimeMillis() - lastScan >= RESCAN_MILLIS) {
                    scan();
                    lastScan = System.currentTimeMillis();
                }
            } catch (ClosedWatchServiceException | InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("exit watcher on {}: {}", dir, e.toString());
            }
        }
    }

    private void scan() {
        for (Path d : dirs()) {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                for (Path p : ds) names.add(p.getFileName().toString());
            } catch (IOException e) {
                continue;
            }
            for (String n : names) consider(d, n);
        }
    }

    private void consider(Path in, String name) {
        if (TEMP.matcher(name).matches() || name.startsWith(".")) return;
        ContainerExit known = reported.get(name);
        if (known != null) {
            try {
                if (Files.getLastModifiedTime(in.resolve(name)).toInstant().equals(known.time())) return;
            } catch (IOException e) {
                return;
            }
        }
        ContainerExit exit = readExitFile(in.resolve(name), name);
        if (exit != null) report(exit);
    }

    /** Reports an exit unless this very exit (same file time) was reported already. */
    private void report(ContainerExit exit) {
        ContainerExit before = reported.put(exit.id(), exit);
        if (exit.equals(before)) return;
        try {
            listener.accept(exit);
        } catch (RuntimeException e) {
            LOG.warn("exit listener failed for {}: {}", exit.id(), e.toString());
        }
        List<CompletableFuture<ContainerExit>> fs = waiters.remove(exit.id());
        if (fs != null) fs.forEach(f -> f.complete(exit));
    }

    /** Reads an exit file: null when it is missing or not (yet) a number. */
    static ContainerExit readExitFile(Path f, String id) {
        try {
            String text = Files.readString(f).trim();
            if (text.isEmpty()) return null;
            Instant time = Files.getLastModifiedTime(f).toInstant();
            return new ContainerExit(id, Integer.parseInt(text), time);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        WatchService w = watch;
        if (w != null) {
            try {
                w.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        waiters.values().forEach(l -> l.forEach(f -> f.cancel(false)));
        waiters.clear();
    }
}
