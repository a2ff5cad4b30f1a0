package io.berth.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Facts about the host read from /proc and /etc, the way `uname` and `free` read them. */
public final class HostInfo {
    private HostInfo() {}

    public static String kernelVersion() {
        return readTrimmed(Path.of("/proc/sys/kernel/osrelease"), System.getProperty("os.version"));
    }

    public static String hostname() {
        return readTrimmed(Path.of("/proc/sys/kernel/hostname"), "localhost");
    }

    /** The machine name as uname -m gives it (x86_64, aarch64). */
    public static String machine() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> System.getProperty("os.arch");
        };
    }

    /** The Go/OCI architecture name (amd64, arm64). */
    public static String goArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
    }

    public static int cpuCount() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Total memory in bytes from /proc/meminfo. */
    public static long memTotalBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String kb = line.substring("MemTotal:".length()).replace("kB", "").trim();
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** /etc/os-release as a map (PRETTY_NAME, VERSION_ID, ...), unquoted. */
    public static Map<String, String> osRelease() {
        Map<String, String> values = new HashMap<>();
        for (Path file : new Path[] {Path.of("/etc/os-release"), Path.of("/usr/lib/os-release")}) {
            try {
                for (String line : Files.readAllLines(file)) {
                    int eq = line.indexOf('=');
                    if (eq <= 0 || line.startsWith("#")) continue;
                    String value = line.substring(eq + 1).trim();
                    if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                        value = value.substring(1, value.length() - 1);
                    }
                    values.put(line.substring(0, eq).trim(), value);
                }
                return values;
            } catch (IOException tryNext) {
                // the other location
            }
        }
        return values;
    }

    /** A line of /proc/self/status such as Threads or Seccomp, or null. */
    public static String selfStatus(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return line.substring(field.length() + 1).trim();
            }
        } catch (IOException ignored) {
            // not on Linux
        }
        return null;
    }

    public static int openFileDescriptors() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Reads a small file such as a /proc/sys knob; {@code fallback} when it cannot be read. */
    public static String readTrimmed(Path file, String fallback) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return fallback;
        }
    }
}
