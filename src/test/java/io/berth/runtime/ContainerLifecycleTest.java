package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.runtime.AttachSession.Frame;
import io.berth.runtime.AttachSession.StdStream;
import io.berth.runtime.LogReader.LogEntry;
import io.berth.runtime.LogReader.LogQuery;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real containers through conmon and the runtime: stdio, tty, signals, restart of the daemon. */
class ContainerLifecycleTest {
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

    /** Reads frames until the output ends: [stdout, stderr]. */
    static String[] readAll(AttachSession a) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Frame f;
        while ((f = a.read()) != null) (f.stream() == StdStream.STDERR ? err : out).write(f.data());
        return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void stdinPipedToCatComesBackThroughAttach() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.create(id, rt.spec("sh", "-c", "cat; echo done >&2").openStdin(true).stdinOnce(true).build());
        try (AttachSession a = AttachSession.open(h.bundle())) {
            rt.conmon.start(id);
            byte[] big = "0123456789abcdef".repeat(4096).getBytes(StandardCharsets.US_ASCII); // 64 KiB: several packets
            a.writeStdin("hello\n".getBytes(StandardCharsets.UTF_8));
            a.writeStdin(big);
            a.closeStdin();
            String[] out = readAll(a);
            assertThat(out[0].length()).isEqualTo(6 + big.length);
            assertThat(out[0].equals("hello\n" + new String(big, StandardCharsets.US_ASCII))).as("stdout is what was written").isTrue();
            assertThat(out[1]).isEqualTo("done\n");
        }
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isZero();
        List<LogEntry> log = LogReader.readAll(rt.logPath(id), LogQuery.ALL);
        assertThat(log.getFirst().text()).isEqualTo("hello\n");
        // conmon reads the two pipes independently: their order in the log is not the writing order.
        assertThat(log.stream().filter(e -> e.stream() == StdStream.STDERR).map(LogEntry::text)).containsExactly("done\n");
        assertThat(log.stream().filter(e -> e.stream() == StdStream.STDOUT).mapToInt(e -> e.content().length).sum())
                .isEqualTo(6 + 65536); // the last line never ends: it comes back without a newline
    }

    @Test
    void stdinStaysOpenAcrossAttachesWithoutStdinOnce() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.run(id, rt.spec("cat").openStdin(true).stdinOnce(false).build());
        try (AttachSession a = AttachSession.open(h.bundle())) {
            a.writeStdin("first\n".getBytes(StandardCharsets.UTF_8));
            assertThat(a.read().text()).isEqualTo("first\n");
        }
        Thread.sleep(200);
        assertThat(rt.conmon.state(id).orElseThrow().isRunning()).isTrue();
        try (AttachSession a = AttachSession.open(h.bundle())) {
            a.writeStdin("second\n".getBytes(StandardCharsets.UTF_8));
            assertThat(a.read().text()).isEqualTo("second\n");
        }
        rt.conmon.kill(id, "KILL");
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(137);
    }

    @Test
    void ttyModeGivesAPseudoTerminalAndResizes() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.create(id, rt.spec("sh", "-c", "tty; read x; stty size")
                .tty(true).openStdin(true).stdinOnce(true).consoleSize(24, 80).build());
        try (AttachSession a = AttachSession.open(h.bundle())) {
            rt.conmon.start(id);
            StringBuilder out = new StringBuilder();
            while (!out.toString().contains("/dev/pts/0\r\n")) {
                Frame f = a.read();
                assertThat(f).as("output so far: " + out).isNotNull();
                assertThat(f.stream()).isEqualTo(StdStream.STDOUT);
                out.append(f.text());
            }
            a.resize(40, 132);
            Thread.sleep(100);
            a.writeStdin("go\n".getBytes(StandardCharsets.UTF_8));
            out.append(readAll(a)[0]);
            assertThat(out.toString()).contains("/dev/pts/0\r\n").contains("40 132\r\n");
        }
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isZero();
    }

    @Test
    void termThenKill() throws Exception {
        // A shell that traps TERM ends with 143 on it.
        String trap = RuntimeFixture.newId();
        rt.run(trap, rt.spec("sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.1; done").build());
        Thread.sleep(300);
        rt.conmon.kill(trap, "TERM");
        assertThat(rt.awaitExit(trap, Duration.ofSeconds(20)).exitCode()).isEqualTo(143);

        // sleep as PID 1 has no handler: TERM does nothing, KILL ends it with 128+9.
        String id = RuntimeFixture.newId();
        rt.run(id, rt.spec("sleep", "1000").build());
        rt.conmon.kill(id, "SIGTERM");
        Thread.sleep(500);
        assertThat(rt.conmon.state(id).orElseThrow().isRunning()).isTrue();
        assertThat(rt.conmon.exitOf(id)).isEmpty();
        rt.conmon.kill(id, "KILL");
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(137);
        assertThat(rt.conmon.state(id).orElseThrow().isStopped()).isTrue();
        rt.conmon.delete(id);
        assertThat(rt.conmon.state(id)).isEmpty();
        assertThat(rt.conmon.exitOf(id)).isEmpty();
    }

    @Test
    void deleteOfARunningContainerLeavesNothing() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.run(id, rt.spec("sleep", "1000").build());
        rt.conmon.delete(id);
        assertThat(rt.conmon.state(id)).isEmpty();
        assertThat(Conmon.isConmon(h.conmonPid())).isFalse();
        Thread.sleep(300);
        assertThat(rt.conmon.exitOf(id)).isEmpty();
        assertThat(new ContainerCgroup("/berth/" + id).existing()).isEmpty();
    }

    @Test
    void pauseAndResume() throws Exception {
        String id = RuntimeFixture.newId();
        rt.run(id, rt.spec("sleep", "1000").build());
        rt.conmon.pause(id);
        assertThat(rt.conmon.state(id).orElseThrow().status()).isEqualTo("paused");
        rt.conmon.resume(id);
        assertThat(rt.conmon.state(id).orElseThrow().status()).isEqualTo("running");
    }

    @Test
    void runtimeErrorsCarryTheRuntimesWords() throws Exception {
        String id = RuntimeFixture.newId();
        assertThatThrownBy(() -> rt.run(id, rt.spec("/no/such/binary").build()))
                .isInstanceOf(OciRuntimeException.class)
                .hasMessageContaining("/no/such/binary")
                .hasMessageContaining("no such file or directory");
        String id2 = RuntimeFixture.newId();
        ContainerSpec bad = rt.spec("true").addMount(new ContainerSpec.Mount("/data", "bind", tmp.resolve("missing").toString(),
                List.of("rbind"))).build();
        assertThatThrownBy(() -> rt.run(id2, bad))
                .isInstanceOf(OciRuntimeException.class)
                .hasMessageContaining("create container " + id2)
                .hasMessageContaining("missing");
        assertThat(rt.conmon.state(id2)).isEmpty();
        assertThatThrownBy(() -> rt.conmon.kill("berth-test-nosuch", "KILL")).isInstanceOf(OciRuntimeException.NoSuchContainer.class);
    }

    @Test
    void exitWatcherReportsExits() throws Exception {
        List<ContainerExit> seen = new CopyOnWriteArrayList<>();
        try (ExitWatcher w = new ExitWatcher(rt.exitDir, seen::add).start()) {
            String a = RuntimeFixture.newId();
            String b = RuntimeFixture.newId();
            CompletableFuture<ContainerExit> fa = w.await(a);
            rt.run(a, rt.spec("sh", "-c", "exit 5").build());
            rt.run(b, rt.spec("true").build());
            assertThat(fa.get(20, TimeUnit.SECONDS).exitCode()).isEqualTo(5);
            assertThat(w.await(b).get(20, TimeUnit.SECONDS).exitCode()).isZero();
            Thread.sleep(200);
            assertThat(seen).extracting(ContainerExit::id).containsExactlyInAnyOrder(a, b);
        }
    }

    @Test
    void containerOutlivesItsJavaHandlesAndIsRediscovered() throws Exception {
        String id = RuntimeFixture.newId();
        long pid;
        long conmonPid;
        {
            ContainerHandle h = rt.run(id, rt.spec("sh", "-c", "echo up; exec sleep 1000").build());
            pid = h.pid();
            conmonPid = h.conmonPid();
        }
        // conmon is not our child: it double-forked into its own session.
        ProcessHandle conmonProc = ProcessHandle.of(conmonPid).orElseThrow();
        assertThat(conmonProc.parent().map(ProcessHandle::pid)).isNotEqualTo(Optional.of(ProcessHandle.current().pid()));
        assertThat(Files.readString(Path.of("/proc/" + conmonPid + "/stat")).split(" ")[5])
                .isNotEqualTo(Files.readString(Path.of("/proc/self/stat")).split(" ")[5]);
        System.gc();
        Thread.sleep(500);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);

        // A "restarted daemon": new objects that know only the ID and the bundle.
        OciRuntime runtime2 = new OciRuntime(rt.runtime.name(), rt.runtime.binary(), rt.runtime.root());
        Conmon conmon2 = new Conmon(Conmon.findConmon().orElseThrow(), runtime2, rt.exitDir, HostFacts.detect());
        Conmon.Recovered r = conmon2.recover(id, rt.bundle(id));
        assertThat(r).isInstanceOf(Conmon.Recovered.Live.class);
        Conmon.Recovered.Live live = (Conmon.Recovered.Live) r;
        assertThat(live.handle().pid()).isEqualTo(pid);
        assertThat(live.handle().conmonPid()).isEqualTo(conmonPid);
        assertThat(live.state().isRunning()).isTrue();
        try (AttachSession a = AttachSession.open(live.handle().bundle())) {
            try (ExitWatcher w = new ExitWatcher(rt.exitDir, null).start()) {
                CompletableFuture<ContainerExit> exit = w.await(id);
                conmon2.kill(id, "KILL");
                assertThat(a.read()).isNull(); // output ends when the container does
                assertThat(exit.get(20, TimeUnit.SECONDS).exitCode()).isEqualTo(137);
            }
        }
        Conmon.Recovered after = conmon2.recover(id, rt.bundle(id));
        assertThat(after).isInstanceOf(Conmon.Recovered.Exited.class);
        assertThat(((Conmon.Recovered.Exited) after).exit().exitCode()).isEqualTo(137);
        assertThat(LogReader.readAll(rt.logPath(id), LogQuery.ALL)).extracting(LogEntry::text).containsExactly("up\n");
        assertThat(Conmon.awaitConmonExit(conmonPid, Duration.ofSeconds(10))).isTrue();
        assertThat(conmon2.recover("berth-test-never", rt.bundle("berth-test-never"))).isInstanceOf(Conmon.Recovered.Gone.class);
    }

    @Test
    void followingTheLogEndsWithTheContainer() throws Exception {
        String id = RuntimeFixture.newId();
        rt.run(id, rt.spec("sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done; printf tail >&2").build());
        List<String> got = new ArrayList<>();
        LogReader.read(rt.logPath(id), LogQuery.ALL.withFollow(true), () -> rt.conmon.exitOf(id).isEmpty(),
                e -> got.add(e.stream() + " " + e.text()));
        assertThat(got).containsExactly("STDOUT line1\n", "STDOUT line2\n", "STDOUT line3\n", "STDERR tail");
    }
}
