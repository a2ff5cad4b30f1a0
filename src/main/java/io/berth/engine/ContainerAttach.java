package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import io.berth.container.Operation;
import io.berth.runtime.AttachSession;
import io.berth.runtime.ContainerHandle;
import io.berth.runtime.LogReader;
import io.berth.runtime.LogReader.LogQuery;
import io.berth.runtime.Runtime;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * A container's stdio for clients: attach (the log replayed, then the live streams and
 * stdin), resize, logs. An attach to a created container waits for its start: the start
 * connects it after the runtime's create and before the process runs, so nothing is missed.
 */
final class ContainerAttach {
    private final ContainerService service;
    /** The handles of the containers the runtime holds now (the lifecycle's). */
    private final Map<String, ContainerHandle> handles;
    private final Function<ContainerRecord, Runtime> runtimes;
    /** Attach requests waiting for a created container to start: run after the runtime's create, before its start. */
    private final Map<String, List<CompletableFuture<AttachSession>>> waiting = new ConcurrentHashMap<>();

    ContainerAttach(ContainerService service, Map<String, ContainerHandle> handles, Function<ContainerRecord, Runtime> runtimes) {
        this.service = service;
        this.handles = handles;
        this.runtimes = runtimes;
    }

    /** At start, after the runtime's create: connects the attach requests that wait for it. */
    void connectWaiting(String id, Runtime runtime, ContainerHandle h) {
        List<CompletableFuture<AttachSession>> fs = waiting.remove(id);
        if (fs == null) return;
        for (CompletableFuture<AttachSession> f : fs) {
            try {
                AttachSession a = runtime.attach(h);
                if (!f.complete(a)) a.close();
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        }
    }

    /** The start failed: the waiting attach requests end with its failure. */
    void failWaiting(String id, Throwable failure) {
        List<CompletableFuture<AttachSession>> fs = waiting.remove(id);
        if (fs != null) fs.forEach(f -> f.completeExceptionally(failure));
    }

    /** The container is going away: the waiting attach requests end without a session. */
    void cancelWaiting(String id) {
        List<CompletableFuture<AttachSession>> fs = waiting.remove(id);
        if (fs != null) fs.forEach(f -> f.cancel(false));
    }

    /**
     * Attaches to a container's stdio: replays the log first with {@code logs}, then (with
     * {@code stream}) relays output until the container's streams end, the client detaches
     * with the detach keys, or it goes away. A created container is attached when it starts.
     */
    void attach(String ref, ContainerLifecycle.AttachOptions o, InputStream stdin, ContainerLifecycle.Output out) throws IOException, InterruptedException {
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
            if (s.hasProcess() && h != null) return runtimes.apply(c.record()).attach(h);
            if (s != ContainerStatus.CREATED && s != ContainerStatus.RESTARTING && s != ContainerStatus.EXITED) return null;
            f = new CompletableFuture<>();
            waiting.computeIfAbsent(c.id(), k -> new CopyOnWriteArrayList<>()).add(f);
        }
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            return null;
        } catch (InterruptedException e) {
            List<CompletableFuture<AttachSession>> l = waiting.get(c.id());
            if (l != null) l.remove(f);
            f.thenAccept(AttachSession::close);
            throw e;
        }
    }

    void resize(String ref, int rows, int cols) throws IOException {
        Container c = service.get(ref);
        ContainerRecord r = c.record();
        ContainerHandle h = handles.get(r.id());
        if (!r.state().status().hasProcess() || h == null) {
            throw ContainerException.conflict("Container " + r.id() + " is not running");
        }
        if (!r.tty()) return;
        runtimes.apply(r).resize(h, rows, cols);
    }

    /**
     * How long after its start a container's logs wait for a short command to end. A start
     * answers once the process runs; a command such as {@code ls} ends a millisecond later, but
     * its output reaches the log through conmon only after that: a `docker logs` sent right
     * after the start found the log empty one time in four (dockerd, whose start answers later,
     * one in fifteen). Waiting for the exit (when conmon has written everything) or for the
     * container to be this old makes the common create, start, logs sequence see the output.
     */
    static final Duration SETTLE = Duration.ofMillis(250);

    private static void settle(Container c) throws InterruptedException {
        var st = c.record().state();
        if (st.status() != ContainerStatus.RUNNING || st.startedAt() == null) return;
        Duration left = SETTLE.minus(Duration.between(st.startedAt(), java.time.Instant.now()));
        if (left.isNegative() || left.isZero()) return;
        c.await(x -> x.isRemoved() || !x.record().state().status().hasProcess(), left);
    }

    /** Reads the container's log (its rotated files first); with {@code q.follow()}, until the container stops or the sink says no. */
    void logs(String ref, LogQuery q, LogReader.Sink sink) throws IOException, InterruptedException {
        Container c = service.get(ref);
        String id = c.id();
        if (!q.follow()) settle(c);
        LogReader.read(service.logPath(id), q, () -> {
            ContainerStatus s = c.record().state().status();
            return !c.isRemoved() && (s.hasProcess() || s == ContainerStatus.RESTARTING);
        }, sink);
    }
}
