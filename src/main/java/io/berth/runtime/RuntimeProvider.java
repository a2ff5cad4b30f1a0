package io.berth.runtime;

import java.io.IOException;
import java.util.Optional;

/**
 * Gives the {@link Runtime} a container names (runc, crun, ...). Containers, build steps and
 * pods get their runtime here; {@link ConmonRuntimes} is the real one, tests pass a fake.
 */
public interface RuntimeProvider extends AutoCloseable {
    /** The runtime called {@code name}, or empty when none by that name is installed. */
    Optional<Runtime> find(String name);

    /** Starts watching exits: exits recorded while the daemon was away are reported first. */
    default void start() throws IOException {}

    @Override
    default void close() {}
}
