package io.berth.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The interface counters of a container's network namespace, for stats' {@code networks}:
 * read from the host's /proc/PID/net/dev of its init process (procfs shows the namespace of
 * that process; nothing inside the container's root is read). Loopback is left out, as
 * dockerd leaves it out.
 */
public final class NetworkCounters {
    private NetworkCounters() {}

    /** Interface name to dockerd's counters; empty when the process is gone or has only loopback. */
    public static Map<String, Map<String, Long>> of(long pid) {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        if (pid <= 0) return out;
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "dev"));
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String name = line.substring(0, colon).trim();
            if (name.equals("lo")) continue;
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            if (f.length < 12) continue;
            try {
                Map<String, Long> c = new LinkedHashMap<>();
                c.put("rx_bytes", Long.parseLong(f[0]));
                c.put("rx_packets", Long.parseLong(f[1]));
                c.put("rx_errors", Long.parseLong(f[2]));
                c.put("rx_dropped", Long.parseLong(f[3]));
                c.put("tx_bytes", Long.parseLong(f[8]));
                c.put("tx_packets", Long.parseLong(f[9]));
                c.put("tx_errors", Long.parseLong(f[10]));
                c.put("tx_dropped", Long.parseLong(f[11]));
                out.put(name, c);
            } catch (NumberFormatException e) {
                // a line procfs did not write as expected: leave that interface out
            }
        }
        return out;
    }
}
