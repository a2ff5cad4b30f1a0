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
import io.berth.container.StopSignals;
import io.berth.container.Users;
import io.berth.runtime.AttachSession;
import io.berth.runtime.Conmon;
import io.berth.runtime.ContainerExit;
import io.berth.runtime.ContainerHandle;
import io.berth.runtime.ContainerSpec;
import io.berth.runtime.ExitWatcher;
import io.berth.runtime.HostFacts;
import io.berth.runtime.LogReader;
import io.berth.runtime.LogReader.LogQuery;
import io.berth.runtime.LogRotator;
import io.berth.runtime.OciRuntime;
import io.berth.runtime.OciSpec;
import io.berth.runtime.SeccompProfile;
import io.berth.snapshot.Mount;
import io.berth.sys.HostInfo;
import io.berth.sys.MountTable;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running side of containers: start, stop, kill, restart, pause, attach, logs, and the
 * exit watcher with its restart policies; reconciles with what conmon kept alive when the
 * daemon starts. Stands on the runtime box (conmon + runc/crun).
 */
public final class ContainerLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerLifecycle.class);

    private final ContainerService service;
    private final Path runtimeDir;
    private final HostFacts host = HostFacts.detect();
    private final Map<String, Conmon> conmons = new ConcurrentHashMap<>();
    private final Map<String, ContainerHandle> handles = new ConcurrentHashMap<>();
    /** Attach requests waiting for a created container to start: run after the runtime's create, before its start. */
    private final Map<String, List<CompletableFuture<AttachSession>>> attachOnStart = new ConcurrentHashMap<>();
    private final Map<String, Duration> backoff = new ConcurrentHashMap<>();
    private final ExitWatcher exits;
    /**
     * Where conmon writes exit files: under the exec root (a tmpfs, /run), so an exit is
     * recorded even when the data root is full. Exits of containers started by a daemon
     * that used {@code legacyExitDir} are read from there as well.
     */
    private final Path exitDir;
    private final Path legacyExitDir;
    /** Containers whose exit is known but not yet on disk (the data root was full): their exit files are kept till it is. */
    private final Map<String, ContainerExit> unsavedExits = new ConcurrentHashMap<>();
    /** Caps the logs of running containers that have a max-size. */
    private final LogRotator logRotator = new LogRotator(this::logTargets);

    ContainerLifecycle(ContainerService service) throws IOException {
        this.service = service;
        service.setLifecycle(this);
        this.runtimeDir = service.settings().get().dataRoot().resolve("runtime");
        Path execRoot = service.settings().get().execRoot();
        this.legacyExitDir = runtimeDir.resolve("exits");
        this.exitDir = execRoot != null ? execRoot.resolve("exits") : legacyExitDir;
        this.exits = new ExitWatcher(exitDir, List.of(legacyExitDir), null);
        exits.start();
        long spools = ContainerFiles.reapSpools(service.store());
        if (spools > 0) LOG.info("removed {} bytes of copies into containers that a crash or a full disk cut short", spools);
        reconcile();
        logRotator.start();
        Thread.ofVirtual().name("unsaved exits").start(this::saveUnsavedExits);
    }

    /**
     * Writes the records of exits that a full disk kept in memory only, once there is room,
     * and only then lets conmon's exit file go: until then a restarted daemon reads the exit
     * from that file.
     */
    private void saveUnsavedExits() {
        while (true) {
            try {
                Thread.sleep(UNSAVED_RETRY.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            for (Map.Entry<String, ContainerExit> e : List.copyOf(unsavedExits.entrySet())) {
                Container c = service.store().find(e.getKey()).orElse(null);
                if (c == null || c.isRemoved()) {
                    unsavedExits.remove(e.getKey());
                } else if (c.saveAgain()) {
                    unsavedExits.remove(e.getKey());
                    forgetExitFile(c, e.getValue());
                }
            }
        }
    }

    private static final Duration UNSAVED_RETRY = Duration.ofSeconds(2);

    /** Deletes conmon's exit file once {@code handled} is recorded, unless it is already a newer run's. */
    private void forgetExitFile(Container c, ContainerExit handled) {
        try {
            Conmon conmon = conmon(c.record());
            ContainerExit onDisk = conmon.exitOf(c.id()).orElse(null);
            if (onDisk != null && onDisk.time().equals(handled.time())) conmon.forgetExit(c.id());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot delete the exit file of {}: {}", c.id(), e.toString());
        }
    }

    /** The logs the rotator looks after: those of the containers conmon holds now, with a max-size. */
    private List<LogRotator.Target> logTargets() {
        List<LogRotator.Target> out = new ArrayList<>();
        for (String id : handles.keySet()) {
            service.store().find(id).ifPresent(c -> LogOptions.limits(c.record().hostConfig().logConfig())
                    .ifPresent(l -> out.add(new LogRotator.Target(id, service.logPath(id), bundle(id), l))));
        }
        return out;
    }

    /** A last look at a log once conmon has ended: a file conmon replaced on its own is kept, the held name dropped. */
    private void capLogAfterExit(ContainerRecord r) {
        LogOptions.limits(r.hostConfig().logConfig()).ifPresent(l -> {
            try {
                logRotator.check(new LogRotator.Target(r.id(), service.logPath(r.id()), bundle(r.id()), l), false);
            } catch (IOException e) {
                LOG.debug("log rotation of {} after its exit: {}", r.shortId(), e.toString());
            }
        });
    }

    private Conmon conmon(String runtimeName) {
        return conmons.computeIfAbsent(runtimeName, n -> {
            Path binary = service.settings().get().runtimes().available().get(n);
            if (binary == null) throw ContainerException.invalid("Unknown runtime specified " + n);
            Path conmon = Conmon.findConmon().orElseThrow(() -> new IllegalStateException("conmon is not installed: install Debian's conmon"));
            return new Conmon(conmon, new OciRuntime(n, binary, runtimeDir.resolve(n)), exitDir, List.of(legacyExitDir), host);
        });
    }

    private Conmon conmon(ContainerRecord r) {
        return conmon(r.hostConfig().runtime());
    }

    Path bundle(String id) {
        return service.store().directory(id).resolve("bundle");
    }

    private String cgroupsPath(ContainerRecord r) {
        String parent = r.hostConfig().cgroupParent();
        return OciSpec.cgroupsPath(parent == null || parent.isEmpty() ? "/berth" : parent, r.id());
    }

    // ================================================================ start

    public void start(String ref) throws IOException {
        Container c = service.get(ref);
        c.beginStart(Duration.ofSeconds(60));
        boolean failed = false;
        try {
            backoff.remove(c.id());
            startProcess(c);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        } finally {
            c.end(Operation.START);
            // as dockerd: a --rm container that failed to start is removed, so a client waiting for its removal returns
            if (failed && c.record().hostConfig().isAutoRemove() && !c.record().state().status().hasProcess()) autoRemove(c);
        }
    }

    /** Mounts the rootfs, writes the bundle, has conmon create and start the container, and watches its exit. */
    private void startProcess(Container c) throws IOException {
        ContainerRecord r = c.record();
        String id = r.id();
        Path rootfs = service.rootfsDir(id);
        long t0 = System.nanoTime();
        ContainerWiring.Started wired = null;
        boolean created = false;
        try {
            Files.createDirectories(rootfs);
            if (!MountTable.mountsUnder(rootfs).contains(rootfs.toString())) {
                Mount.mountAll(service.images().snapshots().mounts(r.snapshotKey()), rootfs);
            }
            long t1 = System.nanoTime();
            wired = service.wiring().starting(r, rootfs);
            long t2 = System.nanoTime();
            ContainerSpec spec = spec(r, rootfs, wired);
            Conmon conmon = conmon(r);
            Path bundle = bundle(id);
            Files.createDirectories(bundle);
            try {
                conmon.delete(id); // a leftover of an earlier run, and its exit file
            } catch (IOException ignored) {
                // nothing to delete
            }
            // after the exit file is gone: the watcher's rescan may have reported it again till then
            exits.forget(id);
            long t3 = System.nanoTime();
            long logCap = LogOptions.limits(r.hostConfig().logConfig()).map(LogRotator::hardCap).orElse(0L);
            ContainerHandle h;
            try {
                h = conmon.create(id, bundle, spec, service.logPath(id), logCap);
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
            if (wired.netnsPath() == null && !r.hostConfig().network().equals("host")
                    && !r.hostConfig().network().startsWith("container:")) loopbackUp(h.pid());
            long t5 = System.nanoTime();
            // Attach clients connect before the process starts, so they miss nothing of its output.
            List<CompletableFuture<AttachSession>> waiting = attachOnStart.remove(id);
            if (waiting != null) {
                for (CompletableFuture<AttachSession> f : waiting) {
                    try {
                        AttachSession a = AttachSession.open(h.bundle());
                        if (!f.complete(a)) a.close();
                    } catch (IOException e) {
                        f.completeExceptionally(e);
                    }
                }
            }
            // running on disk (and "start" told) before the process runs: a daemon that dies next,
            // or a process that fills the disk at once, still finds it running. Its exit is
            // watched only from then on, so even an exit at once is told after the start.
            var hc = r.config().healthcheck();
            c.started(h.pid(), hc != null && hc.test() != null && !hc.test().isEmpty() && !hc.test().getFirst().equals("NONE"));
            exits.await(id).thenAccept(e -> Thread.ofVirtual().name("exit " + id).start(() -> handleExit(c, e)));
            try {
                conmon.start(id);
            } catch (IOException e) {
                // the exit file tells the rest; make sure it comes
                try {
                    conmon.kill(id, "KILL");
                } catch (IOException ignored) {
                    // already gone
                }
                throw e;
            }
            if (c.record().state().health() != null) startHealthChecks(c, h.pid());
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
                        conmon(r).delete(id, bundle(id));
                    } catch (IOException | RuntimeException x) {
                        e.addSuppressed(x);
                    }
                }
                unmountQuietly(rootfs);
                service.wiring().stopped(c.record());
                int code = message.contains("executable file not found") || message.contains("no such file or directory") ? 127
                        : message.contains("permission denied") ? 126 : 128;
                c.startFailed(message, code); // no "die": dockerd 20.10 tells none for a start that failed
                attachOnStart.getOrDefault(id, List.of()).forEach(f -> f.completeExceptionally(e));
                attachOnStart.remove(id);
            }
            if (e instanceof ContainerException ce) throw ce;
            if (message.contains("executable file not found") || message.contains("no such file or directory")
                    || message.contains("permission denied")) {
                throw ContainerException.invalid("failed to create task for container: " + message + ": unknown");
            }
            // not an IOException: the API layer takes those for a broken connection; this is dockerd's 500
            throw new IllegalStateException("failed to start container " + id + ": " + message, e);
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static void loopbackUp(long pid) {
        try {
            Process p = new ProcessBuilder("nsenter", "-t", Long.toString(pid), "-n", "ip", "link", "set", "lo", "up")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) LOG.warn("cannot bring up lo in container pid {}: {}", pid, out);
        } catch (IOException | InterruptedException e) {
            LOG.warn("cannot bring up lo in container pid {}: {}", pid, e.toString());
        }
    }

    /** The runtime's view of the container: its settings turned into a ContainerSpec by the steps of SpecSteps. */
    private ContainerSpec spec(ContainerRecord r, Path rootfs, ContainerWiring.Started wired) throws IOException {
        ContainerSettings s = r.settings();
        Path initBinary = null;
        if (Boolean.TRUE.equals(s.process().init())) {
            initBinary = io.berth.runtime.InitBinary.find()
                    .orElseThrow(() -> ContainerException.invalid("--init needs catatonit or tini on the host"));
        }
        Users.Resolved user = Users.resolve(rootfs, r.config().user(), s.security().groupAdd());
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

    // ================================================================ health checks

    /** Runs the image's or create's HEALTHCHECK in the container every interval while this run (pid) lasts. */
    private void startHealthChecks(Container c, long pid) {
        var hc = c.record().config().healthcheck();
        List<String> test = hc.test();
        List<String> argv = switch (test.getFirst()) {
            case "CMD" -> test.subList(1, test.size());
            case "CMD-SHELL" -> List.of("/bin/sh", "-c", String.join(" ", test.subList(1, test.size())));
            default -> test;
        };
        if (argv.isEmpty()) return;
        Duration interval = nanos(hc.interval(), Duration.ofSeconds(30));
        Duration timeout = nanos(hc.timeout(), Duration.ofSeconds(30));
        Duration startPeriod = nanos(hc.startPeriod(), Duration.ZERO);
        int retries = hc.retries() == null || hc.retries() <= 0 ? 3 : hc.retries();
        Instant started = Instant.now();
        Thread.ofVirtual().name("health " + c.record().shortId()).start(() -> {
            try {
                while (true) {
                    Thread.sleep(interval.toMillis());
                    ContainerRecord r = c.record();
                    if (c.isRemoved() || r.state().pid() != pid || !r.state().status().hasProcess()) return;
                    if (r.state().status() == ContainerStatus.PAUSED) continue;
                    HealthProbe probe = probe(r, argv, timeout);
                    int code = probe.exitCode();
                    boolean inStartPeriod = Duration.between(started, Instant.now()).compareTo(startPeriod) < 0;
                    String before = c.record().state().health();
                    int streak = c.record().state().failingStreak();
                    String next;
                    if (code == 0) {
                        next = "healthy";
                        streak = 0;
                    } else if (inStartPeriod) {
                        next = before;
                    } else {
                        streak++;
                        next = streak >= retries ? "unhealthy" : before;
                    }
                    if (!c.healthChecked(pid, code, next, streak, probe)) return;
                }
            } catch (InterruptedException | IOException | RuntimeException e) {
                LOG.debug("health checks of {} ended: {}", c.id(), e.toString());
            }
        });
    }

    /**
     * Runs one health check in the container: its exit code and its output (stdout and stderr
     * together, the first {@link HealthProbe#MAX_OUTPUT} bytes); -1 and dockerd's message when it
     * outlasts {@code timeout} or cannot run.
     */
    private HealthProbe probe(ContainerRecord r, List<String> argv, Duration timeout) {
        Instant start = Instant.now();
        var output = new java.io.ByteArrayOutputStream();
        try (var session = conmon(r).exec(r.id(), bundle(r.id()), service.store().directory(r.id()).resolve("health"),
                new io.berth.runtime.ExecSpec(argv, List.of(), null, null, null, List.of(), false, false, true, false, 0, 0))) {
            // a platform thread: the receive is a native call, which would pin a virtual thread's carrier
            Thread reader = Thread.ofPlatform().daemon().name("health-output " + r.shortId()).start(() -> {
                try {
                    AttachSession.Frame f;
                    while ((f = session.attach().read()) != null) {
                        synchronized (output) {
                            int room = HealthProbe.MAX_OUTPUT - output.size();
                            if (room > 0) output.write(f.data(), 0, Math.min(room, f.data().length));
                        }
                    }
                } catch (IOException ended) {
                    // the session closed: what came is the output
                }
            });
            int code = session.waitFor(timeout);
            reader.join(Duration.ofSeconds(2)); // conmon ends the stream right after the exit
            synchronized (output) {
                return new HealthProbe(start, Instant.now(), code, output.toString(StandardCharsets.UTF_8));
            }
        } catch (java.util.concurrent.TimeoutException e) {
            return new HealthProbe(start, Instant.now(), -1, "Health check exceeded timeout (" + goDuration(timeout) + ")");
        } catch (IOException e) {
            return new HealthProbe(start, Instant.now(), -1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new HealthProbe(start, Instant.now(), -1, "health check interrupted");
        }
    }

    /** Go's way of printing a duration, as in dockerd's messages: 30s, 1.5s, 500ms, 1m0s. */
    static String goDuration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + "ms";
        long minutes = ms / 60_000;
        String seconds = java.math.BigDecimal.valueOf(ms % 60_000, 3).stripTrailingZeros().toPlainString() + "s";
        return minutes == 0 ? seconds : minutes + "m" + seconds;
    }

    private static Duration nanos(Long n, Duration fallback) {
        return n == null || n <= 0 ? fallback : Duration.ofNanos(n);
    }

    // ================================================================ exit and restart

    private void handleExit(Container c, ContainerExit exit) {
        try {
            ContainerRecord r = c.record();
            if (!r.state().status().hasProcess() || c.isRemoved()) return;
            String id = r.id();
            ContainerHandle h = handles.remove(id);
            Conmon conmon = conmon(r);
            boolean oom = h != null && conmon.oomKilled(h, cgroupsPath(r));
            int code = exit.exitCode() < 0 ? 255 : exit.exitCode();
            long t0 = System.nanoTime();
            // The network's teardown and the runtime's delete are independent runs of other
            // programs: side by side, the exit is handled in the time of the longer one.
            CompletableFuture<Void> unwired = CompletableFuture.runAsync(() -> service.wiring().stopped(r), Thread::startVirtualThread);
            try {
                // the exit file stays until the exit is on disk: it is the record a restart reads meanwhile
                conmon.deleteFromRuntime(id, bundle(id));
            } catch (IOException e) {
                LOG.debug("runtime delete of {}: {}", id, e.toString());
            }
            capLogAfterExit(r);
            exits.forget(id);
            long t1 = System.nanoTime();
            unmountQuietly(service.rootfsDir(id));
            long t2 = System.nanoTime();
            Futures.await(unwired);
            long t3 = System.nanoTime();
            boolean restart = !r.hostConfig().isAutoRemove()
                    && RestartPolicies.shouldRestart(r.hostConfig().restart(), code, r.restartCount(), r.manuallyStopped());
            Instant started = r.state().startedAt();
            // tells oom, then die (exitCode only, as dockerd 20.10)
            if (!restart && r.hostConfig().isAutoRemove()) c.exitedBeforeRemoval(code, oom);
            else c.exited(code, oom, restart);
            if (c.isUnsaved()) {
                LOG.warn("container {} exited with {}, but its record cannot be written (is the data root full?): "
                        + "kept in memory and in {}, written once there is room", r.shortId(), code, exitDir);
                unsavedExits.put(id, exit);
            } else {
                forgetExitFile(c, exit);
            }
            if (restart) {
                Duration ran = started == null ? Duration.ZERO : Duration.between(started, Instant.now());
                Duration delay = RestartPolicies.nextDelay(backoff.get(id), ran);
                backoff.put(id, delay);
                scheduleRestart(c, delay);
            } else if (r.hostConfig().isAutoRemove()) {
                autoRemove(c);
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("exit of {} handled: delete {} ms, unmount {} ms, unwire {} ms, rest {} ms", id,
                        ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(System.nanoTime() - t3));
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("handling the exit of container {} failed", c.id(), e);
        }
    }

    private void scheduleRestart(Container c, Duration delay) {
        Thread t = Thread.ofVirtual().name("restart " + c.id()).unstarted(() -> {
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            try {
                c.beginPolicyRestart(Duration.ofSeconds(60));
            } catch (IOException | ContainerException e) {
                return; // the user acted meanwhile (stop, start, rm)
            }
            try {
                startProcess(c);
            } catch (IOException | RuntimeException e) {
                LOG.warn("restart of {} failed: {}", c.id(), e.getMessage());
            } finally {
                c.end(Operation.START);
            }
        });
        c.setCancelRestart(t::interrupt);
        t.start();
    }

    private void autoRemove(Container c) {
        try {
            c.begin(Operation.REMOVE, Duration.ofSeconds(30));
            try {
                c.removing(false);
            } finally {
                c.end(Operation.REMOVE);
            }
            service.destroy(c, true); // --rm takes the anonymous volumes along, as in dockerd
        } catch (IOException | RuntimeException e) {
            LOG.warn("auto-remove of {} failed: {}", c.id(), e.toString());
        }
    }

    private static void unmountQuietly(Path rootfs) {
        try {
            if (MountTable.mountsUnder(rootfs).contains(rootfs.toString())) Mount.unmount(rootfs);
        } catch (IOException e) {
            LOG.warn("cannot unmount {}: {}", rootfs, e.toString());
        }
    }

    // ================================================================ stop, kill, restart, pause

    /** docker stop: kill (the stop signal), [kill 9 after the timeout], die, stop, as dockerd tells them. */
    public void stop(String ref, Integer timeoutSeconds, String signal) throws IOException, InterruptedException {
        Container c = service.get(ref);
        ContainerRecord r = c.begin(Operation.STOP, Duration.ofSeconds(60));
        try {
            if (c.stopping()) {
                int sig = StopSignals.parse(signal != null && !signal.isEmpty() ? signal
                        : r.config().stopSignal() != null ? r.config().stopSignal() : "SIGTERM");
                int timeout = timeoutSeconds != null ? timeoutSeconds : r.config().stopTimeout() != null ? r.config().stopTimeout() : 10;
                signalAndWait(c, sig, timeout);
            }
            c.stopped();
        } finally {
            c.end(Operation.STOP);
        }
    }

    /** Sends {@code sig}; if the container is still up after {@code timeout} seconds (negative: forever), SIGKILL. */
    private void signalAndWait(Container c, int sig, int timeout) throws IOException, InterruptedException {
        long before = c.exitCount();
        if (!c.record().state().status().hasProcess()) return;
        try {
            if (!sendSignal(c, sig)) return;
        } catch (ContainerException e) {
            return; // it exited meanwhile
        }
        // a frozen process cannot act on the signal: thaw it, as dockerd does (it tells unpause)
        try {
            c.unpause(x -> conmon(x).resume(x.id()));
        } catch (ContainerException | IOException notPaused) {
            // not paused, or gone already
        }
        Duration wait = timeout < 0 ? Duration.ofDays(3650) : Duration.ofSeconds(timeout);
        if (c.awaitExitAfter(before, wait)) return;
        try {
            sendSignal(c, 9);
        } catch (ContainerException e) {
            return; // it exited just now
        }
        if (!c.awaitExitAfter(before, Duration.ofSeconds(30))) {
            throw new IOException("container " + c.id() + " did not exit within 30 s of SIGKILL");
        }
    }

    /**
     * Signals the container's process and tells {@code kill}, one step of the container; false
     * when it had no process (a pending restart cancelled instead).
     */
    private boolean sendSignal(Container c, int sig) throws IOException {
        return c.kill(sig, r -> {
            // What runc kill does (kill(2) on the init process), without its process run: 30-40 ms
            // a stop or rm -f. The cgroup check makes sure the pid is still this container's.
            if (io.berth.sys.Syscalls.signalIfInCgroup(r.state().pid(), r.id(), sig)) return;
            try {
                conmon(r).kill(r.id(), Integer.toString(sig));
            } catch (IOException e) {
                // It may have ended just now, its exit not yet handled: give the exit a moment to arrive.
                try {
                    if (c.awaitStatus(s -> !s.hasProcess(), 3, TimeUnit.SECONDS)) {
                        throw ContainerException.conflict("Cannot kill container: " + r.id() + ": Container " + r.id() + " is not running");
                    }
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                throw e;
            }
        });
    }

    /** docker kill: kill (with the signal), and with SIGKILL waits for the die that follows. */
    public void kill(String ref, String signal) throws IOException, InterruptedException {
        Container c = service.get(ref);
        int sig = StopSignals.parse(signal == null || signal.isEmpty() ? "KILL" : signal);
        long before = c.exitCount();
        if (sendSignal(c, sig) && sig == 9) c.awaitExitAfter(before, Duration.ofSeconds(10));
    }

    /** docker rm -f of a running container: SIGKILL and wait for the exit. */
    void killForRemoval(Container c) throws IOException, InterruptedException {
        if (c.stopping()) signalAndWait(c, 9, 10);
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
        Container c = service.get(ref);
        c.begin(Operation.PAUSE, Duration.ofSeconds(30));
        try {
            c.pause(r -> conmon(r).pause(r.id()));
        } finally {
            c.end(Operation.PAUSE);
        }
    }

    public void unpause(String ref) throws IOException {
        Container c = service.get(ref);
        c.begin(Operation.UNPAUSE, Duration.ofSeconds(30));
        try {
            c.unpause(r -> conmon(r).resume(r.id()));
        } finally {
            c.end(Operation.UNPAUSE);
        }
    }

    /** Frees what a container holds besides its record and layer. */
    void releaseResources(Container c) {
        handles.remove(c.id());
        backoff.remove(c.id());
        exits.forget(c.id());
        List<CompletableFuture<AttachSession>> waiting = attachOnStart.remove(c.id());
        if (waiting != null) waiting.forEach(f -> f.cancel(false));
        try {
            conmon(c.record()).delete(c.id());
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
        Container c = service.get(ref);
        ContainerRecord r = c.check(Operation.ATTACH);
        if (o.logs()) {
            LogReader.read(service.logPath(r.id()), LogQuery.ALL.withStreams(o.stdout(), o.stderr()), () -> false, e -> {
                out.write(r.tty() || e.stream() != AttachSession.StdStream.STDERR ? 1 : 2, e.content());
                return true;
            });
        }
        if (!o.stream()) return;
        AttachSession session = openSession(c);
        if (session == null) return;
        service.publish(c.record(), "attach", Map.of());
        CountDownLatch done = new CountDownLatch(1);
        session.pump(new AttachSession.Sink() {
            @Override
            public void write(AttachSession.StdStream stream, byte[] data) throws IOException {
                int n = stream == AttachSession.StdStream.STDERR ? 2 : 1;
                if ((n == 1 && o.stdout()) || (n == 2 && o.stderr())) out.write(n, data);
            }

            @Override
            public void end() {
                done.countDown();
            }
        }, 4 << 20);
        if (o.stdin() && stdin != null && Boolean.TRUE.equals(r.config().openStdin())) {
            // The detach keys work only with a tty, as in dockerd: without one stdin is data, and
            // a binary stream holds ctrl-p ctrl-q sooner or later (about once in 64 KiB of random bytes).
            byte[] keys = r.tty() ? o.detachKeys() : new byte[0];
            Thread.ofVirtual().name("attach-stdin " + r.shortId()).start(() -> StdinRelay.copy(stdin, session, keys, done::countDown));
        }
        try {
            done.await();
        } finally {
            // The stdin relay is not interrupted: that would close the client's connection at
            // once (an interrupted channel read closes the channel), resetting it with input
            // unread. It ends when its next write meets the closed session, or when the API
            // layer closes the connection.
            session.close();
        }
    }

    /** An attach session on the running container, or on the next start of a created one; null when it is not running. */
    private AttachSession openSession(Container c) throws IOException, InterruptedException {
        CompletableFuture<AttachSession> f;
        synchronized (this) {
            ContainerStatus s = c.record().state().status();
            ContainerHandle h = handles.get(c.id());
            if (s.hasProcess() && h != null) return AttachSession.open(h.bundle());
            if (s != ContainerStatus.CREATED && s != ContainerStatus.RESTARTING && s != ContainerStatus.EXITED) return null;
            f = new CompletableFuture<>();
            attachOnStart.computeIfAbsent(c.id(), k -> new CopyOnWriteArrayList<>()).add(f);
        }
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            return null;
        } catch (InterruptedException e) {
            List<CompletableFuture<AttachSession>> l = attachOnStart.get(c.id());
            if (l != null) l.remove(f);
            f.thenAccept(AttachSession::close);
            throw e;
        }
    }

    public void resize(String ref, int rows, int cols) throws IOException {
        Container c = service.get(ref);
        ContainerRecord r = c.record();
        ContainerHandle h = handles.get(r.id());
        if (!r.state().status().hasProcess() || h == null) {
            throw ContainerException.conflict("Container " + r.id() + " is not running");
        }
        if (!r.tty()) return;
        conmon(r).resize(h, rows, cols);
    }

    /** Reads the container's log (its rotated files first); with {@code q.follow()}, until the container stops or the sink says no. */
    public void logs(String ref, LogQuery q, LogReader.Sink sink) throws IOException, InterruptedException {
        Container c = service.get(ref);
        String id = c.id();
        LogReader.read(service.logPath(id), q, () -> {
            ContainerStatus s = c.record().state().status();
            return !c.isRemoved() && (s.hasProcess() || s == ContainerStatus.RESTARTING);
        }, sink);
    }

    public ContainerHandle handle(String id) {
        return handles.get(id);
    }

    public Conmon conmonFor(ContainerRecord r) {
        return conmon(r);
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
                        Conmon.Recovered rec = conmon(r).recover(r.id(), bundle(r.id()));
                        switch (rec) {
                            case Conmon.Recovered.Live live -> {
                                handles.put(r.id(), live.handle());
                                c.recovered(live.state().isPaused());
                                exits.await(r.id()).thenAccept(e -> Thread.ofVirtual().start(() -> handleExit(c, e)));
                                LOG.info("container {} still runs (pid {}): adopted", r.shortId(), live.handle().pid());
                            }
                            case Conmon.Recovered.Exited ex -> {
                                LOG.info("container {} exited with {} while the daemon was away", r.shortId(), ex.exit().exitCode());
                                handleExit(c, ex.exit());
                            }
                            case Conmon.Recovered.Gone g -> {
                                LOG.warn("container {} vanished while the daemon was away", r.shortId());
                                handleExit(c, new ContainerExit(r.id(), 255, Instant.now()));
                            }
                        }
                    }
                    case RESTARTING -> scheduleRestart(c, Duration.ZERO);
                    case REMOVING -> service.destroy(c);
                    case EXITED -> {
                        if (r.state().startedAt() != null && RestartPolicies.startOnDaemonStart(r.hostConfig().restart(), r.manuallyStopped())) {
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
