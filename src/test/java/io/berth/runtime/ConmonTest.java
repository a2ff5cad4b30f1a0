package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
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
    void exitCodeComesThrough() throws Exception {
        String id = RuntimeFixture.newId();
        rt.run(id, rt.spec("sh", "-c", "exit 3").build());
        assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(3);
    }
}
