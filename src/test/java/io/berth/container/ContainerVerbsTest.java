package io.berth.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.errdefs.ErrorKind;
import io.berth.image.ImageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container's verbs without a runtime: each checks, moves, saves and announces in one
 * step; an illegal one is refused as CONFLICT and changes nothing (record, file, events).
 */
class ContainerVerbsTest {
    @TempDir
    Path root;

    /** What the verbs announced: "action attr=value ..." with the attributes the action adds. */
    private final List<String> events = new CopyOnWriteArrayList<>();
    private ContainerStore store;
    private Container c;

    @BeforeEach
    void open() throws IOException {
        store = new ContainerStore(root, (action, id, attributes) -> {
            StringBuilder b = new StringBuilder(action);
            for (String k : List.of("signal", "exitCode", "oldName")) {
                if (attributes.containsKey(k)) b.append(' ').append(k).append('=').append(attributes.get(k));
            }
            assertThat(attributes).containsEntry("name", id.equals(c == null ? null : c.id()) ? c.record().plainName() : null)
                    .containsEntry("image", "busybox").containsEntry("team", "a");
            events.add(b.toString());
        });
        var labelled = new ImageConfig.ContainerConfig(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, Map.of("team", "a"), null, null, null);
        c = store.add(new ContainerRecord(store.newId(), "/v", Instant.now(), "sh", List.of(), labelled,
                DockerHostConfig.toSettings(HostConfig.empty().withDefaults("runc")), "sha256:" + "a".repeat(64), "busybox", "k", ContainerState.created(), 0, false,
                "linux"));
    }

    private ContainerStatus status() {
        return c.record().state().status();
    }

    /** The record as the disk holds it. */
    private ContainerRecord onDisk() throws IOException {
        return new ContainerStore(root).get(c.id()).record();
    }

    private void started() throws IOException {
        c.beginStart(Duration.ofSeconds(1));
        try {
            c.started(4242, false);
        } finally {
            c.end(Operation.START);
        }
    }

    interface Verb {
        void run() throws Exception;
    }

    /** The verb is refused with CONFLICT, and neither the record (in memory and on disk) nor the events moved. */
    private void refused(Verb verb) throws IOException {
        ContainerRecord before = c.record();
        byte[] file = Files.readAllBytes(store.directory(c.id()).resolve("config.json"));
        int told = events.size();
        assertThatThrownBy(verb::run).isInstanceOfSatisfying(ContainerException.class,
                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(ErrorKind.CONFLICT));
        assertThat(c.record()).isEqualTo(before);
        assertThat(Files.readAllBytes(store.directory(c.id()).resolve("config.json"))).isEqualTo(file);
        assertThat(events).hasSize(told);
    }

    @Test
    void aLifeThroughTheVerbsIsSavedAndToldInDockersOrder() throws Exception {
        started();
        assertThat(status()).isEqualTo(ContainerStatus.RUNNING);
        assertThat(onDisk().state().pid()).isEqualTo(4242);

        AtomicInteger frozen = new AtomicInteger();
        c.pause(r -> frozen.incrementAndGet());
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.PAUSED);
        c.unpause(r -> frozen.decrementAndGet());
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.RUNNING);

        List<Integer> sent = new CopyOnWriteArrayList<>();
        assertThat(c.stopping()).isTrue();
        assertThat(c.kill(15, r -> sent.add(15))).isTrue();
        c.kill(9, r -> sent.add(9));
        c.exited(137, false, false);
        c.stopped();
        assertThat(sent).containsExactly(15, 9);
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(onDisk().state().exitCode()).isEqualTo(137);
        assertThat(onDisk().manuallyStopped()).isTrue();

        started();
        c.restarted();
        c.exited(0, false, false);
        c.removing(false);
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.REMOVING);
        store.remove(c);
        assertThat(c.isRemoved()).isTrue();

        assertThat(events).containsExactly("start", "pause", "unpause", "kill signal=15", "kill signal=9", "die exitCode=137", "stop",
                "start", "restart", "die exitCode=0", "destroy");
    }

    @Test
    void anOomKillIsToldBeforeTheDieAndARestartingContainerWaits() throws Exception {
        started();
        c.exited(137, true, true);
        assertThat(status()).isEqualTo(ContainerStatus.RESTARTING);
        assertThat(c.record().state().oomKilled()).isTrue();
        assertThat(events).containsExactly("start", "oom", "die exitCode=137");

        c.beginPolicyRestart(Duration.ofSeconds(1));
        try {
            c.started(4343, false);
        } finally {
            c.end(Operation.START);
        }
        assertThat(c.record().restartCount()).isEqualTo(1);
        assertThat(events).endsWith("start");
    }

    @Test
    void killingARestartingContainerCancelsItsRestartWithoutASignal() throws Exception {
        started();
        c.exited(1, false, true);
        AtomicInteger cancelled = new AtomicInteger();
        c.setCancelRestart(cancelled::incrementAndGet);
        assertThat(c.kill(9, r -> { throw new AssertionError("no process to signal"); })).isFalse();
        assertThat(status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(cancelled.get()).isEqualTo(1);
        assertThat(events).containsExactly("start", "die exitCode=1", "kill signal=9");
        // and the policy may not start it any more
        refused(() -> c.beginPolicyRestart(Duration.ofSeconds(1)));
    }

    @Test
    void theDieASignalCausesComesAfterItsKill() throws Exception {
        started();
        Thread[] exit = new Thread[1];
        c.kill(9, r -> {
            // the exit is handled on another thread while the signal is being sent: it must wait
            exit[0] = Thread.ofVirtual().start(() -> {
                try {
                    c.exited(137, false, false);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        });
        exit[0].join(5000);
        assertThat(events).containsExactly("start", "kill signal=9", "die exitCode=137");
    }

    @Test
    void aStopWaitingForTheExitTellsStopAfterDie() throws Exception {
        started();
        long before = c.exitCount();
        Thread stopper = Thread.ofVirtual().start(() -> {
            try {
                if (c.awaitExitAfter(before, Duration.ofSeconds(10))) c.stopped();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread.sleep(50);
        c.exited(143, false, false);
        stopper.join(5000);
        assertThat(events).containsExactly("start", "die exitCode=143", "stop");
    }

    @Test
    void aFailedRuntimeStepChangesNothing() throws Exception {
        started();
        ContainerRecord before = c.record();
        assertThatThrownBy(() -> c.pause(r -> { throw new IOException("freezer busy"); })).hasMessage("freezer busy");
        assertThatThrownBy(() -> c.kill(15, r -> { throw new IOException("no such process"); })).hasMessage("no such process");
        assertThat(c.record()).isEqualTo(before);
        assertThat(events).containsExactly("start");
    }

    @Test
    void aFailedStartStaysCreatedWithItsErrorAndTellsNothing() throws Exception {
        c.beginStart(Duration.ofSeconds(1));
        try {
            c.startFailed("exec: \"nope\": executable file not found in $PATH", 127);
        } finally {
            c.end(Operation.START);
        }
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.CREATED);
        assertThat(onDisk().state().exitCode()).isEqualTo(127);
        assertThat(c.exitCount()).isEqualTo(1);
        assertThat(events).isEmpty();
    }

    @Test
    void illegalTransitionsAreRefusedAsConflictAndChangeNothing() throws Exception {
        // created
        refused(() -> c.exited(0, false, false));
        refused(() -> c.kill(9, r -> { throw new AssertionError("signalled a container without a process"); }));
        refused(() -> c.pause(r -> { throw new AssertionError("froze a container without a process"); }));
        refused(() -> c.unpause(r -> { }));
        refused(() -> c.recovered(false));
        refused(() -> c.beginPolicyRestart(Duration.ofSeconds(1)));

        // running
        started();
        refused(() -> c.started(1, false));
        refused(() -> c.startFailed("x", 128));
        refused(() -> c.unpause(r -> { }));
        refused(() -> c.stopped());
        refused(() -> c.removing(false));
        refused(() -> c.removing(true)); // rm -f stops it first
        assertThat(c.healthChecked(999, 0, "healthy", 0, new HealthProbe(Instant.now(), Instant.now(), 0, ""))).as("another process's check").isFalse();

        // paused
        c.pause(r -> { });
        refused(() -> c.pause(r -> { }));
        refused(() -> c.started(1, false));
        refused(() -> c.removing(false));

        // exited
        c.unpause(r -> { });
        c.exited(2, false, false);
        refused(() -> c.exited(2, false, false));
        refused(() -> c.pause(r -> { }));

        // removing
        c.removing(false);
        refused(() -> c.removing(true));
        refused(() -> c.started(1, false));
        refused(() -> c.stopping());
        refused(() -> c.startFailed("x", 128));
        refused(() -> c.kill(9, r -> { }));
    }

    @Test
    void reconfigureNeverMovesTheState() throws Exception {
        started();
        c.reconfigure(r -> r.withState(ContainerState.created()).withRestartCount(7));
        assertThat(status()).isEqualTo(ContainerStatus.RUNNING);
        assertThat(onDisk().restartCount()).isEqualTo(7);
        assertThat(onDisk().state().status()).isEqualTo(ContainerStatus.RUNNING);
    }

    @Test
    void renameTellsTheOldName() throws Exception {
        store.rename(c, "/w");
        assertThat(events).hasSize(1);
        assertThat(events.getFirst()).isEqualTo("rename oldName=/v");
        assertThat(c.record().plainName()).isEqualTo("w");
    }
}
