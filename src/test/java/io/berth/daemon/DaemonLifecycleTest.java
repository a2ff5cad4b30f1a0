package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Starting, refusing to start, and stopping berthd as a real process. */
class DaemonLifecycleTest {

    @Test
    void secondDaemonOnTheSameDataRootSaysWhoHoldsIt() throws Exception {
        try (BerthdProcess first = BerthdProcess.start()) {
            Path otherDir = Files.createTempDirectory("berthd-second");
            Path sameRoot = first.dataRoot();
            Process second = new ProcessBuilder(concat(BerthdProcess.javaCommand(), "daemon",
                    "--data-root", sameRoot.toString(), "--exec-root", otherDir.resolve("run").toString(),
                    "--config-file", writeEmptyConfig(otherDir).toString(),
                    "-H", "unix://" + otherDir.resolve("s.sock"))).redirectErrorStream(true).start();
            String output = new String(second.getInputStream().readAllBytes());
            assertThat(second.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isEqualTo(1);
            assertThat(output).contains("data root " + sameRoot + " is in use by another berthd (pid " + first.pid() + ")");
            assertThat(first.httpGet("/_ping")).endsWith("OK");
            BerthdProcess.deleteTree(otherDir);
        }
    }

    @Test
    void sigtermShutsDownCleanlyAndFreesTheDataRoot() throws Exception {
        Path dir = Files.createTempDirectory("berthd-term");
        try (BerthdProcess daemon = BerthdProcess.start(dir)) {
            Path pidFile = dir.resolve("run/berthd.pid");
            assertThat(Files.readString(pidFile).trim()).isEqualTo(Long.toString(daemon.pid()));
            daemon.signal("TERM");
            assertThat(daemon.process().waitFor(15, TimeUnit.SECONDS)).isTrue();
            assertThat(daemon.log()).contains("berthd shutting down");
            assertThat(daemon.socket()).doesNotExist();
            assertThat(pidFile).doesNotExist();
            // The lock is gone: a new daemon takes the same data root at once.
            try (BerthdProcess again = BerthdProcess.start(dir)) {
                assertThat(again.httpGet("/_ping")).endsWith("OK");
                again.signal("INT");
                assertThat(again.process().waitFor(15, TimeUnit.SECONDS)).isTrue();
                assertThat(again.socket()).doesNotExist();
            }
        }
    }

    @Test
    void plainTcpOffLoopbackIsRefused() throws Exception {
        Path dir = Files.createTempDirectory("berthd-tcp");
        int port = freePort();
        try (BerthdProcess daemon = BerthdProcess.launch(dir, "-H", "tcp://0.0.0.0:" + port)) {
            assertThat(daemon.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(daemon.process().exitValue()).isEqualTo(1);
            assertThat(daemon.log()).contains("refusing to serve the API on tcp://0.0.0.0:" + port + " without TLS");
        }
    }

    @Test
    void plainTcpOnLoopbackServesTheCli() throws Exception {
        int port = freePort();
        try (BerthdProcess daemon = BerthdProcess.start("-H", "tcp://127.0.0.1:" + port)) {
            var cli = new io.berth.testing.DockerCli("tcp://127.0.0.1:" + port, daemon.dir().resolve("cfg"));
            var r = cli.run("version", "--format", "{{.Server.Version}}");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout().trim()).isNotEmpty();
        }
    }

    @Test
    void daemonJsonGivesHostsAndConflictsWithFlagsAreRefused() throws Exception {
        Path dir = Files.createTempDirectory("berthd-json");
        Path socket = dir.resolve("from-json.sock");
        Files.writeString(dir.resolve("daemon.json"), "{\"hosts\": [\"unix://" + socket + "\"], \"labels\": [\"team=a\"]}");
        Process p = new ProcessBuilder(concat(BerthdProcess.javaCommand(), "daemon", "--data-root", dir.resolve("root").toString(),
                "--exec-root", dir.resolve("run").toString(), "--config-file", dir.resolve("daemon.json").toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!Files.exists(socket) && System.nanoTime() < deadline && p.isAlive()) Thread.sleep(20);
            Thread.sleep(100);
            var r = new io.berth.testing.DockerCli("unix://" + socket, dir.resolve("cfg")).run("info", "--format", "{{json .Labels}}");
            assertThat(r.exitCode()).as(r + Files.readString(dir.resolve("log"))).isZero();
            assertThat(r.stdout().trim()).isEqualTo("[\"team=a\"]");
        } finally {
            p.destroy();
            p.waitFor(15, TimeUnit.SECONDS);
        }
        // The same option from a flag and from the file: dockerd's refusal.
        Process conflict = new ProcessBuilder(concat(BerthdProcess.javaCommand(), "daemon", "--data-root", dir.resolve("root").toString(),
                "--config-file", dir.resolve("daemon.json").toString(), "-H", "unix://" + dir.resolve("x.sock")))
                .redirectErrorStream(true).start();
        String out = new String(conflict.getInputStream().readAllBytes());
        assertThat(conflict.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(conflict.exitValue()).isEqualTo(1);
        assertThat(out).contains("the following directives are specified both as a flag and in the configuration file: hosts");
        BerthdProcess.deleteTree(dir);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Path writeEmptyConfig(Path dir) throws Exception {
        Path config = dir.resolve("daemon.json");
        Files.writeString(config, "{}");
        return config;
    }

    static java.util.List<String> concat(java.util.List<String> head, String... tail) {
        var all = new java.util.ArrayList<>(head);
        all.addAll(java.util.List.of(tail));
        return all;
    }
}
