package io.berth.cri;

import io.berth.cri.stream.StreamBackend;
import io.berth.engine.ContainerLifecycle;
import io.berth.engine.Engine;
import io.berth.engine.ExecService;
import io.berth.sys.Namespaces;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The streaming server's work done by the engine: exec and attach as Docker's are, and a pod's ports. */
final class CriStreams implements StreamBackend {
    private final Engine engine;
    private final Pods pods;

    CriStreams(Engine engine, Pods pods) {
        this.engine = engine;
        this.pods = pods;
    }

    @Override
    public int exec(String containerId, List<String> command, boolean tty, Streams io) throws IOException, InterruptedException {
        return exec(containerId, command, tty, io, id -> {});
    }

    /** As {@link #exec(String, List, boolean, Streams)}, telling the exec's ID once it is made (to kill it later). */
    int exec(String containerId, List<String> command, boolean tty, Streams io, java.util.function.Consumer<String> made)
            throws IOException, InterruptedException {
        ExecService execs = engine.containers().execs();
        String id = execs.create(containerId, new ExecService.ExecConfig(command, null, null, null, tty, io.stdin() != null,
                io.stdout() != null, io.stderr() != null, false, null, null, false));
        made.accept(id);
        Thread sizes = Thread.ofVirtual().name("exec-resize").start(() -> io.resizes().accept(size -> {
            try {
                awaitRunning(execs.get(id));
                execs.resize(id, size.height(), size.width());
            } catch (IOException | RuntimeException | InterruptedException e) {
                // the exec ended meanwhile: nothing to size
            }
        }));
        try {
            execs.start(id, false, io.stdin(), (stream, data) -> write(stream == 2 ? io.stderr() : io.stdout(), data));
        } finally {
            sizes.interrupt();
        }
        Integer code = execs.get(id).exitCode();
        return code == null ? -1 : code;
    }

    /** A resize waits for the exec's terminal to exist (the first size comes with the streams). */
    private static void awaitRunning(ExecService.Exec e) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!e.running() && e.exitCode() == null && System.nanoTime() < deadline) Thread.sleep(10);
    }

    @Override
    public void attach(String containerId, boolean tty, Streams io) throws IOException, InterruptedException {
        ContainerLifecycle lifecycle = engine.containers().lifecycle();
        Thread sizes = Thread.ofVirtual().name("attach-resize").start(() -> io.resizes().accept(size -> {
            try {
                lifecycle.resize(containerId, size.height(), size.width());
            } catch (IOException | RuntimeException e) {
                // not running (any more): nothing to size
            }
        }));
        try {
            // no detach keys: Kubernetes' clients end an attach by closing it
            lifecycle.attach(containerId, new ContainerLifecycle.AttachOptions(true, false, io.stdin() != null, io.stdout() != null,
                    io.stderr() != null, new byte[0]), io.stdin(), (stream, data) -> write(stream == 2 ? io.stderr() : io.stdout(), data));
        } finally {
            sizes.interrupt();
        }
    }

    private static void write(OutputStream out, byte[] data) throws IOException {
        if (out != null) out.write(data);
    }

    @Override
    public SocketChannel connect(String podId, int port) throws IOException {
        Pod pod = pods.get(podId);
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", port);
        if (pod.netns() == null) {
            if (!pod.hostNetwork()) throw new IOException("pod " + pod.id() + " is stopped: it has no network namespace");
            return SocketChannel.open(loopback);
        }
        return Namespaces.connectIn(Path.of(pod.netns()), loopback);
    }
}
