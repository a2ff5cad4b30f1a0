package io.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {
    @Test
    void everyInstruction() {
        ImageConfig.ContainerConfig c = ConfigChanges.apply(null, List.of(
                "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]",
                "entrypoint /entry.sh --flag",
                "ENV A=1 B=\"two words\"",
                "ENV C three words",
                "EXPOSE 80 53/udp",
                "LABEL x=y \"with space\"=z",
                "USER app:app",
                "WORKDIR /srv",
                "WORKDIR data",
                "VOLUME [\"/v1\", \"/v2\"]",
                "VOLUME /v3",
                "STOPSIGNAL SIGQUIT",
                "ONBUILD RUN true"));
        assertThat(c.cmd()).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(c.entrypoint()).containsExactly("/bin/sh", "-c", "/entry.sh --flag");
        assertThat(c.env()).containsExactly("A=1", "B=two words", "C=three words");
        assertThat(c.exposedPortList()).containsExactly("80/tcp", "53/udp");
        assertThat(c.labels()).containsEntry("x", "y").containsEntry("with space", "z");
        assertThat(c.user()).isEqualTo("app:app");
        assertThat(c.workingDir()).isEqualTo("/srv/data");
        assertThat(c.volumeList()).containsExactly("/v1", "/v2", "/v3");
        assertThat(c.stopSignal()).isEqualTo("SIGQUIT");
        assertThat(c.onBuild()).containsExactly("RUN true");
    }

    @Test
    void envReplacesAnExistingVariable() {
        ImageConfig.ContainerConfig c = ConfigChanges.apply(null, List.of("ENV PATH=/bin", "ENV PATH=/usr/bin X=1"));
        assertThat(c.env()).containsExactly("PATH=/usr/bin", "X=1");
    }

    @Test
    void badChangesAreRefused() {
        assertThatThrownBy(() -> ConfigChanges.apply(null, List.of("RUN echo"))).hasMessage("RUN is not a valid change command");
        assertThatThrownBy(() -> ConfigChanges.apply(null, List.of("EXPOSE http"))).hasMessageContaining("invalid port");
        assertThatThrownBy(() -> ConfigChanges.apply(null, List.of("USER"))).hasMessageContaining("requires");
    }
}
