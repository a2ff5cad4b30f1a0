package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class DaemonConfigLoaderTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static DaemonConfigLoader.Flags flags(List<String> hosts, Path dataRoot) {
        return new DaemonConfigLoader.Flags(dataRoot, null, hosts, null, null, null, null, null, null, null, null, null);
    }

    @Test
    void defaultsAreDockerLike() throws Exception {
        DaemonConfig c = DaemonConfigLoader.merge(flags(null, null), null, null);
        assertThat(c.dataRoot()).isEqualTo(Path.of("/var/lib/berth"));
        assertThat(c.hosts()).containsExactly("unix:///run/berth/berth.sock");
        assertThat(c.logLevel()).isEqualTo("info");
        assertThat(c.tls()).isFalse();
    }

    @Test
    void fileValuesApplyWhenNoFlagGivesThem() throws Exception {
        var json = JSON.readTree("""
                {"data-root": "/srv/berth", "hosts": ["tcp://127.0.0.1:2375"], "insecure-registries": ["reg.local:5000"],
                 "default-address-pools": [{"base": "10.99.0.0/16", "size": 24}], "runtimes": {"fast": {"path": "/usr/bin/crun"}},
                 "log-level": "warn", "tlsverify": true}
                """);
        DaemonConfig c = DaemonConfigLoader.merge(flags(null, null), json, Path.of("daemon.json"));
        assertThat(c.dataRoot()).isEqualTo(Path.of("/srv/berth"));
        assertThat(c.hosts()).containsExactly("tcp://127.0.0.1:2375");
        assertThat(c.insecureRegistries()).containsExactly("reg.local:5000");
        assertThat(c.defaultAddressPools()).containsExactly(new DaemonConfig.AddressPool("10.99.0.0/16", 24));
        assertThat(c.runtimes().get("fast").path()).isEqualTo("/usr/bin/crun");
        assertThat(c.logLevel()).isEqualTo("warn");
        assertThat(c.tls()).as("tlsverify implies tls").isTrue();
    }

    @Test
    void unknownKeysAndConflictsAreRefusedAsDockerdRefusesThem() {
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, null), JSON.readTree("{\"colour\": 1, \"debug\": true}"), Path.of("f")))
                .hasMessage("the following directives don't match any configuration option: colour");
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, Path.of("/a")), JSON.readTree("{\"data-root\": \"/b\"}"), Path.of("f")))
                .hasMessageStartingWith("the following directives are specified both as a flag and in the configuration file: data-root");
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, null), JSON.readTree("{\"storage-driver\": \"vfs\"}"), Path.of("f")))
                .hasMessageContaining("storage-driver \"vfs\" is not supported");
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, null), JSON.readTree("{\"log-level\": \"loud\"}"), Path.of("f")))
                .hasMessageContaining("unable to parse logging level: loud");
    }

    @Test
    void logOptsAreCheckedAndKept() throws Exception {
        DaemonConfig c = DaemonConfigLoader.merge(flags(null, null),
                JSON.readTree("{\"log-driver\": \"json-file\", \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"}}"), Path.of("f"));
        assertThat(c.logDriver()).isEqualTo("json-file");
        assertThat(c.logOpts()).containsOnly(java.util.Map.entry("max-size", "10m"), java.util.Map.entry("max-file", "3"));
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, null), JSON.readTree("{\"log-opts\": {\"max-size\": \"big\"}}"), Path.of("f")))
                .hasMessage("log-opts: failed to initialize logging driver: invalid size: 'big'");
        assertThatThrownBy(() -> DaemonConfigLoader.merge(flags(null, null), JSON.readTree("{\"log-opts\": {\"max-file\": 3}}"), Path.of("f")))
                .hasMessageContaining("log-opts \"max-file\" must be a string");
    }

    @Test
    void hostAddressesParse() {
        assertThat(HostAddress.parse("unix:///tmp/x.sock")).isEqualTo(new HostAddress.Unix(Path.of("/tmp/x.sock")));
        assertThat(HostAddress.parse("tcp://127.0.0.1:2376")).isEqualTo(new HostAddress.Tcp("127.0.0.1", 2376));
        assertThat(((HostAddress.Tcp) HostAddress.parse("tcp://127.0.0.1:1")).isLoopback()).isTrue();
        assertThat(((HostAddress.Tcp) HostAddress.parse("tcp://:2375")).isLoopback()).isFalse();
        assertThatThrownBy(() -> HostAddress.parse("http://x")).hasMessageContaining("want unix:///path/to.sock or tcp://host:port");
    }
}
