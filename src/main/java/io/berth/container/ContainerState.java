package io.berth.container;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The runtime state of a container as persisted in its record.
 *
 * @param status     where the state machine stands
 * @param pid        the container's init process on the host, 0 when none
 * @param exitCode   the last exit code (0 before the first exit)
 * @param error      the last start error, or empty
 * @param startedAt  when it last started (null: never)
 * @param finishedAt when it last exited (null: never)
 * @param oomKilled  whether the last exit was the kernel's OOM killer
 * @param health     the health check status (null without a health check): starting, healthy, unhealthy
 * @param failingStreak consecutive failed health checks
 * @param healthLog the last {@link HealthProbe#KEEP} health checks, the newest last
 */
public record ContainerState(ContainerStatus status, long pid, int exitCode, String error, Instant startedAt, Instant finishedAt,
                             boolean oomKilled, String health, int failingStreak, List<HealthProbe> healthLog) {
    public ContainerState {
        if (error == null) error = "";
        healthLog = healthLog == null ? List.of() : List.copyOf(healthLog);
    }

    public static ContainerState created() {
        return new ContainerState(ContainerStatus.CREATED, 0, 0, "", null, null, false, null, 0, List.of());
    }

    public boolean running() {
        return status == ContainerStatus.RUNNING || status == ContainerStatus.PAUSED;
    }

    ContainerState withStatus(ContainerStatus s) {
        return new ContainerState(s, pid, exitCode, error, startedAt, finishedAt, oomKilled, health, failingStreak, healthLog);
    }

    ContainerState started(long newPid, Instant at, boolean healthCheck) {
        return new ContainerState(ContainerStatus.RUNNING, newPid, 0, "", at, finishedAt, false, healthCheck ? "starting" : null, 0, healthLog);
    }

    ContainerState exited(int code, boolean oom, Instant at, ContainerStatus next) {
        return new ContainerState(next, 0, code, error, startedAt, at, oom, health == null ? null : "unhealthy", failingStreak, healthLog);
    }

    ContainerState failed(String message, int code, ContainerStatus next) {
        return new ContainerState(next, 0, code, message, startedAt, finishedAt, false, health, failingStreak, healthLog);
    }

    /** The health status after {@code probe}, which joins the log (the oldest beyond {@link HealthProbe#KEEP} leave it). */
    ContainerState withHealth(String h, int streak, HealthProbe probe) {
        List<HealthProbe> log = new ArrayList<>(healthLog);
        log.add(probe);
        while (log.size() > HealthProbe.KEEP) log.removeFirst();
        return new ContainerState(status, pid, exitCode, error, startedAt, finishedAt, oomKilled, h, streak, log);
    }
}
