package io.berth.runtime;

import java.nio.file.Path;

/**
 * A container conmon holds: created (waiting for start) or running.
 *
 * @param id the container's ID as the runtime knows it
 * @param bundle its OCI bundle directory (config.json, attach socket, ctl fifo)
 * @param pid its init process on the host
 * @param conmonPid the conmon process that holds its stdio and records its exit
 */
public record ContainerHandle(String id, Path bundle, long pid, long conmonPid) {
    /** conmon's attach socket: {@link AttachSession#open(Path)} connects to it. */
    public Path attachSocket() {
        return bundle.resolve("attach");
    }
}
