package io.berth.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Test helpers: run host commands, and snapshot what networking leaves on the host. */
public final class HostNet {
    private HostNet() {}

    public record Result(int exit, String out) {}

    public static Result run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timeout");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("running " + String.join(" ", cmd), e);
        }
    }

    /** Runs a command in a namespace, as `ip netns exec` would. */
    public static Result inNs(String netns, String... cmd) {
        List<String> all = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        all.addAll(Arrays.asList(cmd));
        return run(all.toArray(String[]::new));
    }

    public static Set<String> links() {
        Set<String> names = new LinkedHashSet<>();
        for (String line : run("ip", "-o", "link", "show").out().split("\n")) {
            String[] f = line.split(": ");
            if (f.length > 1) names.add(f[1].split("@")[0]);
        }
        return names;
    }

    /** iptables-save without comments and counters. */
    public static Set<String> iptables() {
        Set<String> lines = new LinkedHashSet<>();
        for (String line : run("iptables-save").out().split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            lines.add(line.replaceAll(" \\[\\d+:\\d+\\]$", ""));
        }
        return lines;
    }

    /**
     * The rules added since {@code before} that are leaks: everything except the shared chains
     * the CNI plugins make once and keep (CNI-FORWARD, CNI-ADMIN, CNI-HOSTPORT-*).
     */
    public static List<String> leakedRules(Set<String> before) {
        List<String> leaks = new ArrayList<>();
        for (String line : iptables()) {
            if (before.contains(line)) continue;
            if (line.matches(".*CNI-(FORWARD|ADMIN|HOSTPORT-(DNAT|SETMARK|MASQ))\\b.*") && !line.matches(".*\\d+\\.\\d+\\.\\d+\\.\\d+.*")) continue;
            // Berth's forward chain and its jump stay, like the plugins' chains
            if (line.equals(":BERTH-FORWARD - [0:0]") || line.equals(":BERTH-FORWARD -") || line.equals("-A FORWARD -j BERTH-FORWARD")) continue;
            if (line.matches(":BERTH-ISOLATION-STAGE-[12] -( \\[0:0\\])?") || line.equals("-A BERTH-FORWARD -j BERTH-ISOLATION-STAGE-1")) continue;
            leaks.add(line);
        }
        return leaks;
    }

    /** Lease files (named by address) left under an IPAM folder. */
    public static List<String> leases(Path ipamDir) {
        if (!Files.isDirectory(ipamDir)) return List.of();
        try (Stream<Path> walk = Files.walk(ipamDir)) {
            return walk.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("\\d+\\.\\d+\\.\\d+\\.\\d+"))
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Mounts at or under {@code dir} (pinned namespaces left behind). */
    public static List<String> mountsUnder(Path dir) {
        String prefix = dir.toAbsolutePath().toString();
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String mp = line.split(" ")[4];
                if (mp.startsWith(prefix)) out.add(mp);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
