package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PortBindingTest {
    @Test
    void parsesDockersForms() {
        assertThat(PortBinding.parse("80")).containsExactly(PortBinding.of("", 0, 80, "tcp"));
        assertThat(PortBinding.parse("8080:80")).containsExactly(PortBinding.of("", 8080, 80, "tcp"));
        assertThat(PortBinding.parse("127.0.0.1:8080:80/udp")).containsExactly(PortBinding.of("127.0.0.1", 8080, 80, "udp"));
        assertThat(PortBinding.parse("127.0.0.1::80")).containsExactly(PortBinding.of("127.0.0.1", 0, 80, "tcp"));
        assertThat(PortBinding.parse("8000-8001:80-81")).containsExactly(
                PortBinding.of("", 8000, 80, "tcp"), PortBinding.of("", 8001, 81, "tcp"));
        assertThat(PortBinding.parse("8000-8010:80")).containsExactly(new PortBinding("", 8000, 8010, 80, "tcp"));
        assertThat(PortBinding.parse("[::1]:8080:80")).containsExactly(PortBinding.of("::1", 8080, 80, "tcp"));
        assertThat(PortBinding.parse("80-81")).hasSize(2);
    }

    @Test
    void refusesBadSpecs() {
        assertThatThrownBy(() -> PortBinding.parse("8000-8002:80-81")).hasMessageContaining("invalid ranges");
        assertThatThrownBy(() -> PortBinding.parse("a:b")).hasMessageContaining("invalid port specification");
        assertThatThrownBy(() -> PortBinding.parse("80/icmp")).hasMessageContaining("invalid proto");
        assertThatThrownBy(() -> PortBinding.parse("1.2.3:80:80")).hasMessageContaining("invalid IP address");
    }
}
