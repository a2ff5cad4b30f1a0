package io.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process started in a running container through conmon's exec mode. Its output streams
 * through {@link #attach()} (when attached); {@link #exitCode()} completes when it ends.
 * conmon also writes the exit code to {@code DIR/exit/CONTAINER_ID}, so the result survives
 * a daemon restart ({@link Conmon#execExit(Path, String)}).
 */
public final class ExecSession implements AutoCloseable {
    private final String containerId;
    private final Path dir;
    private final long pid;
    private final long conmonPid;
    private final AttachSession attach;
    private final CompletableFuture<Integer> exit;

    ExecSession(String containerId, Path dir, long pid, long conmonPid, AttachSession attach, CompletableFuture<Integer> exit) {
        this.containerId = containerId;
        this.dir = dir;
        this.pid = pid;
        this.conmonPid = conmonPid;
        this.attach = attach;
        this.exit = exit;
    }

    public String containerId() {
        return containerId;
    }

    /** The exec session's directory: process.json, attach socket, ctl fifo, exit/. */
    public Path dir() {
        return dir;
    }

    /** The exec'd process on the host. */
    public long pid() {
        return pid;
    }

    public long conmonPid() {
        return conmonPid;
    }

    /** Its stdio, or null for a detached exec. */
    public AttachSession attach() {
        return attach;
    }

    /** Completes with the exit status (128+N when killed by signal N, -1 if conmon vanished). */
    public CompletableFuture<Integer> exitCode() {
        return exit;
    }

    /** Waits for the exit status. */
    public int waitFor(Duration timeout) throws IOException, TimeoutException {
        try {
            return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for exec in " + containerId);
        } catch (ExecutionException e) {
            throw new IOException("exec in " + containerId + " failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Resizes the exec's terminal. */
    public void resize(int rows, int cols) throws IOException {
        AttachSession.resize(dir, rows, cols);
    }

    /** Sends a signal to the exec'd process ("TERM" or "KILL"). */
    public void kill(boolean force) {
        ProcessHandle.of(pid).ifPresent(h -> {
            if (force) h.destroyForcibly();
            else h.destroy();
        });
    }

    /** Whether the process still runs. */
    public boolean isRunning() {
        return !exit.isDone();
    }

    /** Detaches from the output; the process keeps running. */
    @Override
    public void close() {
        if (attach != null) attach.close();
    }

    /** The exit file conmon leaves in an exec directory, if it is there. */
    static ContainerExit readExit(Path dir, String containerId) {
        Path f = dir.resolve("exit").resolve(containerId);
        try {
            String text = Files.readString(f).trim();
            if (text.isEmpty()) return null;
            Instant time = Files.getLastModifiedTime(f).toInstant();
            return new ContainerExit(containerId, Integer.parseInt(text), time);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }
}
