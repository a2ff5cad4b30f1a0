package io.berth.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.container.ContainerSettings.NamespaceMode;
import io.berth.container.ContainerSettings.Seccomp;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Records written by the previous daemon (format 1, Docker's HostConfig) read into typed settings, losing nothing. */
class ContainerRecordsTest {
    private static final JsonMapper JSON = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = ContainerRecordsTest.class.getResourceAsStream("/io/berth/upgrade/v0/" + name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"web", "plain", "secu"})
    void aFormatOneRecordKeepsItsHostConfigExactly(String name) throws IOException {
        byte[] old = fixture(name + ".config.json");
        ContainerRecord r = ContainerRecords.read(JSON, old);
        assertThat(r.format()).isEqualTo(ContainerRecord.FORMAT);
        JsonNode before = JSON.readTree(old).get("hostConfig");
        assertThat(JSON.valueToTree(r.hostConfig()).toString()).isEqualTo(before.toString());
        // and written in the new format, read back the same
        ContainerRecord again = ContainerRecords.read(JSON, JSON.writeValueAsBytes(r));
        assertThat(again).isEqualTo(r);
        assertThat(JSON.readTree(JSON.writeValueAsBytes(r)).has("hostConfig")).isFalse();
    }

    @Test
    void theOptionsAreTyped() throws IOException {
        ContainerSettings web = ContainerRecords.read(JSON, fixture("web.config.json")).settings();
        assertThat(web.restart()).isEqualTo(new ContainerSettings.RestartPolicy(ContainerSettings.RestartMode.ON_FAILURE, 3));
        assertThat(web.security().noNewPrivileges()).isTrue();
        assertThat(web.security().seccomp()).isInstanceOf(Seccomp.Default.class);
        assertThat(web.security().capAdd()).containsExactly("CAP_NET_ADMIN");
        assertThat(web.resources().nanoCpus()).isEqualTo(500_000_000L);
        assertThat(web.resources().pidsLimit()).isEqualTo(50L);
        assertThat(web.namespaces().ipc()).isEqualTo(NamespaceMode.PRIVATE);
        assertThat(web.networking().mode()).isEqualTo("oldnet");
        assertThat(web.process().init()).isTrue();
        ContainerSettings secu = ContainerRecords.read(JSON, fixture("secu.config.json")).settings();
        assertThat(secu.security().seccomp()).isInstanceOf(Seccomp.Unconfined.class);
        assertThat(secu.namespaces().ipc()).isInstanceOf(NamespaceMode.Shareable.class);
        assertThat(secu.devices()).extracting(ContainerSettings.Device::pathInContainer).containsExactly("/dev/mynull");
    }

    @Test
    void securityOptionsAreParsedOnceWithDockerdsMessage() {
        HostConfig h = withSecurityOpt(List.of("seccomp:{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "apparmor=x", "label=disable",
                "no-new-privileges:true"));
        ContainerSettings.Security s = DockerHostConfig.toSettings(h).security();
        assertThat(s.seccomp()).isEqualTo(new Seccomp.Custom("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"));
        assertThat(s.apparmorProfile()).isEqualTo("x");
        assertThat(s.labels()).containsExactly("disable");
        assertThat(s.noNewPrivileges()).isTrue();
        assertThatThrownBy(() -> DockerHostConfig.toSettings(withSecurityOpt(List.of("bogus"))))
                .isInstanceOf(KindedException.class).hasMessage("invalid --security-opt 2: \"bogus\"")
                .satisfies(e -> assertThat(((KindedException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }

    @Test
    void namespaceModesAreWordsOnDiskAndSealedTypesInMemory() {
        for (String w : List.of("", "private", "shareable", "host", "none", "container:web")) {
            assertThat(NamespaceMode.parse(w).word()).isEqualTo(w);
            assertThat(JSON.readValue(JSON.writeValueAsString(NamespaceMode.parse(w)), NamespaceMode.class)).isEqualTo(NamespaceMode.parse(w));
        }
        assertThat(NamespaceMode.parse("container:abc")).isEqualTo(new NamespaceMode.Container("abc"));
        assertThatThrownBy(() -> DockerHostConfig.toSettings(JSON.readValue("{\"PidMode\":\"nope\"}", HostConfig.class).withDefaults("runc")))
                .hasMessage("invalid PID mode: nope");
    }

    @Test
    void aRecordFromANewerDaemonIsRefused() {
        assertThatThrownBy(() -> ContainerRecords.read(JSON, "{\"format\":99}".getBytes())).hasMessageContaining("newer");
    }

    private static HostConfig withSecurityOpt(List<String> opts) {
        var node = JSON.createObjectNode();
        node.set("SecurityOpt", JSON.valueToTree(opts));
        return JSON.treeToValue(node, HostConfig.class).withDefaults("runc");
    }
}
