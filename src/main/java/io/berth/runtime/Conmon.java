package io.berth.runtime;

import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Runs containers the way Podman does: one conmon per container holds its stdio (a pty or
 * pipes), writes its log (k8s-file), serves attach, and records its exit code in
 * {@code EXIT_DIR/ID}; conmon double-forks, so containers outlive this daemon.
 *
 * <pre>
 *   ContainerHandle h = conmon.create(id, bundle, spec, logPath); // runtime create: process waits
 *   AttachSession a = AttachSession.open(bundle);                  // attach before start to see all output
 *   conmon.start(id);                                              // runtime start
 *   ExitWatcher / conmon.exitOf(id)                                // the exit code
 *   conmon.delete(id)                                              // runtime delete --force, exit file removed
 * </pre>
 */
public final class Conmon implements Runtime {
    private static final Logger LOG = LoggerFactory.getLogger(Conmon.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");
    static final Duration CREATE_TIMEOUT = Duration.ofSeconds(60);

    private final Path conmon;
    private final OciRuntime runtime;
    private final Path exitDir;
    /** Exit directories of an earlier layout: conmons started then still write there. */
    private final List<Path> legacyExitDirs;
    private final HostFacts host;
    private final String logLevel;
    /** Reports exits for {@link #awaitExit}; null: none (the caller polls {@link #exitOf}). */
    private final ExitWatcher exits;

    /**
     * @param conmon the conmon binary
     * @param runtime the OCI runtime and its state root
     * @param exitDir where conmon writes each container's exit code (one file per ID)
     * @param host what containers may get here
     */
    public Conmon(Path conmon, OciRuntime runtime, Path exitDir, HostFacts host) {
        this(conmon, runtime, exitDir, List.of(), host);
    }

    /** @param legacyExitDirs where conmons of an earlier daemon (another layout) write exit files: read and cleaned too */
    public Conmon(Path conmon, OciRuntime runtime, Path exitDir, List<Path> legacyExitDirs, HostFacts host) {
        this(conmon, runtime, exitDir, legacyExitDirs, host, null);
    }

    /** @param exits the watcher of {@code exitDir} that {@link #awaitExit} listens to (null: none) */
    public Conmon(Path conmon, OciRuntime runtime, Path exitDir, List<Path> legacyExitDirs, HostFacts host, ExitWatcher exits) {
        this.conmon = conmon;
        this.exits = exits;
        this.runtime = runtime;
        this.exitDir = exitDir.toAbsolutePath();
        this.legacyExitDirs = List.copyOf(legacyExitDirs);
        this.host = host;
        this.logLevel = "warning";
    }

    /** conmon on the PATH (or /usr/libexec/podman/conmon, where some distributions put it). */
    public static Optional<Path> findConmon() {
        Optional<Path> p = OciRuntimes.findExecutable("conmon");
        if (p.isPresent()) return p;
        for (String c : List.of("/usr/libexec/podman/conmon", "/usr/local/libexec/podman/conmon", "/usr/lib/podman/conmon")) {
            if (Files.isExecutable(Path.of(c))) return Optional.of(Path.of(c));
        }
        return Optional.empty();
    }

    public OciRuntime runtime() {
        return runtime;
    }

    @Override
    public String name() {
        return runtime.name();
    }

    public Path exitDir() {
        return exitDir;
    }

    public HostFacts host() {
        return host;
    }

    /**
     * How to start conmon for a container whose bundle already holds config.json.
     *
     * @param id the container ID (letters, digits, _ . + -)
     * @param name the container's name (conmon puts it in journald records only)
     * @param bundle the bundle directory
     * @param logPath where conmon writes the k8s-file log
     * @param tty the config asks for a terminal
     * @param stdin keep a stdin pipe (docker -i)
     * @param stdinOnce close stdin when the first attached client leaves; else it stays open
     * @param logSizeMax conmon's own cap on the log ({@code --log-size-max}, see {@link LogRotator#hardCap}); 0: none
     */
    public record CreateOptions(String id, String name, Path bundle, Path logPath, boolean tty, boolean stdin, boolean stdinOnce,
                                long logSizeMax) {}

    /**
     * Writes the container's config.json from {@code spec} into {@code bundle} and creates the
     * container (its process waits in the runtime until {@link #start}).
     */
    public ContainerHandle create(String id, Path bundle, ContainerSpec spec, Path logPath) throws IOException {
        return create(id, bundle, spec, logPath, 0);
    }

    /** As {@link #create(String, Path, ContainerSpec, Path)}, with conmon capping the log at {@code logSizeMax} bytes (0: no cap). */
    @Override
    public ContainerHandle create(String id, Path bundle, ContainerSpec spec, Path logPath, long logSizeMax) throws IOException {
        checkId(id);
        OciConfig config = OciSpec.build(id, spec, host);
        OciSpec.write(bundle, config);
        return create(new CreateOptions(id, id, bundle, logPath, spec.tty(), spec.openStdin(), spec.stdinOnce(), logSizeMax));
    }

    /** Starts conmon, which runs {@code runtime create}; returns once the container's process exists. */
    public ContainerHandle create(CreateOptions o) throws IOException {
        checkId(o.id());
        Path bundle = o.bundle().toAbsolutePath();
        if (!Files.exists(bundle.resolve("config.json"))) throw new OciRuntimeException("no config.json in bundle " + bundle);
        io.berth.sys.PrivateFiles.createDirectories(exitDir);
        Files.createDirectories(o.logPath().toAbsolutePath().getParent());
        // Leftovers of an earlier run of the same container would read as this run's result.
        forgetExit(o.id());
        for (String f : List.of("oom", "exit", "pidfile", "conmon.pid", "conmon.out", "runtime.log")) Files.deleteIfExists(bundle.resolve(f));

        List<String> args = new ArrayList<>(List.of(
                "--api-version", "1",
                "-c", o.id(),
                "-u", o.id(),
                "-r", runtime.binary().toString(),
                "-b", bundle.toString(),
                "-p", bundle.resolve("pidfile").toString(),
                "-n", o.name() == null || o.name().isEmpty() ? o.id() : o.name(),
                "--exit-dir", exitDir.toString(),
                "--full-attach",
                "-l", "k8s-file:" + o.logPath().toAbsolutePath(),
                "--log-level", logLevel,
                "--conmon-pidfile", bundle.resolve("conmon.pid").toString()));
        if (o.logSizeMax() > 0) args.addAll(List.of("--log-size-max", Long.toString(o.logSizeMax())));
        addRuntimeArgs(args, bundle.resolve("runtime.log"));
        if (o.tty()) args.add("-t");
        if (o.stdin()) args.add("-i");
        if (o.stdin() && !o.stdinOnce()) args.add("--leave-stdin-open");

        long t0 = System.nanoTime();
        try (ConmonProcess p = ConmonProcess.start(conmon, args, bundle, Map.of())) {
            p.awaitForked(CREATE_TIMEOUT);
            long conmonPid = readPid(bundle.resolve("conmon.pid"));
            ConmonProcess.Message m = p.next(CREATE_TIMEOUT);
            if (m == null) {
                killQuietly(conmonPid);
                cleanupFailed(o.id());
                throw new OciRuntimeException("create container " + o.id() + ": " + runtime.name() + " create did not finish within "
                        + CREATE_TIMEOUT.toSeconds() + " s" + runtimeLogHint(bundle.resolve("runtime.log")));
            }
            if (m.isEof() || m.data() <= 0) {
                cleanupFailed(o.id());
                throw OciRuntimeException.ofStartFailure("create container " + o.id() + ": " + failure(m, bundle.resolve("runtime.log"), p));
            }
            LOG.debug("container {} created: pid {}, conmon {}, {} ms", o.id(), m.data(), conmonPid, (System.nanoTime() - t0) / 1_000_000);
            return new ContainerHandle(o.id(), bundle, m.data(), conmonPid);
        }
    }

    /** Starts a created container's process: by its exec fifo when the runtime's state allows, else by the runtime. */
    @Override
    public void start(String id) throws IOException {
        if (!runtime.startCreated(id)) runtime.start(id);
    }

    /** Sends a signal ("TERM", "KILL", "SIGUSR1", "9") to the container's init process. */
    @Override
    public void kill(String id, String signal) throws IOException {
        runtime.kill(id, signal);
    }

    @Override
    public void pause(String id) throws IOException {
        runtime.pause(id);
    }

    @Override
    public void resume(String id) throws IOException {
        runtime.resume(id);
    }

    /** The runtime's view of the container, or empty when it does not know it. */
    @Override
    public Optional<RuntimeState> state(String id) throws IOException {
        return runtime.state(id);
    }

    /**
     * Removes the container from the runtime (killing it if it still runs; conmon then records
     * its exit and ends) and forgets its exit file.
     */
    @Override
    public void delete(String id) throws IOException {
        Optional<RuntimeState> state = runtime.knows(id) ? runtime.state(id) : Optional.empty();
        delete(id, state.isPresent() && state.get().bundle() != null ? Path.of(state.get().bundle()) : null);
    }

    /** {@link #delete(String)} when the caller knows the bundle: one runtime run instead of two. */
    @Override
    public void delete(String id, Path bundle) throws IOException {
        try {
            deleteFromRuntime(id, bundle);
        } finally {
            forgetExit(id);
        }
    }

    /**
     * Removes the container from the runtime but keeps conmon's exit file: the exit stays
     * readable (after a daemon restart too) until the caller has recorded it and calls
     * {@link #forgetExit}. What a full data root needs: the record may not be writable yet.
     */
    @Override
    public void deleteFromRuntime(String id, Path bundle) throws IOException {
        if (!runtime.knows(id)) return;
        long conmonPid = -1;
        if (bundle != null) {
            try {
                conmonPid = readPid(bundle.resolve("conmon.pid"));
            } catch (IOException ignored) {
                // no conmon to wait for
            }
        }
        long t0 = System.nanoTime();
        // an init that has ended (and no process left in its cgroups) needs no runtime run; the
        // exit file may be gone already (deleted once the exit was recorded), so deleteStopped checks
        boolean here = runtime.deleteStopped(id);
        if (!here) runtime.delete(id, true);
        long t1 = System.nanoTime();
        // conmon writes the exit file once it sees the container die: wait for it, or the
        // file would outlive the container.
        if (conmonPid > 0 && !awaitConmonExit(conmonPid, Duration.ofSeconds(10))) {
            LOG.warn("conmon {} of container {} did not end after delete", conmonPid, id);
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("deleted {}: {} {} ms, conmon's end {} ms", id, here ? "state and cgroups removed" : runtime.name() + " delete", (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
        }
    }

    /** Deletes the container's exit file, once its exit is recorded (or no longer matters). */
    @Override
    public void forgetExit(String id) throws IOException {
        Files.deleteIfExists(exitDir.resolve(id));
        for (Path d : legacyExitDirs) Files.deleteIfExists(d.resolve(id));
    }

    /** The container's exit as conmon recorded it, or empty while it runs (or never ran). */
    @Override
    public Optional<ContainerExit> exitOf(String id) {
        ContainerExit e = ExitWatcher.readExitFile(exitDir.resolve(id), id);
        for (int i = 0; e == null && i < legacyExitDirs.size(); i++) e = ExitWatcher.readExitFile(legacyExitDirs.get(i).resolve(id), id);
        return Optional.ofNullable(e);
    }

    /**
     * Whether the container was killed for lack of memory: conmon leaves an "oom" file in the
     * bundle when its memory cgroup reports an OOM kill; the cgroup's own counter (while the
     * cgroup exists) is the second witness.
     */
    @Override
    public boolean oomKilled(ContainerHandle h, String cgroupsPath) {
        return Files.exists(h.bundle().resolve("oom")) || new ContainerCgroup(cgroupsPath).oomKillCount() > 0;
    }

    /** Resizes a tty container's terminal. */
    @Override
    public void resize(ContainerHandle h, int rows, int cols) throws IOException {
        AttachSession.resize(h.bundle(), rows, cols);
    }

    /**
     * Asks the container's conmon to reopen its log path: message 2 ("2 0 0\n") on the ctl
     * fifo in the bundle, as CRI-O does after it renamed the log. conmon then closes the file
     * it writes and puts a new empty one at the path (it never appends to a file found there).
     */
    @Override
    public void reopenLog(String id, Path bundle) throws IOException {
        reopenLog(bundle);
    }

    public static void reopenLog(Path bundle) throws IOException {
        try (FileChannel ch = FileChannel.open(bundle.resolve("ctl"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("2 0 0\n".getBytes(StandardCharsets.US_ASCII)));
        }
    }

    @Override
    public CompletableFuture<ContainerExit> awaitExit(String id) {
        if (exits == null) throw new IllegalStateException("no exit watcher: poll exitOf");
        return exits.await(id);
    }

    @Override
    public void unwatchExit(String id) {
        if (exits != null) exits.forget(id);
    }

    @Override
    public List<String> list() throws IOException {
        if (runtime.root() != null && !Files.isDirectory(runtime.root())) return List.of();
        return runtime.list().stream().map(RuntimeState::id).toList();
    }

    @Override
    public AttachSession attach(ContainerHandle h) throws IOException {
        return AttachSession.open(h.bundle());
    }

    /**
     * Finds a container again from what outlives the daemon: the exit file, the runtime's
     * state and conmon's pid file in the bundle.
     */
    @Override
    public Recovered recover(String id, Path bundle) throws IOException {
        Optional<ContainerExit> exit = exitOf(id);
        if (exit.isPresent()) return new Recovered.Exited(exit.get());
        Optional<RuntimeState> state = runtime.state(id);
        if (state.isEmpty()) return new Recovered.Gone(id);
        RuntimeState s = state.get();
        long conmonPid = -1;
        try {
            conmonPid = readPid(bundle.resolve("conmon.pid"));
        } catch (IOException ignored) {
            // no pid file
        }
        boolean conmonAlive = conmonPid > 0 && isConmon(conmonPid);
        if (s.isStopped() || !conmonAlive) {
            // conmon may be writing the exit file right now
            for (int i = 0; i < 20 && exit.isEmpty(); i++) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                exit = exitOf(id);
            }
            if (exit.isPresent()) return new Recovered.Exited(exit.get());
            if (s.isStopped()) return new Recovered.Exited(new ContainerExit(id, -1, Instant.now()));
        }
        return new Recovered.Live(new ContainerHandle(id, bundle.toAbsolutePath(), s.pid(), conmonAlive ? conmonPid : -1), s);
    }

    /**
     * Runs a process in a running container through conmon's exec mode: conmon runs
     * {@code runtime exec --detach}, holds the process's stdio (pipes or a pty), serves it on
     * {@code execDir/attach}, and reports the exit code. With {@code spec.attach()}, the
     * attach socket is connected before the process starts, so no output is lost.
     *
     * @param bundle the container's bundle (its config.json gives the exec's defaults)
     * @param execDir a fresh directory for this exec session
     */
    @Override
    public ExecSession exec(String containerId, Path bundle, Path execDir, ExecSpec spec) throws IOException {
        checkId(containerId);
        long t0 = System.nanoTime();
        Path dir = execDir.toAbsolutePath();
        Files.createDirectories(dir.resolve("exit"));
        Files.deleteIfExists(dir.resolve("exit").resolve(containerId));
        OciConfig config = OciSpec.read(bundle);
        OciConfig.Process process = execProcess(config.process(), spec, host);
        Path processJson = dir.resolve("process.json");
        AtomicFiles.writeForThisBoot(processJson, OciSpec.JSON.writeValueAsBytes(process));

        List<String> args = new ArrayList<>(List.of(
                "--api-version", "1",
                "-c", containerId,
                "-u", dir.getFileName().toString(),
                "-r", runtime.binary().toString(),
                "-b", dir.toString(),
                "-p", dir.resolve("pidfile").toString(),
                "-n", containerId,
                "--exit-dir", dir.resolve("exit").toString(),
                "--full-attach",
                "-l", "none",
                "--log-level", logLevel,
                "-e",
                "--exec-process-spec", processJson.toString(),
                "--conmon-pidfile", dir.resolve("conmon.pid").toString()));
        addRuntimeArgs(args, dir.resolve("runtime.log"));
        if (spec.attach()) args.add("--exec-attach");
        if (spec.tty()) args.add("-t");
        if (spec.stdin()) args.add("-i");
        Map<String, String> env = spec.attach() ? Map.of("_OCI_ATTACHPIPE", "3") : Map.of();

        long t1 = System.nanoTime();
        ConmonProcess p = ConmonProcess.start(conmon, args, dir, env);
        AttachSession attach = null;
        boolean ok = false;
        try {
            p.awaitForked(CREATE_TIMEOUT);
            long t2 = System.nanoTime();
            long conmonPid = readPid(dir.resolve("conmon.pid"));
            if (spec.attach()) {
                ConmonProcess.Message ready = p.next(CREATE_TIMEOUT);
                if (ready == null || ready.isEof() || ready.data() != 0 || ready.message() != null) {
                    if (ready == null) killQuietly(conmonPid);
                    throw new OciRuntimeException("exec in " + containerId + ": conmon's attach socket is not ready: "
                            + (ready == null ? "timed out" : failure(ready, dir.resolve("runtime.log"), p)));
                }
                attach = AttachSession.open(dir);
                p.sendStart();
            }
            ConmonProcess.Message started = p.next(CREATE_TIMEOUT);
            if (started == null) {
                killQuietly(conmonPid);
                throw new OciRuntimeException("exec in " + containerId + ": " + runtime.name() + " exec did not start within "
                        + CREATE_TIMEOUT.toSeconds() + " s");
            }
            if (started.isEof() || started.data() <= 0) {
                throw OciRuntimeException.ofStartFailure("exec in " + containerId + ": " + failure(started, dir.resolve("runtime.log"), p));
            }
            long t3 = System.nanoTime();
            LOG.debug("exec in {}: spec {} ms, conmon forked {} ms, started {} ms", containerId, (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
            CompletableFuture<Integer> exit = new CompletableFuture<>();
            Thread.ofVirtual().name("exec-wait " + containerId).start(() -> {
                try {
                    ConmonProcess.Message m = p.next();
                    if (!m.isEof()) {
                        exit.complete((int) m.data());
                    } else {
                        ContainerExit e = ExecSession.readExit(dir, containerId);
                        exit.complete(e == null ? -1 : e.exitCode());
                    }
                } catch (InterruptedException e) {
                    exit.completeExceptionally(e);
                } finally {
                    p.close();
                }
            });
            ok = true;
            return new ExecSession(containerId, dir, started.data(), conmonPid, attach, exit);
        } finally {
            if (!ok) {
                if (attach != null) attach.close();
                p.close();
            }
        }
    }

    /** An exec session's recorded exit code, after a restart for instance. */
    public static Optional<ContainerExit> execExit(Path execDir, String containerId) {
        return Optional.ofNullable(ExecSession.readExit(execDir, containerId));
    }

    /**
     * The exec's OCI process: the container's process with the exec's command, environment
     * (container's, overridden by the exec's), terminal, user and working directory;
     * privileged gets every capability the daemon holds.
     */
    static OciConfig.Process execProcess(OciConfig.Process base, ExecSpec spec, HostFacts host) {
        Map<String, String> env = new LinkedHashMap<>();
        for (List<String> list : List.of(base.env() == null ? List.<String>of() : base.env(), spec.env())) {
            for (String kv : list) {
                int eq = kv.indexOf('=');
                env.put(eq < 0 ? kv : kv.substring(0, eq), kv);
            }
        }
        OciConfig.User user = base.user();
        if (spec.uid() != null) {
            user = OciSpec.user(spec.uid(), spec.gid() == null ? 0 : spec.gid(), user == null ? null : user.umask(), spec.additionalGids());
        }
        int uid = user == null ? 0 : (int) user.uid();
        OciConfig.Capabilities caps = base.capabilities();
        if (spec.privileged()) {
            caps = OciSpec.capabilitySets(Capabilities.resolve(List.of(), List.of(), true, host.capabilities()), uid);
        } else if (caps != null && spec.uid() != null) {
            caps = OciSpec.capabilitySets(caps.bounding() == null ? List.of() : caps.bounding(), uid);
        }
        OciConfig.ConsoleSize size = spec.tty() && spec.consoleHeight() > 0 && spec.consoleWidth() > 0
                ? new OciConfig.ConsoleSize(spec.consoleHeight(), spec.consoleWidth()) : null;
        return new OciConfig.Process(spec.tty(), size, user, spec.args(), List.copyOf(env.values()),
                spec.cwd() != null && !spec.cwd().isEmpty() ? spec.cwd() : base.cwd(),
                caps, base.rlimits(), base.noNewPrivileges(), base.oomScoreAdj(), base.apparmorProfile());
    }

    private void addRuntimeArgs(List<String> args, Path runtimeLog) {
        List<String> runtimeArgs = new ArrayList<>(List.of("--log-format=json", "--log", runtimeLog.toString()));
        runtimeArgs.addAll(runtime.globalArgs());
        for (String a : runtimeArgs) {
            args.add("--runtime-arg");
            args.add(a);
        }
    }

    /** The runtime's own words for a failed create or exec. */
    private String failure(ConmonProcess.Message m, Path runtimeLog, ConmonProcess p) {
        String msg = m.isEof() ? null : m.message();
        if (msg != null) msg = OciRuntime.errorMessage(msg);
        if (msg == null || msg.isBlank()) {
            String fromLog = runtimeLogErrors(runtimeLog);
            msg = !fromLog.isEmpty() ? fromLog
                    : m.isEof() ? "conmon ended without reporting the container's pid" + p.outputHint()
                    : "the runtime failed (status " + m.data() + ")";
        }
        return msg.trim();
    }

    private String runtimeLogHint(Path runtimeLog) {
        String s = runtimeLogErrors(runtimeLog);
        return s.isEmpty() ? "" : ": " + s;
    }

    /** The error lines of the runtime's JSON log file. */
    static String runtimeLogErrors(Path runtimeLog) {
        try {
            if (!Files.exists(runtimeLog)) return "";
            List<String> msgs = new ArrayList<>();
            for (String line : Files.readAllLines(runtimeLog)) {
                try {
                    JsonNode n = OciSpec.JSON.readTree(line);
                    String level = n.path("level").asString("");
                    if (level.equals("error") || level.equals("fatal")) msgs.add(n.path("msg").asString(""));
                } catch (JacksonException e) {
                    if (!line.isBlank()) msgs.add(line.trim());
                }
            }
            return String.join("; ", msgs);
        } catch (IOException e) {
            return "";
        }
    }

    private void cleanupFailed(String id) {
        try {
            runtime.delete(id, true);
        } catch (IOException e) {
            LOG.debug("cleanup of failed container {}: {}", id, e.getMessage());
        }
    }

    static long readPid(Path file) throws IOException {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (NumberFormatException e) {
            throw new OciRuntimeException("the pid file " + file + " holds no pid");
        }
    }

    /**
     * Whether {@code pid} is a live conmon process. A zombie is not live: conmon's parent is
     * init (it double-forked), which may take its time to reap it.
     */
    public static boolean isConmon(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open || close + 2 >= stat.length()) return false;
            char state = stat.charAt(close + 2);
            return stat.substring(open + 1, close).equals("conmon") && state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until conmon {@code pid} has ended (or is a zombie); false on timeout. */
    public static boolean awaitConmonExit(long pid, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (isConmon(pid)) {
            if (System.nanoTime() > end) return false;
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isConmon(pid);
            }
        }
        return true;
    }

    private static void killQuietly(long pid) {
        if (pid > 0 && isConmon(pid)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    static void checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid container id \"" + id + "\": use letters, digits, _ . + - (at most 128)");
        }
    }
}
