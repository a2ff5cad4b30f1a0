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

    @Test
    void everyFieldOfDockersHostConfigComesBack() {
        String body = """
                {"Binds":["/a:/b:ro"],"ContainerIDFile":"/tmp/cid","LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}},
                 "NetworkMode":"container:db","PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},
                 "RestartPolicy":{"Name":"always","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"local",
                 "VolumesFrom":["other:ro"],"ConsoleSize":[24,80],"CapAdd":["NET_ADMIN"],"CapDrop":["ALL"],"CgroupnsMode":"private",
                 "Dns":["1.1.1.1"],"DnsOptions":["ndots:2"],"DnsSearch":["example"],"ExtraHosts":["a:1.2.3.4"],"GroupAdd":["10"],
                 "IpcMode":"host","Cgroup":"","Links":["/db:/web/db"],"OomScoreAdj":-5,"PidMode":"container:db","Privileged":true,
                 "PublishAllPorts":true,"ReadonlyRootfs":true,"SecurityOpt":["apparmor:unconfined","no-new-privileges=false"],
                 "Tmpfs":{"/run":"size=1m"},"UTSMode":"host","UsernsMode":"host","ShmSize":1048576,"Sysctls":{"kernel.msgmax":"1"},
                 "Runtime":"crun","Isolation":"default","CpuShares":512,"Memory":67108864,"NanoCpus":0,"CgroupParent":"/p",
                 "BlkioWeight":300,"CpuPeriod":100000,"CpuQuota":50000,"CpuRealtimePeriod":1,"CpuRealtimeRuntime":2,
                 "CpusetCpus":"0","CpusetMems":"0","Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/dev/n","CgroupPermissions":"r"}],
                 "DeviceCgroupRules":["c 1:3 r"],"MemoryReservation":1048576,"MemorySwap":-1,"MemorySwappiness":10,"OomKillDisable":true,
                 "PidsLimit":-1,"Ulimits":[{"Name":"nofile","Soft":1,"Hard":2}],"Init":false,
                 "Mounts":[{"Type":"bind","Source":"/s","Target":"/t","ReadOnly":true,"BindOptions":{"Propagation":"rslave"},"TmpfsOptions":null}],
                 "MaskedPaths":[],"ReadonlyPaths":["/proc/x"]}""";
        HostConfig h = JSON.readValue(body, HostConfig.class).withDefaults("runc");
        ContainerSettings s = DockerHostConfig.toSettings(h);
        assertThat(JSON.valueToTree(DockerHostConfig.toDocker(s)).toString()).isEqualTo(JSON.valueToTree(h).toString());
        assertThat(s.namespaces().pid()).isEqualTo(new NamespaceMode.Container("db"));
        assertThat(s.namespaces().cgroup()).isEqualTo(NamespaceMode.PRIVATE);
        assertThat(s.security().apparmorProfile()).isEqualTo("unconfined");
        assertThat(s.security().maskedPaths()).isEmpty();
        assertThat(s.restart().mode()).isEqualTo(ContainerSettings.RestartMode.ALWAYS);
        // and through the record's JSON on disk
        assertThat(JSON.readValue(JSON.writeValueAsString(s), ContainerSettings.class)).isEqualTo(s);
    }

    private static HostConfig withSecurityOpt(List<String> opts) {
        var node = JSON.createObjectNode();
        node.set("SecurityOpt", JSON.valueToTree(opts));
        return JSON.treeToValue(node, HostConfig.class).withDefaults("runc");
    }
}
