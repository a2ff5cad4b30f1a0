package io.berth.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What the engine asks of a container runtime: the verbs of a container's process, from
 * create to delete, its exit, exec and attach, and finding it again after a daemon restart.
 * {@link Conmon} (conmon + runc/crun) implements it; tests use a fake that runs nothing.
 *
 * <p>A container is named by its ID; its bundle (config.json, and whatever the runtime keeps
 * beside it) is a directory the caller owns. The exit of a container is reported once through
 * {@link #awaitExit} and stays readable through {@link #exitOf} (after a restart too) until
 * {@link #forgetExit}.
 */
public interface Runtime {
    /** The runtime's name (runc, crun, ...), as containers name it. */
    String name();

    /**
     * Writes the container's config from {@code spec} into {@code bundle} and creates the
     * container: its process exists but waits until {@link #start}.
     *
     * @param logPath where the container's output is logged
     * @param logSizeMax a hard cap on that log in bytes; 0: none
     */
    ContainerHandle create(String id, Path bundle, ContainerSpec spec, Path logPath, long logSizeMax) throws IOException;

    /** Starts a created container's process. */
    void start(String id) throws IOException;

    /** Sends a signal ("TERM", "KILL", "SIGUSR1", "9") to the container's init process. */
    void kill(String id, String signal) throws IOException;

    void pause(String id) throws IOException;

    void resume(String id) throws IOException;

    /** The runtime's view of the container, or empty when it does not know it. */
    Optional<RuntimeState> state(String id) throws IOException;

    /** Removes the container from the runtime (killing it if it still runs) and forgets its exit. */
    void delete(String id) throws IOException;

    /** {@link #delete(String)} when the caller knows the bundle. */
    void delete(String id, Path bundle) throws IOException;

    /**
     * Removes the container from the runtime but keeps its recorded exit: readable (after a
     * daemon restart too) until the caller has saved it and calls {@link #forgetExit}.
     */
    void deleteFromRuntime(String id, Path bundle) throws IOException;

    /** The container's exit as recorded, or empty while it runs (or never ran). */
    Optional<ContainerExit> exitOf(String id);

    /** Drops the recorded exit, once it is saved (or no longer matters). */
    void forgetExit(String id) throws IOException;

    /** Completes once with the container's next (or already recorded, not yet reported) exit. */
    CompletableFuture<ContainerExit> awaitExit(String id);

    /** Stops reporting {@code id}'s exit: a later exit of the same ID is a new one. */
    void unwatchExit(String id);

    /** Whether the container's process was killed for lack of memory. */
    boolean oomKilled(ContainerHandle h, String cgroupsPath);

    /** Connects to the container's stdio; before {@link #start}, nothing of its output is missed. */
    AttachSession attach(ContainerHandle h) throws IOException;

    /**
     * Has the runtime close the container's log and start a new file at its path (after the
     * file was renamed away, as kubelet's log rotation does). Only while the container runs.
     */
    void reopenLog(String id, Path bundle) throws IOException;

    /** Resizes a tty container's terminal. */
    void resize(ContainerHandle h, int rows, int cols) throws IOException;

    /** The IDs of the containers the runtime knows (created, running, paused or stopped). */
    java.util.List<String> list() throws IOException;

    /** Finds a container again after a daemon restart. */
    Recovered recover(String id, Path bundle) throws IOException;

    /**
     * Runs a process in a running container.
     *
     * @param bundle the container's bundle (its config gives the exec's defaults)
     * @param execDir a fresh directory for this exec session
     */
    ExecSession exec(String containerId, Path bundle, Path execDir, ExecSpec spec) throws IOException;

    /** A container found again after a daemon restart. */
    sealed interface Recovered {
        /** The runtime still holds it (created, running or paused). */
        record Live(ContainerHandle handle, RuntimeState state) implements Recovered {}

        /** It ended while nobody watched (or before); the runtime may still list it as stopped. */
        record Exited(ContainerExit exit) implements Recovered {}

        /** Neither the runtime nor a recorded exit knows it. */
        record Gone(String id) implements Recovered {}
    }
}
