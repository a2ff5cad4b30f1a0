package io.berth.runtime;

import java.time.Instant;

/**
 * A container's (or exec session's) end as conmon recorded it.
 *
 * @param id the container's ID
 * @param exitCode its exit status; 128+N when signal N killed it; -1 when unknown
 * @param time when conmon wrote the exit file
 */
public record ContainerExit(String id, int exitCode, Instant time) {}
