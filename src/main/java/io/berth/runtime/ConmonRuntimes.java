package io.berth.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The real {@link RuntimeProvider}: one {@link Conmon} per OCI runtime (runc, crun, ...),
 * each with its state root under {@code stateRoot/NAME}, all writing their exit files to
 * one directory that one {@link ExitWatcher} watches.
 */
public final class ConmonRuntimes implements RuntimeProvider {
    private final Supplier<Map<String, Path>> available;
    private final java.util.function.Function<String, Path> stateRootOf;
    private final Path exitDir;
    private final List<Path> legacyExitDirs;
    private final HostFacts host;
    private final ExitWatcher exits;
    private final Map<String, Conmon> conmons = new ConcurrentHashMap<>();

    /**
     * @param available the runtimes installed, by name (read at each first use of a name: settings may be reloaded)
     * @param stateRoot each runtime's state root goes under it, by name
     * @param exitDir where conmon writes exit files
     * @param legacyExitDirs where conmons of an earlier layout write them: read and cleaned too
     */
    public ConmonRuntimes(Supplier<Map<String, Path>> available, Path stateRoot, Path exitDir, List<Path> legacyExitDirs, HostFacts host) {
        this(available, stateRoot::resolve, exitDir, legacyExitDirs, host);
    }

    /** @param stateRootOf each runtime's state root, by the runtime's name */
    public ConmonRuntimes(Supplier<Map<String, Path>> available, java.util.function.Function<String, Path> stateRootOf, Path exitDir,
                          List<Path> legacyExitDirs, HostFacts host) {
        this.available = available;
        this.stateRootOf = stateRootOf;
        this.exitDir = exitDir;
        this.legacyExitDirs = List.copyOf(legacyExitDirs);
        this.host = host;
        this.exits = new ExitWatcher(exitDir, legacyExitDirs, null);
    }

    @Override
    public Optional<Runtime> find(String name) {
        if (name == null) return Optional.empty();
        Conmon known = conmons.get(name);
        if (known != null) return Optional.of(known);
        Path binary = available.get().get(name);
        if (binary == null) return Optional.empty();
        return Optional.of(conmons.computeIfAbsent(name, n -> {
            Path conmon = Conmon.findConmon().orElseThrow(() -> new IllegalStateException("conmon is not installed: install Debian's conmon"));
            return new Conmon(conmon, new OciRuntime(n, binary, stateRootOf.apply(n)), exitDir, legacyExitDirs, host, exits);
        }));
    }

    public Path exitDir() {
        return exitDir;
    }

    @Override
    public void start() throws IOException {
        exits.start();
    }

    @Override
    public void close() {
        exits.close();
    }
}
