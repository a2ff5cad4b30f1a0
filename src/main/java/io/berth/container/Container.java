package io.berth.container;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One container: its record and its state machine. Every operation is checked against the
 * state by {@link #begin} and every change applied by {@link #update}, both under the
 * container's lock; this class holds the only copy of those rules.
 */
public final class Container {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ContainerStore store;
    private final List<String> execIds = new CopyOnWriteArrayList<>();
    private volatile ContainerRecord record;
    /** Bumped on every exit: next-exit waiters wait for it to move. */
    private long exits;
    /** Set when the record is gone: "removed" waiters end. */
    private boolean removed;
    /** A restart-policy timer to cancel when the user acts. */
    private volatile Runnable cancelRestart;
    /** Set while an operation (start, stop, remove) is in flight, so a concurrent one refuses or waits. */
    private Operation busy;
    /** Set when the record in memory is newer than the one on disk (the disk was full); cleared by the next save. */
    private volatile boolean unsaved;

    Container(ContainerStore store, ContainerRecord record) {
        this.store = store;
        this.record = record;
    }

    public ContainerRecord record() {
        return record;
    }

    public String id() {
        return record.id();
    }

    public List<String> execIds() {
        return execIds;
    }

    public ReentrantLock lock() {
        return lock;
    }

    /**
     * Checks that {@code op} is allowed now and returns the record it applies to; throws
     * Docker's error otherwise. Call under {@link #lock()} when the caller then changes the
     * state, so the check and the change are one step.
     */
    public ContainerRecord check(Operation op) {
        lock.lock();
        try {
            ContainerRecord r = record;
            String id = r.id();
            ContainerStatus s = r.state().status();
            switch (op) {
                case START -> {
                    if (s == ContainerStatus.RUNNING) throw ContainerException.notModified("Container already started");
                    if (s == ContainerStatus.PAUSED) throw ContainerException.conflict("cannot start a paused container, try unpause instead");
                    if (s == ContainerStatus.REMOVING || s == ContainerStatus.DEAD) {
                        throw ContainerException.conflict("container is marked for removal and cannot be started");
                    }
                }
                case STOP -> {
                    if (!s.hasProcess() && s != ContainerStatus.RESTARTING) throw ContainerException.notModified("Container already stopped");
                }
                case KILL -> {
                    if (!s.hasProcess() && s != ContainerStatus.RESTARTING) {
                        throw ContainerException.conflict("Cannot kill container: " + id + ": Container " + id + " is not running");
                    }
                }
                case PAUSE -> {
                    if (s == ContainerStatus.PAUSED) throw ContainerException.conflict("Container " + id + " is already paused");
                    if (s == ContainerStatus.RESTARTING) throw restarting(id);
                    if (s != ContainerStatus.RUNNING) throw ContainerException.conflict("Container " + id + " is not running");
                }
                case UNPAUSE -> {
                    if (s != ContainerStatus.PAUSED) throw ContainerException.conflict("Container " + id + " is not paused");
                }
                case EXEC -> {
                    if (s == ContainerStatus.PAUSED) throw ContainerException.conflict("Container " + id + " is paused, unpause the container before exec");
                    if (s == ContainerStatus.RESTARTING) throw restarting(id);
                    if (s != ContainerStatus.RUNNING) throw ContainerException.conflict("Container " + id + " is not running");
                }
                case TOP, STATS -> {
                    if (!s.hasProcess()) throw ContainerException.conflict("Container " + id + " is not running");
                }
                case REMOVE -> {
                    if (s == ContainerStatus.REMOVING) throw ContainerException.conflict("removal of container " + id + " is already in progress");
                    if (s == ContainerStatus.PAUSED) {
                        throw ContainerException.conflict("You cannot remove a paused container " + id
                                + ". Unpause and then stop the container before attempting removal or force remove");
                    }
                    if (s == ContainerStatus.RESTARTING) {
                        throw ContainerException.conflict("You cannot remove a restarting container " + id
                                + ". Stop the container before attempting removal or force remove");
                    }
                    if (s == ContainerStatus.RUNNING) {
                        throw ContainerException.conflict("You cannot remove a running container " + id
                                + ". Stop the container before attempting removal or force remove");
                    }
                }
                case FORCE_REMOVE -> {
                    if (s == ContainerStatus.REMOVING) throw ContainerException.conflict("removal of container " + id + " is already in progress");
                }
                case RESTART, RENAME, UPDATE, ATTACH -> {
                    if (s == ContainerStatus.REMOVING || s == ContainerStatus.DEAD) {
                        throw ContainerException.conflict("container " + id + " is marked for removal");
                    }
                }
                case WAIT -> { }
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    private static ContainerException restarting(String id) {
        return ContainerException.conflict("Container " + id + " is restarting, wait until the container is running");
    }

    /**
     * Marks {@code op} in flight after checking it; another start, stop or remove waits for it
     * to end (up to {@code wait}). End it with {@link #end}.
     */
    public ContainerRecord begin(Operation op, Duration wait) {
        lock.lock();
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            while (busy != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw ContainerException.conflict("container " + record.id() + " is busy: " + busy.name().toLowerCase() + " in progress");
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw ContainerException.conflict("interrupted while waiting for container " + record.id());
                }
            }
            ContainerRecord r = check(op);
            busy = op;
            return r;
        } finally {
            lock.unlock();
        }
    }

    public void end(Operation op) {
        lock.lock();
        try {
            if (busy == op) busy = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Applies a change to the record, persists it, and wakes waiters. */
    public ContainerRecord update(UnaryOperator<ContainerRecord> change) throws IOException {
        return update(change, false, true);
    }

    /**
     * Like {@link #update}, but a full disk does not stop the change: it holds in memory
     * ({@link #isUnsaved()} tells) until {@link #saveAgain} or a later update writes it. For
     * what has happened whether or not the disk has room (an exit), or what frees room (a
     * removal); a full disk must not hide either.
     */
    public ContainerRecord updateEvenIfDiskFull(UnaryOperator<ContainerRecord> change) throws IOException {
        return update(change, true, true);
    }

    /**
     * {@code durable} false: the write need not reach the disk before the next step (a removal
     * follows, and is what makes the end durable).
     */
    private ContainerRecord update(UnaryOperator<ContainerRecord> change, boolean evenIfDiskFull, boolean durable) throws IOException {
        lock.lock();
        try {
            ContainerRecord next = change.apply(record);
            boolean exit = (next.state().status() == ContainerStatus.EXITED || next.state().status() == ContainerStatus.RESTARTING)
                    && record.state().status().hasProcess();
            boolean saved = true;
            // a record about to be deleted need not reach the disk before the next step: its
            // removal is what makes it durable (a machine crash leaves the older state, or none)
            if (!removed) { // nor resurrect a removed one
                try {
                    store.save(next, durable && busy != Operation.REMOVE && busy != Operation.FORCE_REMOVE);
                } catch (IOException e) {
                    if (!evenIfDiskFull || !io.berth.sys.DiskFull.causes(e)) throw e;
                    saved = false;
                }
            }
            unsaved = !saved;
            if (exit) exits++;
            record = next;
            changed.signalAll();
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** True while the record in memory has not reached the disk (it was full at the last change). */
    public boolean isUnsaved() {
        return unsaved;
    }

    /** Writes the record again after a failed save; true once it is on disk (or the container is gone). */
    public boolean saveAgain() {
        lock.lock();
        try {
            if (!unsaved || removed) return true;
            store.save(record, true);
            unsaved = false;
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The container's process ended: applies the exit (to exited, or restarting when the policy
     * wants another try). A full disk does not lose it: see {@link #updateEvenIfDiskFull}.
     */
    public ContainerRecord exited(int code, boolean oom, Instant at, boolean restart) throws IOException {
        return updateEvenIfDiskFull(r -> r.withState(r.state().exited(code, oom, at, restart ? ContainerStatus.RESTARTING : ContainerStatus.EXITED)));
    }

    /**
     * {@link #exited} of a container removed next (--rm): its record is not flushed on the
     * way, as a removal's own updates are not; a machine crash before the removal leaves the
     * running state, which the daemon's start reconciles as an exit.
     */
    public ContainerRecord exitedBeforeRemoval(int code, boolean oom, Instant at) throws IOException {
        return update(r -> r.withState(r.state().exited(code, oom, at, ContainerStatus.EXITED)), true, false);
    }

    /** A start that failed: counts as an exit for next-exit waiters, with the error shown in State.Error. */
    public ContainerRecord startFailed(String message, int code) throws IOException {
        lock.lock();
        try {
            // as dockerd: a container that never ran stays "created" (with the exit code and error), else "exited"
            ContainerRecord next = update(r -> r.withState(r.state().failed(message, code,
                    r.state().startedAt() == null ? ContainerStatus.CREATED : ContainerStatus.EXITED)));
            exits++;
            changed.signalAll();
            return next;
        } finally {
            lock.unlock();
        }
    }

    void markRemoved() {
        lock.lock();
        try {
            removed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isRemoved() {
        return removed;
    }

    public long exitCount() {
        lock.lock();
        try {
            return exits;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@code until} holds for the record (or the container is removed); false on timeout. */
    public boolean await(Predicate<Container> until, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            long left = timeout.toNanos();
            while (!until.test(this)) {
                if (left <= 0) return false;
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the exit after the {@code after}-th one; used by wait?condition=next-exit. */
    public boolean awaitExitAfter(long after, Duration timeout) throws InterruptedException {
        return await(c -> c.exits > after || c.removed, timeout);
    }

    public void setCancelRestart(Runnable r) {
        cancelRestart = r;
    }

    /** Stops a pending restart-policy timer, if any. */
    public void cancelPendingRestart() {
        Runnable r = cancelRestart;
        cancelRestart = null;
        if (r != null) r.run();
    }

    public boolean awaitStatus(Predicate<ContainerStatus> p, long timeout, TimeUnit unit) throws InterruptedException {
        return await(c -> p.test(c.record.state().status()) || c.removed, Duration.ofNanos(unit.toNanos(timeout)));
    }
}
