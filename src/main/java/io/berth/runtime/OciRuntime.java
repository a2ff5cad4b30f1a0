package io.berth.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The command line of an OCI runtime (runc or crun; both take the same verbs and global
 * options): start, kill, pause, resume, delete, state, list. Every container Berth runs
 * lives under one state directory ({@code --root}), so Berth's containers never mix with
 * another engine's.
 *
 * @param name "runc" or "crun" (or a configured name)
 * @param binary the runtime's absolute path
 * @param root the runtime's state directory (--root), or null for its default
 */
public record OciRuntime(String name, Path binary, Path root) {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** The runtime's global options: --root, and errors as JSON lines on stderr. */
    public List<String> globalArgs() {
        List<String> args = new ArrayList<>();
        if (root != null) {
            args.add("--root");
            args.add(root.toString());
        }
        return args;
    }

    /** Starts a created container's process (it waits in the runtime's init until then). */
    public void start(String id) throws IOException {
        run("start", List.of("start", id));
    }

    /** Sends a signal ("TERM", "SIGKILL", "9") to the container's init process. */
    public void kill(String id, String signal) throws IOException {
        run("kill", List.of("kill", id, signal));
    }

    /** Sends a signal to every process of the container (runc kill --all). */
    public void killAll(String id, String signal) throws IOException {
        run("kill", List.of("kill", "--all", id, signal));
    }

    public void pause(String id) throws IOException {
        run("pause", List.of("pause", id));
    }

    public void resume(String id) throws IOException {
        run("resume", List.of("resume", id));
    }

    /**
     * Deletes the container's runtime state and cgroups; {@code force} kills it first if it
     * still runs. A container the runtime does not know is not an error.
     */
    public void delete(String id, boolean force) throws IOException {
        List<String> args = new ArrayList<>(List.of("delete"));
        if (force) args.add("--force");
        args.add(id);
        try {
            run("delete", args);
        } catch (OciRuntimeException.NoSuchContainer e) {
            // already gone
        }
    }

    /**
     * Deletes a container whose init has ended without running the runtime: what
     * {@code runc delete} does for a stopped container (remove its cgroups, then its state
     * folder), done here because a runtime run costs 10-20 ms of CPU, and removing many
     * containers at once is bound by CPU. Only for runc's state ({@code state.json}) and only
     * when nothing is left to do but that: no process left in its cgroups (a container in the
     * host's PID namespace may leave some), no hooks to run. False when it did nothing; then
     * the caller runs {@link #delete}.
     */
    public boolean deleteStopped(String id) {
        if (root == null) return false;
        Path dir = root.resolve(id);
        Path stateFile = dir.resolve("state.json");
        try {
            if (!Files.isRegularFile(stateFile)) return false;
            JsonNode state = OciSpec.JSON.readTree(Files.readAllBytes(stateFile));
            JsonNode hooks = state.path("config").path("hooks");
            if (!hooks.isMissingNode() && !hooks.isNull() && !hooks.isEmpty()) return false;
            if (initStillRuns(state) || !state.path("intel_rdt_path").asString("").isEmpty()) return false;
            List<Path> cgroups = new ArrayList<>();
            for (JsonNode p : state.path("cgroup_paths")) {
                Path cg = Path.of(p.asString());
                if (!cg.startsWith("/sys/fs/cgroup/")) return false;
                if (Files.isDirectory(cg)) cgroups.add(cg);
            }
            for (Path cg : cgroups) if (hasProcesses(cg)) return false;
            for (Path cg : cgroups) removeCgroup(cg);
            io.berth.sys.FileTrees.deleteTree(dir);
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // the runtime's own delete sorts it out
        }
    }

    /**
     * Starts a created container without running the runtime: what {@code runc start} does
     * for a created container (its init waits in an open of the state folder's
     * {@code exec.fifo} for a reader; reading its byte lets it exec the process, and the fifo
     * goes, so the state reads "running"), done here because a runtime run costs about 10 ms
     * of a container's start. Only for runc's state ({@code state.json} and the fifo beside
     * it) and only with no hooks to run; false when it did nothing (then the caller runs
     * {@link #start}, which also says why a start failed).
     */
    public boolean startCreated(String id) {
        if (root == null) return false;
        Path dir = root.resolve(id);
        Path fifo = dir.resolve("exec.fifo");
        try {
            if (!Files.isRegularFile(dir.resolve("state.json")) || !Files.exists(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false;
            JsonNode state = OciSpec.JSON.readTree(Files.readAllBytes(dir.resolve("state.json")));
            JsonNode hooks = state.path("config").path("hooks");
            if (!hooks.isMissingNode() && !hooks.isNull() && !hooks.isEmpty()) return false;
            if (!initWaits(state)) return false;
            // Read and write: the open never waits (the init's open for writing then completes),
            // and no end-of-file can come before the init's byte does.
            java.nio.channels.FileChannel fifoEnd = java.nio.channels.FileChannel.open(fifo,
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
            java.util.concurrent.CompletableFuture<Integer> read = new java.util.concurrent.CompletableFuture<>();
            // A platform thread: a read of a FIFO pins a virtual thread's carrier.
            Thread.ofPlatform().daemon().name("exec-fifo " + id).start(() -> {
                try {
                    read.complete(fifoEnd.read(java.nio.ByteBuffer.allocate(1)));
                } catch (IOException | RuntimeException e) {
                    read.completeExceptionally(e);
                }
            });
            try {
                Integer got = null;
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
                while (got == null && System.nanoTime() < deadline) {
                    try {
                        got = read.get(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        if (!initWaits(state)) {
                            // dead: had it written its byte first, the reader gets it at once
                            try {
                                got = read.get(1, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (java.util.concurrent.TimeoutException never) {
                                break;
                            }
                        }
                    }
                }
                if (got == null || got != 1) return false; // the runtime's start says why
            } finally {
                fifoEnd.close(); // also releases a reader still waiting
            }
            // Started. Without the fifo the runtime's state reads "running", as after its own start.
            try {
                Files.deleteIfExists(fifo);
            } catch (IOException e) {
                // runc then still calls it "created"; its kill and delete work on it all the same
            }
            return true;
        } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The init the state names is alive and not a zombie (one killed while it waited is). */
    private static boolean initWaits(JsonNode state) {
        if (!initStillRuns(state)) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(state.path("init_process_pid").asLong()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the init process the state names is still alive (same pid and start time). */
    private static boolean initStillRuns(JsonNode state) {
        long pid = state.path("init_process_pid").asLong(0);
        if (pid <= 0) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f.length > 19 && f[19].equals(Long.toString(state.path("init_process_start").asLong(-1)));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean hasProcesses(Path cgroup) throws IOException {
        try (var dirs = Files.walk(cgroup)) {
            for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
                Path procs = d.resolve("cgroup.procs");
                if (Files.exists(procs) && !Files.readString(procs).isBlank()) return true;
            }
        }
        return false;
    }

    /** rmdir of a cgroup and the cgroups under it, deepest first (a cgroup folder holds only its control files besides). */
    private static void removeCgroup(Path cgroup) throws IOException {
        List<Path> dirs;
        try (var walk = Files.walk(cgroup)) {
            dirs = walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList();
        }
        for (Path d : dirs) Files.deleteIfExists(d);
    }

    /**
     * Whether the runtime may know the container: its state folder under our --root exists
     * (runc and crun both keep one a container). Asking the runtime costs a process run.
     */
    public boolean knows(String id) {
        return root == null || Files.isDirectory(root.resolve(id));
    }

    /** The container's state, or empty when the runtime does not know it. */
    public Optional<RuntimeState> state(String id) throws IOException {
        try {
            String out = run("state", List.of("state", id));
            return Optional.of(OciSpec.JSON.readValue(out, RuntimeState.class));
        } catch (OciRuntimeException.NoSuchContainer e) {
            return Optional.empty();
        } catch (JacksonException e) {
            throw new OciRuntimeException(name + " state " + id + " printed something that is not JSON: " + e.getOriginalMessage());
        }
    }

    /** Every container under this runtime's root. */
    public List<RuntimeState> list() throws IOException {
        String out = run("list", List.of("list", "--format", "json"));
        if (out.isBlank() || out.trim().equals("null")) return List.of();
        try {
            return List.of(OciSpec.JSON.readValue(out, RuntimeState[].class));
        } catch (JacksonException e) {
            throw new OciRuntimeException(name + " list printed something that is not JSON: " + e.getOriginalMessage());
        }
    }

    /** Runs the runtime with its global options and {@code args}; stdout on success. */
    String run(String verb, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(globalArgs());
        cmd.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new OciRuntimeException("cannot run the OCI runtime " + binary + ": " + e.getMessage(), e);
        }
        CompletableFuture<byte[]> err = readAll(p.getErrorStream());
        CompletableFuture<byte[]> out = readAll(p.getInputStream());
        try {
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new OciRuntimeException(name + " " + String.join(" ", args) + " did not finish within " + TIMEOUT.toSeconds() + " s");
            }
            String stdout = new String(out.get(), StandardCharsets.UTF_8);
            String stderr = new String(err.get(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                String msg = errorMessage(stderr);
                if (msg.isEmpty()) msg = "exit status " + p.exitValue();
                String text = name + " " + verb + " " + args.getLast() + ": " + msg;
                if (notFound(msg)) throw new OciRuntimeException.NoSuchContainer(text);
                throw new OciRuntimeException(text);
            }
            return stdout;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new OciRuntimeException(name + " " + verb + " was interrupted");
        } catch (ExecutionException e) {
            throw new OciRuntimeException(name + " " + verb + ": reading its output failed: " + e.getCause().getMessage());
        }
    }

    static boolean notFound(String msg) {
        return msg.contains("does not exist") || (msg.contains("/status`") && msg.contains("No such file or directory"));
    }

    private static CompletableFuture<byte[]> readAll(InputStream in) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (in) {
                f.complete(in.readAllBytes());
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * The runtime's error from its stderr: the "msg" of JSON log lines (runc/crun with
     * --log-format=json), the msg="..." of runc's text lines, or the plain text.
     */
    static String errorMessage(String stderr) {
        List<String> msgs = new ArrayList<>();
        for (String line : stderr.split("\n")) {
            String l = line.trim();
            if (l.isEmpty()) continue;
            if (l.startsWith("{")) {
                try {
                    JsonNode n = OciSpec.JSON.readTree(l);
                    String level = n.path("level").asString("error");
                    if (level.equals("error") || level.equals("fatal")) msgs.add(n.path("msg").asString(l));
                    continue;
                } catch (JacksonException ignored) {
                    // not JSON after all
                }
            }
            int i = l.indexOf("msg=\"");
            if (i >= 0 && l.contains("level=")) {
                if (!l.contains("level=error") && !l.contains("level=fatal")) continue;
                String m = l.substring(i + 5);
                int end = m.lastIndexOf('"');
                msgs.add((end > 0 ? m.substring(0, end) : m).replace("\\\"", "\""));
            } else {
                msgs.add(l);
            }
        }
        return String.join("; ", msgs);
    }
}
