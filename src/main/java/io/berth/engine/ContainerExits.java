package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.Operation;
import io.berth.container.RestartPolicies;
import io.berth.runtime.ContainerExit;
import io.berth.runtime.ContainerHandle;
import io.berth.runtime.Runtime;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What follows a container's exit: the runtime's record of it, the rootfs and networking
 * released, the exit recorded (oom, die), then the restart policy (with its back-off) or the
 * auto-removal. An exit that a full data root kept from the disk is written once there is
 * room, and only then is the runtime's record of it dropped.
 */
final class ContainerExits {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerExits.class);
    private static final Duration UNSAVED_RETRY = Duration.ofSeconds(2);

    /** Starts a container's process again (the lifecycle's start, without the user's checks). */
    interface Starter {
        void startProcess(Container c) throws IOException;
    }

    private final ContainerService service;
    /** The handles of the containers the runtime holds now (the lifecycle's). */
    private final Map<String, ContainerHandle> handles;
    private final Function<ContainerRecord, Runtime> runtimes;
    private final ContainerHost host;
    private final Function<ContainerRecord, String> cgroupsPath;
    private final Function<String, Path> bundle;
    private final Consumer<ContainerRecord> capLog;
    private final Starter starter;
    private final Map<String, Duration> backoff = new ConcurrentHashMap<>();
    /** Containers whose exit is known but not yet on disk (the data root was full): their exit files are kept till it is. */
    private final Map<String, ContainerExit> unsavedExits = new ConcurrentHashMap<>();

    ContainerExits(ContainerService service, Map<String, ContainerHandle> handles, Function<ContainerRecord, Runtime> runtimes,
                   ContainerHost host, Function<ContainerRecord, String> cgroupsPath, Function<String, Path> bundle,
                   Consumer<ContainerRecord> capLog, Starter starter) {
        this.service = service;
        this.handles = handles;
        this.runtimes = runtimes;
        this.host = host;
        this.cgroupsPath = cgroupsPath;
        this.bundle = bundle;
        this.capLog = capLog;
        this.starter = starter;
    }

    /** Starts the writer of the exits a full disk kept in memory. */
    void startSavingUnsaved() {
        Thread.ofVirtual().name("unsaved exits").start(this::saveUnsavedExits);
    }

    /** Handles the container's next exit when it comes, on a thread of its own. */
    void watch(Container c, Runtime runtime) {
        runtime.awaitExit(c.id()).thenAccept(e -> Thread.ofVirtual().name("exit " + c.id()).start(() -> handle(c, e)));
    }

    /** A start by the user: the restart back-off starts afresh. */
    void resetBackoff(String id) {
        backoff.remove(id);
    }

    /**
     * The process ended: frees what it held (runtime, rootfs, networking), records the exit
     * (oom, die), then restarts by the policy or removes an auto-remove container.
     */
    void handle(Container c, ContainerExit exit) {
        try {
            ContainerRecord r = c.record();
            if (!r.state().status().hasProcess() || c.isRemoved()) return;
            String id = r.id();
            ContainerHandle h = handles.remove(id);
            Runtime runtime = runtimes.apply(r);
            boolean oom = h != null && runtime.oomKilled(h, cgroupsPath.apply(r));
            int code = exit.exitCode() < 0 ? 255 : exit.exitCode();
            long t0 = System.nanoTime();
            // The network's teardown and the runtime's delete are independent runs of other
            // programs: side by side, the exit is handled in the time of the longer one.
            CompletableFuture<Void> unwired = CompletableFuture.runAsync(() -> service.wiring().stopped(r), Thread::startVirtualThread);
            try {
                // the exit file stays until the exit is on disk: it is the record a restart reads meanwhile
                runtime.deleteFromRuntime(id, bundle.apply(id));
            } catch (IOException e) {
                LOG.debug("runtime delete of {}: {}", id, e.toString());
            }
            capLog.accept(r);
            runtime.unwatchExit(id);
            long t1 = System.nanoTime();
            host.unmountRootfs(service.rootfsDir(id));
            long t2 = System.nanoTime();
            Futures.await(unwired);
            long t3 = System.nanoTime();
            boolean restart = !r.settings().autoRemove()
                    && RestartPolicies.shouldRestart(r.settings().restart(), code, r.restartCount(), r.manuallyStopped());
            Instant started = r.state().startedAt();
            // tells oom, then die (exitCode only, as dockerd 20.10)
            if (!restart && r.settings().autoRemove()) c.exitedBeforeRemoval(code, oom);
            else c.exited(code, oom, restart, exit.time()); // when conmon saw it end, also while berthd was away
            if (c.isUnsaved()) {
                LOG.warn("container {} exited with {}, but its record cannot be written (is the data root full?): "
                        + "kept in memory and in the runtime's exit record, written once there is room", r.shortId(), code);
                unsavedExits.put(id, exit);
            } else {
                forgetExitFile(c, exit);
            }
            if (restart) {
                Duration ran = started == null ? Duration.ZERO : Duration.between(started, Instant.now());
                Duration delay = RestartPolicies.nextDelay(backoff.get(id), ran);
                backoff.put(id, delay);
                scheduleRestart(c, delay);
            } else if (r.settings().autoRemove()) {
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

    /** Starts the container again by its restart policy after {@code delay}, unless the user acts first. */
    void scheduleRestart(Container c, Duration delay) {
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
                starter.startProcess(c);
            } catch (IOException | RuntimeException e) {
                LOG.warn("restart of {} failed: {}", c.id(), e.getMessage());
            } finally {
                c.end(Operation.START);
            }
        });
        c.setCancelRestart(t::interrupt);
        t.start();
    }

    /** --rm: removes the container with its anonymous volumes. */
    void autoRemove(Container c) {
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

    /** Deletes conmon's exit file once {@code handled} is recorded, unless it is already a newer run's. */
    private void forgetExitFile(Container c, ContainerExit handled) {
        try {
            Runtime runtime = runtimes.apply(c.record());
            ContainerExit onDisk = runtime.exitOf(c.id()).orElse(null);
            if (onDisk != null && onDisk.time().equals(handled.time())) runtime.forgetExit(c.id());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot delete the exit file of {}: {}", c.id(), e.toString());
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
