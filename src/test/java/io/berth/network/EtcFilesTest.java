package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EtcFilesTest {
    @Test
    void hostsFileHasDockersDefaultsExtraHostsLinksAndOwnAddress() {
        String hosts = EtcFiles.hosts("10.89.0.5", "abc123def456", null,
                List.of(EtcFiles.ExtraHost.parse("db:10.1.2.3"), EtcFiles.ExtraHost.parse("host.docker.internal:host-gateway")),
                List.of(new EtcFiles.Link("10.89.0.6", "cache", "redis", "0123456789ab")), "10.89.0.1");
        assertThat(hosts).isEqualTo("""
                127.0.0.1\tlocalhost
                ::1\tlocalhost ip6-localhost ip6-loopback
                fe00::0\tip6-localnet
                ff00::0\tip6-mcastprefix
                ff02::1\tip6-allnodes
                ff02::2\tip6-allrouters
                10.1.2.3\tdb
                10.89.0.1\thost.docker.internal
                10.89.0.6\tcache redis 0123456789ab
                10.89.0.5\tabc123def456
                """);
        assertThat(EtcFiles.hosts("10.0.0.2", "web", "example.com", List.of(), List.of(), null)).endsWith("10.0.0.2\tweb.example.com web\n");
        assertThat(EtcFiles.hostname("web")).isEqualTo("web\n");
    }

    @Test
    void resolvConfForUserAndDefaultNetworks() {
        EtcFiles.HostResolv host = EtcFiles.HostResolv.parse("""
                # comment
                nameserver 127.0.0.53
                nameserver 192.0.2.53
                search corp.example
                options edns0
                """);
        assertThat(EtcFiles.resolvConf(host, "10.90.0.1", List.of(), List.of(), List.of()))
                .isEqualTo("nameserver 10.90.0.1\nsearch corp.example\noptions ndots:0 edns0\n");
        assertThat(EtcFiles.resolvConf(host, null, List.of(), List.of(), List.of()))
                .isEqualTo("nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n");
        assertThat(EtcFiles.resolvConf(host, null, List.of("1.1.1.1"), List.of("a.example"), List.of("ndots:2")))
                .isEqualTo("nameserver 1.1.1.1\nsearch a.example\noptions ndots:2\n");
        EtcFiles.HostResolv onlyLocal = EtcFiles.HostResolv.parse("nameserver 127.0.0.1\n");
        assertThat(EtcFiles.resolvConf(onlyLocal, null, List.of(), List.of(), List.of()))
                .isEqualTo("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
}
