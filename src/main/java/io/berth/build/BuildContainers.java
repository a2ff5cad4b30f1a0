package io.berth.build;

import io.berth.runtime.AttachSession;
import io.berth.runtime.Capabilities;
import io.berth.runtime.ContainerCgroup;
import io.berth.runtime.ContainerExit;
import io.berth.runtime.ContainerHandle;
import io.berth.runtime.ContainerSpec;
import io.berth.runtime.HostFacts;
import io.berth.runtime.OciSpec;
import io.berth.runtime.Runtime;
import io.berth.runtime.RuntimeProvider;
import io.berth.runtime.SeccompProfile;
import io.berth.snapshot.LayerUnpacker;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic builder's intermediate containers: RUN's command in a rootfs the builder
 * mounted, through conmon and the OCI runtime, under a runtime state root of their own
 * (so they never mix with the user's containers). Each is removed with its cgroup, bundle
 * and exit file when it ends, whatever happened; {@link #reconcile} removes what a crash
 * left.
 *
 * <p>Network ({@link RunSpec#network}): {@code host} shares the host's namespace, with the
 * host's /etc/resolv.conf and /etc/hosts (read-only); {@code none} is a fresh namespace with
 * only a loopback device; anything else ({@code default}, {@code bridge}, a network's name)
 * is a namespace the engine joins to that network ({@link BuildNetworks}), as for
 * {@code docker run}, with the /etc/hosts and /etc/resolv.conf it gives, and undone when the
 * command ends, whatever happened.
 */
public final class BuildContainers {
    private static final Logger LOG = LoggerFactory.getLogger(BuildContainers.class);
    static final String CGROUP_PARENT = "/berth-build";

    private final Path bundles;
    /** Where the runner writes exit files: read at reconcile to find what a crash left. */
    private final Path exitDir;
    private final Runtime runtime;
    private final HostFacts host;
    private final String unavailable;
    private final BuildNetworks networks;
    private int running;

    /**
     * @param dir         where bundles go (short: conmon's attach socket path must fit in 108 bytes)
     * @param runtimes    the runner of build containers (their own state root and exit files)
     * @param runtimeName the runtime to use (the daemon's default)
     */
    public BuildContainers(Path dir, RuntimeProvider runtimes, String runtimeName, BuildNetworks networks) {
        this.networks = networks;
        this.bundles = dir.resolve("c");
        this.exitDir = dir.resolve("exits");
        Runtime found = null;
        String why = null;
        try {
            found = runtimes.find(runtimeName).orElse(null);
            if (found == null) why = "no OCI runtime is installed (install runc or crun)";
        } catch (IllegalStateException e) {
            why = e.getMessage(); // conmon is not installed
        }
        this.unavailable = why;
        this.host = why == null ? HostFacts.detect() : null;
        this.runtime = why == null ? found : null;
    }

    /**
     * What to run.
     *
     * @param id       the container's ID (64 hex digits)
     * @param rootfs   the mounted root file system
     * @param args     argv
     * @param env      KEY=value
     * @param cwd      absolute working directory
     * @param user     who runs it
     * @param network  {@code host}, {@code none}, {@code default}, {@code bridge} or a network's name or ID
     */
    public record RunSpec(String id, Path rootfs, List<String> args, List<String> env, String cwd, StageUsers.Identity user,
                          String network, List<String> extraHosts) {
        public RunSpec {
            extraHosts = extraHosts == null ? List.of() : List.copyOf(extraHosts);
        }

        public RunSpec(String id, Path rootfs, List<String> args, List<String> env, String cwd, StageUsers.Identity user,
                       String network) {
            this(id, rootfs, args, env, cwd, user, network, List.of());
        }
    }

    /** {@code name:address} entries as /etc/hosts lines, after the network's own (as dockerd appends them). */
    static String withExtraHosts(String hosts, List<String> extraHosts) {
        StringBuilder out = new StringBuilder(hosts);
        if (!extraHosts.isEmpty() && !hosts.isEmpty() && !hosts.endsWith("\n")) out.append('\n');
        for (String e : extraHosts) {
            int colon = e.indexOf(':');
            out.append(e.substring(colon + 1)).append('\t').append(e, 0, colon).append('\n');
        }
        return out.toString();
    }

    /** Receives the command's output, in order. */
    public interface Output {
        void write(AttachSession.StdStream stream, byte[] data);
    }

    /** The mount points a container gets whatever its image holds (created in the rootfs when missing). */
    public static List<String> mountPoints(String network) {
        List<String> out = new ArrayList<>(List.of("/proc", "/dev", "/sys"));
        if (!network.equals("none")) out.addAll(List.of("/etc/resolv.conf", "/etc/hosts"));
        return out;
    }

    /** Runs the command to its end; returns its exit status. The container is gone when this returns. */
    public int run(RunSpec s, Output out) throws IOException, BuildException {
        return run(s, out, () -> false);
    }

    /** Like {@link #run(RunSpec, Output)}; when {@code cancelled} turns true the command is killed. */
    public int run(RunSpec s, Output out, java.util.function.BooleanSupplier cancelled) throws IOException, BuildException {
        if (unavailable != null) throw new IOException("cannot run a build container: " + unavailable);
        String shortId = s.id().substring(0, 12);
        Path bundle = bundles.resolve(shortId);
        ContainerSpec.Builder b = ContainerSpec.builder(s.rootfs(), s.args())
                .env(s.env())
                .cwd(s.cwd())
                .user(s.user().uid(), s.user().gid())
                .additionalGids(s.user().additionalGids())
                .hostname(shortId)
                .cgroupParent(CGROUP_PARENT)
                .seccomp(SeccompProfile.dockerDefault(
                        new HashSet<>(Capabilities.resolve(List.of(), List.of(), false, host.capabilities())), SeccompProfile.hostGoArch()));
        boolean attached = false;
        if (s.network().equals("host")) {
            b.namespace(ContainerSpec.Namespace.NETWORK, ContainerSpec.NamespaceMode.HOST);
            for (String f : List.of("/etc/resolv.conf", "/etc/hosts")) {
                if (Files.isRegularFile(Path.of(f))) b.addMount(ContainerSpec.Mount.bind(Path.of(f), f, true));
            }
        } else if (!s.network().equals("none")) {
            BuildNetworks.Sandbox box = networks.attach(s.id(), shortId, s.network());
            attached = box != null;
            if (box != null) {
                try {
                    Files.createDirectories(bundle);
                    Path hosts = bundle.resolve("hosts");
                    Path resolv = bundle.resolve("resolv.conf");
                    Files.writeString(hosts, withExtraHosts(box.hosts(), s.extraHosts()));
                    Files.writeString(resolv, box.resolvConf());
                    b.namespace(ContainerSpec.Namespace.NETWORK, ContainerSpec.NamespaceMode.join(box.netns()));
                    b.addMount(ContainerSpec.Mount.bind(hosts, "/etc/hosts", false));
                    b.addMount(ContainerSpec.Mount.bind(resolv, "/etc/resolv.conf", false));
                } catch (IOException | RuntimeException e) {
                    detach(s.id());
                    io.berth.sys.FileTrees.deleteTree(bundle);
                    throw e;
                }
            }
        }
        ContainerSpec spec;
        try {
            spec = b.build();
        } catch (RuntimeException e) {
            if (attached) detach(s.id());
            io.berth.sys.FileTrees.deleteTree(bundle);
            throw e;
        }
        synchronized (this) {
            running++;
        }
        Files.createDirectories(bundle);
        AttachSession attach = null;
        Thread reader = null;
        try {
            ContainerHandle h = runtime.create(s.id(), bundle, spec, bundle.resolve("ctr.log"), 0);
            attach = runtime.attach(h);
            AttachSession a = attach;
            reader = Thread.ofPlatform().daemon().name("build-run " + shortId).start(() -> {
                try {
                    AttachSession.Frame f;
                    while ((f = a.read()) != null) out.write(f.stream(), f.data());
                } catch (IOException ignored) {
                    // closed
                }
            });
            runtime.start(s.id());
            ContainerExit exit = awaitExit(s.id(), reader, cancelled);
            reader.join(TimeUnit.SECONDS.toMillis(5));
            return exit.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while running " + String.join(" ", s.args()));
        } finally {
            if (attach != null) attach.close();
            remove(s.id(), bundle);
            if (attached) detach(s.id());
            synchronized (this) {
                if (--running == 0) removeParentCgroup();
            }
        }
    }

    /** Takes a build container off its network; a failure is logged (the daemon's reconcile retries it at start). */
    private void detach(String id) {
        try {
            networks.detach(id);
        } catch (RuntimeException e) {
            LOG.warn("build container {}: undoing its network: {}", id, e.getMessage());
        }
    }

    /** Removes the (empty) parent cgroup of build containers, so a host without builds running has none. */
    private static void removeParentCgroup() {
        for (Path d : new ContainerCgroup(CGROUP_PARENT).existing()) {
            try {
                Files.delete(d);
            } catch (IOException e) {
                // not empty: another container is there
            }
        }
    }

    private ContainerExit awaitExit(String id, Thread reader, java.util.function.BooleanSupplier cancelled) throws InterruptedException {
        long readerDoneAt = -1;
        boolean killed = false;
        while (true) {
            if (!killed && cancelled.getAsBoolean()) {
                killed = true;
                try {
                    runtime.kill(id, "KILL");
                } catch (IOException e) {
                    LOG.debug("killing cancelled build container {}: {}", id, e.getMessage());
                }
            }
            Optional<ContainerExit> e = runtime.exitOf(id);
            if (e.isPresent()) return e.get();
            if (!reader.isAlive()) {
                if (readerDoneAt < 0) readerDoneAt = System.nanoTime();
                // output ended: conmon writes the exit file right after; a missing one means it died
                if (System.nanoTime() - readerDoneAt > TimeUnit.SECONDS.toNanos(10)) {
                    return new ContainerExit(id, -1, java.time.Instant.now());
                }
            }
            Thread.sleep(reader.isAlive() ? 20 : 5);
        }
    }

    /** Removes a container's runtime state, conmon, cgroup, bundle and exit file. */
    private void remove(String id, Path bundle) {
        try {
            runtime.delete(id, bundle); // waits for conmon's end, forgets the exit file
        } catch (IOException e) {
            LOG.warn("build container {}: {}", id, e.getMessage());
        }
        List<Path> left = new ContainerCgroup(OciSpec.cgroupsPath(CGROUP_PARENT, id)).remove();
        if (!left.isEmpty()) LOG.warn("build container {}: cgroups left: {}", id, left);
        try {
            io.berth.sys.FileTrees.deleteTree(bundle);
        } catch (IOException e) {
            LOG.warn("build container {}: removing its bundle: {}", id, e.getMessage());
        }
    }

    /** Removes the build containers a crash left: runtime state, conmons, cgroups, bundles, exit files. */
    public void reconcile() {
        if (runtime == null) return;
        Set<String> ids = new HashSet<>();
        try {
            ids.addAll(runtime.list());
        } catch (IOException e) {
            LOG.warn("listing leftover build containers: {}", e.getMessage());
        }
        if (Files.isDirectory(exitDir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(exitDir)) {
                for (Path p : ds) ids.add(p.getFileName().toString());
            } catch (IOException ignored) {
                // none
            }
        }
        for (String id : ids) {
            if (id.length() < 12) continue;
            LOG.info("removing build container {} left by an earlier run", id);
            remove(id, bundles.resolve(id.substring(0, 12)));
        }
        try {
            io.berth.sys.FileTrees.deleteTree(bundles);
        } catch (IOException e) {
            LOG.warn("removing {}: {}", bundles, e.getMessage());
        }
        removeParentCgroup();
    }
}
