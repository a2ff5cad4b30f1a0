package io.berth.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A {@link Runtime} (and its own {@link RuntimeProvider}) that runs nothing: no root, no
 * processes. It records the calls, keeps each container's state (created, running, paused,
 * stopped) and lets a test end a container with a code, kill it for lack of memory, or make
 * its create or start fail. A signal ends the container with 128+N unless the test said the
 * process traps it. Pids are above the kernel's pid_max, so no real process is ever one of them.
 */
public final class FakeRuntime implements Runtime, RuntimeProvider {
    /** Above any pid_max (at most 2^22): kill(2) on one finds nothing. */
    private static final long FIRST_PID = 5_000_000;

    private final String name;
    private final AtomicLong pids = new AtomicLong(FIRST_PID);
    private final Map<String, String> states = new ConcurrentHashMap<>();
    private final Map<String, Long> pidOf = new ConcurrentHashMap<>();
    private final Map<String, ContainerExit> exits = new ConcurrentHashMap<>();
    private final Map<String, List<CompletableFuture<ContainerExit>>> waiters = new ConcurrentHashMap<>();
    private final Set<String> oom = ConcurrentHashMap.newKeySet();
    /** Signals sent to a frozen process: acted on when it thaws. */
    private final Map<String, Integer> pending = new ConcurrentHashMap<>();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private volatile String failCreate;
    private volatile String failStart;
    private volatile Set<Integer> trapped = Set.of();
    /** At start: the exit code the process ends with at once, or null to keep running. */
    private volatile Function<String, Integer> exitAtStart = id -> null;

    public FakeRuntime(String name) {
        this.name = name;
    }

    // ---------------------------------------------------------------- what a test does

    /** The calls so far: "create ID", "start ID", "kill ID 15", "pause ID", "resume ID", "delete ID", "deleteFromRuntime ID", ... */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    /** The calls naming {@code id}, without the ID: "create", "kill 15", ... */
    public List<String> callsOf(String id) {
        List<String> out = new ArrayList<>();
        for (String c : calls) {
            String[] p = c.split(" ", 3);
            if (p.length > 1 && p[1].equals(id)) out.add(p.length > 2 ? p[0] + " " + p[2] : p[0]);
        }
        return out;
    }

    /** The next create fails with {@code message}. */
    public void failNextCreate(String message) {
        failCreate = message;
    }

    /** The next start fails with {@code message}. */
    public void failNextStart(String message) {
        failStart = message;
    }

    /** The processes trap these signals: a kill with one of them ends nothing. */
    public void trap(Integer... signals) {
        trapped = Set.of(signals);
    }

    /** How each start goes on: a code ends the process at once with it; null keeps it running. */
    public void onStart(Function<String, Integer> exitCode) {
        exitAtStart = exitCode;
    }

    /** The container's process ends with {@code code}. */
    public void exit(String id, int code) {
        String s = states.get(id);
        if (s == null || s.equals("stopped")) throw new IllegalStateException(id + " has no process: " + s);
        states.put(id, "stopped");
        ContainerExit e = new ContainerExit(id, code, Instant.now());
        exits.put(id, e);
        List<CompletableFuture<ContainerExit>> ws = waiters.remove(id);
        if (ws != null) ws.forEach(f -> f.complete(e));
    }

    /** The kernel's OOM killer ends the container's process. */
    public void oomKill(String id) {
        oom.add(id);
        exit(id, 137);
    }

    /** The containers the runtime holds with a live process (created, running or paused). */
    public Set<String> live() {
        Set<String> out = new java.util.HashSet<>();
        states.forEach((id, s) -> {
            if (!s.equals("stopped")) out.add(id);
        });
        return out;
    }

    /** The runtime's state of {@code id}: created, running, paused, stopped, or null when it does not know it. */
    public String stateOf(String id) {
        return states.get(id);
    }

    // ---------------------------------------------------------------- RuntimeProvider

    @Override
    public Optional<Runtime> find(String runtimeName) {
        return name.equals(runtimeName) ? Optional.of(this) : Optional.empty();
    }

    // ---------------------------------------------------------------- Runtime

    @Override
    public String name() {
        return name;
    }

    @Override
    public ContainerHandle create(String id, Path bundle, ContainerSpec spec, Path logPath, long logSizeMax) throws IOException {
        calls.add("create " + id);
        String f = failCreate;
        failCreate = null;
        if (f != null) throw OciRuntimeException.ofStartFailure(f); // typed as the conmon runner types runc's words
        if (states.containsKey(id)) throw new OciRuntimeException("container " + id + " exists already");
        long pid = pids.incrementAndGet();
        exits.remove(id);
        oom.remove(id);
        states.put(id, "created");
        pidOf.put(id, pid);
        return new ContainerHandle(id, bundle, pid, -1);
    }

    @Override
    public void start(String id) throws IOException {
        calls.add("start " + id);
        String f = failStart;
        failStart = null;
        if (f != null) throw new OciRuntimeException(f);
        if (!"created".equals(states.get(id))) throw new OciRuntimeException("cannot start " + id + ": " + states.get(id));
        states.put(id, "running");
        Integer code = exitAtStart.apply(id);
        if (code != null) Thread.ofVirtual().start(() -> exit(id, code));
    }

    @Override
    public void kill(String id, String signal) throws IOException {
        calls.add("kill " + id + " " + signal);
        String s = states.get(id);
        if (s == null || s.equals("stopped")) throw new OciRuntimeException.NoSuchContainer("container " + id + " is not running");
        int sig = Integer.parseInt(signal.equals("KILL") ? "9" : signal.equals("TERM") ? "15" : signal);
        if (sig != 9 && trapped.contains(sig)) return;
        if (s.equals("paused") && sig != 9) {
            pending.put(id, sig); // a frozen process acts on it once thawed
            return;
        }
        exit(id, 128 + sig);
    }

    @Override
    public void pause(String id) throws IOException {
        calls.add("pause " + id);
        if (!"running".equals(states.get(id))) throw new OciRuntimeException("container " + id + " is not running");
        states.put(id, "paused");
    }

    @Override
    public void resume(String id) throws IOException {
        calls.add("resume " + id);
        if (!"paused".equals(states.get(id))) throw new OciRuntimeException("container " + id + " is not paused");
        states.put(id, "running");
        Integer sig = pending.remove(id);
        if (sig != null) exit(id, 128 + sig);
    }

    @Override
    public Optional<RuntimeState> state(String id) {
        String s = states.get(id);
        if (s == null) return Optional.empty();
        return Optional.of(new RuntimeState("1.0.2", id, s, s.equals("stopped") ? 0 : pidOf.getOrDefault(id, 0L), null, null, Map.of()));
    }

    @Override
    public void delete(String id) throws IOException {
        delete(id, null);
    }

    @Override
    public void delete(String id, Path bundle) throws IOException {
        calls.add("delete " + id);
        removeFromRuntime(id);
        forgetExit(id);
    }

    @Override
    public void deleteFromRuntime(String id, Path bundle) {
        calls.add("deleteFromRuntime " + id);
        removeFromRuntime(id);
    }

    private void removeFromRuntime(String id) {
        String s = states.get(id);
        if (s != null && !s.equals("stopped")) exit(id, 137); // --force
        states.remove(id);
        pidOf.remove(id);
    }

    @Override
    public Optional<ContainerExit> exitOf(String id) {
        return Optional.ofNullable(exits.get(id));
    }

    @Override
    public void forgetExit(String id) {
        exits.remove(id);
    }

    @Override
    public CompletableFuture<ContainerExit> awaitExit(String id) {
        CompletableFuture<ContainerExit> f = new CompletableFuture<>();
        waiters.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(f);
        ContainerExit known = exits.get(id);
        if (known != null) {
            waiters.getOrDefault(id, List.of()).remove(f);
            f.complete(known);
        }
        return f;
    }

    @Override
    public void unwatchExit(String id) {
        // the fake reports each exit once, when it happens or to a later awaitExit while recorded
    }

    @Override
    public boolean oomKilled(ContainerHandle h, String cgroupsPath) {
        return oom.contains(h.id());
    }

    @Override
    public AttachSession attach(ContainerHandle h) throws IOException {
        throw new IOException("the fake runtime has no stdio to attach to");
    }

    @Override
    public void reopenLog(String id, java.nio.file.Path bundle) {
        calls.add("reopenLog " + id);
    }

    @Override
    public void resize(ContainerHandle h, int rows, int cols) {
        calls.add("resize " + h.id() + " " + rows + "x" + cols);
    }

    @Override
    public List<String> list() {
        return List.copyOf(states.keySet());
    }

    @Override
    public Recovered recover(String id, Path bundle) {
        ContainerExit e = exits.get(id);
        if (e != null) return new Recovered.Exited(e);
        Optional<RuntimeState> s = state(id);
        if (s.isEmpty()) return new Recovered.Gone(id);
        return new Recovered.Live(new ContainerHandle(id, bundle, s.get().pid(), -1), s.get());
    }

    @Override
    public ExecSession exec(String containerId, Path bundle, Path execDir, ExecSpec spec) throws IOException {
        calls.add("exec " + containerId);
        throw new IOException("the fake runtime runs no processes");
    }
}
