package io.berth.container;

import java.time.Instant;

/**
 * One run of a container's health check, as {@code State.Health.Log} shows it.
 *
 * @param start    when the probe started
 * @param end      when it ended (or timed out)
 * @param exitCode its exit code: 0 healthy, else failing; -1 when it timed out or could not run
 * @param output   its stdout and stderr together, cut to {@link #MAX_OUTPUT} bytes
 */
public record HealthProbe(Instant start, Instant end, int exitCode, String output) {
    /** dockerd keeps this many probes, the newest last. */
    public static final int KEEP = 5;
    /** and this many bytes of each probe's output. */
    public static final int MAX_OUTPUT = 4096;

    public HealthProbe {
        if (output == null) output = "";
    }
}
