package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.Operation;
import io.berth.container.StopSignals;
import io.berth.runtime.Runtime;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Signals to a container's process, as dockerd tells them: stop (the stop signal, SIGKILL
 * after the timeout), kill, the kill of a forced removal; and pause, unpause. The state moves
 * and the events come from the container's verbs; the exit itself is handled where exits are.
 */
final class ContainerSignals {
    private final ContainerService service;
    private final Function<ContainerRecord, Runtime> runtimes;
    private final ContainerHost host;

    ContainerSignals(ContainerService service, Function<ContainerRecord, Runtime> runtimes, ContainerHost host) {
        this.service = service;
        this.runtimes = runtimes;
        this.host = host;
    }

    /** docker stop: kill (the stop signal), [kill 9 after the timeout], die, stop, as dockerd tells them. */
    void stop(String ref, Integer timeoutSeconds, String signal) throws IOException, InterruptedException {
        Container c = service.get(ref);
        ContainerRecord r = c.begin(Operation.STOP, Duration.ofSeconds(60));
        try {
            if (c.stopping()) {
                int sig = StopSignals.parse(signal != null && !signal.isEmpty() ? signal
                        : r.config().stopSignal() != null ? r.config().stopSignal() : "SIGTERM");
                int timeout = timeoutSeconds != null ? timeoutSeconds : r.config().stopTimeout() != null ? r.config().stopTimeout() : 10;
                signalAndWait(c, sig, timeout);
            }
            c.stopped();
        } finally {
            c.end(Operation.STOP);
        }
    }

    /** Sends {@code sig}; if the container is still up after {@code timeout} seconds (negative: forever), SIGKILL. */
    private void signalAndWait(Container c, int sig, int timeout) throws IOException, InterruptedException {
        long before = c.exitCount();
        if (!c.record().state().status().hasProcess()) return;
        try {
            if (!sendSignal(c, sig)) return;
        } catch (ContainerException e) {
            return; // it exited meanwhile
        }
        // a frozen process cannot act on the signal: thaw it, as dockerd does (it tells unpause)
        try {
            c.unpause(x -> runtimes.apply(x).resume(x.id()));
        } catch (ContainerException | IOException notPaused) {
            // not paused, or gone already
        }
        Duration wait = timeout < 0 ? Duration.ofDays(3650) : Duration.ofSeconds(timeout);
        if (c.awaitExitAfter(before, wait)) return;
        try {
            sendSignal(c, 9);
        } catch (ContainerException e) {
            return; // it exited just now
        }
        if (!c.awaitExitAfter(before, Duration.ofSeconds(30))) {
            throw new IOException("container " + c.id() + " did not exit within 30 s of SIGKILL");
        }
    }

    /**
     * Signals the container's process and tells {@code kill}, one step of the container; false
     * when it had no process (a pending restart cancelled instead).
     */
    private boolean sendSignal(Container c, int sig) throws IOException {
        return c.kill(sig, r -> {
            if (host.signal(r.state().pid(), r.id(), sig)) return;
            try {
                runtimes.apply(r).kill(r.id(), Integer.toString(sig));
            } catch (IOException e) {
                // It may have ended just now, its exit not yet handled: give the exit a moment to arrive.
                try {
                    if (c.awaitStatus(s -> !s.hasProcess(), 3, TimeUnit.SECONDS)) {
                        throw ContainerException.conflict("Cannot kill container: " + r.id() + ": Container " + r.id() + " is not running");
                    }
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                throw e;
            }
        });
    }

    /** docker kill: kill (with the signal), and with SIGKILL waits for the die that follows. */
    void kill(String ref, String signal) throws IOException, InterruptedException {
        Container c = service.get(ref);
        int sig = StopSignals.parse(signal == null || signal.isEmpty() ? "KILL" : signal);
        long before = c.exitCount();
        if (sendSignal(c, sig) && sig == 9) c.awaitExitAfter(before, Duration.ofSeconds(10));
    }

    /** docker rm -f of a running container: SIGKILL and wait for the exit. */
    void killForRemoval(Container c) throws IOException, InterruptedException {
        if (c.stopping()) signalAndWait(c, 9, 10);
    }

    void pause(String ref) throws IOException {
        Container c = service.get(ref);
        c.begin(Operation.PAUSE, Duration.ofSeconds(30));
        try {
            c.pause(r -> runtimes.apply(r).pause(r.id()));
        } finally {
            c.end(Operation.PAUSE);
        }
    }

    void unpause(String ref) throws IOException {
        Container c = service.get(ref);
        c.begin(Operation.UNPAUSE, Duration.ofSeconds(30));
        try {
            c.unpause(r -> runtimes.apply(r).resume(r.id()));
        } finally {
            c.end(Operation.UNPAUSE);
        }
    }
}
