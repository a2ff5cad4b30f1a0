package io.berth.engine;

import io.berth.container.Container;
import java.io.IOException;

/**
 * The running side of containers: start, stop, kill, restart, pause, attach, logs, exec,
 * and the exit watcher with its restart policies. Stands on the runtime box.
 */
public final class ContainerLifecycle {
    private final ContainerService service;

    ContainerLifecycle(ContainerService service) {
        this.service = service;
        service.setLifecycle(this);
    }

    /** docker rm -f of a running container: SIGKILL and wait for the exit. */
    void killForRemoval(Container c) throws IOException, InterruptedException {
        throw new IOException("cannot kill container " + c.id() + ": the runtime is not wired in yet");
    }

    /** Frees what a container holds besides its record and layer (runtime state, exec sessions). */
    void releaseResources(Container c) {
        // nothing yet
    }
}
