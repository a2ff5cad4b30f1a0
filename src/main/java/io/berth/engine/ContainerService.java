package io.berth.engine;

import io.berth.container.Commands;
import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerState;
import io.berth.container.ContainerStatus;
import io.berth.container.ContainerStore;
import io.berth.container.ContainerSettings;
import io.berth.container.DockerHostConfig;
import io.berth.container.HostConfig;
import io.berth.container.Names;
import io.berth.container.Operation;
import io.berth.container.RestartPolicies;
import io.berth.image.ImageConfig;
import io.berth.snapshot.Mount;
import io.berth.sys.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container use cases: create, start, stop, kill, restart, pause, rename, wait,
 * remove, prune, list, inspect; each publishes Docker's container events.
 */
public final class ContainerService {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerService.class);

    private final Supplier<EngineSettings> settings;
    private final EventBus events;
    private final ContainerStore store;
    private final ImageSource images;

    /**
     * Builds the container box: its wiring (networks and mounts, made from this service) and
     * its lifecycle on {@code runtimes}; nothing runs until the lifecycle's start.
     *
     * @param wiring makes the networks and mounts of containers ({@code s -> ContainerWiring.NONE}: none)
     * @param host the host side of running containers (mounts, loopback, signals)
     */
    public ContainerService(Supplier<EngineSettings> settings, EventBus events, ContainerStore store, ImageSource images,
                            java.util.function.Function<ContainerService, ContainerWiring> wiring, io.berth.runtime.RuntimeProvider runtimes,
                            ContainerHost host) {
        this.settings = settings;
        this.events = events;
        this.store = store;
        this.images = images;
        this.wiring = wiring.apply(this);
        this.lifecycle = new ContainerLifecycle(this, runtimes, host);
    }

    public ContainerStore store() {
        return store;
    }

    /** What a create asks: the name (or null), Docker's Config and HostConfig as sent. */
    public record CreateRequest(String name, ImageConfig.ContainerConfig config, HostConfig hostConfig, String platform,
                                Map<String, io.berth.network.Attachment> endpoints) {
        public CreateRequest(String name, ImageConfig.ContainerConfig config, HostConfig hostConfig, String platform) {
            this(name, config, hostConfig, platform, Map.of());
        }
    }

    public record Created(String id, List<String> warnings) {}

    // ================================================================ create

    /**
     * A container to make, in Berth's terms: what the Docker API's create and the CRI's
     * CreateContainer both come to. {@code asked} is the process's config as asked (the image's
     * defaults are merged in here), {@code settings} already checked by whoever mapped them.
     */
    public record NewContainer(String name, ImageConfig.ContainerConfig asked, ContainerSettings settings,
                               Map<String, io.berth.network.Attachment> endpoints) {}

    /** docker create: Docker's body checked and mapped once into the typed settings, then made. */
    public Created create(CreateRequest req) throws IOException {
        ImageConfig.ContainerConfig asked = req.config() == null ? ImageConfig.ContainerConfig.empty() : req.config();
        HostConfig host = req.hostConfig() == null ? HostConfig.empty() : req.hostConfig();
        String name = req.name() == null || req.name().isEmpty() ? null : Names.normalize(req.name());
        if (asked.image() == null || asked.image().isEmpty()) throw ContainerException.invalid("Config.Image must be set: no image given");
        RestartPolicies.validate(host.restartPolicy(), host.isAutoRemove());
        EngineSettings s = settings.get();
        String runtime = host.runtime() == null || host.runtime().isEmpty() ? s.runtimes().defaultRuntime() : host.runtime();
        if (!s.runtimes().available().containsKey(runtime)) throw ContainerException.invalid("Unknown runtime specified " + runtime);
        wiring.check(host);
        ContainerNetworking.checkPorts(host);
        host = host.withLogConfig(io.berth.container.LogOptions.validate(host.logConfig(), s.logDefaults()));
        // the one translation from Docker's body to ours; it checks capabilities, security options and
        // namespace modes; the checks below read the typed settings
        ContainerSettings settings = DockerHostConfig.toSettings(host.withRuntime(runtime).withDefaults(runtime));
        io.berth.container.CreateChecks.check(settings);
        io.berth.container.CreateChecks.checkResources(settings.resources());
        return create(new NewContainer(name, asked, settings, req.endpoints()));
    }

    /** Makes the container: the image resolved, its config merged with the image's, the writable layer, the record, the wiring. */
    public Created create(NewContainer req) throws IOException {
        ImageConfig.ContainerConfig asked = req.asked();
        ContainerSettings settings = req.settings();
        String name = req.name();
        List<String> warnings = new ArrayList<>();

        ImageSource.Resolved image = images.resolve(asked.image());
        ImageConfig.ContainerConfig ic = image.config();
        Commands.Resolved cmd = Commands.resolve(ic.entrypoint(), ic.cmd(), asked.entrypoint(), asked.cmd());
        String id = store.newId();
        Map<String, String> labels = new LinkedHashMap<>();
        if (ic.labels() != null) labels.putAll(ic.labels());
        if (asked.labels() != null) labels.putAll(asked.labels());
        Map<String, Map<String, Object>> exposed = new LinkedHashMap<>();
        if (ic.exposedPorts() != null) exposed.putAll(ic.exposedPorts());
        if (asked.exposedPorts() != null) exposed.putAll(asked.exposedPorts());
        Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
        if (ic.volumes() != null) volumes.putAll(ic.volumes());
        if (asked.volumes() != null) volumes.putAll(asked.volumes());
        String hostname = asked.hostname() == null || asked.hostname().isEmpty() ? id.substring(0, 12) : asked.hostname();
        if (settings.networking().namespace() instanceof ContainerSettings.NamespaceMode.Host
                && (asked.hostname() == null || asked.hostname().isEmpty())) {
            hostname = io.berth.sys.HostInfo.hostname();
        }
        ImageConfig.ContainerConfig config = new ImageConfig.ContainerConfig(
                hostname,
                nz(asked.domainname()),
                asked.user() != null && !asked.user().isEmpty() ? asked.user() : nz(ic.user()),
                bool(asked.attachStdin()), bool(asked.attachStdout()), bool(asked.attachStderr()),
                exposed.isEmpty() ? null : exposed,
                bool(asked.tty()), bool(asked.openStdin()), bool(asked.stdinOnce()),
                Commands.mergeEnv(ic.env(), asked.env()),
                cmd.cmd(),
                asked.healthcheck() != null ? asked.healthcheck() : ic.healthcheck(),
                null,
                asked.image(),
                volumes.isEmpty() ? null : volumes,
                asked.workingDir() != null && !asked.workingDir().isEmpty() ? asked.workingDir() : nz(ic.workingDir()),
                cmd.entrypoint().isEmpty() ? null : cmd.entrypoint(),
                ic.onBuild(),
                labels,
                asked.stopSignal() != null && !asked.stopSignal().isEmpty() ? asked.stopSignal() : ic.stopSignal(),
                asked.stopTimeout(),
                asked.shell());
        if (!config.workingDir().isEmpty() && !config.workingDir().startsWith("/")) {
            throw ContainerException.invalid("the working directory '" + config.workingDir() + "' is invalid, it needs to be an absolute path");
        }
        if (config.stopSignal() != null) io.berth.container.StopSignals.parse(config.stopSignal());

        String snapshotKey = "container-" + id;
        images.snapshots().prepare(snapshotKey, image.topSnapshotKey());
        Container c;
        try {
            ContainerRecord record = new ContainerRecord(id, name, Instant.now(), cmd.path(), cmd.args(), config, settings, image.id(),
                    asked.image(), snapshotKey, ContainerState.created(), 0, false, image.platform());
            c = store.add(record);
        } catch (IOException | RuntimeException e) {
            removeSnapshotQuietly(snapshotKey);
            throw e;
        }
        try {
            wiring.created(c.record(), req.endpoints());
        } catch (IOException | RuntimeException e) {
            store.discard(c);
            removeSnapshotQuietly(snapshotKey);
            throw e;
        }
        publish(c.record(), "create", Map.of());
        return new Created(id, warnings);
    }

    // ================================================================ rename, wait, remove

    public void rename(String ref, String newName) throws IOException {
        Container c = store.get(ref);
        c.check(Operation.RENAME);
        if (newName == null || newName.isEmpty()) throw ContainerException.invalid("Neither old nor new names may be empty");
        String n = Names.normalize(newName);
        store.rename(c, n); // tells rename, with oldName
    }

    public enum WaitCondition { NOT_RUNNING, NEXT_EXIT, REMOVED }

    /** What wait gets: the container now (for the 404 before the answer begins) and a blocking waiter. */
    public record Waiter(Container container, WaitCondition condition, long exitsBefore) {}

    public Waiter prepareWait(String ref, WaitCondition condition) {
        Container c = store.get(ref);
        return new Waiter(c, condition, c.exitCount());
    }

    /** Blocks until the condition holds; returns the exit code (and an error text, or null). */
    public WaitResult await(Waiter w) throws InterruptedException {
        Container c = w.container();
        Duration forever = Duration.ofDays(3650);
        switch (w.condition()) {
            // an exit counts even when a restart policy starts it again at once: dockerd hands waiters the first exit's code
            case NOT_RUNNING -> c.await(x -> x.isRemoved() || x.exitCount() > w.exitsBefore() || !isActive(x.record().state().status()), forever);
            case NEXT_EXIT -> c.awaitExitAfter(w.exitsBefore(), forever);
            case REMOVED -> c.await(Container::isRemoved, forever);
        }
        ContainerState st = c.record().state();
        // as dockerd: waiting for the removal reports the removal's error (none once it is gone), not a failed start's
        if (w.condition() == WaitCondition.REMOVED && c.isRemoved()) return new WaitResult(st.exitCode(), null);
        return new WaitResult(st.exitCode(), st.error().isEmpty() ? null : st.error());
    }

    public record WaitResult(int statusCode, String error) {}

    private static boolean isActive(ContainerStatus s) {
        return s == ContainerStatus.RUNNING || s == ContainerStatus.PAUSED || s == ContainerStatus.RESTARTING;
    }

    /** docker rm [-f] [-v]. */
    public void remove(String ref, boolean force, boolean volumes) throws IOException, InterruptedException {
        Container c = store.get(ref);
        long t0 = System.nanoTime();
        c.begin(force ? Operation.FORCE_REMOVE : Operation.REMOVE, Duration.ofSeconds(30));
        long t1 = System.nanoTime();
        try {
            c.cancelPendingRestart();
            if (force && (c.record().state().status().hasProcess() || c.record().state().status() == ContainerStatus.RESTARTING)) {
                lifecycle.killForRemoval(c);
            }
            c.removing(force);
        } finally {
            c.end(force ? Operation.FORCE_REMOVE : Operation.REMOVE);
        }
        long t2 = System.nanoTime();
        destroy(c, volumes);
        if (LOG.isDebugEnabled()) {
            LOG.debug("removed {}: wait for other operations {} ms, kill until the exit is handled {} ms, destroy {} ms", c.id(),
                    (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (System.nanoTime() - t2) / 1_000_000);
        }
    }

    void destroy(Container c) throws IOException {
        destroy(c, false);
    }

    /** Unmounts and deletes the writable layer and the record, then tells: destroy. With {@code volumes}, anonymous volumes go too. */
    void destroy(Container c, boolean volumes) throws IOException {
        ContainerRecord r = c.record();
        long t0 = System.nanoTime();
        lifecycle.releaseResources(c);
        long t1 = System.nanoTime();
        wiring.removed(r, volumes);
        long t2 = System.nanoTime();
        execs.forgetContainer(r.id());
        Path rootfs = rootfsDir(r.id());
        if (MountTable.mountsUnder(rootfs).contains(rootfs.toString())) Mount.unmount(rootfs);
        long t3 = System.nanoTime();
        removeSnapshotQuietly(r.snapshotKey());
        long t4 = System.nanoTime();
        store.remove(c); // tells destroy
        long t5 = System.nanoTime();
        if (LOG.isDebugEnabled()) {
            LOG.debug("destroyed {}: release {} ms, unwire {} ms, unmount {} ms, snapshot {} ms, record {} ms", r.id(),
                    (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000, (t5 - t4) / 1_000_000);
        }
    }

    /** docker container prune: removes every stopped container the filter keeps; returns their IDs and bytes. */
    public record Pruned(List<String> ids, long reclaimed) {}

    public Pruned prune(Map<String, Set<String>> filters) throws IOException {
        List<String> ids = new ArrayList<>();
        long bytes = 0;
        for (Container c : store.list()) {
            ContainerRecord r = c.record();
            if (r.settings().inPod()) continue; // kubelet removes its own
            ContainerStatus st = r.state().status();
            if (st != ContainerStatus.EXITED && st != ContainerStatus.CREATED && st != ContainerStatus.DEAD) continue;
            if (!ContainerFilters.matchesLabels(r, filters) || !ContainerFilters.matchesUntil(r, filters)) continue;
            try {
                long size = sizeRw(r);
                c.begin(Operation.REMOVE, Duration.ofSeconds(5));
                try {
                    c.removing(false);
                } finally {
                    c.end(Operation.REMOVE);
                }
                destroy(c);
                ids.add(r.id());
                bytes += size;
            } catch (ContainerException e) {
                LOG.debug("prune skips {}: {}", r.id(), e.getMessage());
            }
        }
        events.publish("container", "prune", "", Map.of("reclaimed", Long.toString(bytes)));
        return new Pruned(ids, bytes);
    }

    // ================================================================ list, inspect

    public List<ContainerRecord> list(boolean all, int limit, Map<String, Set<String>> filters) {
        List<ContainerRecord> out = new ArrayList<>();
        // a pod's containers are the CRI's, as containerd keeps kubelet's in a namespace of their own
        List<ContainerRecord> records = store.list().stream().map(Container::record).filter(r -> !r.settings().inPod()).toList();
        ContainerFilters f = new ContainerFilters(filters, this::findRecord, records);
        for (ContainerRecord r : records) {
            boolean show = all || limit > 0 || isActive(r.state().status()) || filters.containsKey("status") || filters.containsKey("exited");
            if (!show) continue;
            if (!f.matches(r, image -> imageIdOf(image))) continue;
            out.add(r);
            if (limit > 0 && out.size() >= limit) break;
        }
        return out;
    }

    private ContainerRecord findRecord(String ref) {
        return store.find(ref).map(Container::record).orElse(null);
    }

    private String imageIdOf(String name) {
        try {
            return images.resolve(name).id();
        } catch (RuntimeException e) {
            return null;
        }
    }

    public Container get(String ref) {
        return store.get(ref);
    }

    /** Bytes written to the writable layer (SizeRw). */
    public long sizeRw(ContainerRecord r) {
        try {
            return du(images.snapshots().diffDir(r.snapshotKey()));
        } catch (IOException e) {
            return 0;
        }
    }

    /** Bytes of the image's layers plus the writable layer (SizeRootFs), approximated by walking the rootfs' layers. */
    public long sizeRootFs(ContainerRecord r) {
        long total = sizeRw(r);
        try {
            var info = images.snapshots().stat(r.snapshotKey());
            for (String k = info.parent(); k != null; ) {
                total += du(images.snapshots().diffDir(k));
                k = images.snapshots().stat(k).parent();
            }
        } catch (IOException ignored) {
            // a missing layer counts nothing
        }
        return total;
    }

    static long du(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        long[] sum = {0};
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) sum[0] += attrs.size();
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException exc) {
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        return sum[0];
    }

    public int[] counts() {
        int running = 0;
        int paused = 0;
        int stopped = 0;
        for (Container c : store.list()) {
            switch (c.record().state().status()) {
                case RUNNING, RESTARTING -> running++;
                case PAUSED -> paused++;
                default -> stopped++;
            }
        }
        return new int[] {running + paused + stopped, running, paused, stopped};
    }

    // ================================================================ changes, export

    /** A change in the writable layer: kind 0 modified, 1 added, 2 deleted (Docker's numbers). */
    public record Change(String path, int kind) {}

    /** docker diff: what the container's writable layer changed against the image. */
    public List<Change> changes(String ref) throws IOException {
        ContainerRecord r = store.get(ref).record();
        var snaps = images.snapshots();
        Path upper = snaps.diffDir(r.snapshotKey());
        List<Path> lowers = new ArrayList<>();
        for (String k = snaps.stat(r.snapshotKey()).parent(); k != null; k = snaps.stat(k).parent()) lowers.add(snaps.diffDir(k));
        List<Change> out = new ArrayList<>();
        try (var walk = Files.walk(upper)) {
            for (Path p : walk.sorted().toList()) {
                if (p.equals(upper)) continue;
                String rel = "/" + upper.relativize(p);
                boolean whiteout = false;
                try {
                    whiteout = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther() && ((Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            & 0170000) == 0020000 && ((Long) Files.getAttribute(p, "unix:rdev", java.nio.file.LinkOption.NOFOLLOW_LINKS)) == 0;
                } catch (IOException | UnsupportedOperationException ignored) {
                    // plain file
                }
                if (whiteout) {
                    out.add(new Change(rel, 2));
                    continue;
                }
                boolean inLower = false;
                for (Path l : lowers) {
                    if (Files.exists(l.resolve(rel.substring(1)), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        inLower = true;
                        break;
                    }
                }
                out.add(new Change(rel, inLower ? 0 : 1));
            }
        }
        return out;
    }

    /** docker export: the container's filesystem as a tar (mounted for the while when it does not run). */
    public void export(String ref, java.io.OutputStream out) throws IOException {
        ContainerRecord r = store.get(ref).record();
        Path rootfs = rootfsDir(r.id());
        Files.createDirectories(rootfs);
        boolean mountedHere = false;
        if (!MountTable.mountsUnder(rootfs).contains(rootfs.toString())) {
            Mount.mountAll(images.snapshots().mounts(r.snapshotKey()), rootfs);
            mountedHere = true;
        }
        try {
            io.berth.archive.TreeCopy.pack(rootfs, "/.", out);
        } finally {
            if (mountedHere && !store.get(ref).record().state().status().hasProcess()) Mount.unmount(rootfs);
        }
        publish(r, "export", Map.of());
    }

    // ================================================================ paths and events

    /** Where the container's root filesystem is mounted while it runs. */
    public Path rootfsDir(String id) {
        return store.directory(id).resolve("rootfs");
    }

    /** The log conmon writes: the container's own, or for a pod's container the file kubelet named. */
    public Path logPath(String id) {
        ContainerSettings.PodMember pod = podOf(id);
        if (pod != null && !pod.logPath().isEmpty()) return Path.of(pod.logPath());
        return store.directory(id).resolve("container.log");
    }

    public Path hostnamePath(String id) {
        return etcDir(id).resolve("hostname");
    }

    public Path hostsPath(String id) {
        return etcDir(id).resolve("hosts");
    }

    public Path resolvConfPath(String id) {
        return etcDir(id).resolve("resolv.conf");
    }

    /** Where the container's resolv.conf, hostname and hosts are: its own folder, or its pod's, which all its containers share. */
    private Path etcDir(String id) {
        ContainerSettings.PodMember pod = podOf(id);
        return pod != null ? Path.of(pod.filesDir()) : store.directory(id);
    }

    private ContainerSettings.PodMember podOf(String id) {
        return store.find(id).map(c -> c.record().settings().pod()).orElse(null);
    }

    void publish(ContainerRecord r, String action, Map<String, String> extra) {
        Map<String, String> attributes = io.berth.container.ContainerEvents.attributes(r, extra);
        events.publish(Event.typeOfContainer(attributes), action, r.id(), attributes);
    }

    private void removeSnapshotQuietly(String key) {
        try {
            images.snapshots().remove(key);
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot remove the writable layer {}: {}", key, e.toString());
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static Boolean bool(Boolean b) {
        return Boolean.TRUE.equals(b);
    }

    // Networks and mounts come from the wiring (see Wiring).
    private final ContainerWiring wiring;

    public ContainerWiring wiring() {
        return wiring;
    }

    // The running side (start, stop, kill, attach, exec) lives in ContainerLifecycle.
    private final ContainerLifecycle lifecycle;

    public ContainerLifecycle lifecycle() {
        return lifecycle;
    }

    private final ExecService execs = new ExecService(this);

    public ExecService execs() {
        return execs;
    }

    private final ContainerStats stats = new ContainerStats(this);

    public ContainerStats stats() {
        return stats;
    }

    public EventBus events() {
        return events;
    }

    public ImageSource images() {
        return images;
    }

    public Supplier<EngineSettings> settings() {
        return settings;
    }
}
