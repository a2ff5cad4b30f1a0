package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker exec through conmon's exec mode, in a running busybox container. */
class ExecTest {
    @TempDir Path tmp;
    RuntimeFixture rt;
    String id;
    ContainerHandle h;

    @BeforeEach
    void setUp() throws Exception {
        rt = new RuntimeFixture(tmp);
        id = RuntimeFixture.newId();
        h = rt.run(id, rt.spec("sleep", "1000").addEnv("FROM_IMAGE=yes").user(0, 0).build());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rt != null) rt.close();
    }

    private Path execDir(String name) {
        return tmp.resolve("exec").resolve(name);
    }

    @Test
    void idReturnsOutputAndExitCode() throws Exception {
        try (ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("e1"), ExecSpec.of("id", "-u"))) {
            assertThat(e.pid()).isPositive();
            String[] out = ContainerLifecycleTest.readAll(e.attach());
            assertThat(out[0]).isEqualTo("0\n");
            assertThat(out[1]).isEmpty();
            assertThat(e.waitFor(Duration.ofSeconds(20))).isZero();
        }
        try (ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("e2"),
                ExecSpec.of("sh", "-c", "id -u; echo $FROM_IMAGE $EXTRA; pwd; echo oops >&2; exit 7")
                        .withUser(65534, 65534).withEnv(List.of("EXTRA=added")).withCwd("/tmp"))) {
            String[] out = ContainerLifecycleTest.readAll(e.attach());
            assertThat(out[0]).isEqualTo("65534\nyes added\n/tmp\n");
            assertThat(out[1]).isEqualTo("oops\n");
            assertThat(e.waitFor(Duration.ofSeconds(20))).isEqualTo(7);
        }
        assertThat(Conmon.execExit(execDir("e2"), id).orElseThrow().exitCode()).isEqualTo(7);
        // exec output is not the container's log
        assertThat(rt.log(id)).isEmpty();
    }

    @Test
    void stdinAndTty() throws Exception {
        try (ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("cat"), ExecSpec.of("cat").withStdin(true))) {
            e.attach().writeStdin("piped\n".getBytes(StandardCharsets.UTF_8));
            e.attach().closeStdin();
            assertThat(ContainerLifecycleTest.readAll(e.attach())[0]).isEqualTo("piped\n");
            assertThat(e.waitFor(Duration.ofSeconds(20))).isZero();
        }
        try (ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("tty"),
                ExecSpec.of("sh", "-c", "tty; stty size").withTty(true).withConsoleSize(33, 77))) {
            String out = ContainerLifecycleTest.readAll(e.attach())[0];
            assertThat(out).matches("(?s)/dev/pts/\\d+\r\n33 77\r\n");
            assertThat(e.waitFor(Duration.ofSeconds(20))).isZero();
        }
    }

    @Test
    void detachedExecKeepsRunningAndReportsItsExit() throws Exception {
        ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("bg"), ExecSpec.of("sh", "-c", "sleep 0.5; exit 4").withAttach(false));
        assertThat(e.attach()).isNull();
        assertThat(e.isRunning()).isTrue();
        assertThat(e.exitCode().get(20, TimeUnit.SECONDS)).isEqualTo(4);
        assertThat(Conmon.execExit(execDir("bg"), id).orElseThrow().exitCode()).isEqualTo(4);
    }

    @Test
    void killedExecAndMissingCommand() throws Exception {
        try (ExecSession e = rt.conmon.exec(id, h.bundle(), execDir("k"), ExecSpec.of("sleep", "100"))) {
            e.kill(true);
            assertThat(e.waitFor(Duration.ofSeconds(20))).isEqualTo(137);
        }
        assertThatThrownBy(() -> rt.conmon.exec(id, h.bundle(), execDir("missing"), ExecSpec.of("no-such-command")))
                .isInstanceOf(OciRuntimeException.class)
                .hasMessageContaining("exec in " + id)
                .hasMessageContaining("no-such-command");
        // The container is unharmed.
        assertThat(rt.conmon.state(id).orElseThrow().isRunning()).isTrue();
    }
}
