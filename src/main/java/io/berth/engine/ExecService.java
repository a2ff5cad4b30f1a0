package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.Operation;
import io.berth.container.Users;
import io.berth.runtime.AttachSession;
import io.berth.runtime.ExecSession;
import io.berth.runtime.OciRuntimeException;
import io.berth.runtime.ExecSpec;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** docker exec: exec instances are created, started once (attached or detached), inspected, resized. */
public final class ExecService {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ContainerService containers;
    private final Map<String, Exec> execs = new ConcurrentHashMap<>();

    public ExecService(ContainerService containers) {
        this.containers = containers;
    }

    /**
     * What exec create asks.
     *
     * @param detachKeys the keys that end an attached session with a terminal, as Docker names them (null: ctrl-p,ctrl-q)
     * @param detachable whether such keys apply at all: Docker's clients have them, Kubernetes' do not
     */
    public record ExecConfig(List<String> cmd, List<String> env, String user, String workingDir, boolean tty, boolean attachStdin,
                             boolean attachStdout, boolean attachStderr, boolean privileged, String detachKeys, List<Integer> consoleSize,
                             boolean detachable) {}

    /** One exec instance and how it went. */
    public static final class Exec {
        public final String id;
        public final String containerId;
        public final ExecConfig config;
        private volatile boolean started;
        private volatile boolean running;
        private volatile Integer exitCode;
        private volatile long pid;
        private volatile ExecSession session;

        Exec(String id, String containerId, ExecConfig config) {
            this.id = id;
            this.containerId = containerId;
            this.config = config;
        }

        public boolean running() {
            return running;
        }

        public Integer exitCode() {
            return exitCode;
        }

        public long pid() {
            return pid;
        }
    }

    public String create(String ref, ExecConfig config) {
        Container c = containers.get(ref);
        ContainerRecord r = c.check(Operation.EXEC);
        if (config.cmd() == null || config.cmd().isEmpty()) throw ContainerException.invalid("No exec command specified");
        if (config.detachKeys() != null) ContainerLifecycle.parseDetachKeys(config.detachKeys()); // refused now, not at start
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        execs.put(id, new Exec(id, r.id(), config));
        c.execIds().add(id);
        containers.publish(r, "exec_create: " + String.join(" ", config.cmd()), Map.of("execID", id));
        return id;
    }

    public Exec get(String id) {
        Exec e = execs.get(id);
        if (e == null) throw ContainerException.notFound("No such exec instance: " + id);
        return e;
    }

    /**
     * Kills a running exec's process (the CRI's ExecSync past its timeout: kubelet's probe gave up,
     * and the command must not live on). Its exit comes through the session as any other.
     */
    public void kill(String id) {
        Exec e = get(id);
        long pid = e.pid;
        if (!e.running || pid <= 0) return;
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** Checks the exec can start (before the API answers 101). */
    public Exec prepareStart(String id) {
        Exec e = get(id);
        if (e.started) throw ContainerException.conflict("Error: Exec command " + id + " is already running");
        containers.get(e.containerId).check(Operation.EXEC);
        return e;
    }

    /**
     * Runs the exec. Detached: returns once it runs. Attached: relays its output (and stdin)
     * until its streams end, and returns once its exit code is known.
     */
    public void start(String id, boolean detach, InputStream stdin, ContainerLifecycle.Output out) throws IOException, InterruptedException {
        Exec e = get(id);
        synchronized (e) {
            if (e.started) throw ContainerException.conflict("Error: Exec command " + id + " is already running");
            e.started = true;
        }
        Container c = containers.get(e.containerId);
        ContainerRecord r = c.check(Operation.EXEC);
        ExecConfig cfg = e.config;
        Integer uid = null;
        Integer gid = null;
        List<Integer> groups = List.of();
        List<String> env = new ArrayList<>(cfg.env() == null ? List.of() : cfg.env());
        List<String> containerEnv = r.config().env() == null ? List.of() : r.config().env();
        if (cfg.user() != null && !cfg.user().isEmpty()) {
            Users.Resolved u = Users.resolve(containers.rootfsDir(r.id()), cfg.user(), List.of());
            uid = u.uid();
            gid = u.gid();
            groups = u.additionalGids();
            // as runc does for dockerd: HOME is the exec user's, unless the container or the exec sets one
            if (!hasVar(env, "HOME") && !hasVar(containerEnv, "HOME")) env.add("HOME=" + u.home());
        }
        if (cfg.tty() && !hasVar(env, "TERM") && !hasVar(containerEnv, "TERM")) env.add("TERM=xterm");
        int h = cfg.consoleSize() != null && cfg.consoleSize().size() == 2 ? cfg.consoleSize().get(0) : 0;
        int w = cfg.consoleSize() != null && cfg.consoleSize().size() == 2 ? cfg.consoleSize().get(1) : 0;
        boolean attach = !detach && (cfg.attachStdout() || cfg.attachStderr() || cfg.attachStdin());
        ExecSpec spec = new ExecSpec(cfg.cmd(), env,
                cfg.workingDir() == null || cfg.workingDir().isEmpty() ? null : cfg.workingDir(), uid, gid, groups, cfg.tty(),
                cfg.attachStdin() && !detach, attach, cfg.privileged(), h, w);
        ContainerLifecycle lifecycle = containers.lifecycle();
        ExecSession session;
        try {
            session = lifecycle.runtimeFor(r).exec(r.id(), lifecycle.bundle(r.id()),
                    containers.store().directory(r.id()).resolve("exec").resolve(id.substring(0, 12)), spec);
        } catch (OciRuntimeException.ProcessNotStarted ex) {
            e.exitCode = ex.reason().exitCode();
            throw ContainerException.invalid("OCI runtime exec failed: " + ex.getMessage() + ": unknown");
        } catch (IOException ex) {
            e.exitCode = 126;
            throw ex;
        }
        e.session = session;
        e.pid = session.pid();
        e.running = true;
        String cmd = String.join(" ", cfg.cmd());
        containers.publish(r, "exec_start: " + cmd, Map.of("execID", id));
        session.exitCode().whenComplete((code, err) -> {
            e.exitCode = code == null ? -1 : code;
            e.running = false;
            Map<String, String> attrs = new LinkedHashMap<>();
            attrs.put("execID", id);
            attrs.put("exitCode", Integer.toString(e.exitCode));
            containers.publish(c.record(), "exec_die", attrs);
        });
        if (!attach) return;
        AttachSession a = session.attach();
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean detached = new AtomicBoolean();
        a.pump(new AttachSession.Sink() {
            @Override
            public void write(AttachSession.StdStream stream, byte[] data) throws IOException {
                int n = stream == AttachSession.StdStream.STDERR ? 2 : 1;
                if ((n == 1 && cfg.attachStdout()) || (n == 2 && cfg.attachStderr())) out.write(n, data);
            }

            @Override
            public void end() {
                done.countDown();
            }
        }, 4 << 20);
        if (cfg.attachStdin() && stdin != null) {
            // as dockerd: the detach keys (the exec's own, else ctrl-p ctrl-q) apply to a tty; they end the attach, not the process
            byte[] keys = cfg.tty() && cfg.detachable() ? ContainerLifecycle.parseDetachKeys(cfg.detachKeys()) : new byte[0];
            Thread.ofVirtual().name("exec-stdin " + id.substring(0, 12)).start(() -> StdinRelay.copy(stdin, a, keys, () -> {
                detached.set(true);
                done.countDown();
            }));
        }
        try {
            done.await();
            if (detached.get()) {
                containers.publish(c.record(), "exec_detach", Map.of("execID", id));
                return;
            }
            try {
                session.exitCode().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ignored) {
                // inspect shows it when it comes
            }
            // let the exec_die listener record the code before the client asks for it
            for (int i = 0; i < 100 && e.running; i++) Thread.sleep(Duration.ofMillis(5));
        } finally {
            a.close(); // the stdin relay ends by itself, as in ContainerLifecycle.attach (an interrupt would reset the client)
        }
    }

    private static boolean hasVar(List<String> env, String name) {
        return env.stream().anyMatch(e -> e.startsWith(name + "="));
    }

    public void resize(String id, int rows, int cols) throws IOException {
        Exec e = get(id);
        ExecSession s = e.session;
        if (s == null || !e.running) throw ContainerException.conflict("Exec " + id + " is not running");
        if (e.config.tty()) s.resize(rows, cols);
    }

    /** Forgets the exec instances of a removed container. */
    public void forgetContainer(String containerId) {
        execs.values().removeIf(e -> e.containerId.equals(containerId));
    }
}
