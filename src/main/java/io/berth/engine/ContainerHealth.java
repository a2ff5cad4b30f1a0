package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import io.berth.container.HealthProbe;
import io.berth.runtime.AttachSession;
import io.berth.runtime.Runtime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A container's HEALTHCHECK: runs it as an exec every interval while one run lasts and records the outcome. */
final class ContainerHealth {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerLifecycle.class);

    private final Function<ContainerRecord, Runtime> runtimeOf;
    private final Function<String, Path> bundleOf;
    private final Function<String, Path> dirOf;

    /**
     * @param runtimeOf the runtime a container runs on
     * @param bundleOf  a container's bundle, by ID
     * @param dirOf     a container's directory in the store, by ID (the probes' exec sessions go there)
     */
    ContainerHealth(Function<ContainerRecord, Runtime> runtimeOf, Function<String, Path> bundleOf, Function<String, Path> dirOf) {
        this.runtimeOf = runtimeOf;
        this.bundleOf = bundleOf;
        this.dirOf = dirOf;
    }

        /** Runs the image's or create's HEALTHCHECK in the container every interval while this run (pid) lasts. */
    void start(Container c, long pid) {
        var hc = c.record().config().healthcheck();
        List<String> test = hc.test();
        List<String> argv = switch (test.getFirst()) {
            case "CMD" -> test.subList(1, test.size());
            case "CMD-SHELL" -> List.of("/bin/sh", "-c", String.join(" ", test.subList(1, test.size())));
            default -> test;
        };
        if (argv.isEmpty()) return;
        Duration interval = nanos(hc.interval(), Duration.ofSeconds(30));
        Duration timeout = nanos(hc.timeout(), Duration.ofSeconds(30));
        Duration startPeriod = nanos(hc.startPeriod(), Duration.ZERO);
        int retries = hc.retries() == null || hc.retries() <= 0 ? 3 : hc.retries();
        Instant started = Instant.now();
        Thread.ofVirtual().name("health " + c.record().shortId()).start(() -> {
            try {
                while (true) {
                    Thread.sleep(interval.toMillis());
                    ContainerRecord r = c.record();
                    if (c.isRemoved() || r.state().pid() != pid || !r.state().status().hasProcess()) return;
                    if (r.state().status() == ContainerStatus.PAUSED) continue;
                    HealthProbe probe = probe(r, argv, timeout);
                    int code = probe.exitCode();
                    boolean inStartPeriod = Duration.between(started, Instant.now()).compareTo(startPeriod) < 0;
                    String before = c.record().state().health();
                    int streak = c.record().state().failingStreak();
                    String next;
                    if (code == 0) {
                        next = "healthy";
                        streak = 0;
                    } else if (inStartPeriod) {
                        next = before;
                    } else {
                        streak++;
                        next = streak >= retries ? "unhealthy" : before;
                    }
                    if (!c.healthChecked(pid, code, next, streak, probe)) return;
                }
            } catch (InterruptedException | IOException | RuntimeException e) {
                LOG.debug("health checks of {} ended: {}", c.id(), e.toString());
            }
        });
    }

    /**
     * Runs one health check in the container: its exit code and its output (stdout and stderr
     * together, the first {@link HealthProbe#MAX_OUTPUT} bytes); -1 and dockerd's message when it
     * outlasts {@code timeout} or cannot run.
     */
    private HealthProbe probe(ContainerRecord r, List<String> argv, Duration timeout) {
        Instant start = Instant.now();
        var output = new java.io.ByteArrayOutputStream();
        try (var session = runtimeOf.apply(r).exec(r.id(), bundleOf.apply(r.id()), dirOf.apply(r.id()).resolve("health"),
                new io.berth.runtime.ExecSpec(argv, List.of(), null, null, null, List.of(), false, false, true, false, 0, 0))) {
            // a platform thread: the receive is a native call, which would pin a virtual thread's carrier
            Thread reader = Thread.ofPlatform().daemon().name("health-output " + r.shortId()).start(() -> {
                try {
                    AttachSession.Frame f;
                    while ((f = session.attach().read()) != null) {
                        synchronized (output) {
                            int room = HealthProbe.MAX_OUTPUT - output.size();
                            if (room > 0) output.write(f.data(), 0, Math.min(room, f.data().length));
                        }
                    }
                } catch (IOException ended) {
                    // the session closed: what came is the output
                }
            });
            int code = session.waitFor(timeout);
            reader.join(Duration.ofSeconds(2)); // conmon ends the stream right after the exit
            synchronized (output) {
                return new HealthProbe(start, Instant.now(), code, output.toString(StandardCharsets.UTF_8));
            }
        } catch (java.util.concurrent.TimeoutException e) {
            return new HealthProbe(start, Instant.now(), -1, "Health check exceeded timeout (" + goDuration(timeout) + ")");
        } catch (IOException e) {
            return new HealthProbe(start, Instant.now(), -1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new HealthProbe(start, Instant.now(), -1, "health check interrupted");
        }
    }

    /** Go's way of printing a duration, as in dockerd's messages: 30s, 1.5s, 500ms, 1m0s. */
    static String goDuration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + "ms";
        long minutes = ms / 60_000;
        String seconds = java.math.BigDecimal.valueOf(ms % 60_000, 3).stripTrailingZeros().toPlainString() + "s";
        return minutes == 0 ? seconds : minutes + "m" + seconds;
    }

    private static Duration nanos(Long n, Duration fallback) {
        return n == null || n <= 0 ? fallback : Duration.ofNanos(n);
    }
}
