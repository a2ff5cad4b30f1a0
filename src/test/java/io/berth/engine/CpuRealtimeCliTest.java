package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.HostNet;
import io.berth.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --cpu-rt-period}/{@code --cpu-rt-runtime} are kept as asked and read back by inspect,
 * as dockerd keeps them (issue 12); also when a client spells the fields {@code CPURealtime...}
 * as docker-py does (dockerd's JSON decoding ignores case).
 */
class CpuRealtimeCliTest {
    @Test
    void realtimeSettingsAreReadBackAsAsked(@TempDir Path tmp) throws Exception {
        try (BerthdProcess daemon = BerthdProcess.start()) {
            DockerCli docker = daemon.docker();
            assertThat(docker.run("load", "-i", TestImages.busybox().tag("bb:rt").writeTo(tmp.resolve("bb.tar")).archive().toString()).exitCode()).isZero();
            DockerCli.Result created = docker.run("create", "--name", "rt", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "500", "bb:rt", "true");
            assertThat(created.exitCode()).as(created.toString()).isZero();
            assertThat(docker.run("inspect", "-f", "{{.HostConfig.CpuRealtimePeriod}} {{.HostConfig.CpuRealtimeRuntime}}", "rt").stdout().trim())
                    .isEqualTo("1000 500");
            docker.run("rm", "-f", "rt");

            HostNet.Result api = HostNet.run("curl", "-s", "--unix-socket", daemon.socket().toString(), "-H", "Content-Type: application/json",
                    "-d", "{\"Image\":\"bb:rt\",\"Cmd\":[\"true\"],\"HostConfig\":{\"CPURealtimePeriod\":2000,\"CPURealtimeRuntime\":700}}",
                    "http://berth/v1.41/containers/create?name=rt2");
            assertThat(api.out()).contains("\"Id\"");
            assertThat(docker.run("inspect", "-f", "{{.HostConfig.CpuRealtimePeriod}} {{.HostConfig.CpuRealtimeRuntime}}", "rt2").stdout().trim())
                    .isEqualTo("2000 700");
            docker.run("rm", "-f", "rt2");
        }
    }
}
