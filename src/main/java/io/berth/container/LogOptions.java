package io.berth.container;

import io.berth.container.HostConfig.LogConfig;
import io.berth.runtime.LogRotator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container's HostConfig.LogConfig, checked as dockerd checks it for its json-file driver:
 * the same options, the same size syntax, the same messages. Berth keeps every log in
 * conmon's k8s-file format (read back by {@link io.berth.runtime.LogReader}), so "json-file"
 * (the default), "k8s-file" (Podman's name) and "none" (accepted as before; the log is kept)
 * are the drivers it takes.
 *
 * <pre>
 *   LogConfig lc = LogOptions.validate(asked, daemonDefault);  // ContainerException (400) when wrong
 *   Optional&lt;LogRotator.Limits&gt; l = LogOptions.limits(lc);     // present with max-size
 * </pre>
 */
public final class LogOptions {
    public static final String DEFAULT_DRIVER = "json-file";
    private static final Set<String> DRIVERS = Set.of("json-file", "k8s-file", "none");
    /** Drivers dockerd has built in that berthd does not: a different message than an unknown plugin. */
    private static final Set<String> DOCKER_DRIVERS = Set.of("local", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
            "etwlogs", "gcplogs", "logentries");
    /** json-file's options, and the two every driver takes (mode, max-buffer-size). */
    private static final Set<String> OPTS = Set.of("max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex",
            "tag", "mode", "max-buffer-size");
    private static final String INIT = "failed to initialize logging driver: ";
    /** go-units' RAMInBytes: a decimal number, an optional space, an optional binary unit (k, m, g, t, p), optional i and b. */
    private static final Pattern SIZE = Pattern.compile("^(\\d+(\\.\\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$");

    private LogOptions() {}

    /**
     * The log config a container gets: the driver defaults to the daemon's, the daemon's
     * options fill in for the driver it names (as dockerd merges daemon.json's log-opts), and
     * every option is checked.
     *
     * @param asked the create request's (may be null)
     * @param daemonDefault daemon.json's log-driver and log-opts (null: json-file, none)
     * @throws ContainerException 400 with dockerd's message
     */
    public static LogConfig validate(LogConfig asked, LogConfig daemonDefault) {
        String defType = daemonDefault == null || daemonDefault.type() == null || daemonDefault.type().isEmpty()
                ? DEFAULT_DRIVER : daemonDefault.type();
        String type = asked == null || asked.type() == null || asked.type().isEmpty() ? defType : asked.type();
        Map<String, String> config = new LinkedHashMap<>();
        if (asked != null && asked.config() != null) config.putAll(asked.config());
        if (type.equals(defType) && daemonDefault != null && daemonDefault.config() != null) {
            daemonDefault.config().forEach(config::putIfAbsent);
        }
        if (!DRIVERS.contains(type)) {
            if (DOCKER_DRIVERS.contains(type)) {
                throw ContainerException.invalid("logging driver \"" + type + "\" is not supported by berthd: use json-file (the default)");
            }
            throw ContainerException.invalid("error looking up logging plugin " + type + ": plugin \"" + type + "\" not found");
        }
        for (String k : config.keySet()) {
            if (!OPTS.contains(k)) throw ContainerException.invalid("unknown log opt '" + k + "' for " + type + " log driver");
        }
        try {
            check(config);
        } catch (IllegalArgumentException e) {
            throw ContainerException.invalid(INIT + e.getMessage());
        }
        return new LogConfig(type, config);
    }

    /** How a container's log is capped, from its settings. */
    public static Optional<LogRotator.Limits> limits(ContainerSettings.LogSettings log) {
        return log == null ? Optional.empty() : limits(new LogConfig(log.driver(), log.options()));
    }

    /** How the log is capped: present when max-size is set (max-file defaults to 1, as in dockerd). */
    public static Optional<LogRotator.Limits> limits(LogConfig lc) {
        if (lc == null || lc.config() == null || "none".equals(lc.type())) return Optional.empty();
        try {
            return Optional.ofNullable(check(lc.config()));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // validated at create; an older record is left uncapped
        }
    }

    /** dockerd's checks, in its order; null when there is no max-size. */
    private static LogRotator.Limits check(Map<String, String> config) {
        long maxSize = -1;
        String size = config.get("max-size");
        if (size != null) {
            maxSize = parseSize(size);
            if (maxSize <= 0) throw new IllegalArgumentException("max-size must be a positive number");
        }
        int maxFiles = 1;
        String files = config.get("max-file");
        if (files != null) {
            maxFiles = atoi(files);
            if (maxFiles < 1) throw new IllegalArgumentException("max-file cannot be less than 1");
        }
        String compress = config.get("compress");
        if (compress != null && parseBool(compress) && (maxFiles == 1 || maxSize == -1)) {
            throw new IllegalArgumentException("compress cannot be true when max-file is less than 2 or max-size is not set");
        }
        return maxSize > 0 ? new LogRotator.Limits(maxSize, maxFiles) : null;
    }

    /**
     * A size as dockerd reads {@code max-size}: "10k", "1.5m", "2g", "10kb", "10KiB", "512"
     * (bytes); units are binary (k = 1024).
     *
     * @throws IllegalArgumentException "invalid size: 'x'"
     */
    public static long parseSize(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) throw new IllegalArgumentException("invalid size: '" + s + "'");
        double value;
        try {
            value = Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size: '" + s + "'");
        }
        long unit = switch (m.group(3) == null ? "" : m.group(3).toLowerCase()) {
            case "k" -> 1L << 10;
            case "m" -> 1L << 20;
            case "g" -> 1L << 30;
            case "t" -> 1L << 40;
            case "p" -> 1L << 50;
            default -> 1;
        };
        return (long) (value * unit);
    }

    /** Go's strconv.Atoi, with its messages. */
    private static int atoi(String s) {
        if (!s.matches("[+-]?\\d+")) throw new IllegalArgumentException("strconv.Atoi: parsing \"" + s + "\": invalid syntax");
        try {
            long v = Long.parseLong(s.startsWith("+") ? s.substring(1) : s); // Go's int is 64 bits
            return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("strconv.Atoi: parsing \"" + s + "\": value out of range");
        }
    }

    /** Go's strconv.ParseBool, with its message. */
    private static boolean parseBool(String s) {
        return switch (s) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw new IllegalArgumentException("strconv.ParseBool: parsing \"" + s + "\": invalid syntax");
        };
    }
}
