package io.berth.container;

import java.time.Duration;

/** Docker's restart policies: no, always, unless-stopped, on-failure[:N], with its back-off. */
public final class RestartPolicies {
    static final Duration FIRST_DELAY = Duration.ofMillis(100);
    static final Duration MAX_DELAY = Duration.ofMinutes(1);
    /** A run this long resets the back-off, as dockerd does. */
    static final Duration RESET_AFTER = Duration.ofSeconds(10);

    private RestartPolicies() {}

    /** Checks a create's policy; Docker's 400 messages. */
    public static void validate(HostConfig.RestartPolicy p, boolean autoRemove) {
        if (p == null) return;
        String name = p.nameOrNo();
        int max = p.retries();
        switch (name) {
            case "no", "always", "unless-stopped" -> {
                if (max != 0) throw ContainerException.invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'");
            }
            case "on-failure" -> {
                if (max < 0) throw ContainerException.invalid("invalid restart policy: maximum retry count must be a positive integer");
            }
            default -> throw ContainerException.invalid("invalid restart policy: unknown policy '" + name
                    + "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }
        if (autoRemove && !name.equals("no")) {
            throw ContainerException.invalid("conflicting options: cannot specify both --restart and --rm");
        }
    }

    /** Whether the policy brings the container back after this exit. */
    public static boolean shouldRestart(ContainerSettings.RestartPolicy p, int exitCode, int restartCount, boolean manuallyStopped) {
        if (p == null || manuallyStopped) return false;
        return switch (p.mode()) {
            case ALWAYS, UNLESS_STOPPED -> true;
            case ON_FAILURE -> exitCode != 0 && (p.maxRetries() == 0 || restartCount < p.maxRetries());
            case NO -> false;
        };
    }

    /** Whether the daemon starts it when it comes up. */
    public static boolean startOnDaemonStart(ContainerSettings.RestartPolicy p, boolean manuallyStopped) {
        if (p == null) return false;
        return switch (p.mode()) {
            case ALWAYS -> true;
            case UNLESS_STOPPED -> !manuallyStopped;
            case NO, ON_FAILURE -> false;
        };
    }

    /** The wait before the next try: doubles from 100 ms up to a minute; a long run resets it. */
    public static Duration nextDelay(Duration previous, Duration ranFor) {
        if (previous == null || ranFor.compareTo(RESET_AFTER) >= 0) return FIRST_DELAY;
        Duration d = previous.multipliedBy(2);
        return d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d;
    }
}
