package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import io.berth.container.HostConfig;
import io.berth.errdefs.ErrorKind;
import io.berth.image.ImageConfig;
import io.berth.runtime.FakeRuntime;
import io.berth.runtime.OciRuntimes;
import io.berth.snapshot.Snapshotter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real container lifecycle and service over a temp data root, on a {@link FakeRuntime}
 * and a fake host side: no root, no processes, no mounts. Every transition, each restart
 * policy, the cleanup after a failed start, and the events in the order dockerd 20.10 tells
 * them ({@code docker events}: kill with its signal, die with the exit code, stop; oom before die).
 */
class LifecycleWithFakeRuntimeTest {
    private static final JsonMapper JSON = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path root;

    private final EventBus events = new EventBus();
    private FakeRuntime runtime;
    private FakeHost host;
    private ContainerService containers;

    /** The host side, faked: which rootfs are mounted; signals always go through the runtime. */
    static final class FakeHost implements ContainerHost {
        final Set<Path> mounted = ConcurrentHashMap.newKeySet();
        final AtomicInteger mounts = new AtomicInteger();

        @Override
        public void mountRootfs(String snapshotKey, Path rootfs) {
            if (mounted.add(rootfs)) mounts.incrementAndGet();
        }

        @Override
        public void unmountRootfs(Path rootfs) {
            mounted.remove(rootfs);
        }

        @Override
        public void loopbackUp(long pid) {}

        @Override
        public boolean signal(long pid, String containerId, int signal) {
            return false;
        }
    }

    @BeforeEach
    void open() throws IOException {
        runtime = new FakeRuntime("runc");
        host = new FakeHost();
        containers = openDaemon(runtime, host);
    }

    /** A daemon's container box on the data root, started (it reconciles with {@code rt}). */
    private ContainerService openDaemon(FakeRuntime rt, FakeHost h) throws IOException {
        Path dataRoot = root.resolve("data");
        EngineSettings settings = new EngineSettings("test", dataRoot, List.of(), false,
                new OciRuntimes(Map.of("runc", Path.of("/nonexistent/runc")), "runc", "a fake"), List.of(), List.of(), Map.of(), 3, 5,
                root.resolve("run"), List.of(), null, null);
        Snapshotter snapshots = new Snapshotter(dataRoot);
        ImageSource images = new ImageSource() {
            @Override
            public Resolved resolve(String name) {
                return new Resolved("sha256:" + "b".repeat(64), config("{\"Cmd\":[\"sh\"]}"), null, "linux/amd64");
            }

            @Override
            public Snapshotter snapshots() {
                return snapshots;
            }
        };
        ContainerService s = Containers.open(dataRoot, events, () -> settings, images, x -> ContainerWiring.NONE, rt, h);
        s.lifecycle().start();
        return s;
    }

    private static ImageConfig.ContainerConfig config(String json) {
        return JSON.readValue(json, ImageConfig.ContainerConfig.class);
    }

    /** docker create busybox with this HostConfig (Docker's JSON: RestartPolicy, AutoRemove, ...). */
    private String create(String name, String hostConfigJson) throws IOException {
        HostConfig hc = JSON.readValue(hostConfigJson, HostConfig.class);
        return containers.create(new ContainerService.CreateRequest("c-" + name, config("{\"Image\":\"busybox\"}"), hc, null)).id();
    }

    private String create(String name) throws IOException {
        return create(name, "{}");
    }

    private String run(String name, String hostConfigJson) throws IOException {
        String id = create(name, hostConfigJson);
        containers.lifecycle().start(id);
        return id;
    }

    private Container c(String id) {
        return containers.get(id);
    }

    private ContainerStatus status(String id) {
        return c(id).record().state().status();
    }

    private void awaitStatus(String id, ContainerStatus s) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> status(id) == s);
    }

    /** The container's events as `docker events` shows them: "action signal exitCode", "-" for an attribute it lacks. */
    private List<String> events(String id) {
        return events.history(0, Long.MAX_VALUE, e -> e.type().equals("container") && e.actorId().equals(id)).stream()
                .map(e -> e.action() + " " + e.attributes().getOrDefault("signal", "-") + " " + e.attributes().getOrDefault("exitCode", "-"))
                .toList();
    }

    private Path rootfs(String id) {
        return containers.rootfsDir(id);
    }

    // ================================================================ transitions and events

    @Test
    void runIsCreateThenStart() throws Exception {
        String id = create("r");
        assertThat(status(id)).isEqualTo(ContainerStatus.CREATED);
        assertThat(events(id)).containsExactly("create - -");

        containers.lifecycle().start(id);
        assertThat(status(id)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(c(id).record().state().pid()).isGreaterThan(0);
        assertThat(runtime.stateOf(id)).isEqualTo("running");
        assertThat(runtime.callsOf(id)).containsExactly("delete", "create", "start"); // a leftover of an earlier run goes first
        assertThat(host.mounted).containsExactly(rootfs(id));
        assertThat(events(id)).containsExactly("create - -", "start - -");
        assertThatThrownBy(() -> containers.lifecycle().start(id)).isInstanceOfSatisfying(ContainerException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_MODIFIED));
    }

    @Test
    void stopTellsKillDieStop() throws Exception {
        String id = run("s", "{}");
        containers.lifecycle().stop(id, 5, null);
        ContainerRecord r = c(id).record();
        assertThat(r.state().status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(r.state().exitCode()).isEqualTo(143);
        assertThat(r.manuallyStopped()).isTrue();
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 15 -", "die - 143", "stop - -");
        assertThat(runtime.live()).isEmpty();
        assertThat(runtime.callsOf(id)).contains("kill 15", "deleteFromRuntime");
        assertThat(host.mounted).isEmpty();
        // the exit is recorded, so the runtime's record of it goes (just after the record is saved
        // and "die" told, which is what stop waits for)
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> runtime.exitOf(id).isEmpty());
    }

    @Test
    void stopPastItsTimeoutTellsBothKills() throws Exception {
        runtime.trap(15);
        String id = run("t", "{}");
        containers.lifecycle().stop(id, 1, null);
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 15 -", "kill 9 -", "die - 137", "stop - -");
        assertThat(status(id)).isEqualTo(ContainerStatus.EXITED);
    }

    @Test
    void killTellsKillWithItsSignalThenDie() throws Exception {
        String id = run("k", "{}");
        containers.lifecycle().kill(id, null);
        awaitStatus(id, ContainerStatus.EXITED);
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 9 -", "die - 137");
        assertThat(c(id).record().manuallyStopped()).as("docker kill is no stop").isFalse();
    }

    @Test
    void killWithASignalTheProcessTrapsTellsOnlyKill() throws Exception {
        runtime.trap(10);
        String id = run("u", "{}");
        containers.lifecycle().kill(id, "USR1");
        assertThat(status(id)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 10 -");
        assertThatThrownBy(() -> containers.lifecycle().kill(create("n"), null)).isInstanceOfSatisfying(ContainerException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT));
    }

    @Test
    void restartTellsTheStopThenStartAndRestart() throws Exception {
        String id = run("rs", "{}");
        long pid = c(id).record().state().pid();
        containers.lifecycle().restart(id, 5, null);
        assertThat(status(id)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(c(id).record().state().pid()).isNotEqualTo(pid);
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 15 -", "die - 143", "stop - -", "start - -", "restart - -");
        assertThat(runtime.callsOf(id).stream().filter(x -> x.equals("create")).count()).isEqualTo(2);
        assertThat(host.mounted).containsExactly(rootfs(id));
    }

    @Test
    void pauseAndUnpause() throws Exception {
        String id = run("p", "{}");
        containers.lifecycle().pause(id);
        assertThat(status(id)).isEqualTo(ContainerStatus.PAUSED);
        assertThat(runtime.stateOf(id)).isEqualTo("paused");
        assertThatThrownBy(() -> containers.lifecycle().pause(id)).isInstanceOf(ContainerException.class);
        containers.lifecycle().unpause(id);
        assertThat(status(id)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(runtime.stateOf(id)).isEqualTo("running");
        assertThatThrownBy(() -> containers.lifecycle().unpause(id)).isInstanceOf(ContainerException.class);
        assertThat(events(id)).containsExactly("create - -", "start - -", "pause - -", "unpause - -");
        assertThat(runtime.callsOf(id)).containsSubsequence("pause", "resume");
    }

    @Test
    void stoppingAPausedContainerThawsIt() throws Exception {
        String id = run("pp", "{}");
        containers.lifecycle().pause(id);
        containers.lifecycle().stop(id, 5, null);
        assertThat(status(id)).isEqualTo(ContainerStatus.EXITED);
        assertThat(events(id)).containsExactly("create - -", "start - -", "pause - -", "kill 15 -", "unpause - -", "die - 143", "stop - -");
    }

    @Test
    void aProcessThatEndsTellsDieWithItsCode() throws Exception {
        String id = run("d", "{}");
        runtime.exit(id, 3);
        awaitStatus(id, ContainerStatus.EXITED);
        ContainerRecord r = c(id).record();
        assertThat(r.state().exitCode()).isEqualTo(3);
        assertThat(r.state().pid()).isZero();
        assertThat(r.state().finishedAt()).isNotNull();
        assertThat(events(id)).containsExactly("create - -", "start - -", "die - 3");
        await().atMost(WAIT).until(() -> host.mounted.isEmpty() && runtime.stateOf(id) == null);
        assertThat(runtime.callsOf(id)).endsWith("deleteFromRuntime");
    }

    @Test
    void anOomKillTellsOomBeforeDie() throws Exception {
        String id = run("o", "{}");
        runtime.oomKill(id);
        awaitStatus(id, ContainerStatus.EXITED);
        assertThat(c(id).record().state().oomKilled()).isTrue();
        assertThat(c(id).record().state().exitCode()).isEqualTo(137);
        assertThat(events(id)).containsExactly("create - -", "start - -", "oom - -", "die - 137");
    }

    @Test
    void forcedRemovalTellsKillDieDestroy() throws Exception {
        String id = run("f", "{}");
        assertThatThrownBy(() -> containers.remove(id, false, false)).isInstanceOfSatisfying(ContainerException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT));
        containers.remove(id, true, false);
        assertThat(containers.store().find(id)).isEmpty();
        assertThat(events(id)).containsExactly("create - -", "start - -", "kill 9 -", "die - 137", "destroy - -");
        assertThat(runtime.live()).isEmpty();
        assertThat(runtime.stateOf(id)).isNull();
        assertThat(host.mounted).isEmpty();
    }

    @Test
    void removingAStoppedContainer() throws Exception {
        String id = create("rm");
        containers.remove(id, false, false);
        assertThat(containers.store().find(id)).isEmpty();
        assertThat(events(id)).containsExactly("create - -", "destroy - -");
    }

    @Test
    void autoRemoveRemovesAfterTheExit() throws Exception {
        String id = run("ar", "{\"AutoRemove\":true}");
        runtime.exit(id, 0);
        await().atMost(WAIT).until(() -> containers.store().find(id).isEmpty());
        assertThat(events(id)).containsExactly("create - -", "start - -", "die - 0", "destroy - -");
    }

    // ================================================================ a start that fails

    @Test
    void aFailedCreateLeavesNothingAndRecordsTheFailure() throws Exception {
        String id = create("fc");
        runtime.failNextCreate("exec: \"nope\": executable file not found in $PATH");
        assertThatThrownBy(() -> containers.lifecycle().start(id)).isInstanceOfSatisfying(ContainerException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        ContainerRecord r = c(id).record();
        assertThat(r.state().status()).isEqualTo(ContainerStatus.CREATED);
        assertThat(r.state().exitCode()).isEqualTo(127);
        assertThat(r.state().error()).contains("executable file not found");
        assertThat(runtime.live()).isEmpty();
        assertThat(host.mounted).isEmpty();
        assertThat(events(id)).as("dockerd 20.10 tells no die for a start that failed").containsExactly("create - -");

        // the next start starts afresh
        containers.lifecycle().start(id);
        assertThat(status(id)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(c(id).record().state().error()).isEmpty();
    }

    @Test
    void aFailedStartIsCleanedUp() throws Exception {
        String id = create("fs");
        runtime.failNextStart("runc start: the process could not start");
        assertThatThrownBy(() -> containers.lifecycle().start(id)).hasMessageContaining("failed to start container");
        await().atMost(WAIT).until(() -> !status(id).hasProcess());
        await().atMost(WAIT).until(() -> runtime.stateOf(id) == null && host.mounted.isEmpty());
        assertThat(runtime.live()).isEmpty();
        assertThat(runtime.callsOf(id)).containsSubsequence("create", "start", "kill KILL", "deleteFromRuntime");
        assertThat(status(id)).isEqualTo(ContainerStatus.EXITED);
    }

    @Test
    void aFailedStartOfAnAutoRemoveContainerRemovesIt() throws Exception {
        String id = create("far", "{\"AutoRemove\":true}");
        runtime.failNextCreate("exec: \"nope\": executable file not found in $PATH");
        assertThatThrownBy(() -> containers.lifecycle().start(id)).isInstanceOf(ContainerException.class);
        assertThat(containers.store().find(id)).isEmpty();
        assertThat(runtime.live()).isEmpty();
        assertThat(events(id)).containsExactly("create - -", "destroy - -");
    }

    // ================================================================ restart policies

    private long starts(String id) {
        return runtime.callsOf(id).stream().filter(x -> x.equals("start")).count();
    }

    @Test
    void policyNoLeavesItExited() throws Exception {
        runtime.onStart(x -> 1);
        String id = run("no", "{\"RestartPolicy\":{\"Name\":\"no\"}}");
        awaitStatus(id, ContainerStatus.EXITED);
        Thread.sleep(300);
        assertThat(starts(id)).isEqualTo(1);
        assertThat(c(id).record().restartCount()).isZero();
    }

    @Test
    void onFailureRestartsUpToItsCount() throws Exception {
        runtime.onStart(x -> 1);
        String id = run("of", "{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":2}}");
        await().atMost(WAIT).until(() -> starts(id) == 3 && status(id) == ContainerStatus.EXITED);
        Thread.sleep(500); // longer than the next back-off (400 ms): no fourth start comes
        assertThat(starts(id)).isEqualTo(3);
        assertThat(c(id).record().restartCount()).isEqualTo(2);
        assertThat(events(id)).containsExactly("create - -", "start - -", "die - 1", "start - -", "die - 1", "start - -", "die - 1");
    }

    @Test
    void onFailureLeavesASuccessAlone() throws Exception {
        runtime.onStart(x -> 0);
        String id = run("ok", "{\"RestartPolicy\":{\"Name\":\"on-failure\"}}");
        awaitStatus(id, ContainerStatus.EXITED);
        Thread.sleep(300);
        assertThat(starts(id)).isEqualTo(1);
    }

    @Test
    void alwaysRestartsTillAStopAndIsRestartingMeanwhile() throws Exception {
        runtime.onStart(x -> 0);
        String id = run("al", "{\"RestartPolicy\":{\"Name\":\"always\"}}");
        awaitStatus(id, ContainerStatus.RESTARTING);
        await().atMost(WAIT).until(() -> starts(id) >= 3);
        containers.lifecycle().stop(id, 5, null);
        ContainerRecord r = c(id).record();
        assertThat(r.state().status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(r.manuallyStopped()).isTrue();
        long n = starts(id);
        Thread.sleep(500);
        assertThat(starts(id)).as("a stop cancels the pending restart").isEqualTo(n);
        assertThat(runtime.live()).isEmpty();
    }

    @Test
    void onDaemonStartAlwaysComesBackEvenAfterAStopUnlessStoppedDoesNot() throws Exception {
        String always = run("a", "{\"RestartPolicy\":{\"Name\":\"always\"}}");
        String unless = run("us", "{\"RestartPolicy\":{\"Name\":\"unless-stopped\"}}");
        String unlessLost = run("ul", "{\"RestartPolicy\":{\"Name\":\"unless-stopped\"}}");
        String none = run("nn", "{}");
        containers.lifecycle().stop(always, 5, null);
        containers.lifecycle().stop(unless, 5, null);
        containers.lifecycle().stop(none, 5, null);

        // the daemon restarts; the runtime lost what ran (a reboot, say)
        FakeRuntime next = new FakeRuntime("runc");
        containers = openDaemon(next, new FakeHost());
        await().atMost(WAIT).until(() -> status(always) == ContainerStatus.RUNNING);
        await().atMost(WAIT).until(() -> status(unlessLost) == ContainerStatus.RUNNING);
        assertThat(next.live()).containsExactlyInAnyOrder(c(always).record().id(), unlessLost);
        assertThat(status(unless)).isEqualTo(ContainerStatus.EXITED);
        assertThat(status(none)).isEqualTo(ContainerStatus.EXITED);
        assertThat(next.callsOf(unless)).isEmpty();
    }

    @Test
    void onDaemonStartARunningContainerIsAdoptedAndItsExitWhileAwayRecorded() throws Exception {
        String kept = run("kept", "{}");
        String ended = run("ended", "{}");
        long pid = c(kept).record().state().pid();
        // the daemon goes away; the runtime keeps both, one ends meanwhile
        runtime.exit(ended, 7);
        await().atMost(WAIT).until(() -> status(ended) == ContainerStatus.EXITED); // the old daemon saw it too: no harm
        containers = openDaemon(runtime, host);
        assertThat(status(kept)).isEqualTo(ContainerStatus.RUNNING);
        assertThat(c(kept).record().state().pid()).isEqualTo(pid);
        runtime.exit(kept, 2);
        awaitStatus(kept, ContainerStatus.EXITED);
        assertThat(c(kept).record().state().exitCode()).isEqualTo(2);
        assertThat(c(ended).record().state().exitCode()).isEqualTo(7);
    }
}
