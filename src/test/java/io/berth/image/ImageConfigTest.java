package io.berth.image;

import io.berth.content.Digest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageConfigTest {
    // The shape docker build writes (abridged), keys in Docker's order, with odd spacing.
    static final String CONFIG = """
            {"architecture":"arm64","variant":"v8","config":{"Hostname":"","Domainname":"","User":"nobody",
            "AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{},"443/tcp":{}},
            "Tty":false,"OpenStdin":false,"StdinOnce":false,
            "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","NGINX_VERSION=1.25.3"],
            "Cmd":["nginx","-g","daemon off;"],"Healthcheck":{"Test":["CMD-SHELL","curl -f http://localhost/ || exit 1"],
            "Interval":30000000000,"Timeout":5000000000,"StartPeriod":1000000000,"Retries":3},
            "ArgsEscaped":true,"Image":"","Volumes":{"/data":{}},"WorkingDir":"/srv","Entrypoint":["/docker-entrypoint.sh"],
            "OnBuild":null,"Labels":{"maintainer":"NGINX Docker Maintainers"},"StopSignal":"SIGQUIT","Shell":["/bin/bash","-c"]},
            "created":"2023-11-01T12:34:56.123456789Z","author":"someone",
            "history":[{"created":"2023-11-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "},
                       {"created":"2023-11-01T00:00:01Z","created_by":"/bin/sh -c #(nop)  CMD [\\"bash\\"]","empty_layer":true},
                       {"created":"2023-11-01T00:00:02Z","created_by":"RUN x","comment":"buildkit.dockerfile.v0","author":"me"}],
            "os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "sha256:2222222222222222222222222222222222222222222222222222222222222222"]},
            "docker_version":"24.0.7","unknown_future_field":[1,2,3]}
            """;

    @Test
    void imageIdIsSha256OfExactConfigBytes() {
        byte[] bytes = CONFIG.getBytes(StandardCharsets.UTF_8);
        ImageConfigBlob blob = ImageConfigBlob.parse(bytes);
        assertThat(blob.id()).isEqualTo(Digest.sha256(bytes));
        // re-serialising gives other bytes (key order, spacing, dropped fields): never use it for an ID
        byte[] reserialised = ImageJson.toBytes(blob.config());
        assertThat(Digest.sha256(reserialised)).isNotEqualTo(blob.id());
        assertThat(blob.bytes()).isEqualTo(bytes);
        // the same parsed content with one more space is another image
        ImageConfigBlob spaced = ImageConfigBlob.parse((CONFIG + " ").getBytes(StandardCharsets.UTF_8));
        assertThat(spaced.config()).isEqualTo(blob.config());
        assertThat(spaced.id()).isNotEqualTo(blob.id());
    }

    @Test
    void parsesEveryField() {
        ImageConfig c = ImageConfigBlob.parse(CONFIG.getBytes(StandardCharsets.UTF_8)).config();
        assertThat(c.architecture()).isEqualTo("arm64");
        assertThat(c.os()).isEqualTo("linux");
        assertThat(c.platform()).isEqualTo(Platform.of("linux", "arm64", null));
        assertThat(c.createdAt()).contains(Instant.parse("2023-11-01T12:34:56.123456789Z"));
        assertThat(c.author()).isEqualTo("someone");
        assertThat(c.dockerVersion()).isEqualTo("24.0.7");
        ImageConfig.ContainerConfig cc = c.config();
        assertThat(cc.user()).isEqualTo("nobody");
        assertThat(cc.exposedPortList()).containsExactly("80/tcp", "443/tcp");
        assertThat(cc.env()).hasSize(2).contains("NGINX_VERSION=1.25.3");
        assertThat(cc.cmd()).containsExactly("nginx", "-g", "daemon off;");
        assertThat(cc.entrypoint()).containsExactly("/docker-entrypoint.sh");
        assertThat(cc.volumeList()).containsExactly("/data");
        assertThat(cc.workingDir()).isEqualTo("/srv");
        assertThat(cc.labels()).containsEntry("maintainer", "NGINX Docker Maintainers");
        assertThat(cc.stopSignal()).isEqualTo("SIGQUIT");
        assertThat(cc.argsEscaped()).isTrue();
        assertThat(cc.onBuild()).isNull();
        assertThat(cc.shell()).containsExactly("/bin/bash", "-c");
        assertThat(cc.healthcheck().test()).containsExactly("CMD-SHELL", "curl -f http://localhost/ || exit 1");
        assertThat(cc.healthcheck().interval()).isEqualTo(30_000_000_000L);
        assertThat(cc.healthcheck().retries()).isEqualTo(3);
        assertThat(c.diffIds()).containsExactly(
                Digest.parse("sha256:1111111111111111111111111111111111111111111111111111111111111111"),
                Digest.parse("sha256:2222222222222222222222222222222222222222222222222222222222222222"));
        assertThat(c.rootfs().type()).isEqualTo("layers");
        assertThat(c.history()).hasSize(3);
        assertThat(c.history().get(0).isEmptyLayer()).isFalse();
        assertThat(c.history().get(1).isEmptyLayer()).isTrue();
        assertThat(c.history().get(2).comment()).isEqualTo("buildkit.dockerfile.v0");
        assertThat(c.history().get(2).author()).isEqualTo("me");
    }

    @Test
    void buildsAConfigAndRoundTrips() {
        ImageConfig.ContainerConfig cc = new ImageConfig.ContainerConfig(null, null, "app", null, null, null, null, null, null, null,
                List.of("A=1"), List.of("run"), null, null, null, null, "/app", null, null, null, null, null, null);
        ImageConfig c = new ImageConfig("amd64", "linux", null, null, null, "2024-01-01T00:00:00Z", null, cc,
                ImageConfig.RootFs.layers(List.of(Digest.sha256(new byte[0]))),
                List.of(new ImageConfig.History("2024-01-01T00:00:00Z", "COPY . /app", null, null, null)), null, null, null, null);
        ImageConfigBlob blob = ImageConfigBlob.of(c);
        String json = new String(blob.bytes(), StandardCharsets.UTF_8);
        assertThat(json).contains("\"User\":\"app\"", "\"WorkingDir\":\"/app\"", "\"diff_ids\":[\"sha256:", "\"created_by\":\"COPY . /app\"")
                .doesNotContain("null").doesNotContain("Hostname");
        ImageConfigBlob back = ImageConfigBlob.parse(blob.bytes());
        assertThat(back.config()).isEqualTo(c);
        assertThat(back.id()).isEqualTo(blob.id());
        assertThat(back).isEqualTo(blob);
    }

    @Test
    void refusesNonJson() {
        assertThatThrownBy(() -> ImageConfigBlob.parse("{".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(InvalidManifestException.class).hasMessageStartingWith("invalid image config");
    }
}
