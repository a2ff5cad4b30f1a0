package io.berth.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker plugin} against berthd (issue 12): create keeps a plugin from a folder with a
 * config.json and a rootfs, which ls, inspect, set and rm then see, as with dockerd 20.10;
 * enabling and installing are refused with berth's reason; a missing plugin is a 404.
 */
class PluginCliTest {
    @Test
    void createdPluginsAreListedInspectedSetAndRemoved(@TempDir Path tmp) throws Exception {
        Path ctx = tmp.resolve("dummy");
        Files.createDirectories(ctx.resolve("rootfs/dummy"));
        Files.writeString(ctx.resolve("rootfs/dummy/file.txt"), "hello\n");
        Files.writeString(ctx.resolve("config.json"), """
                {"description": "Dummy plugin", "entrypoint": ["/dummy"], "network": {"type": "host"},
                 "interface": {"types": ["docker.volumedriver/1.0"], "socket": "dummy.sock"},
                 "env": [{"name": "DEBUG", "settable": ["value"], "value": "0"}, {"name": "FIXED", "value": "x"}]}
                """);
        try (BerthdProcess daemon = BerthdProcess.start()) {
            DockerCli docker = daemon.docker();
            ok(docker, "plugin", "create", "sdk/dummy", ctx.toString());
            assertThat(ok(docker, "plugin", "ls", "--format", "{{.Name}} {{.Enabled}} {{.Description}}").stdout().trim())
                    .isEqualTo("sdk/dummy:latest false Dummy plugin");
            assertThat(ok(docker, "plugin", "inspect", "-f", "{{json .Config.Entrypoint}} {{.Config.Network.Type}} {{.Settings.Env}}", "sdk/dummy")
                    .stdout().trim()).isEqualTo("[\"/dummy\"] host [DEBUG=0 FIXED=x]");
            assertThat(ok(docker, "plugin", "inspect", "-f", "{{index .Config.Rootfs.DiffIds 0}}", "sdk/dummy").stdout()).startsWith("sha256:");
            assertThat(ok(docker, "plugin", "ls", "--filter", "capability=volumedriver", "-q").stdout()).isNotBlank();
            assertThat(ok(docker, "plugin", "ls", "--filter", "enabled=true", "-q").stdout()).isBlank();

            ok(docker, "plugin", "set", "sdk/dummy", "DEBUG=1");
            assertThat(ok(docker, "plugin", "inspect", "-f", "{{.Settings.Env}}", "sdk/dummy").stdout().trim()).isEqualTo("[DEBUG=1 FIXED=x]");
            assertThat(docker.run("plugin", "set", "sdk/dummy", "FIXED=y").stderr()).contains("\"FIXED\" is not settable");

            assertThat(docker.run("plugin", "create", "sdk/dummy", ctx.toString()).stderr()).contains("plugin sdk/dummy:latest already exists");
            DockerCli.Result enable = docker.run("plugin", "enable", "sdk/dummy");
            assertThat(enable.exitCode()).isNotZero();
            assertThat(enable.stderr()).contains("berth does not run managed plugins");
            assertThat(docker.run("plugin", "disable", "sdk/dummy").stderr()).contains("plugin is already disabled");

            ok(docker, "plugin", "rm", "sdk/dummy");
            assertThat(ok(docker, "plugin", "ls", "-q").stdout()).isBlank();
            assertThat(docker.run("plugin", "inspect", "sdk/dummy").stderr()).contains("plugin \"sdk/dummy\" not found");
            DockerCli.Result install = docker.run("plugin", "install", "--grant-all-permissions", "vieux/sshfs");
            assertThat(install.exitCode()).isNotZero();
            assertThat(install.stderr()).contains("berth does not install plugins from a registry");
        }
    }

    private static DockerCli.Result ok(DockerCli docker, String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s", String.join(" ", args), r).isZero();
        return r;
    }
}
