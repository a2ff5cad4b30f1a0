package io.berth.sys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The one PATH lookup for the host programs Berth runs (runtimes, conmon, compressors, init). */
public final class Executables {
    private Executables() {}

    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * The first executable file {@code name} in $PATH, then in the sbin folders (a daemon started
     * from a user's shell may lack them); empty when none.
     */
    public static Optional<Path> find(String name) {
        String path = System.getenv().getOrDefault("PATH", DEFAULT_PATH);
        for (String dir : (path + ":/usr/local/sbin:/usr/sbin:/sbin").split(":")) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }
}
