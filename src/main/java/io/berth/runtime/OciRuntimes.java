package io.berth.runtime;

import io.berth.sys.Cgroups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The OCI runtimes this daemon can use (crun, runc and any configured in daemon.json), and
 * which one containers get when they name none.
 *
 * @param available name → absolute path of every runtime found
 * @param defaultRuntime the runtime containers get by default
 * @param defaultReason why that one, shown by `docker info`
 */
public record OciRuntimes(Map<String, Path> available, String defaultRuntime, String defaultReason) {
    private static final Map<Path, java.util.Set<String>> MOUNT_OPTIONS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The mount options the default runtime says it supports ({@code runc features}, runc 1.1+
     * and crun 1.8+), read once; empty when it cannot tell. "rro" (recursive read-only, through
     * mount_setattr) is the one the CRI asks about.
     */
    public java.util.Set<String> mountOptions() {
        Path binary = available.get(defaultRuntime);
        if (binary == null) return java.util.Set.of();
        return MOUNT_OPTIONS.computeIfAbsent(binary, OciRuntimes::readMountOptions);
    }

    private static java.util.Set<String> readMountOptions(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "features").redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) return java.util.Set.of();
            java.util.Set<String> options = new java.util.HashSet<>();
            for (var o : OciSpec.JSON.readTree(out).path("mountOptions")) options.add(o.asString());
            return java.util.Set.copyOf(options);
        } catch (IOException | RuntimeException e) {
            return java.util.Set.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Set.of();
        }
    }

    public OciRuntimes {
        available = Map.copyOf(available);
    }

    /**
     * Finds the runtimes and picks the default: the configured one if given, else crun
     * where it works on this host, else runc.
     */
    public static OciRuntimes discover(Map<String, String> configured, String configuredDefault, Cgroups cgroups) {
        Map<String, Path> found = new LinkedHashMap<>();
        for (String name : new String[] {"crun", "runc"}) {
            findExecutable(name).ifPresent(p -> found.put(name, p));
        }
        for (Map.Entry<String, String> e : configured.entrySet()) {
            Path path = Path.of(e.getValue());
            if (!path.isAbsolute()) path = findExecutable(e.getValue()).orElse(path);
            found.put(e.getKey(), path);
        }
        if (configuredDefault != null && !configuredDefault.isEmpty()) {
            if (!found.containsKey(configuredDefault)) {
                throw new IllegalArgumentException("default-runtime \"" + configuredDefault + "\" is not a known runtime; known: " + found.keySet());
            }
            return new OciRuntimes(found, configuredDefault, "set by default-runtime");
        }
        if (found.containsKey("crun")) {
            if (cgroups.hybridWithControllers() && crunRefusesHybrid(found.get("crun"))) {
                if (found.containsKey("runc")) {
                    return new OciRuntimes(found, "runc", "crun " + version(found.get("crun")).orElse("")
                            + " refuses this host's cgroups (v1 with a cgroup2 mount that has controllers: \"hybrid mode not supported\"); using runc");
                }
                return new OciRuntimes(found, "crun", "crun may refuse this host's hybrid cgroups and runc is not installed");
            }
            return new OciRuntimes(found, "crun", "crun is the fastest runtime found");
        }
        if (found.containsKey("runc")) return new OciRuntimes(found, "runc", "crun is not installed");
        return new OciRuntimes(found, "runc", "no OCI runtime found: install crun or runc");
    }

    /** crun before 1.9 refuses a v1 host with a populated cgroup2 mount beside it. */
    static boolean crunRefusesHybrid(Path crun) {
        Optional<String> v = version(crun);
        if (v.isEmpty()) return true;
        String[] parts = v.get().split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major < 1 || (major == 1 && minor < 9);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /** `RUNTIME --version` output, asked once per binary: /version and /info show it on every call. */
    private static final Map<Path, String> VERSION_OUTPUT = new ConcurrentHashMap<>();

    /** Asks every runtime for its version in the background, so the first /version does not wait. */
    public void prefetchVersions() {
        for (Path p : available.values()) Thread.ofVirtual().start(() -> versionOutput(p));
    }

    /** The runtime's version number from its --version output, e.g. 1.8.1 or 1.1.5+ds1. */
    public static Optional<String> version(Path runtime) {
        return versionOutput(runtime).lines().findFirst().filter(l -> !l.isBlank()).map(line -> {
            String[] words = line.trim().split("\\s+");
            return words.length >= 3 ? words[2] : line.trim();
        });
    }

    /** The commit the runtime reports (runc and crun print "commit: ..."), or empty. */
    public static Optional<String> commit(Path runtime) {
        return versionOutput(runtime).lines().filter(l -> l.startsWith("commit:")).findFirst().map(l -> l.substring(7).trim());
    }

    private static String versionOutput(Path exe) {
        return VERSION_OUTPUT.computeIfAbsent(exe, p -> {
            try {
                Process proc = new ProcessBuilder(p.toString(), "--version").redirectErrorStream(true).start();
                String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!proc.waitFor(5, TimeUnit.SECONDS)) proc.destroyForcibly();
                return out;
            } catch (IOException e) {
                return "";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "";
            }
        });
    }

    public static Optional<Path> findExecutable(String name) {
        return io.berth.sys.Executables.find(name);
    }
}
