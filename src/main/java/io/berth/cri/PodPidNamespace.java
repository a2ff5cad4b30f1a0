package io.berth.cri;

import io.berth.sys.Namespaces;
import io.berth.sys.PrivateFiles;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A pod's own PID namespace, held by catatonit as its PID 1. A PID namespace cannot be pinned
 * like the network, UTS and IPC ones: nothing can join it once its first process is gone. So
 * every pod whose containers share one PID namespace gets a tiny init of its own (catatonit in
 * pause mode, about 1 MiB), started in a new PID namespace by {@code unshare --fork}; the
 * containers join it, see it as PID 1 (as kubelet's pause is in other runtimes) and are
 * reaped by it. It runs in its own session, so it outlives a restart of berthd as conmon does.
 * Its namespace file is also bind-mounted beside the pod's other ones: a container joins that
 * file, which names this namespace for as long as it lives and no other one ever.
 */
final class PodPidNamespace {
    private static final Duration START = Duration.ofSeconds(5);

    private PodPidNamespace() {}

    /** The file a pod's containers join for its PID namespace. */
    static Path file(Path podDir) {
        return podDir.resolve("pid");
    }

    private static Path holderFile(Path podDir) {
        return podDir.resolve("pid-holder");
    }

    /** Starts the pod's init in a new PID namespace and pins that namespace at {@link #file}. */
    static void start(Path podDir) throws IOException {
        Path init = io.berth.runtime.InitBinary.find()
                .orElseThrow(() -> new IOException("a pod sharing one PID namespace needs catatonit or tini on the node"));
        List<String> pause = init.getFileName().toString().startsWith("catatonit") ? List.of(init.toString(), "-P")
                : List.of(init.toString(), "-s", "--", "sleep", "infinity");
        List<String> command = new java.util.ArrayList<>(List.of("setsid", "unshare", "--pid", "--fork", "--kill-child"));
        command.addAll(pause);
        Process unshare = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        // reaped here; after a restart of berthd the orphan is the host init's to reap
        unshare.onExit();
        long initPid = -1;
        long deadline = System.nanoTime() + START.toNanos();
        try {
            while (initPid < 0 && System.nanoTime() < deadline) {
                initPid = childOf(unshare.pid());
                if (initPid < 0) {
                    if (!unshare.isAlive()) throw new IOException("the pod's PID namespace init ended at once (status " + unshare.exitValue() + ")");
                    Thread.sleep(2);
                }
            }
            if (initPid < 0) throw new IOException("the pod's PID namespace init did not start within " + START.toSeconds() + " s");
            PrivateFiles.createDirectories(podDir);
            Path pin = file(podDir);
            Files.deleteIfExists(pin);
            Files.createFile(pin);
            Syscalls.mount("/proc/" + initPid + "/ns/pid", pin.toString(), null, Syscalls.MS_BIND, null);
            io.berth.sys.AtomicFiles.writeForThisBoot(holderFile(podDir), Long.toString(initPid).getBytes(StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException | RuntimeException e) {
            unshare.destroyForcibly();
            Namespaces.unpin(file(podDir));
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw e instanceof IOException io ? io : new IOException("starting the pod's PID namespace: " + e, e);
        }
    }

    /** Ends the pod's init (and with it every process left in its namespace) and unpins the namespace. */
    static void stop(Path podDir) throws IOException {
        Path pin = file(podDir);
        holder(podDir).filter(pid -> sameNamespace(pid, pin))
                .flatMap(ProcessHandle::of)
                .ifPresent(ProcessHandle::destroyForcibly); // SIGKILL to a namespace's init kills all in it
        Namespaces.unpin(pin);
        Files.deleteIfExists(holderFile(podDir));
    }

    /** Whether the pod has its own PID namespace, pinned and alive. */
    static boolean live(Path podDir) {
        return holder(podDir).filter(pid -> sameNamespace(pid, file(podDir))).isPresent();
    }

    private static Optional<Long> holder(Path podDir) {
        try {
            return Optional.of(Long.parseLong(Files.readString(holderFile(podDir)).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The recorded pid is still the init of the pinned namespace (not a reused pid). */
    private static boolean sameNamespace(long pid, Path pin) {
        try {
            Object a = Files.getAttribute(Path.of("/proc/" + pid + "/ns/pid"), "unix:ino");
            Object b = Files.getAttribute(pin, "unix:ino");
            return a.equals(b) && Files.readString(Path.of("/proc/" + pid + "/status")).contains("\nNSpid:\t" + pid + "\t1\n");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The first child of {@code pid}, or -1 while it has none. */
    private static long childOf(long pid) {
        try {
            String children = Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).trim();
            return children.isEmpty() ? -1 : Long.parseLong(children.split(" ")[0]);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
