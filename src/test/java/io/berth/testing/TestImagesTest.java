package io.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.content.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestImagesTest {
    @TempDir Path dir;

    @Test
    void busyboxArchiveIsADockerArchiveThatGnuTarReads() throws Exception {
        TestImages.Built b = TestImages.busybox().tag("busybox:latest").label("k", "v").files(java.util.Map.of("hello.txt", "hi\n"))
                .writeTo(dir.resolve("bb.tar"));
        assertThat(b.imageId()).isEqualTo(Digest.sha256(b.configBytes()));
        assertThat(b.layers()).hasSize(2);
        Process p = new ProcessBuilder("tar", "-tf", b.archive().toString()).redirectErrorStream(true).start();
        String list = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(list).contains("manifest.json", "repositories", b.imageId().hex() + ".json", b.layers().get(0).diffId().hex() + "/layer.tar");
        Process q = new ProcessBuilder("tar", "-tvf", b.layers().get(0).tar().toString()).redirectErrorStream(true).start();
        String layer = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.waitFor()).isZero();
        assertThat(layer).contains("bin/busybox", "bin/sh -> busybox", "etc/passwd", "drwxrwxrwt");
        // deterministic: the same builder gives the same ID
        assertThat(TestImages.busybox().tag("busybox:latest").label("k", "v").files(java.util.Map.of("hello.txt", "hi\n"))
                .writeTo(dir.resolve("bb2.tar")).imageId()).isEqualTo(b.imageId());
    }

    @Test
    void randomImageHasTheAskedSize() throws Exception {
        TestImages.Built b = TestImages.randomImage(dir.resolve("r.tar"), "rand:1", 3, 6, 42);
        assertThat(b.layers()).hasSize(3);
        assertThat(Files.size(b.archive())).isBetween(6_000_000L, 6_100_000L);
    }
}
