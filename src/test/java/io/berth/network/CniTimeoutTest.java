package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.testing.BerthdProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/**
 * A CNI plugin that hangs is killed at the timeout, with whatever it started, and the caller
 * gets an error naming it. Real processes (a shell script as the plugin); no namespace needed.
 */
class CniTimeoutTest {
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("cni-timeout");
    }

    @AfterEach
    void tearDown() throws IOException {
        BerthdProcess.deleteTree(dir);
    }

    private void plugin(String name, String script) throws IOException {
        Path exe = dir.resolve(name);
        Files.writeString(exe, "#!/bin/sh\n" + script);
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwx------"));
    }

    private static ObjectNode confList(String type) {
        ObjectNode conf = NetJson.object();
        conf.put("cniVersion", "1.0.0");
        conf.put("name", "timeout-test");
        conf.putArray("plugins").addObject().put("type", type);
        return conf;
    }

    private static long pid(Path file) throws Exception {
        for (int i = 0; i < 200 && (!Files.exists(file) || Files.readString(file).isBlank()); i++) Thread.sleep(10);
        return Long.parseLong(Files.readString(file).trim());
    }

    @Test
    void aHungPluginIsKilledAtTheTimeoutWithItsChildren() throws Exception {
        Path pids = dir.resolve("pids");
        // The plugin starts a child that also holds stdout, then hangs itself.
        plugin("hang", "sleep 300 &\necho $! > " + pids + ".child\necho $$ > " + pids + "\nsleep 300\n");
        Cni cni = new Cni(List.of(dir), Duration.ofMillis(800));
        long started = System.nanoTime();
        assertThatThrownBy(() -> cni.add(confList("hang"), "c1", null, "eth0", null))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("CNI plugin hang (ADD) did not finish within 800 ms and was killed");
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(tookMs).isBetween(700L, 6000L);
        long plugin = pid(pids);
        long child = pid(Path.of(pids + ".child"));
        assertThat(ProcessHandle.of(plugin).map(ProcessHandle::isAlive).orElse(false)).as("plugin alive").isFalse();
        for (int i = 0; i < 100 && ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false); i++) Thread.sleep(20);
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).as("child alive").isFalse();
    }

    @Test
    void aPluginThatAnswersInTimeIsRead() throws Exception {
        plugin("quick", "cat > /dev/null\necho '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.99.0.2/24\"}]}'\n");
        Cni cni = new Cni(List.of(dir), Duration.ofSeconds(10));
        var result = cni.add(confList("quick"), "c1", null, "eth0", null);
        assertThat(result.path("ips").get(0).path("address").asString()).isEqualTo("10.99.0.2/24");
    }

    @Test
    void aFailingPluginStillGivesItsMessage() throws Exception {
        plugin("fails", "cat > /dev/null\necho '{\"code\":7,\"msg\":\"no addresses left\"}'\nexit 1\n");
        Cni cni = new Cni(List.of(dir), Duration.ofSeconds(10));
        assertThatThrownBy(() -> cni.add(confList("fails"), "c1", null, "eth0", null))
                .hasMessageContaining("plugin type=\"fails\" failed (add): no addresses left");
    }
}
