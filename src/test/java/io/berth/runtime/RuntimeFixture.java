package io.berth.runtime;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.sys.Cgroups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Real containers for tests: a busybox-static rootfs, runc (or crun where it works) under a
 * private state root, conmon, and cleanup that leaves no process, cgroup or state behind.
 */
final class RuntimeFixture implements AutoCloseable {
    final Path dir;
    final Path rootfs;
    final Path exitDir;
    final OciRuntime runtime;
    final Conmon conmon;
    final HostFacts host;
    private final List<Created> created = new ArrayList<>();

    record Created(String id, Path bundle, String cgroupsPath) {}

    RuntimeFixture(Path dir) throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        Optional<Path> conmonBin = Conmon.findConmon();
        assumeTrue(conmonBin.isPresent(), "needs conmon");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "needs busybox-static");
        this.dir = dir;
        this.rootfs = busyboxRootfs(dir.resolve("rootfs"));
        this.exitDir = dir.resolve("exits");
        OciRuntimes runtimes = OciRuntimes.discover(Map.of(), null, Cgroups.detect());
        String name = System.getProperty("berth.test.runtime", runtimes.defaultRuntime());
        assumeTrue(runtimes.available().containsKey(name), "needs " + name);
        this.runtime = new OciRuntime(name, runtimes.available().get(name), dir.resolve("runtime-root"));
        this.host = HostFacts.detect();
        this.conmon = new Conmon(conmonBin.get(), runtime, exitDir, host);
    }

    /** A directory with busybox and a symlink per applet in /bin, plus /etc/passwd and /tmp. */
    static Path busyboxRootfs(Path root) throws IOException {
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Process p = new ProcessBuilder("/bin/busybox", "--list").redirectErrorStream(true).start();
        String list = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        for (String applet : list.split("\n")) {
            applet = applet.trim();
            if (applet.isEmpty() || applet.equals("busybox") || applet.contains("/")) continue;
            Path link = bin.resolve(applet);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, Path.of("busybox"));
        }
        for (String d : List.of("etc", "tmp", "proc", "sys", "dev", "root")) Files.createDirectories(root.resolve(d));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\nnobody:x:65534:\n");
        return root;
    }

    static String newId() {
        return "berth-test-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    ContainerSpec.Builder spec(String... args) {
        return ContainerSpec.builder(rootfs, List.of(args)).env(List.of("PATH=/bin", "HOME=/root"));
    }

    Path bundle(String id) {
        return dir.resolve("c").resolve(id);
    }

    Path logPath(String id) {
        return bundle(id).resolve("ctr.log");
    }

    /** Creates (not starts) a container and remembers it for cleanup. */
    ContainerHandle create(String id, ContainerSpec spec) throws IOException {
        created.add(new Created(id, bundle(id), OciSpec.cgroupsPath(spec.cgroupParent(), id)));
        return conmon.create(id, bundle(id), spec, logPath(id));
    }

    /** Creates a container in a bundle of the caller's choosing. */
    ContainerHandle create(String id, ContainerSpec spec, Path bundle) throws IOException {
        created.add(new Created(id, bundle, OciSpec.cgroupsPath(spec.cgroupParent(), id)));
        return conmon.create(id, bundle, spec, bundle.resolve("ctr.log"));
    }

    ContainerHandle run(String id, ContainerSpec spec) throws IOException {
        ContainerHandle h = create(id, spec);
        conmon.start(id);
        return h;
    }

    /** Waits for the exit file. */
    ContainerExit awaitExit(String id, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            Optional<ContainerExit> e = conmon.exitOf(id);
            if (e.isPresent()) return e.get();
            Thread.sleep(10);
        }
        throw new AssertionError("container " + id + " did not exit within " + timeout);
    }

    String log(String id) throws IOException {
        Path p = logPath(id);
        return Files.exists(p) ? Files.readString(p) : "";
    }

    @Override
    public void close() throws Exception {
        List<String> problems = new ArrayList<>();
        for (Created c : created) {
            try {
                runtime.delete(c.id(), true);
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
            for (Path pidFile : List.of(c.bundle().resolve("conmon.pid"))) {
                try {
                    long pid = Long.parseLong(Files.readString(pidFile).trim());
                    waitGone(pid);
                } catch (IOException | NumberFormatException ignored) {
                    // never started
                }
            }
            killExecConmons(c.bundle().getParent());
            List<Path> left = new ContainerCgroup(c.cgroupsPath()).remove();
            if (!left.isEmpty()) problems.add("cgroups left: " + left);
        }
        created.clear();
        if (!problems.isEmpty()) throw new AssertionError("cleanup: " + problems);
    }

    private void killExecConmons(Path containersDir) {
        try (var walk = Files.walk(dir)) {
            walk.filter(p -> p.getFileName().toString().equals("conmon.pid")).forEach(p -> {
                try {
                    waitGone(Long.parseLong(Files.readString(p).trim()));
                } catch (IOException | NumberFormatException ignored) {
                    // gone
                }
            });
        } catch (IOException ignored) {
            // nothing
        }
    }

    /** Gives a conmon a moment to end after its container is gone, then kills it. */
    private static void waitGone(long pid) {
        if (!Conmon.awaitConmonExit(pid, Duration.ofSeconds(5))) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}
