package io.berth.runtime;

import io.berth.sys.Executables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The init that `--init` bind-mounts as /sbin/docker-init: catatonit (Debian puts it in podman's
 * libexec folder too), else tini, else a docker-init. One lookup for `docker info` and for runs.
 */
public final class InitBinary {
    private InitBinary() {}

    public static Optional<Path> find() {
        for (String name : new String[] {"catatonit", "tini", "docker-init"}) {
            Optional<Path> onPath = Executables.find(name);
            if (onPath.isPresent()) return onPath;
            Path libexec = Path.of("/usr/libexec/podman", name);
            if (Files.isExecutable(libexec)) return Optional.of(libexec);
        }
        return Optional.empty();
    }
}
