package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.content.Digest;
import io.berth.engine.Progress;
import org.junit.jupiter.api.Test;

class JsonProgressTest {
    @Test
    void humanSizesAsDocker() {
        assertThat(JsonProgress.humanSize(0)).isEqualTo("0B");
        assertThat(JsonProgress.humanSize(999)).isEqualTo("999B");
        assertThat(JsonProgress.humanSize(1_048_576)).isEqualTo("1.05MB");
        assertThat(JsonProgress.humanSize(524_288)).isEqualTo("524kB");
        assertThat(JsonProgress.humanSize(12_000_000)).isEqualTo("12MB");
    }

    @Test
    void progressBar() {
        assertThat(JsonProgress.bar(1_000_000, 2_000_000)).isEqualTo("[" + "=".repeat(25) + ">" + " ".repeat(24) + "] " + "     1MB/2MB");
        assertThat(JsonProgress.bar(2_000_000, 2_000_000)).startsWith("[" + "=".repeat(50) + "] ");
    }

    @Test
    void messagesHaveDockersShape() {
        assertThat(Json.MAPPER.writeValueAsString(JsonProgress.message(new Progress.Status("abc", "Pull complete"))))
                .isEqualTo("{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"abc\"}");
        assertThat(Json.MAPPER.writeValueAsString(JsonProgress.message(new Progress.Bytes("abc", "Downloading", 5, 10))))
                .startsWith("{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5,\"total\":10},\"progress\":\"[");
        Digest d = Digest.sha256(new byte[0]);
        assertThat(Json.MAPPER.writeValueAsString(JsonProgress.message(new Progress.Pushed("latest", d, 527))))
                .isEqualTo("{\"progressDetail\":{},\"aux\":{\"Tag\":\"latest\",\"Digest\":\"" + d + "\",\"Size\":527}}");
        assertThat(Json.MAPPER.writeValueAsString(JsonProgress.message(new Progress.Text("Loaded image: x:1\n"))))
                .isEqualTo("{\"stream\":\"Loaded image: x:1\\n\"}");
    }

    @Test
    void globsDoNotCrossSlashes() {
        assertThat(ImageRoutes.glob("busy*").matcher("busybox").matches()).isTrue();
        assertThat(ImageRoutes.glob("busy*").matcher("busy/box").matches()).isFalse();
        assertThat(ImageRoutes.glob("*:1.?").matcher("app:1.2").matches()).isTrue();
    }
}
