package io.berth.container;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One container: its record and its state machine. This class holds the only copy of the
 * rules: {@link #check} says whether an operation is allowed now, {@link #begin}/{@link #end}
 * keep two long operations (start, stop, remove) from overlapping, and the verbs
 * ({@link #started}, {@link #exited}, {@link #kill}, {@link #pause}, {@link #removing}, ...)
 * each check their precondition, move the state, save the record and announce Docker's
 * event in one step under the container's lock. Nothing else changes a status, so an event
 * cannot overtake the change it tells of: {@code die} is out before a stop waiting for the
 * exit wakes up to announce {@code stop}.
 */
public final class Container {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ContainerStore store;
    private final ContainerEvents events;
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

    Container(ContainerStore store, ContainerEvents events, ContainerRecord record) {
        this.store = store;
        this.events = events;
        this.record = record;
    }

    /** A step of the runtime (a signal, a freeze) done under the container's lock, so no exit is handled half-way through it. */
    @FunctionalInterface
    public interface RuntimeStep {
        void run(ContainerRecord r) throws IOException;
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

    /**
     * Checks that {@code op} is allowed now and returns the record it applies to; throws
     * Docker's error otherwise. A question only: the verbs check again as they move the state.
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

    /** Applies a change to the record, persists it, and wakes waiters; the verbs' one way to the disk. */
    ContainerRecord update(UnaryOperator<ContainerRecord> change) throws IOException {
        return update(change, false, true);
    }

    /**
     * Like {@link #update}, but a full disk does not stop the change: it holds in memory
     * ({@link #isUnsaved()} tells) until {@link #saveAgain} or a later update writes it. For
     * what has happened whether or not the disk has room (an exit), or what frees room (a
     * removal); a full disk must not hide either.
     */
    private ContainerRecord updateEvenIfDiskFull(UnaryOperator<ContainerRecord> change) throws IOException {
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

    /**
     * Changes the container's configuration (resources, links), never its state: whatever
     * {@code change} does to the state is dropped.
     */
    public ContainerRecord reconfigure(UnaryOperator<ContainerRecord> change) throws IOException {
        lock.lock();
        try {
            ContainerState now = record.state();
            return update(r -> change.apply(r).withState(now));
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

    private void announce(String action, Map<String, String> extra) {
        events.publish(action, record.id(), ContainerEvents.attributes(record, extra));
    }

    private ContainerStatus status() {
        return record.state().status();
    }

    private ContainerException illegal(String verb) {
        return ContainerException.conflict("container " + record.id() + " cannot be " + verb + " while " + status().word());
    }

    // ---------------------------------------------------------------- start

    /**
     * A start asked by the user: marks it in flight (see {@link #begin}), cancels a pending
     * policy restart and resets the policy's count. End it with {@code end(Operation.START)}.
     */
    public ContainerRecord beginStart(Duration wait) throws IOException {
        begin(Operation.START, wait);
        try {
            cancelPendingRestart();
            return update(r -> r.withManuallyStopped(false).withRestartCount(0));
        } catch (IOException | RuntimeException e) {
            end(Operation.START);
            throw e;
        }
    }

    /**
     * A start asked by the restart policy: marks it in flight and counts it; refused
     * (CONFLICT) unless the container still waits to be restarted. End it with {@code end(Operation.START)}.
     */
    public ContainerRecord beginPolicyRestart(Duration wait) throws IOException {
        begin(Operation.START, wait);
        lock.lock();
        try {
            if (status() != ContainerStatus.RESTARTING || removed) throw illegal("restarted by its policy");
            cancelRestart = null;
            return update(r -> r.withRestartCount(r.restartCount() + 1));
        } catch (IOException | RuntimeException e) {
            end(Operation.START);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The runtime made the process {@code pid} and starts it next: created, exited or
     * restarting → running, saved before the process runs (a daemon that dies next, or a
     * process that fills the disk at once, still finds it running); announces {@code start}.
     */
    public ContainerRecord started(long pid, boolean healthCheck) throws IOException {
        lock.lock();
        try {
            ContainerStatus s = status();
            if (s != ContainerStatus.CREATED && s != ContainerStatus.EXITED && s != ContainerStatus.RESTARTING) throw illegal("started");
            ContainerRecord next = update(r -> r.withState(r.state().started(pid, Instant.now(), healthCheck)));
            announce("start", Map.of());
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A start that failed before a process ran: counts as an exit for next-exit waiters, with
     * the error shown in State.Error. No event: dockerd 20.10 announces none for it.
     */
    public ContainerRecord startFailed(String message, int code) throws IOException {
        lock.lock();
        try {
            ContainerStatus s = status();
            if (s.hasProcess() || s == ContainerStatus.REMOVING || s == ContainerStatus.DEAD) throw illegal("failed to start");
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

    /**
     * The process ended: running or paused → exited, or restarting when the policy wants
     * another try; announces {@code oom} (when the kernel killed it) and then {@code die}. A
     * full disk does not lose it: see {@link #isUnsaved}.
     */
    public ContainerRecord exited(int code, boolean oomKilled, boolean restart) throws IOException {
        return exited(code, oomKilled, restart, Instant.now());
    }

    /**
     * {@link #exited(int, boolean, boolean)} at the time the process ended (conmon's exit record),
     * which is earlier than now when it ended while the daemon was away: kubelet reads FinishedAt
     * for its restart back-off, and a restart of berthd must not move it.
     */
    public ContainerRecord exited(int code, boolean oomKilled, boolean restart, Instant at) throws IOException {
        return exited(code, oomKilled, restart, true, at);
    }

    /**
     * {@link #exited} of a container removed next (--rm): its record is not flushed on the way,
     * as a removal's own updates are not; a machine crash before the removal leaves the running
     * state, which the daemon's start reconciles as an exit.
     */
    public ContainerRecord exitedBeforeRemoval(int code, boolean oomKilled) throws IOException {
        return exited(code, oomKilled, false, false, Instant.now());
    }

    private ContainerRecord exited(int code, boolean oomKilled, boolean restart, boolean durable, Instant at) throws IOException {
        lock.lock();
        try {
            if (!status().hasProcess()) throw illegal("exited");
            // never before its start nor in the future, whatever a file's time says
            Instant started = record.state().startedAt();
            Instant now = Instant.now();
            Instant finished = at.isAfter(now) ? now : started != null && at.isBefore(started) ? started : at;
            // what happened happened: a full disk keeps it in memory (isUnsaved) rather than losing it
            ContainerRecord next = update(r -> r.withState(r.state().exited(code, oomKilled, finished,
                    restart ? ContainerStatus.RESTARTING : ContainerStatus.EXITED)), true, durable);
            if (oomKilled) announce("oom", Map.of());
            announce("die", Map.of("exitCode", Integer.toString(code)));
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** The daemon found the process alive after a restart of its own: running or paused as the runtime says; no event. */
    public ContainerRecord recovered(boolean paused) throws IOException {
        lock.lock();
        try {
            if (!status().hasProcess()) throw illegal("recovered");
            ContainerStatus now = paused ? ContainerStatus.PAUSED : ContainerStatus.RUNNING;
            if (status() == now) return record;
            return update(r -> r.withState(r.state().withStatus(now)));
        } finally {
            lock.unlock();
        }
    }

    /**
     * A health check ran in the process {@code pid}: records the health and announces the
     * check's {@code exec_die}, and {@code health_status} when it changed. False (and nothing
     * done) when that process is no longer the container's.
     */
    public boolean healthChecked(long pid, int exitCode, String health, int failingStreak, HealthProbe probe) throws IOException {
        lock.lock();
        try {
            ContainerState st = record.state();
            if (removed || st.pid() != pid || !st.status().hasProcess()) return false;
            String before = st.health();
            update(r -> r.withState(r.state().withHealth(health, failingStreak, probe)));
            announce("exec_die", Map.of("exitCode", Integer.toString(exitCode)));
            if (!health.equals(before)) announce("health_status: " + health, Map.of());
            return true;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- kill, stop, restart

    /**
     * Sends {@code signal} through {@code send} and announces {@code kill} with it, in one
     * step, so the {@code die} it causes comes after. A restarting container has no process:
     * its pending restart is cancelled instead and it is exited. Refused (CONFLICT) when
     * nothing runs. Returns whether a signal went to a process.
     */
    public boolean kill(int signal, RuntimeStep send) throws IOException {
        lock.lock();
        try {
            check(Operation.KILL);
            boolean toProcess = status() != ContainerStatus.RESTARTING;
            if (toProcess) {
                send.run(record);
            } else {
                cancelPendingRestart();
                update(r -> r.withState(r.state().withStatus(ContainerStatus.EXITED)));
            }
            announce("kill", Map.of("signal", Integer.toString(signal)));
            return toProcess;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The user stops (or force-removes) the container: the restart policy is told to leave it
     * alone, and a container waiting to be restarted is exited at once. Returns whether a
     * process remains to be signalled. Refused (CONFLICT) during a removal.
     */
    public boolean stopping() throws IOException {
        lock.lock();
        try {
            if (status() == ContainerStatus.REMOVING || status() == ContainerStatus.DEAD) throw illegal("stopped");
            cancelPendingRestart();
            boolean restarting = status() == ContainerStatus.RESTARTING;
            update(r -> {
                ContainerRecord m = r.withManuallyStopped(true);
                return restarting ? m.withState(m.state().withStatus(ContainerStatus.EXITED)) : m;
            });
            return status().hasProcess();
        } finally {
            lock.unlock();
        }
    }

    /** A stop is done: refused (CONFLICT) while a process still runs; announces {@code stop}. */
    public void stopped() {
        lock.lock();
        try {
            if (status().hasProcess()) throw illegal("announced stopped");
            announce("stop", Map.of());
        } finally {
            lock.unlock();
        }
    }

    /**
     * A restart (stop, then start) is done: announces {@code restart}. Nothing to check: the
     * start succeeded, and the process may have ended (or the container gone, with --rm) since.
     */
    public void restarted() {
        lock.lock();
        try {
            announce("restart", Map.of());
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- pause

    /** Freezes the process through {@code freeze}: running → paused; announces {@code pause}. Docker's refusals otherwise. */
    public ContainerRecord pause(RuntimeStep freeze) throws IOException {
        lock.lock();
        try {
            check(Operation.PAUSE);
            freeze.run(record);
            ContainerRecord next = update(r -> r.withState(r.state().withStatus(ContainerStatus.PAUSED)));
            announce("pause", Map.of());
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** Thaws the process through {@code thaw}: paused → running; announces {@code unpause}. Docker's refusals otherwise. */
    public ContainerRecord unpause(RuntimeStep thaw) throws IOException {
        lock.lock();
        try {
            check(Operation.UNPAUSE);
            thaw.run(record);
            ContainerRecord next = update(r -> r.withState(r.state().withStatus(ContainerStatus.RUNNING)));
            announce("unpause", Map.of());
            return next;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- remove

    /**
     * The removal begins: → removing, after the checks of {@code docker rm} (or {@code rm -f},
     * which the caller has already stopped: a process still there is refused too).
     */
    public ContainerRecord removing(boolean force) throws IOException {
        lock.lock();
        try {
            check(force ? Operation.FORCE_REMOVE : Operation.REMOVE);
            if (status().hasProcess()) throw illegal("removed");
            cancelPendingRestart();
            // a removal frees room: a full disk must not stop it
            return updateEvenIfDiskFull(r -> r.withState(r.state().withStatus(ContainerStatus.REMOVING)));
        } finally {
            lock.unlock();
        }
    }

    /** The store forgot the container: waiters for its removal end; with {@code announce}, {@code destroy} is told. */
    void removed(boolean announce) {
        lock.lock();
        try {
            removed = true;
            changed.signalAll();
            if (announce) announce("destroy", Map.of());
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
