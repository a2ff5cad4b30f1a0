package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.container.Commands;
import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import io.berth.container.HealthProbe;
import io.berth.container.ContainerSettings;
import io.berth.engine.spec.SpecInput;
import io.berth.engine.spec.SpecSteps;
import io.berth.container.LogOptions;
import io.berth.container.Operation;
import io.berth.container.RestartPolicies;
import io.berth.container.Users;
import io.berth.runtime.AttachSession;
import io.berth.runtime.ContainerExit;
import io.berth.runtime.ContainerHandle;
import io.berth.runtime.ContainerSpec;
import io.berth.runtime.HostFacts;
import io.berth.runtime.LogReader;
import io.berth.runtime.LogReader.LogQuery;
import io.berth.runtime.LogRotator;
import io.berth.runtime.OciSpec;
import io.berth.runtime.OciRuntimeException;
import io.berth.runtime.Runtime;
import io.berth.runtime.RuntimeProvider;
import io.berth.runtime.SeccompProfile;
import io.berth.sys.HostInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running side of containers: start (rootfs, wiring, spec, the runtime's create and
 * start), restart, and the reconcile with what the runtime kept alive when
 * the daemon starts. The rest is in its parts, each a concern: {@link ContainerExits} (an
 * exit, the restart policy, --rm), {@link ContainerSignals} (stop, kill, pause),
 * {@link ContainerHealth} (HEALTHCHECK probes) and {@link ContainerAttach} (attach, resize, logs). Stands on the runtime box through
 * {@link Runtime} (conmon + runc/crun, or a fake in tests) and on the host through
 * {@link ContainerHost}, both given to its constructor; nothing runs before {@link #start()}.
 */
public final class ContainerLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerLifecycle.class);

    private final ContainerService service;
    private final RuntimeProvider runtimes;
    private final ContainerHost hostSide;
    private final HostFacts host = HostFacts.detect();
    private final Map<String, ContainerHandle> handles = new ConcurrentHashMap<>();
    /** attach, resize, logs; holds the attach requests waiting for a start. */
    private final ContainerAttach attach;
    /** stop, kill, pause, unpause. */
    private final ContainerSignals signals;
    /** exits, restart policies, auto-removal. */
    private final ContainerExits exits;
    /** HEALTHCHECK probes while a run lasts. */
    private final ContainerHealth health = new ContainerHealth(this::runtime, this::bundle, this::containerDir);
    /** Caps the logs of running containers that have a max-size. */
    private final LogRotator logRotator = new LogRotator(this::logTargets);

    /** Holds its parts only: {@link #start()} brings it up. */
    ContainerLifecycle(ContainerService service, RuntimeProvider runtimes, ContainerHost hostSide) {
        this.service = service;
        this.runtimes = runtimes;
        this.hostSide = hostSide;
        this.attach = new ContainerAttach(service, handles, this::runtime);
        this.signals = new ContainerSignals(service, this::runtime, hostSide);
        this.exits = new ContainerExits(service, handles, this::runtime, hostSide, this::cgroupsPath, this::bundle, this::capLogAfterExit,
                this::startProcess);
    }

    /**
     * Where conmon writes exit files: under the exec root (a tmpfs, /run), so an exit is
     * recorded even when the data root is full. Exits of containers started by a daemon that
     * used the data root's {@code runtime/exits} are read from there as well.
     */
    static io.berth.runtime.ConmonRuntimes conmonRuntimes(Supplier<EngineSettings> settings) {
        Path runtimeDir = settings.get().dataRoot().resolve("runtime");
        Path execRoot = settings.get().execRoot();
        Path legacyExitDir = runtimeDir.resolve("exits");
        Path exitDir = execRoot != null ? execRoot.resolve("exits") : legacyExitDir;
        return new io.berth.runtime.ConmonRuntimes(() -> settings.get().runtimes().available(), runtimeDir, exitDir,
                List.of(legacyExitDir), HostFacts.detect());
    }

    /**
     * Comes up on daemon start: watches exits, removes the spools a crash left, reconciles
     * with what the runtime kept, and starts the log rotator and the writer of unsaved exits.
     */
    void start() throws IOException {
        runtimes.start();
        long spools = ContainerFiles.reapSpools(service.store());
        if (spools > 0) LOG.info("removed {} bytes of copies into containers that a crash or a full disk cut short", spools);
        reconcile();
        logRotator.start();
        exits.startSavingUnsaved();
    }

    /** The logs the rotator looks after: those of the containers conmon holds now, with a max-size. */
    private List<LogRotator.Target> logTargets() {
        List<LogRotator.Target> out = new ArrayList<>();
        for (String id : handles.keySet()) {
            service.store().find(id).ifPresent(c -> LogOptions.limits(c.record().settings().log())
                    .ifPresent(l -> out.add(new LogRotator.Target(id, service.logPath(id), bundle(id), l))));
        }
        return out;
    }

    /** A last look at a log once conmon has ended: a file conmon replaced on its own is kept, the held name dropped. */
    private void capLogAfterExit(ContainerRecord r) {
        LogOptions.limits(r.settings().log()).ifPresent(l -> {
            try {
                logRotator.check(new LogRotator.Target(r.id(), service.logPath(r.id()), bundle(r.id()), l), false);
            } catch (IOException e) {
                LOG.debug("log rotation of {} after its exit: {}", r.shortId(), e.toString());
            }
        });
    }

    private Runtime runtime(ContainerRecord r) {
        String name = r.settings().runtime();
        return runtimes.find(name).orElseThrow(() -> ContainerException.invalid("Unknown runtime specified " + name));
    }

    private Path containerDir(String id) {
        return service.store().directory(id);
    }

    Path bundle(String id) {
        return service.store().directory(id).resolve("bundle");
    }

    private String cgroupsPath(ContainerRecord r) {
        String parent = r.settings().resources().cgroupParent();
        return OciSpec.cgroupsPath(parent == null || parent.isEmpty() ? "/berth" : parent, r.id());
    }

    // ================================================================ start

    public void start(String ref) throws IOException {
        Container c = service.get(ref);
        c.beginStart(Duration.ofSeconds(60));
        boolean failed = false;
        try {
            exits.resetBackoff(c.id());
            startProcess(c);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        } finally {
            c.end(Operation.START);
            // as dockerd: a --rm container that failed to start is removed, so a client waiting for its removal returns
            if (failed && c.record().settings().autoRemove() && !c.record().state().status().hasProcess()) exits.autoRemove(c);
        }
    }

    /** Mounts the rootfs, writes the bundle, has conmon create and start the container, and watches its exit. */
    void startProcess(Container c) throws IOException {
        ContainerRecord r = c.record();
        String id = r.id();
        Path rootfs = service.rootfsDir(id);
        long t0 = System.nanoTime();
        ContainerWiring.Started wired = null;
        boolean created = false;
        try {
            Files.createDirectories(rootfs);
            hostSide.mountRootfs(r.snapshotKey(), rootfs);
            long t1 = System.nanoTime();
            wired = service.wiring().starting(r, rootfs);
            long t2 = System.nanoTime();
            ContainerSpec spec = spec(r, rootfs, wired);
            Runtime runtime = runtime(r);
            Path bundle = bundle(id);
            Files.createDirectories(bundle);
            try {
                runtime.delete(id); // a leftover of an earlier run, and its exit file
            } catch (IOException ignored) {
                // nothing to delete
            }
            // after the exit file is gone: the watcher's rescan may have reported it again till then
            runtime.unwatchExit(id);
            long t3 = System.nanoTime();
            long logCap = LogOptions.limits(r.settings().log()).map(LogRotator::hardCap).orElse(0L);
            ContainerHandle h;
            try {
                h = runtime.create(id, bundle, spec, service.logPath(id), logCap);
            } catch (IOException | RuntimeException createFailed) {
                // a failed wiring (a port taken, say) takes the namespace away under the
                // runtime's feet: its failure is the one to tell
                try {
                    Futures.await(wired.ready());
                } catch (IOException | RuntimeException wiringFailed) {
                    wiringFailed.addSuppressed(createFailed);
                    throw wiringFailed;
                }
                throw createFailed;
            }
            created = true;
            handles.put(id, h);
            long t4 = System.nanoTime();
            Futures.await(wired.ready());
            // a namespace of the network box comes with lo up; one the runtime made does not
            if (wired.netnsPath() == null && r.settings().networking().namespace() instanceof ContainerSettings.NamespaceMode.Private) {
                hostSide.loopbackUp(h.pid());
            }
            long t5 = System.nanoTime();
            // Attach clients connect before the process starts, so they miss nothing of its output.
            attach.connectWaiting(id, runtime, h);
            // running on disk (and "start" told) before the process runs: a daemon that dies next,
            // or a process that fills the disk at once, still finds it running. Its exit is
            // watched only from then on, so even an exit at once is told after the start.
            var hc = r.config().healthcheck();
            c.started(h.pid(), hc != null && hc.test() != null && !hc.test().isEmpty() && !hc.test().getFirst().equals("NONE"));
            exits.watch(c, runtime);
            try {
                runtime.start(id);
            } catch (IOException e) {
                // the exit file tells the rest; make sure it comes
                try {
                    runtime.kill(id, "KILL");
                } catch (IOException ignored) {
                    // already gone
                }
                throw e;
            }
            if (c.record().state().health() != null) health.start(c, h.pid());
            if (LOG.isDebugEnabled()) {
                LOG.debug("started {}: rootfs {} ms, namespace {} ms, spec {} ms, create {} ms, rest of wiring {} ms, start {} ms", id,
                        ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3), ms(t5 - t4), ms(System.nanoTime() - t5));
            }
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.warn("container {} failed to start: {}", id, message);
            if (!c.record().state().status().hasProcess()) {
                if (wired != null) wired.ready().handle((v, x) -> null).join(); // never undo a wiring still being done
                if (created) {
                    handles.remove(id);
                    try {
                        runtime(r).delete(id, bundle(id));
                    } catch (IOException | RuntimeException x) {
                        e.addSuppressed(x);
                    }
                }
                hostSide.unmountRootfs(rootfs);
                service.wiring().stopped(c.record());
                int code = e instanceof OciRuntimeException.ProcessNotStarted p ? p.reason().exitCode() : 128;
                c.startFailed(message, code); // no "die": dockerd 20.10 tells none for a start that failed
                attach.failWaiting(id, e);
            }
            if (e instanceof ContainerException ce) throw ce;
            if (e instanceof OciRuntimeException.ProcessNotStarted) {
                throw ContainerException.invalid("failed to create task for container: " + message + ": unknown");
            }
            // not an IOException: the API layer takes those for a broken connection; this is dockerd's 500
            throw new IllegalStateException("failed to start container " + id + ": " + message, e);
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    /** The runtime's view of the container: its settings turned into a ContainerSpec by the steps of SpecSteps. */
    private ContainerSpec spec(ContainerRecord r, Path rootfs, ContainerWiring.Started wired) throws IOException {
        ContainerSettings s = r.settings();
        Path initBinary = null;
        if (Boolean.TRUE.equals(s.process().init())) {
            initBinary = io.berth.runtime.InitBinary.find()
                    .orElseThrow(() -> ContainerException.invalid("--init needs catatonit or tini on the host"));
        }
        Users.Resolved user = Users.resolve(rootfs, r.config().user(), s.security().groupAdd(), !s.security().strictGroups());
        String cwd = SpecSteps.workingDir(r);
        if (!cwd.equals("/")) {
            // made inside the root by descriptor: a symlink in the image cannot send the mkdir to the host
            try (io.berth.sys.Fd root = io.berth.archive.TreeCopy.openRoot(rootfs);
                    io.berth.sys.Fd made = io.berth.archive.TreeCopy.makeInRoot(root, cwd, true)) {
                LOG.trace("working directory {} ready", made.name());
            } catch (IOException e) {
                LOG.debug("cannot make the working directory {}: {}", cwd, e.toString());
            }
        }
        SpecInput in = new SpecInput(r, rootfs, user, initBinary,
                new SpecInput.EtcFiles(service.resolvConfPath(r.id()), service.hostnamePath(r.id()), service.hostsPath(r.id())),
                wired.mounts(), wired.netnsPath(), LinkEnvironment.of(r, service), host.capabilities(), this::joinOf);
        return SpecSteps.build(in);
    }

    private ContainerSpec.NamespaceMode joinOf(String ref, ContainerSpec.Namespace ns) {
        ContainerRecord other = service.get(ref).record();
        if (!other.state().status().hasProcess()) {
            throw ContainerException.conflict("cannot join the namespaces of container " + other.id() + ": Container " + other.id() + " is not running");
        }
        return ContainerSpec.NamespaceMode.ofProcess(other.state().pid(), ns);
    }


    /** The CRI's ReopenContainerLog: the runtime starts a new log file at the path (kubelet renamed the old one). */
    public void reopenLog(String ref) throws IOException {
        ContainerRecord r = service.get(ref).record();
        if (r.state().status() != ContainerStatus.RUNNING) {
            throw new io.berth.errdefs.KindedException(ErrorKind.FAILED_PRECONDITION, "container " + r.id() + " is not running");
        }
        runtime(r).reopenLog(r.id(), bundle(r.id()));
        // conmon opens the new file after it reads the request; kubelet (and critest) look for it
        // as soon as the call returns, as containerd answers only once it is there
        Path log = service.logPath(r.id());
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(2).toNanos();
        while (!Files.exists(log) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ================================================================ stop, kill, restart, pause

    /** docker stop: kill (the stop signal), [kill 9 after the timeout], die, stop, as dockerd tells them. */
    public void stop(String ref, Integer timeoutSeconds, String signal) throws IOException, InterruptedException {
        signals.stop(ref, timeoutSeconds, signal);
    }

    /** docker kill: kill (with the signal), and with SIGKILL waits for the die that follows. */
    public void kill(String ref, String signal) throws IOException, InterruptedException {
        signals.kill(ref, signal);
    }

    /** docker rm -f of a running container: SIGKILL and wait for the exit. */
    void killForRemoval(Container c) throws IOException, InterruptedException {
        signals.killForRemoval(c);
    }

    /** docker restart: the stop's events (when it ran), then start and restart. */
    public void restart(String ref, Integer timeoutSeconds, String signal) throws IOException, InterruptedException {
        Container c = service.get(ref);
        c.check(Operation.RESTART);
        try {
            stop(ref, timeoutSeconds, signal);
        } catch (ContainerException e) {
            if (e.kind() != ErrorKind.NOT_MODIFIED) throw e;
        }
        start(ref);
        c.restarted();
    }

    public void pause(String ref) throws IOException {
        signals.pause(ref);
    }

    public void unpause(String ref) throws IOException {
        signals.unpause(ref);
    }

    /** Frees what a container holds besides its record and layer. */
    void releaseResources(Container c) {
        handles.remove(c.id());
        exits.resetBackoff(c.id());
        attach.cancelWaiting(c.id());
        try {
            Runtime runtime = runtime(c.record());
            runtime.unwatchExit(c.id());
            runtime.delete(c.id());
        } catch (IOException | RuntimeException ignored) {
            // not known to the runtime
        }
    }

    // ================================================================ attach, resize, logs

    /** Where attached output goes: stream 1 stdout, 2 stderr (everything is 1 with a tty). */
    public interface Output {
        void write(int stream, byte[] data) throws IOException;
    }

    public record AttachOptions(boolean stream, boolean logs, boolean stdin, boolean stdout, boolean stderr, byte[] detachKeys) {}

    /** Docker's --detach-keys: "ctrl-p,ctrl-q" and the like. */
    public static byte[] parseDetachKeys(String keys) {
        if (keys == null || keys.isEmpty()) return new byte[] {16, 17};
        String[] parts = keys.split(",");
        byte[] out = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String k = parts[i].trim().toLowerCase(java.util.Locale.ROOT);
            if (k.startsWith("ctrl-") && k.length() == 6) {
                char ch = k.charAt(5);
                if (ch >= 'a' && ch <= 'z') out[i] = (byte) (ch - 'a' + 1);
                else if (ch == '@') out[i] = 0;
                else if (ch == '[') out[i] = 27;
                else if (ch == '\\') out[i] = 28;
                else if (ch == ']') out[i] = 29;
                else if (ch == '^') out[i] = 30;
                else if (ch == '_') out[i] = 31;
                else throw ContainerException.invalid("Invalid detach keys (" + keys + ") provided");
            } else if (k.length() == 1) {
                out[i] = (byte) k.charAt(0);
            } else {
                throw ContainerException.invalid("Invalid detach keys (" + keys + ") provided");
            }
        }
        return out;
    }

    /**
     * Attaches to a container's stdio: replays the log first with {@code logs}, then (with
     * {@code stream}) relays output until the container's streams end, the client detaches
     * with the detach keys, or it goes away. A created container is attached when it starts.
     */
    public void attach(String ref, AttachOptions o, InputStream stdin, Output out) throws IOException, InterruptedException {
        attach.attach(ref, o, stdin, out);
    }

    public void resize(String ref, int rows, int cols) throws IOException {
        attach.resize(ref, rows, cols);
    }

    /** Reads the container's log (its rotated files first); with {@code q.follow()}, until the container stops or the sink says no. */
    public void logs(String ref, LogQuery q, LogReader.Sink sink) throws IOException, InterruptedException {
        attach.logs(ref, q, sink);
    }

    public ContainerHandle handle(String id) {
        return handles.get(id);
    }

    /** The runtime that runs {@code r}. */
    public Runtime runtimeFor(ContainerRecord r) {
        return runtime(r);
    }

    public String cgroupsPathOf(ContainerRecord r) {
        return cgroupsPath(r);
    }

    // ================================================================ reconcile

    /** On daemon start: adopt what conmon kept running, record the true exit of what ended, start what should run. */
    private void reconcile() {
        for (Container c : service.store().list()) {
            ContainerRecord r = c.record();
            try {
                switch (r.state().status()) {
                    case RUNNING, PAUSED -> {
                        Runtime.Recovered rec = runtime(r).recover(r.id(), bundle(r.id()));
                        switch (rec) {
                            case Runtime.Recovered.Live live -> {
                                handles.put(r.id(), live.handle());
                                c.recovered(live.state().isPaused());
                                exits.watch(c, runtime(r));
                                LOG.info("container {} still runs (pid {}): adopted", r.shortId(), live.handle().pid());
                            }
                            case Runtime.Recovered.Exited ex -> {
                                LOG.info("container {} exited with {} while the daemon was away", r.shortId(), ex.exit().exitCode());
                                exits.handle(c, ex.exit());
                            }
                            case Runtime.Recovered.Gone g -> {
                                LOG.warn("container {} vanished while the daemon was away", r.shortId());
                                exits.handle(c, new ContainerExit(r.id(), 255, Instant.now()));
                            }
                        }
                    }
                    case RESTARTING -> exits.scheduleRestart(c, Duration.ZERO);
                    case REMOVING -> service.destroy(c);
                    case EXITED -> {
                        if (r.state().startedAt() != null && RestartPolicies.startOnDaemonStart(r.settings().restart(), r.manuallyStopped())) {
                            Thread.ofVirtual().start(() -> {
                                try {
                                    start(r.id());
                                } catch (IOException | RuntimeException e) {
                                    LOG.warn("cannot start {} on daemon start: {}", r.shortId(), e.getMessage());
                                }
                            });
                        }
                    }
                    default -> { }
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot reconcile container {}: {}", r.shortId(), e.toString());
            }
        }
    }
}
