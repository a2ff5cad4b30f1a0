package io.berth.testing;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
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
    private static final MethodHandle SETNS = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int CLONE_NEWNET = 0x40000000;

    /**
     * Runs {@code work} on a fresh platform thread that has joined the network namespace
     * {@code netns} (sockets it opens live there), so a Java client can speak from inside a
     * container's network; the thread ends with the work, the test JVM's own threads stay put.
     */
    public static <T> T inNetns(String netns, Callable<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().unstarted(() -> {
            try {
                int fd = io.berth.sys.Syscalls.openat2(-100, netns, 02000000 /* O_CLOEXEC */, 0, 0);
                try {
                    if ((int) SETNS.invokeExact(fd, CLONE_NEWNET) != 0) throw new IOException("setns into " + netns + " failed");
                } finally {
                    int ignored = (int) CLOSE.invokeExact(fd);
                }
                result.set(work.call());
            } catch (Exception e) {
                failure.set(e);
            } catch (Throwable e) {
                failure.set(new IllegalStateException(e));
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) throw failure.get();
        return result.get();
    }

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
