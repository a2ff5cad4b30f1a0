package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConmonTest {
    @TempDir Path tmp;
    RuntimeFixture rt;

    @BeforeEach
    void setUp() throws Exception {
        rt = new RuntimeFixture(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rt != null) rt.close();
    }

    @Test
    void echoHelloLogsTheLineAndExitsZero() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.run(id, rt.spec("echo", "hello").build());
        assertThat(h.pid()).isPositive();
        assertThat(h.conmonPid()).isPositive();
        ContainerExit exit = rt.awaitExit(id, Duration.ofSeconds(20));
        assertThat(exit.exitCode()).isZero();
        assertThat(rt.log(id)).matches("(?s)\\d{4}-\\d\\d-\\d\\dT[^ ]+ stdout F hello\n");
    }

    @Test
    void anEndedContainerIsDeletedInProcessAndLeavesNoCgroupNorState() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerSpec spec = rt.spec("true").build();
        rt.run(id, spec);
        rt.awaitExit(id, Duration.ofSeconds(20));
        ContainerCgroup cgroup = new ContainerCgroup(OciSpec.cgroupsPath(spec.cgroupParent(), id));
        assertThat(cgroup.existing()).as("the runtime made its cgroups").isNotEmpty();
        assertThat(rt.runtime.root().resolve(id)).isDirectory();
        rt.conmon.delete(id, rt.bundle(id));
        assertThat(cgroup.existing()).isEmpty();
        assertThat(rt.runtime.root().resolve(id)).doesNotExist();
        assertThat(rt.runtime.knows(id)).isFalse();
        assertThat(rt.conmon.exitOf(id)).isEmpty();
    }

    @Test
    void aProcessLeftInTheCgroupIsLeftToTheRuntimesDelete() throws Exception {
        // without a PID namespace of its own, init's end does not end its children: the
        // in-process delete must not run (rmdir would fail); the runtime's kills them first
        String id = RuntimeFixture.newId();
        ContainerSpec spec = rt.spec("sh", "-c", "sleep 300 & echo started")
                .namespace(ContainerSpec.Namespace.PID, new ContainerSpec.NamespaceMode.Host()).build();
        rt.run(id, spec);
        rt.awaitExit(id, Duration.ofSeconds(20));
        ContainerCgroup cgroup = new ContainerCgroup(OciSpec.cgroupsPath(spec.cgroupParent(), id));
        assertThat(cgroup.read("pids", "cgroup.procs").orElse("")).isNotBlank();
        assertThat(rt.runtime.deleteStopped(id)).isFalse();
        rt.conmon.delete(id, rt.bundle(id));
        assertThat(cgroup.existing()).isEmpty();
        assertThat(rt.runtime.root().resolve(id)).doesNotExist();
    }

    @Test
    void aCreatedContainerStartsThroughItsExecFifoAndTheRuntimeSeesItRunning() throws Exception {
        assumeRuncState();
        String id = RuntimeFixture.newId();
        rt.create(id, rt.spec("sh", "-c", "echo started; sleep 300").build());
        Path fifo = rt.runtime.root().resolve(id).resolve("exec.fifo");
        assertThat(fifo).exists();
        assertThat(rt.conmon.state(id).orElseThrow().status()).isEqualTo("created");
        assertThat(rt.runtime.startCreated(id)).isTrue();
        assertThat(fifo).doesNotExist();
        assertThat(rt.conmon.state(id).orElseThrow().status()).isEqualTo("running");
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!rt.log(id).contains("started") && System.nanoTime() < end) Thread.sleep(10);
        assertThat(rt.log(id)).contains("stdout F started");
        rt.conmon.kill(id, "KILL");
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(137);
    }

    @Test
    void aCreatedContainerWhoseInitDiedIsLeftToTheRuntimesStart() throws Exception {
        assumeRuncState();
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.create(id, rt.spec("true").build());
        rt.conmon.kill(id, "KILL");
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.of(h.pid()).map(ProcessHandle::isAlive).orElse(false) && isLive(h.pid()) && System.nanoTime() < end) Thread.sleep(10);
        long t0 = System.nanoTime();
        assertThat(rt.runtime.startCreated(id)).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rt.runtime.start(id)).isInstanceOf(java.io.IOException.class);
    }

    /** Not a zombie: conmon reaps its child in its own time. */
    private static boolean isLive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The fifo start reads runc's state folder; another runtime keeps its own. */
    private void assumeRuncState() {
        org.junit.jupiter.api.Assumptions.assumeTrue(rt.runtime.name().equals("runc"), "runc's exec fifo");
    }

    @Test
    void exitCodeComesThrough() throws Exception {
        String id = RuntimeFixture.newId();
        rt.run(id, rt.spec("sh", "-c", "exit 3").build());
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(3);
    }

    @Test
    void attachWorksWithABundlePathLongerThanASocketAddress() throws Exception {
        String id = RuntimeFixture.newId();
        Path bundle = tmp.resolve("a".repeat(60)).resolve("b".repeat(60)).resolve(id);
        assertThat(bundle.resolve("attach").toString().length()).isGreaterThan(108);
        ContainerHandle h = rt.create(id, rt.spec("echo", "far away").build(), bundle);
        try (AttachSession a = AttachSession.open(h.bundle())) {
            rt.conmon.start(id);
            assertThat(ContainerLifecycleTest.readAll(a)[0]).isEqualTo("far away\n");
        }
    }

    @Test
    void pumpDeliversEverythingToASlowSink() throws Exception {
        String id = RuntimeFixture.newId();
        // 4 MiB of output, faster than the sink takes it
        ContainerHandle h = rt.create(id, rt.spec("sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' x; echo; echo end >&2").build());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder err = new StringBuilder();
        CountDownLatch ended = new CountDownLatch(1);
        try (AttachSession a = AttachSession.open(h.bundle())) {
            a.pump(new AttachSession.Sink() {
                int writes;

                @Override
                public void write(AttachSession.StdStream stream, byte[] data) throws java.io.IOException {
                    if (stream == AttachSession.StdStream.STDERR) err.append(new String(data, StandardCharsets.UTF_8));
                    else out.write(data);
                    if (writes++ < 20) {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                    }
                }

                @Override
                public void end() {
                    ended.countDown();
                }
            }, 64 << 20);
            rt.conmon.start(id);
            assertThat(ended.await(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(out.size()).isEqualTo(4096 * 1024 + 1);
        assertThat(err.toString()).isEqualTo("end\n");
    }

    @Test
    void noDescriptorsLeakPerContainer() throws Exception {
        for (int round = 0; round < 2; round++) {
            String id = RuntimeFixture.newId();
            rt.run(id, rt.spec("true").build());
            rt.awaitExit(id, Duration.ofSeconds(20));
            rt.conmon.delete(id);
        }
        Thread.sleep(300);
        long before = openFds();
        for (int round = 0; round < 5; round++) {
            String id = RuntimeFixture.newId();
            ContainerHandle h = rt.run(id, rt.spec("true").build());
            rt.awaitExit(id, Duration.ofSeconds(20));
            assertThat(Conmon.awaitConmonExit(h.conmonPid(), Duration.ofSeconds(10))).isTrue();
            rt.conmon.delete(id);
        }
        Thread.sleep(300);
        assertThat(openFds()).isLessThanOrEqualTo(before + 2);
    }

    private static long openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
